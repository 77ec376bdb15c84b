"""LTI attempts (seed 002): ``lti_attempts`` and ``attempt_daily_stats``, course x date.

A log source: any past day can be (back)filled. The API answers a day for the whole
client, so ``lti_attempts`` asks for each day of its run ONCE and splits the answer by
course; every course-day partition is then written in its own transaction, replacing
exactly that partition's rows and refused records. Attempts of no derivable course
are kept under the ``lti-course-unknown`` partition.
"""

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from pydantic import Field

from lms_assets import charts, partitions, quality, settings
from lms_assets.errors import SourceError
from lms_assets.loading import CourseLoad, load_per_course, write_scope
from lms_assets.lti import schema  # noqa: F401 - registers the LTI tables
from lms_assets.lti.checks import STATS_RULES, attempt_rules, recount
from lms_assets.lti.parsing import SOURCE, UNKNOWN_COURSE, ParsedDay, parse_day
from lms_assets.lti.resources import LtiApiResource
from lms_assets.metadata import markdown_table
from lms_assets.partitions import Partition, scope_of
from lms_assets.tables import publish
from lms_assets.warehouse import RejectedRecord, WarehouseResource

lti_courses = dg.DynamicPartitionsDefinition(name="lti_courses")
lti_course_daily = partitions.course_daily(lti_courses)
# The checks' specs; a run measures them with its resource's clock and its config's threshold.
ATTEMPT_RULES = attempt_rules(
    settings.current.lti_day_timezone, settings.current.lti_max_rejected_ratio
)
LTI_ASSET = {
    "partitions_def": lti_course_daily,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": "lti",
    "pool": "warehouse",
    "kinds": {"sql"},
}


class LtiAttemptsConfig(dg.Config):
    max_rejected_ratio: float = Field(
        default=settings.current.lti_max_rejected_ratio,
        ge=0,
        le=1,
        description="The rejected_ratio check fails (and blocks the stats, keeping the stored "
        "attempts) above this share of refused records in a day's answer.",
    )


class DayCache:
    """The one API answer of the day being loaded (partitions come day by day); of the days
    before, only their figures are kept, so a backfill's memory is one day's."""

    def __init__(self, api: LtiApiResource, in_scope: set[tuple[str, Any]]) -> None:
        self.api = api
        self.in_scope = in_scope
        self.parsed: ParsedDay | None = None
        self.error: SourceError | None = None
        self.per_day: list[dict[str, Any]] = []
        self.outside: Counter[str] = Counter()  # attempts of courses not in the run

    def day(self, day: Any) -> ParsedDay:
        if self.parsed is None or self.parsed.day != day:
            self.parsed, self.error = None, None
            try:
                self.parsed = parse_day(self.api.attempts(day), day, self.api.timezone)
                self._count(self.parsed)
            except SourceError as exc:
                self.error = exc
                self.parsed = ParsedDay(day=day)  # remembered, so the day is not asked again
        if self.error is not None:
            raise self.error
        return self.parsed

    def _count(self, parsed: ParsedDay) -> None:
        others = [c for c in parsed.courses if (c, parsed.day) not in self.in_scope]
        self.outside.update({c: len(parsed.rows.get(c, [])) for c in others})
        self.per_day.append(
            {
                "day": parsed.day,
                "received": parsed.received,
                "stored_courses": len(parsed.rows),
                "stored": parsed.stored,
                "refused": parsed.received - parsed.stored,
                "without_course": len(parsed.rows.get(UNKNOWN_COURSE, [])),
                "outside_run": sum(len(parsed.rows.get(c, [])) for c in others),
            }
        )


# The rows as Arrow, so that MySQL/MariaDB loads them with LOAD DATA (the warehouse's bulk
# path) instead of escaping a million values into INSERTs; SQLite gets inserts either way.
ARROW_SCHEMA = pa.schema(
    [
        ("course_id", pa.string()),
        ("snapshot_date", pa.date32()),
        ("user_id", pa.string()),
        ("attempt_type", pa.string()),
        ("created_at", pa.timestamp("us")),
        ("oauth_consumer_key", pa.string()),
        ("lis_result_sourcedid", pa.string()),
        ("lis_outcome_service_url", pa.string()),
        ("is_correct", pa.bool_()),
        ("block_id", pa.string()),
        ("course_from", pa.string()),
    ]
)


def course_load(parsed: ParsedDay, partition: Partition) -> CourseLoad:
    rows = parsed.rows.get(partition.course_id, [])
    refused = parsed.refused.get(partition.course_id, [])
    return CourseLoad(
        rows={"lti_attempts": pa.Table.from_pylist(rows, schema=ARROW_SCHEMA)},
        rejected=[
            RejectedRecord(
                partition=partition,
                source=SOURCE,
                reason=str(r.error),
                record_key=r.record.get("lti_user_id") if isinstance(r.record, dict) else None,
                payload=r.record,
                code=r.error.code,
                field=r.error.field,
            )
            for r in refused
        ],
        reasons=Counter(r.error.category for r in refused),
        refused=Counter({"lti_attempts": len(refused)}),
        info={
            "day_received": parsed.received,
            "day_refused": sum(map(len, parsed.refused.values())),
        },
    )


