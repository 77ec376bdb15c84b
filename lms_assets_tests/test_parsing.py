"""openedx/parsing.py: records kept with a NULL field, records refused, column limits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from lms_assets.openedx import schema
from lms_assets.openedx.parsing import (
    MOOC_SOURCE,
    parse_enrollment,
    parse_grade,
    parse_h5p_scores,
    parse_progress,
    parse_records,
    parse_video_progress,
)
from lms_assets.partitions import Partition

PARTITION = Partition("course-v1:X+Y+Z", dt.date(2026, 11, 23))

# parser, its table, and which API field fills each text column
TEXT_FIELDS = [
    (
        parse_enrollment,
        "enrollments",
        {
            "username": "username",
            "email": "email",
            "full_name": "full_name",
            "mode": "mode",
            "student_code": "mssv",
            "class_code": "class_code",
        },
    ),
    (parse_grade, "mooc_grades", {"letter_grade": "letter_grade"}),
    (
        parse_progress,
        "mooc_progress",
        {n: n for n in ("current_chapter", "current_section", "current_unit")},
    ),
]


@pytest.mark.parametrize(("parse", "table", "fields"), TEXT_FIELDS)
def test_every_text_field_is_held_to_its_columns_length(parse, table, fields) -> None:
    columns = schema.metadata.tables[table].c
    texts = {c.name for c in columns if isinstance(c.type, sa.String) and c.name != "course_id"}
    assert texts == set(fields)  # every text column of the table is covered here
    lengths = {fields[c]: columns[c].type.length for c in fields}
    fits = {"user_id": 1, **{f: "a" * n for f, n in lengths.items()}}
    too_long = {"user_id": 2, **{f: "a" * (n + 1) for f, n in lengths.items()}}
    parsed = parse_records([fits, too_long], parse, PARTITION, source=MOOC_SOURCE)
    assert [row["user_id"] for row in parsed.rows] == [1, 2]  # both kept
    assert all(parsed.rows[0][c] == "a" * lengths[f] for c, f in fields.items())
    assert all(parsed.rows[1][c] is None for c in fields)
    assert [(r.code, r.field) for r in parsed.nulled] == [("too_long", f) for f in fields.values()]
    assert parsed.rows_nulled == 1 and parsed.rejected == []


def test_h5p_video_status_is_held_to_its_columns_length() -> None:
    assert schema.video_progress.c.status.type.length == 32
    body = {"summary": {}, "videos": [{"content_id": 5, "status": "s" * 33}]}
    _, details = parse_video_progress(body, PARTITION, 7)
    assert details.rows[0]["status"] is None
    assert [(r.code, r.field, r.record_key) for r in details.nulled] == [
        ("too_long", "status", "5")
    ]


def test_a_bad_optional_field_keeps_the_record_and_says_so() -> None:
    records: list[Any] = [
        {"user_id": 9007199254740993, "completion_rate": 40, "last_activity": "23/11/2026"},
        {"user_id": "12", "completion_rate": 140, "last_activity": "2026-11-23T08:00:00Z"},
        {"user_id": 1e20, "completion_rate": 10},  # required field out of range: refused
        {"user_id": -4},  # a negative id: refused
    ]
    parsed = parse_records(records, parse_progress, PARTITION, source=MOOC_SOURCE)
    assert [(r["user_id"], r["completion_rate"], r["last_activity"]) for r in parsed.rows] == [
        (9007199254740993, 40.0, None),
        (12, None, dt.datetime(2026, 11, 23, 8, 0)),
    ]
    assert [(r.code, r.field, r.record_key, r.reason) for r in parsed.nulled] == [
        (
            "not_a_datetime",
            "last_activity",
            "9007199254740993",
            "record #0: last_activity='23/11/2026' is not an ISO-8601 date-time; "
            "stored NULL, record kept",
        ),
        (
            "out_of_range",
            "completion_rate",
            "12",
            "record #1: completion_rate=140.0 is above 100; stored NULL, record kept",
        ),
    ]
    assert dict(parsed.null_reasons) == {
        "not_a_datetime last_activity": 1,
        "out_of_range completion_rate": 1,
    }
    assert parsed.rows_nulled == 2
    assert [(r.code, r.field, r.reason) for r in parsed.rejected] == [
        (
            "out_of_range",
            "user_id",
            "record #2: user_id=100000000000000000000 is above 9223372036854775807",
        ),
        ("out_of_range", "user_id", "record #3: user_id=-4 is below 0"),
    ]
    assert dict(parsed.reasons) == {"out_of_range user_id": 2}


def test_an_h5p_summary_field_is_nulled_not_the_learner() -> None:
    body = {
        "summary": {"total_contents": 3e9, "completed_contents": 1, "overall_percentage": 50},
        "scores": [{"content_id": 1, "score": 1, "max_score": 2, "time": -1}],
    }
    summary, details = parse_h5p_scores(body, PARTITION, 7)
    assert summary.rows[0]["total_contents"] is None
    assert summary.rows[0]["completed_contents"] == 1
    assert [(r.code, r.field, r.record_key, r.reason) for r in summary.nulled] == [
        (
            "out_of_range",
            "total_contents",
            "7",
            "learner 7 scores summary #0: total_contents=3000000000 is above 2147483647; "
            "stored NULL, record kept",
        )
    ]
    assert details.rows[0]["time_spent"] is None
    assert [(r.code, r.field, r.record_key) for r in details.nulled] == [
        ("out_of_range", "time", "1")
    ]
