import datetime as dt

import dagster as dg
import pytest

from lms_assets import partitions
from lms_assets.partitions import (
    InvalidCourseKeyError,
    Partition,
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
    require_snapshot_days([Partition("course-v1:A+B+C", partitions.today())], "Some API")
    with pytest.raises(SnapshotDateError) as error:
        require_snapshot_days([Partition("course-v1:A+B+C", yesterday)], "Some API")
    message = error.value.description
    assert "Some API only gives today's snapshot" in message
    assert yesterday.isoformat() in message


def test_daily_dimension_includes_today_so_snapshots_can_run() -> None:
    assert partitions.daily_partitions.get_last_partition_key() == partitions.today().isoformat()


def test_course_day_partition_key_joins_course_then_date() -> None:
    key = Partition("course-v1:A+B+C", dt.date(2026, 3, 1)).partition_key
    assert str(key) == "course-v1:A+B+C|2026-03-01"


def test_a_run_scope_is_built_from_any_partitions_definition(instance) -> None:
    """Course x date, date-only and package runs all become one Scope with its columns."""
    packages = partitions.package_partitions("test_packages")
    instance.add_dynamic_partitions("test_packages", ["MITx-6.002x-2013_Spring"])
    partitions.register_courses(instance, partitions.openedx_courses, ["course-v1:A+B+C"])
    seen: dict[str, partitions.Scope] = {}

    def probe(name: str, partitions_def: dg.PartitionsDefinition) -> dg.AssetsDefinition:
        @dg.asset(name=name, partitions_def=partitions_def)
        def _asset(context: dg.AssetExecutionContext) -> None:
            seen[name] = partitions.scope_of(context)

        return _asset

    day = dt.date(2026, 3, 1)
    for name, partitions_def, key in [
        ("by_course_day", partitions.openedx_course_daily, Partition("course-v1:A+B+C", day)),
        ("by_day", partitions.daily_partitions, Partition(day=day)),
        ("by_package", packages, Partition(package_id="MITx-6.002x-2013_Spring")),
    ]:
        dg.materialize(
            [probe(name, partitions_def)], instance=instance, partition_key=key.partition_key
        )
    assert seen["by_course_day"].columns == ("course_id", "snapshot_date")
    assert list(seen["by_course_day"]) == [Partition("course-v1:A+B+C", day)]
    assert seen["by_day"].columns == ("snapshot_date",)
    assert seen["by_day"].days == [day]
    assert seen["by_package"].columns == ("package_id",)
    assert str(seen["by_package"][0]) == "MITx-6.002x-2013_Spring"


def test_day_window_is_dagsters_day_in_the_given_timezone() -> None:
    """A DST day in New York is 23 hours long; the window is naive UTC."""
    start, end = partitions.day_window(dt.date(2026, 3, 8), "America/New_York")
    assert (start, end) == (dt.datetime(2026, 3, 8, 5), dt.datetime(2026, 3, 9, 4))


def test_the_daily_dimension_starts_the_day_before_the_site_first_ran(tmp_path) -> None:
    """Unset LMS_PARTITIONS_START_DATE: the first process writes yesterday (its first morning
    loads yesterday's logs), later ones read it."""
    from lms_assets.settings import START_DATE_FILE, Settings

    first = Settings.from_environment({"LMS_DATA_DIR": str(tmp_path), "LMS_TIMEZONE": "UTC"})
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert first.partitions_start_date == yesterday.isoformat()
    (tmp_path / START_DATE_FILE).write_text("2026-02-03\n")  # as if it first ran that day
    later = Settings.from_environment({"LMS_DATA_DIR": str(tmp_path)})
    assert later.partitions_start_date == "2026-02-03"
    chosen = Settings.from_environment(
        {"LMS_DATA_DIR": str(tmp_path), "LMS_PARTITIONS_START_DATE": "2024-09-01"}
    )
    assert chosen.partitions_start_date == "2024-09-01"  # the setting wins (to load history)


def test_secrets_are_read_only_as_present_and_flags_as_true_or_false() -> None:
    from lms_assets.settings import SettingError, Settings

    secret_set = Settings.from_environment(
        {"LMS_PSEUDONYM_KEY": "a site secret", "SPREADSHEET_ID": "1AbC", "LMS_SMTP_PASSWORD": "x"}
    )
    assert (secret_set.pseudonym_key_set, secret_set.sheets_spreadsheet_set) == (True, True)
    assert (
        Settings.from_environment(
            {"LMS_RAW_DATA_WAITS_FOR_TRACKING": "false"}
        ).raw_data_waits_for_tracking
        is False
    )
    with pytest.raises(SettingError, match="LMS_RAW_DATA_WAITS_FOR_TRACKING='maybe' is not true"):
        Settings.from_environment({"LMS_RAW_DATA_WAITS_FOR_TRACKING": "maybe"})
