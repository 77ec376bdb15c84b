"""The sandbox's LTI attempts API (seed 002): the university's learners solving coding exercises.

``GET /lti/api/v1/attempts?client=&client_key=&start=&end=`` answers like the real API
behind seed 002: one JSON list of every attempt of the client (all courses) whose
``created_at`` lies in [start, end], both ends included, timestamps in the feed's clock
(``timezone``). A wrong client or key gets 403. Every attempt follows from the seed,
the course, the day and the learner (semester.py): a learner works on exercises on a
share of their active days, solves more the more engaged they are, never after their
last active day (a dropout's week); the rhythm is the semester's (Friday deadlines,
quiet weekends). With ``bad_records`` each day also carries one record of every kind seed
002's validator refuses, a duplicate and unparseable passback_params (``BAD_RECORDS``),
plus attempts whose course only the sourcedid tells, or nothing does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from typing import Any

from lms_assets.sandbox.semester import active_chance
from lms_assets.sandbox.university import Course, Learner, University

LTI_PATH = "/lti/api/v1/attempts"
DEFAULT_CLIENT = "sandbox-client"
DEFAULT_CLIENT_KEY = "sandbox-client-key"
FORMAT = "%Y-%m-%d %H:%M:%S.%f"
LMS_HOST = "lms.sandbox.edu"
MAX_DAYS_PER_REQUEST = 31

# Of a learner's active days (semester.active_chance), the share with exercises: all of
# them, so a quiet Saturday still has enough attempts that the day's fixed set of refused
# records (BAD_RECORDS) stays under the default 5% rejected-ratio gate.
LTI_SHARE = 1.0


def correct_chance(learner: Learner) -> float:
    """The chance that a submit is correct: 15% at engagement 0, 75% at 1."""
    return 0.15 + 0.6 * learner.engagement


def lti_user_id(user_id: int) -> str:
    """The anonymous LTI id of a learner (32 hex digits, as Open edX sends)."""
    return hashlib.md5(f"lti:{user_id}".encode()).hexdigest()


def exercise_blocks(course: Course) -> list[str]:
    digest = hashlib.sha1(course.course_id.encode()).digest()
    return [
        hashlib.sha1(f"{course.course_id}:{i}".encode()).hexdigest()[:32]
        for i in range(5 + digest[0] % 6)
    ]


def passback_params(course_id: str, block: str, anonymous_id: str) -> str:
    """passback_params as the real API sends them: a Python dict literal in a string."""
    usage_key = f"block-v1:{course_id[len('course-v1:') :]}+type@lti+block@{block}"
    params = {
        "oauth_consumer_key": "",
        "lis_result_sourcedid": f"{course_id}:{LMS_HOST}-{block}:{anonymous_id}",
        "lis_outcome_service_url": f"https://{LMS_HOST}/courses/{course_id}/xblock/{usage_key}"
        "/handler_noauth/grade_handler",
    }
    return repr(params)


def _learner_day(
    rng: random.Random, course: Course, learner: Learner, day: dt.date, blocks: list[str]
) -> list[dict[str, Any]]:
    chance = LTI_SHARE * active_chance(learner, day, course.start)
    if chance == 0.0 or rng.random() >= chance:
        return []
    assert learner.last_activity is not None
    solve = correct_chance(learner)
    anonymous = lti_user_id(learner.user_id)
    moment = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(seconds=rng.uniform(0, 15 * 3600))
    end_of_day = dt.datetime.combine(day, dt.time.max)
    if day == learner.last_activity.date():  # nothing after the learner's last activity
        end_of_day = learner.last_activity
        earlier = min(moment, end_of_day - dt.timedelta(minutes=30))
        moment = max(dt.datetime.combine(day, dt.time()), earlier)
    attempts = []
    for block in rng.sample(blocks, rng.randint(1, min(3, len(blocks)))):
        params = passback_params(course.course_id, block, anonymous)
        tries = [("run", None)] * rng.randint(0, 4)
        for _ in range(3):
            solved = rng.random() < solve
            tries.append(("submit", 1 if solved else 0))
            if solved:
                break
        for attempt_type, is_correct in tries:
            moment += dt.timedelta(seconds=rng.uniform(20, 300))
            if moment > end_of_day:
                return attempts
            attempts.append(
                {
                    "lti_user_id": anonymous,
                    "passback_params": params,
                    "is_correct": is_correct,
                    "attempt_type": attempt_type,
                    "created_at": moment.strftime(FORMAT),
                }
            )
    return attempts


def course_day_attempts(university: University, course: Course, day: dt.date) -> list[dict]:
    """Every attempt of ``course`` on ``day`` (sorted by time), deterministic."""
    rng = random.Random(f"{university.seed}:lti:{course.course_id}:{day.isoformat()}")
    blocks = exercise_blocks(course)
    attempts = [
        attempt
        for learner in course.learners
        for attempt in _learner_day(rng, course, learner, day, blocks)
    ]
    return sorted(attempts, key=lambda a: a["created_at"])


def _replace(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    record = {**template, **changes}
    return {k: v for k, v in record.items() if v is not _DROP}


_DROP = object()
# (what it is, how it is made from a good attempt of the day): refused by the pipeline.
BAD_RECORDS: list[tuple[str, Callable[[dict[str, Any]], Any]]] = [
    ("missing lti_user_id", lambda a: _replace(a, lti_user_id=_DROP)),
    ("lti_user_id a number", lambda a: _replace(a, lti_user_id=4242)),
    ("missing created_at", lambda a: _replace(a, created_at=_DROP)),
    ("attempt_type neither run nor submit", lambda a: _replace(a, attempt_type="test")),
    ("is_correct 2", lambda a: _replace(a, attempt_type="submit", is_correct=2)),
    ("a run with is_correct", lambda a: _replace(a, attempt_type="run", is_correct=1)),
    ("a submit without is_correct", lambda a: _replace(a, attempt_type="submit", is_correct=None)),
    ("created_at in another format", lambda a: _replace(a, created_at="01/12/2026 10:00")),
    ("created_at before the day", lambda a: _replace(a, created_at=_day_before(a["created_at"]))),
    ("passback_params cut off", lambda a: _replace(a, passback_params=a["passback_params"][:40])),
    (
        "passback_params code",
        lambda a: _replace(a, passback_params="__import__('os').system('echo pwned')"),
    ),
    ("passback_params a list", lambda a: _replace(a, passback_params="['a', 'b']")),
    (
        "lis_outcome_service_url a number",
        lambda a: _replace(a, passback_params="{'lis_outcome_service_url': 42}"),
    ),
    ("not an object", lambda a: "not an attempt"),
    ("duplicate", lambda a: dict(a)),
]
BAD_RECORDS_PER_DAY = len(BAD_RECORDS)


def _day_before(created_at: str) -> str:
    day = dt.date.fromisoformat(created_at[:10]) - dt.timedelta(days=1)
    return f"{day.isoformat()} 23:59:59.999999"


def odd_but_valid(template: dict[str, Any], course_id: str) -> list[dict[str, Any]]:
    """Attempts kept, whose course only the sourcedid tells (quoted or not), or nothing does."""
    quoted = course_id.replace(":", "%3A").replace("+", "%2B")
    base = {**template, "lti_user_id": "0" * 31 + "1", "attempt_type": "run", "is_correct": None}
    return [
        {
            **base,
            "passback_params": repr(
                {"oauth_consumer_key": "", "lis_result_sourcedid": f"{quoted}:{LMS_HOST}-ab:x"}
            ),
        },
        {
            **base,
            "lti_user_id": "0" * 31 + "2",
            "attempt_type": "submit",
            "is_correct": 0,
            "passback_params": repr(
                {"lis_result_sourcedid": f"{course_id}:block-v1:X+Y+Z+type@lti+block@c:x"}
            ),
        },
        {
            **base,
            "lti_user_id": "0" * 31 + "3",
            "passback_params": repr(
                {
                    "oauth_consumer_key": "",
                    "lis_result_sourcedid": None,
                    "lis_outcome_service_url": "",
                }
            ),
        },
    ]


class LtiAttemptsFeed:
    """The attempts of ``university``; ``fixture`` days are served exactly as given."""

    def __init__(
        self,
        university: University,
        client: str = DEFAULT_CLIENT,
        client_key: str = DEFAULT_CLIENT_KEY,
        timezone: str = "UTC",
        bad_records: bool = True,
    ) -> None:
        self.university = university
        self.client = client
        self.client_key = client_key
        self.timezone = timezone
        self.bad_records = bad_records
        self.fixture: dict[dt.date, list[Any]] = {}
        self.requests: list[tuple[str, str]] = []  # (start, end) of each answered request

    def day(self, day: dt.date) -> list[Any]:
        """The day's answer as served for a request of the whole day."""
        if day in self.fixture:
            return list(self.fixture[day])
        if day > self.university.today:
            return []
        records: list[Any] = []
        for course in self.university.courses.values():
            records += course_day_attempts(self.university, course, day)
        if day == self.university.today:  # the day is not over: only what happened so far
            now = self.university.now.strftime(FORMAT)
            records = [r for r in records if r["created_at"] <= now]
        if self.bad_records and records:
            template = records[len(records) // 2]
            course_id = next(iter(self.university.courses))
            records += [make(template) for _, make in BAD_RECORDS]
            records += odd_but_valid(template, course_id)
        return records

    def environment(self, server_url: str) -> dict[str, str]:
        """The settings that point the LTI resource at this feed on ``server_url``."""
        return {
            "LMS_LTI_API_URL": server_url + LTI_PATH,
            "LMS_LTI_CLIENT": self.client,
            "LMS_LTI_CLIENT_KEY": self.client_key,
            "LMS_LTI_TIMEZONE": self.timezone,
        }

    def handle(self, query: dict[str, str]) -> tuple[str, int, Any]:
        if query.get("client") != self.client or query.get("client_key") != self.client_key:
            return "lti_auth", 403, {"error": "Invalid client or client_key."}
        try:
            start = dt.datetime.strptime(query["start"], FORMAT)
            end = dt.datetime.strptime(query["end"], FORMAT)
        except (KeyError, ValueError):
            return "lti_attempts", 400, {"error": "start and end: 'YYYY-MM-DD HH:MM:SS.ffffff'"}
        if end < start or (end.date() - start.date()).days >= MAX_DAYS_PER_REQUEST:
            return (
                "lti_attempts",
                400,
                {"error": f"at most {MAX_DAYS_PER_REQUEST} days, start<=end"},
            )
        answer: list[Any] = []
        day = start.date()
        while day <= end.date():
            whole_day = start <= dt.datetime.combine(day, dt.time(12)) <= end
            for record in self.day(day):
                if day in self.fixture:
                    answer.append(record)
                    continue
                created = record.get("created_at") if isinstance(record, dict) else None
                try:
                    inside = start <= dt.datetime.strptime(str(created), FORMAT) <= end
                except ValueError:
                    inside = whole_day  # bad timestamps come with the day they were made on
                if inside or (whole_day and created == _day_before(day.isoformat())):
                    answer.append(record)
            day += dt.timedelta(days=1)
        self.requests.append((query["start"], query["end"]))
        return "lti_attempts", 200, answer
