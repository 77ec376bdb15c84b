"""Partitions: what a run covers, as one ``Scope`` of ``Partition`` values.

Every partitioned asset takes its partitions definition from here and turns its
run's partition keys into a :class:`Scope` with :func:`scope_of`, so key
validation, the snapshot rule and day windows live in one place. A partition is
named by the warehouse columns that carry it: ``course_id`` and ``snapshot_date``
for course x date sources, ``snapshot_date`` alone for date-only data (the daily
tracking-log split), ``package_id`` for research-data packages. The write path,
the reads and the checks take a Scope and filter on exactly those columns.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg

from lms_assets import settings

COURSE_DIMENSION = "course"
DATE_DIMENSION = "date"
PACKAGE_DIMENSION = "package"

# Characters Dagster cannot carry in a multi-partition key: "|" joins the
# dimensions, "," "[" "]" delimit key lists and ranges in run tags, and "..."
# marks a range.
_FORBIDDEN_CHARACTERS = frozenset("|,[]")
_FORBIDDEN_SUBSTRINGS = ("...",)
MAX_COURSE_KEY_LENGTH = 255  # the warehouse's course_id column width


class InvalidCourseKeyError(ValueError):
    """A course id that cannot become a Dagster partition key."""


class SnapshotDateError(dg.Failure):
    """A snapshot source was asked for a day other than today."""


def to_date(value: object) -> dt.date:
    """A date from what a database driver or pandas hands back (date, datetime, str)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def validate_course_key(course_key: str) -> str:
    """Return ``course_key`` unchanged, or raise naming the key and what is wrong with it."""
    if not isinstance(course_key, str) or not course_key.strip():
        raise InvalidCourseKeyError(f"Course key {course_key!r} is empty.")
    if course_key != course_key.strip():
        raise InvalidCourseKeyError(
            f"Course key {course_key!r} has leading or trailing whitespace."
        )
    if len(course_key) > MAX_COURSE_KEY_LENGTH:
        raise InvalidCourseKeyError(
            f"Course key {course_key[:40]!r}... is {len(course_key)} characters long; "
            f"the limit is {MAX_COURSE_KEY_LENGTH}."
        )
    bad = [f"'{c}'" for c in sorted({c for c in course_key if c in _FORBIDDEN_CHARACTERS})]
    bad += [f"'{s}'" for s in _FORBIDDEN_SUBSTRINGS if s in course_key]
    bad += sorted(
        {repr(c) for c in course_key if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")}
    )
    if bad:
        raise InvalidCourseKeyError(
            f"Course key {course_key!r} contains {', '.join(map(str, bad))}, which Dagster "
            "cannot carry in a partition key (it uses '|' ',' '[' ']' '...' as delimiters "
            "and control characters are not allowed)."
        )
    return course_key


def course_code(course_id: str) -> str:
    """A run's course: ``course-v1:ORG+CODE+RUN`` -> ``ORG+CODE``, shared by every run of
    it; any other id is its own course."""
    key = course_id.split(":", 1)[1] if course_id.startswith("course-v1:") else course_id
    parts = key.split("+")
    return "+".join(parts[:2]) if len(parts) == 3 else course_id


def split_valid_course_keys(course_keys: list[str]) -> tuple[list[str], dict[str, str]]:
    """Partition ``course_keys`` into (valid keys, {invalid key: reason})."""
    valid: list[str] = []
    invalid: dict[str, str] = {}
    for key in course_keys:
        try:
            valid.append(validate_course_key(key))
        except InvalidCourseKeyError as exc:
            invalid[key] = str(exc)
    return valid, invalid


def today(timezone: str | None = None) -> dt.date:
    """Today's date in the partition timezone: the only day a snapshot source can be read for."""
    return dt.datetime.now(ZoneInfo(timezone or settings.current.timezone)).date()


# end_offset=1 makes today's (still open) day a partition: snapshot sources can
# only ever be materialized for today.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=settings.current.partitions_start_date,
    timezone=settings.current.timezone,
    end_offset=1,
)


@cache
def _daily_in(timezone: str) -> dg.DailyPartitionsDefinition:
    if timezone == daily_partitions.timezone:
        return daily_partitions
    return dg.DailyPartitionsDefinition(
        start_date=settings.current.partitions_start_date, timezone=timezone
    )


