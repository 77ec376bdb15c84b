"""The per-partition load loop every API asset runs: fetch, parse, write atomically, report.

A partition whose source fails is logged and skipped so the other partitions of a
batched run still land; the run then fails naming each such partition. An
authentication failure stops everything at once: every partition would fail the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from lms_assets.errors import SourceAuthenticationError, SourceError
from lms_assets.partitions import Partition, Scope
from lms_assets.warehouse import RejectedRecord, WarehouseResource

Row = dict[str, Any]
TableRows = list[Row] | pd.DataFrame | pa.Table


@dataclass
class CourseLoad:
    """What one partition's fetch produced: rows per table, refused records, extra facts."""

    rows: dict[str, list[Row]]
    rejected: list[RejectedRecord] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadReport:
    """What a run wrote, per table AND per partition, so figures are never run-wide copies."""

    written: list[Partition] = field(default_factory=list)
    rows: dict[str, Counter[Partition]] = field(default_factory=dict)
    rejected: Counter[Partition] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    info: dict[Partition, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[Row]] = field(default_factory=dict)

    def rows_of(self, table: str) -> int:
        return sum(self.rows.get(table, Counter()).values())


def rows_per_partition(rows: TableRows, scope: Scope) -> Counter[Partition]:
    """How many of ``rows`` fall in each partition of ``scope`` (0 for the empty ones)."""
    columns = list(scope.columns)
    counts: Counter[Partition] = Counter({p: 0 for p in scope})
    if isinstance(rows, pa.Table):
        if rows.num_rows:
            grouped = rows.group_by(columns).aggregate([([], "count_all")]).to_pylist()
            for item in grouped:
                counts[Partition.of_row(item, columns)] += item["count_all"]
        return counts
    if isinstance(rows, pd.DataFrame):
        if len(rows):
            for values, n in rows.groupby(columns, sort=False).size().items():
                item = dict(
                    zip(columns, values if isinstance(values, tuple) else (values,), strict=True)
                )
                counts[Partition.of_row(item, columns)] += int(n)
        return counts
    for row in rows:
        counts[Partition.of_row(row, columns)] += 1
    return counts


def _sample(rows: TableRows) -> list[Row]:
    if isinstance(rows, pa.Table):
        return rows.slice(0, 10).to_pylist()
    if isinstance(rows, pd.DataFrame):
        return rows.head(10).to_dict("records")
    return list(rows[:10])


def write_scope(
    warehouse: WarehouseResource,
    scope: Scope,
    rows_by_table: Mapping[str, TableRows],
    *,
    asset_name: str,
    report: LoadReport | None = None,
) -> LoadReport:
    """Write a whole scope's rows in one transaction and report them per partition."""
    from lms_assets.warehouse import rows_from_frame

    report = report or LoadReport()
    prepared = {
        table: rows_from_frame(rows) if isinstance(rows, pd.DataFrame) else rows
        for table, rows in rows_by_table.items()
    }
    warehouse.write(scope, prepared, asset_name=asset_name)
    report.written = list(scope)
    for table, rows in rows_by_table.items():
        report.rows[table] = rows_per_partition(rows, scope)
        report.samples[table] = _sample(rows)
    return report


def load_per_course(
    context: dg.AssetExecutionContext,
    partitions: Iterable[Partition],
    warehouse: WarehouseResource,
    asset_name: str,
    fetch: Callable[[Partition], CourseLoad],
) -> LoadReport:
    """Fetch and write each partition in turn, each in its own transaction."""
    partitions = list(partitions)
    report = LoadReport()
    failures: dict[str, str] = {}
    for number, partition in enumerate(partitions, start=1):
        try:
            load = fetch(partition)
        except SourceAuthenticationError:
            raise
        except SourceError as exc:
            failures[str(partition)] = str(exc)
            context.log.error(f"{asset_name} {partition}: {exc}")
            continue
        summaries = warehouse.write(
            [partition], load.rows, asset_name=asset_name, rejected=load.rejected
        )
        report.written.append(partition)
        report.rejected[partition] = len(load.rejected)
        report.reasons.update(load.reasons)
        report.info[partition] = load.info
        for table, rows in load.rows.items():
            report.rows.setdefault(table, Counter())[partition] = summaries[table].rows_written
            if rows and not report.samples.get(table):
                report.samples[table] = rows[:10]
        counts = ", ".join(f"{t} {s.rows_written}" for t, s in summaries.items())
        context.log.info(
            f"[{number}/{len(partitions)}] {asset_name} {partition}: {counts} rows, "
            f"{len(load.rejected)} rejected"
        )
    if failures:
        listed = "; ".join(f"{course}: {reason}" for course, reason in failures.items())
        raise dg.Failure(
            description=f"{asset_name}: {len(failures)} of {len(partitions)} partition(s) could "
            f"not be fetched ({len(report.written)} were written and kept). {listed}"
        )
    return report


def merge_reports(reports: Sequence[LoadReport]) -> LoadReport:
    """One report of several loads of disjoint partitions (e.g. loads run side by side)."""
    merged = LoadReport()
    for report in reports:
        merged.written += report.written
        merged.rejected.update(report.rejected)
        merged.reasons.update(report.reasons)
        merged.info.update(report.info)
        for table, counts in report.rows.items():
            merged.rows.setdefault(table, Counter()).update(counts)
            if not merged.samples.get(table):
                merged.samples[table] = report.samples.get(table, [])
    return merged
