"""Schema migrations on SQLite and MariaDB: adopting a warehouse of the last release without
migrations, fresh installs, loud drift, idempotence, concurrent callers, `lms-assets migrate`."""

from __future__ import annotations

import datetime as dt
import multiprocessing
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from lms_assets import cli
from lms_assets.db import normalize_url, redacted
from lms_assets.openedx.schema import enrollments
from lms_assets.warehouse import WarehouseError
from lms_assets.warehouse.migrations import upgrade_warehouse
from lms_assets.warehouse.migrations.config import alembic_config
from lms_assets.warehouse.migrations.upgrade import baseline_metadata
from lms_assets.warehouse.schema import is_view, registered_metadata, rejected_records

from .conftest import BACKENDS, mysql_database

metadata = registered_metadata()

FIXTURES = Path(__file__).parent / "fixtures"
BASELINE_DOC = "0001 baseline: the warehouse as the last release without migrations created it"
REVISION_2_DOC = "0002 rejected_records: reason_code and field"
REVISION_3_DOC = (
    "0003 rejected_records: keyed by the Dagster partition key, for every partition shape"
)
TRACKING_1_DOC = (
    "tracking_0001 tracking: site-level tables, the file-day index, tracking_events.from_studio"
)
TRACKING_2_DOC = (
    "tracking_0002 tracking: narrow events (tracking_event_rows, course and page keys), "
    "username_hash"
)
RESEARCH_DOC = (
    "research_0001 research: the research-package tables (seed 004), on the research "
    "source's own branch"
)
DROPOUT_DOC = "dropout_0001 dropout: dropout_training_set, on the dropout source's own branch"
DROPOUT_2_DOC = "dropout_0002 dropout: dropout_risk, the dropout model's scores of a course day"
OPENEDX_DOC = (
    "openedx_0001 openedx: course_runs, each course run's calendar, on the Open edX "
    "source's own branch"
)
LTI_DOC = (
    "lti_0001 lti: lti_attempts, attempt_daily_stats and the BI views, "
    "on the LTI source's own branch"
)
# Five sources have a branch of their own (their migrations/ folders): LTI's builds on the
# baseline, the tracking, research, dropout and Open edX ones on 0003. All five are heads,
# and alembic_version holds the five. After the baseline, alembic applies them in this order.
AFTER_BASELINE = (
    REVISION_2_DOC,
    REVISION_3_DOC,
    LTI_DOC,
    DROPOUT_DOC,
    DROPOUT_2_DOC,
    RESEARCH_DOC,
    TRACKING_1_DOC,
    TRACKING_2_DOC,
    OPENEDX_DOC,
)
HEAD = "dropout_0002,lti_0001,openedx_0001,research_0001,tracking_0002"
HEAD_ROWS = [
    ("dropout_0002",),
    ("lti_0001",),
    ("openedx_0001",),
    ("research_0001",),
    ("tracking_0002",),
]
DAY = dt.date(2026, 3, 2)
LOADED = dt.datetime(2026, 3, 2, 7, 0, 0)
COURSE = "course-v1:UNI+CS1+2026"
ENROLLMENT_COLUMNS = ["course_id", "snapshot_date", "user_id", "username", "is_active", "loaded_at"]
ENROLLMENTS = [
    (COURSE, DAY, 1, "ánh", True, LOADED),
    ("course-v1:uni+cs1+2026", DAY, 2, "bob", False, LOADED),  # course ids are case-sensitive
]
REJECT_COLUMNS = [
    "asset_name",
    "course_id",
    "snapshot_date",
    "seq",
    "source",
    "reason",
    "loaded_at",
]
REJECTS = [
    ("enrollments", COURSE, DAY, 0, "openedx", "missing user_id", LOADED),
    ("enrollments", COURSE, DAY, 1, "openedx", "user_id is not a number", LOADED),
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own per test, empty."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    else:
        with mysql_database("migrations") as mysql_url:
            yield normalize_url(mysql_url)


def new_engine(url: str) -> Engine:
    return sa.create_engine(url, connect_args={"timeout": 60} if url.startswith("sqlite") else {})


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = new_engine(url)
    yield engine
    engine.dispose()


def create_as_before_migrations(engine: Engine, *, skip_table: str | None = None) -> None:
    """The warehouse exactly as main's create_all made it (fixture DDL), no alembic_version."""
    backend = "sqlite" if engine.dialect.name == "sqlite" else "mysql"
    text = (FIXTURES / f"warehouse_before_migrations.{backend}.sql").read_text()
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    with engine.begin() as conn:
        cursor = conn.connection.cursor()  # the DBAPI's own: no %-formatting of the text
        for statement in filter(str.strip, body.split(";\n")):  # comments hold "; "
            if skip_table is None or f"CREATE TABLE {skip_table} (" not in statement:
                cursor.execute(statement)
        cursor.close()


def insert_known_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        rows = [dict(zip(ENROLLMENT_COLUMNS, r, strict=True)) for r in ENROLLMENTS]
        conn.execute(enrollments.insert(), rows)
        rows = [dict(zip(REJECT_COLUMNS, r, strict=True)) for r in REJECTS]
        present = {c["name"] for c in sa.inspect(conn).get_columns("rejected_records")}
        if "partition_key" in present:  # the current schema (0003 on)
            for row in rows:
                row["partition_key"] = f"{row['course_id']}|{row['snapshot_date'].isoformat()}"
            conn.execute(rejected_records.insert(), rows)
        else:  # a warehouse of the release before migrations
            conn.execute(baseline_metadata().tables["rejected_records"].insert(), rows)


def stored(engine: Engine, table: sa.Table, columns: list[str]) -> list[tuple]:
    with engine.connect() as conn:
        query = sa.select(*(table.c[c] for c in columns)).order_by(*table.primary_key.columns)
        return [tuple(row) for row in conn.execute(query)]


def metadata_differences(engine: Engine) -> list:
    """alembic's own comparison of the database with the code (not upgrade_warehouse's)."""
    with engine.connect() as conn:
        # Views (tracking_events) are made by their migration; alembic compares tables.
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_object": lambda item, name, type_, *_: (
                    not (type_ == "table" and is_view(item))
                ),
            },
        )
        return compare_metadata(context, metadata)


