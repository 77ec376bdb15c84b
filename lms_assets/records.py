"""Coercing source records into typed rows, with a reason when a record is unusable.

Parsers raise ``RecordError`` with a code, the field and a message; the asset turns
it into a ``RejectedRecord`` (kept in ``rejected_records``) and goes on.

A problem with an OPTIONAL field (``required=False``) need not cost the whole record:
while a record is parsed inside :func:`collecting_field_problems`, such a problem is
collected instead of raised and the field comes back as None (stored NULL). Outside
a collector every problem raises, as before. The collector is a contextvar, so
parsers running in threads (H5P, one learner per task) each collect their own.

Integers are parsed exactly (never through float) and checked against the range of
the column they go to, so a value MariaDB would refuse is rejected here, by field,
instead of failing the whole partition's write (SQLite would silently store it).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from lms_assets.errors import ReasonCode, RecordError

INT_MAX = 2**31 - 1  # sa.Integer (INT on MariaDB)
BIGINT_MAX = 2**63 - 1  # sa.BigInteger (BIGINT): ids and keys
EXACT_FLOAT_LIMIT = 2**53  # beyond this a float no longer holds every integer exactly
# A number this large cannot be Unix seconds (that would be after the year 5000): it is
# JavaScript-style milliseconds, which APIs send as often as seconds, so it is converted.
EPOCH_MILLISECONDS_FROM = 1e11
# DATETIME's range on MariaDB/MySQL; Python's own ends at the same years.
MIN_YEAR, MAX_YEAR = 1000, 9999

_INTEGER_LITERAL = re.compile(r"[+-]?[0-9]+")
_problems: ContextVar[list[RecordError] | None] = ContextVar("record_field_problems", default=None)


@contextlib.contextmanager
def collecting_field_problems() -> Iterator[list[RecordError]]:
    """Within: optional-field problems are appended to the yielded list, the field is None."""
    problems: list[RecordError] = []
    token = _problems.set(problems)
    try:
        yield problems
    finally:
        _problems.reset(token)  # a pool thread reuses its context for the next task


def _field(required: bool, parse: Any, *args: Any) -> Any:
    """``parse(*args)``; an optional field's RecordError is collected (None) when collecting."""
    try:
        return parse(*args)
    except RecordError as exc:
        problems = _problems.get()
        if required or problems is None:
            raise
        problems.append(exc)
        return None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _present(record: dict[str, Any], name: str, required: bool) -> Any:
    """The field's value, None when absent (RecordError when it is required)."""
    value = record.get(name)
    if _missing(value):
        if required:
            raise RecordError(ReasonCode.MISSING, name, f"{name} is missing")
        return None
    return value


def _check_range(name: str, number: float, minimum: float | None, maximum: float | None) -> None:
    if minimum is not None and number < minimum:
        raise RecordError(ReasonCode.OUT_OF_RANGE, name, f"{name}={number} is below {minimum}")
    if maximum is not None and number > maximum:
        raise RecordError(ReasonCode.OUT_OF_RANGE, name, f"{name}={number} is above {maximum}")


def _integer(
    record: dict[str, Any], name: str, required: bool, minimum: int | None, maximum: int | None
) -> int | None:
    value = _present(record, name, required)
    if value is None:
        return None
    not_integer = RecordError(
        ReasonCode.NOT_AN_INTEGER, name, f"{name}={value!r} is not an integer"
    )
    if isinstance(value, bool):
        raise not_integer
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise not_integer
        number = int(value)
    elif isinstance(value, str) and _INTEGER_LITERAL.fullmatch(value.strip()):
        number = int(value.strip())
    else:  # "1e3", "12.0", "0x10", lists ...: not what an integer field sends
        raise not_integer
    _check_range(name, number, minimum, maximum)
    if isinstance(value, float) and abs(value) >= EXACT_FLOAT_LIMIT:
        raise RecordError(
            ReasonCode.NOT_AN_INTEGER,
            name,
            f"{name}={value!r} is a float beyond 2**53: its exact integer value is lost",
        )
    return number


