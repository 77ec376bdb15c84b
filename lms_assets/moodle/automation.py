"""Moodle course discovery and the daily schedule (seed 001 ran at 02:00)."""

import datetime as dt
import os

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.moodle.resources import MoodleDatabaseResource
from lms_assets.scheduling import batched_run_requests, discover_courses

JOB = "moodle_daily"
DAILY_CRON = os.environ.get("LMS_MOODLE_SCHEDULE", "0 2 * * *")


@dg.sensor(name="moodle_course_discovery", job_name=JOB, minimum_interval_seconds=3600)
def moodle_course_discovery(
    context: dg.SensorEvaluationContext, moodle: MoodleDatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    """Registers the site's visible courses as partitions."""
    return discover_courses(
        context,
        partitions.moodle_courses,
        moodle.visible_course_ids(),
        job_name=JOB,
        day=partitions.today(),
        source="Moodle",
    )


@dg.schedule(
    name="moodle_daily_schedule",
    job_name=JOB,
    cron_schedule=DAILY_CRON,
    execution_timezone=settings.TIMEZONE,
)
def moodle_daily_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """At 02:00: yesterday's complete day of logs and report, and today's user counts.

    user_activity for yesterday reads the user_counts snapshot taken by
    yesterday's run, so each report uses the head counts of its own day.
    """
    today = context.scheduled_execution_time.date()
    yesterday = today - dt.timedelta(days=1)
    known = list(context.instance.get_dynamic_partitions(partitions.moodle_courses.name))
    logs = [dg.AssetKey("activity_counts"), dg.AssetKey("user_activity")]
    return [
        *batched_run_requests(
            JOB,
            known,
            today,
            run_key_prefix="moodle-counts",
            asset_selection=[dg.AssetKey("user_counts")],
        ),
        *batched_run_requests(
            JOB, known, yesterday, run_key_prefix="moodle-logs", asset_selection=logs
        ),
    ]
