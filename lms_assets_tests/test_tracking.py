"""Tracking logs on a hand-made fixture holding every defect real files have.

Day D = 2026-03-10 (UTC). File A (`tracking.log-2026-03-10`, plain) is D's own file;
file B (`tracking-2026-03-11.log.gz`) holds one late event of D (rotation is after
midnight), one event of the 11th and one bad line (judged on the 11th, not here).

Hand counts for D: quarantined 4 (truncated JSON, invalid JSON, an array, no time),
skipped 1 blank + 1 comment + 1 event without any course; split 10 events to VID
(one of them read twice) and 1 to OLD (old-style id); stored 9 + 1.
"""

import dataclasses
import datetime as dt
import gzip
import json
import shutil

import dagster as dg
import pandas as pd
import pyarrow as pa
import pytest
import sqlalchemy as sa

from lms_assets import partitions, settings
from lms_assets.partitions import Partition
from lms_assets.tracking import assets as tracking
from lms_assets.tracking import splitting
from lms_assets.tracking.parsing import Event, Quarantined, Skipped, parse_line
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()

VID, OLD = "course-v1:UNI+VID+2026", "UNI/OLD101/2025"
D = "2026-03-10"


def event(
    event_type,
    when,
    user=None,
    course=VID,
    source="browser",
    payload=None,
    session=None,
    page=None,
    as_string=True,
):
    record = {
        "event_type": event_type,
        "time": when,
        "event_source": source,
        "username": f"u{user}" if user else None,
        "session": session,
        "page": page,
        "context": {"user_id": user, "course_id": course, "path": "/event"},
    }
    if payload is not None:
        record["event"] = json.dumps(payload) if as_string else payload
    return json.dumps(record)


PLAY_1 = event(
    "play_video", f"{D}T08:00:00Z", 1, payload={"id": "v1", "currentTime": 10}, session="s1"
)
FILE_A = [
    "",
    "# rotated by logrotate",
    PLAY_1,
    "2026-03-10 08:01:40,000 INFO 123 [tracking] logger.py:41 - "
    + event(
        "pause_video", f"{D}T08:01:40Z", 1, payload={"id": "v1", "currentTime": 100}, session="s1"
    ),
    '{"event_type": "play_video", "time": "2026-03-10T08:0',
    '{"event_type": play_video}',
    event(
        "problem_check",
        f"{D}T09:00:00Z",
        2,
        source="server",
        session="s2",
        as_string=False,
        payload={"problem_id": "p1", "success": "correct", "attempts": 1},
    ),
    event(
        "problem_check",
        f"{D}T09:05:00Z",
        2,
        source="server",
        session="s2",
        as_string=False,
        payload={"problem_id": "p1", "success": "incorrect", "attempts": 2},
    ),
    event(
        f"/courses/{VID}/courseware/ch1/",
        f"{D}T08:02:00Z",
        1,
        course="",
        source="server",
        session="s1",
    ),
    event("seq_goto", f"{D}T10:00:00Z", 3, course=OLD, session="s3"),
    event(
        "seek_video",
        f"{D}T10:05:00Z",
        3,
        course="",
        session="s3",
        page=f"https://lms.example.edu/courses/{VID}/courseware/x/y/",
        payload={"id": "v1", "currentTime": 200},
    ),
    event("edx.user.login", f"{D}T07:00:00Z", 4, course=""),
    PLAY_1,  # the same event delivered twice
    "[1, 2]",
    json.dumps({"event_type": "play_video", "context": {"course_id": VID}}),
    event(
        "edx.forum.thread.created",
        f"{D}T11:00:00Z",
        2,
        source="server",
        session="s2",
        as_string=False,
        payload={"commentable_id": "d1"},
    ),
    event("play_video", "2026-03-09T23:59:59Z", 1, payload={"id": "v1", "currentTime": 1}),
    event("play_video", f"{D}T10:04:00Z", 3, session="s3", payload={"id": "v1", "currentTime": 0}),
]
FILE_B = [
    event("play_video", f"{D}T23:59:30Z", 2, session="s2", payload={"id": "v1", "currentTime": 5}),
    event("play_video", "2026-03-11T00:10:00Z", 2, payload={"id": "v1", "currentTime": 6}),
    "{broken",
]