def as_int(
    record: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = 0,
    maximum: int | None = INT_MAX,
) -> int | None:
    """An exact integer; the default range is an INT count's (ids pass ``maximum=BIGINT_MAX``)."""
    return _field(required, _integer, record, name, required, minimum, maximum)


def _float(
    record: dict[str, Any],
    name: str,
    required: bool,
    minimum: float | None,
    maximum: float | None,
) -> float | None:
    value = _present(record, name, required)
    if value is None:
        return None
    if isinstance(value, bool):
        raise RecordError(ReasonCode.NOT_A_NUMBER, name, f"{name}={value!r} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an int beyond any double
        raise RecordError(ReasonCode.OUT_OF_RANGE, name, f"{name} is too large") from None
    except (TypeError, ValueError):
        raise RecordError(
            ReasonCode.NOT_A_NUMBER, name, f"{name}={value!r} is not a number"
        ) from None
    if not math.isfinite(number):  # "NaN", "Infinity": no column can mean them
        raise RecordError(ReasonCode.NOT_A_NUMBER, name, f"{name}={value!r} is not a finite number")
    _check_range(name, number, minimum, maximum)
    return number


def as_float(
    record: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    return _field(required, _float, record, name, required, minimum, maximum)


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def _bool(record: dict[str, Any], name: str, required: bool) -> bool | None:
    value = _present(record, name, required)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RecordError(ReasonCode.NOT_A_BOOLEAN, name, f"{name}={value!r} is not a boolean")


def as_bool(record: dict[str, Any], name: str, *, required: bool = False) -> bool | None:
    return _field(required, _bool, record, name, required)


def _str(record: dict[str, Any], name: str, required: bool, max_length: int | None) -> str | None:
    value = _present(record, name, required)
    if value is None:
        return None
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise RecordError(
            ReasonCode.TOO_LONG, name, f"{name} is {len(text)} characters long (limit {max_length})"
        )
    return text


def as_str(
    record: dict[str, Any], name: str, *, required: bool = False, max_length: int | None = None
) -> str | None:
    """Stripped text; ``max_length`` is the column's (characters, as VARCHAR counts them)."""
    return _field(required, _str, record, name, required, max_length)


def _datetime(record: dict[str, Any], name: str, required: bool) -> dt.datetime | None:
    value = _present(record, name, required)
    if value is None:
        return None
    out_of_range = RecordError(
        ReasonCode.OUT_OF_RANGE,
        name,
        f"{name}={value!r} is outside the years {MIN_YEAR}-{MAX_YEAR} (UTC)",
    )
    if isinstance(value, bool):
        raise RecordError(ReasonCode.NOT_A_DATETIME, name, f"{name}={value!r} is not a date-time")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise RecordError(
                ReasonCode.NOT_A_DATETIME, name, f"{name}={value!r} is not a date-time"
            )
        seconds = value / 1000 if abs(value) >= EPOCH_MILLISECONDS_FROM else value
        try:
            parsed = dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
        except (OverflowError, OSError, ValueError):
            raise out_of_range from None
    else:
        text = str(value).strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise RecordError(
                ReasonCode.NOT_A_DATETIME, name, f"{name}={value!r} is not an ISO-8601 date-time"
            ) from None
        if parsed.tzinfo is not None:
            try:  # '9999-12-31T23:00:00-05:00' is in the year 10000 in UTC
                parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
            except OverflowError:
                raise out_of_range from None
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise out_of_range
    return parsed.replace(microsecond=0)


def as_utc_datetime(
    record: dict[str, Any], name: str, *, required: bool = False
) -> dt.datetime | None:
    """ISO-8601 (with 'Z', an offset, or none = UTC) or Unix seconds/milliseconds, naive UTC.

    A number of at least 1e11 is taken as milliseconds (1e11 seconds would be the year
    5138); the result must fall in the years 1000-9999, DATETIME's range on MariaDB.
    """
    return _field(required, _datetime, record, name, required)
