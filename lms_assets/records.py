"""Coercing source records into typed rows, with a reason when a record is unusable.

Parsers raise ``RecordError`` with a code, the field and a message; the asset turns
it into a ``RejectedRecord`` (kept in ``rejected_records``) and goes on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lms_assets.errors import ReasonCode, RecordError


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _number(record: dict[str, Any], name: str, required: bool, kind: str) -> float | None:
    """The field as a float, None when absent (or RecordError when required or not numeric)."""
    code = ReasonCode.NOT_AN_INTEGER if kind == "an integer" else ReasonCode.NOT_A_NUMBER
    value = record.get(name)
    if _missing(value):
        if required:
            raise RecordError(ReasonCode.MISSING, name, f"{name} is missing")
        return None
    if isinstance(value, bool):
        raise RecordError(code, name, f"{name}={value!r} is not {kind}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise RecordError(code, name, f"{name}={value!r} is not {kind}") from None


def as_int(record: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    number = _number(record, name, required, "an integer")
    if number is None:
        return None
    if not number.is_integer():
        raise RecordError(
            ReasonCode.NOT_AN_INTEGER, name, f"{name}={record.get(name)!r} is not an integer"
        )
    return int(number)


def as_float(
    record: dict[str, Any],
    name: str,
    *,
    required: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    number = _number(record, name, required, "a number")
    if number is None:
        return None
    if number != number:  # NaN
        raise RecordError(ReasonCode.NOT_A_NUMBER, name, f"{name} is NaN")
    if minimum is not None and number < minimum:
        raise RecordError(ReasonCode.OUT_OF_RANGE, name, f"{name}={number} is below {minimum}")
    if maximum is not None and number > maximum:
        raise RecordError(ReasonCode.OUT_OF_RANGE, name, f"{name}={number} is above {maximum}")
    return number


_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f"}


def as_bool(record: dict[str, Any], name: str) -> bool | None:
    value = record.get(name)
    if _missing(value):
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


def as_str(record: dict[str, Any], name: str, *, max_length: int | None = None) -> str | None:
    value = record.get(name)
    if _missing(value):
        return None
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise RecordError(
            ReasonCode.TOO_LONG, name, f"{name} is {len(text)} characters long (limit {max_length})"
        )
    return text


def as_utc_datetime(record: dict[str, Any], name: str) -> dt.datetime | None:
    """ISO-8601 (with 'Z', an offset, or none = UTC) or Unix seconds, as naive UTC."""
    value = record.get(name)
    if _missing(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC).replace(tzinfo=None)
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
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed.replace(microsecond=0)
