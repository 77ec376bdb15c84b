"""One course of a package -> the rows of its tables, and every record that could not be read.

Each table has a parser (record -> row, raising ``RecordError``); :class:`CourseReader`
runs it over its file, refuses duplicates and records of another course, and keeps every
refusal as a ``RejectedRecord`` naming file, line and reason. An optional field that
cannot be read does not cost the record: it is stored NULL and the problem kept too.
Users join their profile by user id, never by row order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyarrow as pa

from lms_assets.errors import ReasonCode, RecordError
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
from lms_assets.research_packages import readers
from lms_assets.research_packages.columnar import SeenKeys, arrow_batches
from lms_assets.research_packages.forum import forum_post
from lms_assets.research_packages.layout import FORUM, STRUCTURE, Package
from lms_assets.research_packages.structure import blocks_of
from lms_assets.warehouse import ArrowStream, RejectedRecord

Row = dict[str, Any]
Record = tuple[int, dict[str, Any]]


def _user_id(record: Row, name: str = "user_id") -> int:
    return as_int(record, name, required=True, maximum=BIGINT_MAX)


def _course(record: Row, partition: Partition) -> None:
    readers.require_same_course(record, partition.course_id)


def enrollment(record: Row, partition: Partition) -> Row:
    _course(record, partition)
    return {
        "user_id": _user_id(record),
        "mode": as_str(record, "mode", max_length=32),
        "is_active": as_bool(record, "is_active"),
        "created": as_utc_datetime(record, "created"),
    }


def certificate(record: Row, partition: Partition) -> Row:
    _course(record, partition)
    return {
        "user_id": _user_id(record),
        "grade": as_float(record, "grade", minimum=0.0, maximum=1.0),
        "status": as_str(record, "status", max_length=32),
        "mode": as_str(record, "mode", max_length=32),
        "created": as_utc_datetime(record, "created_date"),
    }


def course_grade(record: Row, partition: Partition) -> Row:
    _course(record, partition)
    return {
        "user_id": _user_id(record),
        "percent_grade": as_float(record, "percent_grade", minimum=0.0, maximum=1.0),
        "letter_grade": as_str(record, "letter_grade", max_length=64),
        "passed": record.get("passed_timestamp") not in (None, ""),
        "modified": as_utc_datetime(record, "modified"),
    }


# Fast paths for the million-record file: a clean value is converted directly; anything
# else goes to records.py, which gives the same value or the reason it cannot.
def _id(record: Row, name: str) -> int:
    value = record.get(name)
    if value is not None and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return as_int(record, name, required=True, maximum=BIGINT_MAX)


def _grade(record: Row, name: str) -> float | None:
    value = record.get(name)
    if value is not None and value.isascii() and value.replace(".", "", 1).isdigit():
        return float(value)
    return as_float(record, name, minimum=0.0)


def _time(record: Row, name: str) -> dt.datetime | None:
    value = record.get(name)
    if value is not None and len(value) == 19 and value[10] == " ":
        with contextlib.suppress(ValueError):
            return dt.datetime.fromisoformat(value)
    return as_utc_datetime(record, name)


def module(record: Row, partition: Partition) -> Row:
    _course(record, partition)
    module_id = as_str(record, "module_id", required=True, max_length=255)
    if readers.block_parts(module_id) is None:
        raise RecordError(
            ReasonCode.WRONG_SHAPE, "module_id", f"{module_id!r} is no i4x:// or block-v1: id"
        )
    state = record.get("state")
    return {
        "user_id": _id(record, "student_id"),
        "module_id": module_id,
        "module_type": as_str(record, "module_type", max_length=32),
        "grade": _grade(record, "grade"),
        "max_grade": _grade(record, "max_grade"),
        "state_bytes": None if state is None else len(state.encode("utf-8")),
        "created": _time(record, "created"),
        "modified": _time(record, "modified"),
    }


def account(record: Row, _partition: Partition) -> Row:
    return {
        "user_id": _user_id(record, "id"),
        "username": as_str(record, "username", required=True, max_length=150),
        "is_staff": as_bool(record, "is_staff"),
        "date_joined": as_utc_datetime(record, "date_joined"),
    }


def profile(record: Row, _partition: Partition) -> Row:
    year = as_int(record, "year_of_birth", minimum=1900, maximum=2100)
    return {
        "user_id": _user_id(record),
        "name": record.get("name"),  # hashed when joined, never stored
        "gender": as_str(record, "gender", max_length=8),
        "year_of_birth": year,
        "level_of_education": as_str(record, "level_of_education", max_length=16),
        "country": as_str(record, "country", max_length=8),
    }


SQL_TABLES: dict[str, tuple[str, Callable[[Row, Partition], Row], tuple[str, ...]]] = {
    # file's table: (warehouse table, parser, key)
    "student_courseenrollment": ("package_enrollments", enrollment, ("user_id",)),
    "certificates_generatedcertificate": ("package_certificates", certificate, ("user_id",)),
    "grades_persistentcoursegrade": ("package_course_grades", course_grade, ("user_id",)),
    "courseware_studentmodule": ("courseware_modules", module, ("user_id", "module_id")),
}


# Files whose unreadable lines are not kept as text (emails, names, addresses, posts).
PERSONAL_FILES = {"auth_user", "auth_userprofile", FORUM}


class CourseReader:
    """Reads one course's files of a package into a CourseLoad for ``partition``."""

    def __init__(
        self, package: Package, prefix: str, partition: Partition, pseudonymize: Callable
    ) -> None:
        self.package, self.partition, self.pseudonymize = package, partition, pseudonymize
        self.files = package.files.get(prefix, {})
        self.load = CourseLoad(rows={})
        self.load.info["files"] = sorted(f.name for f in self.files.values())

    def _reject(self, table: str, file: str, line: int | None, error: Any, payload: Any) -> None:
        self.load.rejected.append(
            RejectedRecord(
                self.partition,
                source=f"research package {self.package.path.name}",
                reason=str(error),
                record_key=f"{file}:{line}" if line is not None else file,
                payload=payload,
                code=error.code,
                field=error.field,
            )
        )
        self.load.reasons[error.category] += 1
        self.load.refused[table] += 1

    def _keep_problems(self, file: str, line: int, problems: list[RecordError], table: str) -> None:
        for problem in problems:
            self.load.kept.append(
                RejectedRecord(
                    self.partition,
                    source=f"research package {self.package.path.name}",
                    reason=f"{file} line {line}: {problem} (stored NULL)",
                    record_key=f"{file}:{line}",
                    code=problem.code,
                    field=problem.field,
                )
            )
            self.load.null_reasons[problem.category] += 1
        if problems:
            self.load.nulled_rows[table] += 1

    def _records(self, file_table: str, table: str) -> Iterator[Record]:
        found = self.files.get(file_table)
        self.load.info[f"{table}:records"] = 0
        if found is None:
            return
        with self.package.open(found.member) as stream:
            reader = (
                readers.read_json_lines(stream, found.name)
                if file_table == FORUM
                else readers.read_tsv(stream, found.name)
            )
            for item in reader:
                self.load.info[f"{table}:records"] += 1
                if isinstance(item, readers.Problem):
                    error = RecordError(item.code, item.field, item.reason)
                    payload = item.payload()
                    if file_table in PERSONAL_FILES:  # the line would hold names, emails
                        payload["text"] = f"({len(item.text)} characters, not kept)"
                    self._reject(table, item.file, item.line, error, payload)
                    continue
                yield item

    def _parse(
        self, file_table: str, table: str, parse: Callable, key: tuple[str, ...]
    ) -> list[Row]:
        return list(self._rows(file_table, table, parse, key))

    def _rows(
        self,
        file_table: str,
        table: str,
        parse: Callable,
        key: tuple[str, ...],
        *,
        keyed_here: bool = True,
    ) -> Iterator[Row]:
        """The file's rows, one at a time; refusals kept as they are met.

        ``keyed_here=False`` leaves duplicate keys to the caller (``_first_of_each_key`` on
        Arrow batches, which holds no Python set of every key) and adds each row's ``line``.
        """
        seen = set()
        name = self.files[file_table].name if file_table in self.files else file_table
        for line, record in self._records(file_table, table):
            try:
                with collecting_field_problems() as problems:
                    row = parse(record, self.partition)
                row_key = tuple(row[k] for k in key) if keyed_here else ()
                if keyed_here and row_key in seen:
                    raise RecordError(
                        ReasonCode.DUPLICATE_KEY, "/".join(key), f"duplicate {row_key} in {name}"
                    )
            except RecordError as exc:
                message = RecordError(exc.code, exc.field, f"{name} line {line}: {exc}")
                payload = {"file": name, "line": line, "record": _shown(record)}
                self._reject(table, name, line, message, payload)
                continue
            if keyed_here:
                seen.add(row_key)
            else:
                row["line"] = line
            self._keep_problems(name, line, problems, table)
            yield row

    def _first_of_each_key(
        self, file_table: str, table: str, batches: Iterable[pa.Table], key: tuple[str, ...]
    ) -> Iterator[pa.Table]:
        """Each batch without the records whose key an earlier line had (the first is kept),
        refused as they are met: across batches too (``SeenKeys``)."""
        name = self.files[file_table].name if file_table in self.files else file_table
        seen = SeenKeys(key)
        for data in batches:
            repeat = seen.refuse_repeats(data)
            if repeat.any():
                for row in data.filter(pa.array(repeat)).select([*key, "line"]).to_pylist():
                    shown = tuple(row[k] for k in key)
                    error = RecordError(
                        ReasonCode.DUPLICATE_KEY,
                        "/".join(key),
                        f"{name} line {row['line']}: duplicate {shown} in {name}",
                    )
                    payload = {"file": name, "line": row["line"], "key": list(shown)}
                    self._reject(table, name, row["line"], error, payload)
                data = data.filter(pa.array(~repeat))
            yield data.drop_columns(["line"])

    def _place(self, table: str, rows: Iterable[Row]) -> None:
        partition = {"course_id": self.partition.course_id, "snapshot_date": self.partition.day}
        self.load.rows[table] = [{**partition, **row} for row in rows]

    def read(self) -> CourseLoad:
        """The course's rows; the ``.sql`` tables' (one per learner and module for
        studentmodule) as ArrowStreams, read while the write loads them, a batch at a time:
        their counts and refusals are complete once the write has read them."""
        for file_table, (table, parse, key) in SQL_TABLES.items():
            rows = self._rows(file_table, table, parse, key, keyed_here=False)
            batches = arrow_batches(table, rows, self.partition)
            self.load.rows[table] = ArrowStream(
                self._first_of_each_key(file_table, table, batches, key)
            )
        self._users()
        self._structure()
        forum = self._parse(
            FORUM,
            "forum_posts",
            lambda d, p: forum_post(d, p, self.pseudonymize),
            ("post_id",),
        )
        self._place("forum_posts", forum)
        return self.load

    def _users(self) -> None:
        accounts = self._parse("auth_user", "package_users", account, ("user_id",))
        profiles = self._parse("auth_userprofile", "profiles", profile, ("user_id",))
        # Profiles are not a table of their own: their refusals count apart from users'.
        by_user = {p["user_id"]: p for p in profiles}
        users = []
        for row in accounts:
            details = by_user.pop(row["user_id"], {})
            users.append(
                {
                    "user_id": row["user_id"],
                    "username_hash": self.pseudonymize(row["username"]),
                    "name_hash": self.pseudonymize(details.get("name")),
                    "gender": details.get("gender"),
                    "year_of_birth": details.get("year_of_birth"),
                    "level_of_education": details.get("level_of_education"),
                    "country": details.get("country"),
                    "is_staff": row["is_staff"],
                    "date_joined": row["date_joined"],
                }
            )
        file = self.files.get("auth_userprofile")
        for user_id in sorted(by_user):  # a profile whose user is not in auth_user
            error = RecordError(
                ReasonCode.INCONSISTENT,
                "user_id",
                f"profile of user {user_id}, who is not in auth_user (not stored)",
            )
            self._reject("profiles", file.name if file else "", None, error, {"user_id": user_id})
        self._place("package_users", users)

    def _structure(self) -> None:
        found = self.files.get(STRUCTURE)
        if found is None:
            self.load.info["course_blocks:records"] = 0
            self._place("course_blocks", [])
            self._place("course_videos", [])
            return
        with self.package.open(found.member) as stream:
            try:
                document = readers.read_json_document(stream, found.name)
            except ValueError as exc:
                document = {}
                error = RecordError(ReasonCode.WRONG_SHAPE, None, str(exc))
                self._reject("course_structure", found.name, None, error, None)
        blocks, videos, problems = blocks_of(document if isinstance(document, dict) else {})
        self.load.info["course_blocks:records"] = len(document) if isinstance(document, dict) else 0
        for block_id, error in problems:
            self._reject("course_blocks", found.name, None, error, {"block_id": block_id})
        self._place("course_blocks", blocks)
        self._place("course_videos", videos)


def _shown(record: Row) -> Row:
    """A refused record as kept in rejected_records: personal and free-text fields left out."""
    hidden = {"email", "password", "name", "first_name", "last_name", "mailing_address", "bio"}
    hidden |= {"goals", "state", "username", "body", "author_username"}
    return {k: ("(hidden)" if k in hidden and v is not None else v) for k, v in record.items()}
