"""Sensors and schedules evaluated against a real Dagster instance and the sandbox."""

import dataclasses
import datetime as dt

import dagster as dg

from lms_assets import partitions
from lms_assets.automation import courses_in_request
from lms_assets.moodle.definitions import moodle_daily_schedule
from lms_assets.openedx.definitions import openedx_course_discovery, openedx_daily_schedule
from lms_assets.openedx.resources import OpenEdxApiResource


def tick(sandbox, instance, cursor=None):
    api = OpenEdxApiResource(base_url=sandbox.openedx_base_url, session_id=sandbox.session_id)
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"openedx_api": api}
    )
    result = openedx_course_discovery(context)
    if isinstance(result, dg.SensorResult):
        for request in result.dynamic_partitions_requests or []:  # what the daemon does
            instance.add_dynamic_partitions(request.partitions_def_name, request.partition_keys)
    return result


def test_discovery_adds_courses_once_then_only_new_ones(sandbox, instance, capfd) -> None:
    first_courses = list(sandbox.university.courses)
    first = tick(sandbox, instance)
    assert isinstance(first, dg.SensorResult)
    assert first.dynamic_partitions_requests[0].partition_keys == first_courses
    # Discovery only registers: the daily schedule loads the new courses (no doubled runs).
    assert first.run_requests == []

    second = tick(sandbox, instance, cursor=first.cursor)
    assert isinstance(second, dg.SkipReason)
    assert "no new courses (2 known" in second.skip_message

    new_course = sandbox.university.add_course(2)
    bad = dataclasses.replace(new_course, course_id="course-v1:BAD|KEY+1")
    sandbox.university.courses[bad.course_id] = bad
    third = tick(sandbox, instance, cursor=first.cursor)
    assert third.dynamic_partitions_requests[0].partition_keys == [new_course.course_id]
    assert "skipped course 'course-v1:BAD|KEY+1'" in capfd.readouterr().err
    assert instance.get_dynamic_partitions("openedx_courses") == [
        *first_courses,
        new_course.course_id,
    ]


def test_a_course_gone_from_the_source_is_kept_and_reported(sandbox, instance, capfd) -> None:
    tick(sandbox, instance)
    gone = next(iter(sandbox.university.courses))
    del sandbox.university.courses[gone]
    result = tick(sandbox, instance)
    assert isinstance(result, dg.SkipReason) and "1 no longer listed" in result.skip_message
    assert f"no longer listed, kept: {gone}" in capfd.readouterr().err
    assert gone in instance.get_dynamic_partitions("openedx_courses")


def test_daily_schedule_covers_500_courses_in_five_runs(instance) -> None:
    courses = [f"course-v1:UNI+C{n:03d}+2026" for n in range(500)]
    partitions.register_courses(instance, partitions.openedx_courses, courses)
    when = dt.datetime(2026, 3, 10, 7, 0, tzinfo=dt.UTC)
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    requests = openedx_daily_schedule(context)
    assert len(requests) == 5  # bound: ceil(courses / LMS_COURSES_PER_RUN=100)
    covered = [c for r in requests for c in courses_in_request(r, courses)]
    assert covered == courses  # every course once, none twice
    assert {r.tags["dagster/asset_partition_range_end"].split("|")[1] for r in requests} == {
        "2026-03-10"
    }
    assert len({r.run_key for r in requests}) == 5


def test_moodle_schedule_takes_todays_counts_and_yesterdays_logs(instance) -> None:
    courses = [str(n) for n in range(2, 252)]
    partitions.register_courses(instance, partitions.moodle_courses, courses)
    when = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)
    requests = moodle_daily_schedule(
        dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
    )
    by_day: dict[str, list[str]] = {}
    for request in requests:
        day = request.tags["dagster/asset_partition_range_start"].split("|")[1]
        by_day.setdefault(day, []).extend(courses_in_request(request, courses))
    assert by_day == {"2026-03-10": courses, "2026-03-09": courses}
    assert len(requests) == 6  # 3 batches of <= 100 courses, for each of the two days
    selections = {
        r.tags["dagster/asset_partition_range_start"][-10:]: r.asset_selection for r in requests
    }
    assert selections["2026-03-10"] == [dg.AssetKey("user_counts")]
    assert selections["2026-03-09"] == [
        dg.AssetKey("activity_counts"),
        dg.AssetKey("user_activity"),
    ]


def test_raw_data_waits_for_the_days_tracking_tables(instance) -> None:
    """The 07:00 snapshots alone do not start raw_data; the tracking tables of the same day do."""
    from lms_assets.definitions import defs
    from lms_assets.openedx.features import FEATURE_DEPS as SNAPSHOT_INPUTS
    from lms_assets.tracking.features import FEATURE_DEPS as TRACKING_INPUTS

    course, day = "course-v1:Org+Auto+2026", partitions.today()
    instance.add_dynamic_partitions(partitions.openedx_courses.name, [course])
    key = partitions.Partition(course, day).partition_key
    raw_data = dg.AssetKey("raw_data")

    def stored(*tables: str) -> None:
        for table in tables:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(dg.AssetKey(table), partition=key)
            )

    stored(*SNAPSHOT_INPUTS)
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert key not in first.get_requested_partitions(raw_data)

    stored(*TRACKING_INPUTS)
    second = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    assert second.get_requested_partitions(raw_data) == {key}

    # Requested once: nothing changed since, nothing more to do.
    third = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=second.cursor)
    assert third.get_requested_partitions(raw_data) == set()
