"""The one write path, on SQLite and MariaDB alike."""

import datetime as dt
import os
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from lms_assets.openedx.schema import enrollments
from lms_assets.partitions import Partition
from lms_assets.warehouse import RejectedRecord, WarehouseError, WarehouseResource
from lms_assets.warehouse.schema import rejected_records

DAY = dt.date(2026, 3, 2)
COURSE = "course-v1:UNI+CS1+2026"
OTHER = "course-v1:UNI+CS2+2026"
DT = dt.datetime(2026, 3, 2, 12, 0)


def _row(course: str, user_id: int, day: dt.date = DAY, **extra) -> dict:
    return {
        "course_id": course,
        "snapshot_date": day,
        "user_id": user_id,
        "username": f"u{user_id}",
        "is_active": True,
        **extra,
    }


def _stored(warehouse, course: str = COURSE, day: dt.date = DAY) -> list[tuple]:
    columns = [c for c in enrollments.c if c.name != "loaded_at"]
    with warehouse.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(*columns)
                .where(enrollments.c.course_id == course, enrollments.c.snapshot_date == day)
                .order_by(enrollments.c.user_id)
            )
        ]


def test_replacing_a_partition_twice_leaves_identical_rows(warehouse) -> None:
    rows = [_row(COURSE, uid, full_name="Nguyễn Thị Ánh 🎓") for uid in (3, 1, 2)]
    warehouse.replace_partitions("enrollments", [Partition(COURSE, DAY)], rows)
    first = _stored(warehouse)
    summary = warehouse.replace_partitions("enrollments", [Partition(COURSE, DAY)], rows)
    assert _stored(warehouse) == first
    assert [r[2] for r in first] == [1, 2, 3]
    assert first[0][5] == "Nguyễn Thị Ánh 🎓"  # utf8mb4 round trip
    assert (summary.rows_deleted, summary.rows_written) == (3, 3)


def test_replace_touches_only_the_named_partitions(warehouse) -> None:
    warehouse.replace_partitions(
        "enrollments",
        [Partition(COURSE, DAY), Partition(OTHER, DAY), Partition(COURSE, DAY - dt.timedelta(1))],
        [_row(COURSE, 1), _row(OTHER, 9), _row(COURSE, 1, DAY - dt.timedelta(1))],
    )
    warehouse.replace_partitions("enrollments", [Partition(COURSE, DAY)], [_row(COURSE, 5)])
    assert [r[2] for r in _stored(warehouse)] == [5]
    assert [r[2] for r in _stored(warehouse, OTHER)] == [9]
    assert [r[2] for r in _stored(warehouse, COURSE, DAY - dt.timedelta(1))] == [1]


def test_failed_write_rolls_back_and_keeps_previous_rows(warehouse) -> None:
    partition = [Partition(COURSE, DAY)]
    warehouse.replace_partitions("enrollments", partition, [_row(COURSE, 1), _row(COURSE, 2)])
    before = _stored(warehouse)
    small_batches = warehouse.model_copy(update={"batch_size": 2})
    # The duplicate key sits in the third batch: two batches are already inserted
    # inside the transaction when the database refuses it.
    doomed = [
        _row(COURSE, uid, email=f"learner{uid}@example.edu") for uid in (10, 11, 12, 13, 14, 14)
    ]
    with pytest.raises(sa.exc.IntegrityError) as error:
        small_batches.replace_partitions("enrollments", partition, doomed)
    assert _stored(warehouse) == before
    # The database's refusal names no learner: bound values stay out of the message.
    assert "@example.edu" not in str(error.value)
    assert "hidden due to hide_parameters" in str(error.value)


def test_rows_outside_the_partitions_are_refused_before_writing(warehouse) -> None:
    with pytest.raises(WarehouseError, match="outside the partitions"):
        warehouse.replace_partitions(
            "enrollments", [Partition(COURSE, DAY)], [_row(COURSE, 1), _row(OTHER, 2)]
        )
    assert _stored(warehouse) == []


def test_unknown_columns_are_refused(warehouse) -> None:
    with pytest.raises(WarehouseError, match="unknown column"):
        warehouse.replace_partitions(
            "enrollments", [Partition(COURSE, DAY)], [_row(COURSE, 1, grade=3)]
        )


