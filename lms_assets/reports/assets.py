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
SECTIONS_CHECK = "core_sections_have_data"
# From tables every Open edX course fills; a course without videos or problems has empty
# video and problem sections, which is no data problem (the page and the metadata say so).
CORE_SECTIONS = ("enrollment", "active", "activity", "grades", "risk")


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
    check_specs=[
        dg.AssetCheckSpec(
            SECTIONS_CHECK,
            asset="course_report",
            description="The sections every course has (enrollment, daily activity, activity "
            "by type, grades and completion, learners at risk) have data in every report "
            "written: else their tables were not stored up to the day.",
        )
    ],
)
def course_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, reports: ReportFolderResource
) -> dg.MaterializeResult:
    """The course's page as of the end of the day: enrollment, activity, videos, problems,
    grades, learners at risk and the day's data quality; self-contained (no network)."""
    written = {}
    for partition in scope_of(context):
        written[partition] = write_report(
            warehouse, reports.path, partition.course_id, partition.day
        )
        context.log.info(f"{partition}: {written[partition].path}")
    partition_metadata(
        context,
        "course_report",
        {
            p: {
                "path": dg.MetadataValue.path(str(w.path)),
                "link": dg.MetadataValue.url(w.path.as_uri()),
                "sections_without_data": ", ".join(w.empty_sections) or "none",
            }
            for p, w in written.items()
        },
    )
    lacking = {
        str(p): [s for s in w.empty_sections if s in CORE_SECTIONS] for p, w in written.items()
    }
    lacking = {p: sections for p, sections in lacking.items() if sections}
    return dg.MaterializeResult(
        metadata={
            "run_reports_written": len(written),
            "folder": dg.MetadataValue.path(reports.path),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=SECTIONS_CHECK,
                passed=not lacking,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "reports_with_empty_sections": len(lacking),
                    "first": "; ".join(f"{p}: {', '.join(s)}" for p, s in list(lacking.items())[:5])
                    or "none",
                },
            )
        ],
    )
