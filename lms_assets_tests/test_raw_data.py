"""`raw_data` on a hand-built fixture course whose every value was computed by hand.

Partition day D = 2026-03-10, timezone UTC, so "as of" = 2026-03-11 00:00 UTC.
Course benchmarks: assessment average 70.0, progress average 45.0.

| learner | edge case | enrolled | last activity | active | grade |
|---|---|---|---|---|---|
| 1 Ann  | engaged, top performer           | 02-25 00:00 (14 d) | 03-10 12:00 (0 d)  | yes | 90 |
| 2 Bao  | no H5P data; exactly 7 d idle    | 03-03 12:00 (7.5 d)| 03-04 00:00 (7 d)  | yes | 80 |
| 3 Chi  | zero videos; exactly 30 d idle   | 01-01 00:00 (69 d) | 02-09 00:00 (30 d) | no  | 80 |
| 4 Dung | never active, missing grade      | 03-10 23:30 (0 d)  | NULL               | no  | - |
| 5 Em   | dropout: 31 d idle               | 01-15 00:00 (55 d) | 02-08 00:00 (31 d) | no  | 40 |
| 6 Phuc | inactive but 3 d idle            | 02-11 00:00 (28 d) | 03-08 00:00 (3 d)  | no  | 60 |

Percentiles among the 5 graded (share strictly below, ties share it): Em 0% -> 10,
Phuc 20% -> 10, Bao and Chi 40% -> 25, Ann 80% -> 75. Top 25%: pct >= 75; bottom: < 25.
"""

import datetime as dt

import dagster as dg
import pytest
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.features.raw_data import compute_raw_data, raw_data
from lms_assets.partitions import Partition, day_window
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()

COURSE = "course-v1:FIX+RAW+2026"
D = dt.date(2026, 3, 10)
NEXT = D + dt.timedelta(days=1)
T = dt.datetime


def fixture_tables(day: dt.date, grade_shift: float = 0.0) -> dict[str, list[dict]]:
    """The fixture's snapshot rows for ``day`` (``grade_shift`` makes a different later day)."""

    def rows(table: str, *records: dict) -> list[dict]:
        return [{"course_id": COURSE, "snapshot_date": day, **r} for r in records]

    def enrol(uid: int, when: T, active: bool, mode: str = "audit") -> dict:
        return {
            "user_id": uid,
            "username": f"u{uid}",
            "mode": mode,
            "is_active": active,
            "enrolled_at": when,
        }

    def grade(uid: int, pct: float, letter: str, passed: bool) -> dict:
        return {
            "user_id": uid,
            "grade_percentage": pct + grade_shift,
            "letter_grade": letter,
            "is_passed": passed,
        }

    def progress(uid: int, completion: float, last: T | None) -> dict:
        return {
            "user_id": uid,
            "completion_rate": completion,
            "last_activity": last,
            "current_chapter": "Chapter 1",
        }

    def talk(uid: int, threads: int, comments: int, questions: int, upvotes: int) -> dict:
        return {
            "user_id": uid,
            "threads_count": threads,
            "comments_count": comments,
            "total_interactions": threads + comments,
            "questions_count": questions,
            "total_upvotes": upvotes,
        }

    def h5p(uid: int, total: int, done: int, score: float, max_score: float, pct: float) -> dict:
        return {
            "user_id": uid,
            "total_contents": total,
            "completed_contents": done,
            "total_score": score,
            "total_max_score": max_score,
            "overall_percentage": pct,
        }

    def video(uid: int, total: int, done: int, watched: int, progress_pct: float) -> dict:
        return {
            "user_id": uid,
            "total_videos": total,
            "completed_videos": done,
            "in_progress_videos": 0,
            "total_watched_time": watched,
            "overall_progress": progress_pct,
        }

    def board(uid: int, overall: float) -> dict:
        return {
            "user_id": uid,
            "overall_completion": overall,
            "total_items": 14,
            "completed_items": 10,
            "answered_by": "combined-progress",
        }

    return {
        "enrollments": rows(
            "enrollments",
            enrol(1, T(2026, 2, 25), True, "verified"),
            enrol(2, T(2026, 3, 3, 12), True),
            enrol(3, T(2026, 1, 1), False),
            enrol(4, T(2026, 3, 10, 23, 30), False),
            enrol(5, T(2026, 1, 15), False),
            enrol(6, T(2026, 2, 11), False, "honor"),
        ),
        "mooc_grades": rows(
            "mooc_grades",
            grade(1, 90, "A", True),
            grade(2, 80, "B", True),
            grade(3, 80, "B", True),
            grade(5, 40, "F", False),
            grade(6, 60, "D", True),
        ),
        "mooc_progress": rows(
            "mooc_progress",
            progress(1, 80, T(2026, 3, 10, 12)),
            progress(2, 60, T(2026, 3, 4)),
            progress(3, 40, T(2026, 2, 9)),
            progress(4, 0, None),
            progress(5, 10, T(2026, 2, 8)),
            progress(6, 50, T(2026, 3, 8)),
        ),
        "mooc_discussions": rows(
            "mooc_discussions",
            talk(1, 2, 3, 1, 4),
            talk(2, 0, 0, 0, 0),
            talk(5, 1, 0, 0, 0),
            talk(6, 0, 2, 0, 1),
        ),
        "h5p_scores_summary": rows(
            "h5p_scores_summary",
            h5p(1, 10, 8, 80, 100, 80.0),
            h5p(3, 5, 0, 0, 0, 0.0),
            h5p(5, 0, 0, 0, 0, 0.0),
            h5p(6, 10, 5, 30, 50, 60.0),
        ),
        "video_progress_summary": rows(
            "video_progress_summary",
            video(1, 4, 2, 900, 62.5),
            video(3, 0, 0, 0, 0.0),
            video(5, 4, 0, 30, 2.0),
            video(6, 4, 4, 2400, 100.0),
        ),
        "dashboard_summary": rows("dashboard_summary", board(1, 71.43), board(6, 64.29)),
        "course_stats_benchmarks": rows(
            "course_stats_benchmarks",
            {
                "assessment_avg_score": 70.0,
                "progress_avg_completion": 45.0,
                "activity_avg_score": 35.0,
                "total_students": 6,
                "activity_source": "api",
                "assessment_source": "api",
                "progress_source": "api",
            },
        ),
    }


