"""The Open edX and H5P source (seed 000): its assets, checks, job, automation and resources."""

from __future__ import annotations

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.automation import course_discovery_sensor, daily_course_schedule
from lms_assets.openedx import assets, course_runs, h5p_assets
from lms_assets.openedx.resources import H5PApiResource, OpenEdxApiResource

ASSETS = dg.load_assets_from_modules([assets, course_runs, h5p_assets])

openedx_daily = dg.define_asset_job(
    "openedx_daily",
    # Only the snapshots: raw_data waits for the day's tracking tables too
    # (features/automation.py).
    selection=dg.AssetSelection.assets(*ASSETS),
    description="Open edX and H5P snapshots of the day (course calendars, enrollments, grades, "
    "progress, H5P).",
)

openedx_daily_schedule = daily_course_schedule(
    "openedx_daily_schedule",
    openedx_daily,
    partitions.openedx_courses,
    cron=settings.current.openedx_schedule,
    description="Today's Open edX and H5P snapshots for every known course, in a handful of runs "
    "(raw_data follows once the day's tracking tables are stored).",
)

openedx_course_discovery = course_discovery_sensor(
    "openedx_course_discovery",
    partitions.openedx_courses,
    source="Open edX",
    resource_key="openedx_api",
    list_course_keys=lambda api: [str(c.get("course_id", "")) for c in api.list_courses()],
    description="Registers the course runs the Open edX API lists (``/courses/``) as partitions.",
)


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    http = config.http_options()
    return {
        "openedx_api": OpenEdxApiResource(
            base_url=dg.EnvVar("LMS_OPENEDX_BASE_URL"),
            session_id=dg.EnvVar("LMS_OPENEDX_SESSION_ID"),
            requests_per_second=config.openedx_requests_per_second,
            page_size=config.openedx_page_size,
            **http,
        ),
        "h5p_api": H5PApiResource(
            base_url=dg.EnvVar("LMS_H5P_BASE_URL"),
            requests_per_second=config.h5p_requests_per_second,
            max_concurrency=config.h5p_max_concurrency,
            **http,
        ),
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[openedx_daily],
    schedules=[openedx_daily_schedule],
    sensors=[openedx_course_discovery],
    resources=resources(settings.current),
)
