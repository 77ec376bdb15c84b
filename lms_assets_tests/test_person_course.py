"""person_course of the hand-made package, column by column, and the package sensor.

The figures come from reading the fixture's files by hand (see test_research_packages.py):
4 chapters in the structure; alice touched ch1 (the chapter row, p1 as i4x://), ch2 (p2)
and ch3 (h3): 3 chapters, explored; bob only v1 (ch1); chloé p1 and p2 (2 = half:
explored); dave p2 (its grade unreadable, the row kept); eve nothing. Tracking events:
alice 4 up to the export date (one under the old-style course id, one on the next day
left out), one of them a video play; bob 1 play; mallory is not enrolled.
"""

from __future__ import annotations

import datetime as dt
import hmac
import os
import shutil
import time

import dagster as dg
import pandas as pd
import pyarrow as pa

from lms_assets.partitions import Partition
from lms_assets.research_packages.pseudonyms import ripemd160_constructor, ripemd160_hex
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.research_packages.sensors import research_package_files
from lms_assets.tracking.store import store_events
from lms_assets_tests.test_research_packages import (
    COURSE,
    DAY,
    EMPTY_COURSE,
    FIXTURE,
    _materialize,
)

OLD_STYLE = "HarvardX/QK-101/2026_T1"
COLUMNS = [
    "user_id", "registered", "viewed", "explored", "certified", "completed", "grade", "mode",
    "start_time", "nchapters", "nforum_posts", "nevents", "ndays_act", "nplay_video",
    "first_event", "last_event", "gender", "year_of_birth", "level_of_education", "country",
]  # fmt: skip
T = dt.datetime
BY_HAND = [
    [1, 1, 1, 1, 1, 1, 0.92, "verified", T(2026, 1, 10, 9, 5), 3, 2,
     4, 3, 1, T(2026, 2, 28, 10), T(2026, 3, 2, 23), "f", 1990, "b", "US"],
    [2, 1, 1, 0, 0, 0, 0.3, "audit", T(2026, 1, 11, 10), 1, 1,
     1, 1, 1, T(2026, 3, 1, 12), T(2026, 3, 1, 12), "m", None, "hs", "VN"],
    [3, 1, 1, 1, 0, 0, 0.41, "honor", T(2026, 1, 12, 11), 2, 0,
     0, 0, 0, None, None, None, None, "p", "FR"],
    [4, 1, 1, 0, 0, 0, None, "audit", T(2026, 1, 13, 12), 1, 0,
     0, 0, 0, None, None, "o", 1985, "m", "FR"],
    [5, 1, 0, 0, 1, 1, 0.8, "verified", T(2026, 1, 14, 13), 0, 0,
     0, 0, 0, None, None, None, None, None, None],
]  # fmt: skip


STAGED = pa.schema(
    [
        ("course_id", pa.string()),
        ("snapshot_date", pa.date32()),
        ("event_id", pa.string()),
        ("time", pa.timestamp("us")),
        ("username", pa.string()),
        ("event_type", pa.string()),
        ("page", pa.string()),
    ]
)


def _events(warehouse, pseudonym_key: str | None = None) -> None:
    """The tracking events, stored as the tracking load stores them (narrow, with the
    username's pseudonym the split computes, keyed when the site sets a key)."""

    def event(n, course, day, at, user, kind):
        return {
            "course_id": course,
            "snapshot_date": day,
            "event_id": f"{n:040x}",
            "time": at,
            "username": user,
            "event_type": kind,
            "page": None,
        }

    d = dt.date
    rows = [
        event(1, OLD_STYLE, d(2026, 2, 28), T(2026, 2, 28, 10), "alice", "/courses/x/courseware"),
        event(2, COURSE, d(2026, 3, 1), T(2026, 3, 1, 9), "alice", "play_video"),
        event(3, COURSE, d(2026, 3, 1), T(2026, 3, 1, 9, 10), "alice", "pause_video"),
        event(4, COURSE, d(2026, 3, 2), T(2026, 3, 2, 23), "alice", "problem_check"),
        event(5, COURSE, d(2026, 3, 3), T(2026, 3, 3, 8), "alice", "play_video"),  # after export
        event(6, COURSE, d(2026, 3, 1), T(2026, 3, 1, 12), "bob", "edx.video.played"),
        event(7, COURSE, d(2026, 3, 1), T(2026, 3, 1, 13), "mallory", "play_video"),
        event(8, COURSE, d(2026, 3, 1), T(2026, 3, 1, 14), None, "play_video"),
    ]
    for partition in sorted({Partition(r["course_id"], r["snapshot_date"]) for r in rows}):
        mine = [r for r in rows if Partition(r["course_id"], r["snapshot_date"]) == partition]
        table = pa.Table.from_pylist(mine, schema=STAGED)
        store_events(warehouse, partition, table, pseudonym_key)  # hashed as the split does