@pytest.fixture
def logs(tmp_path) -> TrackingLogFolderResource:
    folder = tmp_path / "logs" / "lms-1"
    folder.mkdir(parents=True)
    (folder / f"tracking.log-{D}").write_text("\n".join(FILE_A) + "\n")
    with gzip.open(folder / "tracking-2026-03-11.log.gz", "wt") as handle:
        handle.write("\n".join(FILE_B) + "\n")
    return TrackingLogFolderResource(
        path=str(tmp_path / "logs"), staging_path=str(tmp_path / "staging")
    )


def test_each_defect_is_read_or_quarantined_with_its_reason() -> None:
    outcomes = [parse_line(line.encode()) for line in FILE_A]
    assert [type(o).__name__ for o in outcomes] == [
        "Skipped",
        "Skipped",
        "Event",
        "Event",
        "Quarantined",
        "Quarantined",
        "Event",
        "Event",
        "Event",
        "Event",
        "Event",
        "Event",  # the login names no course: a site-level event (course_id "")
        "Event",
        "Quarantined",
        "Quarantined",
        "Event",
        "Event",
        "Event",
    ]
    pause, page_view, old, seek = outcomes[3], outcomes[8], outcomes[9], outcomes[10]
    assert (outcomes[11].course_id, outcomes[11].course_from) == ("", "none")
    assert (pause.event_type, pause.module_id, pause.video_position) == ("pause_video", "v1", 100.0)
    assert (page_view.course_id, page_view.course_from) == (VID, "event_type")
    assert (old.course_id, old.course_from) == (OLD, "context")
    assert (seek.course_id, seek.course_from) == (VID, "page")
    assert outcomes[6].problem_success is True and outcomes[7].problem_success is False
    assert outcomes[2].event_id == outcomes[12].event_id
    assert [o.reason for o in outcomes if isinstance(o, Quarantined)] == [
        "invalid JSON (unexpected end of data)",
        "invalid JSON (unexpected character, expected a JSON value)",
        "no JSON object on the line",
        "invalid time: time is missing",
    ]
    assert [o.kind for o in outcomes if isinstance(o, Skipped)] == ["blank", "comment"]
    assert isinstance(outcomes[2], Event)


LENIENT = {"ops": {"tracking_log_split": {"config": {"max_quarantine_ratio": 0.5}}}}


def run(assets, logs, warehouse, instance, key, run_config=None, raise_on_error=True):
    return dg.materialize(
        assets,
        instance=instance,
        partition_key=key,
        run_config=run_config,
        raise_on_error=raise_on_error,
        resources={"tracking_logs": logs, "warehouse": warehouse},
    )


def rows(warehouse, table_name, columns):
    table = schema.tables[table_name]
    with warehouse.engine.connect() as conn:
        query = sa.select(*(table.c[c] for c in columns))
        return sorted(tuple(r) for r in conn.execute(query))