@dg.asset(
    check_specs=quality.check_specs("lti_attempts", ATTEMPT_RULES, blocking=True),
    **LTI_ASSET,
)
def lti_attempts(
    context: dg.AssetExecutionContext,
    config: LtiAttemptsConfig,
    lti_api: LtiApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Every attempt of the course-day, validated as seed 002 does, refusals kept.

    One request per day of the run, whatever the number of courses. A refused record
    lands in rejected_records (reason code, field, the record as received) under its
    course when its passback_params still name one, else under lti-course-unknown.
    """
    scope = scope_of(context)
    rules = attempt_rules(lti_api.timezone, config.max_rejected_ratio)
    cache = DayCache(lti_api, {(p.course_id, p.day) for p in scope})
    by_day = sorted(scope, key=lambda p: (p.day, p.course_id))
    report = load_per_course(
        context,
        by_day,
        warehouse,
        "lti_attempts",
        lambda partition: course_load(cache.day(partition.day), partition),
        {"lti_attempts": rules},
    )
    sample = report.samples.get("lti_attempts")
    if isinstance(sample, pa.Table):  # the preview wants rows
        report.samples["lti_attempts"] = sample.to_pylist()
    per_day, outside = cache.per_day, cache.outside
    if outside:
        context.log.warning(
            f"lti_attempts: attempts of {len(outside)} course(s) outside this run's partitions "
            f"were not loaded (register them; the discovery sensor does): "
            + ", ".join(f"{c} ({n})" for c, n in sorted(outside.items())[:20])
        )
    return publish(
        context,
        warehouse,
        report,
        "lti_attempts",
        rules,
        extra={
            "run_api_requests": len(per_day),
            "run_records_received": sum(d["received"] for d in per_day),
            "run_attempts_without_course": sum(d["without_course"] for d in per_day),
            "run_attempts_outside_run": sum(outside.values()),
            "per_day": dg.MetadataValue.md(markdown_table(per_day[:60], list(per_day[0])))
            if per_day
            else "none",
        },
    )


def _ratio(numerator: int, denominator: int) -> float:
    """numerator / denominator to 2 decimals, a half rounded up as SQL's ROUND does (the
    check's recount): Python's round() gives 50.62 for 81 of 160, SQL 50.63."""
    exact = Decimal(numerator) / Decimal(denominator)
    return float(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def stats_rows(warehouse: WarehouseResource, scope: partitions.Scope) -> list[dict[str, Any]]:
    """One row per partition of ``scope`` (zeros for a quiet course-day), from the SQL recount."""
    counted = recount(scope)
    found = {
        (row["course_id"], partitions.to_date(row["snapshot_date"])): row
        for row in warehouse.read_frame(sa.select(counted)).to_dict("records")
    }
    rows = []
    for p in scope:
        row = found.get((p.course_id, p.day))
        figures = {
            name: int(row[name]) if row else 0
            for name in ("attempts", "unique_users", "successful_attempts", "runs", "submits")
        }
        figures["solvers"] = int(row["solvers"]) if row else 0
        submits, attempts = figures["submits"], figures["attempts"]
        rows.append(
            {
                "course_id": p.course_id,
                "snapshot_date": p.day,
                **figures,
                "success_rate": _ratio(100 * figures["successful_attempts"], submits)
                if submits
                else None,
                "attempts_per_user": _ratio(attempts, figures["unique_users"])
                if attempts
                else None,
            }
        )
    return rows


@dg.asset(
    deps=[lti_attempts],
    check_specs=quality.check_specs("attempt_daily_stats", STATS_RULES, blocking=True),
    **LTI_ASSET,
)
def attempt_daily_stats(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Daily statistics of LTI attempts per course: attempts, users, success rate, runs, submits.

    Counted in SQL from the stored lti_attempts of the partitions (one query for the
    whole run), so a re-pull of the attempts followed by this gives the same figures
    as the first time.
    """
    scope = scope_of(context)
    rows = stats_rows(warehouse, scope)
    report = write_scope(
        warehouse, scope, {"attempt_daily_stats": rows}, asset_name="attempt_daily_stats"
    )
    by_day = {
        day: sum(r["attempts"] for r in group)
        for day, group in groupby(
            sorted(rows, key=lambda r: r["snapshot_date"]), key=lambda r: r["snapshot_date"]
        )
    }
    context.log.info(f"attempt_daily_stats: {len(rows)} course-days, attempts per day {by_day}")
    chart = charts.per_day_or_course(pd.DataFrame(rows), "attempts", "attempts")
    return publish(context, warehouse, report, "attempt_daily_stats", STATS_RULES, extra=chart)
