"""Alembic's own command line over the warehouse at ``LMS_WAREHOUSE_URL``, for developers.

    LMS_WAREHOUSE_URL=sqlite:////tmp/scratch.sqlite python -m lms_assets.warehouse.migrations \
        revision --autogenerate --rev-id 0003 -m "what changed"

Any alembic command works (upgrade, current, history, revision, ...). Production upgrades
go through ``lms-assets migrate`` instead: it also adopts old warehouses and checks drift.
"""

from __future__ import annotations

import sys

from alembic.config import CommandLine

from lms_assets import settings
from lms_assets.db import get_engine
from lms_assets.warehouse.migrations.config import alembic_config


def main(argv: list[str] | None = None) -> int:
    cli = CommandLine(prog="python -m lms_assets.warehouse.migrations")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    url = settings.reload().resolved_warehouse_url()
    with get_engine(url).connect() as connection:
        cli.run_cmd(alembic_config(connection), options)
        connection.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
