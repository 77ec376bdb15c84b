"""baseline: the warehouse as the last release without migrations created it

Revision ID: 0001
Revises:
Create Date: 2026-12-01 18:05:10.672692

Generated with autogenerate against an empty database from schema.py at main@aacb7bb,
then reviewed. FROZEN: it must never change, whatever schema.py becomes; changes go in
new revisions. ``upgrade_warehouse`` also replays it to check warehouses created before
migrations existed, so it may only call ``op.create_table``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# Copies of schema.py's CourseIdType and MYSQL_TABLE_OPTIONS as of this revision (never
# import them: they may change). Course ids are case-sensitive, hence utf8mb4_bin.
COURSE_ID = sa.String(length=255).with_variant(
    mysql.VARCHAR(length=255, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def upgrade() -> None:
    op.create_table(
        "activity_counts",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("file_views", sa.Integer(), nullable=False),
        sa.Column("video_views", sa.Integer(), nullable=False),
        sa.Column("forum_views", sa.Integer(), nullable=False),
        sa.Column("quiz_views", sa.Integer(), nullable=False),
        sa.Column("assignment_views", sa.Integer(), nullable=False),
        sa.Column("url_views", sa.Integer(), nullable=False),
        sa.Column(
            "total_views", sa.Integer(), nullable=False, comment="sum of the six view columns"
        ),
        sa.Column("active_days", sa.Integer(), nullable=False, comment="days with a view (0 or 1)"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="Moodle module views of the day by component (logstore_standard_log)",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "course_stats_benchmarks",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("activity_avg_score", sa.Double(), nullable=True),
        sa.Column("assessment_avg_score", sa.Double(), nullable=True),
        sa.Column("progress_avg_completion", sa.Double(), nullable=True),
        sa.Column("total_students", sa.Integer(), nullable=True),
        sa.Column("grade_p10", sa.Double(), nullable=True),
        sa.Column("grade_p25", sa.Double(), nullable=True),
        sa.Column("grade_p50", sa.Double(), nullable=True),
        sa.Column("grade_p75", sa.Double(), nullable=True),
        sa.Column("grade_p90", sa.Double(), nullable=True),
        sa.Column("grade_distribution", sa.Text(), nullable=True, comment="JSON [{range, count}]"),
        sa.Column("activity_source", sa.String(length=16), nullable=True, comment="api | computed"),
        sa.Column(
            "assessment_source", sa.String(length=16), nullable=True, comment="api | computed"
        ),
        sa.Column("progress_source", sa.String(length=16), nullable=True, comment="api | computed"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="Course averages from the stats API, or computed from our tables when it fails",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "dashboard_summary",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("overall_completion", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("total_items", sa.Integer(), nullable=True),
        sa.Column("completed_items", sa.Integer(), nullable=True),
        sa.Column("h5p_total_contents", sa.Integer(), nullable=True),
        sa.Column("h5p_completed_contents", sa.Integer(), nullable=True),
        sa.Column("h5p_overall_percentage", sa.Double(), nullable=True),
        sa.Column("video_total_videos", sa.Integer(), nullable=True),
        sa.Column("video_completed_videos", sa.Integer(), nullable=True),
        sa.Column("video_overall_progress", sa.Double(), nullable=True),
        sa.Column(
            "answered_by",
            sa.String(length=32),
            nullable=True,
            comment="combined-progress or dashboard",
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="H5P combined progress per learner (dashboard endpoint as fallback)",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "enrollments",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=150), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("full_name", sa.String(length=255), nullable=True),
        sa.Column("mode", sa.String(length=50), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(), nullable=True, comment="the API's `created`, UTC"),
        sa.Column("student_code", sa.String(length=50), nullable=True, comment="the API's `mssv`"),
        sa.Column("class_code", sa.String(length=50), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Open edX course enrollments (course-enrollments-attributes API), daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "h5p_scores",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("content_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("score", sa.Double(), nullable=True),
        sa.Column("max_score", sa.Double(), nullable=True),
        sa.Column("percentage", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("opened", sa.Boolean(), nullable=True),
        sa.Column("finished", sa.Boolean(), nullable=True),
        sa.Column("time_spent", sa.Integer(), nullable=True, comment="seconds (the API's `time`)"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id", "content_id"),
        comment="H5P scores per learner and content, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "h5p_scores_summary",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("total_contents", sa.Integer(), nullable=True),
        sa.Column("completed_contents", sa.Integer(), nullable=True),
        sa.Column("total_score", sa.Double(), nullable=True),
        sa.Column("total_max_score", sa.Double(), nullable=True),
        sa.Column("overall_percentage", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="H5P score summary per learner, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "learner_daily_activity",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column(
            "active_minutes",
            sa.Double(),
            nullable=True,
            comment="sum of gaps between events, each capped at 5 min",
        ),
        sa.Column("sessions", sa.Integer(), nullable=True),
        sa.Column("video_plays", sa.Integer(), nullable=True),
        sa.Column("video_pauses", sa.Integer(), nullable=True),
        sa.Column("video_seeks", sa.Integer(), nullable=True),
        sa.Column("problem_checks", sa.Integer(), nullable=True),
        sa.Column("problem_correct", sa.Integer(), nullable=True),
        sa.Column("forum_posts", sa.Integer(), nullable=True),
        sa.Column("pages_viewed", sa.Integer(), nullable=True),
        sa.Column(
            "last_event_at",
            sa.DateTime(),
            nullable=True,
            comment="UTC time of the day's last event",
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Per learner and day, from tracking_events",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "mooc_discussions",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("threads_count", sa.Integer(), nullable=True),
        sa.Column("comments_count", sa.Integer(), nullable=True),
        sa.Column("total_interactions", sa.Integer(), nullable=True),
        sa.Column("questions_count", sa.Integer(), nullable=True),
        sa.Column("total_upvotes", sa.Integer(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Open edX export/student-discussions, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "mooc_grades",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("grade_percentage", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("letter_grade", sa.String(length=10), nullable=True),
        sa.Column("is_passed", sa.Boolean(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Open edX export/student-grades, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "mooc_progress",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("current_chapter", sa.String(length=255), nullable=True),
        sa.Column("current_section", sa.String(length=255), nullable=True),
        sa.Column("current_unit", sa.String(length=255), nullable=True),
        sa.Column("completion_rate", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("last_activity", sa.DateTime(), nullable=True, comment="UTC"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Open edX export/student-progress, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "problem_activity",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("problem_id", sa.String(length=255), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, comment="server problem_check events"),
        sa.Column(
            "correct_rate", sa.Double(), nullable=True, comment="% of checks answered correctly"
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "problem_id"),
        comment="Per problem and day, from tracking_events",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "raw_data",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("mode", sa.String(length=50), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("enrolled_at", sa.DateTime(), nullable=True),
        sa.Column("last_activity", sa.DateTime(), nullable=True),
        sa.Column("weeks_since_enrollment", sa.Double(), nullable=True),
        sa.Column("days_since_last_activity", sa.Integer(), nullable=True),
        sa.Column("h5p_total_contents", sa.Integer(), nullable=True),
        sa.Column("h5p_completed_contents", sa.Integer(), nullable=True),
        sa.Column("h5p_completion_rate", sa.Double(), nullable=True),
        sa.Column("h5p_total_score", sa.Double(), nullable=True),
        sa.Column("h5p_total_max_score", sa.Double(), nullable=True),
        sa.Column("quiz_avg_score", sa.Double(), nullable=True),
        sa.Column("video_total_videos", sa.Integer(), nullable=True),
        sa.Column("video_completed_videos", sa.Integer(), nullable=True),
        sa.Column("video_completion_rate", sa.Double(), nullable=True),
        sa.Column("video_total_watched_time", sa.Integer(), nullable=True),
        sa.Column("video_overall_progress", sa.Double(), nullable=True),
        sa.Column("overall_completion", sa.Double(), nullable=True),
        sa.Column("grade_percentage", sa.Double(), nullable=True),
        sa.Column("letter_grade", sa.String(length=10), nullable=True),
        sa.Column("completion_rate", sa.Double(), nullable=True),
        sa.Column("discussion_threads_count", sa.Integer(), nullable=True),
        sa.Column("discussion_comments_count", sa.Integer(), nullable=True),
        sa.Column("discussion_total_interactions", sa.Integer(), nullable=True),
        sa.Column("discussion_questions_count", sa.Integer(), nullable=True),
        sa.Column("discussion_total_upvotes", sa.Integer(), nullable=True),
        sa.Column("course_assessment_avg_score", sa.Double(), nullable=True),
        sa.Column("course_progress_avg_completion", sa.Double(), nullable=True),
        sa.Column("relative_to_course_problem_score", sa.Double(), nullable=True),
        sa.Column("relative_to_course_completion", sa.Double(), nullable=True),
        sa.Column("performance_percentile", sa.Integer(), nullable=True),
        sa.Column("is_below_course_average", sa.Boolean(), nullable=True),
        sa.Column("is_top_performer", sa.Boolean(), nullable=True),
        sa.Column("is_bottom_performer", sa.Boolean(), nullable=True),
        sa.Column("is_passed", sa.Boolean(), nullable=True),
        sa.Column("is_dropout", sa.Boolean(), nullable=True),
        sa.Column("tracking_active_days_30d", sa.Integer(), nullable=True),
        sa.Column("tracking_events_7d", sa.Integer(), nullable=True),
        sa.Column("tracking_events_30d", sa.Integer(), nullable=True),
        sa.Column("tracking_video_plays_30d", sa.Integer(), nullable=True),
        sa.Column("tracking_problem_checks_30d", sa.Integer(), nullable=True),
        sa.Column("tracking_problem_correct_30d", sa.Integer(), nullable=True),
        sa.Column("tracking_last_event_at", sa.DateTime(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Per-learner features and labels as of the end of the partition day "
        "(docs/raw_data.md)",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "rejected_records",
        sa.Column("asset_name", sa.String(length=64), nullable=False),
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True, comment="the record as received, JSON"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("asset_name", "course_id", "snapshot_date", "seq"),
        comment="Input records an asset refused, with the reason; replaced with the partition",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tracking_events",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column(
            "event_id", sa.String(length=40), nullable=False, comment="sha1 of the event's JSON"
        ),
        sa.Column("time", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=150), nullable=True),
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("event_source", sa.String(length=32), nullable=True),
        sa.Column("session", sa.String(length=64), nullable=True),
        sa.Column("page", sa.String(length=1000), nullable=True),
        sa.Column("module_id", sa.String(length=255), nullable=True),
        sa.Column("video_position", sa.Double(), nullable=True, comment="seconds"),
        sa.Column("problem_id", sa.String(length=255), nullable=True),
        sa.Column("problem_success", sa.Boolean(), nullable=True),
        sa.Column("problem_attempts", sa.Integer(), nullable=True),
        sa.Column("discussion_id", sa.String(length=255), nullable=True),
        sa.Column(
            "course_from",
            sa.String(length=16),
            nullable=True,
            comment="context, page or event_type",
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "event_id"),
        comment="Open edX tracking-log events of a course and day, typed and de-duplicated",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tracking_quarantine",
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("line_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column("raw_line", sa.Text(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("snapshot_date", "file_name", "line_number"),
        comment="Tracking-log lines that could not be read as events, with the reason",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tracking_split_counts",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column(
            "events", sa.Integer(), nullable=False, comment="event lines split to the course"
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="What the daily split of the tracking logs counted per course",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "user_activity",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column(
            "category_idnumber",
            sa.String(length=100),
            nullable=True,
            comment="seed 001's course_id",
        ),
        sa.Column(
            "id_number", sa.String(length=100), nullable=True, comment="the course's idnumber"
        ),
        sa.Column("course_name", sa.String(length=255), nullable=True),
        sa.Column("course_shortname", sa.String(length=255), nullable=True),
        sa.Column(
            "num_teachers",
            sa.Integer(),
            nullable=True,
            comment="NULL when no user_counts snapshot that day",
        ),
        sa.Column(
            "num_students",
            sa.Integer(),
            nullable=True,
            comment="NULL when no user_counts snapshot that day",
        ),
        sa.Column("file_views", sa.Integer(), nullable=True),
        sa.Column("video_views", sa.Integer(), nullable=True),
        sa.Column("forum_views", sa.Integer(), nullable=True),
        sa.Column("quiz_views", sa.Integer(), nullable=True),
        sa.Column("assignment_views", sa.Integer(), nullable=True),
        sa.Column("url_views", sa.Integer(), nullable=True),
        sa.Column("total_views", sa.Integer(), nullable=True),
        sa.Column(
            "avg_activity_per_student_per_day", sa.Numeric(precision=10, scale=2), nullable=True
        ),
        sa.Column("active_days", sa.Integer(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="Seed 001's merged course activity report "
        "(visible courses with a category idnumber)",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "user_counts",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("num_students", sa.Integer(), nullable=False),
        sa.Column("num_teachers", sa.Integer(), nullable=False),
        sa.Column(
            "student_role_ids",
            sa.String(length=100),
            nullable=True,
            comment="role ids counted as students",
        ),
        sa.Column(
            "teacher_role_ids",
            sa.String(length=100),
            nullable=True,
            comment="role ids counted as teachers",
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="Moodle students and teachers in the course context, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "video_engagement",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("video_id", sa.String(length=255), nullable=False),
        sa.Column("viewers", sa.Integer(), nullable=False),
        sa.Column("plays", sa.Integer(), nullable=False),
        sa.Column(
            "completion_estimate",
            sa.Double(),
            nullable=True,
            comment="% of viewers reaching 90% of the furthest position",
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "video_id"),
        comment="Per video and day, from tracking_events",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "video_progress",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("content_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("progress_percent", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("current_time", sa.Integer(), nullable=True, comment="seconds watched up to"),
        sa.Column("duration", sa.Integer(), nullable=True, comment="seconds"),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id", "content_id"),
        comment="H5P video progress per learner and video, daily snapshot",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "video_progress_summary",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("total_videos", sa.Integer(), nullable=True),
        sa.Column("completed_videos", sa.Integer(), nullable=True),
        sa.Column("in_progress_videos", sa.Integer(), nullable=True),
        sa.Column("total_watched_time", sa.Integer(), nullable=True, comment="seconds"),
        sa.Column("overall_progress", sa.Double(), nullable=True, comment="0-100"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="H5P video progress summary per learner, daily snapshot",
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("video_progress_summary")
    op.drop_table("video_progress")
    op.drop_table("video_engagement")
    op.drop_table("user_counts")
    op.drop_table("user_activity")
    op.drop_table("tracking_split_counts")
    op.drop_table("tracking_quarantine")
    op.drop_table("tracking_events")
    op.drop_table("rejected_records")
    op.drop_table("raw_data")
    op.drop_table("problem_activity")
    op.drop_table("mooc_progress")
    op.drop_table("mooc_grades")
    op.drop_table("mooc_discussions")
    op.drop_table("learner_daily_activity")
    op.drop_table("h5p_scores_summary")
    op.drop_table("h5p_scores")
    op.drop_table("enrollments")
    op.drop_table("dashboard_summary")
    op.drop_table("course_stats_benchmarks")
    op.drop_table("activity_counts")
