"""Asset checks, declared one way: a ``Rule`` per check, evaluated over the run's scope.

A rule finds violations in the stored partitions with one set-based SQL query
(so a check costs the same for one course or five hundred), in what the run's
own extraction reported (rejections by reason code, the source's totals,
per-partition ratios), or both. Assets declare their rules once and get their
AssetCheckSpecs and their AssetCheckResults from the same list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import dagster as dg
import sqlalchemy as sa

from lms_assets.metadata import markdown_table
from lms_assets.partitions import Partition, to_date
from lms_assets.warehouse import WarehouseResource, partition_filter
from lms_assets.warehouse.schema import CourseIdType, metadata


def _table(name: str) -> sa.Table:
    return metadata.tables[name]


def row_counts(
    warehouse: WarehouseResource, table_name: str, partitions: Sequence[Partition]
) -> dict[Partition, int]:
    """Rows per partition, 0 for partitions with none."""
    table = _table(table_name)
    frame = warehouse.read_frame(
        sa.select(table.c.course_id, table.c.snapshot_date, sa.func.count().label("n"))
        .where(partition_filter(table, partitions))
        .group_by(table.c.course_id, table.c.snapshot_date)
    )
    counts = {p: 0 for p in partitions}
    for course_id, day, n in frame.itertuples(index=False):
        counts[Partition(course_id, to_date(day))] = int(n)
    return counts


# -- declarative table rules ---------------------------------------------------------------------
# A rule selects the rows that violate it; a check passes when that selection is empty. Assets
# declare their rules once and get both their AssetCheckSpecs and their results from them.

ViolationQuery = Callable[[sa.Table, Sequence[Partition]], sa.Select]
# (warehouse, table name, written partitions, the run's load report) -> violating items
LoadViolations = Callable[[WarehouseResource, str, Sequence[Partition], Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    violations: ViolationQuery | None = None
    load_violations: LoadViolations | None = None
    # Extra figures for the check's metadata, from the run's load report (e.g. the worst ratio).
    details: Callable[[Sequence[Partition], Any], dict[str, Any]] | None = None
    # A gate is measured on a partition's fetched rows BEFORE they replace the stored ones
    # (loading.load_per_course): when it fails, the stored rows are kept.
    gate: bool = False
    # Tables other than the checked one that the SQL query reads (a reference, a detail).
    reads: tuple[str, ...] = ()

    def also(self, load_violations: LoadViolations, *, name: str, description: str) -> Rule:
        """This SQL rule plus a measure of the run's extraction, as one check."""
        return replace(self, name=name, description=description, load_violations=load_violations)


def _keys(table: sa.Table) -> list[sa.Column]:
    return list(table.primary_key.columns)


def unique_key(key: Sequence[str]) -> Rule:
    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        columns = [table.c[name] for name in key]
        return (
            sa.select(*columns, sa.func.count().label("copies"))
            .where(partition_filter(table, partitions))
            .group_by(*columns)
            .having(sa.func.count() > 1)
        )

    return Rule("unique_key", f"One row per ({', '.join(key)}).", query)


def unique_in_each_partition(key: Sequence[str]) -> Rule:
    """One row per ``key`` within each course x date partition, grouped partition by partition.

    What ``unique_key`` checks with the partition columns in the key, for runs of few
    partitions over many rows (a research package: one partition, a million modules).
    MariaDB answers ``GROUP BY course_id, snapshot_date, ...`` with a temporary table and
    a filesort even under an equality on both (3.4 s for 250,000 courseware_modules rows),
    and the grouping by the key alone from the primary key's order (0.4 s), so each
    partition gets its own grouped SELECT.
    """

    def query(table: sa.Table, partitions: Sequence[Partition]) -> Any:
        columns = [table.c[name] for name in key]
        selects = [
            sa.select(
                sa.literal(p.course_id, CourseIdType).label("course_id"),
                sa.literal(p.day, sa.Date).label("snapshot_date"),
                *columns,
                sa.func.count().label("copies"),
            )
            .where(partition_filter(table, [p]))
            .group_by(*columns)
            .having(sa.func.count() > 1)
            for p in partitions
        ] or [sa.select(*columns).where(sa.false())]
        return selects[0] if len(selects) == 1 else sa.union_all(*selects)

    return Rule("unique_key", f"One row per ({', '.join(key)}) in each partition.", query)