def _stored(warehouse) -> pd.DataFrame:
    frame = warehouse.read_partitions("person_course", [Partition(COURSE, DAY)])
    return frame.sort_values("user_id").reset_index(drop=True)


def _plain(frame: pd.DataFrame) -> list[list]:
    values = []
    for row in frame[COLUMNS].astype(object).itertuples(index=False):
        cells = []
        for value in row:
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                cells.append(None)
            elif isinstance(value, pd.Timestamp | dt.datetime):
                cells.append(pd.Timestamp(value).to_pydatetime())
            elif isinstance(value, bool) or (
                isinstance(value, float) and value.is_integer() and value > 1
            ):
                cells.append(int(value))
            else:
                cells.append(value)
        values.append(cells)
    return values


def test_person_course_matches_the_hand_computation(tmp_path, warehouse, instance) -> None:
    shutil.copytree(FIXTURE, tmp_path / FIXTURE.name)
    _events(warehouse)
    [result] = _materialize(tmp_path, warehouse, instance, [(COURSE, DAY)])
    assert result.success
    stored = _stored(warehouse)
    assert _plain(stored) == BY_HAND
    assert stored["username_hash"].tolist() == [
        ripemd160_hex(u) for u in ("alice", "bob", "chloé", "dave", "eve.o'neil")
    ]


def test_keyed_pseudonyms_join_packages_and_logs_alike(
    tmp_path, warehouse, instance, monkeypatch
) -> None:
    """With LMS_PSEUDONYM_KEY both sides store HMAC-RIPEMD160(key, username): still joined."""
    shutil.copytree(FIXTURE, tmp_path / FIXTURE.name)
    _events(warehouse, pseudonym_key="site secret")
    keyed = ResearchPackageFolderResource(path=str(tmp_path), pseudonym_key="site secret")
    [result] = _materialize(tmp_path, warehouse, instance, [(COURSE, DAY)], resource=keyed)
    assert result.success
    stored = _stored(warehouse)
    assert _plain(stored) == BY_HAND
    assert stored["username_hash"].tolist() == [
        hmac.new(b"site secret", u.encode(), ripemd160_constructor()).hexdigest()
        for u in ("alice", "bob", "chloé", "dave", "eve.o'neil")
    ]


def test_without_tracking_events_the_activity_is_null(tmp_path, sqlite_warehouse, instance):
    shutil.copytree(FIXTURE, tmp_path / FIXTURE.name)
    _materialize(tmp_path, sqlite_warehouse, instance, [(COURSE, DAY)])
    stored = _stored(sqlite_warehouse)
    activity = ["nevents", "ndays_act", "nplay_video", "first_event", "last_event"]
    assert stored[activity].isna().all().all()
    assert stored["nchapters"].tolist() == [3, 1, 2, 1, 0]  # the package's own columns stay


def test_the_sensor_registers_new_and_changed_packages_once(tmp_path, instance) -> None:
    folder = tmp_path / "packages"
    shutil.copytree(FIXTURE, folder / FIXTURE.name)
    shutil.copytree(FIXTURE, folder / "HarvardX-2024-12-31")  # before the partitions start
    resource = ResearchPackageFolderResource(path=str(folder))

    def evaluate(cursor):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"research_packages": resource}
        )
        return research_package_files(context)

    first = evaluate(None)
    assert isinstance(first, dg.SensorResult)
    keys = sorted(str(r.partition_key) for r in first.run_requests)
    assert keys == [f"{EMPTY_COURSE}|{DAY}", f"{COURSE}|{DAY}"]
    [added] = first.dynamic_partitions_requests
    assert (added.partitions_def_name, sorted(added.partition_keys)) == (
        "research_package_courses",
        [EMPTY_COURSE, COURSE],
    )
    instance.add_dynamic_partitions("research_package_courses", [COURSE, EMPTY_COURSE])
    assert isinstance(evaluate(first.cursor), dg.SkipReason)  # nothing new: nothing requested
    changed = next((folder / FIXTURE.name).glob("*-prod.mongo"))
    later = time.time() + 5
    os.utime(changed, (later, later))
    again = evaluate(first.cursor)
    assert sorted(str(r.partition_key) for r in again.run_requests) == keys
    assert {r.run_key for r in again.run_requests}.isdisjoint(r.run_key for r in first.run_requests)
    assert again.dynamic_partitions_requests == []  # the courses were registered already
    missing = ResearchPackageFolderResource(path=str(tmp_path / "nowhere"))
    context = dg.build_sensor_context(instance=instance, resources={"research_packages": missing})
    assert "does not exist" in research_package_files(context).skip_message
