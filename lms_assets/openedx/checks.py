"""The quality rules of every Open edX / H5P table, declared once (see quality.py).

Every table here feeds ``raw_data``, so its checks are blocking: a failed
check stops ``raw_data`` from being computed from bad inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import sqlalchemy as sa

from lms_assets import quality
from lms_assets.errors import ReasonCode
from lms_assets.openedx.parsing import DISCUSSION_COUNTS
from lms_assets.partitions import Partition
from lms_assets.quality import Rule
from lms_assets.warehouse import partition_filter
from lms_assets.warehouse.schema import metadata

PERCENT = (0.0, 100.0)
COUNT = (0.0, None)
LEARNER_KEY = ["course_id", "snapshot_date", "user_id"]
CONTENT_KEY = [*LEARNER_KEY, "content_id"]
# Thresholds of the two load-ratio checks every table read from the API gets (blocking):
# a few bad records a day are the source's noise; more means its format changed.
MAX_REJECTION_RATIO = 0.05
MAX_NULLED_FIELD_RATIO = 0.05
API_RATIOS = [
    quality.rejection_ratio_at_most(MAX_REJECTION_RATIO),
    quality.nulled_field_ratio_at_most(MAX_NULLED_FIELD_RATIO),
]


def _row_count_within_enrollments() -> Rule:
    """A per-learner table has no more rows than the course has enrolled learners.

    An export with no row for an enrolled course is allowed: a new course has no grades
    yet. The case that matters, an API whose every record is unusable, fails
    ``rejection_ratio`` instead.
    """

    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        enrollments = metadata.tables["enrollments"]

        def per_partition(t: sa.Table, label: str) -> sa.Subquery:
            return (
                sa.select(t.c.course_id, t.c.snapshot_date, sa.func.count().label(label))
                .where(partition_filter(t, partitions))
                .group_by(t.c.course_id, t.c.snapshot_date)
                .subquery()
            )

        enrolled, stored = per_partition(enrollments, "enrolled"), per_partition(table, "rows")
        rows = sa.func.coalesce(stored.c.rows, 0)
        joined = enrolled.outerjoin(
            stored,
            sa.and_(
                stored.c.course_id == enrolled.c.course_id,
                stored.c.snapshot_date == enrolled.c.snapshot_date,
            ),
        )
        return (
            sa.select(enrolled.c.course_id, enrolled.c.snapshot_date, enrolled.c.enrolled)
            .add_columns(rows.label("rows"))
            .select_from(joined)
            .where(rows > enrolled.c.enrolled)
        )

    return Rule(
        "row_count_within_enrollments",
        "No more rows per partition than enrolled learners.",
        query,
    )


ROWS_WITHIN_ENROLLMENTS = _row_count_within_enrollments()
LEARNERS_ENROLLED = quality.references(
    "enrollments",
    LEARNER_KEY,
    "learners_enrolled",
    "Every learner row references an enrollment of the same course and day.",
)

RULES: dict[str, list[Rule]] = {
    "enrollments": [
        quality.unique_key(LEARNER_KEY).also(
            quality.rejected_as(ReasonCode.DUPLICATE_KEY, "user_id"),
            name="user_id_unique",
            description="Each learner appears once per course and day, in the API's answer and "
            "in the table (duplicates from the API are rejected and kept).",
        ),
        quality.not_null("user_id").also(
            quality.rejected_as(ReasonCode.MISSING, "user_id"),
            name="user_id_not_null",
            description="Every enrollment the API returned had a user_id, and no stored row "
            "lacks one.",
        ),
        replace(
            quality.rows_match_source_total("api_total"),
            name="row_count_matches_api_total",
            description="Rows stored per course equal the `count` the API reported: "
            "nothing lost to pagination or rejection.",
        ),
        replace(
            quality.rows_match_source_total("records_served"),
            name="row_count_matches_records_served",
            description="Rows stored per course equal the records the API's pages served "
            "(following `next` to its end): nothing lost to rejection, and with the check "
            "above, a `count` that disagrees with the pages shows.",
        ),
        # A gate: an answer with more than 5% unusable records keeps the stored enrollments.
        quality.rejection_ratio_at_most(MAX_REJECTION_RATIO),
    ],
    "mooc_grades": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({"grade_percentage": PERCENT}),
        LEARNERS_ENROLLED,
        ROWS_WITHIN_ENROLLMENTS,
        *API_RATIOS,
    ],
    "mooc_progress": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({"completion_rate": PERCENT}),
        LEARNERS_ENROLLED,
        ROWS_WITHIN_ENROLLMENTS,
        *API_RATIOS,
    ],
    "mooc_discussions": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({name: COUNT for name in DISCUSSION_COUNTS}),
        LEARNERS_ENROLLED,
        ROWS_WITHIN_ENROLLMENTS,
        *API_RATIOS,
    ],
    "h5p_scores": [
        quality.unique_key(CONTENT_KEY),
        quality.in_range({"percentage": PERCENT, "score": COUNT, "time_spent": COUNT}),
        quality.row_condition(
            "score_within_max_score",
            "score <= max_score for every content.",
            lambda t: t.c.score > t.c.max_score,
        ),
        LEARNERS_ENROLLED,
        *API_RATIOS,
    ],
    "h5p_scores_summary": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range(
            {"overall_percentage": PERCENT, "total_contents": COUNT, "completed_contents": COUNT}
        ),
        quality.row_condition(
            "completed_within_total",
            "completed_contents <= total_contents and total_score <= total_max_score.",
            lambda t: sa.or_(
                t.c.completed_contents > t.c.total_contents, t.c.total_score > t.c.total_max_score
            ),
        ),
        quality.summary_matches_detail(
            "h5p_scores",
            {
                "completed_contents": lambda d: sa.func.sum(sa.case((d.c.finished, 1), else_=0)),
                "total_score": lambda d: sa.func.sum(d.c.score),
            },
        ),
        LEARNERS_ENROLLED,
        ROWS_WITHIN_ENROLLMENTS,
        *API_RATIOS,
    ],
    "video_progress": [
        quality.unique_key(CONTENT_KEY),
        quality.in_range({"progress_percent": PERCENT, "current_time": COUNT, "duration": COUNT}),
        quality.row_condition(
            "position_within_duration",
            "current_time <= duration for every video.",
            lambda t: t.c.current_time > t.c.duration,
        ),
        LEARNERS_ENROLLED,
        *API_RATIOS,
    ],
    "video_progress_summary": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({"overall_progress": PERCENT, "total_videos": COUNT}),
        quality.summary_matches_detail(
            "video_progress",
            {
                "completed_videos": lambda d: sa.func.sum(
                    sa.case((d.c.status == "completed", 1), else_=0)
                ),
                "in_progress_videos": lambda d: sa.func.sum(
                    sa.case((d.c.status == "in_progress", 1), else_=0)
                ),
                "total_watched_time": lambda d: sa.func.sum(d.c.current_time),
            },
        ),
        LEARNERS_ENROLLED,
        ROWS_WITHIN_ENROLLMENTS,
        *API_RATIOS,
    ],
    "dashboard_summary": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({"overall_completion": PERCENT, "total_items": COUNT}),
        quality.row_condition(
            "completed_within_total",
            "completed_items <= total_items.",
            lambda t: t.c.completed_items > t.c.total_items,
        ),
        quality.not_null("answered_by"),
        LEARNERS_ENROLLED,
        ROWS_WITHIN_ENROLLMENTS,
        *API_RATIOS,
    ],
    "course_stats_benchmarks": [
        quality.unique_key(["course_id", "snapshot_date"]),
        quality.in_range(
            {
                "activity_avg_score": PERCENT,
                "assessment_avg_score": PERCENT,
                "progress_avg_completion": PERCENT,
                "total_students": COUNT,
            }
        ),
        quality.not_null("activity_source", "assessment_source", "progress_source"),
    ],
}
