"""The warehouse's bulk path on MySQL/MariaDB: Arrow rows -> a CSV -> LOAD DATA LOCAL INFILE.

``write_load_file`` writes the CSV the server's own bulk loader reads, ``load_file`` loads
it inside the caller's transaction (only that file: see ``lms_assets/mysql_connection.py``),
and ``bulk_load`` does both for a write of the warehouse resource. Other databases get
batches of multi-row inserts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import sqlalchemy as sa

from lms_assets.errors import WarehouseError
from lms_assets.mysql_connection import local_file_allowed


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
