"""LTI automation and reruns: the daily schedule, course discovery, idempotency, API faults."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd

from lms_assets import partitions
from lms_assets.lti.assets import lti_courses
from lms_assets.lti.definitions import days_of_run, lti_course_discovery, lti_daily_schedule
from lms_assets.lti.parsing import UNKNOWN_COURSE
from lms_assets.sandbox import FaultConfig, Sandbox
from lms_assets.sandbox.lti_attempts import BAD_RECORDS_PER_DAY
from lms_assets_tests.conftest import make_university
from lms_assets_tests.test_lti import api_of, materialize_days


def test_the_daily_schedule_loads_yesterday_of_every_course_in_one_run(instance) -> None:
    courses = [f"course-v1:UNI+C{n:03d}+2026" for n in range(250)]
    partitions.register_courses(instance, lti_courses, courses)
    when = dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)
    requests = lti_daily_schedule(
        dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    )
    assert len(requests) == 1  # one API request answers every course: one run
    assert requests[0].tags["dagster/asset_partition_range_start"] == f"{courses[0]}|2026-03-09"
    assert requests[0].tags["dagster/asset_partition_range_end"] == f"{courses[-1]}|2026-03-09"
    assert requests[0].job_name == "lti_daily"


def test_the_report_follows_each_day_of_a_finished_daily_run() -> None:
    tags = {
        "dagster/asset_partition_range_start": "course-v1:A+1+2026|2026-02-27",
        "dagster/asset_partition_range_end": "course-v1:Z+9+2026|2026-03-01",
    }
    assert days_of_run(tags) == ["2026-02-27", "2026-02-28", "2026-03-01"]
    assert days_of_run({"dagster/partition": "course-v1:A+1+2026|2026-03-09"}) == ["2026-03-09"]
    assert days_of_run({}) == []


def test_discovery_registers_the_courses_of_the_attempts_and_the_unknown_one(
    sandbox, instance
) -> None:
    # 48 hours back from any time of today cover the whole of yesterday.
    api = api_of(sandbox, discovery_lookback_hours=48)
    assert api.recent_course_keys(sandbox.university.now)[-1] == UNKNOWN_COURSE
    context = dg.build_sensor_context(instance=instance, resources={"lti_api": api})
    result = lti_course_discovery(context)
    assert isinstance(result, dg.SensorResult) and result.run_requests == []
    # The sandbox's days carry one attempt of no derivable course: it gets its partition.
    assert sorted(result.dynamic_partitions_requests[0].partition_keys) == sorted(
        [*sandbox.university.courses, UNKNOWN_COURSE]
    )


def snapshot(warehouse) -> dict[str, pd.DataFrame]:
    """The LTI tables and their refusals without loaded_at, in a stable order."""
    frames = {}
    for table, order in (
        ("lti_attempts", "course_id, snapshot_date, user_id, attempt_type, created_at"),
        ("attempt_daily_stats", "course_id, snapshot_date"),
        ("rejected_records", "asset_name, partition_key, seq"),
    ):
        frame = warehouse.read_frame(f"SELECT * FROM {table} ORDER BY {order}")
        frames[table] = frame.drop(columns=["loaded_at"]).reset_index(drop=True)
    return frames


def test_three_reruns_and_20_percent_api_faults_give_the_same_tables(warehouse, instance) -> None:
    university = make_university()
    courses = [*university.courses, UNKNOWN_COURSE]
    last = university.today - dt.timedelta(days=1)
    first = last - dt.timedelta(days=4)
    with Sandbox(university, FaultConfig(retry_after_seconds=0.0)) as clean:
        assert materialize_days(clean, warehouse, instance, first, last, courses).success
        assert len(clean.lti.requests) == 5  # five days, one request each, all courses
    reference = snapshot(warehouse)
    stored = reference["lti_attempts"]
    assert set(stored.course_id) == set(courses)
    rejected = reference["rejected_records"]
    assert (rejected.asset_name == "lti_attempts").sum() == 5 * BAD_RECORDS_PER_DAY

    for _ in range(3):
        with Sandbox(university, FaultConfig(retry_after_seconds=0.0)) as again:
            assert materialize_days(again, warehouse, instance, first, last, courses).success
        for name, frame in snapshot(warehouse).items():
            pd.testing.assert_frame_equal(frame, reference[name], check_dtype=False)

    faults = FaultConfig(
        error_rate=0.1, throttle_rate=0.05, malformed_rate=0.05, retry_after_seconds=0.0, seed=4
    )
    with Sandbox(university, faults) as faulty:
        result = materialize_days(faulty, warehouse, instance, first, last, courses)
        assert result.success
        assert faulty.served_count("fault") + faulty.served_count("lti_attempts", 200) > 5
        assert faulty.served_count("fault") >= 1  # faults did happen
    for name, frame in snapshot(warehouse).items():
        pd.testing.assert_frame_equal(frame, reference[name], check_dtype=False)
