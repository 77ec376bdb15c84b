"""The LTI attempts source (seed 002): assets, checks, jobs, schedule, sensors, resources."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.automation import (
    batched_run_requests,
    course_discovery_sensor,
    daily_course_schedule,
)
from lms_assets.lti import assets
from lms_assets.lti.assets import lti_courses
from lms_assets.lti.resources import LtiApiResource

ASSETS = [assets.lti_attempts, assets.attempt_daily_stats]

lti_daily = dg.define_asset_job(
    "lti_daily",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Seed 002: a day's LTI attempts of every course (one API request), and the "
    "daily stats.",
)


def yesterday_in_one_run(job_name: str, courses: list[str], today: dt.date) -> list[dg.RunRequest]:
    """Yesterday, every known course in ONE run: the API answers all courses at once, so
    cutting the courses into chunks would only ask for the same day again per chunk."""
    if not courses:
        return []
    return batched_run_requests(
        job_name,
        courses,
        today - dt.timedelta(days=1),
        run_key_prefix="lti-daily",
        courses_per_run=len(courses),
    )


lti_daily_schedule = daily_course_schedule(
    "lti_daily_schedule",
    lti_daily,
    lti_courses,
    cron=settings.current.lti_schedule,
    runs_for_day=yesterday_in_one_run,
    description="Seed 002's 07:00 run: yesterday's attempts and stats of every known course.",
)

lti_course_discovery = course_discovery_sensor(
    "lti_course_discovery",
    lti_courses,
    source="LTI attempts",
    resource_key="lti_api",
    list_course_keys=lambda api: api.recent_course_keys(
        partitions.today(settings.current.lti_day_timezone)
    ),
    description="Registers the courses of yesterday's and today's attempts (derived from "
    "their passback_params; lti-course-unknown when some have none) as partitions.",
)


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "lti_api": LtiApiResource(
            base_url=dg.EnvVar("LMS_LTI_API_URL"),
            client=dg.EnvVar("LMS_LTI_CLIENT"),
            client_key=dg.EnvVar("LMS_LTI_CLIENT_KEY"),
            timezone=config.lti_day_timezone,
            **{**config.http_options(), "timeout_seconds": config.lti_timeout_seconds},
        ),
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[lti_daily],
    schedules=[lti_daily_schedule],
    sensors=[lti_course_discovery],
    resources=resources(settings.current),
)
