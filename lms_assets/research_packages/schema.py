"""The research-package tables (seed 004), course x export date, on the shared MetaData.

Learners are keyed by their LMS user id (what every file of the package joins on) and
named only by pseudonyms (``*_hash``: 40 lowercase hex, RIPEMD160): no email, name,
address or free text is stored. ``package_`` prefixes the tables whose plain names
the Open edX API source already uses.
"""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets.warehouse.schema import Real, partitioned_table, user_id_column
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported


def hash_column(name: str, comment: str) -> sa.Column:
    # CHAR-like width exactly 40: a hash is never truncated, and never longer.
    return sa.Column(name, sa.String(40), comment=comment)


def block_id_column(name: str = "block_id", *, primary_key: bool = False) -> sa.Column:
    return sa.Column(
        name, sa.String(255), primary_key=primary_key, comment="i4x:// or block-v1: usage id"
    )


package_users = partitioned_table(
    "package_users",
    user_id_column(),
    hash_column("username_hash", "RIPEMD160 of the username (seed 004, MOOCdb)"),
    hash_column("name_hash", "RIPEMD160 of the profile's full name"),
    sa.Column("gender", sa.String(8)),
    sa.Column("year_of_birth", sa.Integer),
    sa.Column("level_of_education", sa.String(16)),
    sa.Column("country", sa.String(8)),
    sa.Column("is_staff", sa.Boolean),
    sa.Column("date_joined", sa.DateTime, comment="UTC"),
    comment="auth_user joined with auth_userprofile by user id; pseudonyms only",
)

package_enrollments = partitioned_table(
    "package_enrollments",
    user_id_column(),
    sa.Column("mode", sa.String(32)),
    sa.Column("is_active", sa.Boolean),
    sa.Column("created", sa.DateTime, comment="UTC"),
    comment="student_courseenrollment of the package",
)

package_certificates = partitioned_table(
    "package_certificates",
    user_id_column(),
    sa.Column("grade", Real, comment="0-1"),
    sa.Column("status", sa.String(32)),
    sa.Column("mode", sa.String(32)),
    sa.Column("created", sa.DateTime, comment="UTC"),
    comment="certificates_generatedcertificate of the package",
)

package_course_grades = partitioned_table(
    "package_course_grades",
    user_id_column(),
    sa.Column("percent_grade", Real, comment="0-1"),
    sa.Column("letter_grade", sa.String(64)),
    sa.Column("passed", sa.Boolean, comment="passed_timestamp is set"),
    sa.Column("modified", sa.DateTime, comment="UTC"),
    comment="grades_persistentcoursegrade of the package",
)

courseware_modules = partitioned_table(
    "courseware_modules",
    user_id_column(),
    block_id_column("module_id", primary_key=True),
    sa.Column("module_type", sa.String(32)),
    sa.Column("grade", Real),
    sa.Column("max_grade", Real),
    sa.Column("state_bytes", sa.Integer, comment="UTF-8 length of the state JSON (not stored)"),
    sa.Column("created", sa.DateTime, comment="UTC"),
    sa.Column("modified", sa.DateTime, comment="UTC"),
    comment="courseware_studentmodule: one row per learner and module touched",
)

course_blocks = partitioned_table(
    "course_blocks",
    block_id_column(primary_key=True),
    sa.Column("category", sa.String(32), nullable=False),
    sa.Column("display_name", sa.String(255)),
    block_id_column("parent_id"),
    sa.Column("position", sa.Integer, comment="0-based index among the parent's children"),
    sa.Column("depth", sa.Integer, nullable=False, comment="0 for the course block"),
    block_id_column("chapter_id"),
    comment="The course structure JSON as a tree: one row per block",
)

course_videos = partitioned_table(
    "course_videos",
    block_id_column(primary_key=True),
    sa.Column("display_name", sa.String(255)),
    sa.Column("youtube_id", sa.String(64), comment="youtube_id_1_0"),
    sa.Column("edx_video_id", sa.String(100)),
    sa.Column("duration_seconds", Real, comment="where the structure gives it"),
    comment="The video blocks of the course structure",
)

forum_posts = partitioned_table(
    "forum_posts",
    sa.Column("post_id", sa.String(32), primary_key=True, comment="Mongo _id"),
    sa.Column("post_type", sa.String(16), nullable=False, comment="thread, response, comment"),
    sa.Column("thread_id", sa.String(32)),
    sa.Column("author_id", sa.BigInteger),
    hash_column("author_hash", "RIPEMD160 of author_username"),
    sa.Column("created_at", sa.DateTime, comment="UTC"),
    sa.Column("body_length", sa.Integer, comment="characters; the body is not stored"),
    sa.Column("up_votes", sa.Integer),
    sa.Column("vote_score", sa.Integer, comment="up minus down votes"),
    comment="The forum (.mongo): threads, responses and comments, without their text",
)

person_course = partitioned_table(
    "person_course",
    user_id_column(),
    hash_column("username_hash", "RIPEMD160 of the username"),
    sa.Column("registered", sa.Boolean, nullable=False),
    sa.Column("viewed", sa.Boolean, nullable=False),
    sa.Column("explored", sa.Boolean, nullable=False),
    sa.Column("certified", sa.Boolean, nullable=False),
    sa.Column("completed", sa.Boolean, nullable=False),
    sa.Column("grade", Real, comment="0-1"),
    sa.Column("mode", sa.String(32)),
    sa.Column("start_time", sa.DateTime, comment="enrollment created, UTC"),
    sa.Column("nchapters", sa.Integer, nullable=False),
    sa.Column("nforum_posts", sa.Integer, nullable=False),
    sa.Column("nevents", sa.Integer, comment="NULL: no tracking events of the course"),
    sa.Column("ndays_act", sa.Integer),
    sa.Column("nplay_video", sa.Integer),
    sa.Column("first_event", sa.DateTime, comment="UTC"),
    sa.Column("last_event", sa.DateTime, comment="UTC"),
    sa.Column("gender", sa.String(8)),
    sa.Column("year_of_birth", sa.Integer),
    sa.Column("level_of_education", sa.String(16)),
    sa.Column("country", sa.String(8)),
    comment="One row per learner, course and export date (edx2bigquery definitions)",
)

PACKAGE_TABLES = (
    "package_users",
    "package_enrollments",
    "package_certificates",
    "package_course_grades",
    "courseware_modules",
    "course_blocks",
    "course_videos",
    "forum_posts",
)
