"""Writing the narrow tracking table: a course-day's staged events -> tracking_event_rows.

The warehouse resource's ``write`` replaces rows by their ``course_id``; the narrow table
keys a course by ``course_key`` (tracking_courses), so its course-day replace is here, on
the same bulk path (``bulk.bulk_load``: LOAD DATA LOCAL INFILE on MariaDB), in one
transaction per course-day through the resource's ``in_write_transaction`` (its
isolation and retries).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from lms_assets.partitions import Partition
from lms_assets.tracking.keys import page_keys
from lms_assets.tracking.schema import tracking_courses, tracking_event_rows, tracking_pages
from lms_assets.tracking.splitting import EVENT_SCHEMA, with_username_hash
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.bulk import bulk_load, chunks

# One process inserts pages one load at a time: two loads inserting the same new keys in
# parallel transactions would wait on each other's locks for nothing.
_pages_lock = threading.Lock()


def _insert_ignoring_duplicates(table: sa.Table, dialect: str) -> sa.Insert:
    return table.insert().prefix_with("OR IGNORE" if dialect == "sqlite" else "IGNORE")


def course_keys(warehouse: WarehouseResource, course_ids: Sequence[str]) -> dict[str, int]:
    """The ``course_key`` of each course, registering the courses not seen before."""
    wanted = sorted(set(course_ids))
    table = tracking_courses
    query = sa.select(table.c.course_id, table.c.course_key).where(table.c.course_id.in_(wanted))
    with warehouse.engine.connect() as conn:
        known = dict(conn.execute(query).all())
    missing = [c for c in wanted if c not in known]
    if missing:
        with warehouse.engine.begin() as conn:  # committed before any load uses the keys
            insert = _insert_ignoring_duplicates(table, warehouse.dialect)
            conn.execute(insert, [{"course_id": c} for c in missing])
        with warehouse.engine.connect() as conn:  # a new snapshot: another writer's keys too
            known = dict(conn.execute(query).all())
    return known


def narrow_rows(events: pa.Table, course_key: int, day: dt.date) -> tuple[pa.Table, list[dict]]:
    """The staged events as ``tracking_event_rows`` rows, and the pages they name."""
    keys, pages = page_keys(events["page"])
    rows = events.drop_columns(["course_id", "page"])
    rows = rows.append_column("page_key", keys)
    rows = rows.append_column("course_key", pa.array([course_key] * rows.num_rows, pa.int32()))
    rows = rows.append_column("snapshot_date", pa.array([day] * rows.num_rows, pa.date32()))
    return rows, pages


def _add_pages(warehouse: WarehouseResource, pages: list[dict]) -> None:
    """New pages into ``tracking_pages`` (known ones left alone), committed on their own."""
    if not pages:
        return
    insert = _insert_ignoring_duplicates(tracking_pages, warehouse.dialect)
    with _pages_lock, warehouse.engine.begin() as conn:
        for batch in chunks(sorted(pages, key=lambda r: r["page_key"]), warehouse.batch_size):
            conn.execute(insert, list(batch))


def replace_course_day(
    warehouse: WarehouseResource, partition: Partition, course_key: int, events: pa.Table
) -> int:
    """Replace ``partition``'s stored events with ``events`` (staged, unique); rows written."""
    rows, pages = narrow_rows(events, course_key, partition.day)
    _add_pages(warehouse, pages)  # a page stays when its events go: the dimension only grows
    loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    rows = rows.append_column(
        "loaded_at", pa.array([loaded_at] * rows.num_rows, type=pa.timestamp("s"))
    )
    table = tracking_event_rows

    def replace(conn: sa.Connection) -> int:
        conn.execute(
            table.delete().where(
                table.c.course_key == course_key, table.c.snapshot_date == partition.day
            )
        )
        bulk_load(conn, table, rows, warehouse.batch_size)
        return rows.num_rows

    return warehouse.in_write_transaction(replace)


def store_events(
    warehouse: WarehouseResource,
    partition: Partition,
    events: pa.Table | Sequence[Mapping[str, Any]],
    pseudonym_key: str | None = None,
) -> int:
    """Replace ``partition``'s stored events with typed ``events`` (tracking_events' columns;
    missing ones NULL, ``snapshot_date``/``username_hash`` optional): the load's own path,
    for what holds events rather than a split's staging (fixtures, benchmarks, tools)."""
    table = events if isinstance(events, pa.Table) else pa.Table.from_pylist(list(events))
    columns = {
        field.name: (
            table[field.name].cast(field.type)
            if field.name in table.column_names
            else pa.nulls(table.num_rows, field.type)
        )
        for field in EVENT_SCHEMA
    }
    if "username_hash" in table.column_names:
        columns["username_hash"] = table["username_hash"].cast(pa.string())
    staged = with_username_hash(pa.table(columns), pseudonym_key)
    keys = course_keys(warehouse, [partition.course_id])
    return replace_course_day(warehouse, partition, keys[partition.course_id], staged)
