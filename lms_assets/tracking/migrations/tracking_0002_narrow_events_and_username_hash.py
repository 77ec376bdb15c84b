"""tracking: narrow events (tracking_event_rows, course and page keys), username_hash

Revision ID: tracking_0002
Revises: tracking_0001

Issue 12, point 8, and issue 15, point 3. The wide tracking_events table (a VARCHAR(255)
course id and a utf8mb4 event id in its primary key, the page URL in every row) becomes
tracking_event_rows: course_key INT (tracking_courses), event_id CHAR(40) ASCII, page_key
BIGINT (tracking_pages, keyed by the page's hash), and a stored username_hash (RIPEMD160 of
the username, HMAC-RIPEMD160 when LMS_PSEUDONYM_KEY is set, as the research packages hash
it). tracking_events becomes a view joining them back: the same rows and columns as
before, plus username_hash. Stored events are moved over, nothing recomputed but the keys.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from lms_assets.research_packages.pseudonyms import Pseudonymizer
from lms_assets.tracking.keys import page_key

revision: str = "tracking_0002"
down_revision: str | None = "tracking_0001"
branch_labels: tuple[str, ...] | None = None
depends_on: str | None = None

TABLE_OPTIONS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}
COPY_BATCH = 5000
HEX = sa.CHAR(40).with_variant(
    mysql.CHAR(40, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
)
COURSE_ID = sa.String(255).with_variant(
    mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
# Columns both shapes share, in the wide table's order.
SHARED = [
    "event_id",
    "time",
    "user_id",
    "username",
    "event_type",
    "event_source",
    "session",
    "module_id",
    "video_position",
    "problem_id",
    "problem_success",
    "problem_attempts",
    "discussion_id",
    "course_from",
    "from_studio",
    "loaded_at",
]
VIEW = (
    "SELECT c.course_id AS course_id, e.snapshot_date AS snapshot_date, e.event_id AS event_id, "
    "e.time AS time, e.user_id AS user_id, e.username AS username, e.event_type AS event_type, "
    "e.event_source AS event_source, e.session AS session, p.page AS page, "
    "e.module_id AS module_id, e.video_position AS video_position, e.problem_id AS problem_id, "
    "e.problem_success AS problem_success, e.problem_attempts AS problem_attempts, "
    "e.discussion_id AS discussion_id, e.course_from AS course_from, "
    "e.from_studio AS from_studio, e.username_hash AS username_hash, e.loaded_at AS loaded_at "
    "FROM tracking_event_rows e JOIN tracking_courses c ON c.course_key = e.course_key "
    "LEFT JOIN tracking_pages p ON p.page_key = e.page_key"
)


def _event_columns() -> list[sa.Column]:
    return [
        sa.Column("time", sa.DateTime(), nullable=False, comment="UTC"),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("username", sa.String(length=150), nullable=True),
    ]


def _detail_columns() -> list[sa.Column]:
    return [
        sa.Column("event_type", sa.String(length=255), nullable=False),
        sa.Column("event_source", sa.String(length=32), nullable=True),
        sa.Column("session", sa.String(length=64), nullable=True),
    ]


def _tail_columns() -> list[sa.Column]:
    return [
        sa.Column("module_id", sa.String(length=255), nullable=True),
        sa.Column("video_position", sa.Double(), nullable=True, comment="seconds"),
        sa.Column("problem_id", sa.String(length=255), nullable=True),
        sa.Column("problem_success", sa.Boolean(), nullable=True),
        sa.Column("problem_attempts", sa.Integer(), nullable=True),
        sa.Column("discussion_id", sa.String(length=255), nullable=True),
        sa.Column(
            "course_from",
            sa.String(length=16),
            nullable=True,
            comment="context, page or event_type",
        ),
        sa.Column(
            "from_studio",
            sa.Boolean(),
            nullable=True,
            comment="a Studio (course authoring) request, not learner activity; NULL: loaded "
            "before the flag existed",
        ),
        sa.Column("loaded_at", sa.DateTime(), nullable=False, comment="UTC time of the write"),
    ]


def upgrade() -> None:
    op.create_table(
        "tracking_courses",
        sa.Column("course_key", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.PrimaryKeyConstraint("course_key"),
        sa.UniqueConstraint("course_id", name="uq_tracking_courses_course_id"),
        comment="The integer key of each course of tracking_event_rows (registered on first load)",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tracking_pages",
        sa.Column(
            "page_key",
            sa.BigInteger(),
            autoincrement=False,
            nullable=False,
            comment="the first 8 bytes of sha1(page), signed big-endian",
        ),
        sa.Column("page", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("page_key"),
        comment="The page URLs of tracking events, once each, keyed by their hash",
        **TABLE_OPTIONS,
    )
    op.create_table(
        "tracking_event_rows",
        sa.Column("course_key", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("event_id", HEX, nullable=False, comment="sha1 of the event's JSON"),
        *_event_columns(),
        sa.Column(
            "username_hash",
            HEX,
            nullable=True,
            comment="RIPEMD160 of the username (HMAC with LMS_PSEUDONYM_KEY), as in packages",
        ),
        *_detail_columns(),
        sa.Column("page_key", sa.BigInteger(), nullable=True, comment="tracking_pages.page_key"),
        *_tail_columns(),
        sa.PrimaryKeyConstraint("course_key", "snapshot_date", "event_id"),
        comment="Open edX tracking-log events, narrow (read them through the tracking_events view)",
        **TABLE_OPTIONS,
    )
    _move_events()
    op.drop_table("tracking_events")
    op.execute(f"CREATE VIEW tracking_events AS {VIEW}")


def _move_events() -> None:
    """The stored events into the narrow tables, in batches (the keys computed here)."""
    conn = op.get_bind()
    meta = sa.MetaData()
    wide = sa.Table("tracking_events", meta, autoload_with=conn)
    rows = sa.Table("tracking_event_rows", meta, autoload_with=conn)
    courses = sa.Table("tracking_courses", meta, autoload_with=conn)
    pages = sa.Table("tracking_pages", meta, autoload_with=conn)
    ids = sorted(conn.execute(sa.select(wide.c.course_id).distinct()).scalars())
    if ids:
        conn.execute(courses.insert(), [{"course_id": c} for c in ids])
    keys = dict(conn.execute(sa.select(courses.c.course_id, courses.c.course_key)).all())
    seen_pages: set[int] = set()
    pseudonymize = Pseudonymizer(os.environ.get("LMS_PSEUDONYM_KEY") or None)
    hashes: dict[str, str | None] = {}
    query = sa.select(wide).order_by(*wide.primary_key.columns)
    result = conn.execution_options(yield_per=COPY_BATCH).execute(query)
    for batch in result.partitions(COPY_BATCH):
        out, new_pages = [], []
        for row in batch:
            record = dict(row._mapping)
            page = record.pop("page")
            key = page_key(page)
            if key is not None and key not in seen_pages:
                seen_pages.add(key)
                new_pages.append({"page_key": key, "page": page})
            name = record["username"]
            if name is not None and name not in hashes:
                hashes[name] = pseudonymize(name)
            out.append(
                {
                    **{c: record[c] for c in SHARED},
                    "course_key": keys[record["course_id"]],
                    "snapshot_date": record["snapshot_date"],
                    "page_key": key,
                    "username_hash": None if name is None else hashes[name],
                }
            )
        if new_pages:
            conn.execute(pages.insert(), new_pages)
        conn.execute(rows.insert(), out)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS tracking_events")
    op.create_table(
        "tracking_events",
        sa.Column("course_id", COURSE_ID, nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column(
            "event_id", sa.String(length=40), nullable=False, comment="sha1 of the event's JSON"
        ),
        *_event_columns(),
        *_detail_columns(),
        sa.Column("page", sa.String(length=1000), nullable=True),
        *_tail_columns(),
        sa.PrimaryKeyConstraint("course_id", "snapshot_date", "event_id"),
        comment="Open edX tracking-log events of a course and day, typed and de-duplicated",
        **TABLE_OPTIONS,
    )
    columns = ", ".join(SHARED)
    op.execute(
        f"INSERT INTO tracking_events (course_id, snapshot_date, page, {columns}) "
        f"SELECT c.course_id, e.snapshot_date, p.page, "
        + ", ".join(f"e.{c}" for c in SHARED)
        + " FROM tracking_event_rows e JOIN tracking_courses c ON c.course_key = e.course_key "
        "LEFT JOIN tracking_pages p ON p.page_key = e.page_key"
    )
    op.drop_table("tracking_event_rows")
    op.drop_table("tracking_pages")
    op.drop_table("tracking_courses")
