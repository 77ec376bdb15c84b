"""The whole seed-000 graph against the sandbox over HTTP."""

import dagster as dg
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.features.raw_data import raw_data
from lms_assets.openedx.definitions import ASSETS as SNAPSHOT_ASSETS
from lms_assets.openedx.resources import H5PApiResource, OpenEdxApiResource
from lms_assets.partitions import Partition
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()
all_assets = [*SNAPSHOT_ASSETS, raw_data]

COURSE = "course-v1:SANDBOX+CS101+2026_T1"
TABLES = [t.name for t in schema.sorted_tables if t.name != "rejected_records"]


def run_graph(sandbox, warehouse, instance, selection=None, run_config=None, **api):
    partitions.register_courses(
        instance, partitions.openedx_courses, list(sandbox.university.courses)
    )
    http = {"backoff_seconds": 0.0, "requests_per_second": 0.0, "max_retries": 8, **api}
    resources = {
        "warehouse": warehouse,
        "openedx_api": OpenEdxApiResource(
            base_url=sandbox.openedx_base_url, session_id=sandbox.session_id, **http
        ),
        "h5p_api": H5PApiResource(base_url=sandbox.h5p_base_url, max_concurrency=8, **http),
    }
    return dg.materialize(
        all_assets,
        instance=instance,
        resources=resources,
        partition_key=Partition(COURSE, partitions.today()).partition_key,
        selection=selection,
        run_config=run_config,
        raise_on_error=False,
    )


def snapshot(warehouse, tables=TABLES) -> dict[str, list[tuple]]:
    result = {}
    with warehouse.engine.connect() as conn:
        for name in tables:
            table = schema.tables[name]
            columns = [c for c in table.c if c.name != "loaded_at"]
            keys = list(table.primary_key.columns)
            result[name] = [tuple(r) for r in conn.execute(sa.select(*columns).order_by(*keys))]
    return result


def checks(result) -> dict[str, bool]:
    return {
        f"{e.asset_key.to_user_string()}.{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }


def rejected(warehouse, asset_name: str) -> list[tuple]:
    table = schema.tables["rejected_records"]
    with warehouse.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(table.c.record_key, table.c.reason)
                .where(table.c.asset_name == asset_name)
                .order_by(table.c.seq)
            )
        ]


def test_whole_graph_twice_gives_identical_tables(sandbox, warehouse, instance) -> None:
    first_run = run_graph(sandbox, warehouse, instance)
    assert first_run.success
    assert all(checks(first_run).values()), checks(first_run)
    first = snapshot(warehouse)
    learners = sandbox.university.courses[COURSE].learners
    assert len(first["raw_data"]) == len(learners)
    assert run_graph(sandbox, warehouse, instance).success
    assert snapshot(warehouse) == first


def test_raw_data_agrees_with_the_synthetic_learners(sandbox, sqlite_warehouse, instance) -> None:
    assert run_graph(sandbox, sqlite_warehouse, instance).success
    table = schema.tables["raw_data"]
    with sqlite_warehouse.engine.connect() as conn:
        rows = {r.user_id: r for r in conn.execute(sa.select(table))}
    course = sandbox.university.courses[COURSE]
    for learner in course.learners:
        row = rows[learner.user_id]
        assert row.grade_percentage == learner.grade_percentage
        assert row.is_passed == learner.is_passed
        assert row.completion_rate == learner.completion_rate
        if learner.last_activity is None:  # never active: no H5P data, so NULL not 0
            assert row.quiz_avg_score is None and row.h5p_completion_rate is None
        # The labels, recomputed from the synthetic learner as the docs define them.
        as_of = partitions.day_window(partitions.today(), "UTC")[1]
        days = None if learner.last_activity is None else (as_of - learner.last_activity).days
        expected = (
            False
            if learner.is_active or (days is not None and days < 7)
            else True
            if days is not None and days > 30
            else None
        )
        assert (row.days_since_last_activity, row.is_dropout) == (days, expected), learner
    # The sandbox's dropouts left in weeks 1-10 of the term: those gone more than 30 days
    # (weeks 1-6) are labelled True, the recent ones (idle 7-30 days) not yet (NULL).
    inactive_dropouts = [
        lr
        for lr in course.learners
        if lr.behaviour == "dropout" and not lr.is_active and lr.last_activity is not None
    ]
    as_of = partitions.day_window(partitions.today(), "UTC")[1]
    gone = {lr.user_id for lr in inactive_dropouts if (as_of - lr.last_activity).days > 30}
    recent = {lr.user_id for lr in inactive_dropouts} - gone
    assert gone and recent
    assert {rows[user].is_dropout for user in gone} == {True}
    assert {rows[user].is_dropout for user in recent} == {None}


