"""Set-based SQL measurements that asset checks are built from.

Each function measures the partitions a run wrote, in one query, so a check
costs the same for one course or five hundred.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from lms_assets.partitions import CourseDay
from lms_assets.warehouse import WarehouseResource, partition_filter
from lms_assets.warehouse.schema import metadata


def _table(name: str) -> sa.Table:
    return metadata.tables[name]


def duplicate_key_count(
    warehouse: WarehouseResource,
    table_name: str,
    key: Sequence[str],
    partitions: Sequence[CourseDay],
) -> int:
    """Rows beyond the first for each key value (0 when the key is unique)."""
    table = _table(table_name)
    columns = [table.c[name] for name in key]
    grouped = (
        sa.select((sa.func.count() - 1).label("extra"))
        .where(partition_filter(table, partitions))
        .group_by(*columns)
        .having(sa.func.count() > 1)
        .subquery()
    )
    return int(warehouse.scalar(sa.select(sa.func.coalesce(sa.func.sum(grouped.c.extra), 0))))


def null_count(
    warehouse: WarehouseResource, table_name: str, column: str, partitions: Sequence[CourseDay]
) -> int:
    table = _table(table_name)
    return int(
        warehouse.scalar(
            sa.select(sa.func.count()).where(
                partition_filter(table, partitions), table.c[column].is_(None)
            )
        )
    )


def row_counts(
    warehouse: WarehouseResource, table_name: str, partitions: Sequence[CourseDay]
) -> dict[CourseDay, int]:
    """Rows per partition, 0 for partitions with none."""
    table = _table(table_name)
    frame = warehouse.read_frame(
        sa.select(table.c.course_id, table.c.snapshot_date, sa.func.count().label("n"))
        .where(partition_filter(table, partitions))
        .group_by(table.c.course_id, table.c.snapshot_date)
    )
    counts = {p: 0 for p in partitions}
    for course_id, day, n in frame.itertuples(index=False):
        day = day if not isinstance(day, str) else __import__("datetime").date.fromisoformat(day)
        counts[CourseDay(course_id, day)] = int(n)
    return counts
