"""``upgrade_warehouse``: bring a warehouse to the head revision, or say loudly why not."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import Engine

from lms_assets.warehouse import schema
from lms_assets.warehouse.migrations.compare import Difference, differences
from lms_assets.warehouse.migrations.config import alembic_config
from lms_assets.warehouse.resource import WarehouseError

log = logging.getLogger("lms_assets.warehouse")

BASELINE = "0001"
LOCK_WAIT_SECONDS = 300
# alembic's `op` and `context` are module-level proxies: one migration at a time per process.
# Taken after the database lock, so threads still queue on the database like processes do.
_alembic_lock = threading.Lock()


@dataclass(frozen=True)
class UpgradeResult:
    url: str  # password hidden
    applied: tuple[str, ...]  # "0002 rejected_records: reason_code and field", oldest first
    adopted: bool  # a warehouse of the last release without migrations was checked, stamped 0001
    revision: str | None  # the database's revision afterwards (head)


def upgrade_warehouse(engine: Engine) -> UpgradeResult:
    """Upgrade the warehouse to head, then check it matches every source's tables.

    An empty database gets every revision. A warehouse created before migrations existed
    (tables, no alembic_version) is checked against revision 0001, completed and stamped
    0001 first. Raises WarehouseError if it cannot be adopted, or if after upgrading the
    database differs from the code (a column changed by hand, ...). Safe to call from
    several processes at once: they queue on a database lock.
    """
    url = engine.url.render_as_string(hide_password=True)
    with engine.connect() as connection:
        with _exclusive(connection, url), _alembic_lock:
            adopted, applied = _upgrade(connection, url)
        revision = _revisions(connection)
        drift = differences(connection, schema.registered_metadata())
    for step in applied:
        log.info("warehouse %s: applied revision %s", url, step)
    if not applied:
        log.debug("warehouse %s: at revision %s, nothing to apply", url, revision)
    if drift:
        raise WarehouseError(
            f"warehouse {url} (revision {revision}) differs from the code's tables: "
            + "; ".join(d.describe() for d in drift)
            + ". Fix: undo the manual change (e.g. ALTER the column back to the code's type); "
            "if the change is wanted, make it in the source's schema.py with a new revision "
            "(docs/operations.md, Schema migrations)."
        )
    return UpgradeResult(url=url, applied=tuple(applied), adopted=adopted, revision=revision)


@contextlib.contextmanager
def _exclusive(connection: sa.Connection, url: str) -> Iterator[None]:
    """Hold the warehouse's migration lock, commit on success, roll back on error."""
    backend = connection.dialect.name
    lock_name = None
    if backend == "sqlite":
        # The write lock first: a concurrent caller waits here (busy timeout) and then finds
        # the tables made, instead of racing us to CREATE them. SQLite DDL is transactional.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif backend in ("mysql", "mariadb"):
        # A named lock of the server, per database; held by this session across DDL commits.
        database = connection.exec_driver_sql("SELECT DATABASE()").scalar()
        lock_name = f"lms_assets.migrate.{database}"[:64]
        got = connection.execute(
            sa.text("SELECT GET_LOCK(:name, :wait)"), {"name": lock_name, "wait": LOCK_WAIT_SECONDS}
        ).scalar()
        connection.commit()  # the lock outlives transactions; later reads see fresh data
        if got != 1:
            raise WarehouseError(
                f"warehouse {url}: another process held the migration lock {lock_name!r} for "
                f"{LOCK_WAIT_SECONDS} s; is a migration stuck? (SHOW PROCESSLIST)"
            )
    try:
        yield
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        # If the connection died, the server released the lock with the session; do not hide
        # the error that got us here behind that one.
        if lock_name is not None:
            with contextlib.suppress(sa.exc.DBAPIError):
                connection.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": lock_name})
                connection.commit()


