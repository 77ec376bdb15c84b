"""The ``data_quality`` task: can the figures of a course's day be trusted?

The SQL checks of the tables a report reads, re-run on the stored rows of the day (the
checks measured only while loading, against an API's answer, are in the UI's history),
the records the day's assets refused, and the tracking-log lines quarantined that day.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import sqlalchemy as sa

from lms_assets.features.raw_data import RAW_DATA_RULES
from lms_assets.openedx.checks import RULES as OPENEDX_RULES
from lms_assets.partitions import Partition
from lms_assets.tracking.assets import AGGREGATE_RULES
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata


def _table(name: str) -> sa.Table:
    return registered_metadata().tables[name]


# The SQL checks re-run for the day on what is stored (load-time checks live in Dagster).
QUALITY_RULES = {**OPENEDX_RULES, **AGGREGATE_RULES, "raw_data": RAW_DATA_RULES}


def data_quality(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """The day's rows per table, its SQL checks, refused records and quarantined log lines."""
    partition = Partition(course, day)
    rows = []
    for table_name, rules in QUALITY_RULES.items():
        table = _table(table_name)
        stored = warehouse.scalar(
            sa.select(sa.func.count()).where(
                table.c.course_id == course, table.c.snapshot_date == day
            )
        )
        rows.append(
            {
                "check": "rows_stored",
                "table": table_name,
                "status": "pass" if stored else "no rows",
                "count": int(stored or 0),
            }
        )
        if not stored:
            continue
        for rule in rules:
            if rule.violations is None:
                continue
            query = rule.violations(table, [partition]).subquery()
            found = int(warehouse.scalar(sa.select(sa.func.count()).select_from(query)) or 0)
            rows.append(
                {
                    "check": rule.name,
                    "table": table_name,
                    "status": "fail" if found else "pass",
                    "count": found,
                }
            )
    rejected = _table("rejected_records")
    refused = warehouse.read_frame(
        sa.select(rejected.c.asset_name, sa.func.count().label("n"))
        .where(rejected.c.course_id == course, rejected.c.snapshot_date == day)
        .group_by(rejected.c.asset_name)
    )
    for asset_name, n in refused.itertuples(index=False):
        rows.append(
            {"check": "records_refused", "table": asset_name, "status": "warn", "count": int(n)}
        )
    quarantine = _table("tracking_quarantine")
    lines = warehouse.scalar(sa.select(sa.func.count()).where(quarantine.c.snapshot_date == day))
    rows.append(
        {
            "check": "log_lines_quarantined (whole site)",
            "table": "tracking_quarantine",
            "status": "warn" if lines else "pass",
            "count": int(lines or 0),
        }
    )
    return pd.DataFrame(rows, columns=["check", "table", "status", "count"])
