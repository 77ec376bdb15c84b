"""The Open edX tracking-log tables (seed 003)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from lms_assets.warehouse.schema import (
    MYSQL_TABLE_OPTIONS,
    CourseIdType,
    Real,
    loaded_at_column,
    partitioned_table,
    user_id_column,
)
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported

# A 40-hex digest (event id, pseudonym): one byte a character, compared as bytes on MariaDB.
HexDigest = sa.CHAR(40).with_variant(
    mysql.CHAR(40, charset="ascii", collation="ascii_bin"), "mysql", "mariadb"
)

# The events are stored narrow (issue 12, point 8): the load is CPU-bound on the server, and
# what it costs grows with the width of the primary key and of each row. So the hot table
# keys a course by a small integer (tracking_courses), keeps the 40-hex event id in ASCII,
# and keeps the page URL (free text no aggregate reads) in a dimension keyed by its hash.
# ``tracking_events`` is a view joining them back: the rows and columns every consumer
# (export, aggregates, checks, person_course) read before.
tracking_courses = sa.Table(
    "tracking_courses",
    metadata,
    sa.Column("course_key", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("course_id", CourseIdType, nullable=False),
    sa.UniqueConstraint("course_id", name="uq_tracking_courses_course_id"),
    comment="The integer key of each course of tracking_event_rows (registered on first load)",
    **MYSQL_TABLE_OPTIONS,
)

tracking_pages = sa.Table(
    "tracking_pages",
    metadata,
    sa.Column(
        "page_key",
        sa.BigInteger,
        primary_key=True,
        autoincrement=False,
        comment="the first 8 bytes of sha1(page), signed big-endian",
    ),
    sa.Column("page", sa.String(1000), nullable=False),
    comment="The page URLs of tracking events, once each, keyed by their hash",
    **MYSQL_TABLE_OPTIONS,
)

tracking_event_rows = sa.Table(
    "tracking_event_rows",
    metadata,
    sa.Column("course_key", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("snapshot_date", sa.Date, primary_key=True),
    sa.Column("event_id", HexDigest, primary_key=True, comment="sha1 of the event's JSON"),
    sa.Column("time", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("username", sa.String(150)),
    sa.Column(
        "username_hash",
        HexDigest,
        comment="RIPEMD160 of the username (HMAC with LMS_PSEUDONYM_KEY), as in packages",
    ),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("event_source", sa.String(32)),
    sa.Column("session", sa.String(64)),
    sa.Column("page_key", sa.BigInteger, comment="tracking_pages.page_key"),
    sa.Column("module_id", sa.String(255)),
    sa.Column("video_position", Real, comment="seconds"),
    sa.Column("problem_id", sa.String(255)),
    sa.Column("problem_success", sa.Boolean),
    sa.Column("problem_attempts", sa.Integer),
    sa.Column("discussion_id", sa.String(255)),
    sa.Column("course_from", sa.String(16), comment="context, page or event_type"),
    sa.Column(
        "from_studio",
        sa.Boolean,
        comment="a Studio (course authoring) request, not learner activity; NULL: loaded "
        "before the flag existed",
    ),
    loaded_at_column(),
    comment="Open edX tracking-log events, narrow (read them through the tracking_events view)",
    **MYSQL_TABLE_OPTIONS,
)

# A view, not a table (``info["view"]``): the migrations create it (tracking_0002), the
# schema comparison and the clean-ups pass it by; it is declared here so that reads, exports
# and checks address it like any course x date table.
tracking_events = partitioned_table(
    "tracking_events",
    sa.Column("event_id", HexDigest, primary_key=True, comment="sha1 of the event's JSON"),
    sa.Column("time", sa.DateTime(), nullable=False, comment="UTC"),
    sa.Column("user_id", sa.BigInteger),
    sa.Column("username", sa.String(150)),
    sa.Column("event_type", sa.String(255), nullable=False),
    sa.Column("event_source", sa.String(32)),
    sa.Column("session", sa.String(64)),
    sa.Column("page", sa.String(1000)),
    sa.Column("module_id", sa.String(255)),
    sa.Column("video_position", Real, comment="seconds"),
    sa.Column("problem_id", sa.String(255)),
    sa.Column("problem_success", sa.Boolean),
    sa.Column("problem_attempts", sa.Integer),
    sa.Column("discussion_id", sa.String(255)),
    sa.Column("course_from", sa.String(16), comment="context, page or event_type"),
    sa.Column("from_studio", sa.Boolean, comment="a Studio (course authoring) request"),
    sa.Column("username_hash", HexDigest, comment="RIPEMD160 of the username (pseudonym)"),
    comment="Open edX tracking-log events of a course and day, typed and de-duplicated "
    "(a view of tracking_event_rows)",
)
tracking_events.info["view"] = (
    "tracking_event_rows JOIN tracking_courses LEFT JOIN tracking_pages (tracking_0002)"
)


tracking_split_counts = partitioned_table(
    "tracking_split_counts",
    sa.Column("events", sa.Integer, nullable=False, comment="event lines split to the course"),
    comment="What the daily split of the tracking logs counted per course",
)

tracking_quarantine = sa.Table(
    "tracking_quarantine",
    metadata,
    sa.Column("snapshot_date", sa.Date, primary_key=True),
    sa.Column("file_name", sa.String(255), primary_key=True),
    sa.Column("line_number", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("reason", sa.String(255), nullable=False),
    sa.Column("raw_line", sa.Text),
    loaded_at_column(),
    comment="Tracking-log lines that could not be read as events, with the reason",
    **MYSQL_TABLE_OPTIONS,
)

tracking_file_days = sa.Table(
    "tracking_file_days",
    metadata,
    sa.Column("snapshot_date", sa.Date, primary_key=True, comment="the day whose split read it"),
    sa.Column("file_name", sa.String(255), primary_key=True, comment="path below the log folder"),
    sa.Column("event_day", sa.Date, primary_key=True, comment="another day the file holds"),
    sa.Column("events", sa.Integer, nullable=False),
    loaded_at_column(),
    comment="Which log files hold events of days other than the one they are named for",
    **MYSQL_TABLE_OPTIONS,
)

# Event types differ by case ("/Login" is not "/login"); MySQL's default collation does not.
EventTypeKey = sa.String(255).with_variant(
    mysql.VARCHAR(255, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)

site_daily_events = sa.Table(
    "site_daily_events",
    metadata,
    sa.Column("snapshot_date", sa.Date, primary_key=True),
    sa.Column("event_type", EventTypeKey, primary_key=True, comment="trailing spaces cut"),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("learners", sa.Integer, nullable=False, comment="distinct user_id"),
    sa.Column("anonymous_events", sa.Integer, nullable=False, comment="events without user_id"),
    loaded_at_column(),
    comment="Tracking-log events that name no course (logins, dashboard, ...), per day, type",
    **MYSQL_TABLE_OPTIONS,
)

site_learner_daily = sa.Table(
    "site_learner_daily",
    metadata,
    sa.Column("snapshot_date", sa.Date, primary_key=True),
    user_id_column(),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("event_types", sa.Integer, nullable=False, comment="distinct event types"),
    sa.Column("sessions", sa.Integer, nullable=False, comment="distinct session ids"),
    sa.Column("first_event_at", sa.DateTime, nullable=False, comment="UTC"),
    sa.Column("last_event_at", sa.DateTime, nullable=False, comment="UTC"),
    loaded_at_column(),
    comment="Tracking-log events that name no course, per learner and day",
    **MYSQL_TABLE_OPTIONS,
)

learner_daily_activity = partitioned_table(
    "learner_daily_activity",
    user_id_column(),
    sa.Column("events", sa.Integer, nullable=False),
    sa.Column("active_minutes", Real, comment="sum of gaps between events, each capped at 5 min"),
    sa.Column("sessions", sa.Integer),
    sa.Column("video_plays", sa.Integer),
    sa.Column("video_pauses", sa.Integer),
    sa.Column("video_seeks", sa.Integer),
    sa.Column("problem_checks", sa.Integer),
    sa.Column("problem_correct", sa.Integer),
    sa.Column("forum_posts", sa.Integer),
    sa.Column("pages_viewed", sa.Integer),
    sa.Column("last_event_at", sa.DateTime, comment="UTC time of the day's last event"),
    comment="Per learner and day, from tracking_events",
)

video_engagement = partitioned_table(
    "video_engagement",
    sa.Column("video_id", sa.String(255), primary_key=True),
    sa.Column("viewers", sa.Integer, nullable=False),
    sa.Column("plays", sa.Integer, nullable=False),
    sa.Column(
        "completion_estimate", Real, comment="% of viewers reaching 90% of the furthest position"
    ),
    comment="Per video and day, from tracking_events",
)

problem_activity = partitioned_table(
    "problem_activity",
    sa.Column("problem_id", sa.String(255), primary_key=True),
    sa.Column("learners", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, comment="server problem_check events"),
    sa.Column("correct_rate", Real, comment="% of checks answered correctly"),
    comment="Per problem and day, from tracking_events",
)
