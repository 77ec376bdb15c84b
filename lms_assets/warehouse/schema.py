"""The warehouse's shared MetaData, column types and table helpers (SQLAlchemy Core).

Each source declares its own tables in its package (``openedx/schema.py``,
``moodle/schema.py``, ...) on this one ``metadata``, with these helpers; only the
tables every source shares (``rejected_records``) live here. Every table carries
its partition columns (``course_id``, ``snapshot_date``) and ``loaded_at``, and
declares its primary key at its grain, so a partition can be replaced with one
DELETE and the key itself forbids duplicates. Importing ``lms_assets.definitions``
registers every source's tables.
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


def loaded_at_column() -> sa.Column:
    return sa.Column("loaded_at", sa.DateTime, nullable=False, comment="UTC time of the write")


def partitioned_table(name: str, *columns: sa.Column, comment: str) -> sa.Table:
    """A course × date table: partition columns first, ``loaded_at`` last."""
    return sa.Table(
        name,
        metadata,
        *_partition_columns(),
        *columns,
        loaded_at_column(),
        comment=comment,
        **MYSQL_TABLE_OPTIONS,
    )


rejected_records = sa.Table(
    "rejected_records",
    metadata,
    sa.Column("asset_name", sa.String(64), primary_key=True),
    sa.Column(
        "partition_key",
        sa.String(300),
        primary_key=True,
        comment="Dagster partition key: course|date, date or package",
    ),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    # The partition's columns, those its shape has (the others NULL), for querying.
    sa.Column("course_id", CourseIdType),
    sa.Column("snapshot_date", sa.Date),
    sa.Column("package_id", sa.String(255)),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("record_key", sa.String(255)),
    sa.Column("reason", sa.String(1000), nullable=False),
    sa.Column(
        "reason_code",
        sa.String(64),
        comment="what kind of problem: missing, not_a_number, out_of_range, duplicate_key, ...",
    ),
    sa.Column("field", sa.String(64), comment="the source field the reason is about"),
    sa.Column("payload", sa.Text, comment="the record as received, JSON"),
    loaded_at_column(),
    comment="Input records an asset refused, with the reason; replaced with the partition",
    **MYSQL_TABLE_OPTIONS,
)


def registered_metadata() -> sa.MetaData:
    """The shared MetaData with every source's tables on it (the code location registers them).

    For code that works on the whole warehouse (schema upgrades, export, the demo's
    summary) and may run without the code location loaded.
    """
    import lms_assets.definitions  # noqa: F401 - imports every source's schema module

    return metadata


def is_view(table: sa.Table) -> bool:
    """A view declared on the metadata (``info["view"]`` its SELECT): read like a table, never
    written, created by its source's migration, and passed by the schema comparison."""
    return "view" in table.info


def user_id_column() -> sa.Column:
    """A learner's id as part of a table's primary key."""
    return sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False)