N, T_, F_ = None, True, False
# fmt: off
# user: weeks, days_idle, h5p_rate, quiz, video_rate, overall, grade, completion, talk_total,
#       rel_score, rel_completion, percentile, below_avg, top, bottom, passed, dropout
EXPECTED = {
    1: (2.0,  0,  80.0, 80.0, 50.0,  71.43, 90.0, 80.0, 5, 20.0,  35.0,  75, F_, T_, F_, T_, F_),
    2: (1.0,  7,  N,    N,    N,     N,     80.0, 60.0, 0, 10.0,  15.0,  25, F_, F_, F_, T_, F_),
    3: (9.86, 30, 0.0,  0.0,  N,     N,     80.0, 40.0, N, 10.0,  -5.0,  25, F_, F_, F_, T_, N),
    4: (0.0,  N,  N,    N,    N,     N,     N,    0.0,  N, N,     -45.0, N,  N,  N,  N,  N,  N),
    5: (7.86, 31, N,    0.0,  0.0,   N,     40.0, 10.0, 1, -30.0, -35.0, 10, T_, F_, T_, F_, T_),
    6: (4.0,  3,  50.0, 60.0, 100.0, 64.29, 60.0, 50.0, 2, -10.0, 5.0,   10, T_, F_, T_, T_, F_),
}
# fmt: on
COLUMNS = (
    "weeks_since_enrollment",
    "days_since_last_activity",
    "h5p_completion_rate",
    "quiz_avg_score",
    "video_completion_rate",
    "overall_completion",
    "grade_percentage",
    "completion_rate",
    "discussion_total_interactions",
    "relative_to_course_problem_score",
    "relative_to_course_completion",
    "performance_percentile",
    "is_below_course_average",
    "is_top_performer",
    "is_bottom_performer",
    "is_passed",
    "is_dropout",
)


def load_fixture(warehouse, day: dt.date = D, grade_shift: float = 0.0) -> None:
    warehouse.write(
        [Partition(COURSE, day)], fixture_tables(day, grade_shift), asset_name="fixture"
    )


def materialize_raw_data(warehouse, instance, day: dt.date = D) -> dg.ExecuteInProcessResult:
    """The aggregate-only path: raw_data alone, from stored tables, no API resource at all."""
    partitions.register_courses(instance, partitions.openedx_courses, [COURSE])
    return dg.materialize(
        [raw_data],
        instance=instance,
        resources={"warehouse": warehouse},
        partition_key=Partition(COURSE, day).partition_key,
    )


def stored_raw_data(warehouse, day: dt.date = D) -> dict[int, dict]:
    table = schema.tables["raw_data"]
    columns = [c for c in table.c if c.name != "loaded_at"]
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(*columns).where(table.c.course_id == COURSE, table.c.snapshot_date == day)
        ).mappings()
        return {row["user_id"]: dict(row) for row in rows}


def _same(actual, expected) -> bool:
    if expected is None:
        return actual is None
    if isinstance(expected, bool):
        return actual is not None and bool(actual) is expected
    return actual == pytest.approx(expected, abs=1e-9)


