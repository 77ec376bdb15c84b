"""The warehouse schema, declared once (SQLAlchemy Core) for SQLite and MySQL/MariaDB.

Every table carries its partition columns (``course_id``, ``snapshot_date``) and
``loaded_at``, and declares its primary key at its grain, so a partition can be
replaced with one DELETE and the key itself forbids duplicates.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

metadata = sa.MetaData()

# Course ids are case-sensitive in every LMS we read; MySQL's default collation is not.
CourseIdType = sa.String(255).with_variant(
    mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
# DOUBLE on MySQL (sa.Float would be single-precision FLOAT there).
Real = sa.Double()

MYSQL_TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _partition_columns() -> list[sa.Column]:
    return [
        sa.Column("course_id", CourseIdType, primary_key=True, nullable=False),
        sa.Column("snapshot_date", sa.Date, primary_key=True, nullable=False),
    ]


def _loaded_at() -> sa.Column:
    return sa.Column("loaded_at", sa.DateTime, nullable=False, comment="UTC time of the write")


def partitioned_table(name: str, *columns: sa.Column, comment: str) -> sa.Table:
    """A course × date table: partition columns first, ``loaded_at`` last."""
    return sa.Table(
        name,
        metadata,
        *_partition_columns(),
        *columns,
        _loaded_at(),
        comment=comment,
        **MYSQL_TABLE_OPTIONS,
    )


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

rejected_records = sa.Table(
    "rejected_records",
    metadata,
    sa.Column("asset_name", sa.String(64), primary_key=True),
    *_partition_columns(),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("record_key", sa.String(255)),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column(
        "reason_code",
        sa.String(64),
        comment="what kind of problem: missing, not_a_number, out_of_range, duplicate_key, ...",
    ),
    sa.Column("field", sa.String(64), comment="the source field the reason is about"),
    sa.Column("payload", sa.Text, comment="the record as received, JSON"),
    _loaded_at(),
    comment="Input records an asset refused, with the reason; replaced with the partition",
    **MYSQL_TABLE_OPTIONS,
)


def _user_id() -> sa.Column:
    return sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False)


mooc_grades = partitioned_table(
    "mooc_grades",
    _user_id(),
    sa.Column("grade_percentage", Real, comment="0-100"),
    sa.Column("letter_grade", sa.String(10)),
    sa.Column("is_passed", sa.Boolean),
    comment="Open edX export/student-grades, daily snapshot",
)

mooc_progress = partitioned_table(
    "mooc_progress",
    _user_id(),
    sa.Column("current_chapter", sa.String(255)),
    sa.Column("current_section", sa.String(255)),
    sa.Column("current_unit", sa.String(255)),
    sa.Column("completion_rate", Real, comment="0-100"),
    sa.Column("last_activity", sa.DateTime, comment="UTC"),
    comment="Open edX export/student-progress, daily snapshot",
)

mooc_discussions = partitioned_table(
    "mooc_discussions",
    _user_id(),
    sa.Column("threads_count", sa.Integer),
    sa.Column("comments_count", sa.Integer),
    sa.Column("total_interactions", sa.Integer),
    sa.Column("questions_count", sa.Integer),
    sa.Column("total_upvotes", sa.Integer),
    comment="Open edX export/student-discussions, daily snapshot",
)

h5p_scores = partitioned_table(
    "h5p_scores",
    _user_id(),
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
    _user_id(),
    sa.Column("total_contents", sa.Integer),
    sa.Column("completed_contents", sa.Integer),
    sa.Column("total_score", Real),
    sa.Column("total_max_score", Real),
    sa.Column("overall_percentage", Real, comment="0-100"),
    comment="H5P score summary per learner, daily snapshot",
)

video_progress = partitioned_table(
    "video_progress",
    _user_id(),
    sa.Column("content_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("progress_percent", Real, comment="0-100"),
    sa.Column("current_time", sa.Integer, comment="seconds watched up to"),
    sa.Column("duration", sa.Integer, comment="seconds"),
    sa.Column("status", sa.String(32)),
    comment="H5P video progress per learner and video, daily snapshot",
)

video_progress_summary = partitioned_table(
    "video_progress_summary",
    _user_id(),
    sa.Column("total_videos", sa.Integer),
    sa.Column("completed_videos", sa.Integer),
    sa.Column("in_progress_videos", sa.Integer),
    sa.Column("total_watched_time", sa.Integer, comment="seconds"),
    sa.Column("overall_progress", Real, comment="0-100"),
    comment="H5P video progress summary per learner, daily snapshot",
)

dashboard_summary = partitioned_table(
    "dashboard_summary",
    _user_id(),
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

raw_data = partitioned_table(
    "raw_data",
    _user_id(),
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
    # From the tracking logs; NULL when the course has no tracking data in the window.
    sa.Column("tracking_active_days_30d", sa.Integer),
    sa.Column("tracking_events_7d", sa.Integer),
    sa.Column("tracking_events_30d", sa.Integer),
    sa.Column("tracking_video_plays_30d", sa.Integer),
    sa.Column("tracking_problem_checks_30d", sa.Integer),
    sa.Column("tracking_problem_correct_30d", sa.Integer),
    sa.Column("tracking_last_event_at", sa.DateTime),
    comment="Per-learner features and labels as of the end of the partition day (docs/raw_data.md)",
)


# -- Moodle (seed 001); course_id is Moodle's numeric course id, as text -------------------------
VIEW_COLUMNS = (
    "file_views",
    "video_views",
    "forum_views",
    "quiz_views",
    "assignment_views",
    "url_views",
)

activity_counts = partitioned_table(
    "activity_counts",
    *(sa.Column(name, sa.Integer, nullable=False) for name in VIEW_COLUMNS),
    sa.Column("total_views", sa.Integer, nullable=False, comment="sum of the six view columns"),
    sa.Column("active_days", sa.Integer, nullable=False, comment="days with a view (0 or 1)"),
    comment="Moodle module views of the day by component (logstore_standard_log)",
)

user_counts = partitioned_table(
    "user_counts",
    sa.Column("num_students", sa.Integer, nullable=False),
    sa.Column("num_teachers", sa.Integer, nullable=False),
    sa.Column("student_role_ids", sa.String(100), comment="role ids counted as students"),
    sa.Column("teacher_role_ids", sa.String(100), comment="role ids counted as teachers"),
    comment="Moodle students and teachers in the course context, daily snapshot",
)

user_activity = partitioned_table(
    "user_activity",
    sa.Column("category_idnumber", sa.String(100), comment="seed 001's course_id"),
    sa.Column("id_number", sa.String(100), comment="the course's idnumber"),
    sa.Column("course_name", sa.String(255)),
    sa.Column("course_shortname", sa.String(255)),
    sa.Column("num_teachers", sa.Integer, comment="NULL when no user_counts snapshot that day"),
    sa.Column("num_students", sa.Integer, comment="NULL when no user_counts snapshot that day"),
    *(sa.Column(name, sa.Integer) for name in VIEW_COLUMNS),
    sa.Column("total_views", sa.Integer),
    sa.Column("avg_activity_per_student_per_day", sa.Numeric(10, 2)),
    sa.Column("active_days", sa.Integer),
    comment="Seed 001's merged course activity report (visible courses with a category idnumber)",
)


# -- Open edX tracking logs (seed 003) -----------------------------------------------------------
tracking_events = partitioned_table(
    "tracking_events",
    sa.Column("event_id", sa.String(40), primary_key=True, comment="sha1 of the event's JSON"),
    sa.Column("time", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("username", sa.String(150)),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("event_source", sa.String(32)),
    sa.Column("session", sa.String(64)),
    sa.Column("page", sa.String(1000)),
    sa.Column("module_id", sa.String(255)),
    sa.Column("video_position", Real, comment="seconds"),
    sa.Column("problem_id", sa.String(255)),
    sa.Column("problem_success", sa.Boolean),
    sa.Column("problem_attempts", sa.Integer),
    sa.Column("discussion_id", sa.String(255)),
    sa.Column("course_from", sa.String(16), comment="context, page or event_type"),
    comment="Open edX tracking-log events of a course and day, typed and de-duplicated",
)

tracking_split_counts = partitioned_table(
    "tracking_split_counts",
    sa.Column("events", sa.Integer, nullable=False, comment="event lines split to the course"),
    comment="What the daily split of the tracking logs counted per course",
)

tracking_quarantine = sa.Table(
    "tracking_quarantine",
    metadata,
    sa.Column("snapshot_date", sa.Date, primary_key=True),
    sa.Column("file_name", sa.String(255), primary_key=True),
    sa.Column("line_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reason", sa.String(255), nullable=False),
    sa.Column("raw_line", sa.Text),
    _loaded_at(),
    comment="Tracking-log lines that could not be read as events, with the reason",
    **MYSQL_TABLE_OPTIONS,
)

learner_daily_activity = partitioned_table(
    "learner_daily_activity",
    _user_id(),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("active_minutes", Real, comment="sum of gaps between events, each capped at 5 min"),
    sa.Column("sessions", sa.Integer),
    sa.Column("video_plays", sa.Integer),
    sa.Column("video_pauses", sa.Integer),
    sa.Column("video_seeks", sa.Integer),
    sa.Column("problem_checks", sa.Integer),
    sa.Column("problem_correct", sa.Integer),
    sa.Column("forum_posts", sa.Integer),
    sa.Column("pages_viewed", sa.Integer),
    sa.Column("last_event_at", sa.DateTime, comment="UTC time of the day's last event"),
    comment="Per learner and day, from tracking_events",
)

video_engagement = partitioned_table(
    "video_engagement",
    sa.Column("video_id", sa.String(255), primary_key=True),
    sa.Column("viewers", sa.Integer, nullable=False),
    sa.Column("plays", sa.Integer, nullable=False),
    sa.Column(
        "completion_estimate", Real, comment="% of viewers reaching 90% of the furthest position"
    ),
    comment="Per video and day, from tracking_events",
)

problem_activity = partitioned_table(
    "problem_activity",
    sa.Column("problem_id", sa.String(255), primary_key=True),
    sa.Column("learners", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, comment="server problem_check events"),
    sa.Column("correct_rate", Real, comment="% of checks answered correctly"),
    comment="Per problem and day, from tracking_events",
)
