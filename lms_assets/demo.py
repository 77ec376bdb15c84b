"""The main job of ``make demo``: sandbox up, courses registered, the semester's logs
backfilled (a few single-run backfills), today's snapshots and features materialized.

Runs against a persistent Dagster instance (``DAGSTER_HOME``, default
``.dagster_home``) and the embedded SQLite warehouse, so ``make ui`` afterwards
shows the same runs and data.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from lms_assets import partitions, settings
from lms_assets.automation import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    SOURCE_TAG,
    attach_to_code_location,
    batched_run_requests,
)
from lms_assets.db import redacted
from lms_assets.dropout import risk
from lms_assets.moodle.resources import MoodleDatabaseResource
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.research_packages import demo as research_demo
from lms_assets.sandbox import Sandbox
from lms_assets.sandbox.moodle_db import write_moodle_database
from lms_assets.sandbox.tracking_logs import write_tracking_logs
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

# The local instance of `make demo` / `make ui`: see deploy/dagster.yaml for production.
LOCAL_INSTANCE_CONFIG = """\
telemetry:
  enabled: false
nux:
  enabled: false  # no "Join the community" pop-up on the first visit of the UI
concurrency:
  pools:
    default_limit: 2  # at most 2 steps at once per pool: openedx_api, h5p_api, moodle_db, warehouse
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: lms/source
        value:
          applyLimitPerUniqueValue: true
        limit: 2
"""
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass(frozen=True)
class DemoRun:
    label: str
    request: dg.RunRequest


@dataclass
class DemoReport:
    runs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)  # whole tables, every day
    rows_of_today: dict[str, int] = field(default_factory=dict)  # tables with a day column
    enrollment_mismatches: list[str] = field(default_factory=list)

    def record(
        self, instance: dg.DagsterInstance, label: str, result: dg.ExecuteInProcessResult
    ) -> None:
        """Count a finished run and its checks; give it this code location's origin."""
        attach_to_code_location(instance, result.run_id)
        self.runs += 1
        if not result.success:
            self.failed_runs.append(f"{label} (run {result.run_id})")
        for evaluation in result.get_asset_check_evaluations():
            name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
            if evaluation.passed:
                self.checks_passed += 1
            else:
                self.checks_failed.append(f"{name} [{label}]")

    @property
    def ok(self) -> bool:
        return not (self.failed_runs or self.checks_failed or self.enrollment_mismatches)


def prepare_environment() -> Path:
    """Default DAGSTER_HOME to ./.dagster_home (created) and return it."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster_home").resolve())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_INSTANCE_CONFIG)
    return home


def prepare_sandbox_sources(sandbox: Sandbox, moodle_url: str | None = None) -> dict[str, str]:
    """Write the sandbox's Moodle database and tracking logs; return the environment
    that points every resource at the sandbox (values already set in the environment win).
    """
    env = {
        **sandbox.environment(),
        "LMS_MOODLE_URL": moodle_url
        or os.environ.get("LMS_MOODLE_URL")
        or f"sqlite:///{settings.current.data_dir / 'moodle_sandbox.sqlite'}",
        "LMS_TRACKING_LOG_DIR": os.environ.get(
            "LMS_TRACKING_LOG_DIR", str(settings.current.data_dir / "tracking_logs")
        ),
        "LMS_TRACKING_STAGING_DIR": os.environ.get(
            "LMS_TRACKING_STAGING_DIR", str(settings.current.data_dir / "tracking_staging")
        ),
    }
    # The sandbox is ours and on loopback: no need for the production politeness limits.
    for name in ("LMS_OPENEDX_REQUESTS_PER_SECOND", "LMS_H5P_REQUESTS_PER_SECOND"):
        env[name] = os.environ.get(name, "500")
    env["LMS_H5P_MAX_CONCURRENCY"] = os.environ.get("LMS_H5P_MAX_CONCURRENCY", "16")
    site = write_moodle_database(sandbox.university, env["LMS_MOODLE_URL"])
    print(f"Sandbox Moodle {redacted(env['LMS_MOODLE_URL'])}: {site.log_rows} log rows")
    files = write_tracking_logs(sandbox.university, Path(env["LMS_TRACKING_LOG_DIR"]), days=None)
    print(f"Sandbox tracking logs: {len(files)} files in {env['LMS_TRACKING_LOG_DIR']}")
    return env


@dataclass(frozen=True)
class DemoCourses:
    """The course runs the (sandbox) API lists, by whether they are over by the demo's day."""

    running: list[str]
    finished: list[str]
    calendar: dict[str, tuple[dt.date, dt.date]]  # course -> (first day, last day)

    @property
    def all(self) -> list[str]:
        return [*self.running, *self.finished]


