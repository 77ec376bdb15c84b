"""The LTI attempts source (seed 002): assets, checks, jobs, schedule, sensors, resources."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from lms_assets import settings
from lms_assets.automation import (
    batched_run_requests,
    course_discovery_sensor,
    daily_course_schedule,
    partition_range,
)
from lms_assets.lti import assets
from lms_assets.lti.assets import lti_courses
from lms_assets.lti.report import lti_daily_report
from lms_assets.lti.resources import LtiApiResource
from lms_assets.lti.sheets import GoogleSheetsReportResource

ASSETS = [assets.lti_attempts, assets.attempt_daily_stats]

lti_daily = dg.define_asset_job(
    "lti_daily",
    selection=dg.AssetSelection.assets(*ASSETS),
    description="LTI: a day's attempts of every course (one API request), and the daily stats.",
)


lti_report = dg.define_asset_job(
    "lti_report",
    selection=dg.AssetSelection.assets(lti_daily_report),
    description="LTI: the day's Google Sheets row and success email.",
)


def days_of_run(tags: dict[str, str]) -> list[str]:
    """The days a finished lti_daily run covered (its partition range's date part)."""
    keys = partition_range(tags)
    if keys is None:
        return []
    first, last = (dt.date.fromisoformat(key.split("|")[-1]) for key in keys)
    return [(first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="lti_report_after_daily",
    monitored_jobs=[lti_daily],
    request_job=lti_report,
    description="After a successful lti_daily run: the sheet row and the email of its days.",
)
def lti_report_after_daily(context: dg.RunStatusSensorContext) -> list[dg.RunRequest]:
    run = context.dagster_run
    return [
        dg.RunRequest(run_key=f"lti-report:{run.run_id}:{day}", partition_key=day)
        for day in days_of_run(run.tags)
    ]


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
    description="At 07:00: yesterday's LTI attempts and stats of every known course.",
)

lti_course_discovery = course_discovery_sensor(
    "lti_course_discovery",
    lti_courses,
    source="LTI attempts",
    resource_key="lti_api",
    list_course_keys=lambda api: api.recent_course_keys(),
    description="Registers the courses of the last hours' attempts (derived from their "
    "passback_params; lti-course-unknown when some have none) as partitions.",
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
        "lti_sheets": GoogleSheetsReportResource(
            credentials_base64=dg.EnvVar("GOOGLE_SHEETS_CREDENTIALS_BASE64")
            if config.sheets_credentials_set
            else None,
            spreadsheet_id=dg.EnvVar("SPREADSHEET_ID") if config.sheets_spreadsheet_set else None,
            api_url=config.sheets_api_url,
            worksheet=config.sheets_worksheet,
        ),
    }


defs = dg.Definitions(
    assets=[*ASSETS, lti_daily_report],
    jobs=[lti_daily, lti_report],
    schedules=[lti_daily_schedule],
    sensors=[lti_course_discovery, lti_report_after_daily],
    resources=resources(settings.current),
)
