"""Noticing new tracking-log files, then loading each course's tables for those days.

``tracking_log_files`` requests the daily split for every day a new or changed file
can hold events of (its own date and the day before, as rotation is after
midnight). ``tracking_courses_after_split`` watches the split's materializations,
however the split ran (this sensor, a backfill, the UI, the CLI): for each day split
successfully with course events it requests the course tables of every registered
course, in a handful of runs, and it requests the splits of the other days the day's
files turned out to hold (``days_to_split``).
"""

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import dagster as dg

from lms_assets import partitions
from lms_assets.automation import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    batched_run_requests,
    report_invalid_registered,
)
from lms_assets.tracking.resources import TrackingLogFolderResource, date_in_name
from lms_assets.tracking.split import partition_days

SPLIT_JOB = "tracking_split"
COURSES_JOB = "tracking_courses"
SPLIT_ASSET = dg.AssetKey("tracking_log_split")

tracking_split_job = dg.define_asset_job(
    SPLIT_JOB,
    selection=dg.AssetSelection.assets("tracking_log_split"),
    description="Tracking logs: split a day's log files by course (and register the courses).",
)
tracking_courses_job = dg.define_asset_job(
    COURSES_JOB,
    selection=dg.AssetSelection.assets(
        "tracking_events", "learner_daily_activity", "video_engagement", "problem_activity"
    ),
    description="Tracking logs: load and aggregate each course's events of a day.",
)


def _file_state(cursor: str | None) -> dict[str, dict[str, str]]:
    state = json.loads(cursor) if cursor else {}
    if state and "seen" not in state:  # the cursor of earlier releases: {path: signature}
        state = {"seen": state}
    return {"seen": state.get("seen", {}), "outside": state.get("outside", {})}


@dg.sensor(
    name="tracking_log_files",
    job=tracking_split_job,
    minimum_interval_seconds=300,
    description="Notices new or changed files in LMS_TRACKING_LOG_DIR and splits the days "
    "they hold; reports files outside the daily partitions.",
)
def tracking_log_files(
    context: dg.SensorEvaluationContext, tracking_logs: TrackingLogFolderResource
) -> dg.SensorResult | dg.SkipReason:
    """Files are known by size and modification time (the cursor's ``seen``).

    A file named for a day outside the daily partitions is not split and not marked seen:
    it is counted in the cursor's ``outside`` and the tick's message, and becomes new when
    LMS_PARTITIONS_START_DATE is moved back far enough.
    """
    state = _file_state(context.cursor)
    seen, was_outside = state["seen"], state["outside"]
    first, last = partition_days()
    current: dict[str, str] = {}
    outside: dict[str, str] = {}
    days: set[dt.date] = set()
    for path in tracking_logs.files():
        signature = f"{path.stat().st_size}:{path.stat().st_mtime_ns}"
        day = date_in_name(path)
        if day is not None and not first <= day <= last:
            outside[str(path)] = day.isoformat()
            continue
        current[str(path)] = signature
        if seen.get(str(path)) == signature:
            continue
        if day is None:
            context.log.warning(
                f"{path.name}: no date in the name; not ingested (name it for a day, e.g. "
                "tracking.log-YYYYMMDD; docs/operations.md, Loading history)"
            )
            continue
        days |= {day, day - dt.timedelta(days=1)}
    outside_note = ""
    if outside:
        older = sorted(d for d in outside.values() if d < first.isoformat())
        remedy = (
            f"set LMS_PARTITIONS_START_DATE to {older[0]} or earlier to load them"
            if older
            else "they are split once their day has come (check the log servers' clocks)"
        )
        outside_note = (
            f"; {len(outside)} file(s) named for days outside the daily partitions "
            f"({first}..{last}), not split ({len(older)} before the start date): {remedy}"
        )
        if set(outside) != set(was_outside):
            context.log.warning(
                outside_note[2:] + ": " + ", ".join(sorted(Path(p).name for p in outside)[:20])
            )
    cursor = json.dumps({"seen": current, "outside": outside}, sort_keys=True)
    wanted = sorted(d for d in days if first <= d <= last)
    if not wanted:
        message = f"no new or changed files among {len(current)}{outside_note}"
        if cursor == (context.cursor or ""):
            return dg.SkipReason(message)
        return dg.SensorResult(skip_reason=message, cursor=cursor)
    context.log.info(
        f"new or changed tracking logs: splitting {', '.join(map(str, wanted))}{outside_note}"
    )
    digest = hashlib.sha1(json.dumps(current, sort_keys=True).encode()).hexdigest()[:12]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=f"split:{d}:{digest}", partition_key=d.isoformat())
            for d in wanted
        ],
        cursor=cursor,
    )