def test_rejected_records_are_kept_and_replaced_with_the_partition(warehouse) -> None:
    partition = [Partition(COURSE, DAY)]
    bad = RejectedRecord(
        Partition(COURSE, DAY), "Open edX API", "user_id is missing", None, {"x": 1}
    )
    warehouse.replace_partitions("enrollments", partition, [_row(COURSE, 1)], rejected=[bad, bad])
    warehouse.replace_partitions("enrollments", partition, [_row(COURSE, 1)], rejected=[bad])
    frame = warehouse.read_frame(sa.select(rejected_records))
    assert frame[["asset_name", "course_id", "seq", "reason", "payload"]].values.tolist() == [
        ["enrollments", COURSE, 0, "user_id is missing", '{"x": 1}']
    ]


def test_course_ids_differing_only_in_case_are_distinct(warehouse) -> None:
    upper, lower = "course-v1:UNI+CS1+2026", "course-v1:uni+cs1+2026"
    warehouse.replace_partitions(
        "enrollments",
        [Partition(upper, DAY), Partition(lower, DAY)],
        [_row(upper, 1), _row(lower, 1)],
    )
    warehouse.replace_partitions("enrollments", [Partition(lower, DAY)], [])
    assert len(_stored(warehouse, upper)) == 1
    assert _stored(warehouse, lower) == []


def test_writes_are_batched_in_one_transaction(warehouse) -> None:
    statements: list[tuple[str, bool]] = []
    commits: list[int] = []
    engine = warehouse.engine

    def on_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement.split()[0].upper(), executemany))

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", lambda conn: commits.append(1))
    try:
        rows = [_row(COURSE, uid) for uid in range(2500)]
        warehouse.replace_partitions("enrollments", [Partition(COURSE, DAY)], rows)
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
    inserts = [s for s in statements if s[0] == "INSERT"]
    assert len(inserts) == 3 and all(many for _, many in inserts)  # 1000 + 1000 + 500
    assert len(commits) == 1
    assert len(_stored(warehouse)) == 2500


def test_arrow_rows_load_exactly_like_python_rows(warehouse) -> None:
    import pyarrow as pa

    tricky = [
        "plain",
        'with "quotes", commas',
        "new\nline",
        "back\\slash \\N",
        "NULL",
        None,
        "🎓 Ánh",
    ]
    rows = [
        {
            "course_id": COURSE,
            "snapshot_date": DAY,
            "user_id": i,
            "username": text,
            "is_active": [True, False, None][i % 3],
            "enrolled_at": None if i == 3 else dt.datetime(2026, 1, 2, 3, 4, 5 + i),
        }
        for i, text in enumerate(tricky)
    ]
    warehouse.write([Partition(COURSE, DAY)], {"enrollments": rows}, asset_name="python")
    via_python = _stored(warehouse)
    warehouse.write(
        [Partition(COURSE, DAY)], {"enrollments": pa.Table.from_pylist(rows)}, asset_name="arrow"
    )
    assert _stored(warehouse) == via_python
    assert [r[3] for r in via_python] == tricky  # 'NULL' the string stays a string
    with pytest.raises(WarehouseError, match="outside the partitions"):
        warehouse.write(
            [Partition(OTHER, DAY)], {"enrollments": pa.Table.from_pylist(rows)}, asset_name="arrow"
        )
    assert _stored(warehouse) == via_python


def _waiting_transactions(conn: sa.Connection) -> set[str]:
    """Transactions waiting for a row lock, as the server sees them now."""
    # InnoDB refreshes this table only when it has not been read for 0.1 s: poll slower.
    time.sleep(0.15)
    rows = conn.exec_driver_sql(
        "SELECT trx_id FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
    ).fetchall()
    conn.commit()
    return {str(r[0]) for r in rows}