def test_a_day_loads_with_exact_counts(logs, warehouse, instance) -> None:
    partitions.register_courses(instance, partitions.openedx_courses, [VID, OLD])
    split = run([tracking.tracking_log_split], logs, warehouse, instance, D, LENIENT)
    assert split.success
    meta = split.asset_materializations_for_node("tracking_log_split")[0].metadata
    assert (
        meta["events"].value,
        meta["quarantined"].value,
        meta["blank_lines"].value,
        meta["comment_lines"].value,
        meta["events_without_course"].value,
    ) == (11, 4, 1, 1, 1)
    assert rows(warehouse, "tracking_split_counts", ["course_id", "events"]) == [
        (OLD, 1),
        (VID, 10),
    ]
    assert rows(warehouse, "tracking_quarantine", ["line_number", "reason"]) == [
        (5, "invalid JSON (unexpected end of data)"),
        (6, "invalid JSON (unexpected character, expected a JSON value)"),
        (14, "no JSON object on the line"),
        (15, "invalid time: time is missing"),
    ]

    course_assets = [
        tracking.tracking_events,
        tracking.learner_daily_activity,
        tracking.video_engagement,
        tracking.problem_activity,
    ]
    for course in (VID, OLD):
        result = run(
            course_assets,
            logs,
            warehouse,
            instance,
            Partition(course, partitions.to_date(D)).partition_key,
        )
        assert result.success
        assert all(e.passed for e in result.get_asset_check_evaluations())

    by_type = {}
    for course, event_type in rows(warehouse, "tracking_events", ["course_id", "event_type"]):
        by_type[(course, event_type)] = by_type.get((course, event_type), 0) + 1
    assert by_type == {
        (VID, "play_video"): 3,
        (VID, "pause_video"): 1,
        (VID, "problem_check"): 2,
        (VID, f"/courses/{VID}/courseware/ch1/"): 1,
        (VID, "seek_video"): 1,
        (VID, "edx.forum.thread.created"): 1,
        (OLD, "seq_goto"): 1,
    }
    assert rows(
        warehouse,
        "learner_daily_activity",
        [
            "course_id",
            "user_id",
            "events",
            "active_minutes",
            "sessions",
            "video_plays",
            "video_pauses",
            "video_seeks",
            "problem_checks",
            "problem_correct",
            "forum_posts",
            "pages_viewed",
        ],
    ) == sorted(
        [
            (VID, 1, 3, 2.0, 1, 1, 1, 0, 0, 0, 0, 1),
            (VID, 2, 4, 15.0, 1, 1, 0, 0, 2, 1, 1, 0),
            (VID, 3, 2, 1.0, 1, 1, 0, 1, 0, 0, 0, 0),
            (OLD, 3, 1, 0.0, 1, 0, 0, 0, 0, 0, 0, 0),
        ]
    )
    assert rows(
        warehouse,
        "video_engagement",
        ["course_id", "video_id", "viewers", "plays", "completion_estimate"],
    ) == [(VID, "v1", 3, 3, 33.33)]
    assert rows(
        warehouse,
        "problem_activity",
        ["course_id", "problem_id", "learners", "attempts", "correct_rate"],
    ) == [(VID, "p1", 1, 2, 50.0)]


def test_splitting_the_same_files_again_doubles_nothing(logs, warehouse, instance) -> None:
    partitions.register_courses(instance, partitions.openedx_courses, [VID, OLD])
    key = Partition(VID, partitions.to_date(D)).partition_key
    for _ in range(2):
        assert run([tracking.tracking_log_split], logs, warehouse, instance, D, LENIENT).success
        assert run([tracking.tracking_events], logs, warehouse, instance, key).success
    assert len(rows(warehouse, "tracking_events", ["event_id"])) == 9
    assert len(rows(warehouse, "tracking_quarantine", ["line_number"])) == 4


def test_too_many_quarantined_lines_fail_the_blocking_check(logs, sqlite_warehouse, instance):
    result = run(
        [tracking.tracking_log_split], logs, sqlite_warehouse, instance, D, raise_on_error=False
    )
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    check = checks["quarantine_ratio"]
    assert check.passed is False
    assert check.metadata["worst_ratio"].value == pytest.approx(4 / 18)
    assert not result.success


