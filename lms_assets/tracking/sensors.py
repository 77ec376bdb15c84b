"""Noticing new tracking-log files, then loading each course's tables for those days.

``tracking_log_files`` requests the daily split for every day a new or changed file
can hold events of (its own date and the day before, as rotation is after
midnight). When a split succeeds, ``tracking_courses_after_split`` requests the
course tables of those days for every registered course, in a handful of runs.
"""

import datetime as dt
import hashlib
import json

import dagster as dg

from lms_assets import partitions
from lms_assets.automation import (
    batched_run_requests,
    partition_range,
    report_invalid_registered,
)
from lms_assets.tracking.resources import TrackingLogFolderResource, date_in_name

SPLIT_JOB = "tracking_split"
COURSES_JOB = "tracking_courses"

tracking_split_job = dg.define_asset_job(
    SPLIT_JOB,
    selection=dg.AssetSelection.assets("tracking_log_split"),
    description="Seed 003: split a day's tracking-log files by course.",
)
tracking_courses_job = dg.define_asset_job(
    COURSES_JOB,
    selection=dg.AssetSelection.assets(
        "tracking_events", "learner_daily_activity", "video_engagement", "problem_activity"
    ),
    description="Seed 003: load and aggregate each course's tracking events of a day.",
)


@dg.sensor(name="tracking_log_files", job=tracking_split_job, minimum_interval_seconds=300)
def tracking_log_files(
    context: dg.SensorEvaluationContext, tracking_logs: TrackingLogFolderResource
) -> dg.SensorResult | dg.SkipReason:
    """Files are known by size and modification time (the cursor)."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    days: set[dt.date] = set()
    for path in tracking_logs.files():
        signature = f"{path.stat().st_size}:{path.stat().st_mtime_ns}"
        current[str(path)] = signature
        if seen.get(str(path)) == signature:
            continue
        day = date_in_name(path)
        if day is None:
            context.log.warning(f"{path.name}: no date in the name; not ingested")
            continue
        days |= {day, day - dt.timedelta(days=1)}
    if not days:
        return dg.SkipReason(f"no new or changed files among {len(current)}")
    first = partitions.to_date(partitions.daily_partitions.start)
    last = partitions.today()
    wanted = sorted(d for d in days if first <= d <= last)
    context.log.info(f"new or changed tracking logs: splitting {', '.join(map(str, wanted))}")
    digest = hashlib.sha1(json.dumps(current, sort_keys=True).encode()).hexdigest()[:12]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"split:{d}:{digest}", partition_key=d.isoformat())
            for d in wanted
        ],
        cursor=json.dumps(current, sort_keys=True),
    )


def days_of_run(run: dg.DagsterRun) -> list[dt.date]:
    """The partition days a (single- or range-) run of the split covered."""
    keys = partition_range(run.tags)
    if keys is None:
        return []
    start, end = (dt.date.fromisoformat(key) for key in keys)
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


@dg.run_status_sensor(
    name="tracking_courses_after_split",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[tracking_split_job],
    request_jobs=[tracking_courses_job],
)
def tracking_courses_after_split(
    context: dg.RunStatusSensorContext,
) -> list[dg.RunRequest] | dg.SkipReason:
    """After a successful split: the course tables of its days, in batches of courses."""
    run = context.dagster_run
    if run.job_name != SPLIT_JOB:
        return dg.SkipReason(f"run {run.run_id} is not a {SPLIT_JOB} run")
    courses = list(context.instance.get_dynamic_partitions(partitions.openedx_courses.name))
    report_invalid_registered(context, courses)
    return [
        request
        for day in days_of_run(run)
        for request in batched_run_requests(
            COURSES_JOB, courses, day, run_key_prefix=f"tracking-after-{run.run_id}"
        )
    ]
