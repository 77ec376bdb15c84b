"""`enrollments` end to end: sandbox over HTTP -> Dagster -> warehouse, on both backends."""

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.errors import SourceAuthenticationError
from lms_assets.openedx.assets import enrollments, mooc_grades
from lms_assets.openedx.resources import OpenEdxApiResource, encode_course_id
from lms_assets.openedx.schema import enrollments as enrollments_table
from lms_assets.partitions import Partition, SnapshotDateError
from lms_assets.warehouse.schema import rejected_records

COURSE = "course-v1:SANDBOX+CS101+2026_T1"


def materialize(
    sandbox, warehouse, instance, day: dt.date | None = None, course: str = COURSE, **api_settings
) -> dg.ExecuteInProcessResult:
    partitions.register_courses(
        instance, partitions.openedx_courses, list(sandbox.university.courses)
    )
    api = OpenEdxApiResource(
        base_url=sandbox.openedx_base_url,
        session_id=api_settings.pop("session_id", sandbox.session_id),
        backoff_seconds=0.0,
        requests_per_second=0.0,
        **api_settings,
    )
    return dg.materialize(
        [enrollments],
        instance=instance,
        resources={"openedx_api": api, "warehouse": warehouse},
        partition_key=Partition(course, day or partitions.today()).partition_key,
        raise_on_error=False,
    )


def stored_rows(warehouse, course: str = COURSE) -> list[tuple]:
    columns = [c for c in enrollments_table.c if c.name != "loaded_at"]
    with warehouse.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.select(*columns)
                .where(enrollments_table.c.course_id == course)
                .order_by(enrollments_table.c.user_id)
            )
        ]