def test_twenty_percent_faults_give_the_same_tables(sandbox, warehouse, instance) -> None:
    assert run_graph(sandbox, warehouse, instance).success
    clean = snapshot(warehouse)
    sandbox.faults.error_rate = 0.10
    sandbox.faults.throttle_rate = 0.10
    sandbox.faults.seed = 11
    faulty = run_graph(sandbox, warehouse, instance)
    assert faulty.success, checks(faulty)
    assert sandbox.served_count("fault", 500) > 50 and sandbox.served_count("fault", 429) > 50
    assert snapshot(warehouse) == clean


def test_sixty_percent_faults_lose_and_change_no_good_row(sandbox, warehouse, instance) -> None:
    """A schedule-like run at 60% 500s with one retry: the courses whose fetch is too
    incomplete are held back before their write (H5P learner failures over 2%), the run
    fails saying so, and every table still holds exactly the rows of the clean run."""
    assert run_graph(sandbox, warehouse, instance).success
    clean = snapshot(warehouse)
    sandbox.faults.error_rate = 0.60
    sandbox.faults.seed = 5
    faulty = run_graph(sandbox, warehouse, instance, max_retries=1)
    assert not faulty.success
    assert sandbox.served_count("fault", 500) > 100
    assert checks(faulty)["h5p_scores_summary.learner_failure_ratio"] is False
    held = faulty.asset_materializations_for_node("h5p_learner_progress")[0].metadata
    assert "h5p_scores_summary.learner_failure_ratio" in held["held_previous_rows"].value
    assert snapshot(warehouse) == clean


def test_malformed_learners_are_reported_and_the_rest_load(
    sandbox, sqlite_warehouse, instance
) -> None:
    learners = sandbox.university.courses[COURSE].learners
    # Of the first three, a learner without H5P data gets a 404 (no data), not a broken body.
    broken = sorted(lr.user_id for lr in learners[:3] if lr.last_activity is not None)
    assert broken
    sandbox.faults.malformed_learners = 3
    result = run_graph(sandbox, sqlite_warehouse, instance, max_retries=1)
    assert result.success
    assert checks(result)["h5p_scores_summary.learner_failure_ratio"] is True  # 2/220 < 2%
    reports = rejected(sqlite_warehouse, "h5p_learner_progress")
    assert [key for key, _ in reports] == [str(uid) for uid in broken]
    assert all("not valid JSON" in reason for _, reason in reports)
    summary = snapshot(sqlite_warehouse, ["h5p_scores_summary"])["h5p_scores_summary"]
    loaded = {row[2] for row in summary}
    with_data = {lr.user_id for lr in learners if lr.last_activity is not None}
    assert loaded == with_data - set(broken)
    metadata = result.asset_materializations_for_node("h5p_learner_progress")[0].metadata
    assert ", ".join(map(str, broken)) in metadata["learner_failures"].value


def test_too_many_failed_learners_block_raw_data(sandbox, sqlite_warehouse, instance) -> None:
    sandbox.faults.malformed_learners = 3
    config = {"ops": {"h5p_learner_progress": {"config": {"max_failure_ratio": 0.005}}}}
    result = run_graph(sandbox, sqlite_warehouse, instance, run_config=config, max_retries=0)
    assert checks(result)["h5p_scores_summary.learner_failure_ratio"] is False
    assert not result.success
    assert snapshot(sqlite_warehouse, ["raw_data"])["raw_data"] == []


def test_dashboard_endpoint_answers_when_combined_progress_fails(
    sandbox, sqlite_warehouse, instance
) -> None:
    assert run_graph(sandbox, sqlite_warehouse, instance).success
    clean = snapshot(sqlite_warehouse, ["dashboard_summary"])["dashboard_summary"]
    sandbox.faults.broken_endpoints = frozenset({"h5p_combined_progress"})
    assert run_graph(sandbox, sqlite_warehouse, instance, max_retries=0).success
    fallback = snapshot(sqlite_warehouse, ["dashboard_summary"])["dashboard_summary"]
    assert {row[-1] for row in clean} == {"combined-progress"}
    assert {row[-1] for row in fallback} == {"dashboard"}
    assert [row[:-1] for row in fallback] == [row[:-1] for row in clean]


