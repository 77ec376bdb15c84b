"""The LTI attempts source (seed 002) end to end: sandbox API -> lti_attempts -> stats."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from lms_assets.automation import RANGE_END_TAG, RANGE_START_TAG
from lms_assets.lti.assets import attempt_daily_stats, lti_attempts, lti_courses
from lms_assets.lti.resources import LtiApiResource
from lms_assets.partitions import register_courses
from lms_assets.sandbox import FaultConfig, Sandbox
from lms_assets_tests.conftest import make_university
from lms_assets_tests.lti_fixtures import (
    COURSES,
    DAY,
    EXPECTED_REASONS,
    EXPECTED_REFUSED,
    EXPECTED_STATS,
    EXPECTED_STORED,
    day_records,
)

LENIENT = {"ops": {"lti_attempts": {"config": {"max_rejected_ratio": 0.9}}}}


def api_of(sandbox: Sandbox, **options) -> LtiApiResource:
    env = sandbox.lti.environment(sandbox.base_url)
    return LtiApiResource(
        base_url=env["LMS_LTI_API_URL"],
        client=sandbox.lti.client,
        client_key=sandbox.lti.client_key,
        backoff_seconds=0,
        **options,
    )


def materialize_days(sandbox, warehouse, instance, first, last, courses, run_config=None, tz="UTC"):
    register_courses(instance, lti_courses, courses)
    return dg.materialize(
        [lti_attempts, attempt_daily_stats],
        instance=instance,
        resources={"warehouse": warehouse, "lti_api": api_of(sandbox, timezone=tz)},
        tags={
            RANGE_START_TAG: f"{courses[0]}|{first.isoformat()}",
            RANGE_END_TAG: f"{courses[-1]}|{last.isoformat()}",
        },
        run_config=run_config or {},
        raise_on_error=False,
    )


@pytest.fixture
def lti_sandbox():
    with Sandbox(make_university(), FaultConfig(retry_after_seconds=0.0)) as server:
        yield server


def stored_counts(warehouse) -> dict[str, int]:
    frame = warehouse.read_frame(
        "SELECT course_id, COUNT(*) AS n FROM lti_attempts GROUP BY course_id"
    )
    return dict(zip(frame.course_id, frame.n.astype(int), strict=True))


def test_a_fixture_day_gives_exact_stored_rejected_and_per_course_counts(
    lti_sandbox, warehouse, instance
) -> None:
    lti_sandbox.lti.fixture[DAY] = day_records()
    result = materialize_days(lti_sandbox, warehouse, instance, DAY, DAY, COURSES, LENIENT)
    assert result.success
    assert len(lti_sandbox.lti.requests) == 1  # the day asked for once, for all three courses
    assert stored_counts(warehouse) == EXPECTED_STORED

    rejected = warehouse.read_frame(
        "SELECT course_id, reason_code, field FROM rejected_records "
        "WHERE asset_name = 'lti_attempts'"
    )
    by_course = rejected.groupby("course_id").size().to_dict()
    assert by_course == EXPECTED_REFUSED
    reasons = {}
    for code, field in zip(rejected.reason_code, rejected.field, strict=True):
        key = (code, None if field is None or field != field else field)
        reasons[key] = reasons.get(key, 0) + 1
    assert reasons == EXPECTED_REASONS

    stats = warehouse.read_frame(
        "SELECT course_id, attempts, unique_users, successful_attempts, success_rate, runs, "
        "submits, attempts_per_user, solvers FROM attempt_daily_stats"
    )
    found = {
        row[0]: tuple(None if v is None or v != v else round(float(v), 2) for v in row[1:])
        for row in stats.itertuples(index=False)
    }
    assert found == {
        course: tuple(None if v is None else float(v) for v in figures)
        for course, figures in EXPECTED_STATS.items()
    }
    checks = {
        (e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()
    }
    assert all(checks.values()) and len(checks) == 7
    meta = result.asset_materializations_for_node("lti_attempts")[0].metadata
    assert meta["run_records_received"].value == 25
    assert meta["run_attempts_without_course"].value == 1

    # The microseconds are part of the key: attempts 1 and 9 differ by one and are both kept.
    times = warehouse.read_frame(
        "SELECT created_at FROM lti_attempts WHERE user_id = :u AND attempt_type = 'run'",
        u="a" * 32,
    )
    assert sorted(t.microsecond for t in pd.to_datetime(times.created_at)) == [1, 2]


def test_a_day_above_the_rejected_ratio_keeps_the_stored_attempts_and_blocks_the_stats(
    lti_sandbox, warehouse, instance
) -> None:
    clean = [r for r in day_records() if isinstance(r, dict)][:9]
    lti_sandbox.lti.fixture[DAY] = clean
    assert materialize_days(lti_sandbox, warehouse, instance, DAY, DAY, COURSES).success
    assert stored_counts(warehouse) == EXPECTED_STORED

    lti_sandbox.lti.fixture[DAY] = day_records()  # 16 of 25 refused: 64% > 5%
    result = materialize_days(lti_sandbox, warehouse, instance, DAY, DAY, COURSES)
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["rejected_ratio"] is False
    assert stored_counts(warehouse) == EXPECTED_STORED  # the first pull's rows, kept
    stats_runs = [
        e for e in result.get_step_success_events() if e.step_key == "attempt_daily_stats"
    ]
    assert stats_runs == []  # blocked


def test_stats_round_a_half_up_as_the_recount_check_does() -> None:
    """81 correct of 160 submits is 50.625%: SQL's ROUND (the stats_match_recount check)
    says 50.63, Python's round() 50.62; the stored figure must be SQL's."""
    from lms_assets.lti.assets import _ratio

    assert round(100 * 81 / 160, 2) == 50.62  # the tie Python rounds to even
    assert _ratio(100 * 81, 160) == 50.63
    assert _ratio(7, 4) == 1.75 and _ratio(2, 3) == 0.67
