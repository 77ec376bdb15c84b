"""dropout_training_set on both backends: point-in-time features (the leakage test), labels
from after the cutoff, and one learner's features computed by hand."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.dropout.assets import dropout_training_set
from lms_assets.dropout.examples import CourseRun, build_examples
from lms_assets.dropout.schema import FEATURE_COLUMNS
from lms_assets.dropout.schema import metadata as schema
from lms_assets.partitions import Partition

COURSE = "course-v1:UNI+DROP+2026_T1"
START, END = dt.date(2026, 1, 5), dt.date(2026, 2, 15)  # a Monday; 6 weeks, 42 days
RUN_CONFIG = {
    "ops": {"dropout_training_set": {"config": {"start": "2026-01-05", "end": "2026-02-15"}}}
}
# 42 days, last quarter ceil(10.5) = 11 days: the label window is 5-15 February, so the
# cutoffs are the Sundays 11, 18, 25 January and 1 February (8 February is inside it).
CUTOFFS = [dt.date(2026, 1, 11), dt.date(2026, 1, 18), dt.date(2026, 1, 25), dt.date(2026, 2, 1)]
WEEK_2 = CUTOFFS[1]
D = dt.date


COUNTS = ("active_minutes", "video_plays", "problem_checks", "problem_correct", "forum_posts")


def activity(day: dt.date, user_id: int, events: int, **counts: float) -> dict:
    """A learner_daily_activity row; the counts not given are 0."""
    return {
        "course_id": COURSE,
        "snapshot_date": day,
        "user_id": user_id,
        "events": events,
        **{name: counts.get(name, 0) for name in COUNTS},
    }


# Learner 1 stays (active on 10 February, in the label window); learner 2 leaves after 13
# January; learner 3 is enrolled (snapshot of 24 January) and never comes.
ACTIVITY = [
    activity(
        D(2026, 1, 5), 1, 5, active_minutes=10.0, video_plays=1, problem_checks=2, problem_correct=1
    ),
    activity(D(2026, 1, 12), 1, 3, active_minutes=6.5),
    activity(
        D(2026, 1, 14), 1, 4, active_minutes=8.0, problem_checks=1, problem_correct=1, forum_posts=1
    ),
    activity(D(2026, 1, 20), 1, 2, active_minutes=3.0),
    activity(D(2026, 2, 10), 1, 6, active_minutes=12.0),
    activity(D(2026, 1, 6), 2, 2, active_minutes=4.0),
    activity(D(2026, 1, 13), 2, 1, active_minutes=1.0),
]


def enrollment(day: dt.date, user_id: int, enrolled: dt.datetime, active: bool = True) -> dict:
    return {
        "course_id": COURSE,
        "snapshot_date": day,
        "user_id": user_id,
        "is_active": active,
        "enrolled_at": enrolled,
        "mode": "audit",
    }


ENROLLMENTS = [
    enrollment(D(2026, 1, 10), 1, dt.datetime(2026, 1, 2, 8)),
    enrollment(D(2026, 1, 10), 2, dt.datetime(2026, 1, 6, 9)),
    enrollment(D(2026, 1, 24), 1, dt.datetime(2026, 1, 2, 8)),
    enrollment(D(2026, 1, 24), 2, dt.datetime(2026, 1, 6, 9), active=False),
    enrollment(D(2026, 1, 24), 3, dt.datetime(2026, 1, 20, 10)),
]


def grade(day: dt.date, user_id: int, pct: float, passed: bool) -> dict:
    return {
        "course_id": COURSE,
        "snapshot_date": day,
        "user_id": user_id,
        "grade_percentage": pct,
        "is_passed": passed,
    }


# A mid-run snapshot, and the final one stored the day after the run's end.
GRADES = [
    grade(D(2026, 1, 17), 1, 20.0, False),
    grade(D(2026, 1, 17), 2, 5.0, False),
    grade(D(2026, 2, 16), 1, 82.0, True),
    grade(D(2026, 2, 16), 2, 10.0, False),
    grade(D(2026, 2, 16), 3, 0.0, False),
]


def store(warehouse, table: str, rows: list[dict]) -> None:
    """Replace the days of ``rows`` in ``table`` with them (as each source's write does)."""
    days = sorted({r["snapshot_date"] for r in rows})
    warehouse.write([Partition(COURSE, d) for d in days], {table: rows}, asset_name="fixture")


def load_fixture(warehouse) -> None:
    store(warehouse, "learner_daily_activity", ACTIVITY)
    store(warehouse, "enrollments", ENROLLMENTS)
    store(warehouse, "mooc_grades", GRADES)


def materialize(warehouse, instance) -> dg.ExecuteInProcessResult:
    partitions.register_courses(instance, partitions.openedx_courses, [COURSE])
    return dg.materialize(
        [dropout_training_set],
        instance=instance,
        resources={"warehouse": warehouse},
        partition_key=COURSE,
        run_config=RUN_CONFIG,
    )


def stored(warehouse) -> dict[tuple[dt.date, int], dict]:
    table = schema.tables["dropout_training_set"]
    columns = [c for c in table.c if c.name != "loaded_at"]
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(*columns).where(table.c.course_id == COURSE)).mappings()
        return {(partitions.to_date(r["snapshot_date"]), r["user_id"]): dict(r) for r in rows}