def check_outcomes(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    failure = result.failure_data_for_node("enrollments")
    assert failure is not None
    return failure.error.to_string()


def test_every_enrollment_is_stored_with_the_api_values(sandbox, warehouse, instance) -> None:
    result = materialize(sandbox, warehouse, instance)
    assert result.success
    learners = sandbox.university.courses[COURSE].learners
    rows = stored_rows(warehouse)
    assert len(rows) == len(learners) > 200
    # One learner checked field by field against what the sandbox serves.
    learner = learners[17]
    row = next(r for r in rows if r[2] == learner.user_id)
    assert row[3:] == (
        learner.username,
        learner.email,
        learner.full_name,
        learner.mode,
        learner.is_active,
        learner.enrolled_at.replace(second=0),
        learner.student_code,
        learner.class_code,
    )
    # Two pages of limit=200 for a course of 210-260 learners.
    assert sandbox.served_count("enrollments", 200) == 2
    assert check_outcomes(result) == {
        "user_id_unique": True,
        "user_id_not_null": True,
        "row_count_matches_api_total": True,
        "row_count_matches_records_served": True,
        "rejection_ratio": True,
    }
    metadata = result.asset_materializations_for_node("enrollments")[0].metadata
    assert metadata["dagster/row_count"].value == len(learners)
    assert metadata["api_reported_total"].value == len(learners)
    assert metadata["api_records_served"].value == len(learners)
    preview = metadata["preview"]  # a table the UI shows inline, without personal data
    assert len(preview.records) == 10
    assert {"email", "username", "loaded_at"}.isdisjoint(c.name for c in preview.schema.columns)
    assert not any(
        "@sandbox.example.edu" in str(v) for r in preview.records for v in r.data.values()
    )


def test_rematerializing_leaves_identical_rows(sandbox, warehouse, instance) -> None:
    assert materialize(sandbox, warehouse, instance).success
    first = stored_rows(warehouse)
    assert materialize(sandbox, warehouse, instance).success
    assert stored_rows(warehouse) == first


def test_twenty_percent_faults_give_the_same_rows_as_a_clean_run(
    sandbox, warehouse, instance
) -> None:
    assert materialize(sandbox, warehouse, instance).success
    clean = stored_rows(warehouse)
    sandbox.faults.error_rate = 0.10
    sandbox.faults.throttle_rate = 0.10
    sandbox.faults.seed = 3
    sandbox.faults.max_page_size = 10  # many pages, so many faults
    result = materialize(sandbox, warehouse, instance, max_retries=8)
    assert result.success
    assert sandbox.served_count("fault", 500) > 0 and sandbox.served_count("fault", 429) > 0
    assert stored_rows(warehouse) == clean
    metadata = result.asset_materializations_for_node("enrollments")[0].metadata
    assert metadata["run_http_retries"].value == (
        sandbox.served_count("fault", 500) + sandbox.served_count("fault", 429)
    )


def test_wrong_session_id_fails_saying_authentication_failed_without_the_id(
    sandbox, warehouse, instance, capsys
) -> None:
    secret = "wrong-secret-cookie-42"
    result = materialize(sandbox, warehouse, instance, session_id=secret)
    assert not result.success
    message = failure_message(result)
    assert SourceAuthenticationError.__name__ in message
    assert "authentication failed (HTTP 401)" in message
    assert "LMS_OPENEDX_SESSION_ID" in message
    logged = "\n".join(
        str(event.user_message) + str(event.dagster_event)
        for event in instance.all_logs(result.run_id)
    )
    captured = capsys.readouterr()
    assert secret not in logged + captured.out + captured.err
    assert stored_rows(warehouse) == []


def test_an_error_body_echoing_the_cookie_never_reaches_the_run_or_the_logs(
    sandbox, warehouse, instance, capsys
) -> None:
    secret = "s3cret-cookie-9f8e7d"
    sandbox.session_id = secret
    sandbox.faults.echo_cookie_status = 400
    result = materialize(sandbox, warehouse, instance)
    assert not result.success
    message = failure_message(result)
    assert (
        f"Open edX API GET course-enrollments-attributes/{encode_course_id(COURSE)}/ failed "
        "with HTTP 400"
    ) in message
    assert "sessionid=[redacted]" in message
    logged = "\n".join(
        str(event.user_message) + str(event.dagster_event)
        for event in instance.all_logs(result.run_id)
    )
    assert "failed with HTTP 400" in logged
    captured = capsys.readouterr()
    assert secret not in message + logged + captured.out + captured.err
    assert stored_rows(warehouse) == []


def test_yesterday_is_refused_because_the_api_only_has_today(
    sandbox, warehouse, instance, yesterday
) -> None:
    result = materialize(sandbox, warehouse, instance, day=yesterday)
    assert not result.success
    message = failure_message(result)
    assert SnapshotDateError.__name__ in message
    assert "only gives today's snapshot" in message
    assert yesterday.isoformat() in message
    assert sandbox.served_count("enrollments") == 0
    assert stored_rows(warehouse) == []


def test_bad_records_are_rejected_kept_and_fail_the_checks(sandbox, warehouse, instance) -> None:
    sandbox.faults.enrollment_defects = 2  # one duplicate, one without user_id
    result = materialize(sandbox, warehouse, instance)
    learners = sandbox.university.courses[COURSE].learners
    assert len(stored_rows(warehouse)) == len(learners)
    assert check_outcomes(result) == {
        "user_id_unique": False,
        "user_id_not_null": False,
        "row_count_matches_api_total": False,
        "row_count_matches_records_served": False,
        "rejection_ratio": True,  # 2 unusable records of the API's 200-odd: under 5%
    }
    rejects = warehouse.read_frame(
        sa.select(rejected_records.c.reason, rejected_records.c.record_key).order_by(
            rejected_records.c.seq
        )
    )
    n = len(learners)
    assert rejects.values.tolist() == [
        [
            f"record #{n}: duplicate user_id {learners[0].user_id} (first occurrence kept)",
            str(learners[0].user_id),
        ],
        [f"record #{n + 1}: user_id is missing", None],
    ]
    # The checks are blocking: the run is marked failed although the rows were written.
    assert not result.success


def test_a_count_too_low_loses_no_learner_and_fails_the_count_check(
    sandbox, warehouse, instance
) -> None:
    learners = sandbox.university.courses[COURSE].learners
    assert materialize(sandbox, warehouse, instance).success
    clean = stored_rows(warehouse)
    # The API says 200: exactly one page, so paging by `count` stopped there, all checks green.
    sandbox.faults.count_shortfall = len(learners) - 200
    before = sandbox.served_count("enrollments")
    result = materialize(sandbox, warehouse, instance)
    assert sandbox.served_count("enrollments") - before == 2  # both pages, no more
    assert stored_rows(warehouse) == clean
    assert len(clean) == len(learners)
    assert check_outcomes(result) == {
        "user_id_unique": True,
        "user_id_not_null": True,
        "row_count_matches_api_total": False,
        "row_count_matches_records_served": True,
        "rejection_ratio": True,
    }
    check = next(
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "row_count_matches_api_total"
    )
    assert check.metadata["violations"].value == 1
    metadata = result.asset_materializations_for_node("enrollments")[0].metadata
    assert metadata["api_reported_total"].value == 200
    assert metadata["api_records_served"].value == len(learners)
    assert not result.success  # the failed check blocks


def test_a_repeated_page_fails_the_course_within_four_requests(
    sandbox, warehouse, instance
) -> None:
    assert materialize(sandbox, warehouse, instance).success
    clean = stored_rows(warehouse)
    sandbox.faults.max_page_size = 50
    sandbox.faults.repeated_page_offset = 100  # offset 150 gets offset 100's learners again
    before = sandbox.served_count("enrollments")
    result = materialize(sandbox, warehouse, instance)
    assert not result.success
    assert sandbox.served_count("enrollments") - before == 4  # offsets 0, 50, 100, 150
    message = failure_message(result)
    assert (
        f"GET course-enrollments-attributes/{encode_course_id(COURSE)}/?limit=50&offset=150: "
        "the page repeats the previous page's 50 user_ids"
    ) in message
    assert "stopped after 4 requests" in message
    assert stored_rows(warehouse) == clean  # the partition keeps its last good load
    assert check_outcomes(result) == {}
    assert warehouse.read_frame(sa.select(rejected_records.c.seq)).empty


def test_each_asset_of_a_run_counts_only_its_own_requests(sandbox, warehouse, instance) -> None:
    partitions.register_courses(
        instance, partitions.openedx_courses, list(sandbox.university.courses)
    )
    api = OpenEdxApiResource(
        base_url=sandbox.openedx_base_url,
        session_id=sandbox.session_id,
        backoff_seconds=0.0,
        requests_per_second=0.0,
    )
    result = dg.materialize(
        [enrollments, mooc_grades],
        instance=instance,
        resources={"openedx_api": api, "warehouse": warehouse},
        partition_key=Partition(COURSE, partitions.today()).partition_key,
    )
    assert result.success
    requests = {
        node: result.asset_materializations_for_node(node)[0].metadata["run_http_requests"].value
        for node in ("enrollments", "mooc_grades")
    }
    # Two enrollments pages, then one export call; the shared resource saw all three.
    assert requests == {"enrollments": 2, "mooc_grades": 1}
    assert sandbox.served_count("enrollments") == 2 and sandbox.served_count("grades") == 1


def test_an_answer_with_too_many_unusable_records_keeps_the_stored_enrollments(
    sandbox, warehouse, instance
) -> None:
    """30 bad records (15 duplicates, 15 without user_id) in a course of 200-odd: over 5%,
    measured before the write: the earlier good rows of today stay as they were."""
    assert materialize(sandbox, warehouse, instance).success
    good = stored_rows(warehouse)
    sandbox.faults.enrollment_defects = 30
    result = materialize(sandbox, warehouse, instance)
    assert stored_rows(warehouse) == good
    assert check_outcomes(result)["rejection_ratio"] is False
    assert not result.success
    held = result.asset_materializations_for_node("enrollments")[0].metadata
    assert held["held_previous_rows"].value == "enrollments.rejection_ratio"
