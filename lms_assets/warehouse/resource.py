"""The warehouse resource: the one write path every asset uses.

``replace_partitions`` deletes a set of partitions' rows and inserts their new
rows (and the records rejected on the way) in ONE transaction, in batches of
multi-row inserts (Arrow rows: LOAD DATA on MySQL/MariaDB, batch by batch for an
``ArrowStream``). Re-running a partition therefore leaves identical rows, and a
crash mid-write leaves the previous rows untouched.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import dagster as dg
import pandas as pd
import pyarrow as pa
import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.engine import Engine

from lms_assets.db import get_engine, normalize_url, redacted
from lms_assets.errors import WarehouseError
from lms_assets.partitions import Partition, Scope
from lms_assets.warehouse import schema
from lms_assets.warehouse.bulk import ArrowStream, bulk_load, chunks, prepare_batch

WRITE_ATTEMPTS = 3
# Lock wait timeout, deadlock, and a duplicate key: two writers of the same EMPTY partition
# both delete nothing (READ COMMITTED takes no gap locks), then the second one's INSERT
# meets the first one's committed rows. Run again, its DELETE removes them.
RETRYABLE_MYSQL_ERRORS = {1205, 1213, 1062}
_schema_ready: set[str] = set()
Rows = Iterable[Mapping[str, Any]] | pa.Table | ArrowStream
_lock = threading.Lock()
T = TypeVar("T")


@dataclass(frozen=True)
class RejectedRecord:
    """An input record refused by an asset, kept for inspection in ``rejected_records``."""

    partition: Partition
    source: str
    reason: str
    record_key: str | None = None
    payload: Any = None
    code: str | None = None  # ReasonCode: what rejection counts and checks group by
    field: str | None = None


# What a write keeps as refused: the records, or a callable giving them after the rows are read.
Rejected = Sequence[RejectedRecord] | Callable[[], Iterable[RejectedRecord]]


@dataclass(frozen=True)
class WriteSummary:
    table: str
    partitions: int
    rows_deleted: int
    rows_written: int
    rejected_written: int


class WarehouseResource(dg.ConfigurableResource):
    """The analytics warehouse: SQLite by default, MySQL/MariaDB in production.

    Configure with a SQLAlchemy URL (env ``LMS_WAREHOUSE_URL``), e.g.
    ``mysql+pymysql://user:pass@host:3306/lms?charset=utf8mb4``.
    """

    url: str = Field(description="SQLAlchemy URL of the warehouse database.")
    batch_size: int = Field(default=1000, description="Rows per multi-row INSERT statement.", gt=0)
    parallel_writes: int = Field(
        default=2,
        gt=0,
        description="Partition writes an asset may run at once, each in its own transaction "
        "(MySQL/MariaDB; SQLite has one writer, so always 1 there).",
    )

    # -- connection and schema ------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """One engine (and pool) per URL per process, upgraded to the head revision once."""
        # Imported here: the migrations raise this module's WarehouseError.
        from lms_assets.warehouse.migrations import upgrade_warehouse

        url = normalize_url(self.url)
        engine = get_engine(url)
        with _lock:
            if url not in _schema_ready:
                upgrade_warehouse(engine)
                _schema_ready.add(url)
        return engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def writers(self) -> int:
        """How many partition writes may run at once on this database."""
        return 1 if self.dialect == "sqlite" else self.parallel_writes

    @property
    def display_url(self) -> str:
        return redacted(normalize_url(self.url))

    # -- writing ----------------------------------------------------------------------------
    def replace_partitions(
        self,
        table_name: str,
        partitions: Scope | Sequence[Partition],
        rows: Rows,
        *,
        asset_name: str | None = None,
        rejected: Rejected = (),
    ) -> WriteSummary:
        """Atomically replace ``partitions`` of one table with ``rows`` (see ``write``)."""
        return self.write(
            partitions, {table_name: rows}, asset_name=asset_name or table_name, rejected=rejected
        )[table_name]

    def write(
        self,
        partitions: Scope | Sequence[Partition],
        rows_by_table: Mapping[str, Rows],
        *,
        asset_name: str,
        rejected: Rejected = (),
    ) -> dict[str, WriteSummary]:
        """Replace ``partitions`` of every table in ``rows_by_table``, in ONE transaction.

        The scope's columns (``course_id`` and ``snapshot_date``, ``snapshot_date``
        alone, ``package_id``) say what is replaced: every row of a table whose values
        on those columns are one of the partitions. So a date-only scope replaces a
        whole day of a course x date table. Rows must lie inside the partitions;
        ``loaded_at`` is stamped here. The rejected records of ``asset_name`` for
        the same partitions are replaced in the same transaction, so tables and
        their rejects never disagree. Nothing is checked or written piecemeal:
        a bad row or a database error leaves every table as it was.

        A table's rows are Python rows, an Arrow table, or an ``ArrowStream`` of Arrow
        batches, each loaded (and checked) as it comes inside the transaction, so memory
        is one batch's. ``rejected`` may be a callable, called once the rows are written:
        a streaming reader finds its refusals while it is read.
        """
        scope = Scope.of(partitions)
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        prepared: dict[str, list[dict[str, Any]] | ArrowStream] = {}
        for name, rows in rows_by_table.items():
            table = schema.metadata.tables[name]
            _require_partition_columns(table, scope)
            if isinstance(rows, pa.Table):
                rows = ArrowStream([rows])  # a table is a one-batch stream
            prepared[name] = (
                rows if isinstance(rows, ArrowStream) else _prepare(table, rows, scope, loaded_at)
            )

        return self.in_write_transaction(
            lambda conn: self._replace(conn, scope, prepared, asset_name, rejected, loaded_at),
            # A stream read once cannot be written again: rolled back and raised.
            replayable=lambda: (
                not any(
                    isinstance(r, ArrowStream) and r.started and not r.replayable
                    for r in prepared.values()
                )
            ),
        )

    def in_write_transaction(
        self,
        work: Callable[[sa.Connection], T],
        *,
        replayable: Callable[[], bool] = lambda: True,
    ) -> T:
        """``work(conn)`` in one write transaction, run again on a lock timeout, deadlock or
        racing duplicate key while ``replayable()``: every replace of partitions goes here.

        On MySQL/MariaDB the transaction is READ COMMITTED: no gap locks, so concurrent
        writes of neighbouring partitions do not deadlock.
        """
        engine = self.engine
        if engine.dialect.name in ("mysql", "mariadb"):
            engine = engine.execution_options(isolation_level="READ COMMITTED")
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with engine.begin() as conn:
                    return work(conn)
            except (sa.exc.OperationalError, sa.exc.IntegrityError) as exc:
                code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
                if code not in RETRYABLE_MYSQL_ERRORS or attempt == WRITE_ATTEMPTS:
                    raise
                if not replayable():
                    raise
                # Rolled back whole (by the server for a deadlock, by leaving begin() for a
                # lock timeout or a duplicate key): running it again is safe. Duplicates
                # within our own rows fail every attempt and are raised.
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _replace(
        self,
        conn: sa.Connection,
        scope: Scope,
        prepared: Mapping[str, list[dict[str, Any]] | ArrowStream],
        asset_name: str,
        rejected: Rejected,
        loaded_at: dt.datetime,
    ) -> dict[str, WriteSummary]:
        rejects = schema.rejected_records
        counts: dict[str, tuple[int, int]] = {}
        scopes = [Scope(chunk) for chunk in chunks(scope.partitions, 500)]
        for name, table_rows in prepared.items():
            table = schema.metadata.tables[name]
            deleted = 0
            for chunk in scopes:
                deleted += conn.execute(
                    table.delete().where(partition_filter(table, chunk))
                ).rowcount
            if isinstance(table_rows, ArrowStream):
                for batch in table_rows:
                    if batch.num_rows:
                        data = prepare_batch(table, batch, scope, loaded_at, table_rows)
                        bulk_load(conn, table, data, self.batch_size)
                written = table_rows.rows
            else:
                # executemany: pymysql rewrites it into multi-row INSERTs, sqlite3 runs
                # it in C; all inside this one transaction.
                for batch in chunks(table_rows, self.batch_size):
                    conn.execute(table.insert(), list(batch))
                written = len(table_rows)
            counts[name] = (deleted, written)
        rejected_rows = _rejected_rows(
            rejected() if callable(rejected) else rejected, scope, asset_name, loaded_at
        )
        for chunk in scopes:
            conn.execute(
                rejects.delete().where(
                    rejects.c.asset_name == asset_name,
                    rejects.c.partition_key.in_([str(p.partition_key) for p in chunk]),
                )
            )
        for batch in chunks(rejected_rows, self.batch_size):
            conn.execute(rejects.insert(), list(batch))
        return {
            name: WriteSummary(
                table=name,
                partitions=len(scope),
                rows_deleted=deleted,
                rows_written=written,
                rejected_written=len(rejected_rows),
            )
            for name, (deleted, written) in counts.items()
        }

    def read_partitions(
        self,
        table_name: str,
        partitions: Scope | Sequence[Partition],
        columns: Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The stored rows of ``partitions`` (all columns, or ``columns``), as a DataFrame."""
        table = schema.metadata.tables[table_name]
        selected = [table.c[name] for name in columns] if columns else [table]
        return self.read_frame(sa.select(*selected).where(partition_filter(table, partitions)))

    # -- reading ----------------------------------------------------------------------------
    def read_frame(self, statement: sa.Executable | str, **params: Any) -> pd.DataFrame:
        """Run a SELECT (Core statement or parameterized text) and return a DataFrame."""
        if isinstance(statement, str):
            statement = sa.text(statement)
        with self.engine.connect() as conn:
            result = conn.execute(statement, params)
            return pd.DataFrame(result.fetchall(), columns=list(result.keys()))

    def rows_loaded_since(self, since: dt.datetime) -> dict[str, int]:
        """Rows per table whose ``loaded_at`` is at or after ``since`` (naive UTC).

        What the warehouse holds from recent writes, counted once per row: the daily
        summary's figures (materialization metadata would count a batched run's
        figures once per partition).
        """
        counts = {}
        with self.engine.connect() as conn:
            for table in schema.metadata.sorted_tables:
                skip = table is schema.rejected_records or schema.is_view(table)  # views: rows
                if skip or "loaded_at" not in table.c:  # counted in the tables they show
                    continue
                n = conn.execute(
                    sa.select(sa.func.count()).where(table.c.loaded_at >= since)
                ).scalar_one()
                if n:
                    counts[table.name] = int(n)
        return counts

    def scalar(self, statement: sa.Executable) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(statement).scalar()


