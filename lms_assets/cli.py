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

# Only the sandbox here: the settings (and so the partitions) are read when first imported,
# and main() may first give the demo its start date (see _demo_start_date).
from lms_assets.sandbox.options import add_sandbox_options, sandbox_from
from lms_assets.sandbox.semester import history_start


def _cmd_sandbox(args: argparse.Namespace) -> int:
    from lms_assets.demo import prepare_sandbox_sources

    sandbox = sandbox_from(args).start()
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
    from lms_assets.preflight import warehouse_problem
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
    with sandbox_from(args) as sandbox:
        report = demo.run_demo(sandbox, days=args.days)
    warehouse_url = settings.reload().resolved_warehouse_url()
    from lms_assets.db import redacted

    demo.print_report(report, redacted(warehouse_url))
    return 0 if report.ok else 1


def _cmd_ui(args: argparse.Namespace) -> int:
    from lms_assets import demo

    if not _migrate_warehouse("ui"):
        return 1
    home = demo.prepare_environment()
    with sandbox_from(args) as sandbox:
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
    from lms_assets.preflight import check_warehouse
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


def _demo_start_date(command: str) -> None:
    """Before anything reads the settings: a new demo's daily dimension starts on the first
    day of the sandbox's previous term, so its whole history of logs can be loaded; written where
    every later process (make ui, the CLI) reads it. A chosen LMS_PARTITIONS_START_DATE or
    an existing file wins (the demo then loads the semester from that day on)."""
    if command not in ("demo", "ui") or os.environ.get("LMS_PARTITIONS_START_DATE"):
        return
    data_dir = Path(os.environ.get("LMS_DATA_DIR") or "data").resolve()
    marker = data_dir / "partitions_start_date"
    if not marker.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        start = history_start(dt.datetime.now(dt.UTC).date())
        marker.write_text(start.isoformat() + "\n")


def _add_operating_commands(commands: argparse._SubParsersAction) -> None:
    """check, add-course, remove-course, materialize, report, analyze (lms_assets/operate.py),
    registered
    without importing it: their handlers import it when they run."""

    def lazy(name: str):
        def handler(args: argparse.Namespace) -> int:
            from lms_assets import operate

            return getattr(operate, name)(args)

        return handler

    add = commands.add_parser("add-course", help="register course keys (validated) of a source")
    add.add_argument("source", help="openedx, moodle, lti or research_package")
    add.add_argument("keys", nargs="+", help="course keys, e.g. course-v1:Org+CS101+2026_T1")
    add.set_defaults(handler=lazy("cmd_add_course"))

    remove = commands.add_parser("remove-course", help="unregister course keys of a source")
    remove.add_argument("source", help="openedx, moodle, lti or research_package")
    remove.add_argument("keys", nargs="+")
    remove.set_defaults(handler=lazy("cmd_remove_course"))

    run = commands.add_parser(
        "materialize", help="run a daily job for registered courses and a day or date range"
    )
    run.add_argument("job", help="openedx_daily, moodle_daily, tracking_split, ...")
    run.add_argument("--select", default=None, help="only these assets of the job, a,b")
    run.add_argument("--course", action="append", default=[], help="only this course (repeat)")
    run.add_argument("--date", type=dt.date.fromisoformat, default=None, help="default today")
    run.add_argument("--to", type=dt.date.fromisoformat, default=None, help="last day of a range")
    run.set_defaults(handler=lazy("cmd_materialize"))

    check = commands.add_parser("check", help="test the warehouse and say which sources are set")
    check.set_defaults(handler=lazy("cmd_check"))

    report = commands.add_parser("report", help="write a course's report of a day; print its path")
    report.add_argument("course", help="course key, e.g. course-v1:Org+CS101+2026_T1")
    report.add_argument("--date", type=dt.date.fromisoformat, default=None, help="default today")
    report.add_argument("--open", action="store_true", help="open it in the browser")
    report.set_defaults(handler=lazy("cmd_report"))

    analyze = commands.add_parser("analyze", help="run a default analytic task on a course")
    analyze.add_argument("course", nargs="?", help="course key")
    analyze.add_argument("task", nargs="?", help="task name (--list names them)")
    analyze.add_argument("--list", action="store_true", help="name the tasks, one line each")
    analyze.add_argument("--date", type=dt.date.fromisoformat, default=None, help="default today")
    analyze.add_argument("--format", choices=["csv", "parquet", "md"], default="csv")
    analyze.add_argument("--output", default=None, help="file (default: CSV or md to stdout)")
    analyze.set_defaults(handler=lazy("cmd_analyze"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lms-assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    sandbox = commands.add_parser("sandbox", help="serve the synthetic LMS APIs until stopped")
    add_sandbox_options(sandbox, default_port=8765)
    sandbox.set_defaults(handler=_cmd_sandbox)

    demo = commands.add_parser("demo", help="sandbox + materialize the whole graph + summary")
    add_sandbox_options(demo, default_port=0)
    demo.add_argument(
        "--days",
        type=int,
        default=None,
        help="backfill only the last N days of logs (default: the sandbox's whole history); "
        "a quick re-run of a demo already made",
    )
    demo.set_defaults(handler=_cmd_demo)

    ui = commands.add_parser("ui", help="sandbox + `dagster dev` on the demo's instance")
    add_sandbox_options(ui, default_port=8765)
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
    _add_operating_commands(commands)

    args = parser.parse_args(argv)
    _demo_start_date(args.command)
    from lms_assets.partitions import InvalidCourseKeyError
    from lms_assets.preflight import PreflightError
    from lms_assets.settings import SettingError

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
