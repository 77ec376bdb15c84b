"""Schema migrations of the warehouse (Alembic, driven from code: no alembic.ini)."""

from lms_assets.warehouse.migrations.config import alembic_config

__all__ = ["alembic_config"]