def not_null(*columns: str) -> Rule:
    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        nulls = sa.or_(*(table.c[name].is_(None) for name in columns))
        return sa.select(*_keys(table)).where(partition_filter(table, partitions), nulls)

    return Rule("required_not_null", f"No NULL in {', '.join(columns)}.", query)


def in_range(ranges: Mapping[str, tuple[float | None, float | None]]) -> Rule:
    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
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

    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        return sa.select(*_keys(table)).where(partition_filter(table, partitions), violated(table))

    return Rule(name, description, query)


def references(parent_table: str, columns: Sequence[str], name: str, description: str) -> Rule:
    """Every row has a row of ``parent_table`` with the same values of ``columns``."""

    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        parent = metadata.tables[parent_table]
        found = sa.exists().where(*(parent.c[c] == table.c[c] for c in columns))
        return sa.select(*_keys(table)).where(partition_filter(table, partitions), ~found)

    return Rule(name, description, query, reads=(parent_table,))


def summary_matches_detail(
    detail_table: str, agreements: Mapping[str, Callable[[sa.Table], Any]]
) -> Rule:
    """Summary columns equal aggregates of the detail rows of the same learner.

    ``agreements`` maps a summary column to the aggregate over ``detail_table``
    it must equal (learners without detail rows count as 0).
    """

    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
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
        reads=(detail_table,),
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
    partitions: Sequence[Partition],
    *,
    asset: str | None = None,
    load: Any = None,
) -> list[dg.AssetCheckResult]:
    """One AssetCheckResult per rule, with the violation count and a few violating rows."""
    table = metadata.tables[table_name]
    results = []
    for rule in rules:
        count, sample = 0, []
        if rule.violations is not None:
            violating = rule.violations(table, partitions).subquery()
            with warehouse.engine.connect() as conn:
                count = conn.execute(sa.select(sa.func.count()).select_from(violating)).scalar_one()
                # Only a failing rule is read twice: a passing one costs one query.
                if count:
                    sample = [dict(r._mapping) for r in conn.execute(sa.select(violating).limit(5))]
        if rule.load_violations is not None:
            if load is None:
                raise ValueError(f"check {rule.name} needs the run's load report")
            found = rule.load_violations(warehouse, table_name, partitions, load)
            count += len(found)
            sample = sample or found[:5]
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
                    **(rule.details(partitions, load) if rule.details else {}),
                },
            )
        )
    return results


# -- rules over what the run's extraction reported ------------------------------------------------
def rejected_as(code: str, field: str) -> LoadViolations:
    """Records the run rejected with ``code`` on ``field`` (counted by code, not by message)."""

    def measure(_w: WarehouseResource, _t: str, _p: Sequence[Partition], load: Any) -> list[dict]:
        n = load.reasons.get(f"{code} {field}", 0)
        return [{"reason_code": code, "field": field, "records": n}] if n else []

    return measure


def rows_match_source_total(info_key: str) -> Rule:
    """Rows stored per partition equal the total the source reported (``load.info[p][key]``)."""

    def measure(
        warehouse: WarehouseResource, table_name: str, partitions: Sequence[Partition], load: Any
    ) -> list[dict]:
        stored = row_counts(warehouse, table_name, partitions)
        return [
            {"partition": str(p), "stored": stored[p], "source_total": load.info[p][info_key]}
            for p in partitions
            if stored[p] != load.info[p][info_key]
        ]

    return Rule(
        "row_count_matches_source_total",
        "Rows stored per partition equal the total the source reported.",
        load_violations=measure,
    )


