"""The research-package source (seed 004): its assets, checks, job, sensor and resource."""

from __future__ import annotations

import dagster as dg

from lms_assets import settings
from lms_assets.research_packages import assets
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.research_packages.sensors import research_package_files, research_packages_job

ASSETS = dg.load_assets_from_modules([assets])


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "research_packages": ResearchPackageFolderResource(
            path=config.research_packages_path,
            # A secret: an EnvVar, so its value never reaches run config, logs or the UI.
            pseudonym_key=dg.EnvVar("LMS_PSEUDONYM_KEY") if config.pseudonym_key_set else None,
        )
    }


defs = dg.Definitions(
    assets=ASSETS,
    jobs=[research_packages_job],
    sensors=[research_package_files],
    resources=resources(settings.current),
)
