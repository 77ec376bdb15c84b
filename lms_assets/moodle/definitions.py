"""The Moodle source (seed 001): its assets, checks, job, automation and resource."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.automation import (
    batched_run_requests,
    course_discovery_sensor,
    daily_course_schedule,
)
from lms_assets.moodle import assets
from lms_assets.moodle.resources import MoodleDatabaseResource

ASSETS = dg.load_assets_from_modules([assets])

moodle_daily = dg.define_asset_job(
    "moodle_daily",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Moodle: activity counts from the log, user counts and the merged report.",
)


def counts_today_logs_yesterday(
    job_name: str, courses: list[str], today: dt.date
) -> list[dg.RunRequest]:
    """Today's user counts, and yesterday's complete day of logs and report.

    user_activity for yesterday reads the user_counts snapshot taken by
    yesterday's run, so each report uses the head counts of its own day.
    """
    yesterday = today - dt.timedelta(days=1)
    logs = [dg.AssetKey("activity_counts"), dg.AssetKey("user_activity")]
    return [
        *batched_run_requests(
            job_name,
            courses,
            today,
            run_key_prefix="moodle-counts",
            asset_selection=[dg.AssetKey("user_counts")],
        ),
        *batched_run_requests(
            job_name, courses, yesterday, run_key_prefix="moodle-logs", asset_selection=logs
        ),
    ]


moodle_daily_schedule = daily_course_schedule(
    "moodle_daily_schedule",
    moodle_daily,
    partitions.moodle_courses,
    cron=settings.current.moodle_schedule,
    runs_for_day=counts_today_logs_yesterday,
    description="At 02:00: yesterday's logs and report, and today's user counts.",
)

moodle_course_discovery = course_discovery_sensor(
    "moodle_course_discovery",
    partitions.moodle_courses,
    source="Moodle",
    resource_key="moodle",
    list_course_keys=lambda moodle: moodle.visible_course_ids(),
    description="Registers the site's visible courses as partitions.",
)


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "moodle": MoodleDatabaseResource(
            url=dg.EnvVar("LMS_MOODLE_URL"),
            table_prefix=config.moodle_table_prefix,
            timezone=config.moodle_day_timezone,
        )
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[moodle_daily],
    schedules=[moodle_daily_schedule],
    sensors=[moodle_course_discovery],
    resources=resources(settings.current),
)