def version(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")]


def reflected_columns(engine: Engine) -> dict[str, list[tuple]]:
    inspector = sa.inspect(engine)
    return {
        table: [
            (c["name"], repr(c["type"]), c["nullable"], c.get("comment"))
            for c in inspector.get_columns(table)
        ]
        for table in sorted(metadata.tables)
    }


def tables(engine: Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names())


def shorten_username(engine: Engine) -> None:
    """enrollments.username VARCHAR(150) -> VARCHAR(100), by hand, rows kept."""
    with engine.begin() as conn:
        if engine.dialect.name != "sqlite":
            conn.exec_driver_sql("ALTER TABLE enrollments MODIFY username VARCHAR(100)")
            return
        ddl = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'enrollments'"
        ).scalar_one()
        assert "username VARCHAR(150)" in ddl
        conn.exec_driver_sql("ALTER TABLE enrollments RENAME TO enrollments_old")
        conn.exec_driver_sql(ddl.replace("username VARCHAR(150)", "username VARCHAR(100)"))
        conn.exec_driver_sql("INSERT INTO enrollments SELECT * FROM enrollments_old")
        conn.exec_driver_sql("DROP TABLE enrollments_old")


def drop_column(engine: Engine, table: str, column: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN {column}")


# -- a warehouse of the last release without migrations ---------------------------------------
def test_a_warehouse_of_the_previous_release_is_adopted_and_upgraded(engine) -> None:
    create_as_before_migrations(engine)
    insert_known_rows(engine)
    assert "alembic_version" not in tables(engine)

    result = upgrade_warehouse(engine)

    assert (result.adopted, result.applied, result.revision) == (
        True,
        AFTER_BASELINE,
        HEAD,
    )
    assert stored(engine, enrollments, ENROLLMENT_COLUMNS) == ENROLLMENTS
    assert stored(engine, rejected_records, REJECT_COLUMNS) == REJECTS
    assert stored(engine, rejected_records, ["seq", "reason_code", "field", "partition_key"]) == [
        (0, None, None, f"{COURSE}|{DAY.isoformat()}"),  # 0003 keys old rows as course|date
        (1, None, None, f"{COURSE}|{DAY.isoformat()}"),
    ]
    assert sorted(version(engine)) == HEAD_ROWS
    assert metadata_differences(engine) == []


def test_adoption_completes_what_the_previous_release_left(engine) -> None:
    """A table never created, a nullable column never added, and a column added later by the
    old release's ensure_schema (at the end, without its comment): all completed."""
    create_as_before_migrations(engine, skip_table="problem_activity")
    insert_known_rows(engine)
    drop_column(engine, "enrollments", "class_code")
    drop_column(engine, "learner_daily_activity", "last_event_at")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE learner_daily_activity ADD COLUMN last_event_at DATETIME")

    result = upgrade_warehouse(engine)

    assert (result.adopted, result.applied) == (
        True,
        AFTER_BASELINE,
    )
    assert "problem_activity" in tables(engine)
    assert stored(engine, enrollments, ["user_id", "class_code"]) == [(1, None), (2, None)]
    assert metadata_differences(engine) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "shorter username",
            "enrollments.username: type VARCHAR(100) in the database, "
            "VARCHAR(150) in revision 0001",
        ),
        (
            "no source",
            "rejected_records.source: column missing from the database "
            "(revision 0001: VARCHAR(64) NOT NULL)",
        ),
    ],
)
def test_a_previous_release_warehouse_that_differs_is_refused_untouched(
    engine, change: str, expected: str
) -> None:
    create_as_before_migrations(engine)
    insert_known_rows(engine)
    if change == "shorter username":
        shorten_username(engine)
    else:
        drop_column(engine, "rejected_records", "source")
    columns_before = [c["name"] for c in sa.inspect(engine).get_columns("rejected_records")]

    with pytest.raises(WarehouseError) as error:
        upgrade_warehouse(engine)

    message = str(error.value)
    assert expected in message
    assert "nothing was changed" in message and "\n" not in message
    assert "alembic_version" not in tables(engine)
    assert [c["name"] for c in sa.inspect(engine).get_columns("rejected_records")] == (
        columns_before
    )
    assert stored(engine, enrollments, ["user_id", "username"]) == [(1, "ánh"), (2, "bob")]


