"""The sandbox's LTI attempts API: auth like the real one, start/end exactly, realistic days."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from lms_assets.errors import SourceAuthenticationError
from lms_assets.lti.parsing import parse_day
from lms_assets.sandbox.lti_attempts import BAD_RECORDS_PER_DAY, FORMAT
from lms_assets_tests.test_lti import api_of


def test_a_wrong_client_key_is_refused_and_never_shown(sandbox) -> None:
    api = api_of(sandbox).model_copy(update={"client_key": "wrong-key-789"})
    with pytest.raises(SourceAuthenticationError) as error:
        api.attempts(sandbox.university.today - dt.timedelta(days=1))
    assert "HTTP 403" in str(error.value) and "wrong-key-789" not in str(error.value)


def test_start_and_end_are_honoured_to_the_microsecond(sandbox) -> None:
    day = sandbox.university.today - dt.timedelta(days=1)
    sandbox.lti.bad_records = False
    whole = sandbox.lti.day(day)
    start, end = f"{day} 10:00:00.000000", f"{day} 10:59:59.999999"
    status, body, _ = sandbox.handle(
        "/lti/api/v1/attempts",
        {"client": sandbox.lti.client, "client_key": sandbox.lti.client_key, "start": start,
         "end": end},
        None,
    )  # fmt: skip
    assert status == 200
    expected = [r for r in whole if start <= r["created_at"] <= end]
    assert body == expected and 0 < len(body) < len(whole)
    assert all(dt.datetime.strptime(r["created_at"], FORMAT).hour == 10 for r in body)


def test_days_have_every_bad_record_and_weekends_are_quieter(sandbox) -> None:
    api = api_of(sandbox)
    today = sandbox.university.today
    per_weekday: Counter[bool] = Counter()
    days: Counter[bool] = Counter()
    for n in range(1, 15):
        day = today - dt.timedelta(days=n)
        parsed = parse_day(api.attempts(day), day, "UTC")
        assert parsed.received - parsed.stored == BAD_RECORDS_PER_DAY
        weekend = day.weekday() >= 5
        per_weekday[weekend] += parsed.stored
        days[weekend] += 1
        rows = [r for rows in parsed.rows.values() for r in rows]
        submits = [r for r in rows if r["attempt_type"] == "submit"]
        assert submits and any(r["is_correct"] for r in submits)
        assert not all(r["is_correct"] for r in submits)  # some fail, then try again
    assert per_weekday[True] / days[True] < per_weekday[False] / days[False]


def test_the_client_key_reaches_no_file_of_the_instance_nor_the_output(
    sandbox, tmp_path, capfd
) -> None:
    """A run refused for a wrong key, wired as in production (EnvVar), leaves neither the
    right key nor the wrong one in run storage, event logs or compute logs."""
    import dagster as dg

    from lms_assets.lti.assets import lti_attempts, lti_courses
    from lms_assets.lti.resources import LtiApiResource
    from lms_assets.partitions import Partition
    from lms_assets.warehouse import WarehouseResource

    wrong = "lti-key-canary-7f3a91"
    sandbox.lti.client_key = "lti-right-canary-55c2e0"
    env = {**sandbox.lti.environment(sandbox.base_url), "LMS_LTI_CLIENT_KEY": wrong}
    home = tmp_path / "home"
    home.mkdir()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            course = next(iter(sandbox.university.courses))
            instance.add_dynamic_partitions(lti_courses.name, [course])
            result = dg.materialize(
                [lti_attempts],
                instance=instance,
                raise_on_error=False,
                partition_key=Partition(course, dt.date(2026, 11, 30)).partition_key,
                resources={
                    "warehouse": WarehouseResource(url=f"sqlite:///{tmp_path / 'w.sqlite'}"),
                    "lti_api": LtiApiResource(
                        base_url=dg.EnvVar("LMS_LTI_API_URL"),
                        client=dg.EnvVar("LMS_LTI_CLIENT"),
                        client_key=dg.EnvVar("LMS_LTI_CLIENT_KEY"),
                    ),
                },
            )
    assert not result.success
    output = capfd.readouterr()
    assert "authentication failed (HTTP 403)" in output.out + output.err
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert wrong.encode() not in data and b"lti-right-canary" not in data, path
    assert wrong not in output.out + output.err