def test_a_write_rolled_back_by_a_lock_timeout_is_retried_and_lands(mysql_database_url) -> None:
    """MariaDB only. Another client holds the partition's rows; the write's first transaction
    times out (1205) and is rolled back by the server; the write runs again and lands once
    the rows are free. Synchronised on the server's own view of lock waits."""
    warehouse = WarehouseResource(url=mysql_database_url)
    warehouse.replace_partitions("enrollments", [Partition(COURSE, DAY)], [_row(COURSE, 1)])
    admin = sa.create_engine(mysql_database_url)
    with admin.connect() as conn:
        original = conn.exec_driver_sql("SELECT @@GLOBAL.innodb_lock_wait_timeout").scalar()
        conn.exec_driver_sql("SET GLOBAL innodb_lock_wait_timeout = 1")
    warehouse.engine.dispose()  # new sessions take the 1-second timeout
    outcome: dict = {}

    def write() -> None:
        try:
            outcome["summary"] = warehouse.replace_partitions(
                "enrollments", [Partition(COURSE, DAY)], [_row(COURSE, 2)]
            )
        except Exception as exc:  # reported to the test thread below
            outcome["error"] = exc

    try:
        with admin.connect() as holder, admin.connect() as observer:
            holder.exec_driver_sql(
                "SELECT * FROM enrollments WHERE course_id = %s FOR UPDATE", (COURSE,)
            )
            writer = threading.Thread(target=write)
            writer.start()
            deadline = time.monotonic() + 30
            first: set[str] = set()
            while not first and time.monotonic() < deadline:
                first = _waiting_transactions(observer)
            assert first, "the write never waited for the lock"
            while first & _waiting_transactions(observer) and time.monotonic() < deadline:
                pass
            assert writer.is_alive()  # the first transaction is gone, the write is not done
            holder.rollback()  # free the rows: the retry can land
            writer.join(timeout=30)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"SET GLOBAL innodb_lock_wait_timeout = {int(original)}")
        warehouse.engine.dispose()
        admin.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"].rows_deleted == 1 and outcome["summary"].rows_written == 1
    assert [row[2] for row in _stored(warehouse)] == [2]


def test_a_date_scope_replaces_the_whole_day_of_every_course(warehouse) -> None:
    """The daily split writes per-course counts under a date-only scope: re-splitting a day
    replaces every course's row of that day (CS2 vanished from the logs) and no other day."""
    counts = "tracking_split_counts"
    before = DAY - dt.timedelta(1)
    warehouse.replace_partitions(
        counts,
        [Partition(day=DAY), Partition(day=before)],
        [
            {"course_id": COURSE, "snapshot_date": DAY, "events": 5},
            {"course_id": OTHER, "snapshot_date": DAY, "events": 7},
            {"course_id": OTHER, "snapshot_date": before, "events": 3},
        ],
    )
    summary = warehouse.replace_partitions(
        counts, [Partition(day=DAY)], [{"course_id": COURSE, "snapshot_date": DAY, "events": 6}]
    )
    assert (summary.rows_deleted, summary.rows_written) == (2, 1)
    stored = warehouse.read_partitions(counts, [Partition(day=DAY), Partition(day=before)])
    assert sorted(stored[["course_id", "events"]].itertuples(index=False, name=None)) == [
        (COURSE, 6),
        (OTHER, 3),
    ]


def test_a_course_scope_cannot_replace_a_date_only_table(warehouse) -> None:
    """Replacing one course's day in a date-only table would delete the other courses' rows."""
    with pytest.raises(WarehouseError, match="tracking_quarantine has no course_id column"):
        warehouse.replace_partitions("tracking_quarantine", [Partition(COURSE, DAY)], [])


