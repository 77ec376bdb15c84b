"""The HTTP client base against the real sandbox server on loopback."""

import time

import pytest

from lms_assets.errors import SourceAuthenticationError, SourceRequestError, SourceResponseError
from lms_assets.http_client import RateLimiter, parse_retry_after
from lms_assets.openedx.resources import (
    H5PApiResource,
    OpenEdxApiResource,
    encode_course_id,
    encode_h5p_course_id,
)

COURSE = "course-v1:SANDBOX+CS101+2026_T1"


def _api(sandbox, **overrides) -> OpenEdxApiResource:
    settings = {
        "base_url": sandbox.openedx_base_url,
        "session_id": sandbox.session_id,
        "backoff_seconds": 0.0,
        "requests_per_second": 0.0,
        **overrides,
    }
    return OpenEdxApiResource(**settings)


def test_course_ids_are_encoded_with_no_safe_characters() -> None:
    # The seed's own example.
    assert encode_course_id("course-v1:DHQG-HCM+FM101+2025_S2") == (
        "course-v1%3ADHQG-HCM%2BFM101%2B2025_S2"
    )


def test_h5p_course_ids_stay_raw_except_what_breaks_a_path() -> None:
    assert encode_h5p_course_id("course-v1:DHQG-HCM+FM101+2025_S2") == (
        "course-v1:DHQG-HCM+FM101+2025_S2"
    )
    assert encode_h5p_course_id("a#b?c%41/d e\tf") == "a%23b%3Fc%2541%2Fd%20e%09f"


def test_an_h5p_course_key_with_a_hash_reaches_the_sandbox_intact(sandbox) -> None:
    key = "course-v1:SANDBOX+CS#101+2026 T1/a?b%41"
    course = sandbox.university.courses.pop(COURSE)
    course.course_id = key
    sandbox.university.courses[key] = course
    learner = next(lr for lr in course.learners if lr.last_activity is not None)
    api = H5PApiResource(
        base_url=sandbox.h5p_base_url, backoff_seconds=0.0, requests_per_second=0.0
    )
    body = api.learner_data("scores", learner.user_id, key)
    assert body is not None and body["course_id"] == key
    assert body["user_id"] == str(learner.user_id)
    # On the wire ':' and '+' are raw, as the plugin wants them.
    assert list(sandbox.paths) == [
        f"/wp-json/mooc/v1/scores/{learner.user_id}/"
        "course-v1:SANDBOX+CS%23101+2026%20T1%2Fa%3Fb%2541"
    ]


def test_enrollment_pages_follow_limit_and_offset(sandbox) -> None:
    expected = [lr.user_id for lr in sandbox.university.courses[COURSE].learners]
    pages = list(_api(sandbox).iter_enrollment_pages(COURSE))
    assert [p.offset for p in pages] == [0, 200]
    assert [r["user_id"] for p in pages for r in p.records] == expected
    assert {p.reported_total for p in pages} == {len(expected)}


def test_a_server_page_cap_below_our_limit_still_gets_everything(sandbox) -> None:
    sandbox.faults.max_page_size = 50
    pages = list(_api(sandbox).iter_enrollment_pages(COURSE))
    total = len(sandbox.university.courses[COURSE].learners)
    assert [p.offset for p in pages] == list(range(0, total, 50))
    assert sum(len(p.records) for p in pages) == total


def test_a_count_below_the_records_does_not_stop_the_paging(sandbox) -> None:
    expected = [lr.user_id for lr in sandbox.university.courses[COURSE].learners]
    sandbox.faults.count_shortfall = len(expected) - 200  # `count` says one page's worth
    pages = list(_api(sandbox).iter_enrollment_pages(COURSE))
    assert [p.offset for p in pages] == [0, 200]
    assert [r["user_id"] for p in pages for r in p.records] == expected
    assert {p.reported_total for p in pages} == {200}


def test_a_next_link_pointing_back_fails_after_two_requests(sandbox) -> None:
    sandbox.faults.max_page_size = 50
    sandbox.faults.self_next_offset = 50
    api = _api(sandbox)
    with pytest.raises(SourceResponseError) as error:
        list(api.iter_enrollment_pages(COURSE))
    assert str(error.value) == (
        f"Open edX API GET course-enrollments-attributes/{encode_course_id(COURSE)}/"
        "?limit=50&offset=50: 'next' (limit=50&offset=50) points at a page already requested: "
        "the listing loops; stopped after 2 requests"
    )
    assert api.stats.requests == sandbox.served_count("enrollments") == 2


