"""A site that has nothing but tracking logs (seed 003's OpenPolyEdu), through the sensors.

Hand-made three days, 2026-03-10 .. 2026-03-12 (UTC), three courses and site-level events:

    day  course                     events            site-level (no course)
    10   A course-v1:POLY+A+2026    3 (u1 u1 u2)      login u1, dashboard u1, login u2,
         B course-v1:POLY+B+2026    1 (u3)            /register (anonymous)
    11   B                          2 (u3 u4)         login u3
         C POLY/C/2025 (old style)  1 (u4)
    12   A                          1 (u1)            (none)
         C                          2 (u2 u2)

Nothing registers a course but the split; no Open edX API is configured.
"""

import datetime as dt
import json
import random

import dagster as dg
import pytest
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.definitions import defs
from lms_assets.tracking import splitting
from lms_assets.tracking.assets import tracking_events
from lms_assets.tracking.parsing import Event, Quarantined, parse_line
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.tracking.sensors import tracking_courses_after_split, tracking_log_files
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()
A, B, C = "course-v1:POLY+A+2026", "course-v1:POLY+B+2026", "POLY/C/2025"
DAYS = [dt.date(2026, 3, 10), dt.date(2026, 3, 11), dt.date(2026, 3, 12)]


def line(day: int, hour: int, event_type: str, user: int | None, course: str = "", **extra):
    record = {
        "event_type": event_type,
        "time": f"2026-03-{day}T{hour:02d}:00:00+00:00",
        "event_source": "server",
        "username": f"u{user}" if user else "",
        "session": f"s{user}" if user else None,
        "context": {"course_id": course, "user_id": user, "path": event_type},
        **extra,
    }
    return json.dumps(record)


COURSE_LINES = [
    line(10, 8, "play_video", 1, A, event={"id": "v1", "currentTime": 1}),
    line(10, 9, "seq_goto", 1, A),
    line(10, 10, "problem_check", 2, A),
    line(10, 11, "seq_goto", 3, B),
    line(11, 8, "seq_goto", 3, B),
    line(11, 9, "seq_goto", 4, B),
    line(11, 10, "seq_goto", 4, C),
    line(12, 8, "seq_goto", 1, A),
    line(12, 9, "play_video", 2, C),
    line(12, 10, "pause_video", 2, C),
]
SITE_LINES = [
    line(10, 7, "edx.user.login", 1),
    line(10, 7, "/dashboard", 1, page="https://lms.example.edu/dashboard"),
    line(10, 8, "edx.user.login", 2),
    line(10, 12, "/register", None),
    line(11, 7, "edx.user.login", 3),
]
STORED = {
    (A, DAYS[0]): 3,
    (B, DAYS[0]): 1,
    (B, DAYS[1]): 2,
    (C, DAYS[1]): 1,
    (A, DAYS[2]): 1,
    (C, DAYS[2]): 2,
}


def logs_in(tmp_path, files: dict[str, list[str]]) -> TrackingLogFolderResource:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n")
    return TrackingLogFolderResource(path=str(folder), staging_path=str(tmp_path / "staging"))


def mixed_file(tmp_path) -> TrackingLogFolderResource:
    """One export named for its last day holding all three days, shuffled."""
    lines = COURSE_LINES + SITE_LINES
    random.Random(3).shuffle(lines)
    return logs_in(tmp_path, {"tracking.log-2026-03-12": lines})


def daily_files(tmp_path) -> TrackingLogFolderResource:
    by_day: dict[str, list[str]] = {}
    for text in COURSE_LINES + SITE_LINES:
        by_day.setdefault(json.loads(text)["time"][:10], []).append(text)
    return logs_in(tmp_path, {f"tracking.log-{day}": lines for day, lines in by_day.items()})


