"""`lms-assets demo` as `make demo` runs it: a real subprocess on a fresh instance and warehouse."""

import datetime as dt
import json
import os
import sqlite3
import subprocess
from pathlib import Path

import numpy as np

from lms_assets.dropout.evaluation import expected_calibration_error, roc_auc
from lms_assets.dropout.examples import CourseRun
from lms_assets.lti.parsing import parse_day
from lms_assets.partitions import today
from lms_assets.sandbox import University
from lms_assets.sandbox.lti_attempts import LtiAttemptsFeed, lti_user_id
from lms_assets.sandbox.truth import dropout_posterior

REPO = Path(__file__).resolve().parents[1]
DEMO_ARGS = "--courses 3 --seed 5"  # a smaller university than make demo's default


def run_demo(tmp_path: Path, extra: str = "") -> subprocess.CompletedProcess:
    """``make demo`` as the README has it, from a directory laid out like the repository
    (test_docs_commands.py leaves that command to this test), on a fresh instance and
    warehouse."""
    checkout = tmp_path / "checkout"
    if not checkout.exists():
        checkout.mkdir()
        for name in (".venv", "Makefile", "pyproject.toml", "workspace.yaml", "lms_assets"):
            (checkout / name).symlink_to(REPO / name)
        (REPO / ".venv" / "bin" / ".installed").touch()  # this suite runs from that venv
    env = {
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "LMS_DATA_DIR": str(tmp_path / "data"),
    }
    env.pop("LMS_WAREHOUSE_URL", None)
    return subprocess.run(
        ["make", "--no-print-directory", "demo", f"DEMO_ARGS={DEMO_ARGS} {extra}".strip()],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,  # about 5 minutes alone on 2 cores; the machine may be shared
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
    # The runs (3 courses are one batch; the 3 finished runs another): today's snapshots of
    # the 6 runs; Moodle's counts of today and one backfill of its log of this term up to
    # yesterday; one split of every log day up to today; one backfill of the finished runs'
    # tracking tables and one of the running runs'; raw_data; the course reports; the
    # dropout examples of the finished runs, the model, the running runs' risk of today.
    # Each check is evaluated once per run for all of its partitions: 71 Open edX and
    # raw_data checks (46, 23 of the rejection, NULL and row-count checks, raw_data's
    # inputs_pass_their_checks and tracking_features_present; course_runs adds 2), 11
    # Moodle, 9 tracking tables twice, 4 of the split (quarantine_ratio, course_keys_valid,
    # other_days_within_partitions, site_events_match_split); 1 of the course reports; 3 of
    # the dropout examples, 2 of the model (evaluated_on_later_runs, quality_gate), 2 of the
    # risk; then one research-package run per course with 28 checks (24 of the 8 package
    # tables, 4 of person_course); LTI: 7 in the one lti_daily run of the term's days and 1
    # in the one report run over them.
    assert "Runs: 16 (0 failed)" in first.stdout, first.stdout
    assert "Checks: 204 passed, 0 failed" in first.stdout
    pages = sorted(p.parent.name for p in (tmp_path / "data" / "reports").glob("*/*.html"))
    assert len(pages) == 3 and all(p.startswith("course-v1_SANDBOX_") for p in pages)
    university = University(seed=5, n_courses=3, today=today(), history=True)
    days = (today() - university.semester_start).days  # the term's days before today
    assert f"{days} sheet rows on the Sheets stand-in, {days} emails to the loopback SMTP" in (
        first.stdout
    )
    attempts = lti_attempts_per_day(tmp_path)
    assert attempts == expected_lti_attempts(university, days)
    assert_semester(tmp_path, university)

    assert_finished_runs(tmp_path, university)

    rows = stored(tmp_path)
    runs = {c.course_id: c for c in university.all_courses}
    per_course = {c: sum(1 for r in rows if r[0] == c) for c in runs}
    assert per_course == {c: len(course.learners) for c, course in runs.items()}
    learners = sum(len(c.learners) for c in university.courses.values())  # the running runs
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
            "WHERE snapshot_date = ? ORDER BY course_id",
            (yesterday,),
        ).fetchall()
    assert packaged == (learners, learners)
    assert counts == [
        (str(i + 2), today().isoformat(), len(course.learners))
        for i, course in enumerate(university.courses.values())
    ]
    # Yesterday's report, as the 02:00 schedule makes it; its head count comes from
    # yesterday's user_counts snapshot, which a site's first morning does not have (nor
    # any of the backfilled days: the head counts are a snapshot of the day).
    assert report == [
        (str(i + 2), yesterday, course.course_id.split("+")[1], None)
        for i, course in enumerate(university.courses.values())
    ]

    # The first run already has tracking features: raw_data ran after the tracking tables.
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        with_tracking = conn.execute(
            "SELECT COUNT(*), COUNT(tracking_events_30d) FROM raw_data"
        ).fetchone()
    assert with_tracking == (learners, learners)

    # Re-running the morning (the last 2 days of logs, today's snapshots, the model on the
    # same examples) adds no duplicates and changes nothing, in any table.
    first_tables = every_table(tmp_path)
    second = run_demo(tmp_path, "--days 2")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "backfilling the logs " + (today() - dt.timedelta(days=2)).isoformat() in second.stdout
    assert stored(tmp_path) == rows
    second_tables = every_table(tmp_path)
    assert second_tables.keys() == first_tables.keys()
    for name, table_rows in first_tables.items():
        assert second_tables[name] == table_rows, f"{name} differs on the second demo"
    assert lti_attempts_per_day(tmp_path) == attempts
    assert len(list((tmp_path / "data" / "models" / "dropout").iterdir())) == 1  # same model


