"""Backfilling 50 courses x 30 days of activity_counts and raw_data through a Dagster instance.

Ours: single-run backfill policy, one run per asset over the whole partition range
(what a UI backfill or ``dagster asset materialize --partition-range`` launches; the
CLI is run once on the same instance to prove the documented command).
Baseline: one run per partition, as a per-course cron job would do; measured on a
sample of SAMPLE partitions per asset and scaled to all of them.
"""

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.definitions import defs
from lms_assets.features.raw_data import raw_data
from lms_assets.moodle.definitions import ASSETS as MOODLE_ASSETS
from lms_assets.moodle.resources import MoodleDatabaseResource
from lms_assets.openedx import parsing
from lms_assets.openedx.definitions import ASSETS as SNAPSHOT_ASSETS
from lms_assets.openedx.features import LEARNER_TABLES
from lms_assets.openedx.resources import H5PApiResource, OpenEdxApiResource
from lms_assets.partitions import Partition
from lms_assets.sandbox import payloads
from lms_assets.sandbox.moodle_db import write_moodle_database
from lms_assets.sandbox.university import University
from lms_assets.warehouse import WarehouseResource

COURSES = 50
DAYS = 30
SAMPLE = 30
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def _store_openedx_snapshots(
    university: University, warehouse: WarehouseResource, days: list[dt.date]
) -> int:
    """The stored snapshots raw_data reads: every course, every day."""
    rows = 0
    for day in days:
        tables: dict[str, list[dict]] = {name: [] for name in LEARNER_TABLES}
        for course in university.courses.values():
            p = Partition(course.course_id, day)
            for learner in course.learners:
                tables["enrollments"].append(
                    parsing.parse_enrollment(payloads.enrollment_record(learner), p)
                )
                combined = payloads.combined_progress(course, learner)
                tables["h5p_scores_summary"].append(
                    parsing.parse_h5p_scores(
                        payloads.h5p_scores(course, learner), p, learner.user_id
                    )[0]
                )
                tables["video_progress_summary"].append(
                    parsing.parse_video_progress(
                        payloads.video_progress(course, learner), p, learner.user_id
                    )[0]
                )
                tables["dashboard_summary"].append(
                    parsing.parse_dashboard(combined, p, learner.user_id, "combined-progress")
                )
            for name, parser, body, path in (
                (
                    "mooc_grades",
                    parsing.parse_grade,
                    payloads.student_grades(course),
                    ("grade_data", "grade_table"),
                ),
                (
                    "mooc_progress",
                    parsing.parse_progress,
                    payloads.student_progress(course),
                    ("progress_data", "students"),
                ),
                (
                    "mooc_discussions",
                    parsing.parse_discussion,
                    payloads.student_discussions(course),
                    ("discussion_data", "students"),
                ),
            ):
                tables[name] += parsing.parse_records(
                    parsing.records_at(body, path, name), parser, p, source="bench"
                ).rows
        warehouse.write([Partition(c, day) for c in university.courses], tables, asset_name="bench")
        rows += sum(len(v) for v in tables.values())
    return rows


def main() -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="lms_backfill_"))
    today = partitions.today()
    days = [today - dt.timedelta(days=n) for n in range(DAYS, 0, -1)]
    university = University(seed=9, n_courses=COURSES, today=today, learners_per_course=(20, 30))
    moodle_url = f"sqlite:///{work / 'moodle.sqlite'}"
    site = write_moodle_database(university, moodle_url, days=DAYS + 5)
    warehouse = WarehouseResource(url=f"sqlite:///{work / 'warehouse.sqlite'}")
    snapshot_rows = _store_openedx_snapshots(university, warehouse, days)
    moodle = MoodleDatabaseResource(url=moodle_url)
    unused = "http://127.0.0.1:9"  # the API assets are not selected: never called
    resources = {
        "moodle": moodle,
        "warehouse": warehouse,
        "openedx_api": OpenEdxApiResource(base_url=unused, session_id="unused"),
        "h5p_api": H5PApiResource(base_url=unused),
    }
    moodle_keys, openedx_keys = moodle.visible_course_ids(), list(university.courses)
    print(
        f"{COURSES} courses x {DAYS} days; {site.log_rows:,} Moodle log rows; "
        f"{snapshot_rows:,} stored Open edX snapshot rows"
    )

    (work / "home").mkdir()
    (work / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(work / "home")) as instance:
        partitions.register_courses(instance, partitions.moodle_courses, moodle_keys)
        partitions.register_courses(instance, partitions.openedx_courses, openedx_keys)

        def single_run(job_name: str, asset: str, keys: list[str]) -> float:
            job = defs.resolve_job_def(job_name).get_subset(asset_selection={dg.AssetKey(asset)})
            started = time.perf_counter()
            result = job.execute_in_process(
                instance=instance,
                resources=resources,
                tags={
                    RANGE_TAGS[0]: f"{keys[0]}|{days[0]}",
                    RANGE_TAGS[1]: f"{keys[-1]}|{days[-1]}",
                },
            )
            assert result.success
            return time.perf_counter() - started

        runs_before = len(instance.get_run_records())
        ours_activity = single_run("moodle_daily", "activity_counts", moodle_keys)
        ours_raw = single_run("openedx_daily", "raw_data", openedx_keys)
        our_runs = len(instance.get_run_records()) - runs_before

        def one_per_partition(assets, asset: str, keys: list[str]) -> float:
            sample = [(k, d) for k in keys for d in days][:: (len(keys) * DAYS) // SAMPLE][:SAMPLE]
            started = time.perf_counter()
            for key, day in sample:
                assert dg.materialize(
                    assets,
                    instance=instance,
                    selection=[asset],
                    resources=resources,
                    partition_key=Partition(key, day).partition_key,
                ).success
            return (time.perf_counter() - started) * len(keys) * DAYS / len(sample)

        base_activity = one_per_partition(MOODLE_ASSETS, "activity_counts", moodle_keys)
        base_raw = one_per_partition([*SNAPSHOT_ASSETS, raw_data], "raw_data", openedx_keys)

    # The documented CLI, on a 3-course x 3-day range of the same instance.
    env = {
        **os.environ,
        "DAGSTER_HOME": str(work / "home"),
        "LMS_MOODLE_URL": moodle_url,
        "LMS_WAREHOUSE_URL": warehouse.url,
    }
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "-m",
            "lms_assets.definitions",
            "--select",
            "activity_counts",
            "--partition-range",
            f"{moodle_keys[0]}|{days[0]}...{moodle_keys[2]}|{days[2]}",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr[-2000:]
    with sa.create_engine(warehouse.url).connect() as conn:
        stored = conn.execute(sa.text("SELECT COUNT(*) FROM activity_counts")).scalar()
    assert stored == COURSES * DAYS

    partitions_total = COURSES * DAYS
    print(
        f"ours:     {our_runs} runs      activity_counts {ours_activity:6.1f} s   "
        f"raw_data {ours_raw:6.1f} s   total {ours_activity + ours_raw:6.1f} s"
    )
    print(
        f"baseline: {2 * partitions_total} runs   activity_counts {base_activity:6.1f} s   "
        f"raw_data {base_raw:6.1f} s   total {base_activity + base_raw:6.1f} s "
        f"(from {SAMPLE} sampled runs per asset)"
    )
    print("CLI `dagster asset materialize --partition-range` on 3 courses x 3 days: ok")
    return {"ours": ours_activity + ours_raw, "baseline": base_activity + base_raw}