def _upgrade(connection: sa.Connection, url: str) -> tuple[bool, list[str]]:
    applied: list[str] = []

    def record(*, step: Any, **_: Any) -> None:
        if step.is_upgrade and not step.is_stamp:
            applied.append(f"{step.up_revision_id} {step.up_revision.doc}")

    config = alembic_config(connection, on_version_apply=[record])
    current = _revisions(connection)
    adopted = False
    if current is None:
        tables = set(sa.inspect(connection).get_table_names())
        baseline = baseline_metadata()
        if tables & set(baseline.tables):
            _adopt(connection, baseline, tables, url)
            command.stamp(config, BASELINE)
            adopted = True
    try:
        # "heads": the core line and each source package's own branch (its migrations/).
        command.upgrade(config, "heads")
    except CommandError as exc:  # e.g. a revision written by a newer release
        raise WarehouseError(
            f"warehouse {url} is at revision {current}, which this code cannot upgrade: {exc}. "
            "Run the release that migrated it (or a newer one)."
        ) from exc
    return adopted, applied


def _revisions(connection: sa.Connection) -> str | None:
    """The database's revision(s): one per branch (the core, and a source's own), or None."""
    heads = MigrationContext.configure(connection).get_current_heads()
    return ",".join(sorted(heads)) or None


def baseline_metadata() -> sa.MetaData:
    """Revision 0001's tables, replayed into a MetaData instead of a database."""
    config = alembic_config(None)
    path = ScriptDirectory.from_config(config).get_revision(BASELINE).path
    spec = importlib.util.spec_from_file_location("lms_assets_warehouse_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)  # a fresh copy: its `op` is ours alone
    spec.loader.exec_module(module)
    metadata = sa.MetaData()
    module.op = _TableRecorder(metadata)
    module.upgrade()
    return metadata


class _TableRecorder:
    """Stands in for alembic's ``op`` while revision 0001 runs: tables land in a MetaData."""

    def __init__(self, metadata: sa.MetaData) -> None:
        self.metadata = metadata

    def create_table(self, name: str, *items: Any, **options: Any) -> sa.Table:
        return sa.Table(name, self.metadata, *items, **options)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"revision {BASELINE} may only call op.create_table, not op.{name}")


def _repairable(difference: Difference) -> bool:
    """What the last release without migrations left behind, rather than a mismatch: it
    added later columns without their comments (and would add a missing nullable one)."""
    if difference.kind == "missing column":
        return not difference.required
    return difference.kind in ("comment", "table comment") and difference.database == "None"


def _adopt(connection: sa.Connection, baseline: sa.MetaData, tables: set[str], url: str) -> None:
    """Check a warehouse of the last release without migrations against revision 0001 and
    complete it (missing tables and nullable columns, comments); or raise, changing nothing."""
    present = sa.MetaData()
    for table in baseline.sorted_tables:
        if table.name in tables:
            table.to_metadata(present)
    found = differences(connection, present)
    blocking = [d for d in found if not _repairable(d)]
    if blocking:
        raise WarehouseError(
            f"warehouse {url} has lms_assets tables but no alembic_version, and they differ "
            f"from revision {BASELINE} (the schema of the last release without migrations); "
            "nothing was changed: "
            + "; ".join(d.describe(f"revision {BASELINE}") for d in blocking)
            + f". Fix: make each of them what revision {BASELINE} declares "
            "(lms_assets/warehouse/migrations/versions/0001_baseline.py), e.g. with ALTER "
            "TABLE ... MODIFY, or move the table aside to have it recreated empty; then run "
            "`lms-assets migrate` again."
        )
    log.info("warehouse %s: adopting a warehouse created before migrations", url)
    missing = [t for t in baseline.sorted_tables if t.name not in tables]
    baseline.create_all(connection, tables=missing)
    for table in missing:
        log.info("warehouse %s: created table %s", url, table.name)
    ops = Operations(MigrationContext.configure(connection))
    for d in found:
        table = baseline.tables[d.table]
        if d.kind == "missing column":
            column = table.c[d.column]
            ops.add_column(
                d.table, sa.Column(column.name, column.type, nullable=True, comment=column.comment)
            )
        elif d.kind == "comment":
            # MySQL re-states the whole column to set a comment: keep the type it has.
            existing = {c["name"]: c for c in sa.inspect(connection).get_columns(d.table)}
            ops.alter_column(
                d.table,
                d.column,
                comment=table.c[d.column].comment,
                existing_type=existing[d.column]["type"],
                existing_nullable=existing[d.column]["nullable"],
            )
        else:
            ops.create_table_comment(d.table, table.comment)
        log.info("warehouse %s: %s: added the %s", url, d.where, d.kind)
