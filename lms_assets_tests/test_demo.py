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


def test_demo_fills_the_sqlite_warehouse_with_every_sandbox_enrollment(tmp_path) -> None:
    first = run_demo(tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Demo succeeded." in first.stdout
    # Per course: 68 Open edX checks (44, 23 of the rejection, NULL and row-count checks, and
    # raw_data's inputs_pass_their_checks),
    # 11 Moodle, 9 tracking; plus the day's split: 1; LTI: 7 in the one lti_daily run of the
    # 7 days and 1 in each day's report run.
    assert "Checks: 279 passed, 0 failed" in first.stdout
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

    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        report = conn.execute(
            "SELECT course_id, course_shortname, num_students FROM user_activity ORDER BY course_id"
        ).fetchall()
    assert report == [
        (str(i + 2), course.course_id.split("+")[1], len(course.learners))
        for i, course in enumerate(university.courses.values())
    ]

    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert stored(tmp_path) == rows  # re-running adds no duplicates and changes nothing
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
