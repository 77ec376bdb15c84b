"""Partitions: per source a dynamic set of course keys times a daily date dimension.

Every partitioned asset takes its partitions definition from here, and every
asset turns its run's partition keys into ``CourseDay`` values with
:func:`course_days`, so key validation and the snapshot rule live in one place.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import dagster as dg

from lms_assets import settings

COURSE_DIMENSION = "course"
DATE_DIMENSION = "date"

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
    bad = sorted({c for c in course_key if c in _FORBIDDEN_CHARACTERS})
    bad += [s for s in _FORBIDDEN_SUBSTRINGS if s in course_key]
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
    return dt.datetime.now(ZoneInfo(timezone or settings.TIMEZONE)).date()


# end_offset=1 makes today's (still open) day a partition: snapshot sources can
# only ever be materialized for today.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=settings.PARTITIONS_START_DATE,
    timezone=settings.TIMEZONE,
    end_offset=1,
)

# Daily tables should be at most a day (plus the run's own time) old; the UI flags
# them as stale past the warn window and failing past the fail window.
DAILY_FRESHNESS = dg.FreshnessPolicy.time_window(
    fail_window=dt.timedelta(hours=30), warn_window=dt.timedelta(hours=26)
)

openedx_courses = dg.DynamicPartitionsDefinition(name="openedx_courses")
moodle_courses = dg.DynamicPartitionsDefinition(name="moodle_courses")

openedx_course_daily = dg.MultiPartitionsDefinition(
    {COURSE_DIMENSION: openedx_courses, DATE_DIMENSION: daily_partitions}
)
moodle_course_daily = dg.MultiPartitionsDefinition(
    {COURSE_DIMENSION: moodle_courses, DATE_DIMENSION: daily_partitions}
)


@dataclass(frozen=True, order=True)
class CourseDay:
    """One course × date partition."""

    course_id: str
    day: dt.date

    @property
    def partition_key(self) -> dg.MultiPartitionKey:
        return dg.MultiPartitionKey(
            {COURSE_DIMENSION: self.course_id, DATE_DIMENSION: self.day.isoformat()}
        )

    def __str__(self) -> str:
        return f"{self.course_id} @ {self.day.isoformat()}"


def course_days(context: dg.AssetExecutionContext) -> list[CourseDay]:
    """The run's partitions as ``CourseDay`` values, sorted.

    Works for a single partition and for single-run backfills that hand one run
    many partitions.
    """
    partitions_def = context.assets_def.partitions_def
    assert isinstance(partitions_def, dg.MultiPartitionsDefinition)
    result = []
    for key in context.partition_keys:
        if not isinstance(key, dg.MultiPartitionKey):
            key = partitions_def.get_partition_key_from_str(key)
        dims = key.keys_by_dimension
        course_id = validate_course_key(dims[COURSE_DIMENSION])
        result.append(CourseDay(course_id, dt.date.fromisoformat(dims[DATE_DIMENSION])))
    return sorted(result)


def require_snapshot_days(partitions: list[CourseDay], source: str) -> None:
    """Refuse any partition that is not today: a snapshot API only tells the present.

    Storing today's answer under an older date would silently corrupt history and
    every backfill of derived tables built on it.
    """
    current = today()
    wrong = sorted({p.day for p in partitions if p.day != current})
    if wrong:
        days = ", ".join(d.isoformat() for d in wrong[:5]) + (" ..." if len(wrong) > 5 else "")
        raise SnapshotDateError(
            description=(
                f"{source} only gives today's snapshot ({current.isoformat()}, "
                f"timezone {settings.TIMEZONE}); it cannot be read for {days}. "
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
