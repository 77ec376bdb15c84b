"""The main job of ``make demo``: sandbox up, courses registered, whole graph materialized.

Runs against a persistent Dagster instance (``DAGSTER_HOME``, default
``.dagster_home``) and the embedded SQLite warehouse, so ``make ui`` afterwards
shows the same runs and data.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from lms_assets import partitions, settings
from lms_assets.db import redacted
from lms_assets.moodle.resources import MoodleDatabaseResource
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.sandbox import Sandbox
from lms_assets.sandbox.moodle_db import write_moodle_database
from lms_assets.sandbox.tracking_logs import write_tracking_logs
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

# The local instance of `make demo` / `make ui`: see deploy/dagster.yaml for production.
LOCAL_INSTANCE_CONFIG = """\
telemetry:
  enabled: false
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


@dataclass
class DemoReport:
    runs: int = 0
    failed_runs: list[str] = field(default_factory=list)
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    enrollment_mismatches: list[str] = field(default_factory=list)

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
    files = write_tracking_logs(sandbox.university, Path(env["LMS_TRACKING_LOG_DIR"]))
    print(f"Sandbox tracking logs: {len(files)} files in {env['LMS_TRACKING_LOG_DIR']}")
    return env


def register_sandbox_courses(instance: dg.DagsterInstance, api: OpenEdxApiResource) -> list[str]:
    """Register every course the (sandbox) API lists; return the valid keys."""
    keys = [course["course_id"] for course in api.list_courses()]
    _, invalid = partitions.register_courses(instance, partitions.openedx_courses, keys)
    for key, reason in invalid.items():
        print(f"  skipped course {key!r}: {reason}", file=sys.stderr)
    return [k for k in keys if k not in invalid]


def run_demo(sandbox: Sandbox) -> DemoReport:
    # Imported here so definitions see the environment the sandbox just set.
    from lms_assets.definitions import build_resources
    from lms_assets.features.raw_data import raw_data
    from lms_assets.moodle.definitions import ASSETS as MOODLE_ASSETS
    from lms_assets.openedx.definitions import ASSETS as SNAPSHOT_ASSETS
    from lms_assets.tracking.definitions import ASSETS as TRACKING_ASSETS

    OPENEDX_ASSETS = [*SNAPSHOT_ASSETS, raw_data]

    os.environ.update(sandbox.environment())
    prepare_environment()
    tracking_split = next(a for a in TRACKING_ASSETS if a.key.path == ["tracking_log_split"])
    tracking_course_assets = [a for a in TRACKING_ASSETS if a is not tracking_split]
    os.environ.update(prepare_sandbox_sources(sandbox))
    moodle_url = os.environ["LMS_MOODLE_URL"]
    config = settings.reload()  # the environment now points at the sandbox
    resources = build_resources(config)
    report = DemoReport()
    # Resources wired with EnvVar resolve only inside runs; the demo's own reads use values.
    warehouse = WarehouseResource(url=config.resolved_warehouse_url())
    moodle = MoodleDatabaseResource(url=moodle_url)
    api = OpenEdxApiResource(base_url=sandbox.openedx_base_url, session_id=sandbox.session_id)
    today = partitions.today()

    with dg.DagsterInstance.get() as instance:
        courses = register_sandbox_courses(instance, api)
        moodle_courses = moodle.visible_course_ids()
        partitions.register_courses(instance, partitions.moodle_courses, moodle_courses)
        print(
            f"Sandbox {sandbox.base_url}: {len(courses)} Open edX and {len(moodle_courses)} "
            f"Moodle courses; materializing {today}"
        )
        # (what, assets, partition key): each course's snapshots and features, the day's
        # tracking-log split, then each course's tracking tables.
        day_key = today.isoformat()
        work = [
            *(("Open edX " + c, OPENEDX_ASSETS, c) for c in courses),
            *(("Moodle course " + c, MOODLE_ASSETS, c) for c in moodle_courses),
            ("tracking-log split", [tracking_split], day_key),
            *(("tracking " + c, tracking_course_assets, c) for c in courses),
        ]
        for label, assets, key in work:
            started = time.monotonic()
            result = dg.materialize(
                assets,
                instance=instance,
                resources=resources,
                partition_key=key
                if key == day_key
                else partitions.Partition(key, today).partition_key,
                run_config=QUIET_LOGS,
                raise_on_error=False,
            )
            report.runs += 1
            if not result.success:
                report.failed_runs.append(f"{label} (run {result.run_id})")
            for evaluation in result.get_asset_check_evaluations():
                name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
                if evaluation.passed:
                    report.checks_passed += 1
                else:
                    report.checks_failed.append(f"{name} [{label}]")
            status = "ok" if result.success else "FAILED"
            print(f"  {label}: {status} in {time.monotonic() - started:.1f}s")

        # -- seed 002 (LTI attempts): the last 7 days, the Sheets stand-in, the email ------
        from lms_assets.lti.demo import run_lti_demo

        started = time.monotonic()
        lti = run_lti_demo(sandbox, instance, resources)
        for label, result in lti.runs:
            report.runs += 1
            if not result.success:
                report.failed_runs.append(f"{label} (run {result.run_id})")
            for evaluation in result.get_asset_check_evaluations():
                name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
                if evaluation.passed:
                    report.checks_passed += 1
                else:
                    report.checks_failed.append(f"{name} [{label}]")
        print(
            f"  LTI: {len(lti.runs)} runs in {time.monotonic() - started:.1f}s; "
            f"{len(lti.sheet_rows) - 1} sheet rows on the Sheets stand-in, "
            f"{len(lti.emails)} emails to the loopback SMTP server"
        )
        # -- end of seed 002 -------------------------------------------------------------

    with warehouse.engine.connect() as conn:
        metadata = registered_metadata()
        for table in metadata.sorted_tables:
            report.table_rows[table.name] = conn.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
        enrollments = metadata.tables["enrollments"]
        stored = dict(
            conn.execute(
                sa.select(enrollments.c.course_id, sa.func.count())
                .where(enrollments.c.snapshot_date == today)
                .group_by(enrollments.c.course_id)
            ).all()
        )
    for course_id in courses:
        expected = sandbox.university.enrollment_count(course_id)
        if stored.get(course_id, 0) != expected:
            report.enrollment_mismatches.append(
                f"{course_id}: {stored.get(course_id, 0)} stored, sandbox has {expected}"
            )
    return report


def print_report(report: DemoReport, warehouse_url: str) -> None:
    print()
    print(f"Warehouse: {warehouse_url}")
    print(f"{'table':<28}{'rows':>10}")
    for name, rows in report.table_rows.items():
        print(f"{name:<28}{rows:>10}")
    print(f"Runs: {report.runs} ({len(report.failed_runs)} failed)")
    print(f"Checks: {report.checks_passed} passed, {len(report.checks_failed)} failed")
    for line in report.failed_runs:
        print(f"  failed run: {line}")
    for line in report.checks_failed:
        print(f"  failed check: {line}")
    for line in report.enrollment_mismatches:
        print(f"  enrollment mismatch: {line}")
    print("Demo " + ("succeeded." if report.ok else "FAILED."))
