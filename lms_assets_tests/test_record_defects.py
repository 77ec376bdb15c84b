"""Bad fields in the Open edX exports, end to end: sandbox over HTTP -> Dagster -> warehouse.

A bad optional field keeps its record (NULL there, counted, kept in rejected_records);
too many of them, or too many refused records, fail the table's blocking checks.
"""

from __future__ import annotations

import dataclasses

import dagster as dg
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.openedx.assets import enrollments, mooc_discussions, mooc_grades, mooc_progress
from lms_assets.openedx.h5p_assets import h5p_learner_progress
from lms_assets.openedx.resources import H5PApiResource, OpenEdxApiResource
from lms_assets.partitions import Partition
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()
COURSE = "course-v1:SANDBOX+CS101+2026_T1"
KEPT = "; stored NULL, record kept"


def materialize(
    sandbox, warehouse, instance, assets, with_enrollments: bool = True
) -> dg.ExecuteInProcessResult:
    partitions.register_courses(
        instance, partitions.openedx_courses, list(sandbox.university.courses)
    )
    api = OpenEdxApiResource(
        base_url=sandbox.openedx_base_url,
        session_id=sandbox.session_id,
        backoff_seconds=0.0,
        requests_per_second=0.0,
    )
    return dg.materialize(
        [enrollments, *assets] if with_enrollments else assets,
        instance=instance,
        resources={"openedx_api": api, "warehouse": warehouse},
        partition_key=Partition(COURSE, partitions.today()).partition_key,
        raise_on_error=False,
    )


def stored(warehouse, table_name: str, *columns: str) -> list[tuple]:
    table = schema.tables[table_name]
    with warehouse.engine.connect() as conn:
        query = sa.select(*(table.c[c] for c in columns)).order_by(table.c.user_id)
        return [tuple(r) for r in conn.execute(query)]


def rejects(warehouse, asset: str) -> list[tuple]:
    table = schema.tables["rejected_records"]
    with warehouse.engine.connect() as conn:
        query = (
            sa.select(table.c.reason_code, table.c.field, table.c.record_key, table.c.reason)
            .where(table.c.asset_name == asset)
            .order_by(table.c.seq)
        )
        return [tuple(r) for r in conn.execute(query)]


def checks(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, bool]:
    return {
        e.check_name: e.passed
        for e in result.get_asset_check_evaluations()
        if e.asset_key.to_user_string() == asset
    }


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    return {
        k: v.value for k, v in result.asset_materializations_for_node(asset)[0].metadata.items()
    }


def test_a_fetch_whose_every_date_and_grade_is_unusable_keeps_the_stored_rows(
    sandbox, warehouse, instance
) -> None:
    """Yesterday's API was fine; today's sends every last_activity day-first and every grade
    above 100. Each record would be kept with NULL there, but the NULL ratio (100% > 5%) is
    measured on the fetched rows BEFORE they replace the stored ones: the stored rows stay
    as they were, the problems are kept in rejected_records, and the run fails."""
    assert materialize(sandbox, warehouse, instance, [mooc_progress, mooc_grades]).success
    progress_columns = ("user_id", "completion_rate", "last_activity")
    grade_columns = ("user_id", "grade_percentage", "letter_grade")
    good_progress = stored(warehouse, "mooc_progress", *progress_columns)
    good_grades = stored(warehouse, "mooc_grades", *grade_columns)
    sandbox.faults.day_first_last_activity = True
    sandbox.faults.grades_above_100 = True
    result = materialize(sandbox, warehouse, instance, [mooc_progress, mooc_grades])
    learners = sandbox.university.courses[COURSE].learners
    active = [lr for lr in learners if lr.last_activity is not None]
    graded = [lr for lr in learners if lr.grade_percentage is not None]
    assert 0 < len(active) < len(learners) and len(graded) > 0

    # Nothing replaced: the rows of the good fetch, last_activity and grades included.
    assert stored(warehouse, "mooc_progress", *progress_columns) == good_progress
    assert stored(warehouse, "mooc_grades", *grade_columns) == good_grades
    assert sum(row[2] is not None for row in good_progress) == len(active)
    # Each problem is kept in rejected_records, by code and field.
    progress_rejects = rejects(warehouse, "mooc_progress")
    assert [r[:3] for r in progress_rejects] == [
        ("not_a_datetime", "last_activity", str(lr.user_id)) for lr in active
    ]
    first = active[0]
    index = learners.index(first)
    assert progress_rejects[0][3] == (
        f"record #{index}: last_activity='{first.last_activity:%d/%m/%Y}' is not an ISO-8601 "
        f"date-time{KEPT}"
    )
    grade_rejects = rejects(warehouse, "mooc_grades")
    assert [r[:3] for r in grade_rejects] == [
        ("out_of_range", "grade_percentage", str(lr.user_id)) for lr in graded
    ]
    assert grade_rejects[0][3] == (
        f"record #0: grade_percentage={graded[0].grade_percentage + 101} is above 100{KEPT}"
    )
    # Counted apart from refused records; each partition says it was held back, and why.
    progress = metadata(result, "mooc_progress")
    assert progress["held_previous_rows"] == "mooc_progress.nulled_field_ratio"
    assert (progress["run_partitions_written"], progress["run_partitions_held"]) == (0, 1)
    assert progress["run_fields_stored_null_reasons"] == {
        "not_a_datetime last_activity": len(active)
    }
    assert metadata(result, "mooc_grades")["held_previous_rows"] == "mooc_grades.nulled_field_ratio"
    # The NULLed-field ratio is far above 5%: that (blocking) check fails, and the run.
    expected = {
        "unique_key": True,
        "values_in_range": True,
        "learners_enrolled": True,
        "row_count_within_enrollments": True,
        "rejection_ratio": True,
        "nulled_field_ratio": False,
    }
    assert checks(result, "mooc_progress") == expected
    assert checks(result, "mooc_grades") == expected
    assert all(checks(result, "enrollments").values())
    assert not result.success


