"""dropout: dropout_risk, the dropout model's scores of a course day

Revision ID: dropout_0002
Revises: dropout_0001
Create Date: 2026-12-02 02:16:22.389699
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "dropout_0002"
down_revision: str | None = "dropout_0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "dropout_risk",
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
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("course_fraction", sa.Double(), nullable=True),
        sa.Column("probability", sa.Double(), nullable=True),
        sa.Column("risk_band", sa.String(length=8), nullable=True),
        sa.Column("reason_1", sa.String(length=64), nullable=True),
        sa.Column("reason_2", sa.String(length=64), nullable=True),
        sa.Column("reason_3", sa.String(length=64), nullable=True),
        sa.Column("push_1", sa.Double(), nullable=True),
        sa.Column("push_2", sa.Double(), nullable=True),
        sa.Column("push_3", sa.Double(), nullable=True),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "user_id"),
        comment="Dropout risk of each active learner on a day: probability, band and the three "
        "features that pushed it most (docs/model.md)",
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )


def downgrade() -> None:
    op.drop_table("dropout_risk")
