"""``course_runs``: each course run's calendar (``/courses/``: start, end), per day.

The dropout model measures a run's weeks, cutoffs and label window against these dates
(docs/model.md); without them it could only guess a run's span from its logs, and a
running run's guessed end would be yesterday.
"""

import datetime as dt
from typing import Any

import dagster as dg

from lms_assets import quality
from lms_assets.errors import ReasonCode, RecordError
from lms_assets.loading import CourseLoad, load_per_course
from lms_assets.openedx.assets import SNAPSHOT_ASSET
from lms_assets.openedx.parsing import MOOC_SOURCE, Parsed, parse_records
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.partitions import Partition, course_code, require_snapshot_days, scope_of
from lms_assets.records import as_str, as_utc_datetime
from lms_assets.tables import publish
from lms_assets.warehouse import WarehouseResource

TABLE = "course_runs"
RULES = [
    quality.unique_key(["course_id", "snapshot_date"]),
    quality.row_condition(
        "end_not_before_start",
        "A run's end_date is not before its start_date.",
        lambda t: t.c.end_date < t.c.start_date,
    ),
]


def _day(record: dict[str, Any], name: str) -> dt.date | None:
    moment = as_utc_datetime(record, name)
    return None if moment is None else moment.date()


def parse_course_run(record: dict[str, Any], partition: Partition) -> dict[str, Any]:
    if record.get("course_id") != partition.course_id:
        raise RecordError(
            ReasonCode.INCONSISTENT,
            "course_id",
            f"course_id={record.get('course_id')!r} is not the partition's {partition.course_id}",
        )
    return {
        "course_id": partition.course_id,
        "snapshot_date": partition.day,
        "course_code": course_code(partition.course_id),
        "display_name": as_str(record, "display_name", max_length=255),
        "start_date": _day(record, "start"),
        "end_date": _day(record, "end"),
    }


@dg.asset(check_specs=quality.check_specs(TABLE, RULES, blocking=True), **SNAPSHOT_ASSET)
def course_runs(
    context: dg.AssetExecutionContext,
    openedx_api: OpenEdxApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Each course run's calendar as the API lists it today: one listing per run of this
    asset, one row per course partition. A course the listing no longer names stores no
    row, and is named in the log and the metadata."""
    partitions = scope_of(context)
    require_snapshot_days(partitions, f"{MOOC_SOURCE} (courses)")
    listed = {str(c.get("course_id")): c for c in openedx_api.list_courses()}
    missing = sorted({p.course_id for p in partitions if p.course_id not in listed})
    if missing:
        context.log.warning(f"course_runs: not in the API's course list: {', '.join(missing)}")

    def fetch(partition: Partition) -> CourseLoad:
        records = [listed[partition.course_id]] if partition.course_id in listed else []
        parsed = parse_records(
            records, parse_course_run, partition, source=MOOC_SOURCE, key=("course_id",)
        )
        return Parsed.into(parsed, CourseLoad({}), TABLE)

    report = load_per_course(context, partitions, warehouse, TABLE, fetch, {TABLE: RULES})
    return publish(
        context,
        warehouse,
        report,
        TABLE,
        RULES,
        extra={"not_listed": ", ".join(missing) or "none"},
    )
