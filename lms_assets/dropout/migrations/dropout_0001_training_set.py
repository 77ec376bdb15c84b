"""dropout: dropout_training_set, on the dropout source's own branch

Revision ID: dropout_0001
Revises: (a new branch of the dropout source)
Depends on: 0003 (the core revision it was written against)
Create Date: 2026-12-02 01:55:09.026614
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "dropout_0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = ("dropout",)
depends_on: str | None = "0003"


def upgrade() -> None:
    op.create_table(
        "dropout_training_set",
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
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("run_start", sa.Date(), nullable=True),
        sa.Column("run_end", sa.Date(), nullable=True),
        sa.Column("cutoff_week", sa.Integer(), nullable=True),
        sa.Column("course_fraction", sa.Double(), nullable=True),
        sa.Column("snapshot_used", sa.Date(), nullable=True),
        sa.Column("days_enrolled", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=True),
        sa.Column("active_days", sa.Integer(), nullable=True),
        sa.Column("active_days_7d", sa.Integer(), nullable=True),
        sa.Column("events", sa.Integer(), nullable=True),
        sa.Column("events_7d", sa.Integer(), nullable=True),
        sa.Column("events_prev_7d", sa.Integer(), nullable=True),
        sa.Column("active_minutes", sa.Double(), nullable=True),
        sa.Column("video_plays", sa.Integer(), nullable=True),
        sa.Column("problem_checks", sa.Integer(), nullable=True),
        sa.Column("problem_correct", sa.Integer(), nullable=True),
        sa.Column("forum_posts", sa.Integer(), nullable=True),
        sa.Column("days_since_last_activity", sa.Integer(), nullable=True),
        sa.Column("grade_at_cutoff", sa.Double(), nullable=True),
        sa.Column("is_dropout", sa.Boolean(), nullable=True),
        sa.Column("is_passed", sa.Boolean(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Point-in-time dropout examples: features as of each weekly cutoff, labels from "
        "after it (docs/model.md)",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("dropout_training_set")