def register_sandbox_courses(
    instance: dg.DagsterInstance, api: OpenEdxApiResource, day: dt.date
) -> DemoCourses:
    """Register every course the (sandbox) API lists, running runs first (each group is one
    range of the dynamic partition set); return the valid ones with their calendars."""
    listed = api.list_courses()
    calendar = {
        str(c["course_id"]): (
            dt.date.fromisoformat(str(c["start"])[:10]),
            dt.date.fromisoformat(str(c["end"])[:10]),
        )
        for c in listed
    }
    running = [k for k, (_, end) in calendar.items() if end >= day]
    finished = [k for k, (_, end) in calendar.items() if end < day]
    _, invalid = partitions.register_courses(
        instance, partitions.openedx_courses, [*running, *finished]
    )
    for key, reason in invalid.items():
        print(f"  skipped course {key!r}: {reason}", file=sys.stderr)
    return DemoCourses(
        [k for k in running if k not in invalid],
        [k for k in finished if k not in invalid],
        {k: v for k, v in calendar.items() if k not in invalid},
    )


DEMO_TAGS = {"lms/launched_by": "demo"}


def backfill_start(first_log_day: dt.date) -> dt.date:
    """The first day the demo backfills: the sandbox's first day of logs, unless the
    partitions start later (a data/partitions_start_date kept from an earlier demo; make
    clean resets it)."""
    return max(first_log_day, partitions.to_date(partitions.daily_partitions.start))


