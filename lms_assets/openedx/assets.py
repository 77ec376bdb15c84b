"""Open edX custom API assets (seed 000), course × date partitioned."""

from collections import Counter
from typing import Any

import dagster as dg

from lms_assets.http_client import SourceAuthenticationError, SourceError
from lms_assets.metadata import markdown_table, preview
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.partitions import (
    CourseDay,
    course_days,
    openedx_course_daily,
    require_snapshot_days,
)
from lms_assets.quality import duplicate_key_count, null_count, row_counts
from lms_assets.records import RecordError, as_bool, as_int, as_str, as_utc_datetime
from lms_assets.warehouse import RejectedRecord, WarehouseResource

SOURCE = "Open edX API"

ENROLLMENT_CHECKS = [
    dg.AssetCheckSpec(
        "user_id_unique",
        asset="enrollments",
        blocking=True,
        description="Each learner appears once per course and day, in the API's answer and "
        "in the table (duplicates from the API are rejected and kept).",
    ),
    dg.AssetCheckSpec(
        "user_id_not_null",
        asset="enrollments",
        blocking=True,
        description="Every enrollment the API returned had a user_id, and no stored row lacks one.",
    ),
    dg.AssetCheckSpec(
        "row_count_matches_api_total",
        asset="enrollments",
        blocking=True,
        description="Rows stored per course equal the `count` the API reported: "
        "nothing lost to pagination or rejection.",
    ),
]


def parse_enrollment(record: Any, partition: CourseDay) -> dict[str, Any]:
    """One API enrollment record as an ``enrollments`` row; raises ``RecordError``."""
    if not isinstance(record, dict):
        raise RecordError(f"record is a {type(record).__name__}, not an object")
    return {
        "course_id": partition.course_id,
        "snapshot_date": partition.day,
        "user_id": as_int(record, "user_id", required=True),
        "username": as_str(record, "username", max_length=150),
        "email": as_str(record, "email", max_length=254),
        "full_name": as_str(record, "full_name", max_length=255),
        "mode": as_str(record, "mode", max_length=50),
        "is_active": as_bool(record, "is_active"),
        "enrolled_at": as_utc_datetime(record, "created"),
        "student_code": as_str(record, "mssv", max_length=50),
        "class_code": as_str(record, "class_code", max_length=50),
    }


def _fetch_course(
    api: OpenEdxApiResource, partition: CourseDay
) -> tuple[list[dict[str, Any]], list[RejectedRecord], int, Counter[str]]:
    """All of one course's enrollments: (rows, rejected, API total, rejection reasons)."""
    rows: list[dict[str, Any]] = []
    rejected: list[RejectedRecord] = []
    reasons: Counter[str] = Counter()
    seen: set[int] = set()
    total = 0
    for page in api.iter_enrollment_pages(partition.course_id):
        total = page.reported_total
        for index, record in enumerate(page.records, start=page.offset):
            key = record.get("user_id") if isinstance(record, dict) else None
            try:
                row = parse_enrollment(record, partition)
                if row["user_id"] in seen:
                    raise RecordError(f"duplicate user_id {row['user_id']} (first occurrence kept)")
            except RecordError as exc:
                reason = str(exc)
                category = "duplicate user_id" if reason.startswith("duplicate") else reason
                reasons[category.split("=")[0]] += 1
                rejected.append(
                    RejectedRecord(
                        course_id=partition.course_id,
                        snapshot_date=partition.day,
                        source=SOURCE,
                        reason=f"record #{index}: {reason}",
                        record_key=None if key is None else str(key),
                        payload=record,
                    )
                )
                continue
            seen.add(row["user_id"])
            rows.append(row)
    return rows, rejected, total, reasons


@dg.asset(
    partitions_def=openedx_course_daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="openedx_api",
    group_name="openedx",
    kinds={"api", "sql"},
    check_specs=ENROLLMENT_CHECKS,
)
def enrollments(
    context: dg.AssetExecutionContext,
    openedx_api: OpenEdxApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Learners enrolled in each course run, as the API reports them today.

    A snapshot source: only today's partition can be materialized. All pages
    (limit/offset) are fetched before the course's partition is replaced, so a
    failed fetch never leaves half a course behind.
    """
    partitions = course_days(context)
    require_snapshot_days(partitions, f"{SOURCE} (course-enrollments-attributes)")

    api_totals: dict[CourseDay, int] = {}
    reasons: Counter[str] = Counter()
    failures: dict[str, str] = {}
    written: list[CourseDay] = []
    sample: list[dict[str, Any]] = []
    rows_total = rejected_total = 0
    for number, partition in enumerate(partitions, start=1):
        try:
            rows, rejected, api_total, course_reasons = _fetch_course(openedx_api, partition)
        except SourceAuthenticationError:
            raise
        except SourceError as exc:
            failures[partition.course_id] = str(exc)
            context.log.error(f"{partition}: {exc}")
            continue
        summary = warehouse.replace_partitions(
            "enrollments", [partition], rows, asset_name="enrollments", rejected=rejected
        )
        api_totals[partition] = api_total
        reasons.update(course_reasons)
        written.append(partition)
        sample = sample or rows
        rows_total += summary.rows_written
        rejected_total += summary.rejected_written
        context.log.info(
            f"[{number}/{len(partitions)}] {partition}: {summary.rows_written} rows "
            f"(API total {api_total}, rejected {summary.rejected_written})"
        )
    if failures:
        listed = "; ".join(f"{course}: {reason}" for course, reason in failures.items())
        raise dg.Failure(
            description=f"{len(failures)} of {len(partitions)} course(s) could not be fetched "
            f"({len(written)} were written and kept). {listed}",
        )

    stored = row_counts(warehouse, "enrollments", written)
    mismatched = {p: (stored[p], api_totals[p]) for p in written if stored[p] != api_totals[p]}
    source_duplicates = reasons.get("duplicate user_id", 0)
    missing_user_id = reasons.get("user_id is missing", 0)
    checks = [
        dg.AssetCheckResult(
            check_name="user_id_unique",
            passed=source_duplicates == 0
            and duplicate_key_count(
                warehouse, "enrollments", ["course_id", "snapshot_date", "user_id"], written
            )
            == 0,
            metadata={"duplicates_from_api": source_duplicates},
        ),
        dg.AssetCheckResult(
            check_name="user_id_not_null",
            passed=missing_user_id == 0
            and null_count(warehouse, "enrollments", "user_id", written) == 0,
            metadata={"records_without_user_id": missing_user_id},
        ),
        dg.AssetCheckResult(
            check_name="row_count_matches_api_total",
            passed=not mismatched,
            metadata={
                "partitions_checked": len(written),
                "mismatches": dg.MetadataValue.md(
                    markdown_table(
                        [
                            {"partition": str(p), "stored": s, "api_total": t}
                            for p, (s, t) in list(mismatched.items())[:50]
                        ],
                        ["partition", "stored", "api_total"],
                    )
                    if mismatched
                    else "none"
                ),
            },
        ),
    ]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows_total,
            "api_reported_total": sum(api_totals.values()),
            "rejected_records": rejected_total,
            "rejection_reasons": dict(reasons) or "none",
            "courses": len(written),
            "preview": preview(sample),
            "warehouse": warehouse.display_url,
            **openedx_api.stats.as_metadata("http"),
        },
        check_results=checks,
    )
