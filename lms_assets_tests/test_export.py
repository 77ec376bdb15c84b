"""`lms-assets export`: pages in key order, CSV or Parquet, clear refusals."""

import datetime as dt

import pandas as pd
import pytest

from lms_assets.export import export_page
from lms_assets.partitions import Partition

DAY = dt.date(2026, 3, 10)


@pytest.fixture
def report(sqlite_warehouse):
    rows = [
        {"course_id": cid, "snapshot_date": DAY, "course_name": f"Course {cid}", "total_views": n}
        for cid, n in (("3", 30), ("1", 10), ("2", 20))
    ]
    other_day = {**rows[0], "snapshot_date": DAY + dt.timedelta(days=1)}
    sqlite_warehouse.write(
        [Partition(r["course_id"], r["snapshot_date"]) for r in [*rows, other_day]],
        {"user_activity": [*rows, other_day]},
        asset_name="fixture",
    )
    return sqlite_warehouse


def test_pages_follow_the_key_order_without_overlap(report, tmp_path) -> None:
    first = export_page(report, "user_activity", DAY, output=tmp_path / "a.csv", limit=2)
    second = export_page(report, "user_activity", DAY, output=tmp_path / "b.csv", limit=2, offset=2)
    assert (first.rows, first.has_next, second.rows, second.has_next) == (2, True, 1, False)
    pages = [pd.read_csv(tmp_path / name, dtype={"course_id": str}) for name in ("a.csv", "b.csv")]
    assert [list(p["course_id"]) for p in pages] == [["1", "2"], ["3"]]
    assert list(pages[1]["total_views"]) == [30]


def test_parquet_round_trip(report, tmp_path) -> None:
    page = export_page(
        report,
        "user_activity",
        DAY,
        output=tmp_path / "r.parquet",
        file_format="parquet",
        course_id="2",
    )
    frame = pd.read_parquet(tmp_path / "r.parquet")
    assert page.rows == 1
    assert frame[["course_id", "course_name", "total_views"]].values.tolist() == [
        ["2", "Course 2", 20]
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"table_name": "nope"}, "unknown table 'nope'"),
        ({"limit": 0}, "limit must be between 1 and 100000"),
        ({"offset": -1}, "offset must be >= 0"),
        ({"file_format": "parquet", "output": None}, "give --output FILE"),
    ],
)
def test_bad_requests_are_refused_clearly(report, kwargs, message) -> None:
    arguments = {"table_name": "user_activity", "day": DAY, "output": None, **kwargs}
    with pytest.raises(ValueError, match=message):
        export_page(report, **arguments)
