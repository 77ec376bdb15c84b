"""One LTI attempt record -> a row of lti_attempts, or a RecordError naming field and reason.

Seed 002's validator checks required fields, types, attempt_type, is_correct (0/1/null,
null for runs), created_at's format, passback_params and the types inside it, and
silently drops what fails. Here each failure is a ``RecordError`` (kept in
rejected_records), and the course of an attempt is derived from its passback_params:
the ``/courses/<course key>/`` segment of ``lis_outcome_service_url``, else the first
part of ``lis_result_sourcedid``. An attempt whose course cannot be derived is stored
under ``UNKNOWN_COURSE`` (a partition of its own), never dropped.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from lms_assets.errors import ReasonCode, RecordError
from lms_assets.partitions import InvalidCourseKeyError, day_window, validate_course_key

UNKNOWN_COURSE = "lti-course-unknown"
SOURCE = "LTI attempts API"
ATTEMPT_TYPES = ("run", "submit")
PASSBACK_FIELDS = ("oauth_consumer_key", "lis_result_sourcedid", "lis_outcome_service_url")
MAX_PASSBACK_LENGTH = (
    10_000  # a literal this long is not passback params; literal_eval'd no further
)
MAX_USER_ID_LENGTH = 64
_COURSE_IN_URL = re.compile(r"/courses/([^/?#]+)/")
_BLOCK_IN_URL = re.compile(r"/xblock/([^/?#]+)/")


def parse_passback_params(value: Any) -> dict[str, str | None]:
    """The passback dict: a Python literal string (single quotes) or already a JSON object.

    ``ast.literal_eval`` builds only literals (no names, calls or attributes), so a
    crafted string cannot run code; the seed's ``eval`` would.
    """
    if isinstance(value, str):
        if len(value) > MAX_PASSBACK_LENGTH:
            raise RecordError(
                ReasonCode.TOO_LONG, "passback_params", f"passback_params is {len(value)} long"
            )
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise RecordError(
                ReasonCode.WRONG_SHAPE,
                "passback_params",
                f"passback_params {value[:80]!r} is not a Python dict literal",
            ) from None
    if not isinstance(value, dict):
        raise RecordError(
            ReasonCode.WRONG_SHAPE,
            "passback_params",
            f"passback_params is a {type(value).__name__}, not a dict",
        )
    params: dict[str, str | None] = {}
    for name in PASSBACK_FIELDS:
        inner = value.get(name)
        if inner is not None and not isinstance(inner, str):
            raise RecordError(
                ReasonCode.WRONG_SHAPE,
                name,
                f"passback_params.{name}={inner!r} is a {type(inner).__name__}, not a string",
            )
        params[name] = inner.strip() or None if isinstance(inner, str) else None
    return params


def _valid_course(candidate: str | None) -> str | None:
    if not candidate:
        return None
    try:
        return validate_course_key(candidate)
    except InvalidCourseKeyError:
        return None


def course_from_sourcedid(sourcedid: str | None) -> tuple[str | None, str | None]:
    """(course key, resource link) of ``<course id>:<resource link>:<anonymous user id>``.

    A course-v1 key has its own ':' (``course-v1:ORG+CODE+RUN``), the resource link may
    have more (``block-v1:...``), and the course id may be URL-quoted (no ':' then).
    """
    if not sourcedid:
        return None, None
    if sourcedid.startswith("course-v1:"):
        rest = sourcedid[len("course-v1:") :]
        course, _, tail = rest.partition(":")
        course = "course-v1:" + course
    else:
        first, _, tail = sourcedid.partition(":")
        course = unquote(first)
    link = tail.rpartition(":")[0] or None
    if not (course.startswith("course-v1:") or course.count("/") == 2):
        return None, link
    return _valid_course(course), link


def derive_course(params: dict[str, str | None]) -> tuple[str, str, str | None]:
    """(course key, where it came from, block id) of an attempt's passback params."""
    url = params["lis_outcome_service_url"]
    block = None
    if url:
        if match := _BLOCK_IN_URL.search(url):
            block = unquote(match[1])[:255]
        if match := _COURSE_IN_URL.search(url):
            course = _valid_course(unquote(match[1]))
            if course:
                return course, "outcome_url", block
    course, link = course_from_sourcedid(params["lis_result_sourcedid"])
    block = block or (link[:255] if link else None)
    if course:
        return course, "sourcedid", block
    return UNKNOWN_COURSE, "none", block


def parse_created_at(value: Any, timezone: ZoneInfo) -> dt.datetime:
    """``YYYY-MM-DD HH:MM:SS[.ffffff]`` in the API's clock -> naive UTC, microseconds kept."""
    if not isinstance(value, str):
        raise RecordError(
            ReasonCode.NOT_A_DATETIME, "created_at", f"created_at={value!r} is not a date-time"
        )
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise RecordError(
            ReasonCode.NOT_A_DATETIME,
            "created_at",
            f"created_at={value!r} is not 'YYYY-MM-DD HH:MM:SS.ffffff'",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone)
    return parsed.astimezone(dt.UTC).replace(tzinfo=None)


def _is_correct(record: dict[str, Any], attempt_type: str) -> bool | None:
    value = record.get("is_correct")
    if value is not None and (isinstance(value, bool) or value not in (0, 1)):
        raise RecordError(
            ReasonCode.NOT_A_BOOLEAN, "is_correct", f"is_correct={value!r} is not 1, 0 or null"
        )
    if attempt_type == "run" and value is not None:
        raise RecordError(
            ReasonCode.INCONSISTENT, "is_correct", f"a run has is_correct={value!r}; runs have null"
        )
    if attempt_type == "submit" and value is None:
        raise RecordError(ReasonCode.MISSING, "is_correct", "a submit without is_correct")
    return None if value is None else bool(value)


