"""``lms-assets``: run the sandbox, the demo, or the Dagster UI against the sandbox;
upgrade the warehouse (``migrate``)."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from lms_assets import operate
from lms_assets.partitions import InvalidCourseKeyError
from lms_assets.preflight import PreflightError, check_warehouse, warehouse_problem
from lms_assets.sandbox import FaultConfig, Sandbox, University
from lms_assets.settings import SettingError


def _add_sandbox_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    group = parser.add_argument_group("sandbox")
    group.add_argument("--host", default="127.0.0.1", help="interface to listen on (loopback)")
    group.add_argument("--port", type=int, default=default_port, help="0 picks a free port")
    group.add_argument("--seed", type=int, default=42, help="picks the synthetic university")
    group.add_argument("--courses", type=int, default=4, help="number of courses")
    group.add_argument("--min-learners", type=int, default=150)
    group.add_argument("--max-learners", type=int, default=400)
    group.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="as-of date of the data (YYYY-MM-DD; default today, UTC)",
    )
    group.add_argument(
        "--session-id",
        default="sandbox-session",
        help="the `sessionid` cookie the MOOC API accepts",
    )
    group.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    group.add_argument("--error-rate", type=float, default=0.0, help="share answered 500")
    group.add_argument(
        "--throttle-rate", type=float, default=0.0, help="share answered 429 with Retry-After"
    )
    group.add_argument(
        "--retry-after", type=float, default=1.0, help="Retry-After seconds sent with 429s"
    )
    group.add_argument(
        "--timeout-rate",
        type=float,
        default=0.0,
        help="share held for --hang-seconds before answering",
    )
    group.add_argument("--hang-seconds", type=float, default=5.0)
    group.add_argument(
        "--malformed-rate",
        type=float,
        default=0.0,
        help="share answered with a truncated JSON body",
    )
    group.add_argument("--max-page-size", type=int, default=1000, help="server cap on `limit`")
    group.add_argument(
        "--enrollment-defects",
        type=int,
        default=0,
        help="bad enrollment records appended per course",
    )
    group.add_argument(
        "--malformed-learners",
        type=int,
        default=0,
        help="the first N learners of each course get broken H5P bodies",
    )
    group.add_argument(
        "--day-first-last-activity",
        action="store_true",
        help='the progress export sends last_activity as "23/11/2026"',
    )
    group.add_argument(
        "--grades-above-100",
        action="store_true",
        help="the grades export adds 101 to every grade_percentage",
    )
    group.add_argument(
        "--oversized-discussions",
        type=int,
        default=0,
        help="the first N learners' threads_count is 3e9, and a record with user_id 1e20",
    )
    group.add_argument(
        "--h5p-times-beyond-int",
        action="store_true",
        help="H5P scores send every content's time as 3e9 seconds",
    )
    group.add_argument(
        "--broken-endpoint",
        action="append",
        default=[],
        help="an endpoint that always answers 500 (repeatable), e.g. "
        "h5p_combined_progress, stats_activity",
    )
    group.add_argument(
        "--echo-cookie-status",
        type=int,
        default=0,
        help="answer every authenticated request with this 4xx, echoing its Cookie header",
    )
    group.add_argument(
        "--count-shortfall",
        type=int,
        default=0,
        help="paged listings report a `count` this many records too low",
    )
    group.add_argument(
        "--repeated-page-offset",
        type=int,
        default=None,
        help="listing requests past this offset get this offset's page again",
    )
    group.add_argument(
        "--self-next-offset",
        type=int,
        default=None,
        help="the listing page at this offset names itself as `next`",
    )
    group.add_argument("--fault-seed", type=int, default=0, help="seeds the fault dice")
    group.add_argument(
        "--moodle-url",
        default=None,
        help="where to write the sandbox Moodle database (SQLAlchemy URL; "
        "default sqlite under LMS_DATA_DIR, e.g. mysql+pymysql://root@127.0.0.1/moodle)",
    )
    group.add_argument("--verbose", action="store_true", help="log every request")


def _sandbox_from(args: argparse.Namespace) -> Sandbox:
    university = University(
        seed=args.seed,
        n_courses=args.courses,
        today=args.today,
        learners_per_course=(args.min_learners, args.max_learners),
    )
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        retry_after_seconds=args.retry_after,
        timeout_rate=args.timeout_rate,
        hang_seconds=args.hang_seconds,
        malformed_rate=args.malformed_rate,
        max_page_size=args.max_page_size,
        enrollment_defects=args.enrollment_defects,
        malformed_learners=args.malformed_learners,
        day_first_last_activity=args.day_first_last_activity,
        grades_above_100=args.grades_above_100,
        oversized_discussions=args.oversized_discussions,
        h5p_times_beyond_int=args.h5p_times_beyond_int,
        broken_endpoints=frozenset(args.broken_endpoint),
        echo_cookie_status=args.echo_cookie_status,
        count_shortfall=args.count_shortfall,
        repeated_page_offset=args.repeated_page_offset,
        self_next_offset=args.self_next_offset,
        seed=args.fault_seed,
    )
    return Sandbox(
        university,
        faults,
        session_id=args.session_id,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
    )


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from lms_assets.demo import prepare_sandbox_sources

    sandbox = _sandbox_from(args).start()
    env = prepare_sandbox_sources(sandbox, args.moodle_url)
    print(f"LMS sandbox serving {len(sandbox.university.courses)} courses on {sandbox.base_url}")
    print("Point the resources at it with:")
    for name, value in env.items():
        print(f"  export {name}={value}")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    sandbox.stop()
    return 0


def _migrate_warehouse(command: str) -> bool:
    """Upgrade the warehouse at LMS_WAREHOUSE_URL (default: the SQLite file) and say what was
    done; on failure print one line and return False."""
    import sqlalchemy as sa

    from lms_assets import settings
    from lms_assets.db import get_engine, normalize_url
    from lms_assets.warehouse import WarehouseError
    from lms_assets.warehouse.migrations import BASELINE, upgrade_warehouse

    url = normalize_url(settings.reload().resolved_warehouse_url())
    try:
        result = upgrade_warehouse(get_engine(url))
    except WarehouseError as exc:
        print(f"lms-assets {command}: {exc}", file=sys.stderr)
        return False
    except sa.exc.DBAPIError as exc:  # unreachable server, unknown database, no permission...
        print(f"lms-assets {command}: {warehouse_problem(url, exc)}", file=sys.stderr)
        return False
    if result.adopted:
        print(f"adopted the warehouse created before migrations (checked, stamped {BASELINE})")
    for revision in result.applied:
        print(f"applied {revision}")
    print(f"warehouse {result.url} at revision {result.revision} (head)")
    return True


def _cmd_migrate(_args: argparse.Namespace) -> int:
    return 0 if _migrate_warehouse("migrate") else 1


def _cmd_demo(args: argparse.Namespace) -> int:
    from lms_assets import demo, settings

    if not _migrate_warehouse("demo"):
        return 1
    with _sandbox_from(args) as sandbox:
        report = demo.run_demo(sandbox)
    warehouse_url = settings.reload().resolved_warehouse_url()
    from lms_assets.db import redacted

    demo.print_report(report, redacted(warehouse_url))
    return 0 if report.ok else 1


def _cmd_ui(args: argparse.Namespace) -> int:
    from lms_assets import demo

    if not _migrate_warehouse("ui"):
        return 1
    home = demo.prepare_environment()
    with _sandbox_from(args) as sandbox:
        sources = demo.prepare_sandbox_sources(sandbox, args.moodle_url)
        env = {**os.environ, **sources, "DAGSTER_HOME": str(home)}
        print(f"Sandbox on {sandbox.base_url}; Dagster UI on http://127.0.0.1:{args.ui_port}")
        workspace = Path(__file__).resolve().parents[1] / "workspace.yaml"
        location = (
            ["-w", str(workspace)] if workspace.exists() else ["-m", "lms_assets.definitions"]
        )
        command = [
            sys.executable,
            "-m",
            "lms_assets.dagster_cli",
            "dev",
            *location,
            "-h",
            "127.0.0.1",
            "-p",
            str(args.ui_port),
        ]
        try:
            return subprocess.call(command, env=env)
        except KeyboardInterrupt:
            return 0


def _cmd_export(args: argparse.Namespace) -> int:

    from lms_assets import settings
    from lms_assets.export import export_page
    from lms_assets.warehouse import WarehouseResource

    url = settings.reload().resolved_warehouse_url()
    check_warehouse(url)
    warehouse = WarehouseResource(url=url)
    try:
        page = export_page(
            warehouse,
            args.table,
            args.date,
            output=Path(args.output) if args.output else None,
            file_format=args.format,
            limit=args.limit,
            offset=args.offset,
            course_id=args.course,
        )
    except ValueError as exc:
        print(f"lms-assets export: {exc}", file=sys.stderr)
        return 2
    print(
        f"{page.rows} rows from offset {page.offset}; has_next={str(page.has_next).lower()}"
        + (f"; next: --offset {page.offset + page.rows}" if page.has_next else ""),
        file=sys.stderr,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lms-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the synthetic LMS APIs until stopped")
    _add_sandbox_options(sandbox, default_port=8765)
    sandbox.set_defaults(handler=_cmd_sandbox)

    demo = commands.add_parser("demo", help="sandbox + materialize the whole graph + summary")
    _add_sandbox_options(demo, default_port=0)
    demo.set_defaults(handler=_cmd_demo)

    ui = commands.add_parser("ui", help="sandbox + `dagster dev` on the demo's instance")
    _add_sandbox_options(ui, default_port=8765)
    ui.add_argument("--ui-port", type=int, default=3000)
    ui.set_defaults(handler=_cmd_ui)

    migrate = commands.add_parser(
        "migrate", help="upgrade the warehouse at LMS_WAREHOUSE_URL to the code's schema"
    )
    migrate.set_defaults(handler=_cmd_migrate)

    export = commands.add_parser(
        "export", help="a page of a warehouse table for one date, as CSV or Parquet"
    )
    export.add_argument("table", help="e.g. user_activity, raw_data, activity_counts")
    export.add_argument(
        "--date",
        type=dt.date.fromisoformat,
        default=None,
        help="snapshot date YYYY-MM-DD (default: today)",
    )
    export.add_argument("--course", default=None, help="only this course id")
    export.add_argument("--format", choices=["csv", "parquet"], default="csv")
    export.add_argument("--limit", type=int, default=1000, help="rows per page (max 100000)")
    export.add_argument("--offset", type=int, default=0)
    export.add_argument("--output", default=None, help="file (default: CSV to stdout)")
    export.set_defaults(handler=_cmd_export)
    operate.add_commands(commands)

    args = parser.parse_args(argv)
    if args.command == "export" and args.date is None:
        from lms_assets.partitions import today

        args.date = today()
    try:
        return args.handler(args)
    except (PreflightError, SettingError, InvalidCourseKeyError) as exc:
        # What, where, why and the fix, in one line: no traceback for a setting.
        print(f"lms-assets {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