def test_raw_data_gains_behaviour_from_the_logs(logs, warehouse, instance) -> None:
    import datetime as dt

    from lms_assets.features.raw_data import raw_data
    from lms_assets.tracking.features import TRACKING_COLUMNS

    assert TRACKING_COLUMNS == (
        "tracking_active_days_30d",
        "tracking_events_7d",
        "tracking_events_30d",
        "tracking_video_plays_30d",
        "tracking_problem_checks_30d",
        "tracking_problem_correct_30d",
        "tracking_last_event_at",
    )

    day = partitions.to_date(D)
    partitions.register_courses(instance, partitions.openedx_courses, [VID, OLD])
    assert run([tracking.tracking_log_split], logs, warehouse, instance, D, LENIENT).success
    key = Partition(VID, day).partition_key
    assert run(
        [tracking.tracking_events, tracking.learner_daily_activity], logs, warehouse, instance, key
    ).success

    def older(days_back: int, events: int) -> None:  # learner 5's activity on an earlier day
        past = day - dt.timedelta(days=days_back)
        warehouse.write(
            [Partition(VID, past)],
            {
                "learner_daily_activity": [
                    {
                        "course_id": VID,
                        "snapshot_date": past,
                        "user_id": 5,
                        "events": events,
                        "video_plays": 1,
                        "problem_checks": 0,
                        "problem_correct": 0,
                        "last_event_at": dt.datetime.combine(past, dt.time(12)),
                    }
                ]
            },
            asset_name="fixture",
        )

    older(10, 4)  # inside 30 days, outside 7
    older(30, 100)  # exactly 30 days back: outside the window
    base = {"course_id": VID, "snapshot_date": day}
    warehouse.write(
        [Partition(VID, day)],
        {
            "enrollments": [{**base, "user_id": u, "is_active": True} for u in (1, 2, 3, 5)],
            "mooc_progress": [
                {**base, "user_id": 1, "last_activity": dt.datetime(2026, 3, 1)},
                {**base, "user_id": 5, "last_activity": dt.datetime(2026, 3, 9, 12)},
            ],
        },
        asset_name="fixture",
    )
    assert dg.materialize(
        [raw_data], instance=instance, partition_key=key, resources={"warehouse": warehouse}
    ).success
    got = rows(
        warehouse,
        "raw_data",
        ["user_id", *TRACKING_COLUMNS, "days_since_last_activity"],
    )
    assert got == [
        (1, 1, 3, 3, 1, 0, 0, dt.datetime(2026, 3, 10, 8, 2), 0),  # the log beats the export
        (2, 1, 4, 4, 1, 2, 1, dt.datetime(2026, 3, 10, 23, 59, 30), 0),
        (3, 1, 2, 2, 1, 0, 0, dt.datetime(2026, 3, 10, 10, 5), 0),
        (5, 1, 0, 4, 1, 0, 0, dt.datetime(2026, 2, 28, 12), 1),
    ]


def test_the_file_sensor_notices_new_and_changed_files_once(logs, instance) -> None:
    from lms_assets.tracking.sensors import tracking_log_files

    def tick(cursor=None):
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"tracking_logs": logs}
        )
        return tracking_log_files(context)

    first = tick()
    # File A (10th) holds the 10th and the 9th; file B (11th) the 11th and the 10th.
    assert [r.partition_key for r in first.run_requests] == [
        "2026-03-09",
        "2026-03-10",
        "2026-03-11",
    ]
    second = tick(first.cursor)
    assert isinstance(second, dg.SkipReason)
    changed = next(p for p in logs.files() if p.name == f"tracking.log-{D}")
    changed.write_text(changed.read_text() + FILE_A[2] + "\n")
    third = tick(first.cursor)
    assert [r.partition_key for r in third.run_requests] == ["2026-03-09", "2026-03-10"]


def test_a_successful_split_requests_the_course_tables_in_batches(
    logs, sqlite_warehouse, instance
) -> None:
    """150 registered courses and the two the split registers itself (VID, OLD), in batches
    of 100: two runs for the split day; a second tick finds nothing new."""
    from lms_assets.automation import courses_in_request
    from lms_assets.definitions import defs
    from lms_assets.tracking.sensors import tracking_courses_after_split

    courses = [f"course-v1:UNI+C{n:03d}+2026" for n in range(150)]
    partitions.register_courses(instance, partitions.openedx_courses, courses)
    split = defs.resolve_job_def("tracking_split").execute_in_process(
        instance=instance,
        partition_key=D,
        run_config=LENIENT,
        resources={"tracking_logs": logs, "warehouse": sqlite_warehouse},
    )
    assert split.success
    known = list(instance.get_dynamic_partitions(partitions.openedx_courses.name))
    assert known == [*courses, OLD, VID]  # registered by the split, in sorted order
    result = tracking_courses_after_split(dg.build_sensor_context(instance=instance))
    requests = result.run_requests
    assert [r.job_name for r in requests] == ["tracking_courses", "tracking_courses"]
    assert [c for r in requests for c in courses_in_request(r, known)] == known
    assert {r.tags["dagster/asset_partition_range_start"][-10:] for r in requests} == {D}
    again = tracking_courses_after_split(
        dg.build_sensor_context(instance=instance, cursor=result.cursor)
    )
    assert isinstance(again, dg.SkipReason)


