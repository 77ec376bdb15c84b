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
from lms_assets.warehouse import ArrowStream, RejectedRecord, WarehouseResource

Row = dict[str, Any]
# An ArrowStream is counted and sampled as it is written: its figures exist after the write.
TableRows = list[Row] | pd.DataFrame | pa.Table | ArrowStream


@dataclass
class CourseLoad:
    """What one partition's fetch produced: rows per table, refused records, extra facts.

    ``rejected`` are the records refused; ``kept`` the field problems of records that
    were stored with NULL in that field (both land in ``rejected_records``, but only
    ``rejected`` counts as rejected). ``refused`` and ``nulled_rows`` say per table how
    many records were refused and how many stored rows had a field set to NULL, so the
    ratio checks of a multi-table load measure each table on its own.
    """

    rows: dict[str, list[Row] | pa.Table | ArrowStream]
    rejected: list[RejectedRecord] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    info: dict[str, Any] = field(default_factory=dict)
    kept: list[RejectedRecord] = field(default_factory=list)
    null_reasons: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    nulled_rows: Counter[str] = field(default_factory=Counter)


@dataclass
class LoadReport:
    """What a run wrote, per table AND per partition, so figures are never run-wide copies."""

    written: list[Partition] = field(default_factory=list)
    # Fetched but not written: a gate failed on the fetched rows, the stored rows were kept.
    held: dict[Partition, list[str]] = field(default_factory=dict)
    rows: dict[str, Counter[Partition]] = field(default_factory=dict)
    rejected: Counter[Partition] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    info: dict[Partition, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[Row]] = field(default_factory=dict)
    # Field problems of records kept with NULL there: per partition, and by "code field".
    fields_nulled: Counter[Partition] = field(default_factory=Counter)
    null_reasons: Counter[str] = field(default_factory=Counter)
    # Per table and partition: records refused, and stored rows with a field set to NULL.
    refused: dict[str, Counter[Partition]] = field(default_factory=dict)
    nulled_rows: dict[str, Counter[Partition]] = field(default_factory=dict)

    def rows_of(self, table: str) -> int:
        written = self.rows.get(table, Counter())
        return sum(n for p, n in written.items() if p not in self.held)

    @property
    def checked(self) -> list[Partition]:
        """The partitions the checks judge: those written and those held back."""
        return [*self.written, *self.held]

    def add_load(self, partition: Partition, load: CourseLoad) -> None:
        """Count what ``load`` (``partition``'s fetch) rejected and kept with NULLs."""
        self.rejected[partition] = len(load.rejected)
        self.reasons.update(load.reasons)
        self.fields_nulled[partition] = len(load.kept)
        self.null_reasons.update(load.null_reasons)
        self.info[partition] = load.info
        for table, n in load.refused.items():
            self.refused.setdefault(table, Counter())[partition] = n
        for table, n in load.nulled_rows.items():
            self.nulled_rows.setdefault(table, Counter())[partition] = n


def rows_per_partition(rows: TableRows, scope: Scope) -> Counter[Partition]:
    """How many of ``rows`` fall in each partition of ``scope`` (0 for the empty ones)."""
    columns = list(scope.columns)
    counts: Counter[Partition] = Counter({p: 0 for p in scope})
    if isinstance(rows, ArrowStream):
        for values, n in rows.per_partition.items():
            counts[Partition.of_row(dict(zip(columns, values, strict=True)), columns)] += n
        return counts
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
    if isinstance(rows, ArrowStream):
        return rows.sample
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


def _gate_failures(
    warehouse: WarehouseResource,
    partition: Partition,
    load: CourseLoad,
    rules: Mapping[str, Sequence[Any]],
) -> tuple[LoadReport, list[str]]:
    """The gates (quality.Rule.gate) that fail on ``load``, the partition's fetched rows."""
    trial = LoadReport(written=[partition])
    trial.add_load(partition, load)
    for table, rows in load.rows.items():
        if isinstance(rows, ArrowStream):  # its rows are counted only as they are written
            raise TypeError(f"{table}: a streamed table cannot be gated before its write")
        trial.rows[table] = Counter({partition: len(rows)})
    failed = [
        f"{table}.{rule.name}"
        for table, table_rules in rules.items()
        for rule in table_rules
        if rule.gate and rule.load_violations(warehouse, table, [partition], trial)
    ]
    return trial, failed


def load_per_course(
    context: dg.AssetExecutionContext,
    partitions: Iterable[Partition],
    warehouse: WarehouseResource,
    asset_name: str,
    fetch: Callable[[Partition], CourseLoad],
    rules: Mapping[str, Sequence[Any]] | None = None,
) -> LoadReport:
    """Fetch and write each partition in turn, each in its own transaction.

    ``rules`` (table -> quality.Rule) are the checks the asset will report; their gates
    (rejection, NULL and failure ratios) are measured on each partition's fetched rows
    first, and a partition that fails one is not written: its stored rows stay, and the
    check fails naming it. Checks after the write could only report the damage.
    """
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
        if rules:
            trial, failed = _gate_failures(warehouse, partition, load, rules)
            if failed:
                context.log.warning(
                    f"[{number}/{len(partitions)}] {asset_name} {partition}: {', '.join(failed)} "
                    "failed on the fetched rows; nothing written, the stored rows were kept"
                )
                # The refusals are still kept, so a person can see why (they describe this
                # fetch; the stored rows stay those of the last good one).
                warehouse.write(
                    [partition], {}, asset_name=asset_name, rejected=[*load.rejected, *load.kept]
                )
                report.add_load(partition, load)
                report.held[partition] = failed
                for table, counts in trial.rows.items():
                    report.rows.setdefault(table, Counter()).update(counts)
                continue
        # The refusals are taken after the rows are written: a streamed table's reader
        # finds them while the write reads it.
        summaries = warehouse.write(
            [partition],
            load.rows,
            asset_name=asset_name,
            rejected=lambda load=load: [*load.rejected, *load.kept],
        )
        report.written.append(partition)
        report.add_load(partition, load)
        for table, rows in load.rows.items():
            report.rows.setdefault(table, Counter())[partition] = summaries[table].rows_written
            if summaries[table].rows_written and not report.samples.get(table):
                report.samples[table] = _sample(rows)  # rows may be Arrow (a bulk table)
        counts = ", ".join(f"{t} {s.rows_written}" for t, s in summaries.items())
        context.log.info(
            f"[{number}/{len(partitions)}] {asset_name} {partition}: {counts} rows, "
            f"{len(load.rejected)} rejected, {len(load.kept)} field(s) stored NULL"
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
        merged.fields_nulled.update(report.fields_nulled)
        merged.null_reasons.update(report.null_reasons)
        for name in ("refused", "nulled_rows"):
            for table, counts in getattr(report, name).items():
                getattr(merged, name).setdefault(table, Counter()).update(counts)
        for table, counts in report.rows.items():
            merged.rows.setdefault(table, Counter()).update(counts)
            if not merged.samples.get(table):
                merged.samples[table] = report.samples.get(table, [])
    return merged
