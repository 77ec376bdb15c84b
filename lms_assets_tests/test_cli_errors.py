"""A new user's usual mistakes cost one line each: what, where, why and the fix; exit non-zero."""

import datetime as dt
import os
import subprocess
import sys

import dagster as dg
import pytest

from lms_assets import partitions
from lms_assets.automation import courses_in_request
from lms_assets.openedx.definitions import openedx_daily_schedule


def lms_assets(tmp_path, *args: str, **env: str | None) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "LMS_DATA_DIR": str(tmp_path / "data"),
    }
    for name, value in env.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return subprocess.run(
        [sys.executable, "-m", "lms_assets.cli", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    output = (result.stdout + result.stderr).strip()
    assert len(output.splitlines()) == 1, output
    return output


def test_a_database_that_does_not_exist(tmp_path, mysql_database_url) -> None:
    url = mysql_database_url.rsplit("/", 1)[0] + "/no_such_lms_db"
    result = lms_assets(tmp_path, "demo", "--courses", "1", LMS_WAREHOUSE_URL=url)
    assert result.returncode != 0
    line = one_line(result)
    assert "the database no_such_lms_db does not exist" in line
    assert "CREATE DATABASE `no_such_lms_db` CHARACTER SET utf8mb4" in line


def test_a_closed_port_hides_the_password(tmp_path) -> None:
    url = "mysql+pymysql://lms:Sekr3tPw@127.0.0.1:9/lms"  # port 9 (discard): nothing listens
    result = lms_assets(tmp_path, "export", "enrollments", LMS_WAREHOUSE_URL=url)
    assert result.returncode == 2
    line = one_line(result)
    assert line == (
        "lms-assets export: cannot use the warehouse "
        "mysql+pymysql://lms:***@127.0.0.1:9/lms?charset=utf8mb4: nothing answers on "
        "127.0.0.1:9. Fix: start the server or correct the host and port in LMS_WAREHOUSE_URL."
    )


def test_a_missing_required_setting_is_named_with_an_example(tmp_path) -> None:
    result = lms_assets(
        tmp_path,
        "materialize",
        "openedx_daily",
        LMS_OPENEDX_BASE_URL=None,
        LMS_OPENEDX_SESSION_ID="s",
        LMS_H5P_BASE_URL="http://127.0.0.1:9/h5p",
    )
    assert result.returncode == 2
    assert one_line(result) == (
        "lms-assets materialize: LMS_OPENEDX_BASE_URL is not set: job openedx_daily needs the "
        "Open edX custom API root. Set it, e.g. export "
        "LMS_OPENEDX_BASE_URL=https://mooc.example.edu/api/custom/v1"
    )


def test_a_source_that_does_not_answer(tmp_path) -> None:
    result = lms_assets(
        tmp_path,
        "materialize",
        "openedx_daily",
        LMS_OPENEDX_BASE_URL="http://127.0.0.1:9/api/custom/v1",
        LMS_OPENEDX_SESSION_ID="s",
        LMS_H5P_BASE_URL="http://127.0.0.1:9/wp-json/mooc/v1",
    )
    assert result.returncode == 2
    assert one_line(result) == (
        "lms-assets materialize: the H5P API at http://127.0.0.1:9/wp-json/mooc/v1 does not "
        "answer (Connection error). Fix: check LMS_H5P_BASE_URL and that the host is "
        "reachable from here."
    )


@pytest.mark.parametrize("key, quoted", [("course-v1:Org+A|B+1", "'|'"), ("Org,A", "','")])
def test_a_course_key_dagster_cannot_carry(tmp_path, key, quoted) -> None:
    added = lms_assets(tmp_path, "add-course", "openedx", key, "course-v1:Org+Fine+1")
    assert added.returncode == 2
    assert f"Course key {key!r} contains {quoted}" in added.stderr
    assert "nothing added" in added.stderr

    run = lms_assets(
        tmp_path,
        "materialize",
        "raw_data_daily",
        "--course",
        key,
    )
    assert run.returncode == 2
    assert f"lms-assets materialize: Course key {key!r} contains {quoted}" in one_line(run)


def test_add_course_registers_valid_keys_once(tmp_path) -> None:
    first = lms_assets(tmp_path, "add-course", "moodle", "12", "13")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["12: added (moodle)", "13: added (moodle)"]
    again = lms_assets(tmp_path, "add-course", "moodle", "13")
    assert again.stdout.splitlines() == ["13: already registered (moodle)"]


def test_bad_keys_already_registered_are_skipped_by_the_schedule(instance) -> None:
    """Keys that entered through the UI's "Add partition" never land inside a run's range."""
    keys = ["course-v1:Org+A+1", "course-v1:Org+Bad,Key+1", "course-v1:Org+C+1"]
    instance.add_dynamic_partitions(partitions.openedx_courses.name, keys)
    context = dg.build_schedule_context(
        instance=instance, scheduled_execution_time=dt.datetime(2026, 3, 2, 7, 0)
    )
    requests = openedx_daily_schedule(context)
    assert [courses_in_request(r, keys) for r in requests] == [
        ["course-v1:Org+A+1"],
        ["course-v1:Org+C+1"],
    ]


def test_an_asset_refuses_a_bad_registered_key_with_the_fix(instance, sqlite_warehouse) -> None:
    from lms_assets.features.raw_data import raw_data

    key = "course-v1:Org+Bad,Key+1"
    instance.add_dynamic_partitions(partitions.openedx_courses.name, [key])
    result = dg.materialize(
        [raw_data],
        instance=instance,
        resources={"warehouse": sqlite_warehouse},
        partition_key=f"{key}|{partitions.today().isoformat()}",
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [e for e in result.all_events if e.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith(f"Course key {key!r} contains ','")
    assert "lms-assets remove-course SOURCE 'KEY'" in message


def test_materialize_runs_per_course_run_and_unpartitioned_jobs() -> None:
    """dropout_examples takes a range of course runs and no dates; dropout_training is one
    run without partitions; a course x day job keeps both in its range."""
    from lms_assets.definitions import defs
    from lms_assets.operate import run_requests

    runs = ["course-v1:U+A+1", "course-v1:U+B+1"]
    day = dt.date(2026, 3, 2)
    [examples] = run_requests(defs.resolve_job_def("dropout_examples"), runs, day, day)
    assert (
        examples.tags["dagster/asset_partition_range_start"],
        examples.tags["dagster/asset_partition_range_end"],
    ) == tuple(runs)
    [training] = run_requests(defs.resolve_job_def("dropout_training"), None, day, day)
    assert not any(t.startswith("dagster/asset_partition") for t in training.tags)
    [scoring] = run_requests(defs.resolve_job_def("dropout_scoring"), runs, day, day)
    assert scoring.tags["dagster/asset_partition_range_end"] == "course-v1:U+B+1|2026-03-02"