def test_several_days_split_in_one_run_like_a_backfill(logs, warehouse, instance) -> None:
    from lms_assets.definitions import defs

    result = defs.resolve_job_def("tracking_split").execute_in_process(
        instance=instance,
        run_config=LENIENT,
        resources={"tracking_logs": logs, "warehouse": warehouse},
        tags={
            "dagster/asset_partition_range_start": "2026-03-09",
            "dagster/asset_partition_range_end": "2026-03-11",
        },
    )
    assert result.success
    assert len(instance.get_run_records()) == 1
    counts = rows(warehouse, "tracking_split_counts", ["snapshot_date", "course_id", "events"])
    day = partitions.to_date
    assert counts == [
        (day("2026-03-09"), VID, 1),  # user 1's 23:59:59 event, found in the 10th's file
        (day("2026-03-10"), OLD, 1),
        (day("2026-03-10"), VID, 10),
        (day("2026-03-11"), VID, 1),  # the 00:10 event in the 11th's file
    ]
    quarantined = rows(
        warehouse, "tracking_quarantine", ["snapshot_date", "file_name", "line_number"]
    )
    assert [(d, f, n) for d, f, n in quarantined if d == day("2026-03-11")] == [
        (day("2026-03-11"), "lms-1/tracking-2026-03-11.log.gz", 3)  # path below the folder
    ]
    assert len(quarantined) == 5  # the 10th's four and the 11th's one: each judged once


def test_pieces_own_every_line_exactly_once(tmp_path) -> None:
    """Whatever the cut points (mid-line, on a newline, past the end), lines are not lost or
    read twice, and line numbers stay file-wide."""
    path = tmp_path / f"tracking-{D}.log"
    path.write_text("\n".join(FILE_A) + "\n")
    expected = path.read_bytes().splitlines(keepends=True)
    for piece_bytes in (1, 7, 150, 151, 152, 1000, len(path.read_bytes())):
        pieces = splitting.plan_pieces([(path, True)], piece_bytes)
        lines = [line for piece in pieces for line in splitting.piece_lines(piece)]
        assert lines == expected, piece_bytes