def demo_runs(
    courses: DemoCourses,
    moodle_courses: list[str],
    day: dt.date,
    first: dt.date | None = None,
    moodle_first: dt.date | None = None,
    model_stored: bool = False,
) -> list[DemoRun]:
    """The log days ``first``..``day`` as single-run backfills, then the morning of ``day``
    as the schedules would request it, in dependency order: today's snapshots (of every
    run: a finished run's final grades are its labels); Moodle's counts of today and its
    log and report of ``moodle_first``..yesterday (one run per batch of courses); the split
    of the log files of ``first``..today (one run); the tracking tables of the finished
    runs' days and of the running runs' days (one run each per batch); then, for the running
    runs, raw_data of today once all of its inputs are stored (features/automation.py) and
    the course reports; last the dropout model: the finished runs' training examples, the
    model (when the backfill holds the finished runs' days), and the running runs' risk of
    today (when a model is trained here or ``model_stored``). The sandbox's clock stands
    at midnight, so yesterday is the last day with activity, as on a real site before the
    day's logs rotate. ``first`` defaults to yesterday: the morning alone."""
    from lms_assets.tracking.sensors import COURSES_JOB, SPLIT_JOB

    yesterday = day - dt.timedelta(days=1)
    first = min(first or yesterday, yesterday)
    moodle_first = max(first, moodle_first or first)

    def batched(
        label: str,
        job: str,
        keys: list[str],
        on: dt.date,
        last: dt.date | None = None,
        selection: list[dg.AssetKey] | None = None,
    ) -> list[DemoRun]:
        if not keys or (last is not None and last < on):
            return []
        days = f"{on}" if last in (None, on) else f"{on}..{last}"
        return [
            DemoRun(f"{label} of {days}", request)
            for request in batched_run_requests(
                job, keys, on, run_key_prefix="demo", asset_selection=selection, last=last
            )
        ]

    split = dg.RunRequest(
        job_name=SPLIT_JOB,
        tags={
            SOURCE_TAG: "tracking",
            RANGE_START_TAG: first.isoformat(),
            RANGE_END_TAG: day.isoformat(),
        },
    )
    moodle_logs = [dg.AssetKey("activity_counts"), dg.AssetKey("user_activity")]
    finished_first = max(
        first, min((courses.calendar[c][0] for c in courses.finished), default=first)
    )
    finished_last = max((courses.calendar[c][1] for c in courses.finished), default=first)
    running_first = max(
        first, min((courses.calendar[c][0] for c in courses.running), default=first)
    )
    runs = [
        *batched("Open edX snapshots", "openedx_daily", courses.all, day),
        *batched(
            "Moodle user_counts",
            "moodle_daily",
            moodle_courses,
            day,
            selection=[dg.AssetKey("user_counts")],
        ),
        *batched(
            "Moodle activity_counts, user_activity",
            "moodle_daily",
            moodle_courses,
            moodle_first,
            last=yesterday,
            selection=moodle_logs,
        ),
        DemoRun(f"tracking-log split of {first}..{day}", split),
        *batched(
            "finished runs' tracking tables",
            COURSES_JOB,
            courses.finished,
            finished_first,
            last=min(finished_last, day),
        ),
        *batched("tracking tables", COURSES_JOB, courses.running, running_first, last=day),
        *batched("raw_data", "raw_data_daily", courses.running, day),
        *batched("course reports", "course_report_daily", courses.running, day),
    ]
    history_loaded = bool(courses.finished) and first <= min(
        courses.calendar[c][0] for c in courses.finished
    )
    if history_loaded:
        examples = dg.RunRequest(
            job_name="dropout_examples",
            tags={
                SOURCE_TAG: "dropout",
                RANGE_START_TAG: courses.finished[0],
                RANGE_END_TAG: courses.finished[-1],
            },
        )
        runs += [
            DemoRun(f"dropout examples of {len(courses.finished)} finished runs", examples),
            DemoRun("dropout model", dg.RunRequest(job_name="dropout_training")),
        ]
    if history_loaded or model_stored:
        runs += batched("dropout risk", "dropout_scoring", courses.running, day)
    return runs


def execute(
    run: DemoRun, definitions: dg.Definitions, instance: dg.DagsterInstance, report: DemoReport
) -> None:
    """Execute one request in this process, through its named job and with its tags."""
    started = time.monotonic()
    request = run.request
    assert request.job_name is not None
    result = definitions.resolve_job_def(request.job_name).execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags={**request.tags, **DEMO_TAGS},
        asset_selection=request.asset_selection,
        run_config=QUIET_LOGS,
        raise_on_error=False,
    )
    report.record(instance, run.label, result)
    status = "ok" if result.success else "FAILED"
    print(f"  {run.label} ({request.job_name}): {status} in {time.monotonic() - started:.1f}s")