def column_matches_source(column: str, info_key: str) -> LoadViolations:
    """A stored column equals the figure the source gave separately (``load.info[p][key]``)."""

    def measure(
        warehouse: WarehouseResource, table_name: str, partitions: Sequence[Partition], load: Any
    ) -> list[dict]:
        table = _table(table_name)
        stored = warehouse.read_frame(
            sa.select(*_keys(table), table.c[column]).where(partition_filter(table, partitions))
        )
        columns = [c.name for c in _keys(table)]
        found = []
        for row in stored.to_dict("records"):
            expected = load.info[Partition.of_row(row, columns)][info_key]
            if row[column] != expected:
                found.append({**row, "source": expected})
        return found

    return measure


def ratio_at_most(
    name: str, description: str, numerator: str, denominator: str, max_ratio: float
) -> Rule:
    """``info[numerator] / info[denominator]`` of every written partition is <= ``max_ratio``."""

    def measure(_w: WarehouseResource, _t: str, partitions: Sequence[Partition], load: Any):
        found = []
        for p in partitions:
            info = load.info[p]
            whole = info[denominator]
            ratio = info[numerator] / whole if whole else 0.0
            if ratio > max_ratio:
                found.append(
                    {
                        "partition": str(p),
                        numerator: info[numerator],
                        denominator: whole,
                        "ratio": round(ratio, 4),
                        "threshold": max_ratio,
                    }
                )
        return found

    def details(partitions: Sequence[Partition], load: Any) -> dict[str, Any]:
        ratios = [
            load.info[p][numerator] / load.info[p][denominator]
            for p in partitions
            if load.info[p][denominator]
        ]
        return {"worst_ratio": max(ratios, default=0.0), "threshold": max_ratio}

    return Rule(name, description, load_violations=measure, details=details, gate=True)


def _per_partition_ratio(
    part: str,
    part_of: Callable[[Any, str], Mapping[Partition, int]],
    whole_of: Callable[[Any, str, Partition], int],
    max_ratio: float,
) -> LoadViolations:
    """The written partitions of a table whose ``part / whole`` is above ``max_ratio``."""

    def measure(_w: WarehouseResource, table: str, partitions: Sequence[Partition], load: Any):
        found = []
        for p in partitions:
            n, whole = part_of(load, table).get(p, 0), whole_of(load, table, p)
            ratio = n / whole if whole else 0.0
            if ratio > max_ratio:
                found.append(
                    {
                        "partition": str(p),
                        part: n,
                        "of": whole,
                        "ratio": round(ratio, 4),
                        "threshold": max_ratio,
                    }
                )
        return found

    return measure


def rejection_ratio_at_most(max_ratio: float) -> Rule:
    """Records refused / (rows written + refused) of this table, per partition, <= max_ratio.

    Needs the load's per-table counts (``LoadReport.refused``): a run that refuses
    every record stores nothing and replaces yesterday's good rows, and this is what
    fails it.
    """

    def refused(load: Any, table: str) -> Mapping[Partition, int]:
        return load.refused.get(table, {})

    def whole(load: Any, table: str, p: Partition) -> int:
        return load.rows.get(table, {}).get(p, 0) + load.refused.get(table, {}).get(p, 0)

    measure = _per_partition_ratio("refused", refused, whole, max_ratio)
    return Rule(
        "rejection_ratio",
        f"At most {max_ratio:.0%} of the source's records refused (not stored) in every partition.",
        load_violations=measure,
        gate=True,
    )


def nulled_field_ratio_at_most(max_ratio: float) -> Rule:
    """Rows stored with a field set to NULL (it was unusable) / rows written <= max_ratio."""

    def nulled(load: Any, table: str) -> Mapping[Partition, int]:
        return load.nulled_rows.get(table, {})

    def whole(load: Any, table: str, p: Partition) -> int:
        return load.rows.get(table, {}).get(p, 0)

    measure = _per_partition_ratio("rows_nulled", nulled, whole, max_ratio)
    return Rule(
        "nulled_field_ratio",
        f"At most {max_ratio:.0%} of the stored rows had an unusable field stored as NULL, "
        "in every partition.",
        load_violations=measure,
        gate=True,
    )
