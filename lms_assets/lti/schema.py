"""The LTI attempts tables (seed 002) and the BI views over them.

``created_at`` keeps the API's microseconds: they are part of the seed's unique key
(user, attempt type, created_at), so rounding them away would merge distinct attempts.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from lms_assets.warehouse.schema import Real, partitioned_table
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported

# DATETIME(6) on MySQL/MariaDB (plain DATETIME drops the fraction); SQLite keeps it as text.
MicrosecondDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
USER_ID_LENGTH = 64  # LTI user ids are anonymous hashes (32 hex digits in Open edX)

lti_attempts = partitioned_table(
    "lti_attempts",
    sa.Column("user_id", sa.String(USER_ID_LENGTH), primary_key=True, comment="lti_user_id"),
    sa.Column("attempt_type", sa.String(10), primary_key=True, comment="run or submit"),
    sa.Column(
        "created_at", MicrosecondDateTime, primary_key=True, comment="UTC, with microseconds"
    ),
    sa.Column("oauth_consumer_key", sa.String(255)),
    sa.Column("lis_result_sourcedid", sa.Text),
    sa.Column("lis_outcome_service_url", sa.Text),
    sa.Column("is_correct", sa.Boolean, comment="NULL exactly for runs"),
    sa.Column("block_id", sa.String(255), comment="the exercise: usage key from the URL"),
    sa.Column(
        "course_from",
        sa.String(16),
        comment="where course_id came from: outcome_url, sourcedid, or none (course unknown)",
    ),
    comment="LTI coding-exercise attempts of a course and day (seed 002), one per "
    "(user, attempt type, created_at)",
)

attempt_daily_stats = partitioned_table(
    "attempt_daily_stats",
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("unique_users", sa.Integer, nullable=False),
    sa.Column("successful_attempts", sa.Integer, nullable=False, comment="correct submits"),
    sa.Column("success_rate", Real, comment="% correct submits of submits; NULL without submits"),
    sa.Column("runs", sa.Integer, nullable=False),
    sa.Column("submits", sa.Integer, nullable=False),
    sa.Column("attempts_per_user", Real, comment="attempts / unique_users; NULL without attempts"),
    sa.Column("solvers", sa.Integer, nullable=False, comment="learners with a correct submit"),
    comment="Per course and day, recounted from lti_attempts (seed 002's daily statistics)",
)

# The seed's Metabase questions as views (created by migration lti_0001, same SQL on SQLite
# and MariaDB). Days are the partition days (snapshot_date), not DATE(created_at) in UTC.
VIEWS = (
    "lti_dau",
    "lti_attempts_count",
    "lti_attempt_type_distribution",
    "lti_success_rate",
    "lti_dau_dynamics",
    "lti_attempts_dynamics",
    "lti_dau_vs_attempts",
)
