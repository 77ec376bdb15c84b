"""Asset checks as set-based SQL: measurements and declarative per-table rules.

Each function measures the partitions a run wrote, in one query, so a check
costs the same for one course or five hundred.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import sqlalchemy as sa

from lms_assets.metadata import markdown_table
from lms_assets.partitions import CourseDay, to_date
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
        counts[CourseDay(course_id, to_date(day))] = int(n)
    return counts


# -- declarative table rules ---------------------------------------------------------------------
# A rule selects the rows that violate it; a check passes when that selection is empty. Assets
# declare their rules once and get both their AssetCheckSpecs and their results from them.

ViolationQuery = Callable[[sa.Table, Sequence[CourseDay]], sa.Select]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    violations: ViolationQuery


def _keys(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns)


def unique_key(key: Sequence[str]) -> Rule:
    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
        columns = [table.c[name] for name in key]
        return (
            sa.select(*columns, sa.func.count().label("copies"))
            .where(partition_filter(table, partitions))
            .group_by(*columns)
            .having(sa.func.count() > 1)
        )

    return Rule("unique_key", f"One row per ({', '.join(key)}).", query)


def not_null(*columns: str) -> Rule:
    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
        nulls = sa.or_(*(table.c[name].is_(None) for name in columns))
        return sa.select(*_keys(table)).where(partition_filter(table, partitions), nulls)

    return Rule("required_not_null", f"No NULL in {', '.join(columns)}.", query)


def in_range(ranges: Mapping[str, tuple[float | None, float | None]]) -> Rule:
    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
        outside = []
        for name, (low, high) in ranges.items():
            if low is not None:
                outside.append(table.c[name] < low)
            if high is not None:
                outside.append(table.c[name] > high)
        return sa.select(*_keys(table), *(table.c[n] for n in ranges)).where(
            partition_filter(table, partitions), sa.or_(*outside)
        )

    described = ", ".join(
        f"{n} in [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
        for n, (lo, hi) in ranges.items()
    )
    return Rule("values_in_range", f"Values in range: {described}.", query)


def row_condition(name: str, description: str, violated: Callable[[sa.Table], Any]) -> Rule:
    """Rows for which ``violated(table)`` is true break the rule."""

    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
        return sa.select(*_keys(table)).where(partition_filter(table, partitions), violated(table))

    return Rule(name, description, query)


def learners_enrolled() -> Rule:
    """Every learner row references an enrollment of the same course and day."""

    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
        enrollments = metadata.tables["enrollments"]
        enrolled = sa.exists().where(
            enrollments.c.course_id == table.c.course_id,
            enrollments.c.snapshot_date == table.c.snapshot_date,
            enrollments.c.user_id == table.c.user_id,
        )
        return sa.select(*_keys(table)).where(partition_filter(table, partitions), ~enrolled)

    return Rule(
        "learners_enrolled",
        "Every learner row references an enrollment of the same course and day.",
        query,
    )


def summary_matches_detail(
    detail_table: str, agreements: Mapping[str, Callable[[sa.Table], Any]]
) -> Rule:
    """Summary columns equal aggregates of the detail rows of the same learner.

    ``agreements`` maps a summary column to the aggregate over ``detail_table``
    it must equal (learners without detail rows count as 0).
    """

    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
        detail = metadata.tables[detail_table]
        aggregates = (
            sa.select(
                detail.c.course_id,
                detail.c.snapshot_date,
                detail.c.user_id,
                *(agg(detail).label(f"agg_{column}") for column, agg in agreements.items()),
            )
            .where(partition_filter(detail, partitions))
            .group_by(detail.c.course_id, detail.c.snapshot_date, detail.c.user_id)
            .subquery()
        )
        joined = table.outerjoin(
            aggregates,
            sa.and_(
                aggregates.c.course_id == table.c.course_id,
                aggregates.c.snapshot_date == table.c.snapshot_date,
                aggregates.c.user_id == table.c.user_id,
            ),
        )
        mismatch = sa.or_(
            *(
                sa.func.abs(
                    sa.func.coalesce(table.c[column], 0)
                    - sa.func.coalesce(aggregates.c[f"agg_{column}"], 0)
                )
                > 0.01
                for column in agreements
            )
        )
        return (
            sa.select(*_keys(table))
            .select_from(joined)
            .where(partition_filter(table, partitions), mismatch)
        )

    return Rule(
        "summary_matches_detail",
        f"{', '.join(agreements)} agree with the learner's {detail_table} rows.",
        query,
    )


def check_specs(asset: str, rules: Sequence[Rule], *, blocking: bool) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(rule.name, asset=asset, description=rule.description, blocking=blocking)
        for rule in rules
    ]


def evaluate(
    warehouse: WarehouseResource,
    table_name: str,
    rules: Sequence[Rule],
    partitions: Sequence[CourseDay],
    *,
    asset: str | None = None,
) -> list[dg.AssetCheckResult]:
    """One AssetCheckResult per rule, with the violation count and a few violating rows."""
    table = metadata.tables[table_name]
    results = []
    for rule in rules:
        violating = rule.violations(table, partitions).subquery()
        with warehouse.engine.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(violating)).scalar_one()
            # Only a failing rule is read twice: a passing one costs one query.
            sample = (
                [dict(r._mapping) for r in conn.execute(sa.select(violating).limit(5))]
                if count
                else []
            )
        results.append(
            dg.AssetCheckResult(
                asset_key=asset or table_name,
                check_name=rule.name,
                passed=count == 0,
                metadata={
                    "violations": count,
                    "partitions_checked": len(partitions),
                    "sample": dg.MetadataValue.md(
                        markdown_table(sample, sample[0].keys()) if sample else "none"
                    ),
                },
            )
        )
    return results
