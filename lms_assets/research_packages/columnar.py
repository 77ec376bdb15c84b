"""Big files as Arrow columns: what keeps a million-record studentmodule file small in memory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from lms_assets.partitions import Partition
from lms_assets.research_packages import schema

ARROW_CHUNK = 10_000  # rows held as Python dicts at once while a big file is read


def arrow_rows(table: str, rows: Iterable[dict[str, Any]], partition: Partition) -> pa.Table:
    """``rows`` as one Arrow table of ``table``'s columns, converted ARROW_CHUNK at a time.

    A courseware_studentmodule file can hold millions of records; as Arrow columns a row
    costs its stored values (~60 bytes: ids and numbers, text as dictionary indices), not
    a dict's (~1 KB), and the state JSON is never held. Written through the warehouse's
    bulk path (LOAD DATA on MySQL/MariaDB).
    """
    columns = [
        c
        for c in schema.metadata.tables[table].columns
        if c.name not in ("loaded_at", "course_id", "snapshot_date")
    ]
    arrow_schema = pa.schema(
        [(c.name, _ARROW_TYPES[type(c.type).__name__]) for c in columns] + [("line", pa.int32())]
    )
    chunks, batch = [], []
    for row in rows:
        batch.append(row)
        if len(batch) == ARROW_CHUNK:
            chunks.append(_compact(pa.Table.from_pylist(batch, arrow_schema)))
            batch = []
    chunks.append(_compact(pa.Table.from_pylist(batch, arrow_schema)))
    data = pa.concat_tables(chunks).unify_dictionaries()
    n = data.num_rows
    day = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array([partition.day]))
    course = pa.DictionaryArray.from_arrays(
        pa.array([0] * n, pa.int32()), pa.array([partition.course_id], pa.string())
    )
    return data.add_column(0, "snapshot_date", day).add_column(0, "course_id", course)


def _compact(chunk: pa.Table) -> pa.Table:
    """Text columns dictionary-encoded: a course has thousands of modules, not millions."""
    for index, field in enumerate(chunk.schema):
        if pa.types.is_string(field.type):
            chunk = chunk.set_column(index, field.name, pc.dictionary_encode(chunk[field.name]))
    return chunk


_ARROW_TYPES = {
    "String": pa.string(),
    "VARCHAR": pa.string(),
    "Date": pa.date32(),
    "BigInteger": pa.int64(),
    "Integer": pa.int32(),
    "Double": pa.float64(),
    "DateTime": pa.timestamp("s"),
}
