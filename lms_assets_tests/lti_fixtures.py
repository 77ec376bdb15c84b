"""Hand-made LTI attempts for the tests: a fixture day with every bad-record class.

Figures computed by hand (see test_lti.py): 25 records received; stored A 6, B 2,
lti-course-unknown 1; refused A 8, B 3, lti-course-unknown 5.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lms_assets.lti.parsing import UNKNOWN_COURSE

DAY = dt.date(2026, 11, 30)
A = "course-v1:ORG+CS1+2026"
B = "course-v1:ORG+CS2+2026"
COURSES = [A, B, UNKNOWN_COURSE]
U1, U2, U3, U4 = ("a" * 32, "b" * 32, "c" * 32, "d" * 32)


def url_params(course: str, block: str = "e1") -> str:
    usage = f"block-v1:{course[10:]}+type@lti+block@{block}"
    return repr(
        {
            "oauth_consumer_key": "",
            "lis_result_sourcedid": f"{course}:lms.example.edu-{block}:anon",
            "lis_outcome_service_url": f"https://lms.example.edu/courses/{course}/xblock/"
            f"{usage}/handler_noauth/grade_handler",
        }
    )


def attempt(user: Any, params: Any, kind: Any, correct: Any, at: Any) -> dict[str, Any]:
    return {
        "lti_user_id": user,
        "passback_params": params,
        "is_correct": correct,
        "attempt_type": kind,
        "created_at": at,
    }


def day_records(day: dt.date = DAY) -> list[Any]:
    d = day.isoformat()
    quoted_b = B.replace(":", "%3A").replace("+", "%2B")
    good = [
        attempt(U1, url_params(A), "run", None, f"{d} 10:00:00.000001"),  # 1
        attempt(U1, url_params(A), "submit", 0, f"{d} 10:01:00.500000"),  # 2
        attempt(U1, url_params(A), "submit", 1, f"{d} 10:02:00.000000"),  # 3
        attempt(U2, url_params(A, "e2"), "run", None, f"{d} 11:00:00.000000"),  # 4
        attempt(U2, url_params(A, "e2"), "submit", 0, f"{d} 11:05:00.000000"),  # 5
        # 6, 7: course B only from the sourcedid (URL-quoted, then with a block-v1 link)
        attempt(U3, repr({"lis_result_sourcedid": f"{quoted_b}:h-x:anon"}), "submit", 1,
                f"{d} 12:00:00.000000"),
        attempt(U3, repr({"lis_result_sourcedid": f"{B}:block-v1:ORG+CS2+2026+type@lti"
                          "+block@e3:anon", "lis_outcome_service_url": None}), "run", None,
                f"{d} 12:10:00.000000"),
        # 8: no course at all: kept under lti-course-unknown
        attempt(U4, repr({"oauth_consumer_key": "", "lis_result_sourcedid": None}), "run", None,
                f"{d} 13:00:00.000000"),
        attempt(U1, url_params(A), "run", None, f"{d} 10:00:00.000002"),  # 9: 1 microsecond on
    ]  # fmt: skip
    previous = (day - dt.timedelta(days=1)).isoformat()
    bad = [
        dict(good[2]),  # 10 duplicate of 3 (A)
        {k: v for k, v in good[0].items() if k != "lti_user_id"},  # 11 missing user (A)
        {**good[0], "lti_user_id": 4242},  # 12 (A)
        {**good[5], "attempt_type": "test", "passback_params": url_params(B)},  # 13 (B)
        {**good[5], "is_correct": 2, "passback_params": url_params(B)},  # 14 (B)
        {**good[0], "is_correct": 1},  # 15 a run with is_correct (A)
        {**good[1], "is_correct": None},  # 16 a submit without (A)
        {**good[0], "created_at": "30/11/2026 10:00"},  # 17 (A)
        {**good[0], "created_at": f"{previous} 23:59:59.999999"},  # 18 (A)
        {**good[0], "passback_params": url_params(A)[:40]},  # 19 cut off (unknown)
        {**good[0], "passback_params": "__import__('os').system('echo pwned')"},  # 20
        {**good[0], "passback_params": "['a', 'b']"},  # 21
        {**good[0], "passback_params": "{'lis_outcome_service_url': 42}"},  # 22
        "not an attempt",  # 23
        {k: v for k, v in good[0].items() if k != "created_at"},  # 24 (A)
        {**good[5], "lti_user_id": "x" * 65, "passback_params": url_params(B)},  # 25 (B)
    ]
    return good + bad


EXPECTED_STORED = {A: 6, B: 2, UNKNOWN_COURSE: 1}
EXPECTED_REFUSED = {A: 8, B: 3, UNKNOWN_COURSE: 5}
EXPECTED_REASONS = {
    ("duplicate_key", "created_at"): 1,
    ("missing", "lti_user_id"): 1,
    ("wrong_shape", "lti_user_id"): 1,
    ("out_of_range", "attempt_type"): 1,
    ("not_a_boolean", "is_correct"): 1,
    ("inconsistent", "is_correct"): 1,
    ("missing", "is_correct"): 1,
    ("not_a_datetime", "created_at"): 1,
    ("out_of_range", "created_at"): 1,
    ("wrong_shape", "passback_params"): 3,
    ("wrong_shape", "lis_outcome_service_url"): 1,
    ("wrong_shape", None): 1,
    ("missing", "created_at"): 1,
    ("too_long", "lti_user_id"): 1,
}
# course: attempts, unique_users, successful, success_rate, runs, submits, per user, solvers
EXPECTED_STATS = {
    A: (6, 2, 1, 33.33, 3, 3, 3.0, 1),
    B: (2, 1, 1, 100.0, 1, 1, 2.0, 1),
    UNKNOWN_COURSE: (1, 1, 0, None, 1, 0, 1.0, 0),
}
