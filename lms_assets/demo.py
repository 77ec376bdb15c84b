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

from lms_assets import partitions
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.sandbox import Sandbox
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import metadata

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
        config.write_text("telemetry:\n  enabled: false\n")
    return home


def register_sandbox_courses(instance: dg.DagsterInstance, api: OpenEdxApiResource) -> list[str]:
    """Register every course the (sandbox) API lists; return the valid keys."""
    keys = [course["course_id"] for course in api.list_courses()]
    _, invalid = partitions.register_courses(instance, partitions.openedx_courses, keys)
    for key, reason in invalid.items():
        print(f"  skipped course {key!r}: {reason}", file=sys.stderr)
    return [k for k in keys if k not in invalid]


def run_demo(sandbox: Sandbox) -> DemoReport:
    # Imported here so definitions see the environment the sandbox just set.
    from lms_assets.definitions import all_assets
    from lms_assets.resources import build_resources

    os.environ.update(sandbox.environment())
    # The sandbox is ours and on loopback: no need for the production politeness limits.
    for name in ("LMS_OPENEDX_REQUESTS_PER_SECOND", "LMS_H5P_REQUESTS_PER_SECOND"):
        os.environ.setdefault(name, "500")
    os.environ.setdefault("LMS_H5P_MAX_CONCURRENCY", "16")
    prepare_environment()
    resources = build_resources()
    report = DemoReport()
    warehouse: WarehouseResource = resources["warehouse"]
    api = OpenEdxApiResource(base_url=sandbox.openedx_base_url, session_id=sandbox.session_id)
    today = partitions.today()

    with dg.DagsterInstance.get() as instance:
        courses = register_sandbox_courses(instance, api)
        print(f"Sandbox {sandbox.base_url}: {len(courses)} courses; materializing {today}")
        for course_id in courses:
            started = time.monotonic()
            result = dg.materialize(
                all_assets,
                instance=instance,
                resources=resources,
                partition_key=partitions.CourseDay(course_id, today).partition_key,
                run_config=QUIET_LOGS,
                raise_on_error=False,
            )
            report.runs += 1
            if not result.success:
                report.failed_runs.append(f"{course_id} (run {result.run_id})")
            for evaluation in result.get_asset_check_evaluations():
                name = f"{evaluation.asset_key.to_user_string()}.{evaluation.check_name}"
                if evaluation.passed:
                    report.checks_passed += 1
                else:
                    report.checks_failed.append(f"{name} [{course_id}]")
            status = "ok" if result.success else "FAILED"
            print(f"  {course_id}: {status} in {time.monotonic() - started:.1f}s")

    with warehouse.engine.connect() as conn:
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
