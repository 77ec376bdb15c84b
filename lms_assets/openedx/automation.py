"""Open edX course discovery and the daily schedule (seed 000's cron, done by Dagster)."""

import os

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.scheduling import batched_run_requests, discover_courses

JOB = "openedx_daily"
DAILY_CRON = os.environ.get("LMS_OPENEDX_SCHEDULE", "0 7 * * *")


@dg.sensor(name="openedx_course_discovery", job_name=JOB, minimum_interval_seconds=3600)
def openedx_course_discovery(
    context: dg.SensorEvaluationContext, openedx_api: OpenEdxApiResource
) -> dg.SensorResult | dg.SkipReason:
    """Registers course runs the Open edX API lists (``/courses/``) as partitions."""
    listed = [str(course.get("course_id", "")) for course in openedx_api.list_courses()]
    return discover_courses(
        context,
        partitions.openedx_courses,
        listed,
        job_name=JOB,
        day=partitions.today(),
        source="Open edX",
    )


@dg.schedule(
    name="openedx_daily_schedule",
    job_name=JOB,
    cron_schedule=DAILY_CRON,
    execution_timezone=settings.TIMEZONE,
)
def openedx_daily_schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """Today's snapshots and raw_data for every known course, in a handful of runs."""
    day = context.scheduled_execution_time.date()
    known = list(context.instance.get_dynamic_partitions(partitions.openedx_courses.name))
    return batched_run_requests(JOB, known, day, run_key_prefix="openedx-daily")
