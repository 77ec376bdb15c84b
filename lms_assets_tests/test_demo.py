"""`lms-assets demo` as `make demo` runs it: a real subprocess on a fresh instance and warehouse."""

import datetime as dt
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from lms_assets.lti.parsing import parse_day
from lms_assets.partitions import today
from lms_assets.sandbox import University
from lms_assets.sandbox.lti_attempts import LtiAttemptsFeed


def run_demo(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "LMS_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("LMS_WAREHOUSE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "lms_assets.cli", "demo", "--courses", "3", "--seed", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def stored(tmp_path: Path) -> list[tuple]:
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        return conn.execute(
            "SELECT course_id, snapshot_date, user_id, username, email, mode, is_active, "
            "enrolled_at FROM enrollments ORDER BY course_id, user_id"
        ).fetchall()


RUN_TIME_COLUMNS = {"loaded_at"}  # when a row was written: the one thing a re-run changes


def every_table(tmp_path: Path) -> dict[str, list[tuple]]:
    """Every warehouse table's rows, sorted, without the columns that say when they were written."""
    tables: dict[str, list[tuple]] = {}
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        names = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for name in names:
            columns = [
                column
                for _, column, *_ in conn.execute(f'PRAGMA table_info("{name}")')
                if column not in RUN_TIME_COLUMNS
            ]
            listed = ", ".join(f'"{c}"' for c in columns)
            tables[name] = sorted(
                conn.execute(f'SELECT {listed} FROM "{name}"').fetchall(), key=repr
            )
    return tables


def test_demo_fills_the_sqlite_warehouse_with_every_sandbox_enrollment(tmp_path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Demo succeeded." in first.stdout
    # The morning's runs (3 courses are one batch): today's snapshots, Moodle's counts of
    # today and log of yesterday, one split over yesterday and today, the tracking tables of
    # each of those days, raw_data, the course reports. Each check is evaluated once per run
    # for all of its partitions: 69 Open edX and raw_data checks (44, 23 of the rejection, NULL and
    # row-count checks, raw_data's inputs_pass_their_checks and tracking_features_present),
    # 11 Moodle, 9 tracking tables twice, 4 of the split (quarantine_ratio, course_keys_valid,
    # other_days_within_partitions, site_events_match_split); then one research-package run
    # per course with 28 checks (24 of the 8 package tables, 4 of person_course); LTI: 7 in
    # the one lti_daily run of the 7 days and 1 in each of the 7 days' report runs; 1 of
    # the course reports.
    assert "Runs: 19 (0 failed)" in first.stdout
    assert "Checks: 201 passed, 0 failed" in first.stdout
    pages = sorted(p.parent.name for p in (tmp_path / "data" / "reports").glob("*/*.html"))
    assert len(pages) == 3 and all(p.startswith("course-v1_SANDBOX_") for p in pages)
    assert "7 sheet rows on the Sheets stand-in, 7 emails to the loopback SMTP server" in (
        first.stdout
    )
    attempts = lti_attempts_per_day(tmp_path)
    assert attempts == expected_lti_attempts(University(seed=5, n_courses=3, today=today()))

    university = University(seed=5, n_courses=3, today=today())
    rows = stored(tmp_path)
    per_course = {c: sum(1 for r in rows if r[0] == c) for c in university.courses}
    assert per_course == {c: len(course.learners) for c, course in university.courses.items()}
    assert {r[1] for r in rows} == {today().isoformat()}

    yesterday = (today() - dt.timedelta(days=1)).isoformat()
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        # Every learner's package rows, raw CRs in profiles and all: one per enrollment.
        packaged = conn.execute(
            "SELECT (SELECT COUNT(*) FROM package_users), (SELECT COUNT(*) FROM person_course)"
        ).fetchone()
        counts = conn.execute(
            "SELECT course_id, snapshot_date, num_students FROM user_counts ORDER BY course_id"
        ).fetchall()
        report = conn.execute(
            "SELECT course_id, snapshot_date, course_shortname, num_students FROM user_activity "
            "ORDER BY course_id"
        ).fetchall()
    assert packaged == (len(rows), len(rows))
    assert counts == [
        (str(i + 2), today().isoformat(), len(course.learners))
        for i, course in enumerate(university.courses.values())
    ]
    # Yesterday's report, as the 02:00 schedule makes it; its head count comes from
    # yesterday's user_counts snapshot, which a site's first morning does not have.
    assert report == [
        (str(i + 2), yesterday, course.course_id.split("+")[1], None)
        for i, course in enumerate(university.courses.values())
    ]

    # The first run already has tracking features: raw_data ran after the tracking tables.
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        with_tracking = conn.execute(
            "SELECT COUNT(*), COUNT(tracking_events_30d) FROM raw_data"
        ).fetchone()
    assert with_tracking == (len(rows), len(rows))

    first_tables = every_table(tmp_path)
    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert stored(tmp_path) == rows  # re-running adds no duplicates and changes nothing
    second_tables = every_table(tmp_path)
    assert second_tables.keys() == first_tables.keys()
    for name, table_rows in first_tables.items():
        assert second_tables[name] == table_rows, f"{name} differs on the second demo"
    assert lti_attempts_per_day(tmp_path) == attempts


def lti_attempts_per_day(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        return dict(
            conn.execute(
                "SELECT snapshot_date, COUNT(*) FROM lti_attempts GROUP BY snapshot_date"
            ).fetchall()
        )


def expected_lti_attempts(university: University) -> dict[str, int]:
    """What the sandbox serves for the 7 days before today, parsed as the pipeline does."""
    feed = LtiAttemptsFeed(university)
    expected = {}
    for n in range(1, 8):
        day = university.today - dt.timedelta(days=n)
        expected[day.isoformat()] = parse_day(feed.day(day), day, "UTC").stored
    return expected