def _require_partition_columns(table: sa.Table, scope: Scope) -> None:
    """A scope can only replace a table that has every column the scope pins.

    A course x date run must not replace a date-only table: that would delete the
    rows of every other course of the day.
    """
    missing = [c for c in scope.columns if c not in table.c]
    if missing:
        raise WarehouseError(
            f"{table.name} has no {', '.join(missing)} column, so partitions pinned by "
            f"{', '.join(scope.columns)} cannot be replaced in it; nothing was written."
        )


def _rejected_rows(
    rejected: Iterable[RejectedRecord], scope: Scope, asset_name: str, loaded_at: dt.datetime
) -> list[dict[str, Any]]:
    keys = scope.value_tuples()
    rows = []
    for seq, r in enumerate(rejected):
        if tuple(r.partition.columns.values()) not in keys:
            raise WarehouseError(
                f"rejected record of {asset_name} for {r.partition} is outside the "
                "partitions being replaced; nothing was written."
            )
        rows.append(
            {
                "asset_name": asset_name,
                "partition_key": str(r.partition.partition_key),
                **r.partition.columns,
                "seq": seq,
                "source": r.source,
                "record_key": None if r.record_key is None else str(r.record_key)[:255],
                "reason": r.reason[:1000],
                "reason_code": None if r.code is None else str(r.code)[:64],
                "field": None if r.field is None else r.field[:64],
                "payload": None if r.payload is None else json.dumps(r.payload, default=str),
                "loaded_at": loaded_at,
            }
        )
    return rows