def test_date_and_package_scopes_keep_their_rejected_records(warehouse) -> None:
    """Rejected records are keyed by the Dagster partition key, whatever the scope's shape;
    re-writing one scope replaces only its own."""
    by_day = Partition(day=DAY)
    package = Partition(package_id="MITx-6.002x-2013_Spring")
    bad_line = RejectedRecord(by_day, "tracking logs", "time is missing", "log:3", code="missing")
    bad_file = RejectedRecord(package, "research package", "no users table", "auth_user.sql")
    quarantine = {"tracking_quarantine": []}
    warehouse.write([by_day], quarantine, asset_name="split", rejected=[bad_line, bad_line])
    warehouse.write([by_day], quarantine, asset_name="split", rejected=[bad_line])
    warehouse.write([package], {}, asset_name="package", rejected=[bad_file])
    frame = warehouse.read_frame(
        sa.select(
            rejected_records.c.asset_name,
            rejected_records.c.partition_key,
            rejected_records.c.course_id,
            rejected_records.c.snapshot_date,
            rejected_records.c.package_id,
            rejected_records.c.reason_code,
        ).order_by(rejected_records.c.asset_name)
    )
    assert [tuple(None if v != v else v for v in row) for row in frame.values.tolist()] == [
        ("package", "MITx-6.002x-2013_Spring", None, None, "MITx-6.002x-2013_Spring", None),
        ("split", DAY.isoformat(), None, DAY, None, "missing"),
    ]


def test_two_first_writes_of_an_empty_partition_both_land(mysql_database_url) -> None:
    """MariaDB only. Our write deletes the (empty) partition; another writer then inserts
    and commits the same key while our INSERT waits for its lock; ours fails with 1062,
    is rolled back, runs again (its DELETE now removes the other rows) and lands.
    Synchronised on the write's own DELETE and on the server's view of lock waits."""
    warehouse = WarehouseResource(url=mysql_database_url)
    # The session's MariaDB database is shared: start from an empty partition.
    warehouse.replace_partitions("enrollments", [Partition(COURSE, DAY)], [])
    admin = sa.create_engine(mysql_database_url)
    deleted, go = threading.Event(), threading.Event()
    outcome: dict = {}

    def after_execute(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.startswith("DELETE FROM enrollments") and not deleted.is_set():
            deleted.set()
            go.wait(timeout=30)

    def write() -> None:
        try:
            outcome["summary"] = warehouse.replace_partitions(
                "enrollments", [Partition(COURSE, DAY)], [_row(COURSE, 1, username="ours")]
            )
        except Exception as exc:  # reported to the test thread below
            outcome["error"] = exc

    sa.event.listen(warehouse.engine, "after_cursor_execute", after_execute)
    try:
        with admin.connect() as other, admin.connect() as observer:
            writer = threading.Thread(target=write)
            writer.start()
            assert deleted.wait(timeout=30), "the write never deleted"
            other.execute(enrollments.insert(), [_row(COURSE, 1, username="theirs", loaded_at=DT)])
            go.set()
            deadline = time.monotonic() + 30
            while not _waiting_transactions(observer) and time.monotonic() < deadline:
                pass
            other.commit()  # our INSERT now meets a committed duplicate: 1062
            writer.join(timeout=30)
    finally:
        sa.event.remove(warehouse.engine, "after_cursor_execute", after_execute)
        admin.dispose()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["summary"].rows_deleted == 1  # the second attempt removed theirs
    assert [(row[2], row[3]) for row in _stored(warehouse)] == [(1, "ours")]


def test_a_killed_bulk_loads_file_is_removed_by_the_next_load(mysql_database_url) -> None:
    """MariaDB only (the bulk path). A CSV left by a process that is gone is deleted by the
    next bulk load; one of a live process (this test's) is left alone."""
    import pyarrow as pa

    from lms_assets.warehouse.bulk import bulk_load_folder

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    folder = bulk_load_folder()
    abandoned = folder / f"{gone.stdout.strip()}-abandoned.csv"
    ours = folder / f"{os.getpid()}-in-use.csv"
    abandoned.write_text("left by a killed load\n")
    ours.write_text("another load of this process\n")
    warehouse = WarehouseResource(url=mysql_database_url)
    try:
        rows = pa.Table.from_pylist([_row(COURSE, 7, day=DAY - dt.timedelta(9))])
        warehouse.replace_partitions(
            "enrollments", [Partition(COURSE, DAY - dt.timedelta(9))], rows
        )
        assert not abandoned.exists()
        assert ours.exists()
        assert [r[2] for r in _stored(warehouse, COURSE, DAY - dt.timedelta(9))] == [7]
    finally:
        ours.unlink(missing_ok=True)
        abandoned.unlink(missing_ok=True)
