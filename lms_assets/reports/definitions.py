"""Reports across sources: ``course_report`` and its folder."""

from __future__ import annotations

import dagster as dg

from lms_assets import settings
from lms_assets.reports.assets import ReportFolderResource, course_report


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {"reports": ReportFolderResource(path=config.reports_path)}


defs = dg.Definitions(assets=[course_report], resources=resources(settings.current))
