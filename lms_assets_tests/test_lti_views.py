"""The BI views of seed 002's Metabase questions, against figures computed by hand.

The fixture spans midnight on three days, and is loaded twice: with the API's clock in UTC
and in Europe/Moscow (UTC+3). The views count by the API's local day (the partition), so
the figures are the same in both; DATE(created_at) of the stored UTC times would not be
(in Moscow the attempts just after local midnight are on the previous UTC day).
"""

from __future__ import annotations

import datetime as dt

import pytest

from lms_assets.lti.parsing import UNKNOWN_COURSE
from lms_assets.sandbox import FaultConfig, Sandbox
from lms_assets_tests.conftest import make_university
from lms_assets_tests.lti_fixtures import A, B, attempt, url_params
from lms_assets_tests.test_lti import materialize_days

D1, D2, D3 = dt.date(2026, 11, 29), dt.date(2026, 11, 30), dt.date(2026, 12, 1)
U1, U2, U3, U4 = "u1", "u2", "u3", "u4"


def fixture_days() -> dict[dt.date, list[dict]]:
    def at(day: dt.date, clock: str) -> str:
        return f"{day.isoformat()} {clock}"

    return {
        D1: [
            attempt(U1, url_params(A), "run", None, at(D1, "23:50:00.000000")),
            attempt(U1, url_params(A), "submit", 1, at(D1, "23:59:59.999999")),
            attempt(U2, url_params(B), "submit", 0, at(D1, "22:00:00.000000")),
        ],
        D2: [
            attempt(U1, url_params(A), "run", None, at(D2, "00:00:00.000000")),
            attempt(U1, url_params(A), "submit", 0, at(D2, "00:10:00.000000")),
            attempt(U3, url_params(B), "submit", 1, at(D2, "00:20:00.000000")),
            attempt(U2, url_params(B), "run", None, at(D2, "08:00:00.000000")),
            attempt(U2, url_params(B), "submit", 1, at(D2, "08:05:00.000000")),
        ],
        D3: [attempt(U4, url_params(A), "run", None, at(D3, "00:05:00.000000"))],
    }


@pytest.fixture
def views_sandbox():
    with Sandbox(make_university(), FaultConfig(retry_after_seconds=0.0)) as server:
        yield server


def query(warehouse, sql: str) -> list[tuple]:
    frame = warehouse.read_frame(sql)

    def plain(value):
        if value is None or value != value:  # NULL (None or NaN)
            return None
        if hasattr(value, "isoformat") or isinstance(value, str):
            return str(value)[:10]
        return round(float(value), 2)

    return [tuple(plain(v) for v in row) for row in frame.itertuples(index=False)]


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Moscow"])
def test_the_bi_views_give_the_hand_computed_figures(
    views_sandbox, warehouse, instance, timezone
) -> None:
    views_sandbox.lti.timezone = timezone
    views_sandbox.lti.fixture.update(fixture_days())
    courses = [A, B, UNKNOWN_COURSE]
    result = materialize_days(views_sandbox, warehouse, instance, D1, D3, courses, tz=timezone)
    assert result.success
    d1, d2, d3 = (d.isoformat() for d in (D1, D2, D3))

    assert query(warehouse, "SELECT day, active_users FROM lti_dau ORDER BY day") == [
        (d1, 2),
        (d2, 3),
        (d3, 1),
    ]
    assert query(warehouse, "SELECT day, attempts FROM lti_attempts_count ORDER BY day") == [
        (d1, 3),
        (d2, 5),
        (d3, 1),
    ]
    assert query(
        warehouse,
        "SELECT day, attempt_type, attempts, share_percent FROM lti_attempt_type_distribution "
        "ORDER BY day, attempt_type",
    ) == [
        (d1, "run", 1, 33.33),
        (d1, "submit", 2, 66.67),
        (d2, "run", 2, 40.0),
        (d2, "submit", 3, 60.0),
        (d3, "run", 1, 100.0),
    ]
    assert query(
        warehouse,
        "SELECT day, submits, correct_submits, success_rate_percent FROM lti_success_rate "
        "ORDER BY day",
    ) == [(d1, 2, 1, 50.0), (d2, 3, 2, 66.67), (d3, 0, 0, None)]
    assert query(
        warehouse,
        "SELECT day, active_users, previous_active_users, day_over_day_change "
        "FROM lti_dau_dynamics ORDER BY day",
    ) == [(d1, 2, None, None), (d2, 3, 2, 1), (d3, 1, 3, -2)]
    assert query(
        warehouse,
        "SELECT day, attempts, previous_attempts, day_over_day_change "
        "FROM lti_attempts_dynamics ORDER BY day",
    ) == [(d1, 3, None, None), (d2, 5, 3, 2), (d3, 1, 5, -4)]
    assert query(
        warehouse,
        "SELECT day, active_users, attempts, attempts_per_user FROM lti_dau_vs_attempts "
        "ORDER BY day",
    ) == [(d1, 2, 3, 1.5), (d2, 3, 5, 1.67), (d3, 1, 1, 1.0)]

    # The stored times are UTC: in Moscow, D2's first three attempts happened on D1 in UTC.
    utc_day_of_d2 = query(
        warehouse,
        "SELECT MIN(created_at) FROM lti_attempts WHERE snapshot_date = '2026-11-30'",
    )[0][0]
    assert utc_day_of_d2 == (d1 if timezone == "Europe/Moscow" else d2)
