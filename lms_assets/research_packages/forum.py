"""The forum's ``.mongo`` documents -> forum_posts rows: kind, thread, author pseudonym, size."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lms_assets.errors import ReasonCode, RecordError
from lms_assets.partitions import Partition
from lms_assets.records import BIGINT_MAX, as_int, as_utc_datetime
from lms_assets.research_packages.readers import require_same_course

Row = dict[str, Any]


def _oid(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("$oid")
    return None if value in (None, "") else str(value)


def _date(value: Any) -> Any:
    return value.get("$date") if isinstance(value, dict) else value


def forum_post(document: Row, partition: Partition, pseudonymize: Callable) -> Row:
    require_same_course(document, partition.course_id)
    post_id = _oid(document.get("_id"))
    if post_id is None:
        raise RecordError(ReasonCode.MISSING, "_id", "_id is missing")
    kind = document.get("_type")
    if kind == "CommentThread":
        post_type, thread_id = "thread", post_id
    elif kind == "Comment":
        post_type = "comment" if document.get("parent_id") else "response"
        thread_id = _oid(document.get("comment_thread_id"))
    else:
        raise RecordError(ReasonCode.WRONG_SHAPE, "_type", f"_type {kind!r} is no forum post")
    votes = document.get("votes") if isinstance(document.get("votes"), dict) else {}
    body = document.get("body")
    return {
        "post_id": post_id[:32],
        "post_type": post_type,
        "thread_id": thread_id and thread_id[:32],
        "author_id": as_int(document, "author_id", maximum=BIGINT_MAX),
        "author_hash": pseudonymize(document.get("author_username")),
        "created_at": as_utc_datetime(
            {"created_at": _date(document.get("created_at"))}, "created_at"
        ),
        "body_length": len(body) if isinstance(body, str) else None,
        "up_votes": as_int(votes, "up_count"),
        "vote_score": as_int(votes, "point", minimum=None),
    }
