"""The warehouse's bulk path on MySQL/MariaDB: Arrow rows -> a CSV -> LOAD DATA LOCAL INFILE.

``write_load_file`` writes the CSV the server's own bulk loader reads, ``load_file`` loads
it inside the caller's transaction (only that file: see ``lms_assets/mysql_connection.py``),
and ``bulk_load`` does both for a write of the warehouse resource. Other databases get
batches of multi-row inserts. ``ArrowStream`` is a table's rows as bounded Arrow batches,
which the write path loads one at a time inside its one transaction (``prepare_batch``
refuses and counts each), so a write needs one batch's memory, not the table's.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from lms_assets.errors import WarehouseError
from lms_assets.mysql_connection import local_file_allowed
from lms_assets.partitions import Scope

SAMPLE_ROWS = 10


class ArrowStream:
    """A table's rows as Arrow tables or record batches, read once by the write path.

    The write loads each batch as it comes, inside its one transaction, so only one batch
    is in memory; a whole ``pa.Table`` is a one-batch stream. After the write, ``rows``,
    ``per_partition`` (scope values -> rows) and ``sample`` (the first rows) say what was
    written. Batches from a list can be read again (the write retries a deadlock);
    from an iterator only once.
    """

    def __init__(self, batches: Iterable[pa.Table | pa.RecordBatch]) -> None:
        self._batches = batches
        self.replayable = isinstance(batches, Sequence)
        self.started = False
        self.rows = 0
        self.per_partition: Counter[tuple[Any, ...]] = Counter()
        self.sample: list[dict[str, Any]] = []

    def __iter__(self) -> Iterator[pa.Table]:
        if self.started and not self.replayable:
            raise WarehouseError("this stream of rows was already read; it can be read once.")
        self.started, self.rows, self.sample = True, 0, []
        self.per_partition.clear()
        for batch in self._batches:
            yield pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch


def prepare_batch(
    table: sa.Table, data: pa.Table, scope: Scope, loaded_at: dt.datetime, stream: ArrowStream
) -> pa.Table:
    """One batch checked like Python rows are (columns known, rows inside ``scope``),
    counted into ``stream``, and stamped with ``loaded_at``."""
    unknown = set(data.column_names) - set(table.columns.keys())
    if unknown:
        raise WarehouseError(
            f"{table.name}: unknown column(s) {sorted(unknown)}; nothing was written."
        )
    columns = list(scope.columns)
    counts = (
        data.select(columns).group_by(columns).aggregate([([], "count_all")]).to_pylist()
        if data.num_rows
        else []
    )
    keys = scope.value_tuples()
    for item in counts:
        where = tuple(item[c] for c in columns)
        if where not in keys:
            raise WarehouseError(
                f"{table.name}: rows for {where!r} are outside the partitions being replaced; "
                "nothing was written."
            )
        stream.per_partition[where] += item["count_all"]
    stream.rows += data.num_rows
    if len(stream.sample) < SAMPLE_ROWS:
        stream.sample += data.slice(0, SAMPLE_ROWS - len(stream.sample)).to_pylist()
    return data.append_column(
        "loaded_at", pa.array([loaded_at] * data.num_rows, type=pa.timestamp("s"))
    )


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def bulk_load(conn: sa.Connection, table: sa.Table, data: pa.Table, batch_size: int) -> None:
    """Arrow rows into ``table`` inside the caller's transaction.

    MySQL/MariaDB: LOAD DATA LOCAL INFILE (the server's own bulk path) from a file written
    by ``write_load_file``. Other databases: batches of multi-row inserts.
    """
    if conn.dialect.name not in ("mysql", "mariadb"):
        rows = data.to_pylist()
        for batch in chunks(rows, batch_size):
            conn.execute(table.insert(), list(batch))
        return
    folder = bulk_load_folder()
    remove_abandoned_load_files(folder)
    with tempfile.NamedTemporaryFile(
        suffix=".csv", prefix=f"{os.getpid()}-", dir=folder, delete=False
    ) as handle:
        path = handle.name
    try:
        load_file(conn, table, path, write_load_file(data, path))
    finally:
        os.unlink(path)


def bulk_load_folder() -> Path:
    """Where bulk loads write their CSV: one folder, files named after their process."""
    folder = Path(tempfile.gettempdir()) / "lms_assets_bulk_load"
    folder.mkdir(exist_ok=True)
    return folder


def remove_abandoned_load_files(folder: Path) -> list[Path]:
    """Delete the CSVs of processes that are gone (a load killed mid-way leaves its file,
    hundreds of MB for a big day); files of live processes are theirs."""
    removed = []
    for path in folder.glob("*.csv"):
        pid = path.name.split("-", 1)[0]
        if not pid.isdigit() or _process_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def write_load_file(data: pa.Table, path: str | os.PathLike) -> list[str]:
    """Write ``data`` as the CSV ``load_file`` reads; return its column order.

    Every value is quoted and NULL is the bare word NULL, so a string "NULL" stays a
    string; booleans become 0/1 and timestamps microseconds.
    """
    columns = []
    for field in data.schema:
        column = data[field.name]
        if pa.types.is_boolean(field.type):
            column = pc.cast(column, pa.int8())
        elif pa.types.is_timestamp(field.type):
            column = pc.cast(column, pa.timestamp("us"))
        columns.append(column)
    pacsv.write_csv(
        pa.table(columns, names=data.column_names),
        path,
        pacsv.WriteOptions(include_header=False, null_string="NULL", quoting_style="all_valid"),
    )
    return data.column_names


def load_file(
    conn: sa.Connection, table: sa.Table, path: str | os.PathLike, columns: Sequence[str]
) -> None:
    """LOAD DATA LOCAL INFILE a ``write_load_file`` file into ``table`` (MySQL/MariaDB),
    inside the caller's transaction; any warning aborts it."""
    quote = conn.dialect.identifier_preparer.quote
    # The connection sends this file and no other, and only during this statement.
    with local_file_allowed(conn.connection.dbapi_connection, str(path)):
        conn.exec_driver_sql(
            f"LOAD DATA LOCAL INFILE %s INTO TABLE {quote(table.name)} CHARACTER SET utf8mb4 "
            "FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '' LINES TERMINATED BY '\n' "
            f"({', '.join(quote(c) for c in columns)})",
            (str(path),),
        )
    warnings = conn.exec_driver_sql("SHOW WARNINGS LIMIT 3").fetchall()
    if warnings:
        raise WarehouseError(f"{table.name}: bulk load reported {warnings}; rolled back.")