def test_a_file_cut_into_pieces_splits_like_a_whole_one(tmp_path) -> None:
    """Two worker processes on 300-byte pieces == one pass: same counts, same quarantined
    line numbers (5, 6, 14, 15, as in the hand count), the same staged events."""
    path = tmp_path / f"tracking.log-{D}"
    path.write_text("\n".join(FILE_A) + "\n")
    start, end = partitions.day_window(partitions.to_date(D), "UTC")
    whole = splitting.split_day([(path, True)], start, end, tmp_path / "whole", workers=1)
    cut = splitting.split_day(
        [(path, True)],
        start,
        end,
        tmp_path / "cut",
        workers=2,
        piece_bytes=300,
        parallel_min_bytes=0,
    )
    size = path.stat().st_size
    assert (whole.pieces, cut.pieces) == (1, -(-size // 300)) and cut.pieces > 10
    assert cut.counts == whole.counts
    # File A alone: the hand count without file B's late event.
    assert cut.counts["events"] == 10 and cut.courses == {VID: 9, OLD: 1}
    assert [(line, reason) for _, line, reason, _ in cut.quarantine] == [
        (5, "invalid JSON (unexpected end of data)"),
        (6, "invalid JSON (unexpected character, expected a JSON value)"),
        (14, "no JSON object on the line"),
        (15, "invalid time: time is missing"),
    ]
    assert cut.quarantine == whole.quarantine
    for course in (VID, OLD):
        staged = splitting.read_course(tmp_path / "cut", course).sort_by("event_id")
        assert staged.equals(splitting.read_course(tmp_path / "whole", course).sort_by("event_id"))
    unique = splitting.unique_events(splitting.read_course(tmp_path / "cut", VID))
    assert unique.num_rows == 8  # PLAY_1 was delivered twice
    assert unique["event_id"].to_pylist() == sorted(set(unique["event_id"].to_pylist()))


def test_one_run_loads_several_courses_side_by_side(logs, warehouse, instance) -> None:
    """Course-days load in parallel transactions (MariaDB: READ COMMITTED, no gap-lock
    deadlocks); the result is the hand count and every blocking check passes."""
    partitions.register_courses(instance, partitions.openedx_courses, [VID, OLD])
    assert run([tracking.tracking_log_split], logs, warehouse, instance, D, LENIENT).success
    for _ in range(2):  # the second run replaces both courses at once
        result = dg.materialize(
            [tracking.tracking_events],
            instance=instance,
            resources={"tracking_logs": logs, "warehouse": warehouse},
            tags={
                "dagster/asset_partition_range_start": f"{VID}|{D}",
                "dagster/asset_partition_range_end": f"{OLD}|{D}",
            },
        )
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {
            "unique_event_ids": True,
            "events_inside_day": True,
            "counts_match_split": True,
        }
    assert rows(warehouse, "tracking_split_counts", ["course_id", "events"]) == [
        (OLD, 1),
        (VID, 10),
    ]
    stored = rows(warehouse, "tracking_events", ["course_id"])
    assert (stored.count((VID,)), stored.count((OLD,))) == (9, 1)


def test_events_outside_the_partition_day_fail_the_check(
    logs, sqlite_warehouse, instance, monkeypatch
):
    """Split with UTC days, loaded after LMS_TIMEZONE changed: VID's 23:59:30 UTC event lies
    after the Ho Chi Minh day's end (17:00 UTC), so the blocking check fails."""
    partitions.register_courses(instance, partitions.openedx_courses, [VID, OLD])
    assert run([tracking.tracking_log_split], logs, sqlite_warehouse, instance, D, LENIENT).success
    monkeypatch.setattr(
        settings, "current", dataclasses.replace(settings.current, timezone="Asia/Ho_Chi_Minh")
    )
    key = Partition(VID, partitions.to_date(D)).partition_key
    result = run(
        [tracking.tracking_events], logs, sqlite_warehouse, instance, key, raise_on_error=False
    )
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "unique_event_ids": True,
        "events_inside_day": False,
        "counts_match_split": True,
    }


def test_a_missing_staging_never_replaces_stored_events(logs, warehouse, instance) -> None:
    """The staging of a loaded course-day is deleted; re-running its load fails with the
    remedy and the 9 stored events stay."""
    partitions.register_courses(instance, partitions.openedx_courses, [VID, OLD])
    key = Partition(VID, partitions.to_date(D)).partition_key
    assert run([tracking.tracking_log_split], logs, warehouse, instance, D, LENIENT).success
    assert run([tracking.tracking_events], logs, warehouse, instance, key).success
    shutil.rmtree(logs.staging_dir(partitions.to_date(D)) / splitting.course_dir_name(VID))
    with pytest.raises(
        dg.Failure, match=r"staging holds 0 events but tracking_log_split counted 10"
    ):
        run([tracking.tracking_events], logs, warehouse, instance, key)
    assert len(rows(warehouse, "tracking_events", ["event_id"])) == 9


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        (1773100800, dt.datetime(2026, 3, 10)),  # Unix seconds
        (1773100800123, dt.datetime(2026, 3, 10, 0, 0, 0, 123000)),  # milliseconds
        (1773100800.5, dt.datetime(2026, 3, 10, 0, 0, 0, 500000)),
    ],
)
def test_a_numeric_time_is_read_as_unix_time(time, expected) -> None:
    line = json.dumps({"event_type": "play_video", "time": time, "context": {"course_id": VID}})
    event = parse_line(line.encode())
    assert isinstance(event, Event) and event.time == expected


