"""The Open edX custom API and H5P tables (seed 000), course x date snapshots."""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets.warehouse.schema import Real, partitioned_table, user_id_column
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported

enrollments = partitioned_table(
    "enrollments",
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("username", sa.String(150)),
    sa.Column("email", sa.String(254)),
    sa.Column("full_name", sa.String(255)),
    sa.Column("mode", sa.String(50)),
    sa.Column("is_active", sa.Boolean),
    sa.Column("enrolled_at", sa.DateTime, comment="the API's `created`, UTC"),
    sa.Column("student_code", sa.String(50), comment="the API's `mssv`"),
    sa.Column("class_code", sa.String(50)),
    comment="Open edX course enrollments (course-enrollments-attributes API), daily snapshot",
)

course_runs = partitioned_table(
    "course_runs",
    sa.Column("course_code", sa.String(255), comment="org+code, shared by every run of it"),
    sa.Column("display_name", sa.String(255)),
    sa.Column("start_date", sa.Date, comment="the run's first day (UTC date of `start`)"),
    sa.Column("end_date", sa.Date, comment="the run's last day (UTC date of `end`)"),
    comment="Each course run's calendar as the API lists it (/courses/), daily snapshot: "
    "what the dropout model's cutoffs and labels are measured against",
)

mooc_grades = partitioned_table(
    "mooc_grades",
    user_id_column(),
    sa.Column("grade_percentage", Real, comment="0-100"),
    sa.Column("letter_grade", sa.String(10)),
    sa.Column("is_passed", sa.Boolean),
    comment="Open edX export/student-grades, daily snapshot",
)

mooc_progress = partitioned_table(
    "mooc_progress",
    user_id_column(),
    sa.Column("current_chapter", sa.String(255)),
    sa.Column("current_section", sa.String(255)),
    sa.Column("current_unit", sa.String(255)),
    sa.Column("completion_rate", Real, comment="0-100"),
    sa.Column("last_activity", sa.DateTime, comment="UTC"),
    comment="Open edX export/student-progress, daily snapshot",
)

mooc_discussions = partitioned_table(
    "mooc_discussions",
    user_id_column(),
    sa.Column("threads_count", sa.Integer),
    sa.Column("comments_count", sa.Integer),
    sa.Column("total_interactions", sa.Integer),
    sa.Column("questions_count", sa.Integer),
    sa.Column("total_upvotes", sa.Integer),
    comment="Open edX export/student-discussions, daily snapshot",
)

h5p_scores = partitioned_table(
    "h5p_scores",
    user_id_column(),
    sa.Column("content_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("score", Real),
    sa.Column("max_score", Real),
    sa.Column("percentage", Real, comment="0-100"),
    sa.Column("opened", sa.Boolean),
    sa.Column("finished", sa.Boolean),
    sa.Column("time_spent", sa.Integer, comment="seconds (the API's `time`)"),
    comment="H5P scores per learner and content, daily snapshot",
)

h5p_scores_summary = partitioned_table(
    "h5p_scores_summary",
    user_id_column(),
    sa.Column("total_contents", sa.Integer),
    sa.Column("completed_contents", sa.Integer),
    sa.Column("total_score", Real),
    sa.Column("total_max_score", Real),
    sa.Column("overall_percentage", Real, comment="0-100"),
    comment="H5P score summary per learner, daily snapshot",
)

video_progress = partitioned_table(
    "video_progress",
    user_id_column(),
    sa.Column("content_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("progress_percent", Real, comment="0-100"),
    sa.Column("current_time", sa.Integer, comment="seconds watched up to"),
    sa.Column("duration", sa.Integer, comment="seconds"),
    sa.Column("status", sa.String(32)),
    comment="H5P video progress per learner and video, daily snapshot",
)

video_progress_summary = partitioned_table(
    "video_progress_summary",
    user_id_column(),
    sa.Column("total_videos", sa.Integer),
    sa.Column("completed_videos", sa.Integer),
    sa.Column("in_progress_videos", sa.Integer),
    sa.Column("total_watched_time", sa.Integer, comment="seconds"),
    sa.Column("overall_progress", Real, comment="0-100"),
    comment="H5P video progress summary per learner, daily snapshot",
)

dashboard_summary = partitioned_table(
    "dashboard_summary",
    user_id_column(),
    sa.Column("overall_completion", Real, comment="0-100"),
    sa.Column("total_items", sa.Integer),
    sa.Column("completed_items", sa.Integer),
    sa.Column("h5p_total_contents", sa.Integer),
    sa.Column("h5p_completed_contents", sa.Integer),
    sa.Column("h5p_overall_percentage", Real),
    sa.Column("video_total_videos", sa.Integer),
    sa.Column("video_completed_videos", sa.Integer),
    sa.Column("video_overall_progress", Real),
    sa.Column("answered_by", sa.String(32), comment="combined-progress or dashboard"),
    comment="H5P combined progress per learner (dashboard endpoint as fallback)",
)

course_stats_benchmarks = partitioned_table(
    "course_stats_benchmarks",
    sa.Column("activity_avg_score", Real),
    sa.Column("assessment_avg_score", Real),
    sa.Column("progress_avg_completion", Real),
    sa.Column("total_students", sa.Integer),
    sa.Column("grade_p10", Real),
    sa.Column("grade_p25", Real),
    sa.Column("grade_p50", Real),
    sa.Column("grade_p75", Real),
    sa.Column("grade_p90", Real),
    sa.Column("grade_distribution", sa.Text, comment="JSON [{range, count}]"),
    sa.Column("activity_source", sa.String(16), comment="api | computed"),
    sa.Column("assessment_source", sa.String(16), comment="api | computed"),
    sa.Column("progress_source", sa.String(16), comment="api | computed"),
    comment="Course averages from the stats API, or computed from our tables when it fails",
)
