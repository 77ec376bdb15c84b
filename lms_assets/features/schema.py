"""``raw_data``: the per-learner feature table across sources (docs/raw_data.md)."""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets.tracking import features as tracking_features
from lms_assets.warehouse.schema import Real, partitioned_table, user_id_column
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported

raw_data = partitioned_table(
    "raw_data",
    user_id_column(),
    sa.Column(
        "mode", sa.String(50), info={"description": "enrollment mode (audit, verified, honor, ...)"}
    ),
    sa.Column("is_active", sa.Boolean, info={"description": "enrollment is active"}),
    sa.Column("enrolled_at", sa.DateTime, info={"description": "when the learner enrolled (UTC)"}),
    sa.Column(
        "last_activity",
        sa.DateTime,
        info={"description": "last activity in the course (UTC), from the progress export"},
    ),
    sa.Column(
        "weeks_since_enrollment",
        Real,
        info={"description": "weeks from enrolment to the end of the day, 2 dp"},
    ),
    sa.Column(
        "days_since_last_activity",
        sa.Integer,
        info={
            "description": "whole days from the last activity to the end of the day; "
            "NULL if never active"
        },
    ),
    sa.Column("h5p_total_contents", sa.Integer, info={"description": "H5P contents of the course"}),
    sa.Column(
        "h5p_completed_contents",
        sa.Integer,
        info={"description": "H5P contents the learner completed"},
    ),
    sa.Column(
        "h5p_completion_rate",
        Real,
        info={"description": "% of H5P contents completed; NULL without H5P data"},
    ),
    sa.Column("h5p_total_score", Real, info={"description": "H5P points scored"}),
    sa.Column("h5p_total_max_score", Real, info={"description": "H5P points available"}),
    sa.Column("quiz_avg_score", Real, info={"description": "H5P overall percentage (%)"}),
    sa.Column("video_total_videos", sa.Integer, info={"description": "H5P videos of the course"}),
    sa.Column(
        "video_completed_videos", sa.Integer, info={"description": "videos the learner completed"}
    ),
    sa.Column(
        "video_completion_rate",
        Real,
        info={"description": "% of videos completed; NULL without videos"},
    ),
    sa.Column(
        "video_total_watched_time", sa.Integer, info={"description": "seconds of video watched"}
    ),
    sa.Column("video_overall_progress", Real, info={"description": "overall video progress (%)"}),
    sa.Column(
        "overall_completion",
        Real,
        info={"description": "combined-progress (or dashboard) overall completion (%)"},
    ),
    sa.Column("grade_percentage", Real, info={"description": "course grade (%)"}),
    sa.Column("letter_grade", sa.String(10), info={"description": "course letter grade"}),
    sa.Column("completion_rate", Real, info={"description": "course completion (%)"}),
    sa.Column(
        "discussion_threads_count", sa.Integer, info={"description": "forum threads started"}
    ),
    sa.Column(
        "discussion_comments_count", sa.Integer, info={"description": "forum comments written"}
    ),
    sa.Column(
        "discussion_total_interactions",
        sa.Integer,
        info={"description": "threads + comments + upvotes"},
    ),
    sa.Column(
        "discussion_questions_count", sa.Integer, info={"description": "forum questions asked"}
    ),
    sa.Column("discussion_total_upvotes", sa.Integer, info={"description": "upvotes given"}),
    sa.Column(
        "course_assessment_avg_score",
        Real,
        info={"description": "the course's average assessment score (%)"},
    ),
    sa.Column(
        "course_progress_avg_completion",
        Real,
        info={"description": "the course's average completion (%)"},
    ),
    sa.Column(
        "relative_to_course_problem_score",
        Real,
        info={"description": "grade minus the course's average assessment score (points)"},
    ),
    sa.Column(
        "relative_to_course_completion",
        Real,
        info={"description": "completion minus the course's average completion (points)"},
    ),
    sa.Column(
        "performance_percentile",
        sa.Integer,
        info={
            "description": "bucket of the share of graded learners with a lower grade: "
            "90, 75, 50, 25 or 10"
        },
    ),
    sa.Column(
        "is_below_course_average",
        sa.Boolean,
        info={"description": "grade below the course's average assessment score"},
    ),
    sa.Column(
        "is_top_performer",
        sa.Boolean,
        info={"description": "top 25% of the course by grade"},
    ),
    sa.Column(
        "is_bottom_performer",
        sa.Boolean,
        info={"description": "bottom 25% of the course by grade"},
    ),
    sa.Column(
        "is_passed",
        sa.Boolean,
        info={"description": "label: is_passed of the grades export; NULL when not graded"},
    ),
    sa.Column(
        "is_dropout",
        sa.Boolean,
        info={
            "description": "label: inactive and idle over 30 days (true), active or idle "
            "under 7 days (false), else NULL"
        },
    ),
    *tracking_features.feature_columns(),
    comment="Per-learner features and labels as of the end of the partition day (docs/raw_data.md)",
)