def day_window(day: dt.date, timezone: str | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of ``day`` as naive UTC, as Dagster's daily partitions define the day.

    ``timezone`` defaults to the partition timezone; a source whose clock differs
    (``LMS_MOODLE_TIMEZONE``) passes its own. DST days are 23 or 25 hours long.
    """
    window = _daily_in(timezone or settings.current.timezone).time_window_for_partition_key(
        day.isoformat()
    )
    return (
        window.start.astimezone(dt.UTC).replace(tzinfo=None),
        window.end.astimezone(dt.UTC).replace(tzinfo=None),
    )


# Daily tables should be at most a day (plus the run's own time) old; the UI flags
# them as stale past the warn window and failing past the fail window.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=dt.timedelta(hours=30), warn_window=dt.timedelta(hours=26)
)


def course_daily(courses: dg.DynamicPartitionsDefinition) -> dg.MultiPartitionsDefinition:
    """A source's course keys x the daily dimension."""
    return dg.MultiPartitionsDefinition(
        {COURSE_DIMENSION: courses, DATE_DIMENSION: daily_partitions}
    )


openedx_courses = dg.DynamicPartitionsDefinition(name="openedx_courses")
moodle_courses = dg.DynamicPartitionsDefinition(name="moodle_courses")
openedx_course_daily = course_daily(openedx_courses)
moodle_course_daily = course_daily(moodle_courses)

# Single-dimension dynamic definitions name what their keys are: packages, not courses.
_PACKAGE_DEFINITIONS: set[str] = set()


def package_partitions(name: str) -> dg.DynamicPartitionsDefinition:
    """A dynamic set of package keys (one research-data export each)."""
    _PACKAGE_DEFINITIONS.add(name)
    return dg.DynamicPartitionsDefinition(name=name)


# -- one partition, and the set a run covers ---------------------------------------------------
# Partition field -> the warehouse column that carries it.
PARTITION_COLUMNS = {"course_id": "course_id", "day": "snapshot_date", "package_id": "package_id"}


@dataclass(frozen=True, order=True)
class Partition:
    """One partition, by the values of its partition columns (the others are None)."""

    course_id: str | None = None
    day: dt.date | None = None
    package_id: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self) if getattr(self, f.name) is not None)

    @property
    def columns(self) -> dict[str, Any]:
        """{warehouse column: value} of the columns this partition pins."""
        return {PARTITION_COLUMNS[name]: getattr(self, name) for name in self.fields}

    @property
    def partition_key(self) -> str:
        """The Dagster partition key (multi-dimensional keys join course and date)."""
        if self.course_id is not None and self.day is not None:
            return dg.MultiPartitionKey(
                {COURSE_DIMENSION: self.course_id, DATE_DIMENSION: self.day.isoformat()}
            )
        if self.day is not None:
            return self.day.isoformat()
        return self.package_id if self.package_id is not None else str(self.course_id)

    @classmethod
    def of_row(cls, row: Any, columns: Sequence[str]) -> Partition:
        """The partition of a stored row (a mapping or attribute access) on ``columns``."""
        get = row.get if hasattr(row, "get") else lambda c: getattr(row, c)
        values = {}
        for name, column in PARTITION_COLUMNS.items():
            if column in columns:
                value = get(column)
                values[name] = to_date(value) if name == "day" else value
        return cls(**values)

    def __str__(self) -> str:
        return " @ ".join(
            str(v.isoformat() if isinstance(v, dt.date) else v)
            for v in (self.course_id, self.package_id, self.day)
            if v is not None
        )