def test_every_column_matches_the_hand_computation(warehouse, instance) -> None:
    load_fixture(warehouse)
    result = materialize_raw_data(warehouse, instance)
    assert result.success
    rows = stored_raw_data(warehouse)
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    mismatches = [
        f"user {uid} {column}: got {rows[uid][column]!r}, expected {value!r}"
        for uid, values in EXPECTED.items()
        for column, value in zip(COLUMNS, values, strict=True)
        if not _same(rows[uid][column], value)
    ]
    assert mismatches == []
    # Pass-through figures.
    assert rows[1]["mode"] == "verified" and rows[1]["letter_grade"] == "A"
    assert rows[1]["course_assessment_avg_score"] == 70.0
    assert rows[2]["discussion_threads_count"] == 0  # a real zero stays zero
    assert rows[3]["discussion_threads_count"] is None  # no data stays NULL
    assert {e.check_name: e.passed for e in result.get_asset_check_evaluations()} == {
        "unique_key": True,
        "every_enrollment_has_a_row": True,
        "learners_enrolled": True,
        "values_in_range": True,
        "tracking_features_present": True,
        "dropout_label_consistent": True,
        "inputs_pass_their_checks": True,
    }
    metadata = result.asset_materializations_for_node("raw_data")[0].metadata
    assert metadata["label_balance"].value == {
        "is_passed": {"true": 4, "false": 1, "null": 1},
        "is_dropout": {"true": 1, "false": 3, "null": 2},
    }


def test_a_past_day_recomputed_after_later_snapshots_is_unchanged(warehouse, instance) -> None:
    load_fixture(warehouse)
    assert materialize_raw_data(warehouse, instance).success
    first = stored_raw_data(warehouse)
    load_fixture(warehouse, NEXT, grade_shift=-30)  # the next day's snapshot: every grade moved
    assert materialize_raw_data(warehouse, instance, NEXT).success
    assert materialize_raw_data(warehouse, instance, D).success
    assert stored_raw_data(warehouse) == first
    assert stored_raw_data(warehouse, NEXT)[1]["grade_percentage"] == 60.0


def test_the_day_ends_at_midnight_of_the_configured_timezone(warehouse) -> None:
    assert day_window(D, "UTC")[1] == T(2026, 3, 11)
    assert day_window(D, "Asia/Ho_Chi_Minh")[1] == T(2026, 3, 10, 17)  # UTC+7
    load_fixture(warehouse)
    frame = compute_raw_data(warehouse, [Partition(COURSE, D)], timezone="Asia/Ho_Chi_Minh")
    idle = dict(zip(frame["user_id"], frame["days_since_last_activity"], strict=True))
    # Ann's 12:00 UTC activity is after 17:00 UTC? No: 5 hours before -> 0 days; Bao's
    # 03-04 00:00 is 6 d 17 h before the end of the Vietnamese day -> 6 days, not 7.
    assert idle[1] == 0 and idle[2] == 6


def test_inputs_that_break_their_checks_are_not_read(warehouse, instance) -> None:
    """A grade of 150 stored after the first build (the mooc_grades check failed, the rows
    stayed): a raw_data-only run does not rebuild the course from it; its previous rows
    stay and the inputs_pass_their_checks check names the broken check."""
    load_fixture(warehouse)
    assert materialize_raw_data(warehouse, instance).success
    first = stored_raw_data(warehouse)
    grades = fixture_tables(D)["mooc_grades"]
    grades[0] = {**grades[0], "grade_percentage": 150.0}
    warehouse.replace_partitions("mooc_grades", [Partition(COURSE, D)], grades)

    result = materialize_raw_data(warehouse, instance)

    assert stored_raw_data(warehouse) == first
    [evaluation] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "inputs_pass_their_checks"
    ]
    assert not evaluation.passed
    assert "mooc_grades.values_in_range" in evaluation.metadata["sample"].value
    materialization = result.asset_materializations_for_node("raw_data")[0]
    assert materialization.metadata["held_previous_rows"].value == "mooc_grades.values_in_range"


def test_tracking_features_all_null_beside_stored_activity_is_flagged(warehouse, instance) -> None:
    """raw_data built before the tracking tables: every tracking column NULL although
    learner_daily_activity has rows for the course 10 days earlier; rebuilt after, it passes."""
    from lms_assets import quality
    from lms_assets.tracking.features import FEATURE_RULES

    load_fixture(warehouse)
    assert materialize_raw_data(warehouse, instance).success  # no activity stored: NULL is right
    [before] = quality.evaluate(warehouse, "raw_data", FEATURE_RULES, [Partition(COURSE, D)])
    assert before.passed

    active_day = D - dt.timedelta(days=10)
    warehouse.write(
        [Partition(COURSE, active_day)],
        {
            "learner_daily_activity": [
                {"course_id": COURSE, "snapshot_date": active_day, "user_id": 1, "events": 4}
            ]
        },
        asset_name="fixture",
    )
    [stale] = quality.evaluate(warehouse, "raw_data", FEATURE_RULES, [Partition(COURSE, D)])
    assert not stale.passed
    assert stale.metadata["violations"].value == 1
    # The activity is outside the 30-day window of a day 31 days later: nothing to flag.
    later = Partition(COURSE, active_day + dt.timedelta(days=30))
    assert quality.evaluate(warehouse, "raw_data", FEATURE_RULES, [later])[0].passed

    result = materialize_raw_data(warehouse, instance)
    [check] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "tracking_features_present"
    ]
    assert check.passed
    assert stored_raw_data(warehouse)[1]["tracking_events_30d"] == 4