def drive_sensors(instance, logs, warehouse) -> list[tuple[str, str]]:
    """Tick both sensors and run what they request until they request nothing more.

    Returns (job, partitions) of every run launched, in order.
    """
    cursors: dict[str, str | None] = {}
    resources = {"tracking_logs": logs, "warehouse": warehouse}
    launched = []
    for _ in range(10):
        requests = []
        for sensor in (tracking_log_files, tracking_courses_after_split):
            context = dg.build_sensor_context(
                instance=instance, cursor=cursors.get(sensor.name), resources=resources
            )
            result = sensor(context)
            if isinstance(result, dg.SensorResult):
                cursors[sensor.name] = result.cursor
                requests += result.run_requests or []
        if not requests:
            return launched
        for request in requests:
            job = request.job_name or "tracking_split"
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance,
                partition_key=request.partition_key,
                tags=request.tags,
                resources=resources,
            )
            assert result.success
            shown = request.partition_key or "..".join(
                request.tags[k]
                for k in (
                    "dagster/asset_partition_range_start",
                    "dagster/asset_partition_range_end",
                )
            )
            launched.append((job, shown))
    raise AssertionError(f"the sensors never settle: {launched}")


def stored(warehouse, table_name: str, columns: list[str]) -> list[tuple]:
    table = schema.tables[table_name]
    with warehouse.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(sa.select(*(table.c[c] for c in columns))))


def events_per_course_day(warehouse) -> dict:
    counts: dict = {}
    for course, day in stored(warehouse, "tracking_events", ["course_id", "snapshot_date"]):
        key = (course, partitions.to_date(day))
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.parametrize("layout", [mixed_file, daily_files], ids=["one-mixed-file", "daily"])
def test_a_logs_only_site_loads_every_course_through_the_sensors(
    layout, tmp_path, warehouse, instance
) -> None:
    logs = layout(tmp_path)
    launched = drive_sensors(instance, logs, warehouse)
    registered = instance.get_dynamic_partitions(partitions.openedx_courses.name)
    assert sorted(registered) == sorted([A, B, C])
    assert events_per_course_day(warehouse) == STORED
    if layout is mixed_file:
        # The file is named for the 12th: the sensor splits the 12th and the 11th; the 12th's
        # split finds the 10th's events and has it split; each day then loads its courses.
        assert [run for run in launched if run[0] == "tracking_split"] == [
            ("tracking_split", "2026-03-11"),
            ("tracking_split", "2026-03-12"),
            ("tracking_split", "2026-03-10..2026-03-10"),
        ]
    loaded_days = sorted(
        {p.split("..")[0].split("|")[1] for job, p in launched if job == "tracking_courses"}
    )
    assert loaded_days == ["2026-03-10", "2026-03-11", "2026-03-12"]  # not the 9th: no events
    activity = stored(warehouse, "learner_daily_activity", ["course_id", "user_id", "events"])
    assert activity == sorted(
        [(A, 1, 2), (A, 2, 1), (B, 3, 1), (B, 3, 1), (B, 4, 1), (C, 4, 1), (A, 1, 1), (C, 2, 2)]
    )


def test_site_level_events_land_in_their_tables_with_exact_counts(
    tmp_path, warehouse, instance
) -> None:
    logs = mixed_file(tmp_path)
    drive_sensors(instance, logs, warehouse)
    d10, d11 = DAYS[0], DAYS[1]
    assert stored(
        warehouse,
        "site_daily_events",
        ["snapshot_date", "event_type", "events", "learners", "anonymous_events"],
    ) == [
        (d10, "/dashboard", 1, 1, 0),
        (d10, "/register", 1, 0, 1),
        (d10, "edx.user.login", 2, 2, 0),
        (d11, "edx.user.login", 1, 1, 0),
    ]
    assert stored(
        warehouse,
        "site_learner_daily",
        ["snapshot_date", "user_id", "events", "event_types", "sessions"],
    ) == [(d10, 1, 2, 2, 1), (d10, 2, 1, 1, 1), (d11, 3, 1, 1, 1)]
    # Splitting the 10th again replaces its rows with the same ones; the check agrees.
    again = defs.resolve_job_def("tracking_split").execute_in_process(
        instance=instance,
        partition_key="2026-03-10",
        resources={"tracking_logs": logs, "warehouse": warehouse},
    )
    checks = {e.check_name: e.passed for e in again.get_asset_check_evaluations()}
    assert checks["site_events_match_split"] is True
    assert len(stored(warehouse, "site_daily_events", ["event_type"])) == 4


