"""Schema migrations of the warehouse (Alembic, driven from code: no alembic.ini).

``upgrade_warehouse(engine)`` runs at start (``WarehouseResource.engine``, once per URL per
process) and in ``lms-assets migrate``. Revisions live in ``versions/``; how to add one:
docs/operations.md, "Schema migrations".
"""

from lms_assets.warehouse.migrations.config import alembic_config
from lms_assets.warehouse.migrations.upgrade import (
    BASELINE,
    UpgradeResult,
    baseline_metadata,
    upgrade_warehouse,
)

__all__ = ["BASELINE", "UpgradeResult", "alembic_config", "baseline_metadata", "upgrade_warehouse"]