def features(row: dict) -> dict:
    return {name: row[name] for name in (*FEATURE_COLUMNS, "snapshot_used")}


def test_the_run_calendar_gives_weekly_cutoffs_before_the_label_window() -> None:
    run = CourseRun(COURSE, START, END)
    assert run.label_start(0.25) == D(2026, 2, 5)
    assert run.cutoffs(0.25, today=D(2026, 3, 1)) == CUTOFFS
    # A running run has only the cutoffs already over.
    assert run.cutoffs(0.25, today=D(2026, 1, 25)) == CUTOFFS[:2]
    with pytest.raises(ValueError, match="LMS_DROPOUT_LAST_FRACTION"):
        run.label_start(1.5)


def test_events_after_a_cutoff_leave_its_features_unchanged(warehouse, instance) -> None:
    load_fixture(warehouse)
    first = materialize(warehouse, instance)
    assert first.success
    assert all(c.passed for c in first.get_asset_check_evaluations())
    before = stored(warehouse)
    # Learners 1 and 2 from week 1 (logs and the 10 January snapshot), learner 3 from week 3.
    assert sorted(before) == sorted(
        [(c, u) for c in CUTOFFS[:2] for u in (1, 2)]
        + [(c, u) for c in CUTOFFS[2:] for u in (1, 2, 3)]
    )
    assert [before[(WEEK_2, u)]["is_dropout"] for u in (1, 2)] == [False, True]

    # After the week-2 cutoff (18 January): learner 2 comes back (also in the label window),
    # learner 1's 20 January grows tenfold, a new learner 4 appears, a new enrollments
    # snapshot says learner 1 left, and a grades snapshot gives everybody 99.
    store(
        warehouse,
        "learner_daily_activity",
        [
            activity(D(2026, 1, 19), 2, 7, active_minutes=9.0),
            activity(D(2026, 1, 20), 1, 20, active_minutes=30.0),
            activity(D(2026, 1, 20), 4, 3),
            activity(D(2026, 2, 12), 2, 2),
            activity(D(2026, 2, 10), 1, 6, active_minutes=12.0),
        ],
    )
    store(
        warehouse,
        "enrollments",
        [enrollment(D(2026, 1, 19), 1, dt.datetime(2026, 1, 2, 8), active=False)],
    )
    store(warehouse, "mooc_grades", [grade(D(2026, 1, 19), u, 99.0, True) for u in (1, 2)])
    assert materialize(warehouse, instance).success
    after = stored(warehouse)

    for key in [k for k in before if k[0] <= WEEK_2]:
        assert features(after[key]) == features(before[key]), key
    assert sorted(k for k in after if k[0] <= WEEK_2) == sorted(k for k in before if k[0] <= WEEK_2)
    # The label may change: learner 2 is active in the label window now.
    assert after[(WEEK_2, 2)]["is_dropout"] is False
    # And the change is seen from the next cutoff on: the test could fail.
    week_3 = CUTOFFS[2]
    assert (after[(week_3, 2)]["events"], before[(week_3, 2)]["events"]) == (10, 3)
    assert after[(week_3, 1)]["snapshot_used"] == D(2026, 1, 24)
    assert (week_3, 4) in after and (WEEK_2, 4) not in after