def _prepare(
    table: sa.Table,
    rows: Iterable[Mapping[str, Any]],
    scope: Scope,
    loaded_at: dt.datetime,
) -> list[dict[str, Any]]:
    known = set(table.columns.keys())
    columns = scope.columns
    keys = scope.value_tuples()
    prepared = []
    for row in rows:
        where = tuple(row.get(c) for c in columns)
        if where not in keys:
            raise WarehouseError(
                f"{table.name}: row for {where!r} is outside the partitions being replaced; "
                "nothing was written."
            )
        unknown = set(row) - known
        if unknown:
            raise WarehouseError(
                f"{table.name}: unknown column(s) {sorted(unknown)}; nothing was written."
            )
        prepared.append({**row, "loaded_at": loaded_at})
    return prepared


def rows_from_frame(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """DataFrame rows as plain Python dicts: NaN/NaT become None, numpy scalars Python ones."""
    clean = frame.astype(object).where(frame.notna(), None)
    rows = clean.to_dict(orient="records")
    for row in rows:
        for key, value in row.items():
            if hasattr(value, "item"):  # numpy scalar
                row[key] = value.item()
            elif isinstance(value, pd.Timestamp):
                row[key] = value.to_pydatetime()
    return rows


def partition_filter(
    table: sa.Table, partitions: Scope | Sequence[Partition]
) -> sa.ColumnElement[bool]:
    """WHERE clause selecting ``partitions`` of ``table``, on the columns the scope pins.

    Two columns are written as ``course_id = ? AND snapshot_date IN (...)`` per
    course, which both engines answer from the primary key; MariaDB scans the whole
    table for the row-constructor form ``(course_id, snapshot_date) IN ((...), ...)``.
    """
    scope = Scope.of(partitions)
    if not scope:
        return sa.false()
    columns = scope.columns
    if len(columns) == 1:
        return table.c[columns[0]].in_(sorted(key[0] for key in scope.value_tuples()))
    outer, inner = columns
    by_outer: dict[Any, set[Any]] = {}
    for first, second in scope.value_tuples():
        by_outer.setdefault(first, set()).add(second)
    return sa.or_(
        *(
            sa.and_(table.c[outer] == value, table.c[inner].in_(sorted(values)))
            for value, values in sorted(by_outer.items())
        )
    )