def test_values_beyond_the_columns_are_refused_or_nulled_on_both_backends(
    sandbox, warehouse, instance
) -> None:
    # MariaDB refuses threads_count 3e9 (INT) and user_id 1e20 (BIGINT) and the write of
    # the whole course failed; SQLite stored them. Now both give the same rows.
    sandbox.faults.oversized_discussions = 3
    result = materialize(sandbox, warehouse, instance, [mooc_discussions])
    learners = sandbox.university.courses[COURSE].learners
    assert stored(warehouse, "mooc_discussions", "user_id", "threads_count") == sorted(
        (lr.user_id, None if i < 3 else lr.threads_count) for i, lr in enumerate(learners)
    )
    n = len(learners)
    assert rejects(warehouse, "mooc_discussions") == [
        (
            "out_of_range",
            "user_id",
            "1e+20",
            f"record #{n}: user_id=100000000000000000000 is above 9223372036854775807",
        ),
        *(
            (
                "out_of_range",
                "threads_count",
                str(lr.user_id),
                f"record #{i}: threads_count=3000000000 is above 2147483647{KEPT}",
            )
            for i, lr in enumerate(learners[:3])
        ),
    ]
    meta = metadata(result, "mooc_discussions")
    assert (meta["rejected_records"], meta["rows_with_fields_stored_null"]) == (1, 3)
    # 1 refused of n + 1 and 3 NULLed of n are below the 5% thresholds: the run passes.
    assert all(checks(result, "mooc_discussions").values()), checks(result, "mooc_discussions")
    assert result.success


def test_a_fetch_that_refuses_every_record_keeps_the_stored_rows_and_fails(
    sandbox, warehouse, instance
) -> None:
    """Measured before the write, a 100% rejection ratio holds the partition back: the
    good rows stay (they used to be replaced by nothing), the refusals are kept."""
    assert materialize(sandbox, warehouse, instance, [mooc_progress]).success
    good = stored(warehouse, "mooc_progress", "user_id", "completion_rate")
    learners = sandbox.university.courses[COURSE].learners
    assert len(good) == len(learners)
    # Every user_id negative in today's progress export (enrollments stay as they were):
    # the required field is unusable, so every record is refused.
    course = sandbox.university.courses[COURSE]
    course.learners = [dataclasses.replace(lr, user_id=-lr.user_id) for lr in learners]
    try:
        result = materialize(sandbox, warehouse, instance, [mooc_progress], with_enrollments=False)
    finally:
        course.learners = learners
    assert stored(warehouse, "mooc_progress", "user_id", "completion_rate") == good
    assert {r[:2] for r in rejects(warehouse, "mooc_progress")} == {("out_of_range", "user_id")}
    assert len(rejects(warehouse, "mooc_progress")) == len(learners)
    outcome = checks(result, "mooc_progress")
    assert (outcome["rejection_ratio"], outcome["row_count_within_enrollments"]) == (False, True)
    assert metadata(result, "mooc_progress")["held_previous_rows"] == (
        "mooc_progress.rejection_ratio"
    )
    assert not result.success


def test_h5p_tables_are_measured_each_on_its_own_records(sandbox, warehouse, instance) -> None:
    """Every content's time beyond INT: only h5p_scores's NULL ratio fails, and since the
    five tables of a course are written together, the course's stored rows of all five
    stay those of the good fetch before."""
    assert materialize(sandbox, warehouse, instance, []).success  # enrollments
    h5p = H5PApiResource(
        base_url=sandbox.h5p_base_url, backoff_seconds=0.0, requests_per_second=0.0
    )

    def fetch_h5p() -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [h5p_learner_progress],
            instance=instance,
            resources={"h5p_api": h5p, "warehouse": warehouse},
            partition_key=Partition(COURSE, partitions.today()).partition_key,
            raise_on_error=False,
        )

    assert fetch_h5p().success
    good = stored(warehouse, "h5p_scores", "user_id", "content_id", "time_spent")
    good_summary = stored(warehouse, "h5p_scores_summary", "user_id", "total_score")
    sandbox.faults.h5p_times_beyond_int = True
    result = fetch_h5p()
    scores = stored(warehouse, "h5p_scores", "user_id", "content_id", "time_spent")
    assert scores == good and {row[2] for row in good} != {None}  # kept, times and all
    assert stored(warehouse, "h5p_scores_summary", "user_id", "total_score") == good_summary
    kept = rejects(warehouse, "h5p_learner_progress")
    assert len(kept) == len(scores)  # one per content: its time would have been NULL
    assert {r[:2] for r in kept} == {("out_of_range", "time")}
    assert kept[0][3].endswith(f"is above 2147483647{KEPT}")
    assert kept[0][3].startswith(f"learner {scores[0][0]} score #")
    # Only h5p_scores had its fields NULLed: only its check fails, and blocks the run.
    failing = {
        f"{e.asset_key.to_user_string()}.{e.check_name}"
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }
    assert failing == {"h5p_scores.nulled_field_ratio"}
    assert not result.success
