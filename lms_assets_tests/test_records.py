"""records.py: exact values in, exact values (or a reason code and field) out."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lms_assets.errors import ReasonCode, RecordError
from lms_assets.records import (
    BIGINT_MAX,
    as_float,
    as_int,
    as_str,
    as_utc_datetime,
    collecting_field_problems,
)


def refused(parse: Any, value: Any, **options: Any) -> tuple[str, str | None]:
    """(reason code, field) of the RecordError ``parse`` raises for ``value``."""
    with pytest.raises(RecordError) as caught:
        parse({"x": value}, "x", **options)
    return str(caught.value.code), caught.value.field


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (9007199254740993, 9007199254740993),  # 2**53 + 1: a float would make it ...992
        ("9007199254740993", 9007199254740993),
        (" 42 ", 42),
        ("+7", 7),
        (3.0, 3),
        (BIGINT_MAX, BIGINT_MAX),
        (0, 0),
    ],
)
def test_integers_are_exact(value: Any, expected: int) -> None:
    assert as_int({"x": value}, "x", maximum=BIGINT_MAX) == expected


@pytest.mark.parametrize(
    "value", ["1e3", "12.0", "0x10", "1_000", "", 2.5, float("nan"), float("inf"), True, [1]]
)
def test_what_is_not_an_integer_literal_is_refused(value: Any) -> None:
    if value == "":
        assert as_int({"x": value}, "x") is None  # blank is missing, not wrong
        return
    assert refused(as_int, value) == ("not_an_integer", "x")


def test_a_float_beyond_two_to_the_53_is_refused_even_when_integral() -> None:
    assert refused(as_int, 2.0**60, maximum=BIGINT_MAX) == ("not_an_integer", "x")


@pytest.mark.parametrize(
    ("value", "options"),
    [
        (-1, {"maximum": BIGINT_MAX}),  # a negative id
        (2**63, {"maximum": BIGINT_MAX}),  # BIGINT overflow
        (1e20, {"maximum": BIGINT_MAX}),  # user_id 1e20: out of range, not merely inexact
        (3e9, {}),  # a count beyond INT
        (2**31, {}),
        (-5, {}),  # counts are >= 0 by default
    ],
)
def test_integers_outside_their_column_are_out_of_range(value: Any, options: dict) -> None:
    assert refused(as_int, value, **options) == ("out_of_range", "x")


def test_integer_defaults_are_an_int_columns_range() -> None:
    assert as_int({"x": 2**31 - 1}, "x") == 2147483647
    assert as_int({"x": -3}, "x", minimum=None) == -3


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), "NaN", "Infinity"])
def test_floats_must_be_finite(value: Any) -> None:
    assert refused(as_float, value) == ("not_a_number", "x")


def test_floats_keep_their_value_and_range() -> None:
    assert as_float({"x": "12.5"}, "x", minimum=0, maximum=100) == 12.5
    assert refused(as_float, 100.5, minimum=0, maximum=100) == ("out_of_range", "x")
    assert refused(as_float, 10**400) == ("out_of_range", "x")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-23T10:15:30Z", dt.datetime(2026, 11, 23, 10, 15, 30)),
        ("2026-11-23T10:15:30.9+02:00", dt.datetime(2026, 11, 23, 8, 15, 30)),
        (1_700_000_000, dt.datetime(2023, 11, 14, 22, 13, 20)),  # Unix seconds
        (1_700_000_000_123, dt.datetime(2023, 11, 14, 22, 13, 20)),  # milliseconds
        (1_700_000_000.5, dt.datetime(2023, 11, 14, 22, 13, 20)),
        ("9999-12-31T23:59:59Z", dt.datetime(9999, 12, 31, 23, 59, 59)),
    ],
)
def test_datetimes_become_naive_utc(value: Any, expected: dt.datetime) -> None:
    assert as_utc_datetime({"x": value}, "x") == expected


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("23/11/2026", "not_a_datetime"),
        (True, "not_a_datetime"),
        (float("nan"), "not_a_datetime"),
        ("9999-12-31T23:00:00-05:00", "out_of_range"),  # the year 10000 in UTC
        ("0999-12-31T00:00:00", "out_of_range"),  # before DATETIME's year 1000
        ("0001-01-01T00:30:00+01:00", "out_of_range"),
        (1e20, "out_of_range"),  # milliseconds beyond the year 9999
        (-1e16, "out_of_range"),
    ],
)
def test_unusable_datetimes_are_refused_by_kind(value: Any, code: str) -> None:
    assert refused(as_utc_datetime, value) == (code, "x")


def test_strings_longer_than_their_column_are_refused() -> None:
    assert as_str({"x": " abc "}, "x", max_length=3) == "abc"
    assert refused(as_str, "abcd", max_length=3) == ("too_long", "x")


def test_optional_field_problems_are_collected_while_a_record_is_parsed() -> None:
    record = {"id": "12", "count": "3e9", "when": "23/11/2026", "rate": "NaN"}
    with collecting_field_problems() as problems:
        row = {
            "id": as_int(record, "id", required=True),
            "count": as_int(record, "count"),
            "when": as_utc_datetime(record, "when"),
            "rate": as_float(record, "rate"),
        }
    assert row == {"id": 12, "count": None, "when": None, "rate": None}
    assert [(str(p.code), p.field, str(p)) for p in problems] == [
        ("not_an_integer", "count", "count='3e9' is not an integer"),
        ("not_a_datetime", "when", "when='23/11/2026' is not an ISO-8601 date-time"),
        ("not_a_number", "rate", "rate='NaN' is not a finite number"),
    ]


def test_required_fields_still_raise_inside_a_collector() -> None:
    with collecting_field_problems() as problems, pytest.raises(RecordError) as caught:
        as_int({"id": -1}, "id", required=True, maximum=BIGINT_MAX)
    assert (caught.value.code, caught.value.field) == (ReasonCode.OUT_OF_RANGE, "id")
    assert problems == []
    with pytest.raises(RecordError):  # and outside a collector every problem raises
        as_int({"n": "x"}, "n")


def test_each_thread_collects_its_own_problems() -> None:
    def parse(n: int) -> tuple[int | None, list[str | None]]:
        with collecting_field_problems() as problems:
            value = as_int({"n": n if n % 2 else f"bad{n}"}, "n")
        return value, [p.field for p in problems]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(parse, range(40)))
    assert results == [(n, []) if n % 2 else (None, ["n"]) for n in range(40)]
    # The pool's threads keep no collector behind: outside one, problems raise again.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(parse, 0).result()
        with pytest.raises(RecordError):
            pool.submit(as_int, {"n": "bad"}, "n").result()


def test_previews_show_every_missing_value_as_null() -> None:
    """nan, NaT, pandas NA and None all read NULL in the UI's preview, never 'nan'."""
    import math

    import pandas as pd

    from lms_assets.metadata import preview

    rows = [
        {"user_id": 1, "grade": math.nan, "at": pd.NaT, "mode": pd.NA, "email": "a@b.c"},
        {"user_id": 2, "grade": 61.5, "at": pd.Timestamp("2026-03-02 10:00"), "mode": None},
    ]
    table = preview(rows)
    assert [r.data for r in table.records] == [
        {"user_id": 1, "grade": None, "at": None, "mode": None},
        {"user_id": 2, "grade": 61.5, "at": "2026-03-02 10:00:00", "mode": None},
    ]
