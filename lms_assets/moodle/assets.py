"""Moodle course activity (seed 001): activity_counts, user_counts and user_activity.

Seed 001's scheduler, status table, "already running" guard and prerequisite
waiting are Dagster's job here: partitions, run status, asset dependencies and
the ``moodle_db`` pool.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from lms_assets import charts, quality
from lms_assets.loading import write_scope
from lms_assets.metadata import markdown_table
from lms_assets.moodle.resources import MoodleDatabaseResource
from lms_assets.moodle.schema import VIEW_COLUMNS
from lms_assets.partitions import (
    Partition,
    moodle_course_daily,
    require_snapshot_days,
    scope_of,
    to_date,
)
from lms_assets.tables import partition_metadata, publish
from lms_assets.warehouse import WarehouseResource

COURSE_DAY_KEY = ["course_id", "snapshot_date"]
MOODLE_ASSET = {
    "partitions_def": moodle_course_daily,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "pool": "moodle_db",
    "group_name": "moodle",
    "kinds": {"sql"},
}


def _sum_of_views(table: sa.Table) -> Any:
    return sum((table.c[name] for name in VIEW_COLUMNS[1:]), table.c[VIEW_COLUMNS[0]])


RULES: dict[str, list[quality.Rule]] = {
    "activity_counts": [
        quality.unique_key(COURSE_DAY_KEY),
        quality.in_range(
            {name: (0, None) for name in (*VIEW_COLUMNS, "total_views", "active_days")}
        ),
        quality.row_condition(
            "total_views_is_sum_of_parts",
            "total_views equals the sum of the six view columns.",
            lambda t: t.c.total_views != _sum_of_views(t),
        ),
    ],
    "user_counts": [
        quality.unique_key(COURSE_DAY_KEY),
        quality.in_range({"num_students": (0, None), "num_teachers": (0, None)}),
    ],
    "user_activity": [
        quality.unique_key(COURSE_DAY_KEY),
        quality.in_range(
            {
                name: (0, None)
                for name in (
                    *VIEW_COLUMNS,
                    "total_views",
                    "active_days",
                    "num_students",
                    "num_teachers",
                    "avg_activity_per_student_per_day",
                )
            }
        ),
        quality.row_condition(
            "total_views_is_sum_of_parts",
            "total_views equals the sum of the six view columns.",
            lambda t: t.c.total_views != _sum_of_views(t),
        ),
        quality.row_condition(
            "average_needs_students_and_days",
            "avg_activity_per_student_per_day is NULL exactly when there are no students or no "
            "active days (no division by zero).",
            lambda t: sa.or_(
                sa.and_(
                    t.c.avg_activity_per_student_per_day.is_(None),
                    t.c.num_students > 0,
                    t.c.active_days > 0,
                ),
                sa.and_(
                    t.c.avg_activity_per_student_per_day.is_not(None),
                    sa.or_(t.c.num_students.is_(None), t.c.num_students == 0, t.c.active_days == 0),
                ),
            ),
        ),
    ],
}


STUDENTS_MATCH_SOURCE = quality.Rule(
    "num_students_matches_source",
    "num_students equals the distinct student users Moodle lists for the course context, "
    "fetched separately.",
    load_violations=quality.column_matches_source("num_students", "students_listed"),
)


COURSE_IN_MOODLE = quality.Rule(
    "course_in_moodle",
    "Every course partition is a course of the Moodle site; an unknown id gets no row "
    "(not zero views) and fails this check.",
    load_violations=lambda _w, _t, partitions, load: [
        {"partition": str(p)} for p in partitions if not load.info[p]["in_moodle"]
    ],
)


def moodle_course_ids(partitions: list[Partition]) -> list[int]:
    """Moodle course ids of the partitions; a non-numeric key is refused by name."""
    ids = []
    for partition in partitions:
        # isdigit() would accept "²" and other digits int() refuses: ASCII digits only.
        if not (partition.course_id.isascii() and partition.course_id.isdigit()):
            raise dg.Failure(
                description=f"Moodle course key {partition.course_id!r} is not a Moodle course "
                "id (a positive integer); remove it from the moodle_courses partitions."
            )
        ids.append(int(partition.course_id))
    return sorted(set(ids))


@dg.asset(
    check_specs=quality.check_specs(
        "activity_counts", [*RULES["activity_counts"], COURSE_IN_MOODLE], blocking=True
    ),
    **MOODLE_ASSET,
)
def activity_counts(
    context: dg.AssetExecutionContext, moodle: MoodleDatabaseResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Module views of the day by component, from Moodle's standard log.

    Rows of ``logstore_standard_log`` with contextlevel 70 and action 'viewed'
    whose ``timecreated`` falls in the partition's day (``moodle.timezone``).
    A log source: any past day can be (back)filled; a single-run backfill reads
    all its courses and days with one query.
    """
    partitions = scope_of(context)
    days = sorted({p.day for p in partitions})
    course_ids = moodle_course_ids(partitions)
    counts = moodle.view_counts(course_ids, days)
    known = {int(course.id) for course in moodle.course_details(course_ids)}
    zero = dict.fromkeys(moodle.view_components, 0)
    rows = []
    for partition in partitions:
        if int(partition.course_id) not in known:
            # No row rather than zeros that would read as "nobody looked"; the check says so.
            context.log.warning(f"{partition}: course {partition.course_id} is not in Moodle")
            continue
        views = counts.get((int(partition.course_id), partition.day), zero)
        row = {
            "course_id": partition.course_id,
            "snapshot_date": partition.day,
            **{column: views.get(column, 0) for column in VIEW_COLUMNS},
        }
        row["total_views"] = sum(row[c] for c in VIEW_COLUMNS)
        row["active_days"] = 1 if row["total_views"] else 0
        rows.append(row)
    report = write_scope(
        warehouse, partitions, {"activity_counts": rows}, asset_name="activity_counts"
    )
    report.info = {p: {"in_moodle": int(p.course_id) in known} for p in partitions}
    context.log.info(
        f"activity_counts: {len(rows)} course-days ({len(days)} days), "
        f"{sum(r['total_views'] for r in rows)} views"
    )
    partition_metadata(
        context,
        "activity_counts",
        {
            Partition(r["course_id"], r["snapshot_date"]): {"total_views": r["total_views"]}
            for r in rows
        },
    )
    return publish(
        context,
        warehouse,
        report,
        "activity_counts",
        [*RULES["activity_counts"], COURSE_IN_MOODLE],
        extra={
            **charts.grouped_bars(
                pd.DataFrame(rows, columns=list(VIEW_COLUMNS)).melt(),
                "variable",
                "value",
                "views by component",
            ),
            "run_days": len(days),
            "run_total_views": sum(r["total_views"] for r in rows),
            "timezone": moodle.timezone,
        },
    )