# -- fresh installs, drift, idempotence ------------------------------------------------------
def test_an_empty_database_upgrades_to_head(engine) -> None:
    result = upgrade_warehouse(engine)

    assert (result.adopted, result.applied, result.revision) == (
        False,
        (BASELINE_DOC, *AFTER_BASELINE),
        HEAD,
    )
    views = {name for name, table in metadata.tables.items() if is_view(table)}
    assert views == {"tracking_events"}
    assert tables(engine) == set(metadata.tables) - views | {"alembic_version"}
    assert sorted(version(engine)) == HEAD_ROWS
    assert metadata_differences(engine) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            "shorter username",
            "enrollments.username: type VARCHAR(100) in the database, VARCHAR(150) in the code",
        ),
        (
            "no class_code",
            "enrollments.class_code: column missing from the database (the code: VARCHAR(50))",
        ),
    ],
)
def test_drift_is_loud(engine, change: str, expected: str) -> None:
    upgrade_warehouse(engine)
    if change == "shorter username":
        shorten_username(engine)
    else:
        drop_column(engine, "enrollments", "class_code")

    with pytest.raises(WarehouseError) as error:
        upgrade_warehouse(engine)

    assert expected in str(error.value)
    assert str(error.value).startswith(f"warehouse {redacted(str(engine.url))} (revision {HEAD}) ")


def test_upgrading_twice_is_a_no_op(engine) -> None:
    upgrade_warehouse(engine)
    insert_known_rows(engine)
    columns = reflected_columns(engine)

    again = upgrade_warehouse(engine)

    assert (again.adopted, again.applied, again.revision) == (False, (), HEAD)
    assert reflected_columns(engine) == columns
    assert stored(engine, enrollments, ENROLLMENT_COLUMNS) == ENROLLMENTS
    assert sorted(version(engine)) == HEAD_ROWS


def _upgrade_in_a_process(url: str, barrier, results) -> None:
    """A Dagster step process starting on the warehouse: its own engine, its own process."""
    engine = new_engine(url)
    barrier.wait()
    try:
        result = upgrade_warehouse(engine)
        results.put((result.adopted, result.applied))
    except Exception as exc:
        results.put(repr(exc))  # SQLAlchemy errors do not always pickle
    finally:
        engine.dispose()


