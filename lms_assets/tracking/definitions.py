"""The tracking-log source (seed 003): its assets, checks, jobs, sensors and resource."""

from __future__ import annotations

import dagster as dg

from lms_assets import settings
from lms_assets.tracking import assets
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.tracking.sensors import (
    tracking_courses_after_split,
    tracking_courses_job,
    tracking_log_files,
    tracking_split_job,
)

ASSETS = dg.load_assets_from_modules([assets])


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "tracking_logs": TrackingLogFolderResource(
            path=config.tracking_logs_path,
            staging_path=config.tracking_staging_path,
            # A secret: an EnvVar, so its value never reaches run config, logs or the UI.
            pseudonym_key=dg.EnvVar("LMS_PSEUDONYM_KEY") if config.pseudonym_key_set else None,
        )
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[tracking_split_job, tracking_courses_job],
    sensors=[tracking_log_files, tracking_courses_after_split],
    resources=resources(settings.current),
)