def test_retry_after_is_honoured_and_retries_are_bounded(sandbox) -> None:
    sandbox.faults.throttle_rate = 1.0
    sandbox.faults.retry_after_seconds = 0.05
    api = _api(sandbox, max_retries=2)
    with pytest.raises(SourceRequestError, match="failed after 3 attempts: HTTP 429"):
        api.get_json("courses/")
    assert (api.stats.requests, api.stats.retries, api.stats.throttled_429) == (3, 2, 3)
    assert api.stats.retry_after_seconds == pytest.approx(0.10)


def test_server_errors_are_retried_until_an_answer_comes(sandbox) -> None:
    clean = _api(sandbox).get_json("courses/")
    sandbox.faults.error_rate = 0.5
    api = _api(sandbox, max_retries=10)
    for _ in range(5):
        assert api.get_json("courses/") == clean
    assert api.stats.server_errors_5xx > 0
    assert api.stats.requests == 5 + api.stats.retries


def test_hung_requests_time_out_and_fail_clearly(sandbox) -> None:
    sandbox.faults.timeout_rate = 1.0
    sandbox.faults.hang_seconds = 1.0
    api = _api(sandbox, timeout_seconds=0.1, max_retries=1)
    with pytest.raises(SourceRequestError, match=r"timed out after 0.1s"):
        api.get_json("courses/")
    assert api.stats.timeouts == 2


def test_malformed_bodies_are_retried_then_reported(sandbox) -> None:
    sandbox.faults.malformed_rate = 1.0
    api = _api(sandbox, max_retries=1)
    with pytest.raises(SourceResponseError, match="not valid JSON"):
        api.get_json("courses/")
    assert api.stats.malformed_bodies == 2


def test_wrong_session_id_fails_at_once_without_revealing_it(sandbox) -> None:
    api = _api(sandbox, session_id="stolen-cookie-value", max_retries=5)
    with pytest.raises(SourceAuthenticationError) as error:
        api.get_json("courses/")
    assert "authentication failed (HTTP 401)" in str(error.value)
    assert "stolen-cookie-value" not in str(error.value)
    assert api.stats.requests == 1


def test_an_error_body_echoing_the_cookie_is_redacted(sandbox) -> None:
    sandbox.session_id = "s3cret-cookie-9f8e7d"
    sandbox.faults.echo_cookie_status = 400
    api = _api(sandbox, max_retries=5)
    with pytest.raises(SourceRequestError) as error:
        api.get_json("courses/")
    message = str(error.value)
    assert "s3cret" not in message
    assert message == (
        'Open edX API GET courses/ failed with HTTP 400: \'{"detail": "Bad request '
        '(injected)", "cookie": "sessionid=[redacted]; edx-session=[redacted]", '
        '"session": "[redacted]"}\''
    )
    assert api.stats.requests == 1


def test_redaction_covers_encoded_secrets_and_credential_pairs(sandbox) -> None:
    api = _api(sandbox, session_id="a/b c+d")
    text = 'raw a/b c+d, url a%2Fb%20c%2Bd, json "a/b c+d", csrftoken=xyz; course=C+1'
    assert api.redact(text) == (
        'raw [redacted], url [redacted], json "[redacted]", csrftoken=[redacted]; course=C+1'
    )


def test_not_found_is_not_retried(sandbox) -> None:
    api = _api(sandbox)
    with pytest.raises(SourceRequestError, match="HTTP 404"):
        list(api.iter_enrollment_pages("course-v1:NOPE+X+1"))
    assert api.stats.requests == 1


def test_rate_limiter_never_exceeds_its_rate() -> None:
    limiter = RateLimiter(requests_per_second=200)
    started = time.monotonic()
    for _ in range(21):
        limiter.acquire()
    # 21 calls at 200/s need at least 20 intervals of 5 ms: a lower bound, never flaky.
    assert time.monotonic() - started >= 20 / 200


@pytest.mark.parametrize(
    ("header", "seconds"), [("3", 3.0), ("0.25", 0.25), (None, None), ("soon", None)]
)
def test_retry_after_header_parsing(header, seconds) -> None:
    assert parse_retry_after(header) == seconds


def test_course_listing(sandbox) -> None:
    listed = [c["course_id"] for c in _api(sandbox).list_courses()]
    assert listed == list(sandbox.university.courses)
