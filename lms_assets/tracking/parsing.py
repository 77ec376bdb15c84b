"""One tracking-log line in, one typed event (or a reason to quarantine it) out.

Real files mix: blank lines and ``#`` comments (skipped, counted), lines prefixed
by a Python logging header (``... tracking/logger.py:41 - {json}``), truncated or
invalid JSON, ``event`` as a JSON *string* (browser events) or an object (server
events), server events whose ``event_type`` is a URL path, old-style course ids
(``org/course/run``) beside ``course-v1:`` keys, and events whose
``context.course_id`` is empty, whose course is then taken from the page URL or
the event_type path when they name one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

# A course key inside a URL or path: new style, or old style org/course/run after /courses/.
_NEW_STYLE = re.compile(r"(course-v1:[^/?#\s\"]+)")
_OLD_STYLE = re.compile(r"/courses/([^/?#\s\"]+/[^/?#\s\"]+/[^/?#\s\"]+)/")
MAX_RAW = 2000  # characters of a quarantined line that are kept


class Event(NamedTuple):
    """One typed event; a tuple so the split can buffer it as is (fields = staging columns)."""

    event_id: str  # sha1 of the JSON text: the same event read twice is the same row
    time: dt.datetime  # naive UTC
    user_id: int | None
    username: str | None
    course_id: str
    course_from: str  # context | page | event_type
    event_type: str
    event_source: str | None
    session: str | None
    page: str | None
    module_id: str | None
    video_position: float | None
    problem_id: str | None
    problem_success: bool | None
    problem_attempts: int | None
    discussion_id: str | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that is not an event of a course: blank, comment, or an event without course."""

    kind: str  # blank | comment | no_course


@dataclass(frozen=True, slots=True)
class Quarantined:
    reason: str
    raw: str


def course_from_text(text: str | None) -> str | None:
    if not text:
        return None
    match = _NEW_STYLE.search(text)
    if match:
        return match.group(1)
    match = _OLD_STYLE.search(text)
    return match.group(1) if match else None


def _utc(value: Any) -> dt.datetime:
    if type(value) in (int, float):
        # Some exporters write Unix seconds; milliseconds when past the year 5138.
        seconds = value / 1000 if value > 1e11 else value
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"time {value!r} is not a date") from None
    if type(value) is not str or not value:
        raise ValueError(
            "time is missing" if value in (None, "") else f"time {value!r} is not a date"
        )
    # Open edX writes UTC ("+00:00" or "Z"); cutting the zone is 8x cheaper than converting.
    if value[-6:] == "+00:00":
        return dt.datetime.fromisoformat(value[:-6])
    if value[-1] == "Z":
        return dt.datetime.fromisoformat(value[:-1])
    parsed = dt.datetime.fromisoformat(value)  # any other ISO 8601 offset
    offset = parsed.utcoffset()
    if offset is None:
        return parsed  # no zone given: already UTC by Open edX's convention
    if offset:
        parsed -= offset
    return parsed.replace(tzinfo=None)


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None  # bool, float, junk


def _text(value: Any, limit: int) -> str | None:
    if not value:
        return None
    return (value if type(value) is str else str(value))[:limit]


_EMPTY: dict[str, Any] = {}
BLANK, COMMENT, NO_COURSE = Skipped("blank"), Skipped("comment"), Skipped("no_course")


def _payload(raw_event: Any) -> dict[str, Any]:
    if type(raw_event) is dict:
        return raw_event
    if type(raw_event) is str and raw_event[:1] == "{":  # a browser event: JSON in a string
        try:
            value = orjson.loads(raw_event)
        except orjson.JSONDecodeError:
            return _EMPTY
        return value if type(value) is dict else _EMPTY
    return _EMPTY