def test_one_learners_features_by_hand(warehouse, instance) -> None:
    load_fixture(warehouse)
    assert materialize(warehouse, instance).success
    row = stored(warehouse)[(WEEK_2, 1)]
    # Learner 1 on 18 January: active 5, 12 and 14 January (5 + 3 + 4 events); the last 7
    # days are 12-18 January, the 7 before 5-11 January. Snapshots: enrollments of 10
    # January (enrolled 2 January: 16 days), grades of 17 January (20%). Labels: active on
    # 10 February (not a dropout), passed in the final snapshot of 16 February.
    assert {k: row[k] for k in row if k not in ("course_id", "user_id")} == {
        "snapshot_date": WEEK_2,
        "run_start": START,
        "run_end": END,
        "cutoff_week": 2,
        "course_fraction": pytest.approx(14 / 42, abs=1e-4),
        "snapshot_used": D(2026, 1, 10),
        "days_enrolled": 16,
        "is_active": True,
        "active_days": 3,
        "active_days_7d": 2,
        "events": 12,
        "events_7d": 7,
        "events_prev_7d": 5,
        "active_minutes": pytest.approx(24.5),
        "video_plays": 1,
        "problem_checks": 3,
        "problem_correct": 2,
        "forum_posts": 1,
        "days_since_last_activity": 4,
        "grade_at_cutoff": pytest.approx(20.0),
        "is_dropout": False,
        "is_passed": True,
    }
    # Learner 3, never active: counts 0, days since last activity unknown, a dropout.
    never = stored(warehouse)[(CUTOFFS[2], 3)]
    assert (never["events"], never["days_since_last_activity"], never["is_dropout"]) == (
        0,
        None,
        True,
    )
    assert (never["days_enrolled"], never["grade_at_cutoff"], never["is_passed"]) == (
        5,
        None,
        False,
    )


def test_a_running_run_has_no_dropout_label_yet(sqlite_warehouse) -> None:
    load_fixture(sqlite_warehouse)
    frame = build_examples(sqlite_warehouse, CourseRun(COURSE, START, END), D(2026, 1, 26), 0.25)
    assert sorted(set(frame["snapshot_date"])) == CUTOFFS[:3]  # 25 January is over on the 26th
    assert frame["is_dropout"].isna().all()


def test_without_a_calendar_the_run_spans_its_stored_logs(warehouse, instance) -> None:
    """Logs of 5 January to 10 February: 37 days, the last ceil(9.25) = 10 from 1 February,
    so the cutoffs are 11, 18 and 25 January; the metadata counts the 2 + 2 + 3 rows."""
    load_fixture(warehouse)
    partitions.register_courses(instance, partitions.openedx_courses, [COURSE])
    result = dg.materialize(
        [dropout_training_set],
        instance=instance,
        resources={"warehouse": warehouse},
        partition_key=COURSE,
    )
    assert result.success
    assert sorted({k[0] for k in stored(warehouse)}) == CUTOFFS[:3]
    assert {r["run_end"] for r in stored(warehouse).values()} == {D(2026, 2, 10)}
    [materialization] = result.asset_materializations_for_node("dropout_training_set")
    assert materialization.metadata["dagster/row_count"].value == 7
    assert materialization.metadata["run_rows"].value == 7


def test_activity_after_the_runs_end_is_not_in_the_label(sqlite_warehouse) -> None:
    """Learner 2 comes back on 20 February, after the run's end: still a dropout."""
    load_fixture(sqlite_warehouse)
    store(sqlite_warehouse, "learner_daily_activity", [activity(D(2026, 2, 20), 2, 3)])
    frame = build_examples(sqlite_warehouse, CourseRun(COURSE, START, END), D(2026, 3, 1), 0.25)
    assert frame.loc[frame["user_id"] == 2, "is_dropout"].tolist() == [True] * 4
    assert frame.loc[frame["user_id"] == 1, "is_dropout"].tolist() == [False] * 4


def test_the_point_in_time_check_flags_a_later_snapshot(warehouse) -> None:
    """A row whose snapshot was stored after its cutoff breaks point_in_time, and only it."""
    from lms_assets import quality
    from lms_assets.dropout.assets import RULES
    from lms_assets.loading import write_scope
    from lms_assets.partitions import Scope

    load_fixture(warehouse)
    frame = build_examples(warehouse, CourseRun(COURSE, START, END), D(2026, 3, 1), 0.25)
    frame.loc[(frame["user_id"] == 1) & (frame["snapshot_date"] == WEEK_2), "snapshot_used"] = D(
        2026, 1, 24
    )
    scope = [Partition(course_id=COURSE)]
    write_scope(warehouse, Scope(scope), {"dropout_training_set": frame}, asset_name="fixture")
    results = {
        r.check_name: r for r in quality.evaluate(warehouse, "dropout_training_set", RULES, scope)
    }
    assert results["point_in_time"].metadata["violations"].value == 1
    assert results["unique_key"].passed and results["values_in_range"].passed
