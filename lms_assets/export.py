"""``lms-assets export``: a page of a warehouse table as CSV or Parquet.

Replaces seed 001's export endpoint (``limit``/``offset``/``date``): rows come
in primary-key order, so consecutive pages never overlap or skip.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

MAX_LIMIT = 100_000


@dataclass(frozen=True)
class ExportPage:
    rows: int
    offset: int
    has_next: bool


def export_page(
    warehouse: WarehouseResource,
    table_name: str,
    day: dt.date,
    *,
    output: Path | None,
    file_format: str = "csv",
    limit: int = 1000,
    offset: int = 0,
    course_id: str | None = None,
) -> ExportPage:
    """Write rows ``offset`` .. ``offset + limit`` of ``table_name`` for ``day``."""
    # Tables by date (views included); key tables without a date (tracking_courses) are not.
    tables = {
        name: table
        for name, table in registered_metadata().tables.items()
        if name != "rejected_records" and "snapshot_date" in table.c
    }
    if table_name not in tables:
        raise ValueError(
            f"unknown table {table_name!r}; choose one of " + ", ".join(sorted(tables))
        )
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, not {offset}")
    if file_format not in ("csv", "parquet"):
        raise ValueError(f"format must be csv or parquet, not {file_format!r}")
    if file_format == "parquet" and output is None:
        raise ValueError("Parquet is binary: give --output FILE")
    table = tables[table_name]
    query = sa.select(table).where(table.c.snapshot_date == day)
    if course_id is not None:
        query = query.where(table.c.course_id == course_id)
    # One row more than asked tells whether another page exists.
    query = query.order_by(*table.primary_key.columns).limit(limit + 1).offset(offset)
    frame = warehouse.read_frame(query)
    has_next = len(frame) > limit
    frame = frame.head(limit)
    if file_format == "csv":
        frame.to_csv(output if output is not None else sys.stdout, index=False)
    else:
        frame.to_parquet(output, index=False)
    return ExportPage(rows=len(frame), offset=offset, has_next=has_next)
