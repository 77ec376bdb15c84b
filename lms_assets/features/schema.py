"""``raw_data``: the per-learner feature table across sources (docs/raw_data.md)."""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets.tracking import features as tracking_features
from lms_assets.warehouse.schema import Real, partitioned_table, user_id_column
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported

raw_data = partitioned_table(
    "raw_data",
    user_id_column(),
    sa.Column("mode", sa.String(50)),
    sa.Column("is_active", sa.Boolean),
    sa.Column("enrolled_at", sa.DateTime),
    sa.Column("last_activity", sa.DateTime),
    sa.Column("weeks_since_enrollment", Real),
    sa.Column("days_since_last_activity", sa.Integer),
    sa.Column("h5p_total_contents", sa.Integer),
    sa.Column("h5p_completed_contents", sa.Integer),
    sa.Column("h5p_completion_rate", Real),
    sa.Column("h5p_total_score", Real),
    sa.Column("h5p_total_max_score", Real),
    sa.Column("quiz_avg_score", Real),
    sa.Column("video_total_videos", sa.Integer),
    sa.Column("video_completed_videos", sa.Integer),
    sa.Column("video_completion_rate", Real),
    sa.Column("video_total_watched_time", sa.Integer),
    sa.Column("video_overall_progress", Real),
    sa.Column("overall_completion", Real),
    sa.Column("grade_percentage", Real),
    sa.Column("letter_grade", sa.String(10)),
    sa.Column("completion_rate", Real),
    sa.Column("discussion_threads_count", sa.Integer),
    sa.Column("discussion_comments_count", sa.Integer),
    sa.Column("discussion_total_interactions", sa.Integer),
    sa.Column("discussion_questions_count", sa.Integer),
    sa.Column("discussion_total_upvotes", sa.Integer),
    sa.Column("course_assessment_avg_score", Real),
    sa.Column("course_progress_avg_completion", Real),
    sa.Column("relative_to_course_problem_score", Real),
    sa.Column("relative_to_course_completion", Real),
    sa.Column("performance_percentile", sa.Integer),
    sa.Column("is_below_course_average", sa.Boolean),
    sa.Column("is_top_performer", sa.Boolean),
    sa.Column("is_bottom_performer", sa.Boolean),
    sa.Column("is_passed", sa.Boolean),
    sa.Column("is_dropout", sa.Boolean),
    *tracking_features.feature_columns(),
    comment="Per-learner features and labels as of the end of the partition day (docs/raw_data.md)",
)
