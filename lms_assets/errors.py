"""The errors every layer shares: a source that cannot be read, a record that cannot be loaded.

They live here, below the HTTP client, the database readers and the load loop, so
that any source (REST, database, files) raises the same kinds and the load loop
handles them without knowing where they came from.
"""

from __future__ import annotations

from enum import StrEnum


class SourceError(RuntimeError):
    """A source could not be read; the message names the source, the request and why."""


class SourceAuthenticationError(SourceError):
    """The source refused our credentials (HTTP 401/403, a refused login)."""


class SourceRequestError(SourceError):
    """A request failed for good (non-retryable status, or retries exhausted)."""


class SourceResponseError(SourceError):
    """The source answered with something we cannot use (not JSON, the wrong shape)."""


class WarehouseError(RuntimeError):
    """A write that would break the warehouse's guarantees (nothing was written)."""


class ReasonCode(StrEnum):
    """What kind of problem made a record unusable: what checks and counts group by."""

    MISSING = "missing"
    NOT_A_NUMBER = "not_a_number"
    NOT_AN_INTEGER = "not_an_integer"
    NOT_A_BOOLEAN = "not_a_boolean"
    NOT_A_DATETIME = "not_a_datetime"
    OUT_OF_RANGE = "out_of_range"
    TOO_LONG = "too_long"
    DUPLICATE_KEY = "duplicate_key"
    WRONG_SHAPE = "wrong_shape"
    INCONSISTENT = "inconsistent"
    FETCH_FAILED = "fetch_failed"


class RecordError(ValueError):
    """A record that cannot be loaded: a code, the field it is about, and a readable message.

    Checks count by ``(code, field)``, never by the message, so rewording a message
    cannot make a failing check pass.
    """

    def __init__(self, code: ReasonCode, field: str | None, message: str) -> None:
        super().__init__(message)
        self.code = ReasonCode(code)
        self.field = field

    @property
    def category(self) -> str:
        """``code`` or ``code field``: the key rejection counts are kept under."""
        return f"{self.code} {self.field}" if self.field else str(self.code)