def parse_line(line: bytes) -> Event | Skipped | Quarantined:
    """Called once per line of every log: written for speed (type() checks, one dict pass)."""
    start = line.find(b"{")
    if start != 0:  # blank, comment, a logging header, or no JSON at all
        stripped = line.strip()
        if not stripped:
            return BLANK
        if stripped[:1] == b"#":
            return COMMENT
        if start < 0:
            return Quarantined("no JSON object on the line", _raw(stripped))
    body = line[start:].rstrip()  # drops a logging header such as "... logger.py:41 - "
    try:
        record = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Quarantined(f"invalid JSON ({str(exc).split(':')[0]})", _raw(line.strip()))
    if type(record) is not dict:
        return Quarantined("JSON is not an object", _raw(line.strip()))
    get = record.get
    event_type = get("event_type") or get("name")
    if type(event_type) is not str or not event_type:
        return Quarantined("event_type is missing", _raw(line.strip()))
    try:
        when = _utc(get("time"))
    except (ValueError, TypeError) as exc:
        return Quarantined(f"invalid time: {exc}", _raw(line.strip()))
    context = get("context")
    if type(context) is not dict:
        context = _EMPTY
    page = get("page")
    if type(page) is not str:
        page = None
    course_id, course_from = context.get("course_id"), "context"
    if not course_id:
        course_id, course_from = course_from_text(page), "page"
        if not course_id:
            course_id, course_from = course_from_text(event_type), "event_type"
            if not course_id:
                return NO_COURSE
    payload = _payload(get("event"))
    if payload:
        pget = payload.get
        module = context.get("module")
        module_id = (
            pget("id")
            or pget("problem_id")
            or (module.get("usage_key") if type(module) is dict else None)
        )
        position = pget("currentTime", pget("current_time"))
        success = pget("success")
        problem_id = pget("problem_id")
        if type(problem_id) is not str:
            problem_id = None
        if problem_id is None and event_type in ("problem_check", "problem_graded"):
            problem_id = module_id if type(module_id) is str else None
        thread = pget("discussion")
        discussion = pget("commentable_id") or (thread.get("id") if type(thread) is dict else None)
        attempts = pget("attempts")
    else:
        module = context.get("module")
        module_id = module.get("usage_key") if type(module) is dict else None
        position = success = problem_id = discussion = attempts = None
    user_id = context.get("user_id")
    user_id = user_id if type(user_id) is int else _int(user_id)
    attempts = attempts if type(attempts) is int else _int(attempts)
    username, source, session = (
        _scalar_text(get(n)) for n in ("username", "event_source", "session")
    )
    # A value its column cannot hold would fail the course-day's load on every retry:
    # the line is quarantined with the field and the reason instead.
    problem = _column_problem(user_id, attempts, username, source, session)
    if problem:
        return Quarantined(problem, _raw(line.strip()))
    return Event(
        hashlib.sha1(body).hexdigest(),
        when,
        user_id,
        username,
        course_id if type(course_id) is str else str(course_id),
        course_from,
        event_type[:255],
        source,
        session,
        page[:1000] if page else None,
        _text(module_id, 255),
        float(position) if type(position) in (int, float) else None,
        problem_id[:255] if problem_id else None,
        (success == "correct") if type(success) is str else None,
        attempts,
        _text(discussion, 255),
    )


# Column limits of tracking_events (tracking/schema.py) for the fields taken as they come.
_TEXT_LIMITS = (("username", 150), ("event_source", 32), ("session", 64))
_BIGINT_MAX, _INT_MAX = 2**63 - 1, 2**31 - 1


def _scalar_text(value: Any) -> Any:
    """A number where text is expected becomes its text; empty becomes None."""
    if not value:
        return None
    return str(value) if type(value) in (int, float) else value


def _column_problem(user_id: int | None, attempts: int | None, *texts: Any) -> str | None:
    """Why the event's values do not fit tracking_events, or None."""
    if user_id is not None and not 0 <= user_id <= _BIGINT_MAX:
        return f"user_id {user_id} is outside 0..{_BIGINT_MAX}"
    if attempts is not None and not 0 <= attempts <= _INT_MAX:
        return f"attempts {attempts} is outside 0..{_INT_MAX}"
    for (name, limit), value in zip(_TEXT_LIMITS, texts, strict=True):
        if value is None:
            continue
        if type(value) is not str:
            return f"{name} is a {type(value).__name__}, not text"
        if len(value) > limit:
            return f"{name} is {len(value)} characters long (limit {limit})"
    return None


def _raw(line: bytes) -> str:
    return line[:MAX_RAW].decode("utf-8", errors="replace")
