"""rejected_records: keyed by the Dagster partition key, for every partition shape

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

Until now a rejected record needed a course and a date (its key was asset_name, course_id,
snapshot_date, seq), so date-only and per-package assets could not keep theirs. The key is
now (asset_name, partition_key, seq); course_id and snapshot_date stay, nullable, and
package_id joins them. The table is rebuilt and its rows copied (partition_key =
course_id|snapshot_date, the key every existing row had), which works alike on SQLite and
MySQL/MariaDB, whose primary keys cannot be altered the same way.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lms_assets.warehouse.schema import CourseIdType

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

COPIED = (
    "asset_name, seq, course_id, snapshot_date, source, record_key, reason, reason_code, "
    "field, payload, loaded_at"
)


def upgrade() -> None:
    op.create_table(
        "rejected_records_0003",
        sa.Column("asset_name", sa.String(length=64), nullable=False),
        sa.Column(
            "partition_key",
            sa.String(length=300),
            nullable=False,
            comment="Dagster partition key: course|date, date or package",
        ),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("course_id", CourseIdType, nullable=True),
        sa.Column("snapshot_date", sa.Date(), nullable=True),
        sa.Column("package_id", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column(
            "reason_code",
            sa.String(length=64),
            nullable=True,
            comment="what kind of problem: missing, not_a_number, out_of_range, duplicate_key, ...",
        ),
        sa.Column(
            "field",
            sa.String(length=64),
            nullable=True,
            comment="the source field the reason is about",
        ),
        sa.Column("payload", sa.Text(), nullable=True, comment="the record as received, JSON"),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
        sa.PrimaryKeyConstraint("asset_name", "partition_key", "seq"),
        comment="Input records an asset refused, with the reason; replaced with the partition",
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    mysql = op.get_bind().dialect.name in ("mysql", "mariadb")
    key = "CONCAT(course_id, '|', snapshot_date)" if mysql else "course_id || '|' || snapshot_date"
    op.execute(
        f"INSERT INTO rejected_records_0003 (partition_key, {COPIED}) "
        f"SELECT {key}, {COPIED} FROM rejected_records"
    )
    op.drop_table("rejected_records")
    op.rename_table("rejected_records_0003", "rejected_records")


def downgrade() -> None:
    raise NotImplementedError("0003 is not reversible: rows of date-only scopes have no course")