def test_a_time_that_is_no_date_is_quarantined_saying_so() -> None:
    line = json.dumps({"event_type": "play_video", "time": True, "context": {"course_id": VID}})
    outcome = parse_line(line.encode())
    assert isinstance(outcome, Quarantined)
    assert outcome.reason == "invalid time: time True is not a date"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"username": "u" * 151}, "username is 151 characters long (limit 150)"),
        ({"session": "s" * 65}, "session is 65 characters long (limit 64)"),
        ({"event_source": "x" * 33}, "event_source is 33 characters long (limit 32)"),
        ({"username": {"first": "Ann"}}, "username is a dict, not text"),
        ({"context": {"course_id": VID, "user_id": 2**63}}, f"user_id {2**63} is outside"),
        ({"event": {"attempts": 2**31}}, f"attempts {2**31} is outside 0..{2**31 - 1}"),
    ],
)
def test_values_the_table_cannot_hold_are_quarantined_naming_the_field(fields, reason) -> None:
    """Such a value used to fail the course-day's MariaDB load on every retry."""
    record = {"event_type": "problem_check", "time": "2026-03-10T08:00:00+00:00"}
    record["context"] = {"course_id": VID}
    record.update(fields)
    outcome = parse_line(json.dumps(record).encode())
    assert isinstance(outcome, Quarantined)
    assert outcome.reason.startswith(reason)


def test_a_numeric_username_is_kept_as_text() -> None:
    record = {"event_type": "play_video", "time": "2026-03-10T08:00:00Z", "username": 12345}
    record["context"] = {"course_id": VID}
    event = parse_line(json.dumps(record).encode())
    assert isinstance(event, Event) and event.username == "12345"


def _event_line(user_id: int, second: int) -> str:
    return json.dumps(
        {
            "event_type": "play_video",
            "time": f"{D}T10:{second // 60:02d}:{second % 60:02d}+00:00",
            "context": {"course_id": VID, "user_id": user_id},
        }
    )


def test_two_servers_files_of_the_same_name_keep_their_quarantine_apart(
    tmp_path, warehouse, instance
) -> None:
    """lms-1/ and lms-2/ both rotate tracking.log-<D>; each has a bad line 2, and lms-2's
    line 3 has a username MariaDB's column cannot hold. Every bad line stays (the quarantine
    key used to be the bare file name, so one overwrote the other) and the course-day's
    events load on both backends (the long username used to fail it on MariaDB)."""
    long_name = json.loads(_event_line(3, 2))
    long_name["username"] = "u" * 151
    for server, extra in (("lms-1", ""), ("lms-2", json.dumps(long_name) + "\n")):
        folder = tmp_path / "logs" / server
        folder.mkdir(parents=True)
        line = _event_line(1 if server == "lms-1" else 2, 0)
        (folder / f"tracking.log-{D}").write_text(f"{line}\n{{broken\n{extra}")
    logs = TrackingLogFolderResource(
        path=str(tmp_path / "logs"), staging_path=str(tmp_path / "staging")
    )
    lenient = {"ops": {"tracking_log_split": {"config": {"max_quarantine_ratio": 0.6}}}}
    partitions.register_courses(instance, partitions.openedx_courses, [VID])
    assert run([tracking.tracking_log_split], logs, warehouse, instance, D, lenient).success
    assert rows(warehouse, "tracking_quarantine", ["file_name", "line_number", "reason"]) == [
        (
            f"lms-1/tracking.log-{D}",
            2,
            "invalid JSON (unexpected character, expected a string key)",
        ),
        (
            f"lms-2/tracking.log-{D}",
            2,
            "invalid JSON (unexpected character, expected a string key)",
        ),
        (f"lms-2/tracking.log-{D}", 3, "username is 151 characters long (limit 150)"),
    ]
    key = Partition(VID, partitions.to_date(D)).partition_key
    assert run([tracking.tracking_events], logs, warehouse, instance, key).success
    assert rows(warehouse, "tracking_events", ["user_id"]) == [(1,), (2,)]


