"""The Moodle tables (seed 001); course_id is Moodle's numeric course id, as text."""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported
from lms_assets.warehouse.schema import partitioned_table

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
