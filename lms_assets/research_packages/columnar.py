"""Big files as bounded Arrow batches: a million-record studentmodule file in flat memory.

A file's rows are turned into Arrow tables of ``BATCH_ROWS`` rows (built ``ARROW_CHUNK``
Python dicts at a time) that the warehouse's write path loads one by one inside its
transaction; ``SeenKeys`` remembers the keys already kept, 8 bytes a record, so a
duplicate in a later batch is refused like one in the same batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa

from lms_assets.partitions import Partition
from lms_assets.research_packages import schema

BATCH_ROWS = 50_000  # rows per Arrow batch handed to the write (what is held at once)
ARROW_CHUNK = 10_000  # rows held as Python dicts at once while a batch is built
_NAME_BITS = 24  # a packed key: user id << 24 | index of the module id (16.7 M module ids)
_USER_LIMIT = 1 << (63 - _NAME_BITS)


def arrow_batches(
    table: str, rows: Iterable[dict[str, Any]], partition: Partition
) -> Iterator[pa.Table]:
    """``rows`` (each with its file ``line``) as Arrow tables of ``table``'s columns and
    ``line``, BATCH_ROWS rows each or a chunk more (the last one shorter, or empty)."""
    columns = [
        c
        for c in schema.metadata.tables[table].columns
        if c.name not in ("loaded_at", "course_id", "snapshot_date")
    ]
    arrow_schema = pa.schema(
        [(c.name, _ARROW_TYPES[type(c.type).__name__]) for c in columns] + [("line", pa.int32())]
    )
    chunks: list[pa.Table] = []
    held, dicts = 0, []
    for row in rows:
        dicts.append(row)
        if len(dicts) == ARROW_CHUNK:
            chunks.append(pa.Table.from_pylist(dicts, arrow_schema))
            held, dicts = held + len(dicts), []
            if held >= BATCH_ROWS:
                yield _placed(pa.concat_tables(chunks), partition)
                chunks, held = [], 0
    chunks.append(pa.Table.from_pylist(dicts, arrow_schema))
    yield _placed(pa.concat_tables(chunks), partition)


def _placed(data: pa.Table, partition: Partition) -> pa.Table:
    n = data.num_rows
    day = pa.DictionaryArray.from_arrays(pa.array([0] * n, pa.int32()), pa.array([partition.day]))
    course = pa.DictionaryArray.from_arrays(
        pa.array([0] * n, pa.int32()), pa.array([partition.course_id], pa.string())
    )
    return data.add_column(0, "snapshot_date", day).add_column(0, "course_id", course)


class SeenKeys:
    """The keys of the records kept so far: ``(user_id,)`` or ``(user_id, a text id)``.

    Held as one sorted int64 array (user id, shifted, with the index of the text id among
    the file's distinct ones: a course has thousands of modules, not millions), so a
    million records cost 8 MB; a key too wide to pack (a user id of 2^39 or more) is kept
    as a tuple apart.
    """

    def __init__(self, key: tuple[str, ...]) -> None:
        self.key = key
        self.packed = np.empty(0, np.int64)
        self.names: dict[Any, int] = {}
        self.wide: set[tuple[Any, ...]] = set()

    def refuse_repeats(self, data: pa.Table) -> np.ndarray:
        """Which rows of ``data`` (in line order) repeat a key kept before or earlier in
        ``data``; the others are remembered as kept."""
        users = data[self.key[0]].to_numpy(zero_copy_only=False).astype(np.int64)
        if len(self.key) == 2:
            index = self.names.setdefault
            names = [index(v, len(self.names)) for v in data[self.key[1]].to_pylist()]
            codes = np.array(names, np.int64) if names else np.empty(0, np.int64)
        else:
            codes = np.zeros(len(users), np.int64)
        narrow = (users >= 0) & (users < _USER_LIMIT) & (codes < 1 << _NAME_BITS)
        packed = np.where(narrow, (users << _NAME_BITS) | codes, -1)
        repeat = np.zeros(len(users), bool)
        _, first = np.unique(packed, return_index=True)
        repeat[np.setdiff1d(np.arange(len(users)), first)] = True  # again within the batch
        where = np.searchsorted(self.packed, packed)
        hit = where < len(self.packed)
        hit[hit] = self.packed[where[hit]] == packed[hit]
        repeat |= hit & narrow
        for i in np.flatnonzero(~narrow):  # rare: compared as tuples
            wide = (int(users[i]), int(codes[i]))
            repeat[i] = wide in self.wide
            self.wide.add(wide)
        new = np.sort(packed[narrow & ~repeat])
        self.packed = np.insert(self.packed, np.searchsorted(self.packed, new), new)
        return repeat


_ARROW_TYPES = {
    "String": pa.string(),
    "VARCHAR": pa.string(),
    "Boolean": pa.bool_(),
    "Date": pa.date32(),
    "BigInteger": pa.int64(),
    "Integer": pa.int32(),
    "Double": pa.float64(),
    "DateTime": pa.timestamp("us"),
}
