"""lti: lti_attempts, attempt_daily_stats and the BI views, on the LTI source's own branch

Revision ID: lti_0001
Revises: (a new branch of the LTI source)
Depends on: 0001 (it needs only the core baseline; depending on the core head would hide
that head from alembic_version, which would then list lti_0001 alone)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from lms_assets.warehouse.schema import CourseIdType, Real

revision: str = "lti_0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = ("lti",)
depends_on: str | None = "0001"

MicrosecondDateTime = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _partition_columns() -> list[sa.Column]:
    return [
        sa.Column("course_id", CourseIdType, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
    ]


def _loaded_at() -> sa.Column:
    return sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write")


# The seed's Metabase questions (bi_system/sql_queries/*.sql), over all courses, by the
# partition day. Plain SQL that SQLite (>= 3.25, window functions) and MariaDB both run;
# "100.0 *" keeps SQLite from integer division. The dynamics compare with the previous day
# that had attempts (LAG), a day without any has no row.
VIEWS = {
    "lti_dau": """
        SELECT snapshot_date AS day, COUNT(DISTINCT user_id) AS active_users
        FROM lti_attempts GROUP BY snapshot_date""",
    "lti_attempts_count": """
        SELECT snapshot_date AS day, COUNT(*) AS attempts
        FROM lti_attempts GROUP BY snapshot_date""",
    "lti_attempt_type_distribution": """
        SELECT a.snapshot_date AS day, a.attempt_type, COUNT(*) AS attempts,
               ROUND(100.0 * COUNT(*) / t.total, 2) AS share_percent
        FROM lti_attempts a
        JOIN (SELECT snapshot_date, COUNT(*) AS total FROM lti_attempts
              GROUP BY snapshot_date) t ON t.snapshot_date = a.snapshot_date
        GROUP BY a.snapshot_date, a.attempt_type, t.total""",
    "lti_success_rate": """
        SELECT snapshot_date AS day,
               SUM(CASE WHEN attempt_type = 'submit' THEN 1 ELSE 0 END) AS submits,
               SUM(CASE WHEN attempt_type = 'submit' AND is_correct = 1 THEN 1 ELSE 0 END)
                   AS correct_submits,
               ROUND(100.0 * SUM(CASE WHEN attempt_type = 'submit' AND is_correct = 1
                                      THEN 1 ELSE 0 END)
                     / NULLIF(SUM(CASE WHEN attempt_type = 'submit' THEN 1 ELSE 0 END), 0), 2)
                   AS success_rate_percent
        FROM lti_attempts GROUP BY snapshot_date""",
    "lti_dau_dynamics": """
        SELECT day, active_users,
               LAG(active_users) OVER (ORDER BY day) AS previous_active_users,
               active_users - LAG(active_users) OVER (ORDER BY day) AS day_over_day_change
        FROM lti_dau""",
    "lti_attempts_dynamics": """
        SELECT day, attempts,
               LAG(attempts) OVER (ORDER BY day) AS previous_attempts,
               attempts - LAG(attempts) OVER (ORDER BY day) AS day_over_day_change
        FROM lti_attempts_count""",
    "lti_dau_vs_attempts": """
        SELECT d.day, d.active_users, c.attempts,
               ROUND(1.0 * c.attempts / d.active_users, 2) AS attempts_per_user
        FROM lti_dau d JOIN lti_attempts_count c ON c.day = d.day""",
}


def upgrade() -> None:
    op.create_table(
        "lti_attempts",
        *_partition_columns(),
        sa.Column("user_id", sa.String(64), nullable=False, comment="lti_user_id"),
        sa.Column("attempt_type", sa.String(10), nullable=False, comment="run or submit"),
        sa.Column(
            "created_at", MicrosecondDateTime, nullable=False, comment="UTC, with microseconds"
        ),
        sa.Column("oauth_consumer_key", sa.String(255), nullable=True),
        sa.Column("lis_result_sourcedid", sa.Text(), nullable=True),
        sa.Column("lis_outcome_service_url", sa.Text(), nullable=True),
        sa.Column("is_correct", sa.Boolean(), nullable=True, comment="NULL exactly for runs"),
        sa.Column(
            "block_id",
            sa.String(255),
            nullable=True,
            comment="the exercise: usage key from the URL",
        ),
        sa.Column(
            "course_from",
            sa.String(16),
            nullable=True,
            comment="where course_id came from: outcome_url, sourcedid, or none (course unknown)",
        ),
        _loaded_at(),
        sa.PrimaryKeyConstraint(
            "course_id", "snapshot_date", "user_id", "attempt_type", "created_at"
        ),
        comment="LTI coding-exercise attempts of a course and day (seed 002), one per "
        "(user, attempt type, created_at)",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "attempt_daily_stats",
        *_partition_columns(),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("unique_users", sa.Integer(), nullable=False),
        sa.Column("successful_attempts", sa.Integer(), nullable=False, comment="correct submits"),
        sa.Column(
            "success_rate",
            Real,
            nullable=True,
            comment="% correct submits of submits; NULL without submits",
        ),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("submits", sa.Integer(), nullable=False),
        sa.Column(
            "attempts_per_user",
            Real,
            nullable=True,
            comment="attempts / unique_users; NULL without attempts",
        ),
        sa.Column(
            "solvers", sa.Integer(), nullable=False, comment="learners with a correct submit"
        ),
        _loaded_at(),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="Per course and day, recounted from lti_attempts (seed 002's daily statistics)",
        **TABLE_OPTIONS,
    )
    for name, select in VIEWS.items():  # in order: the dynamics read lti_dau and the count
        op.execute(f"CREATE VIEW {name} AS {select}")


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.drop_table("attempt_daily_stats")
    op.drop_table("lti_attempts")