def test_a_truncated_gzip_keeps_what_was_read_and_quarantines_the_rest(
    tmp_path, warehouse, instance
) -> None:
    """A .gz cut short (a copy interrupted mid-file) used to fail the whole day without
    naming the file: now its complete lines are split, the break is one quarantined line
    naming the file and where, and the day's split succeeds."""
    folder = tmp_path / "logs"
    folder.mkdir()
    whole = gzip.compress(("\n".join(_event_line(n, n) for n in range(1, 2001)) + "\n").encode())
    (folder / f"tracking.log-{D}.gz").write_bytes(whole[: len(whole) // 2])
    logs = TrackingLogFolderResource(path=str(folder), staging_path=str(tmp_path / "staging"))
    assert run([tracking.tracking_log_split], logs, warehouse, instance, D, LENIENT).success
    [(name, line, reason)] = rows(
        warehouse, "tracking_quarantine", ["file_name", "line_number", "reason"]
    )
    [(events,)] = rows(warehouse, "tracking_split_counts", ["events"])
    assert name == f"tracking.log-{D}.gz"
    assert 0 < events < 2000 and line == events + 1  # every line before the break was kept
    assert reason.startswith(f"unreadable gzip after line {events}: EOFError")


def test_completion_estimate_matches_the_hand_computation() -> None:
    """Hand count. Video a: length 200 s (u4's seek); viewers u1 (played twice, furthest
    190 >= 180), u2 (furthest 100), u3 (played, no position): 1 of 3 = 33.33. u4 only
    seeked: not a viewer. Video b: two viewers, no position known at all: NULL, not 0."""
    t = pd.Timestamp("2026-03-10 10:00")

    def event(user, kind, video, position):
        return {
            "course_id": VID,
            "snapshot_date": partitions.to_date(D),
            "user_id": user,
            "event_type": kind,
            "module_id": video,
            "video_position": position,
            "time": t,
        }

    events = pd.DataFrame(
        [
            event(1, "play_video", "a", 0.0),
            event(1, "pause_video", "a", 95.0),
            event(1, "play_video", "a", 95.0),
            event(1, "pause_video", "a", 190.0),
            event(2, "play_video", "a", 10.0),
            event(2, "pause_video", "a", 100.0),
            event(3, "play_video", "a", None),
            event(4, "seek_video", "a", 200.0),
            event(5, "play_video", "b", None),
            event(6, "play_video", "b", None),
        ]
    )
    frame = tracking.video_frame(events).set_index("video_id")
    assert frame.loc["a", ["viewers", "plays", "completion_estimate"]].tolist() == [3, 4, 33.33]
    assert frame.loc["b", ["viewers", "plays"]].tolist() == [2, 2]
    assert pd.isna(frame.loc["b", "completion_estimate"])


def test_each_distinct_username_is_hashed_once_per_batch(monkeypatch) -> None:
    """username_hash: RIPEMD160 of the username (the seed's test vector for "abc"), NULL
    without one; six lines of two learners cost two hashes (and one for the empty name)."""
    from lms_assets.research_packages.pseudonyms import TEST_VECTOR, ripemd160_hex
    from lms_assets.tracking import keys

    hashed: list[str] = []
    plain = keys._pseudonymizer(None)
    keys._pseudonym.cache_clear()
    monkeypatch.setattr(keys, "_pseudonymizer", lambda key: lambda n: hashed.append(n) or plain(n))
    names = pa.array(["abc", None, "abc", "bob", "abc", ""])
    try:
        stored = keys.username_hashes(names, None).to_pylist()
    finally:
        keys._pseudonym.cache_clear()
    abc, bob = TEST_VECTOR[1], ripemd160_hex("bob")
    assert stored == [abc, None, abc, bob, abc, None]
    assert sorted(hashed) == ["", "abc", "bob"]