@pytest.mark.parametrize("start", ["empty", "before migrations"])
def test_two_concurrent_first_callers_both_succeed(url, engine, start: str) -> None:
    """Two processes start together: one migrates, the other waits on the database lock and
    then finds nothing to do (threads would also queue on the in-process alembic lock)."""
    if start == "before migrations":
        create_as_before_migrations(engine)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [
        context.Process(target=_upgrade_in_a_process, args=(url, barrier, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    did = [results.get(timeout=120), results.get(timeout=120)]
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0, 0]
    assert not [d for d in did if isinstance(d, str)], did  # an error in a process
    did.sort(key=lambda d: len(d[1]))

    migrated = (BASELINE_DOC, *AFTER_BASELINE) if start == "empty" else AFTER_BASELINE
    assert did == [(False, ()), (start != "empty", migrated)]
    assert sorted(version(engine)) == HEAD_ROWS
    assert metadata_differences(engine) == []


# -- lms-assets migrate ------------------------------------------------------------------------
def test_migrate_command_prints_the_applied_revisions(url, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LMS_WAREHOUSE_URL", url)
    shown = redacted(url)

    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"applied {BASELINE_DOC}",
        *(f"applied {doc}" for doc in AFTER_BASELINE),
        f"warehouse {shown} at revision {HEAD} (head)",
    ]
    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"warehouse {shown} at revision {HEAD} (head)"]


def test_migrate_command_adopts_a_previous_release_warehouse(url, engine, monkeypatch, capsys):
    create_as_before_migrations(engine)
    monkeypatch.setenv("LMS_WAREHOUSE_URL", url)

    assert cli.main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "adopted the warehouse created before migrations (checked, stamped 0001)",
        *(f"applied {doc}" for doc in AFTER_BASELINE),
        f"warehouse {redacted(url)} at revision {HEAD} (head)",
    ]


def test_migrate_command_fails_in_one_line(url, engine, monkeypatch, capsys) -> None:
    upgrade_warehouse(engine)
    shorten_username(engine)
    monkeypatch.setenv("LMS_WAREHOUSE_URL", url)

    assert cli.main(["migrate"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        f"lms-assets migrate: warehouse {redacted(url)} (revision {HEAD}) differs"
    )
    assert "enrollments.username: type VARCHAR(100) in the database" in err
    assert err.count("\n") == 1


def test_migrate_command_on_an_unreachable_database_hides_the_password(monkeypatch, capsys):
    monkeypatch.setenv("LMS_WAREHOUSE_URL", "mysql+pymysql://lms:s3cret@127.0.0.1:1/lms")

    assert cli.main(["migrate"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "lms-assets migrate: cannot use the warehouse "
        "mysql+pymysql://lms:***@127.0.0.1:1/lms?charset=utf8mb4: nothing answers on "
        "127.0.0.1:1. Fix: start the server or correct the host and port in LMS_WAREHOUSE_URL.\n"
    )


# -- tracking_0002: the wide tracking_events table becomes narrow rows behind a view ------------
def test_stored_tracking_events_move_to_the_narrow_table_unchanged(engine, monkeypatch) -> None:
    """Two events of a warehouse at tracking_0001 (one with a page, one anonymous) read back
    the same through the tracking_events view, with the username's RIPEMD160 added."""
    monkeypatch.delenv("LMS_PSEUDONYM_KEY", raising=False)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "tracking_0001")
    wide = sa.Table("tracking_events", sa.MetaData(), autoload_with=engine)
    page = "https://lms.example.edu/courses/" + COURSE + "/courseware/Ch1/"
    events = [
        {"event_id": "a" * 40, "user_id": 1, "username": "abc", "page": page, "session": "s1"},
        {"event_id": "b" * 40, "user_id": None, "username": None, "page": None, "session": None},
    ]
    common = {"course_id": COURSE, "snapshot_date": DAY, "time": LOADED, "loaded_at": LOADED}
    common |= {"event_type": "play_video", "event_source": "browser", "from_studio": False}
    with engine.begin() as conn:
        conn.execute(wide.insert(), [{**common, **e} for e in events])

    upgrade_warehouse(engine)

    view = metadata.tables["tracking_events"]
    columns = ["course_id", "event_id", "username", "page", "session", "username_hash"]
    assert stored(engine, view, columns) == [
        (COURSE, "a" * 40, "abc", page, "s1", "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"),
        (COURSE, "b" * 40, None, None, None, None),
    ]
    with engine.connect() as conn:
        counts = [
            conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
            for name in ("tracking_courses", "tracking_pages", "tracking_event_rows")
        ]
    assert counts == [1, 1, 2]
    assert metadata_differences(engine) == []
