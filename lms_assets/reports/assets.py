"""``course_report``: one self-contained HTML page per course and day (html.py)."""

import dagster as dg
from pydantic import Field

from lms_assets.partitions import openedx_course_daily, scope_of
from lms_assets.reports.html import write_report
from lms_assets.tables import partition_metadata
from lms_assets.warehouse import WarehouseResource

# What the report's sections read: its lineage in the UI.
REPORT_INPUTS = [
    "enrollments",
    "mooc_grades",
    "mooc_progress",
    "tracking_events",
    "learner_daily_activity",
    "raw_data",
]


class ReportFolderResource(dg.ConfigurableResource):
    """Where course reports are written (LMS_REPORTS_DIR, default DATA_DIR/reports)."""

    path: str = Field(description="Folder of the course reports: COURSE/DATE.html below it.")


@dg.asset(
    deps=REPORT_INPUTS,
    partitions_def=openedx_course_daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="reports",
    kinds={"html"},
    pool="warehouse",
)
def course_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportFolderResource
) -> dg.MaterializeResult:
    """The course's page as of the end of the day: enrollment, activity, videos, problems,
    grades, learners at risk and the day's data quality; self-contained (no network)."""
    written = {}
    for partition in scope_of(context):
        path = write_report(warehouse, reports.path, partition.course_id, partition.day)
        written[partition] = path
        context.log.info(f"{partition}: {path}")
    partition_metadata(
        context,
        "course_report",
        {
            p: {
                "path": dg.MetadataValue.path(str(path)),
                "link": dg.MetadataValue.url(path.as_uri()),
            }
            for p, path in written.items()
        },
    )
    last = max(written.values(), key=lambda p: p.stat().st_mtime) if written else None
    return dg.MaterializeResult(
        metadata={
            "run_reports_written": len(written),
            "folder": dg.MetadataValue.path(reports.path),
            **({"last_report": dg.MetadataValue.url(last.as_uri())} if last else {}),
        }
    )