def test_benchmarks_are_computed_when_the_stats_api_fails(
    sandbox, sqlite_warehouse, instance
) -> None:
    assert run_graph(sandbox, sqlite_warehouse, instance).success
    columns = ["activity_avg_score", "assessment_avg_score", "progress_avg_completion"]
    sources = ["activity_source", "assessment_source", "progress_source"]
    table = schema.tables["course_stats_benchmarks"]

    def stored():
        with sqlite_warehouse.engine.connect() as conn:
            return conn.execute(sa.select(*(table.c[c] for c in columns + sources))).one()

    from_api = stored()
    assert tuple(from_api[3:]) == ("api", "api", "api")
    sandbox.faults.broken_endpoints = frozenset(
        {"stats_activity", "stats_assessment", "stats_progress"}
    )
    assert run_graph(sandbox, sqlite_warehouse, instance, max_retries=0).success
    computed = stored()
    assert tuple(computed[3:]) == ("computed", "computed", "computed")
    # The sandbox's stats are the course means of the same figures: both ways agree.
    assert tuple(computed[:3]) == tuple(from_api[:3])


def test_max_users_limits_the_per_learner_calls(sandbox, sqlite_warehouse, instance) -> None:
    config = {"ops": {"h5p_learner_progress": {"config": {"max_users": 5}}}}
    result = run_graph(sandbox, sqlite_warehouse, instance, run_config=config)
    assert result.success
    assert sandbox.served_count("h5p_scores") == 5
    summary = snapshot(sqlite_warehouse, ["h5p_scores_summary"])["h5p_scores_summary"]
    assert len(summary) <= 5


def test_raw_data_alone_needs_no_api(sandbox, sqlite_warehouse, instance) -> None:
    assert run_graph(sandbox, sqlite_warehouse, instance).success
    before = snapshot(sqlite_warehouse, ["raw_data"])
    sandbox.stop()  # no API at all from here on
    result = run_graph(sandbox, sqlite_warehouse, instance, selection=["raw_data"])
    assert result.success
    assert snapshot(sqlite_warehouse, ["raw_data"]) == before


def test_one_run_covers_many_courses_like_a_single_run_backfill(
    sandbox, sqlite_warehouse, instance
) -> None:
    courses = list(sandbox.university.courses)
    partitions.register_courses(instance, partitions.openedx_courses, courses)
    day = partitions.today().isoformat()
    http = {"backoff_seconds": 0.0, "requests_per_second": 0.0}
    job = dg.Definitions(
        assets=all_assets,
        resources={
            "warehouse": sqlite_warehouse,
            "openedx_api": OpenEdxApiResource(
                base_url=sandbox.openedx_base_url, session_id=sandbox.session_id, **http
            ),
            "h5p_api": H5PApiResource(base_url=sandbox.h5p_base_url, **http),
        },
    ).resolve_implicit_global_asset_job_def()
    # The tags a single-run backfill of a partition range puts on its run.
    result = job.execute_in_process(
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": f"{courses[0]}|{day}",
            "dagster/asset_partition_range_end": f"{courses[-1]}|{day}",
        },
    )
    assert result.success
    table = schema.tables["raw_data"]
    with sqlite_warehouse.engine.connect() as conn:
        query = sa.select(table.c.course_id, sa.func.count()).group_by(table.c.course_id)
        counts = {course: n for course, n in conn.execute(query)}
    assert counts == {c: len(sandbox.university.courses[c].learners) for c in courses}
    assert len(instance.get_run_records()) == 1


def test_course_runs_store_each_run_calendar_as_listed(sandbox, warehouse, instance) -> None:
    result = run_graph(sandbox, warehouse, instance, selection=["course_runs"])
    assert result.success and all(checks(result).values()), checks(result)
    course = sandbox.university.courses[COURSE]
    assert snapshot(warehouse, ["course_runs"])["course_runs"] == [
        (
            COURSE,
            partitions.today(),
            "SANDBOX+CS101",
            "Introduction to Programming",
            course.start,
            course.end,
        )
    ]


def test_a_run_listed_with_a_bad_date_is_refused_by_name() -> None:
    from lms_assets.openedx.course_runs import parse_course_run
    from lms_assets.openedx.parsing import MOOC_SOURCE, parse_records

    partition = Partition(COURSE, partitions.today())
    listed = {"course_id": COURSE, "display_name": "CS", "start": "2026-13-01", "end": None}
    parsed = parse_records(
        [listed], parse_course_run, partition, source=MOOC_SOURCE, key=("course_id",)
    )
    # start is optional: the run is kept with no start date, and the reason is kept.
    assert [(r["start_date"], r["end_date"]) for r in parsed.rows] == [(None, None)]
    assert [r.reason for r in parsed.nulled] == [
        "record #0: start='2026-13-01' is not an ISO-8601 date-time; stored NULL, record kept"
    ]