def test_a_day_before_the_start_date_is_reported_then_loaded_after_moving_it(
    tmp_path, warehouse, instance, monkeypatch
) -> None:
    """With the daily dimension starting on the 12th, the 10th's and 11th's files are
    reported (not marked seen); with the start moved back to the 10th they are split."""
    logs = daily_files(tmp_path)
    original = partitions.daily_partitions

    def start_on(day: str) -> None:
        monkeypatch.setattr(
            partitions,
            "daily_partitions",
            dg.DailyPartitionsDefinition(start_date=day, timezone="UTC", end_offset=1),
        )

    start_on("2026-03-12")
    first = tracking_log_files(
        dg.build_sensor_context(instance=instance, resources={"tracking_logs": logs})
    )
    assert [r.partition_key for r in first.run_requests] == ["2026-03-12"]
    state = json.loads(first.cursor)
    assert sorted(state["outside"].values()) == ["2026-03-10", "2026-03-11"]
    assert sorted(state["seen"]) == [f"{logs.path}/tracking.log-2026-03-12"]

    start_on("2026-03-10")
    second = tracking_log_files(
        dg.build_sensor_context(
            instance=instance, cursor=first.cursor, resources={"tracking_logs": logs}
        )
    )
    assert [r.partition_key for r in second.run_requests] == ["2026-03-10", "2026-03-11"]
    assert json.loads(second.cursor)["outside"] == {}
    monkeypatch.setattr(partitions, "daily_partitions", original)
    drive_sensors(instance, logs, warehouse)
    assert events_per_course_day(warehouse) == STORED


def test_events_of_days_before_the_start_fail_a_check_until_the_start_moves(
    tmp_path, warehouse, instance, monkeypatch
) -> None:
    """The mixed file's split (12th) with the dimension starting on the 11th: its 4 course and
    4 site events of the 10th are outside; the check says how many; after moving the start,
    splitting the 10th (as the docs say) loads them from the same file."""
    logs = mixed_file(tmp_path)
    resources = {"tracking_logs": logs, "warehouse": warehouse}
    with monkeypatch.context() as patched:
        patched.setattr(
            partitions,
            "daily_partitions",
            dg.DailyPartitionsDefinition(start_date="2026-03-11", timezone="UTC", end_offset=1),
        )
        split = defs.resolve_job_def("tracking_split").execute_in_process(
            instance=instance, partition_key="2026-03-12", resources=resources
        )
    checks = {e.check_name: e for e in split.get_asset_check_evaluations()}
    assert checks["other_days_within_partitions"].passed is False
    assert checks["other_days_within_partitions"].metadata["violations"].value == 1
    meta = split.asset_materializations_for_node("tracking_log_split")[0].metadata
    assert (
        meta["events"].value,
        meta["events_of_previous_day"].value,
        meta["events_of_other_days"].value,
        meta["events_outside_partitions"].value,
        meta["days_to_split"].value,
    ) == (3, 4, 8, 8, [])
    assert (
        defs.resolve_job_def("tracking_split")
        .execute_in_process(instance=instance, partition_key="2026-03-10", resources=resources)
        .success
    )
    assert stored(
        warehouse, "tracking_split_counts", ["course_id", "snapshot_date", "events"]
    ) == sorted(
        [
            (A, DAYS[0], 3),
            (A, DAYS[2], 1),
            (B, DAYS[0], 1),
            (C, DAYS[2], 2),
        ]
    )


@pytest.mark.parametrize("per_day_figures", [True, False], ids=["per-day", "run-wide"])
def test_a_ranged_split_requests_loads_only_for_days_with_events(
    per_day_figures, tmp_path, sqlite_warehouse, instance, monkeypatch
) -> None:
    """A backfill-style run over the 7th .. the 12th launched by hand (not by a sensor):
    loads are requested for the 10th, 11th and 12th only, one batch each; also when the run
    is too large for per-day metadata (the limit lowered to 2 days here)."""
    if not per_day_figures:
        monkeypatch.setattr("lms_assets.tables.PER_PARTITION_METADATA_LIMIT", 2)
    logs = daily_files(tmp_path)
    result = defs.resolve_job_def("tracking_split").execute_in_process(
        instance=instance,
        resources={"tracking_logs": logs, "warehouse": sqlite_warehouse},
        tags={
            "dagster/asset_partition_range_start": "2026-03-07",
            "dagster/asset_partition_range_end": "2026-03-12",
        },
    )
    assert result.success
    records = instance.fetch_materializations(dg.AssetKey("tracking_log_split"), limit=10).records
    assert len(records) == 6
    assert all(("events" in r.asset_materialization.metadata) is per_day_figures for r in records)
    sensor = tracking_courses_after_split(dg.build_sensor_context(instance=instance))
    days = [
        r.tags["dagster/asset_partition_range_start"].split("|")[1] for r in sensor.run_requests
    ]
    assert days == ["2026-03-10", "2026-03-11", "2026-03-12"]
    assert {r.job_name for r in sensor.run_requests} == {"tracking_courses"}


