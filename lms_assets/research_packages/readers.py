"""Readers that follow the exporter's rules, and survive what real exports still contain.

The ``.sql`` files are not SQL but MySQL's ``SELECT ... INTO OUTFILE`` text: a header
row, fields separated by TAB, no quoting, NULL written as the literal ``NULL``, and
backslash, TAB, CR and LF escaped with a backslash (``\\\\ \\t \\r \\n``); NUL bytes removed.
So a record ends at a raw LF and only there: a raw CR is text (real profiles carry
unescaped CRs in bio, goals and mailing_address), which is why lines are split as
bytes on ``b"\\n"``, never with universal newlines. A file whose header ends in CRLF
was converted by some tool: its lines lose that one CR.

Records stream one at a time (memory is one line), and a line that cannot be read
becomes a ``Problem`` (file, line, reason) instead of stopping the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from lms_assets.errors import ReasonCode, RecordError

NULL = "NULL"
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPED = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "0": ""}
PAYLOAD_LIMIT = 2000  # characters of a bad line kept in rejected_records


@dataclass(frozen=True)
class Problem:
    """A record that could not be read: where it is and why."""

    file: str
    line: int
    code: ReasonCode
    field: str | None
    reason: str
    text: str

    def payload(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "text": self.text[:PAYLOAD_LIMIT]}


def unescape(field: str) -> str | None:
    """One field's value: ``NULL`` is None, escapes decoded (an unknown ``\\x`` is ``x``)."""
    if field == NULL:
        return None
    if "\\" not in field:
        return field
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m[1], m[1]), field)


def read_tsv(stream: IO[bytes], file: str) -> Iterator[tuple[int, dict[str, Any]] | Problem]:
    """(line number, {column: value}) per record, or a Problem; the header is line 1.

    Empty lines (a trailing blank line, say) are no records and are skipped.
    """
    header: list[str] | None = None
    strip_cr = False
    for number, raw in enumerate(stream, start=1):
        raw = raw.removesuffix(b"\n").replace(b"\x00", b"")
        if strip_cr:
            raw = raw.removesuffix(b"\r")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Problem(
                file,
                number,
                ReasonCode.WRONG_SHAPE,
                "encoding",
                f"{file} line {number}: not UTF-8 ({exc.reason} at byte {exc.start})",
                raw.decode("utf-8", "replace"),
            )
            continue
        if header is None:
            text = text.removeprefix("\ufeff")
            if text.endswith("\r"):
                strip_cr, text = True, text[:-1]
            header = [name.strip() for name in text.split("\t")]
            continue
        if text == "":
            continue
        fields = text.split("\t")
        if len(fields) != len(header):
            yield Problem(
                file,
                number,
                ReasonCode.WRONG_SHAPE,
                None,
                f"{file} line {number}: {len(fields)} fields, the header has {len(header)}",
                text,
            )
            continue
        yield number, dict(zip(header, map(unescape, fields), strict=True))


def read_json_document(stream: IO[bytes], file: str) -> Any:
    """A whole JSON file (the course structure), byte-order mark or not."""
    text = stream.read().decode("utf-8-sig")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{file}: not JSON ({exc})") from None


def read_json_lines(stream: IO[bytes], file: str) -> Iterator[tuple[int, Any] | Problem]:
    """One JSON document per line (the forum's ``.mongo``); a bad line is a Problem."""
    for number, raw in enumerate(stream, start=1):
        text = raw.decode("utf-8", "replace").strip().removeprefix("\ufeff")
        if not text:
            continue
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Problem(
                file,
                number,
                ReasonCode.WRONG_SHAPE,
                None,
                f"{file} line {number}: not JSON ({exc.msg})",
                text,
            )
            continue
        if not isinstance(document, dict):
            yield Problem(
                file,
                number,
                ReasonCode.WRONG_SHAPE,
                None,
                f"{file} line {number}: not an object",
                text,
            )
            continue
        yield number, document


# -- ids in their two forms --------------------------------------------------------------------
def course_parts(course_id: str) -> tuple[str, str, str] | None:
    """(org, course, run) of ``org/course/run`` or ``course-v1:org+course+run``."""
    if course_id.startswith("course-v1:"):
        parts = course_id.removeprefix("course-v1:").split("+")
    else:
        parts = course_id.split("/")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 and all(parts) else None


def same_course(a: str | None, b: str) -> bool:
    """Whether two course ids name the same course, whichever form each is in."""
    if a is None:
        return False
    return a == b or (course_parts(a) is not None and course_parts(a) == course_parts(b))


def require_same_course(record: dict[str, Any], course_id: str | None) -> None:
    """Refuse a record whose ``course_id`` names another course than ``course_id``."""
    found = record.get("course_id")
    if found is not None and not same_course(found, course_id or ""):
        raise RecordError(
            ReasonCode.INCONSISTENT,
            "course_id",
            f"course_id {found!r} is not the package's course {course_id!r}",
        )


_I4X = re.compile(r"^i4x://(?P<org>[^/]+)/(?P<course>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/@]+)")
_BLOCK_V1 = re.compile(
    r"^block-v1:(?P<key>[^+]+\+[^+]+\+[^+]+)\+type@(?P<type>[^+]+)\+block@(?P<name>.+)$"
)


def block_parts(block_id: str) -> tuple[str, str] | None:
    """(block type, block name) of an ``i4x://`` or ``block-v1:`` usage id."""
    match = _I4X.match(block_id) or _BLOCK_V1.match(block_id)
    return (match["type"], match["name"]) if match else None


def course_of_block(block_id: str) -> str | None:
    """The course id a course block's usage id names (``i4x`` gives org/course/run)."""
    match = _BLOCK_V1.match(block_id)
    if match:
        return "course-v1:" + match["key"]
    match = _I4X.match(block_id)
    if match and match["type"] == "course":
        return f"{match['org']}/{match['course']}/{match['name']}"
    return None