@dg.asset(
    check_specs=quality.check_specs(
        "user_counts", [*RULES["user_counts"], STUDENTS_MATCH_SOURCE], blocking=True
    ),
    **MOODLE_ASSET,
)
def user_counts(
    context: dg.AssetExecutionContext, moodle: MoodleDatabaseResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Students and teachers assigned in each course's context (contextlevel 50).

    Roles are found by shortname (``moodle.student_roles``/``teacher_roles``),
    falling back to Moodle's stock ids 5 and 3/4. A snapshot: today only.
    """
    partitions = scope_of(context)
    require_snapshot_days(partitions, "Moodle role assignments")
    course_ids = moodle_course_ids(partitions)
    students, teachers, warnings = moodle.role_ids()
    for warning in warnings:
        context.log.warning(warning)
    counts = moodle.role_counts(course_ids, students, teachers)
    rows = [
        {
            "course_id": p.course_id,
            "snapshot_date": p.day,
            "num_students": counts.get(int(p.course_id), (0, 0))[0],
            "num_teachers": counts.get(int(p.course_id), (0, 0))[1],
            "student_role_ids": ",".join(map(str, students)),
            "teacher_role_ids": ",".join(map(str, teachers)),
        }
        for p in partitions
    ]
    report = write_scope(warehouse, partitions, {"user_counts": rows}, asset_name="user_counts")
    listed = moodle.student_user_ids(course_ids, students)
    report.info = {
        Partition(r["course_id"], r["snapshot_date"]): {
            "students_listed": len(listed[int(r["course_id"])])
        }
        for r in rows
    }
    return publish(
        context,
        warehouse,
        report,
        "user_counts",
        [*RULES["user_counts"], STUDENTS_MATCH_SOURCE],
        extra={
            "student_role_ids": students,
            "teacher_role_ids": teachers,
            "role_warnings": "; ".join(warnings) or "none",
        },
    )


def average_per_student_per_day(
    total_views: int | None, students: int | None, active_days: int | None
) -> Decimal | None:
    """total / students / active days, rounded half-up to 2 places; NULL instead of / 0."""
    if total_views is None or not students or not active_days:
        return None
    value = Decimal(total_views) / Decimal(students) / Decimal(active_days)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _stored(warehouse: WarehouseResource, name: str, partitions: list[Partition]) -> dict:
    rows = warehouse.read_partitions(name, partitions).to_dict("records")
    return {(r["course_id"], to_date(r["snapshot_date"])): r for r in rows}


@dg.asset(
    deps=["activity_counts", "user_counts"],
    check_specs=quality.check_specs("user_activity", RULES["user_activity"], blocking=False),
    **MOODLE_ASSET,
)
def user_activity(
    context: dg.AssetExecutionContext, moodle: MoodleDatabaseResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The merged Moodle report: one row per visible course with a category idnumber.

    Views come from that day's activity_counts, students and teachers from that
    day's user_counts snapshot (NULL when none was taken that day, so a backfill
    never invents zeros); names come from Moodle's course table.
    """
    partitions = scope_of(context)
    details = {row.id: row for row in moodle.course_details(moodle_course_ids(partitions))}
    activity = _stored(warehouse, "activity_counts", partitions)
    people = _stored(warehouse, "user_counts", partitions)
    rows, excluded = [], []
    for partition in partitions:
        course = details.get(int(partition.course_id))
        category_idnumber = (course.category_idnumber or "").strip() if course else ""
        if course is None or course.visible != 1 or not category_idnumber:
            reason = (
                "not in Moodle"
                if course is None
                else "hidden"
                if course.visible != 1
                else "category has no idnumber"
            )
            excluded.append({"course_id": partition.course_id, "reason": reason})
            continue
        key = (partition.course_id, partition.day)
        views, counts = activity.get(key), people.get(key)
        if views is None:
            context.log.warning(f"{partition}: no activity_counts stored; views left NULL")
        row = {
            "course_id": partition.course_id,
            "snapshot_date": partition.day,
            "category_idnumber": category_idnumber,
            "id_number": course.idnumber,
            "course_name": course.fullname,
            "course_shortname": course.shortname,
            "num_teachers": counts["num_teachers"] if counts else None,
            "num_students": counts["num_students"] if counts else None,
            **{
                c: views[c] if views else None
                for c in (*VIEW_COLUMNS, "total_views", "active_days")
            },
        }
        row["avg_activity_per_student_per_day"] = average_per_student_per_day(
            row["total_views"], row["num_students"], row["active_days"]
        )
        rows.append(row)
    report = write_scope(warehouse, partitions, {"user_activity": rows}, asset_name="user_activity")
    return publish(
        context,
        warehouse,
        report,
        "user_activity",
        RULES["user_activity"],
        extra={
            **charts.grouped_bars(
                pd.DataFrame(rows, columns=["course_shortname", "total_views"]),
                "course_shortname",
                "total_views",
                "views of the most viewed courses",
                top=12,
                horizontal=True,
            ),
            "excluded_courses": dg.MetadataValue.md(
                markdown_table(excluded[:50], ["course_id", "reason"]) if excluded else "none"
            ),
        },
    )
