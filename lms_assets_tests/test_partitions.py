import datetime as dt

import pytest

from lms_assets import partitions
from lms_assets.partitions import (
    CourseDay,
    InvalidCourseKeyError,
    SnapshotDateError,
    register_courses,
    require_snapshot_days,
    validate_course_key,
)


@pytest.mark.parametrize(
    "key",
    ["course-v1:DHQG-HCM+FM101+2025_S2", "MITx/6.002x/2012_Fall", "42", "course-v1:Ünï+X+1"],
)
def test_valid_course_keys_pass_unchanged(key: str) -> None:
    assert validate_course_key(key) == key


@pytest.mark.parametrize(
    ("key", "named"),
    [
        ("course-v1:A|B+C", "|"),
        ("course-v1:A,B+C", ","),
        ("course-v1:[A]+B", "["),
        ("course-v1:A...B", "..."),
        ("course-v1:A\tB", "\\t"),
        ("course-v1:A\x00B", "\\x00"),
    ],
)
def test_keys_dagster_cannot_carry_are_rejected_naming_the_character(key: str, named: str) -> None:
    with pytest.raises(InvalidCourseKeyError) as error:
        validate_course_key(key)
    assert named in str(error.value)
    assert "cannot carry" in str(error.value)


@pytest.mark.parametrize("key", ["", "   ", " course-v1:A+B+C", "x" * 256])
def test_empty_padded_or_overlong_keys_are_rejected(key: str) -> None:
    with pytest.raises(InvalidCourseKeyError):
        validate_course_key(key)


def test_register_courses_adds_only_new_valid_keys(instance) -> None:
    added, invalid = register_courses(
        instance, partitions.openedx_courses, ["course-v1:A+B+C", "bad|key", "course-v1:A+B+C"]
    )
    assert added == ["course-v1:A+B+C"]
    assert list(invalid) == ["bad|key"]
    added_again, _ = register_courses(
        instance, partitions.openedx_courses, ["course-v1:A+B+C", "course-v1:X+Y+Z"]
    )
    assert added_again == ["course-v1:X+Y+Z"]
    assert instance.get_dynamic_partitions("openedx_courses") == [
        "course-v1:A+B+C",
        "course-v1:X+Y+Z",
    ]


def test_snapshot_rule_refuses_past_days_and_accepts_today(yesterday: dt.date) -> None:
    require_snapshot_days([CourseDay("course-v1:A+B+C", partitions.today())], "Some API")
    with pytest.raises(SnapshotDateError) as error:
        require_snapshot_days([CourseDay("course-v1:A+B+C", yesterday)], "Some API")
    message = error.value.description
    assert "Some API only gives today's snapshot" in message
    assert yesterday.isoformat() in message


def test_daily_dimension_includes_today_so_snapshots_can_run() -> None:
    assert partitions.daily_partitions.get_last_partition_key() == partitions.today().isoformat()


def test_course_day_partition_key_joins_course_then_date() -> None:
    key = CourseDay("course-v1:A+B+C", dt.date(2026, 3, 1)).partition_key
    assert str(key) == "course-v1:A+B+C|2026-03-01"
