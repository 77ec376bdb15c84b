"""`lms-assets demo` as `make demo` runs it: a real subprocess on a fresh instance and warehouse."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from lms_assets.partitions import today
from lms_assets.sandbox import University


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
    # 11 Moodle, 9 tracking, 28 research package (24 of the 8 package tables, 4 of
    # person_course); plus the day's split: 1.
    assert "Checks: 349 passed, 0 failed" in first.stdout

    university = University(seed=5, n_courses=3, today=today())
    rows = stored(tmp_path)
    per_course = {c: sum(1 for r in rows if r[0] == c) for c in university.courses}
    assert per_course == {c: len(course.learners) for c, course in university.courses.items()}
    assert {r[1] for r in rows} == {today().isoformat()}

    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        # Every learner's package rows, raw CRs in profiles and all: one per enrollment.
        packaged = conn.execute(
            "SELECT (SELECT COUNT(*) FROM package_users), (SELECT COUNT(*) FROM person_course)"
        ).fetchone()
        report = conn.execute(
            "SELECT course_id, course_shortname, num_students FROM user_activity ORDER BY course_id"
        ).fetchall()
    assert packaged == (len(rows), len(rows))
    assert report == [
        (str(i + 2), course.course_id.split("+")[1], len(course.learners))
        for i, course in enumerate(university.courses.values())
    ]

    second = run_demo(tmp_path)
    assert second.returncode == 0, second.stdout + second.stderr
    assert stored(tmp_path) == rows  # re-running adds no duplicates and changes nothing
