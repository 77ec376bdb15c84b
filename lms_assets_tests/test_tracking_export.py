"""The narrowed tracking load gives exactly the rows of the wide one, through `lms-assets export`.

``fixtures/tracking_export/*.csv`` is what ``lms-assets export tracking_events`` printed on
main BEFORE the narrowing (tracking_events a wide table keyed by course_id VARCHAR(255) and a
utf8mb4 event_id, page stored in it), for each tracking fixture of test_tracking.py and
test_tracking_sites.py, every day, loaded_at left out (the time of the write). The same
fixtures loaded by today's code must export the same rows, byte for byte; the columns added
since (username_hash) are compared apart, by hand-checkable values.
"""

import csv
import gzip
import io
import os
from pathlib import Path

import pytest

from lms_assets import cli, partitions
from lms_assets.partitions import Partition
from lms_assets.research_packages.pseudonyms import ripemd160_hex
from lms_assets.tracking import assets as tracking
from lms_assets.tracking.resources import TrackingLogFolderResource

from . import test_tracking, test_tracking_sites

EXPECTED = Path(__file__).parent / "fixtures" / "tracking_export"
# The columns of tracking_events before the narrowing, in their export order.
WIDE_COLUMNS = [
    "course_id",
    "snapshot_date",
    "event_id",
    "time",
    "user_id",
    "username",
    "event_type",
    "event_source",
    "session",
    "page",
    "module_id",
    "video_position",
    "problem_id",
    "problem_success",
    "problem_attempts",
    "discussion_id",
    "course_from",
    "from_studio",
]


def load(logs, warehouse, instance, days: list[str], courses: list[str]) -> None:
    """Split each day, the last first (its file may index older days), and load each course-day."""
    partitions.register_courses(instance, partitions.openedx_courses, courses)
    for day in sorted(days, reverse=True):
        split = test_tracking.run(
            [tracking.tracking_log_split], logs, warehouse, instance, day, test_tracking.LENIENT
        )
        assert split.success
        for course in courses:
            key = Partition(course, partitions.to_date(day)).partition_key
            assert test_tracking.run([tracking.tracking_events], logs, warehouse, instance, key)


def exported(warehouse, day: str, monkeypatch, capsys) -> list[dict[str, str]]:
    monkeypatch.setenv("LMS_WAREHOUSE_URL", warehouse.url)
    assert cli.main(["export", "tracking_events", "--date", day, "--limit", "100000"]) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def wide_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, WIDE_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def tracking_logs(tmp_path) -> TrackingLogFolderResource:
    """test_tracking.py's two files (its ``logs`` fixture)."""
    folder = tmp_path / "logs" / "lms-1"
    folder.mkdir(parents=True)
    (folder / f"tracking.log-{test_tracking.D}").write_text("\n".join(test_tracking.FILE_A) + "\n")
    with gzip.open(folder / "tracking-2026-03-11.log.gz", "wt") as handle:
        handle.write("\n".join(test_tracking.FILE_B) + "\n")
    return TrackingLogFolderResource(
        path=str(tmp_path / "logs"), staging_path=str(tmp_path / "staging")
    )


FIXTURES = {
    # name: (the logs fixture, its days, its courses)
    "tracking": (
        tracking_logs,
        [test_tracking.D, "2026-03-11"],
        [test_tracking.VID, test_tracking.OLD],
    ),
    "sites_mixed_file": (
        test_tracking_sites.mixed_file,
        [d.isoformat() for d in test_tracking_sites.DAYS],
        [test_tracking_sites.A, test_tracking_sites.B, test_tracking_sites.C],
    ),
    "sites_daily_files": (
        test_tracking_sites.daily_files,
        [d.isoformat() for d in test_tracking_sites.DAYS],
        [test_tracking_sites.A, test_tracking_sites.B, test_tracking_sites.C],
    ),
}


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_the_export_gives_the_rows_of_the_wide_table(
    fixture, tmp_path, warehouse, instance, monkeypatch, capsys
) -> None:
    make_logs, days, courses = FIXTURES[fixture]
    load(make_logs(tmp_path), warehouse, instance, days, courses)
    capsys.readouterr()
    for day in days:
        rows = exported(warehouse, day, monkeypatch, capsys)
        path = EXPECTED / f"{fixture}_{day}.csv"  # the same on both backends
        if os.environ.get("LMS_WRITE_EXPECTED_EXPORT") == "1":  # how the files were made
            path.parent.mkdir(exist_ok=True)
            path.write_text(wide_csv(rows))
        assert wide_csv(rows) == path.read_text(), f"{fixture} {day}"
        if "username_hash" in (rows[0] if rows else {}):
            for row in rows:  # the stored pseudonym of the row's own username
                want = ripemd160_hex(row["username"]) if row["username"] else ""
                assert row["username_hash"] == want
