"""tracking: site-level tables, the file-day index, tracking_events.from_studio

Revision ID: tracking_0001
Revises: (a new branch of the tracking source)
Depends on: 0003 (the core revision it was written against; the head it builds on)

Issue 12: events naming no course get their own daily tables (site_daily_events,
site_learner_daily); tracking_file_days records which files hold events of days other than
the one they are named for, so each day's split reads them; tracking_events.from_studio keeps
Studio's authoring requests apart from learner activity (NULL on rows loaded before).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "tracking_0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = ("tracking",)
depends_on: str | None = "0003"

TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _loaded_at() -> sa.Column:
    return sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write")


def upgrade() -> None:
    op.add_column(
        "tracking_events",
        sa.Column(
            "from_studio",
            sa.Boolean(),
            nullable=True,
            comment="a Studio (course authoring) request, not learner activity; NULL: loaded "
            "before the flag existed",
        ),
    )
    op.create_table(
        "tracking_file_days",
        sa.Column(
            "snapshot_date", sa.Date(), nullable=False, comment="the day whose split read it"
        ),
        sa.Column(
            "file_name", sa.String(length=255), nullable=False, comment="path below the log folder"
        ),
        sa.Column("event_day", sa.Date(), nullable=False, comment="another day the file holds"),
        sa.Column("events", sa.Integer(), nullable=False),
        _loaded_at(),
        sa.PrimaryKeyConstraint("snapshot_date", "file_name", "event_day"),
        comment="Which log files hold events of days other than the one they are named for",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "site_daily_events",
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column(
            "event_type",
            sa.String(length=255).with_variant(
                mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
            ),
            nullable=False,
            comment="trailing spaces cut",
        ),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False, comment="distinct user_id"),
        sa.Column(
            "anonymous_events", sa.Integer(), nullable=False, comment="events without user_id"
        ),
        _loaded_at(),
        sa.PrimaryKeyConstraint("snapshot_date", "event_type"),
        comment="Tracking-log events that name no course (logins, dashboard, ...), per day, type",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "site_learner_daily",
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("event_types", sa.Integer(), nullable=False, comment="distinct event types"),
        sa.Column("sessions", sa.Integer(), nullable=False, comment="distinct session ids"),
        sa.Column("first_event_at", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("last_event_at", sa.DateTime(), nullable=False, comment="UTC"),
        _loaded_at(),
        sa.PrimaryKeyConstraint("snapshot_date", "user_id"),
        comment="Tracking-log events that name no course, per learner and day",
        **TABLE_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("site_learner_daily")
    op.drop_table("site_daily_events")
    op.drop_table("tracking_file_days")
    op.drop_column("tracking_events", "from_studio")