Passback = tuple[dict[str, str | None], str, str, str | None]  # params, course, from, block


def read_passback(value: Any) -> Passback:
    """passback_params parsed, and the course and block they name."""
    params = parse_passback_params(value)
    return (params, *derive_course(params))


class PassbackCache:
    """``read_passback`` once per distinct string of a day: a learner's attempts at one
    exercise all carry the same passback_params, and parsing them is most of the work."""

    def __init__(self) -> None:
        self.known: dict[str, Passback | RecordError] = {}

    def __call__(self, value: Any) -> Passback:
        if not isinstance(value, str):
            return read_passback(value)
        found = self.known.get(value)
        if found is None:
            try:
                found = read_passback(value)
            except RecordError as error:
                found = error
            self.known[value] = found
        if isinstance(found, RecordError):
            raise RecordError(found.code, found.field, str(found))
        return found


def parse_attempt(
    record: Any,
    window: tuple[dt.datetime, dt.datetime],
    timezone: ZoneInfo,
    passback: Callable[[Any], Passback] = read_passback,
) -> dict[str, Any]:
    """The lti_attempts row of ``record`` (without snapshot_date), or a RecordError."""
    if not isinstance(record, dict):
        raise RecordError(
            ReasonCode.WRONG_SHAPE, None, f"an attempt is a {type(record).__name__}, not an object"
        )
    for name in ("lti_user_id", "passback_params", "attempt_type", "created_at"):
        if record.get(name) is None or record.get(name) == "":
            raise RecordError(ReasonCode.MISSING, name, f"{name} is missing")
    user_id = record["lti_user_id"]
    if not isinstance(user_id, str):
        raise RecordError(
            ReasonCode.WRONG_SHAPE,
            "lti_user_id",
            f"lti_user_id={user_id!r} is a {type(user_id).__name__}, not a string",
        )
    if len(user_id.strip()) > MAX_USER_ID_LENGTH:
        raise RecordError(
            ReasonCode.TOO_LONG, "lti_user_id", f"lti_user_id is longer than {MAX_USER_ID_LENGTH}"
        )
    attempt_type = record["attempt_type"]
    if attempt_type not in ATTEMPT_TYPES:
        raise RecordError(
            ReasonCode.OUT_OF_RANGE,
            "attempt_type",
            f"attempt_type={attempt_type!r} is neither 'run' nor 'submit'",
        )
    is_correct = _is_correct(record, attempt_type)
    created_at = parse_created_at(record["created_at"], timezone)
    if not window[0] <= created_at < window[1]:
        raise RecordError(
            ReasonCode.OUT_OF_RANGE,
            "created_at",
            f"created_at={record['created_at']!r} is outside the day asked for",
        )
    params, course_id, course_from, block_id = passback(record["passback_params"])
    return {
        "course_id": course_id,
        "user_id": user_id.strip(),
        "attempt_type": attempt_type,
        "created_at": created_at,
        "oauth_consumer_key": (params["oauth_consumer_key"] or "")[:255] or None,
        "lis_result_sourcedid": params["lis_result_sourcedid"],
        "lis_outcome_service_url": params["lis_outcome_service_url"],
        "is_correct": is_correct,
        "block_id": block_id,
        "course_from": course_from,
    }


def course_of_bad_record(record: Any, passback: Callable[[Any], Passback] = read_passback) -> str:
    """Where a refused record is kept: its course if its passback params still tell it."""
    if isinstance(record, dict):
        try:
            return passback(record.get("passback_params"))[1]
        except RecordError:
            pass
    return UNKNOWN_COURSE


@dataclass
class Refusal:
    course_id: str
    error: RecordError
    record: Any


@dataclass
class ParsedDay:
    """A day's answer split by course: rows, refused records, and what was counted."""

    day: dt.date
    received: int = 0
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    refused: dict[str, list[Refusal]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def stored(self) -> int:
        return sum(map(len, self.rows.values()))

    @property
    def courses(self) -> list[str]:
        return sorted(set(self.rows) | set(self.refused))


def parse_day(records: Iterable[Any], day: dt.date, timezone: str) -> ParsedDay:
    """Every record of ``day``'s answer parsed, de-duplicated on the seed's key, by course.

    The first of several attempts with the same (user, attempt type, created_at) is kept;
    the others are refused as duplicate_key, whatever course they name.
    """
    zone = ZoneInfo(timezone)
    window = day_window(day, timezone)
    parsed = ParsedDay(day=day)
    seen: set[tuple[str, str, dt.datetime]] = set()
    passback = PassbackCache()
    for record in records:
        parsed.received += 1
        try:
            row = parse_attempt(record, window, zone, passback)
            key = (row["user_id"], row["attempt_type"], row["created_at"])
            if key in seen:
                raise RecordError(
                    ReasonCode.DUPLICATE_KEY,
                    "created_at",
                    f"a second attempt of {row['user_id']} ({row['attempt_type']}) at "
                    f"{row['created_at'].isoformat()} UTC",
                )
            seen.add(key)
        except RecordError as error:
            course = course_of_bad_record(record, passback)
            parsed.refused.setdefault(course, []).append(Refusal(course, error, record))
            parsed.reasons[error.category] += 1
            continue
        row["snapshot_date"] = day
        parsed.rows.setdefault(row["course_id"], []).append(row)
    return parsed