def run_demo(sandbox: Sandbox, days: int | None = None) -> DemoReport:
    """The demo; ``days``: backfill only the last ``days`` days of logs (default: all)."""
    # Imported here so definitions see the environment the sandbox just set.
    from lms_assets.definitions import merged_definitions

    os.environ.update(sandbox.environment())
    prepare_environment()
    os.environ.update(prepare_sandbox_sources(sandbox))
    os.environ.update(research_demo.prepare(sandbox.university, settings.current.data_dir))
    moodle_url = os.environ["LMS_MOODLE_URL"]
    config = settings.reload()  # the environment now points at the sandbox
    definitions = merged_definitions(config)
    report = DemoReport()
    # Resources wired with EnvVar resolve only inside runs; the demo's own reads use values.
    warehouse = WarehouseResource(url=config.resolved_warehouse_url())
    moodle = MoodleDatabaseResource(url=moodle_url)
    api = OpenEdxApiResource(base_url=sandbox.openedx_base_url, session_id=sandbox.session_id)
    today = partitions.today()
    university = sandbox.university
    first = backfill_start(university.first_day)
    if days is not None:
        first = max(first, today - dt.timedelta(days=max(1, days)))

    with dg.DagsterInstance.get() as instance:
        courses = register_sandbox_courses(instance, api, today)
        moodle_courses = moodle.visible_course_ids()
        partitions.register_courses(instance, partitions.moodle_courses, moodle_courses)
        shortnames = {
            str(row.id): row.shortname
            for row in moodle.course_details([int(c) for c in moodle_courses])
        }
        print(
            f"Sandbox {sandbox.base_url}: {len(courses.running)} running and "
            f"{len(courses.finished)} finished Open edX course runs, "
            f"{len(moodle_courses)} Moodle courses ("
            + ", ".join(f"{c} = {shortnames.get(c, '?')}" for c in moodle_courses)
            + f"); backfilling the logs {first}..{today} and materializing "
            f"{today} through the daily jobs"
        )
        if first > university.first_day:
            print(
                f"  the partitions start on {first}, after the sandbox's first day of logs "
                f"{university.first_day}: its earlier days are not loaded "
                "(make clean, or LMS_PARTITIONS_START_DATE, to load them)"
            )
        moodle_first = max(first, backfill_start(university.semester_start))  # this term only
        try:
            risk.load(config.data_dir / "models" / "dropout")
            model_stored = True
        except FileNotFoundError:
            model_stored = False
        planned = demo_runs(courses, moodle_courses, today, first, moodle_first, model_stored)
        for run in planned:
            execute(run, definitions, instance, report)

        # The research packages: the source's job per (course, export date), after the
        # tracking tables that person_course reads.
        for request in research_demo.requests(instance, config.research_packages_path):
            execute(
                DemoRun(f"research package {request.partition_key}", request),
                definitions,
                instance,
                report,
            )

        # LTI attempts: the semester in one lti_daily run, then its reports in one run (a
        # row per day on a Sheets stand-in, a success email per day to a loopback SMTP
        # server).
        from lms_assets.definitions import build_resources
        from lms_assets.lti.demo import run_lti_demo

        started = time.monotonic()
        lti_days = (today - max(first, backfill_start(university.semester_start))).days
        lti = run_lti_demo(sandbox, instance, build_resources(config), days=lti_days)
        for label, result in lti.runs:
            report.record(instance, label, result)
        print(
            f"  LTI: {len(lti.runs)} runs in {time.monotonic() - started:.1f}s; "
            f"{len(lti.sheet_rows) - 1} sheet rows on the Sheets stand-in, "
            f"{len(lti.emails)} emails to the loopback SMTP server"
        )

    with warehouse.engine.connect() as conn:
        metadata = registered_metadata()
        for table in metadata.sorted_tables:
            report.table_rows[table.name] = conn.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            if "snapshot_date" in table.c:
                report.rows_of_today[table.name] = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(table.c.snapshot_date == today)
                ).scalar_one()
        enrollments = metadata.tables["enrollments"]
        stored = dict(
            conn.execute(
                sa.select(enrollments.c.course_id, sa.func.count())
                .where(enrollments.c.snapshot_date == today)
                .group_by(enrollments.c.course_id)
            ).all()
        )
    for course_id in courses.all:
        expected = sandbox.university.enrollment_count(course_id)
        if stored.get(course_id, 0) != expected:
            report.enrollment_mismatches.append(
                f"{course_id}: {stored.get(course_id, 0)} stored, sandbox has {expected}"
            )
    return report


def print_report(report: DemoReport, warehouse_url: str) -> None:
    print()
    print(f"Warehouse: {warehouse_url}")
    print(f"{'table':<28}{'rows, all days':>16}{'of today':>10}")
    for name, rows in report.table_rows.items():
        of_today = report.rows_of_today.get(name)
        print(f"{name:<28}{rows:>16}{'' if of_today is None else of_today:>10}")
    print(f"Runs: {report.runs} ({len(report.failed_runs)} failed)")
    print(f"Checks: {report.checks_passed} passed, {len(report.checks_failed)} failed")
    for line in report.failed_runs:
        print(f"  failed run: {line}")
    for line in report.checks_failed:
        print(f"  failed check: {line}")
    for line in report.enrollment_mismatches:
        print(f"  enrollment mismatch: {line}")
    print("Demo " + ("succeeded." if report.ok else "FAILED."))