def test_an_invalid_course_key_is_reported_by_name_and_count(tmp_path, warehouse, instance):
    bad = "course-v1:POLY+X|Y+2026"  # "|" cannot be in a partition key
    logs = logs_in(
        tmp_path,
        {
            "tracking.log-2026-03-10": [
                line(10, 8, "seq_goto", 1, bad),
                line(10, 9, "seq_goto", 1, bad),
                COURSE_LINES[0],
            ]
        },
    )
    result = defs.resolve_job_def("tracking_split").execute_in_process(
        instance=instance,
        partition_key="2026-03-10",
        resources={"tracking_logs": logs, "warehouse": warehouse},
    )
    assert result.success  # not blocking: the valid course still loads
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["course_keys_valid"].passed is False
    assert checks["course_keys_valid"].metadata["violations"].value == 1
    meta = result.asset_materializations_for_node("tracking_log_split")[0].metadata
    assert meta["unloadable_course_count"].value == 1
    assert meta["unloadable_courses"].value == {bad: 2}
    assert instance.get_dynamic_partitions(partitions.openedx_courses.name) == [A]


def test_studio_requests_are_kept_apart_from_learner_activity() -> None:
    studio = parse_line(
        line(10, 8, f"/settings/details/{A}", 9, A, host="studio.example.edu").encode()
    )
    by_path = parse_line(line(10, 8, f"/import_status/{A}/x.tar.gz", 9, A).encode())
    learner = parse_line(
        line(10, 8, f"/courses/{A}/courseware/", 9, A, host="lms.example.edu").encode()
    )
    assert (studio.from_studio, by_path.from_studio, learner.from_studio) == (True, True, False)

    import pandas as pd

    from lms_assets.tracking.assets import learner_daily_frame

    frame = pd.DataFrame([e._asdict() for e in (studio, by_path, learner)])
    frame["snapshot_date"] = DAYS[0]
    daily = learner_daily_frame(frame)
    assert daily[["user_id", "events", "pages_viewed"]].values.tolist() == [[9, 1, 1]]


# -- point 7: malformed field types -------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"username": True}, "username is a bool, not text"),
        ({"event_source": ["server"]}, "event_source is a list, not text"),
        ({"session": {"id": 1}}, "session is a dict, not text"),
        ({"context": {"course_id": A, "user_id": 2**63}}, "user_id 9223372036854775808 is outside"),
        ({"event": {"attempts": 2**63}}, "attempts 9223372036854775808 is outside"),
        (
            {"time": "2026-03-10T08:00:00+07:00Z"},
            "invalid time: time '2026-03-10T08:00:00+07:00Z' has two time zones",
        ),
        ({"context": {"course_id": {"org": "POLY"}}}, "context.course_id is a dict, not text"),
    ],
)
def test_a_malformed_field_quarantines_its_line(change, reason) -> None:
    record = json.loads(COURSE_LINES[2])
    record.update(change)
    outcome = parse_line(json.dumps(record).encode())
    assert isinstance(outcome, Quarantined) and outcome.reason.startswith(reason)


def test_a_unicode_digit_string_is_no_number() -> None:
    record = json.loads(COURSE_LINES[2])
    record["context"]["user_id"] = "²"
    record["event"] = {"attempts": "٣"}  # an Arabic-Indic digit: not ASCII either
    event = parse_line(json.dumps(record).encode())
    assert isinstance(event, Event) and (event.user_id, event.problem_attempts) == (None, None)


