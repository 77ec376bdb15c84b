"""The ``lms_assets`` code location: every asset, check, resource and job in one place."""

from __future__ import annotations

import dagster as dg

from lms_assets.moodle import assets as moodle_assets
from lms_assets.moodle.automation import moodle_course_discovery, moodle_daily_schedule
from lms_assets.notifications import email_daily_summary, email_on_run_failure
from lms_assets.openedx import assets as openedx_assets
from lms_assets.openedx import h5p_assets, raw_data
from lms_assets.openedx.automation import openedx_course_discovery, openedx_daily_schedule
from lms_assets.resources import build_resources
from lms_assets.tracking import assets as tracking_assets
from lms_assets.tracking.automation import (
    tracking_courses_after_split,
    tracking_courses_job,
    tracking_log_files,
    tracking_split_job,
)

OPENEDX_ASSETS = dg.load_assets_from_modules([openedx_assets, h5p_assets, raw_data])
MOODLE_ASSETS = dg.load_assets_from_modules([moodle_assets])
TRACKING_ASSETS = dg.load_assets_from_modules([tracking_assets])
all_assets = [*OPENEDX_ASSETS, *MOODLE_ASSETS, *TRACKING_ASSETS]

openedx_job = dg.define_asset_job(
    "openedx_daily",
    selection=dg.AssetSelection.assets(*OPENEDX_ASSETS),
    description="Seed 000: Open edX and H5P snapshots of the day, then raw_data.",
)
moodle_job = dg.define_asset_job(
    "moodle_daily",
    selection=dg.AssetSelection.assets(*MOODLE_ASSETS),
    description="Seed 001: Moodle activity counts, user counts and the merged report.",
)

defs = dg.Definitions(
    assets=all_assets,
    jobs=[openedx_job, moodle_job, tracking_split_job, tracking_courses_job],
    schedules=[openedx_daily_schedule, moodle_daily_schedule],
    sensors=[
        openedx_course_discovery,
        moodle_course_discovery,
        email_on_run_failure,
        email_daily_summary,
        tracking_log_files,
        tracking_courses_after_split,
    ],
    resources=build_resources(),
)
