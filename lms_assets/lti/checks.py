"""The LTI tables' rules: each becomes an asset check (quality.Rule), blocking for the stats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from lms_assets import quality
from lms_assets.partitions import Partition, day_window
from lms_assets.warehouse import partition_filter
from lms_assets.warehouse.schema import metadata

ATTEMPT_KEY = ["user_id", "attempt_type", "created_at"]
COURSE_DAY_KEY = ["course_id", "snapshot_date"]
STATS_COLUMNS = (
    "attempts",
    "unique_users",
    "successful_attempts",
    "runs",
    "submits",
    "solvers",
    "success_rate",
    "attempts_per_user",
)


def _is_correct_matches_type(table: sa.Table) -> Any:
    return sa.or_(
        sa.and_(table.c.attempt_type == "run", table.c.is_correct.is_not(None)),
        sa.and_(table.c.attempt_type == "submit", table.c.is_correct.is_(None)),
        table.c.attempt_type.not_in(["run", "submit"]),
    )


def created_at_inside_day(timezone: str) -> quality.Rule:
    """created_at (UTC) lies in the partition's day as the API's clock (``timezone``) has it."""

    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        outside = []
        for day in sorted({p.day for p in partitions}):
            start, end = day_window(day, timezone)
            outside.append(
                sa.and_(
                    table.c.snapshot_date == day,
                    sa.or_(table.c.created_at < start, table.c.created_at >= end),
                )
            )
        return sa.select(*table.primary_key.columns).where(
            partition_filter(table, partitions), sa.or_(sa.false(), *outside)
        )

    return quality.Rule(
        "created_at_inside_day",
        f"created_at falls inside the partition's day ({timezone}).",
        query,
    )


def rejected_ratio(max_ratio: float) -> quality.Rule:
    """The day's answer had at most ``max_ratio`` refused records (gate, so blocking).

    Measured over the whole day's answer, not per course: the API answers for every
    course at once, and refused records of no course would otherwise make a partition
    of their own that always fails.
    """
    return quality.ratio_at_most(
        "rejected_ratio",
        f"At most {max_ratio:.0%} of the day's attempts refused; above it the day's stored "
        "attempts are kept and the stats are not rebuilt.",
        numerator="day_refused",
        denominator="day_received",
        max_ratio=max_ratio,
    )


def recount(partitions: Sequence[Partition]) -> sa.Subquery:
    """The stats of ``partitions`` counted again from the stored attempts."""
    attempts = metadata.tables["lti_attempts"]
    correct_submit = sa.and_(attempts.c.attempt_type == "submit", attempts.c.is_correct)
    return (
        sa.select(
            attempts.c.course_id,
            attempts.c.snapshot_date,
            sa.func.count().label("attempts"),
            sa.func.count(sa.distinct(attempts.c.user_id)).label("unique_users"),
            sa.func.sum(sa.case((correct_submit, 1), else_=0)).label("successful_attempts"),
            sa.func.sum(sa.case((attempts.c.attempt_type == "run", 1), else_=0)).label("runs"),
            sa.func.sum(sa.case((attempts.c.attempt_type == "submit", 1), else_=0)).label(
                "submits"
            ),
            sa.func.count(sa.distinct(sa.case((correct_submit, attempts.c.user_id)))).label(
                "solvers"
            ),
        )
        .where(partition_filter(attempts, partitions))
        .group_by(attempts.c.course_id, attempts.c.snapshot_date)
        .subquery()
    )


def _stats_match_recount(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
    counted = recount(partitions)
    joined = table.outerjoin(
        counted,
        sa.and_(
            counted.c.course_id == table.c.course_id,
            counted.c.snapshot_date == table.c.snapshot_date,
        ),
    )

    def differs(stored: Any, expected: Any) -> Any:
        return sa.func.abs(sa.func.coalesce(stored, -1) - sa.func.coalesce(expected, -1)) > 0.006

    submits, attempts = sa.func.coalesce(counted.c.submits, 0), counted.c.attempts
    mismatch = sa.or_(
        *(
            differs(table.c[name], sa.func.coalesce(counted.c[name], 0))
            for name in ("attempts", "unique_users", "successful_attempts", "runs", "submits")
        ),
        differs(table.c.solvers, sa.func.coalesce(counted.c.solvers, 0)),
        differs(
            table.c.success_rate,
            sa.case(
                (submits > 0, sa.func.round(100.0 * counted.c.successful_attempts / submits, 2))
            ),
        ),
        differs(
            table.c.attempts_per_user,
            sa.case((attempts > 0, sa.func.round(1.0 * attempts / counted.c.unique_users, 2))),
        ),
    )
    return (
        sa.select(*table.primary_key.columns, *(table.c[name] for name in STATS_COLUMNS))
        .select_from(joined)
        .where(partition_filter(table, partitions), mismatch)
    )


def attempt_rules(timezone: str, max_rejected_ratio: float) -> list[quality.Rule]:
    """lti_attempts' rules for an API clock and a rejected-ratio threshold (run config)."""
    return [
        quality.unique_key(ATTEMPT_KEY),
        quality.row_condition(
            "is_correct_null_exactly_for_runs",
            "is_correct is NULL for every run and set for every submit; attempt_type is run "
            "or submit.",
            _is_correct_matches_type,
        ),
        created_at_inside_day(timezone),
        rejected_ratio(max_rejected_ratio),
    ]


STATS_RULES = [
    quality.unique_key(COURSE_DAY_KEY),
    quality.in_range(
        {
            **{name: (0, None) for name in STATS_COLUMNS if name != "success_rate"},
            "success_rate": (0.0, 100.0),
        }
    ),
    quality.Rule(
        "stats_match_recount",
        "Every figure equals a recount of the course-day's stored lti_attempts.",
        _stats_match_recount,
        reads=("lti_attempts",),
    ),
]
