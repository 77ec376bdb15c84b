"""The one write path fed a stream of Arrow batches, on SQLite and MariaDB alike."""

from collections import Counter
from collections.abc import Iterator

import pyarrow as pa
import pytest
import sqlalchemy as sa

from lms_assets.loading import write_scope
from lms_assets.partitions import Partition, Scope
from lms_assets.warehouse import ArrowStream, RejectedRecord, WarehouseError
from lms_assets.warehouse.schema import rejected_records
from lms_assets_tests.test_warehouse import COURSE, DAY, OTHER, _row, _stored

HERE, THERE = Partition(COURSE, DAY), Partition(OTHER, DAY)


def _batch(*rows: tuple[str, int]) -> pa.Table:
    return pa.Table.from_pylist([_row(course, uid) for course, uid in rows])


def _batches() -> Iterator[pa.Table | pa.RecordBatch]:
    """Six rows in four batches: an empty one, one of two partitions, a RecordBatch."""
    yield _batch((COURSE, 3), (COURSE, 1), (COURSE, 2))
    yield _batch()
    yield _batch((OTHER, 9), (COURSE, 4))
    yield _batch((COURSE, 5)).to_batches()[0]


def test_a_stream_lands_counted_per_partition_and_rewrites_identically(warehouse) -> None:
    scope = Scope.of([HERE, THERE])
    stream = ArrowStream(_batches())
    report = write_scope(warehouse, scope, {"enrollments": stream}, asset_name="streamed")
    assert [r[2] for r in _stored(warehouse)] == [1, 2, 3, 4, 5]
    assert [r[2] for r in _stored(warehouse, OTHER)] == [9]
    assert report.rows["enrollments"] == Counter({HERE: 5, THERE: 1})
    assert [r["user_id"] for r in report.samples["enrollments"]] == [3, 1, 2, 9, 4, 5]
    first = _stored(warehouse) + _stored(warehouse, OTHER)

    summary = warehouse.replace_partitions("enrollments", scope, ArrowStream(_batches()))
    assert (summary.rows_deleted, summary.rows_written) == (6, 6)
    assert _stored(warehouse) + _stored(warehouse, OTHER) == first
    with pytest.raises(WarehouseError, match="read once"):  # a spent iterator is not re-read
        warehouse.replace_partitions("enrollments", scope, stream)
    assert _stored(warehouse) + _stored(warehouse, OTHER) == first


class ReaderBroke(Exception):
    pass


def _failing(kind: str) -> Iterator[pa.Table]:
    yield _batch((COURSE, 10), (COURSE, 11))
    yield _batch((COURSE, 12))
    if kind == "reader":
        raise ReaderBroke("the package file ended mid-record")
    if kind == "duplicate":  # the database refuses it after two batches are in
        yield _batch((COURSE, 13), (COURSE, 10))
    if kind == "outside":
        yield _batch((OTHER, 13))


@pytest.mark.parametrize("kind", ["reader", "duplicate", "outside"])
def test_a_failure_in_a_later_batch_keeps_the_previous_partition(warehouse, kind) -> None:
    kept = RejectedRecord(HERE, "test", "an earlier refusal")
    warehouse.replace_partitions(
        "enrollments", [HERE], [_row(COURSE, 1), _row(COURSE, 2)], rejected=[kept]
    )
    before = _stored(warehouse)
    refused = (
        ReaderBroke
        if kind == "reader"
        else (WarehouseError, sa.exc.IntegrityError)  # MariaDB's LOAD DATA warns, SQLite raises
    )
    with pytest.raises(refused):
        warehouse.replace_partitions(
            "enrollments", [HERE], ArrowStream(_failing(kind)), rejected=[]
        )
    assert _stored(warehouse) == before
    reasons = warehouse.read_frame(sa.select(rejected_records.c.reason))["reason"].tolist()
    assert reasons == ["an earlier refusal"]


def test_refusals_found_while_streaming_are_kept_with_the_rows(warehouse) -> None:
    refused: list[RejectedRecord] = []

    def reading() -> Iterator[pa.Table]:
        for start in (1, 4):
            refused.append(RejectedRecord(HERE, "test", f"line {start + 3} unreadable"))
            yield _batch(*((COURSE, uid) for uid in range(start, start + 3)))

    summary = warehouse.replace_partitions(
        "enrollments", [HERE], ArrowStream(reading()), rejected=lambda: refused
    )
    assert (summary.rows_written, summary.rejected_written) == (6, 2)
    reasons = warehouse.read_frame(
        sa.select(rejected_records.c.reason).order_by(rejected_records.c.seq)
    )["reason"].tolist()
    assert reasons == ["line 4 unreadable", "line 7 unreadable"]
