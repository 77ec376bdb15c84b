"""``lti_daily_report``: seed 002's Google Sheets row and success email, for each day.

Daily partitions (the report is of the whole client, every course). The figures are
counted in the warehouse from the day's stored lti_attempts and their refusals, so a
re-run writes the same row and the sheet keeps one row per day. Without Sheets settings
the sheet is skipped with a log line saying so; without recipients, the email is.
"""

import datetime as dt
import time
from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from lms_assets import settings
from lms_assets.lti.assets import attempt_daily_stats
from lms_assets.lti.sheets import HEADER, GoogleSheetsReportResource
from lms_assets.metadata import markdown_table
from lms_assets.notifications import SmtpNotifier
from lms_assets.partitions import daily_partitions, scope_of
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import metadata


def day_figures(warehouse: WarehouseResource, day: dt.date) -> dict[str, Any]:
    """The day's totals over every course, and what the API sent and what was refused."""
    attempts, rejects = metadata.tables["lti_attempts"], metadata.tables["rejected_records"]
    submit = attempts.c.attempt_type == "submit"
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            sa.select(
                sa.func.count().label("total_attempts"),
                sa.func.count(sa.distinct(attempts.c.user_id)).label("unique_users"),
                sa.func.sum(sa.case((sa.and_(submit, attempts.c.is_correct), 1), else_=0)).label(
                    "successful_attempts"
                ),
                sa.func.sum(sa.case((attempts.c.attempt_type == "run", 1), else_=0)).label("runs"),
                sa.func.sum(sa.case((submit, 1), else_=0)).label("submits"),
                sa.func.max(attempts.c.loaded_at).label("loaded_at"),
            ).where(attempts.c.snapshot_date == day)
        ).one()
        rejected = conn.execute(
            sa.select(sa.func.count()).where(
                rejects.c.asset_name == "lti_attempts", rejects.c.snapshot_date == day
            )
        ).scalar_one()
    figures = {
        name: int(getattr(row, name) or 0)
        for name in ("total_attempts", "unique_users", "successful_attempts", "runs", "submits")
    }
    submits = figures["submits"]
    figures["success_rate_percent"] = (
        round(100 * figures["successful_attempts"] / submits, 2) if submits else 0.0
    )
    return {
        "date": day.isoformat(),
        **figures,
        "rejected": int(rejected),
        "received": figures["total_attempts"] + int(rejected),
        "loaded_at": row.loaded_at,
    }


def sheet_row(figures: dict[str, Any]) -> list[Any]:
    return [figures[name] for name in HEADER]


def success_email(figures: dict[str, Any], sheet_link: str | None, dashboard: str | None) -> str:
    return "\n".join(
        [
            f"LTI attempts of {figures['date']} loaded.",
            "",
            f"Records received: {figures['received']}",
            f"Stored: {figures['total_attempts']} attempts of {figures['unique_users']} learners",
            f"Rejected: {figures['rejected']} (kept in rejected_records with the reason)",
            f"Successful attempts: {figures['successful_attempts']} "
            f"({figures['success_rate_percent']}% of {figures['submits']} submits), "
            f"runs: {figures['runs']}",
            f"Loaded at: {figures['loaded_at']} UTC",
            "",
            f"Sheet: {sheet_link or '(LMS_LTI_SHEET_LINK not set)'}",
            f"Dashboard: {dashboard or '(LMS_LTI_DASHBOARD_LINK not set)'}",
        ]
    )


def _same(stored: list[str], expected: list[Any]) -> bool:
    """A sheet row equals the figures (Sheets may render 0.0 as "0": numbers compared)."""

    def value(v: Any) -> Any:
        try:
            return float(v)
        except (TypeError, ValueError):
            return str(v)

    return [value(v) for v in stored[: len(expected)]] == [value(v) for v in expected]


class ReportConfig(dg.Config):
    sheet_link: str | None = Field(
        default=settings.current.lti_sheet_link, description="Link to the sheet, in the email."
    )
    dashboard_link: str | None = Field(
        default=settings.current.lti_dashboard_link, description="Dashboard link, in the email."
    )


ROW_CHECK = dg.AssetCheckSpec(
    "sheet_has_the_day_once",
    asset="lti_daily_report",
    description="Read back, the sheet has exactly one row of each reported day, with the "
    "warehouse's figures (passes with skipped=true when no sheet is configured).",
)


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[
        dg.AssetDep(
            attempt_daily_stats,
            partition_mapping=dg.MultiToSingleDimensionPartitionMapping(
                partition_dimension_name="date"
            ),
        )
    ],
    check_specs=[ROW_CHECK],
    group_name="lti",
    pool="warehouse",
    kinds={"googlesheets", "email"},
)
def lti_daily_report(
    context: dg.AssetExecutionContext,
    config: ReportConfig,
    warehouse: WarehouseResource,
    lti_sheets: GoogleSheetsReportResource,
    notifier: SmtpNotifier,
) -> dg.MaterializeResult:
    """The day's row in the Google Sheet (updated, never appended twice) and the email."""
    started = time.monotonic()
    days = [p.day for p in scope_of(context)]
    figures = [day_figures(warehouse, day) for day in days]
    written: list[dict[str, Any]] = []
    check_passed, found = True, []
    if lti_sheets.configured:
        written = lti_sheets.upsert_days([sheet_row(f) for f in figures])
        rows = lti_sheets.read_rows()
        for f in figures:
            matching = [r for r in rows if r and r[0] == f["date"]]
            if len(matching) != 1 or not _same(matching[0], sheet_row(f)):
                check_passed = False
                found.append({"date": f["date"], "rows": len(matching)})
        context.log.info(
            "Google Sheets: " + ", ".join(f"{w['date']} {w['action']}" for w in written)
        )
    else:
        context.log.warning(
            "Google Sheets report skipped: GOOGLE_SHEETS_CREDENTIALS_BASE64 and SPREADSHEET_ID "
            "are not both set (see docs/configuration.md)"
        )
    emails = 0
    if notifier.recipients:
        for f in figures:
            notifier.send(
                f"[lms_assets] LTI attempts {f['date']}: {f['total_attempts']} stored, "
                f"{f['rejected']} rejected",
                success_email(f, config.sheet_link, config.dashboard_link)
                + f"\nReport run time: {time.monotonic() - started:.1f} s",
            )
            emails += 1
    else:
        context.log.warning("LTI success email skipped: LMS_ALERT_RECIPIENTS is not set")
    shown = [{k: v for k, v in f.items() if k != "loaded_at"} for f in figures]
    return dg.MaterializeResult(
        metadata={
            "days": len(days),
            "sheet": "skipped (not configured)" if not lti_sheets.configured else "written",
            "sheet_rows": dg.MetadataValue.md(markdown_table(written, list(written[0])))
            if written
            else "none",
            "emails_sent": emails,
            "figures": dg.MetadataValue.md(markdown_table(shown[:60], list(shown[0])))
            if shown
            else "none",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=ROW_CHECK.name,
                passed=check_passed,
                metadata={"skipped": not lti_sheets.configured, "wrong_days": len(found)},
            )
        ],
    )