MUTANTS = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    2**31,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63) - 1,
    1e308,
    "",
    " ",
    "²",
    "٣",
    "12",
    "x" * 300,
    "😀\t\n\\\"'",
    "\x00",
    "2026-03-10T08:00:00+07:00Z",
    "2026-03-10T08:00:00-05:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "course-v1:POLY+A+2026",
    "course-v1:a|b",
    [],
    [1, "a"],
    {},
    {"id": "v"},
]
FIELDS = [
    ("event_type",),
    ("time",),
    ("username",),
    ("event_source",),
    ("session",),
    ("page",),
    ("host",),
    ("event",),
    ("context",),
    ("context", "course_id"),
    ("context", "user_id"),
    ("context", "module"),
    ("event", "id"),
    ("event", "currentTime"),
    ("event", "attempts"),
    ("event", "problem_id"),
    ("event", "success"),
    ("event", "discussion"),
]


def mutated_lines(count: int, seed: int) -> list[str]:
    """Fixture lines with 1-3 random type/value mutations each; some sent as browser events
    (event as a JSON string), some truncated."""
    rng = random.Random(seed)
    bases = [json.loads(text) for text in COURSE_LINES + SITE_LINES]
    for base in bases:
        base["event"] = {"id": "v1", "currentTime": 5, "attempts": 1, "problem_id": "p"}
    lines = []
    for _ in range(count):
        record = json.loads(json.dumps(rng.choice(bases)))
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(FIELDS)
            holder = record
            if len(path) == 2:
                if type(holder.get(path[0])) is not dict:
                    holder[path[0]] = {}
                holder = holder[path[0]]
            if rng.random() < 0.1:
                holder.pop(path[-1], None)
            else:
                holder[path[-1]] = rng.choice(MUTANTS)
        if type(record.get("event")) is dict and rng.random() < 0.3:
            record["event"] = json.dumps(record["event"])
        text = json.dumps(record, ensure_ascii=rng.random() < 0.5)
        if rng.random() < 0.03:
            text = text[: rng.randint(1, len(text))]
        lines.append(text)
    return lines


def test_fuzzed_lines_never_stop_the_split_and_each_is_stored_or_quarantined(
    tmp_path, warehouse, instance
) -> None:
    lines = mutated_lines(3000, seed=2026)
    logs = logs_in(tmp_path, {"tracking.log-2026-03-10": lines})
    start, end = partitions.day_window(DAYS[0], "UTC")
    split = splitting.split_day(
        [(tmp_path / "logs" / "tracking.log-2026-03-10", True)], start, end, tmp_path / "s", 1
    )
    counts = split.counts
    outcomes = [parse_line(text.encode()) for text in lines]
    quarantined = sum(isinstance(o, Quarantined) for o in outcomes)
    assert counts["lines"] == 3000 and counts["quarantined"] == quarantined
    assert 300 < quarantined < 2700  # the mutations hit both ways
    assert (
        counts["events"]
        + counts["site_events"]
        + counts["other_day"]
        + counts["quarantined"]
        + counts["blank"]
        + counts["comment"]
    ) == 3000

    # Through Dagster into the warehouse: the split and every loadable course's load succeed,
    # and the stored events plus duplicates equal what was split (checks pass).
    config = {"ops": {"tracking_log_split": {"config": {"max_quarantine_ratio": 1.0}}}}
    resources = {"tracking_logs": logs, "warehouse": warehouse}
    assert (
        defs.resolve_job_def("tracking_split")
        .execute_in_process(
            instance=instance, partition_key="2026-03-10", run_config=config, resources=resources
        )
        .success
    )
    courses = instance.get_dynamic_partitions(partitions.openedx_courses.name)
    assert A in courses
    loaded = dg.materialize(
        [tracking_events],
        instance=instance,
        resources=resources,
        tags={
            "dagster/asset_partition_range_start": f"{courses[0]}|2026-03-10",
            "dagster/asset_partition_range_end": f"{courses[-1]}|2026-03-10",
        },
    )
    assert loaded.success
    checks = {e.check_name: e.passed for e in loaded.get_asset_check_evaluations()}
    assert checks == {
        "unique_event_ids": True,
        "events_inside_day": True,
        "counts_match_split": True,  # stored + duplicates == split, for every course
    }
    split_counts = stored(warehouse, "tracking_split_counts", ["course_id", "events"])
    for course, _ in split_counts:  # a course not registered is one the key rules refuse
        if course not in courses:
            with pytest.raises(partitions.InvalidCourseKeyError):
                partitions.validate_course_key(course)
    assert (
        0
        < len(stored(warehouse, "tracking_events", ["event_id"]))
        <= sum(n for course, n in split_counts if course in courses)
    )
