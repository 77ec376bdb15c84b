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
    sa.Column("payload", sa.Text, comment="the record as received, JSON"),
    _loaded_at(),
    comment="Input records an asset refused, with the reason; replaced with the partition",
    **MYSQL_TABLE_OPTIONS,
)
