"""openedx: course_runs, each course run's calendar, on the Open edX source's own branch

Revision ID: openedx_0001
Revises:
Depends on: 0003 (the core revision it was written against)
Create Date: 2026-12-02 05:44:47.046647
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "openedx_0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = ("openedx",)
depends_on: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "course_runs",
        sa.Column(
            "course_id",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column(
            "course_code",
            sa.String(length=255),
            nullable=True,
            comment="org+code, shared by every run of it",
        ),
        sa.Column("display_name", sa.String(length=255), nullable=True),
        sa.Column(
            "start_date",
            sa.Date(),
            nullable=True,
            comment="the run's first day (UTC date of `start`)",
        ),
        sa.Column(
            "end_date", sa.Date(), nullable=True, comment="the run's last day (UTC date of `end`)"
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date"),
        comment="Each course run's calendar as the API lists it (/courses/), daily snapshot: "
        "what the dropout model's cutoffs and labels are measured against",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("course_runs")
