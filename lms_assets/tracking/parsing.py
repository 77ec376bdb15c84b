"""One tracking-log line in, one typed event (or a reason to quarantine it) out.

Real files mix: blank lines and ``#`` comments (skipped, counted), lines prefixed
by a Python logging header (``... tracking/logger.py:41 - {json}``), truncated or
invalid JSON, ``event`` as a JSON *string* (browser events) or an object (server
events), server events whose ``event_type`` is a URL path, old-style course ids
(``org/course/run``) beside ``course-v1:`` keys, and events whose
``context.course_id`` is empty, whose course is then taken from the page URL or
the event_type path when they name one; an event naming no course at all (login,
dashboard, enrollment pages) is kept with course_id "" for the site-level tables.
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
    from_studio: bool  # a request served by Studio (course authoring), not learner activity


@dataclass(frozen=True, slots=True)
class Skipped:
    """A line that is no event: blank or a comment."""

    kind: str  # blank | comment


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
        parsed = dt.datetime.fromisoformat(value[:-6])
        cut = True
    elif value[-1] == "Z":
        parsed = dt.datetime.fromisoformat(value[:-1])
        cut = True
    else:
        parsed = dt.datetime.fromisoformat(value)  # any other ISO 8601 offset
        cut = False
    offset = parsed.utcoffset()
    if offset is None:
        return parsed  # no zone given: already UTC by Open edX's convention
    if cut:  # "...+07:00Z": two zones, which one is meant cannot be known
        raise ValueError(f"time {value[:40]!r} has two time zones")
    try:
        return (parsed - offset).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(f"time {value[:40]!r} is outside the years 1-9999 in UTC") from None


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    # ASCII digits only: "²" passes isdigit() but int() refuses it.
    if type(value) is str and value.isascii() and value.strip().isdigit():
        return int(value)
    return None  # bool, float, junk


def _text(value: Any, limit: int) -> str | None:
    if not value:
        return None
    return (value if type(value) is str else str(value))[:limit]


_EMPTY: dict[str, Any] = {}
BLANK, COMMENT = Skipped("blank"), Skipped("comment")
SITE = ""  # the course_id of an event that names no course: a site-level event (login, ...)
# Studio (the CMS) serves course authoring: its requests are the course team's, not learners'.
# Known by the host that logged them, or by a URL only Studio has (the LMS says /courses/).
_STUDIO_HOST = re.compile(r"^(studio|cms)[.\-:]|^(localhost|127\.0\.0\.1):18010$")
_STUDIO_PATHS = (
    "/settings/",
    "/course/",
    "/import_status/",
    "/export_status/",
    "/import/",
    "/export/",
    "/container/",
    "/textbooks/",
    "/group_configurations/",
    "/course_team/",
    "/checklists/",
    "/course_info/",
    "/course_rerun/",
)


def is_studio(host: Any, event_source: Any, event_type: str) -> bool:
    """Whether the event is a Studio request (course authoring)."""
    if type(host) is str and _STUDIO_HOST.search(host):
        return True
    return event_source == "server" and event_type.startswith(_STUDIO_PATHS)


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
    except (ValueError, TypeError, OverflowError) as exc:
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
                course_id, course_from = SITE, "none"  # kept as a site-level event
    elif type(course_id) is not str:
        return Quarantined(
            f"context.course_id is a {type(course_id).__name__}, not text", _raw(line.strip())
        )
    if len(course_id) > _COURSE_LIMIT:  # no table can hold it (partitions.MAX_COURSE_KEY_LENGTH)
        return Quarantined(
            f"course_id is {len(course_id)} characters long (limit {_COURSE_LIMIT})",
            _raw(line.strip()),
        )
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
        course_id,
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
        is_studio(get("host"), source, event_type),
    )


# Column limits of tracking_events (tracking/schema.py) for the fields taken as they come.
_TEXT_LIMITS = (("username", 150), ("event_source", 32), ("session", 64))
_BIGINT_MAX, _INT_MAX = 2**63 - 1, 2**31 - 1
_COURSE_LIMIT = 255


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