class Scope(Sequence[Partition]):
    """The partitions of one run (or one write), all pinned by the same columns, sorted."""

    def __init__(self, partitions: Iterable[Partition]) -> None:
        self.partitions: tuple[Partition, ...] = tuple(sorted(set(partitions)))
        shapes = {p.fields for p in self.partitions}
        if len(shapes) > 1:
            raise ValueError(f"partitions of different shapes in one scope: {sorted(shapes)}")
        self.fields: tuple[str, ...] = shapes.pop() if shapes else ()

    @classmethod
    def of(cls, partitions: Scope | Iterable[Partition]) -> Scope:
        return partitions if isinstance(partitions, Scope) else cls(partitions)

    @property
    def columns(self) -> tuple[str, ...]:
        """The warehouse columns the partitions pin, e.g. ("course_id", "snapshot_date")."""
        return tuple(PARTITION_COLUMNS[name] for name in self.fields)

    def value_tuples(self) -> set[tuple[Any, ...]]:
        """Each partition as the tuple of its column values (in ``columns`` order)."""
        return {tuple(getattr(p, name) for name in self.fields) for p in self.partitions}

    @property
    def days(self) -> list[dt.date]:
        return sorted({p.day for p in self.partitions if p.day is not None})

    @property
    def course_ids(self) -> list[str]:
        return sorted({p.course_id for p in self.partitions if p.course_id is not None})

    def __getitem__(self, index):  # type: ignore[override]
        return self.partitions[index]

    def __len__(self) -> int:
        return len(self.partitions)

    def __iter__(self) -> Iterator[Partition]:
        return iter(self.partitions)

    def __repr__(self) -> str:
        shown = ", ".join(map(str, self.partitions[:3]))
        return f"Scope({len(self)} partition(s): {shown}{' ...' if len(self) > 3 else ''})"


def _partition_from_key(partitions_def: dg.PartitionsDefinition, key: str) -> Partition:
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        if not isinstance(key, dg.MultiPartitionKey):
            key = partitions_def.get_partition_key_from_str(key)
        dims = key.keys_by_dimension
        return Partition(
            course_id=validate_course_key(dims[COURSE_DIMENSION]),
            day=dt.date.fromisoformat(dims[DATE_DIMENSION]),
        )
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return Partition(day=dt.date.fromisoformat(str(key)[:10]))
    if isinstance(partitions_def, dg.DynamicPartitionsDefinition):
        if partitions_def.name in _PACKAGE_DEFINITIONS:
            return Partition(package_id=str(key))
        return Partition(course_id=validate_course_key(str(key)))
    raise TypeError(f"no partition scope for {type(partitions_def).__name__}")


def scope_of(context: dg.AssetExecutionContext) -> Scope:
    """The run's partitions as a Scope: one partition or a single-run backfill's many.

    A registered course key that cannot be run (added through the UI before validation)
    refuses the run with its name, the reason and how to remove it."""
    partitions_def = context.assets_def.partitions_def
    assert partitions_def is not None, "scope_of needs a partitioned asset"
    try:
        return Scope(_partition_from_key(partitions_def, key) for key in context.partition_keys)
    except InvalidCourseKeyError as exc:
        raise dg.Failure(
            description=f"{exc} It is registered but cannot be run: remove it with "
            "lms-assets remove-course SOURCE 'KEY' and register the right key with "
            "lms-assets add-course."
        ) from None


def require_snapshot_days(partitions: Iterable[Partition], source: str) -> None:
    """Refuse any partition that is not today: a snapshot API only tells the present.

    Storing today's answer under an older date would silently corrupt history and
    every backfill of derived tables built on it.
    """
    current = today()
    wrong = sorted({p.day for p in partitions if p.day is not None and p.day != current})
    if wrong:
        days = ", ".join(d.isoformat() for d in wrong[:5]) + (" ..." if len(wrong) > 5 else "")
        raise SnapshotDateError(
            description=(
                f"{source} only gives today's snapshot ({current.isoformat()}, "
                f"timezone {settings.current.timezone}); it cannot be read for {days}. "
                "Materialize today's partition instead; past days of derived tables are "
                "rebuilt from the snapshots stored on those days."
            )
        )


def register_courses(
    instance: dg.DagsterInstance, partitions_def: dg.DynamicPartitionsDefinition, keys: list[str]
) -> tuple[list[str], dict[str, str]]:
    """Add the valid course keys not yet registered; return (added keys, {invalid key: reason})."""
    valid, invalid = split_valid_course_keys(keys)
    assert partitions_def.name is not None
    existing = set(instance.get_dynamic_partitions(partitions_def.name))
    new = [k for k in dict.fromkeys(valid) if k not in existing]
    if new:
        instance.add_dynamic_partitions(partitions_def.name, new)
    return new, invalid