def _figure(metadata: dict[str, Any], key: str) -> Any:
    value = metadata.get(key)
    return getattr(value, "value", value)


def _day_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) ranges: one split run per range."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def split_requests(days: list[dt.date], run_key: str) -> list[dg.RunRequest]:
    """Split runs over ``days``, one per range of consecutive days."""
    return [
        dg.RunRequest(
            run_key=f"{run_key}:{start}..{end}",
            job_name=SPLIT_JOB,
            tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()},
        )
        for start, end in _day_ranges(days)
    ]


@dg.sensor(
    name="tracking_courses_after_split",
    jobs=[tracking_split_job, tracking_courses_job],
    minimum_interval_seconds=60,
    description="After any successful split (sensor, UI, CLI): loads the course tables of "
    "the days that have events, and splits the other days the files hold.",
)
def tracking_courses_after_split(
    context: dg.SensorEvaluationContext,
) -> dg.SensorResult | dg.SkipReason:
    """After each successful split of a day: its course tables, and the other days it found.

    Reads the split's materializations in order (the cursor is the last one handled); one
    whose run has not finished yet waits for the next tick.
    """
    after = int(context.cursor) if context.cursor else None
    instance = context.instance
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=SPLIT_ASSET, after_storage_id=after),
        limit=500,
        ascending=True,
    ).records
    first, last = partition_days()
    courses = list(instance.get_dynamic_partitions(partitions.openedx_courses.name))
    report_invalid_registered(context, courses)
    requests: list[dg.RunRequest] = []
    handled = after
    for record in records:
        run = instance.get_run_by_id(record.run_id)
        if run is not None and not run.is_finished:
            break
        handled = record.storage_id
        if run is None or run.status != dg.DagsterRunStatus.SUCCESS or not record.partition_key:
            context.log.info(
                f"split of {record.partition_key} (run {record.run_id}) ignored: it did not succeed"
            )
            continue
        day = dt.date.fromisoformat(record.partition_key)
        metadata = record.asset_materialization.metadata
        events = _figure(metadata, "events")  # None: a run too large for per-day figures
        if events is None:
            events = int(str(day) in (_figure(metadata, "run_days_with_events") or [str(day)]))
        if events > 0:
            requests += batched_run_requests(
                COURSES_JOB, courses, day, run_key_prefix=f"tracking-after-{record.storage_id}"
            )
        others = _figure(metadata, "days_to_split")
        if others is None:
            others = _figure(metadata, "run_days_to_split") or []
        wanted = [d for d in map(dt.date.fromisoformat, others) if first <= d <= last]
        requests += split_requests(wanted, f"other-days-{record.run_id}")
    cursor = str(handled) if handled is not None else None
    if not requests:
        if cursor == context.cursor:
            return dg.SkipReason(
                f"no new successful split of a day with events ({len(records)} read)"
            )
        return dg.SensorResult(skip_reason="no course events in the new splits", cursor=cursor)
    jobs = [r.job_name for r in requests]
    context.log.info(
        f"{jobs.count(COURSES_JOB)} course-table run(s) and {jobs.count(SPLIT_JOB)} split "
        f"run(s) of other days, after {len(records)} split materialization(s)"
    )
    return dg.SensorResult(run_requests=requests, cursor=cursor)
