"""The per-course load loop every API asset runs: fetch, parse, write atomically, report.

A course whose source fails is logged and skipped so the other courses of a
batched run still land; the run then fails naming each such course. An
authentication failure stops everything at once: every course would fail the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from lms_assets.http_client import SourceAuthenticationError, SourceError
from lms_assets.partitions import CourseDay
from lms_assets.warehouse import RejectedRecord, WarehouseResource

Row = dict[str, Any]


@dataclass
class CourseLoad:
    """What one course's fetch produced: rows per table, refused records, extra facts."""

    rows: dict[str, list[Row]]
    rejected: list[RejectedRecord] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadReport:
    written: list[CourseDay] = field(default_factory=list)
    rows: Counter[str] = field(default_factory=Counter)
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    info: dict[CourseDay, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, list[Row]] = field(default_factory=dict)


def load_per_course(
    context: dg.AssetExecutionContext,
    partitions: Sequence[CourseDay],
    warehouse: WarehouseResource,
    asset_name: str,
    fetch: Callable[[CourseDay], CourseLoad],
) -> LoadReport:
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
        report.rejected += len(load.rejected)
        report.reasons.update(load.reasons)
        report.info[partition] = load.info
        for table, rows in load.rows.items():
            report.rows[table] += summaries[table].rows_written
            if rows and not report.samples.get(table):
                report.samples[table] = rows
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


def report_metadata(report: LoadReport, table: str, **extra: Any) -> dict[str, Any]:
    """The metadata every loaded table shows: counts, rejections, a preview."""
    from lms_assets.metadata import preview

    return {
        "dagster/row_count": report.rows[table],
        "partitions_written": len(report.written),
        "rejected_records": report.rejected,
        "rejection_reasons": dict(report.reasons) or "none",
        "preview": preview(report.samples.get(table, [])),
        **extra,
    }