def lti_attempts_per_day(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        return dict(
            conn.execute(
                "SELECT snapshot_date, COUNT(*) FROM lti_attempts GROUP BY snapshot_date"
            ).fetchall()
        )


def expected_lti_attempts(university: University, days: int) -> dict[str, int]:
    """What the sandbox serves for the ``days`` days before today, parsed as the pipeline does."""
    feed = LtiAttemptsFeed(university)
    expected = {}
    for n in range(1, days + 1):
        day = university.today - dt.timedelta(days=n)
        expected[day.isoformat()] = parse_day(feed.day(day), day, "UTC").stored
    return expected


def assert_semester(tmp_path: Path, university: University) -> None:
    """The warehouse holds the whole semester, and what the generator planned for a learner
    is what the logs, the APIs and raw_data's labels say at the end."""
    start = university.semester_start
    semester = [(start + dt.timedelta(days=n)).isoformat() for n in range((today() - start).days)]
    week5_end = start + dt.timedelta(days=5 * 7 - 1)  # the Sunday ending term week 5
    cs101 = university.course_id_for(0)
    # Learner 103089 of CS101 (seed 5): engagement 0.23, enrolled before the term, planned
    # to drop out in week 5, unenrolled; 11.3% graded. Learner 101177: engagement 0.87,
    # stays, 87.7%.
    dropout = university.courses[cs101].by_user[103089]
    stays = university.courses[cs101].by_user[101177]
    assert (dropout.behaviour, dropout.dropout_week, dropout.is_active) == ("dropout", 5, False)
    assert dropout.grade_percentage == 11.3
    assert (stays.behaviour, stays.dropout_week, stays.grade_percentage) == ("engaged", None, 87.7)
    last_day = dropout.last_activity.date().isoformat()
    assert start + dt.timedelta(weeks=4) <= dropout.last_activity.date() <= week5_end
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:

        def days_of(table: str, since: str = "0000") -> list[str]:
            query = (
                f"SELECT DISTINCT snapshot_date FROM {table} WHERE snapshot_date >= ? ORDER BY 1"
            )
            return [day for (day,) in conn.execute(query, (since,))]

        # Every day of the term up to yesterday has activity in each log source (the
        # tracking logs also hold the previous term: assert_finished_runs).
        assert days_of("learner_daily_activity", start.isoformat()) == semester
        assert days_of("activity_counts") == semester
        assert days_of("lti_attempts") == semester
        learner_days = conn.execute(
            "SELECT user_id, MIN(snapshot_date), MAX(snapshot_date) FROM learner_daily_activity "
            "WHERE course_id = ? AND user_id IN (103089, 101177) GROUP BY user_id ORDER BY 1",
            (cs101,),
        ).fetchall()
        lti_last = conn.execute(
            "SELECT MAX(created_at) FROM lti_attempts WHERE user_id = ?",
            (lti_user_id(103089),),
        ).fetchone()[0]
        labels = conn.execute(
            "SELECT user_id, is_dropout, is_passed FROM raw_data WHERE course_id = ? "
            "AND snapshot_date = ? AND user_id IN (103089, 101177) ORDER BY 1",
            (cs101, today().isoformat()),
        ).fetchall()
        # The weekly rhythm: Fridays (deadline day) are busier than Sundays, every week.
        by_weekday = dict(
            conn.execute(
                "SELECT strftime('%w', snapshot_date), SUM(events) FROM learner_daily_activity "
                "GROUP BY 1"
            ).fetchall()
        )
    # Each one's tracking events end on their last active day: the dropout's in week 5, the
    # other's in the last week (the 30th or the 1st of December on 2026-12-02).
    first_day = max(dropout.enrolled_at.date(), start).isoformat()
    assert learner_days[1] == (103089, learner_days[1][1], last_day)
    assert learner_days[1][1] >= first_day
    assert learner_days[0] == (101177, learner_days[0][1], stays.last_activity.date().isoformat())
    assert stays.last_activity.date() >= today() - dt.timedelta(days=3)
    assert lti_last[:10] == last_day  # LTI too: exercises on every active day, none after
    assert labels == [(101177, 0, 1), (103089, 1, 0)]  # retained and passed; dropout, failed
    assert by_weekday["5"] > 2 * by_weekday["0"]
    with sqlite3.connect(tmp_path / "data" / "moodle_sandbox.sqlite") as moodle:
        moodle_last = moodle.execute(
            "SELECT MAX(timecreated) FROM mdl_logstore_standard_log WHERE userid = 103089"
        ).fetchone()[0]
    assert dt.datetime.fromtimestamp(moodle_last, dt.UTC).date() <= week5_end


def assert_finished_runs(tmp_path: Path, university: University) -> None:
    """Each code's finished run of the previous term is in the logs, has final grades, and
    trains the dropout model, which passed its gate and scored the running runs today."""
    cs101 = university.course_id_for(0, "2025_T3")
    run = university.finished[cs101]
    # Learner 101154 of CS101's finished run (seed 5): engagement 0.16, planned to drop out
    # in week 5 of the run, 10.8%. Learner 100031: engagement 0.83, stays to the end, 93.0%.
    dropout, stays = run.by_user[101154], run.by_user[100031]
    assert (dropout.dropout_week, dropout.grade_percentage) == (5, 10.8)
    assert (stays.dropout_week, stays.grade_percentage) == (None, 93.0)
    week5 = (run.start + dt.timedelta(weeks=4), run.start + dt.timedelta(weeks=5, days=-1))
    assert week5[0] <= dropout.last_activity.date() <= week5[1]
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        spans = conn.execute(
            "SELECT user_id, MIN(snapshot_date), MAX(snapshot_date) FROM learner_daily_activity "
            "WHERE course_id = ? AND user_id IN (101154, 100031) GROUP BY user_id ORDER BY 1",
            (cs101,),
        ).fetchall()
        labels = conn.execute(
            "SELECT user_id, COUNT(*), MIN(is_dropout), MAX(is_dropout), MAX(is_passed) "
            "FROM dropout_training_set WHERE course_id = ? AND user_id IN (101154, 100031) "
            "GROUP BY user_id ORDER BY 1",
            (cs101,),
        ).fetchall()
        calendar = conn.execute(
            "SELECT start_date, end_date FROM course_runs WHERE course_id = ?", (cs101,)
        ).fetchall()
        scored = dict(
            conn.execute(
                "SELECT course_id, COUNT(*) FROM dropout_risk WHERE snapshot_date = ? "
                "GROUP BY course_id",
                (today().isoformat(),),
            ).fetchall()
        )
    # The stayer is active up to the run's last days, the dropout not after week 5.
    assert spans[0][0] == 100031 and spans[0][2] == stays.last_activity.date().isoformat()
    assert spans[1] == (101154, spans[1][1], dropout.last_activity.date().isoformat())
    assert spans[1][1] >= max(dropout.enrolled_at.date(), run.start).isoformat()
    assert calendar == [(run.start.isoformat(), run.end.isoformat())]
    # A 15-week run (CS101, seed 5) has cutoffs at the end of weeks 1-11 (the label window
    # is its last quarter, 27 days). A learner is an example from the first cutoff on or
    # after their first active day (no enrollments snapshot of those days is stored); the
    # dropout is a dropout at each, the stayer never, and passed.
    cutoffs = [run.start + dt.timedelta(days=7 * k - 1) for k in range(1, 12)]

    def examples(first_active: str) -> int:
        return sum(c >= dt.date.fromisoformat(first_active) for c in cutoffs)

    assert labels == [
        (100031, examples(spans[0][1]), 0, 0, 1),
        (101154, examples(spans[1][1]), 1, 1, 0),
    ]
    assert set(scored) == set(university.courses) and all(n > 0 for n in scored.values())
    [card_file] = (tmp_path / "data" / "models" / "dropout").glob("*/model_card.json")
    card = json.loads(card_file.read_text())
    assert card["gate"]["passed"] is True, card["gate"]
    assert card["data_window"]["runs"] == sorted(university.finished)
    assert_known_truth(tmp_path, university, card)


def assert_known_truth(tmp_path: Path, university: University, card: dict) -> None:
    """Issue 17, point 5: on the finished runs' examples, the best achievable ROC-AUC is the
    generative rule's own posterior (sandbox/truth.py). The model, tested on each course it
    did not train on (leave-one-course-out, every example once), comes within 0.03 of it,
    and neither baseline beats the model."""
    with sqlite3.connect(tmp_path / "data" / "warehouse.sqlite") as conn:
        examples = conn.execute(
            "SELECT course_id, snapshot_date, user_id, is_dropout FROM dropout_training_set "
            "WHERE is_dropout IS NOT NULL"
        ).fetchall()
        active: dict[tuple[str, int], set[dt.date]] = {}
        for course_id, day, user_id in conn.execute(
            "SELECT course_id, snapshot_date, user_id FROM learner_daily_activity WHERE events > 0"
        ):
            active.setdefault((course_id, user_id), set()).add(dt.date.fromisoformat(day))
    best = []
    for course_id, cutoff, user_id, _ in examples:
        run = university.finished[course_id]
        label_start = CourseRun(course_id, run.start, run.end).label_start(0.25)
        best.append(
            dropout_posterior(
                run,
                run.by_user[user_id],
                active.get((course_id, user_id), set()),
                dt.date.fromisoformat(cutoff),
                label_start,
            )
        )
    labels = np.array([bool(e[3]) for e in examples])
    best_auc = roc_auc(labels, np.array(best))
    # The posterior is the rule's own probability: calibrated (0.005 on seed 5), which a
    # mistake in truth.py would not be.
    assert expected_calibration_error(labels, np.array(best)) < 0.02
    loco = card["honest_evaluation"]["schemes"]["leave_one_course_out"]
    overall = {row["model"]: row["roc_auc"] for row in loco["overall"]}
    assert loco["test_examples"] == len(examples)
    assert overall["gradient_boosting"] >= best_auc - 0.03, (overall, best_auc)
    for baseline in ("days_since_last_activity", "seven_day_rule"):
        assert overall[baseline] < overall["gradient_boosting"], overall
