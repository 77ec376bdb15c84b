"""Reports across sources: ``course_report``, its job and its folder."""

from __future__ import annotations

import dagster as dg

from lms_assets import settings
from lms_assets.reports.assets import ReportFolderResource, course_report

course_report_job = dg.define_asset_job(
    "course_report_daily",
    selection=dg.AssetSelection.assets("course_report"),
    description="Each course's report of the day (one HTML page per course), from the warehouse.",
)


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {"reports": ReportFolderResource(path=config.reports_path)}


defs = dg.Definitions(
    assets=[course_report], jobs=[course_report_job], resources=resources(settings.current)
)
