"""The quality rules of every Open edX / H5P table, declared once (see quality.py).

Every table here feeds ``raw_data``, so its checks are blocking: a failed
check stops ``raw_data`` from being computed from bad inputs.
"""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets import quality
from lms_assets.openedx.parsing import DISCUSSION_COUNTS
from lms_assets.quality import Rule

PERCENT = (0.0, 100.0)
COUNT = (0.0, None)
LEARNER_KEY = ["course_id", "snapshot_date", "user_id"]
CONTENT_KEY = [*LEARNER_KEY, "content_id"]

RULES: dict[str, list[Rule]] = {
    "mooc_grades": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({"grade_percentage": PERCENT}),
        quality.learners_enrolled(),
    ],
    "mooc_progress": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({"completion_rate": PERCENT}),
        quality.learners_enrolled(),
    ],
    "mooc_discussions": [
        quality.unique_key(LEARNER_KEY),
        quality.in_range({name: COUNT for name in DISCUSSION_COUNTS}),
        quality.learners_enrolled(),
    ],
    "h5p_scores": [
        quality.unique_key(CONTENT_KEY),
        quality.in_range({"percentage": PERCENT, "score": COUNT, "time_spent": COUNT}),
        quality.row_condition(
            "score_within_max_score",
            "score <= max_score for every content.",
            lambda t: t.c.score > t.c.max_score,
        ),
        quality.learners_enrolled(),
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
        quality.learners_enrolled(),
    ],
    "video_progress": [
        quality.unique_key(CONTENT_KEY),
        quality.in_range({"progress_percent": PERCENT, "current_time": COUNT, "duration": COUNT}),
        quality.row_condition(
            "position_within_duration",
            "current_time <= duration for every video.",
            lambda t: t.c.current_time > t.c.duration,
        ),
        quality.learners_enrolled(),
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
        quality.learners_enrolled(),
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
        quality.learners_enrolled(),
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
