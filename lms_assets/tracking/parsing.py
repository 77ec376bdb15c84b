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
from typing import Any

import orjson

# A course key inside a URL or path: new style, or old style org/course/run after /courses/.
_NEW_STYLE = re.compile(r"(course-v1:[^/?#\s\"]+)")
_OLD_STYLE = re.compile(r"/courses/([^/?#\s\"]+/[^/?#\s\"]+/[^/?#\s\"]+)/")
MAX_RAW = 2000  # characters of a quarantined line that are kept


@dataclass(frozen=True, slots=True)
class Event:
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


def _time(value: Any) -> dt.datetime:
    if not isinstance(value, str) or not value:
        raise ValueError("time is missing")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _payload(raw_event: Any) -> dict[str, Any]:
    if isinstance(raw_event, dict):
        return raw_event
    if isinstance(raw_event, str) and raw_event.startswith("{"):
        try:
            value = orjson.loads(raw_event)
        except orjson.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}
    return {}


def parse_line(line: bytes) -> Event | Skipped | Quarantined:
    stripped = line.strip()
    if not stripped:
        return Skipped("blank")
    if stripped.startswith(b"#"):
        return Skipped("comment")
    start = stripped.find(b"{")
    if start < 0:
        return Quarantined("no JSON object on the line", _raw(stripped))
    body = stripped[start:]  # drops a logging header such as "... logger.py:41 - "
    try:
        record = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return Quarantined(f"invalid JSON ({str(exc).split(':')[0]})", _raw(stripped))
    if not isinstance(record, dict):
        return Quarantined("JSON is not an object", _raw(stripped))
    event_type = record.get("event_type") or record.get("name")
    if not isinstance(event_type, str) or not event_type:
        return Quarantined("event_type is missing", _raw(stripped))
    try:
        when = _time(record.get("time"))
    except (ValueError, TypeError) as exc:
        return Quarantined(f"invalid time: {exc}", _raw(stripped))
    context = record.get("context") if isinstance(record.get("context"), dict) else {}
    page = record.get("page") if isinstance(record.get("page"), str) else None
    course_id, course_from = context.get("course_id") or None, "context"
    if not course_id:
        course_id, course_from = course_from_text(page), "page"
    if not course_id:
        course_id, course_from = course_from_text(event_type), "event_type"
    if not course_id:
        return Skipped("no_course")
    payload = _payload(record.get("event"))
    module = context.get("module")
    module_id = (
        payload.get("id")
        or payload.get("problem_id")
        or (module.get("usage_key") if isinstance(module, dict) else None)
    )
    position = payload.get("currentTime", payload.get("current_time"))
    success = payload.get("success")
    problem_id = payload.get("problem_id") if isinstance(payload.get("problem_id"), str) else None
    if problem_id is None and event_type in ("problem_check", "problem_graded"):
        problem_id = module_id if isinstance(module_id, str) else None
    thread = payload.get("discussion")
    discussion = payload.get("commentable_id") or (
        thread.get("id") if isinstance(thread, dict) else None
    )
    return Event(
        event_id=hashlib.sha1(body).hexdigest(),
        time=when,
        user_id=_int(context.get("user_id")),
        username=record.get("username") or None,
        course_id=str(course_id),
        course_from=course_from,
        event_type=event_type[:255],
        event_source=record.get("event_source") or None,
        session=record.get("session") or None,
        page=page[:1000] if page else None,
        module_id=str(module_id)[:255] if module_id else None,
        video_position=float(position) if isinstance(position, int | float) else None,
        problem_id=problem_id[:255] if problem_id else None,
        problem_success=(success == "correct") if isinstance(success, str) else None,
        problem_attempts=_int(payload.get("attempts")),
        discussion_id=str(discussion)[:255] if discussion else None,
    )


def _raw(line: bytes) -> str:
    return line[:MAX_RAW].decode("utf-8", errors="replace")
