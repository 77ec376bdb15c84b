"""Turning Open edX and H5P API bodies into warehouse rows.

Each parser takes one record and raises ``RecordError`` with the field and the
reason when the record is unusable; ``parse_records`` applies one to a list,
drops duplicate keys, and keeps the refused records with their reasons. An
unusable OPTIONAL field does not refuse its record: ``parse_records`` collects it
(``records.collecting_field_problems``), the row keeps NULL there, and the problem
is kept as well, as a reason saying so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lms_assets.errors import ReasonCode, RecordError, SourceResponseError
from lms_assets.loading import CourseLoad
from lms_assets.partitions import Partition
from lms_assets.records import (
    BIGINT_MAX,
    as_bool,
    as_float,
    as_int,
    as_str,
    as_utc_datetime,
    collecting_field_problems,
)
from lms_assets.warehouse import RejectedRecord

MOOC_SOURCE = "Open edX API"
# The discussion API's per-learner counters, stored under the same names in mooc_discussions.
DISCUSSION_COUNTS = (
    "threads_count",
    "comments_count",
    "total_interactions",
    "questions_count",
    "total_upvotes",
)
H5P_SOURCE = "H5P API"

Row = dict[str, Any]
Parser = Callable[[dict[str, Any], Partition], Row]


@dataclass
class Parsed:
    """Rows, the records refused, and the field problems of records kept with a NULL there."""

    rows: list[Row] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    nulled: list[RejectedRecord] = field(default_factory=list)  # one per field stored NULL
    null_reasons: Counter[str] = field(default_factory=Counter)
    rows_nulled: int = 0  # kept rows with at least one field stored NULL

    def add(self, other: Parsed) -> None:
        self.rows += other.rows
        self.rejected += other.rejected
        self.reasons.update(other.reasons)
        self.nulled += other.nulled
        self.null_reasons.update(other.null_reasons)
        self.rows_nulled += other.rows_nulled

    def into(self, load: CourseLoad, table: str) -> CourseLoad:
        """Add these rows of ``table``, its refused records and its NULLed fields to ``load``."""
        load.rows.setdefault(table, []).extend(self.rows)
        load.rejected += self.rejected
        load.reasons.update(self.reasons)
        load.kept += self.nulled
        load.null_reasons.update(self.null_reasons)
        load.refused[table] += len(self.rejected)
        load.nulled_rows[table] += self.rows_nulled
        return load


def _base(partition: Partition) -> Row:
    return {"course_id": partition.course_id, "snapshot_date": partition.day}


def _learner(record: dict[str, Any], partition: Partition) -> Row:
    return {
        **_base(partition),
        "user_id": as_int(record, "user_id", required=True, maximum=BIGINT_MAX),
    }


KEPT_NOTE = "; stored NULL, record kept"  # how a kept record's field problem reads


def _rejected(
    exc: RecordError,
    partition: Partition,
    source: str,
    where: str,
    record_key: str | None,
    record: Any,
    note: str = "",
) -> RejectedRecord:
    return RejectedRecord(
        partition=partition,
        source=source,
        reason=f"{where}: {exc}{note}",
        record_key=record_key,
        payload=record,
        code=exc.code,
        field=exc.field,
    )


def parse_records(
    records: Sequence[Any],
    parse: Parser,
    partition: Partition,
    *,
    source: str,
    key: Sequence[str] = ("user_id",),
    first_index: int = 0,
    parsed: Parsed | None = None,
    label: str = "record",
    record_key: Any = None,
) -> Parsed:
    """Parse ``records``; refuse unusable ones and repeated keys (the first is kept).

    A problem with an optional field keeps the record with NULL in that field and is
    kept in ``parsed.nulled`` (reason "...; stored NULL, record kept"); a problem with
    a required field, a duplicate key or a wrong shape refuses the record. ``label``
    names the records in reasons (``label #index``); ``record_key`` overrides the key
    kept with a reason (default: the record's ``key[-1]``).
    """
    parsed = parsed or Parsed()
    seen = {tuple(row[k] for k in key) for row in parsed.rows}
    for index, record in enumerate(records, start=first_index):
        shown_key = record_key
        if shown_key is None and isinstance(record, dict):
            shown_key = record.get(key[-1])
        shown_key = None if shown_key is None else str(shown_key)
        where = f"{label} #{index}"
        try:
            if not isinstance(record, dict):
                raise RecordError(
                    ReasonCode.WRONG_SHAPE,
                    None,
                    f"record is a {type(record).__name__}, not an object",
                )
            with collecting_field_problems() as problems:
                row = parse(record, partition)
            row_key = tuple(row[k] for k in key)
            if row_key in seen:
                shown = ", ".join(f"{k} {v}" for k, v in zip(key, row_key, strict=True))
                raise RecordError(
                    ReasonCode.DUPLICATE_KEY,
                    "/".join(key),
                    f"duplicate {shown} (first occurrence kept)",
                )
        except RecordError as exc:
            parsed.reasons[exc.category] += 1
            parsed.rejected.append(_rejected(exc, partition, source, where, shown_key, record))
            continue
        seen.add(row_key)
        parsed.rows.append(row)
        for problem in problems:
            parsed.null_reasons[problem.category] += 1
            parsed.nulled.append(
                _rejected(problem, partition, source, where, shown_key, record, KEPT_NOTE)
            )
        parsed.rows_nulled += bool(problems)
    return parsed


def records_at(body: Any, path: Sequence[str], what: str) -> list[Any]:
    """The list at ``path`` inside ``body``, or a SourceResponseError saying what was there."""
    node = body
    for step in path:
        if not isinstance(node, dict) or step not in node:
            raise SourceResponseError(
                f"{what}: expected a list at {'.'.join(path)}, but '{step}' is missing"
            )
        node = node[step]
    if not isinstance(node, list):
        raise SourceResponseError(
            f"{what}: expected a list at {'.'.join(path)}, got {type(node).__name__}"
        )
    return node


# -- Open edX custom API ----------------------------------------------------------------------
def parse_enrollment(record: dict[str, Any], partition: Partition) -> Row:
    return {
        **_learner(record, partition),
        "username": as_str(record, "username", max_length=150),
        "email": as_str(record, "email", max_length=254),
        "full_name": as_str(record, "full_name", max_length=255),
        "mode": as_str(record, "mode", max_length=50),
        "is_active": as_bool(record, "is_active"),
        "enrolled_at": as_utc_datetime(record, "created"),
        "student_code": as_str(record, "mssv", max_length=50),
        "class_code": as_str(record, "class_code", max_length=50),
    }


def parse_grade(record: dict[str, Any], partition: Partition) -> Row:
    return {
        **_learner(record, partition),
        "grade_percentage": as_float(record, "grade_percentage", minimum=0, maximum=100),
        "letter_grade": as_str(record, "letter_grade", max_length=10),
        "is_passed": as_bool(record, "is_passed"),
    }


def parse_progress(record: dict[str, Any], partition: Partition) -> Row:
    return {
        **_learner(record, partition),
        "current_chapter": as_str(record, "current_chapter", max_length=255),
        "current_section": as_str(record, "current_section", max_length=255),
        "current_unit": as_str(record, "current_unit", max_length=255),
        "completion_rate": as_float(record, "completion_rate", minimum=0, maximum=100),
        "last_activity": as_utc_datetime(record, "last_activity"),
    }


def parse_discussion(record: dict[str, Any], partition: Partition) -> Row:
    return {
        **_learner(record, partition),
        **{name: as_int(record, name) for name in DISCUSSION_COUNTS},
    }


# -- H5P API (one learner's body at a time) ---------------------------------------------------
def _for_learner(user_id: int) -> Callable[[dict[str, Any], Partition], Row]:
    def base(record: dict[str, Any], partition: Partition) -> Row:
        return {**_base(partition), "user_id": user_id}

    return base


def _summary(body: dict[str, Any], name: str) -> dict[str, Any]:
    summary = body.get(name)
    if not isinstance(summary, dict):
        raise RecordError(ReasonCode.WRONG_SHAPE, name, f"'{name}' is missing or not an object")
    return summary


def _summary_row(
    body: dict[str, Any], partition: Partition, user_id: int, what: str, build: Any
) -> Parsed:
    """One learner's summary row ``build(body)``, its bad fields NULL and kept as reasons."""
    return parse_records(
        [body],
        lambda record, p: {**_base(p), "user_id": user_id, **build(record)},
        partition,
        source=H5P_SOURCE,
        label=f"learner {user_id} {what}",
        record_key=user_id,
    )


def parse_h5p_scores(
    body: dict[str, Any], partition: Partition, user_id: int
) -> tuple[Parsed, Parsed]:
    """(summary row, parsed content rows) of one learner's ``scores`` body."""
    summary = _summary(body, "summary")
    summary_row = _summary_row(
        summary,
        partition,
        user_id,
        "scores summary",
        lambda s: {
            "total_contents": as_int(s, "total_contents"),
            "completed_contents": as_int(s, "completed_contents"),
            "total_score": as_float(s, "total_score", minimum=0),
            "total_max_score": as_float(s, "total_max_score", minimum=0),
            "overall_percentage": as_float(s, "overall_percentage", minimum=0, maximum=100),
        },
    )
    base = _for_learner(user_id)

    def content(record: dict[str, Any], p: Partition) -> Row:
        score, max_score = as_float(record, "score"), as_float(record, "max_score", minimum=0)
        if score is not None and max_score is not None and score > max_score:
            raise RecordError(
                ReasonCode.INCONSISTENT, "score", f"score={score} is above max_score={max_score}"
            )
        return {
            **base(record, p),
            "content_id": as_int(record, "content_id", required=True, maximum=BIGINT_MAX),
            "score": score,
            "max_score": max_score,
            "percentage": as_float(record, "percentage", minimum=0, maximum=100),
            "opened": as_bool(record, "opened"),
            "finished": as_bool(record, "finished"),
            "time_spent": as_int(record, "time"),
        }

    scores = body.get("scores") or []
    if not isinstance(scores, list):
        raise RecordError(ReasonCode.WRONG_SHAPE, "scores", "'scores' is not a list")
    details = parse_records(
        scores,
        content,
        partition,
        source=H5P_SOURCE,
        key=("user_id", "content_id"),
        label=f"learner {user_id} score",
    )
    return summary_row, details


def parse_video_progress(
    body: dict[str, Any], partition: Partition, user_id: int
) -> tuple[Parsed, Parsed]:
    """(summary row, parsed video rows) of one learner's ``video-progress`` body."""
    summary = _summary(body, "summary")
    summary_row = _summary_row(
        summary,
        partition,
        user_id,
        "video summary",
        lambda s: {
            "total_videos": as_int(s, "total_videos"),
            "completed_videos": as_int(s, "completed_videos"),
            "in_progress_videos": as_int(s, "in_progress_videos"),
            "total_watched_time": as_int(s, "total_watched_time"),
            "overall_progress": as_float(s, "overall_progress", minimum=0, maximum=100),
        },
    )
    base = _for_learner(user_id)

    def video(record: dict[str, Any], p: Partition) -> Row:
        return {
            **base(record, p),
            "content_id": as_int(record, "content_id", required=True, maximum=BIGINT_MAX),
            "progress_percent": as_float(record, "progress_percent", minimum=0, maximum=100),
            "current_time": as_int(record, "current_time"),
            "duration": as_int(record, "duration"),
            "status": as_str(record, "status", max_length=32),
        }

    videos = body.get("videos") or []
    if not isinstance(videos, list):
        raise RecordError(ReasonCode.WRONG_SHAPE, "videos", "'videos' is not a list")
    details = parse_records(
        videos,
        video,
        partition,
        source=H5P_SOURCE,
        key=("user_id", "content_id"),
        label=f"learner {user_id} video",
    )
    return summary_row, details


def parse_dashboard(
    body: dict[str, Any], partition: Partition, user_id: int, answered_by: str
) -> Parsed:
    """A ``dashboard_summary`` row from combined-progress or (fallback) dashboard."""
    if answered_by == "combined-progress":
        overall = _summary(body, "overall")
        h5p, video = _summary(body, "scores"), _summary(body, "video_progress")
    else:
        overall, h5p, video = body, _summary(body, "h5p"), _summary(body, "video")
    return _summary_row(
        body,
        partition,
        user_id,
        answered_by,
        lambda _body: {
            "overall_completion": as_float(overall, "overall_completion", minimum=0, maximum=100),
            "total_items": as_int(overall, "total_items"),
            "completed_items": as_int(overall, "completed_items"),
            "h5p_total_contents": as_int(h5p, "total_contents"),
            "h5p_completed_contents": as_int(h5p, "completed_contents"),
            "h5p_overall_percentage": as_float(h5p, "overall_percentage", minimum=0, maximum=100),
            "video_total_videos": as_int(video, "total_videos"),
            "video_completed_videos": as_int(video, "completed_videos"),
            "video_overall_progress": as_float(video, "overall_progress", minimum=0, maximum=100),
            "answered_by": answered_by,
        },
    )
