"""``lms-assets check | add-course | materialize``: operating the product from a terminal.

Each command validates what it is given before Dagster sees it (course keys, dates,
settings, the warehouse) and reports a problem in one line with the fix; the work itself
runs through the same named jobs, tags and partition ranges the schedules use, so the
UI shows these runs like scheduled ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.automation import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    SOURCE_TAG,
    attach_to_code_location,
    source_of_job,
)
from lms_assets.preflight import (
    REQUIRED_BY_RESOURCE,
    PreflightError,
    check_sources,
    check_warehouse,
    require_settings,
)

CLI_TAGS = {"lms/launched_by": "cli"}
# Our own progress lines (INFO), not Dagster's per-event DEBUG log; the UI keeps everything.
PROGRESS_LOGS = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


def course_sets() -> dict[str, dg.DynamicPartitionsDefinition]:
    """{source name: its dynamic set of course keys}, e.g. openedx, moodle."""
    from lms_assets.definitions import defs

    found: dict[str, dg.DynamicPartitionsDefinition] = {}
    for asset in defs.resolve_asset_graph().asset_nodes:
        if isinstance(asset.partitions_def, dg.MultiPartitionsDefinition):
            for dimension in asset.partitions_def.partitions_defs:
                if isinstance(dimension.partitions_def, dg.DynamicPartitionsDefinition):
                    name = dimension.partitions_def.name or ""
                    found[name.removesuffix("_courses")] = dimension.partitions_def
    return found


def _instance() -> dg.DagsterInstance:
    from lms_assets.demo import prepare_environment

    prepare_environment()  # DAGSTER_HOME defaults to ./.dagster_home, as for make demo / make ui
    return dg.DagsterInstance.get()


def cmd_add_course(args: argparse.Namespace) -> int:
    sets = course_sets()
    if args.source not in sets:
        raise PreflightError(
            f"unknown source {args.source!r}: course keys belong to one of {', '.join(sets)}"
        )
    valid, invalid = partitions.split_valid_course_keys(args.keys)
    for reason in invalid.values():
        print(f"lms-assets add-course: {reason}", file=sys.stderr)
    if invalid:
        print("lms-assets add-course: nothing added; correct the keys above", file=sys.stderr)
        return 2
    with _instance() as instance:
        added, _ = partitions.register_courses(instance, sets[args.source], valid)
    for key in valid:
        print(f"{key}: {'added' if key in added else 'already registered'} ({args.source})")
    return 0


def cmd_remove_course(args: argparse.Namespace) -> int:
    """Remove registered keys (e.g. a bad one added through the UI); stored rows stay."""
    sets = course_sets()
    if args.source not in sets:
        raise PreflightError(
            f"unknown source {args.source!r}: course keys belong to one of {', '.join(sets)}"
        )
    name = sets[args.source].name
    assert name is not None
    with _instance() as instance:
        registered = set(instance.get_dynamic_partitions(name))
        for key in args.keys:
            if key in registered:
                instance.delete_dynamic_partition(name, key)
                print(f"{key}: removed from {name} (its stored rows stay in the warehouse)")
            else:
                print(f"{key}: not registered in {name}")
    return 0


def _dates(args: argparse.Namespace) -> tuple[dt.date, dt.date]:
    first = args.date or partitions.today()
    last = args.to or first
    start = partitions.to_date(partitions.daily_partitions.start)
    if last < first:
        raise PreflightError(f"--to {last} is before --date {first}")
    if first < start:
        raise PreflightError(
            f"{first} is before the first day of the partitions ({start}); set "
            f"LMS_PARTITIONS_START_DATE={first} (or earlier) to load it"
        )
    if last > partitions.today():
        raise PreflightError(f"{last} is after today ({partitions.today()})")
    return first, last


def _course_dimension(job: dg.JobDefinition) -> dg.DynamicPartitionsDefinition | None:
    if isinstance(job.partitions_def, dg.DynamicPartitionsDefinition):  # per course run only
        return job.partitions_def
    if isinstance(job.partitions_def, dg.MultiPartitionsDefinition):
        for dimension in job.partitions_def.partitions_defs:
            if isinstance(dimension.partitions_def, dg.DynamicPartitionsDefinition):
                return dimension.partitions_def
    return None


def _courses(
    instance: dg.DagsterInstance, course_set: dg.DynamicPartitionsDefinition, given: list[str]
) -> list[str]:
    """The courses to run, in registration order (a contiguous range per run)."""
    assert course_set.name is not None
    registered = list(instance.get_dynamic_partitions(course_set.name))
    for key in given:
        partitions.validate_course_key(key)
        if key not in registered:
            source = course_set.name.removesuffix("_courses")
            raise PreflightError(
                f"course {key!r} is not registered in {course_set.name}; add it with "
                f"lms-assets add-course {source} '{key}'"
            )
    valid, invalid = partitions.split_valid_course_keys(registered)
    for key, reason in invalid.items():
        print(f"lms-assets: skipping registered course {key!r}: {reason}", file=sys.stderr)
    chosen = [key for key in valid if not given or key in given]
    if not chosen:
        raise PreflightError(
            f"no course registered in {course_set.name}; add one with lms-assets add-course"
        )
    return chosen


def run_requests(
    job: dg.JobDefinition, courses: list[str] | None, first: dt.date, last: dt.date
) -> list[dg.RunRequest]:
    """Few runs: one per LMS_COURSES_PER_RUN courses over the whole date range (a job
    partitioned by course only, dropout_examples, takes no dates; an unpartitioned one,
    dropout_training, is one run)."""
    tags = {SOURCE_TAG: source_of_job(job.name), **CLI_TAGS}
    if job.partitions_def is None:
        return [dg.RunRequest(job_name=job.name, tags=tags)]
    per_course = isinstance(job.partitions_def, dg.DynamicPartitionsDefinition)
    if courses is None:  # a date-only job (the tracking-log split)
        return [
            dg.RunRequest(
                job_name=job.name,
                tags={**tags, RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
            )
        ]
    size = settings.current.courses_per_run
    return [
        dg.RunRequest(
            job_name=job.name,
            tags={
                **tags,
                RANGE_START_TAG: chunk[0] if per_course else f"{chunk[0]}|{first.isoformat()}",
                RANGE_END_TAG: chunk[-1] if per_course else f"{chunk[-1]}|{last.isoformat()}",
            },
        )
        for chunk in (courses[i : i + size] for i in range(0, len(courses), size))
    ]


def _selection(job: dg.JobDefinition, names: str | None) -> list[dg.AssetKey] | None:
    """``--select a,b``: only these assets of the job (e.g. the log tables of a backfill)."""
    if not names:
        return None
    in_job = {key.to_user_string(): key for key in job.asset_layer.executable_asset_keys}
    unknown = [name for name in names.split(",") if name.strip() not in in_job]
    if unknown:
        raise PreflightError(
            f"job {job.name} has no asset {', '.join(unknown)}; it has {', '.join(sorted(in_job))}"
        )
    return [in_job[name.strip()] for name in names.split(",")]


def _first_failure(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            message = error.message if error else "unknown error"
            return " ".join(message.split())[:400]
    return "see the run's log in the UI"


def cmd_materialize(args: argparse.Namespace) -> int:
    from lms_assets.definitions import defs

    jobs = sorted(job.name for job in defs.jobs or [] if not job.name.startswith("__"))
    if args.job not in jobs:
        raise PreflightError(f"unknown job {args.job!r}; the jobs are {', '.join(jobs)}")
    job = defs.resolve_job_def(args.job)
    require_settings(sorted(job.required_resource_keys), purpose=f"job {args.job}")
    check_warehouse(settings.current.resolved_warehouse_url())
    check_sources(sorted(job.required_resource_keys))
    first, last = _dates(args)
    selection = _selection(job, args.select)
    with _instance() as instance:
        course_set = _course_dimension(job)
        courses = _courses(instance, course_set, args.course) if course_set else None
        requests = run_requests(job, courses, first, last)
        if job.partitions_def is None or isinstance(
            job.partitions_def, dg.DynamicPartitionsDefinition
        ):
            what = f"{len(courses)} course run(s)" if courses else "unpartitioned"
        else:
            what = (f"{len(courses)} course(s) x " if courses else "") + f"{first}..{last}"
        print(f"{args.job}: {what} in {len(requests)} run(s)")
        failed = 0
        for request in requests:
            started = time.monotonic()
            result = job.execute_in_process(
                instance=instance,
                tags=request.tags,
                asset_selection=selection,
                run_config=PROGRESS_LOGS,
                raise_on_error=False,
            )
            attach_to_code_location(instance, result.run_id)
            seconds = time.monotonic() - started
            if result.success:
                print(f"  run {result.run_id}: ok in {seconds:.1f}s")
            else:
                failed += 1
                print(f"  run {result.run_id}: FAILED: {_first_failure(result)}", file=sys.stderr)
    return 1 if failed else 0


def cmd_check(_args: argparse.Namespace) -> int:
    """The warehouse, then each source whose settings are present."""
    check_warehouse(settings.current.resolved_warehouse_url())
    print("warehouse: ok")
    failed = 0
    for key, required in REQUIRED_BY_RESOURCE.items():
        missing = [s.env for s in required if not os.environ.get(s.env, "").strip()]
        if missing:
            print(f"{key}: not configured ({', '.join(missing)} unset): its assets cannot run")
            continue
        try:
            check_sources([key])
        except PreflightError as exc:
            failed += 1
            print(f"{key}: {exc}", file=sys.stderr)
        else:
            print(f"{key}: ok")
    return 1 if failed else 0


def _report_warehouse():
    from lms_assets.warehouse import WarehouseResource

    url = settings.current.resolved_warehouse_url()
    check_warehouse(url)
    return WarehouseResource(url=url)


def _has_data(warehouse, course: str, day: dt.date) -> bool:
    from lms_assets.reports.tasks import latest_snapshot

    return any(
        latest_snapshot(warehouse, table, course, day) is not None
        for table in ("enrollments", "learner_daily_activity", "raw_data")
    )


def cmd_report(args: argparse.Namespace) -> int:
    """Write the course's report for the day from the warehouse; print its path or open it."""
    import webbrowser

    from lms_assets.reports.html import write_report

    partitions.validate_course_key(args.course)
    day = args.date or partitions.today()
    warehouse = _report_warehouse()
    if not _has_data(warehouse, args.course, day):
        raise PreflightError(
            f"no enrollments, activity or raw_data stored for {args.course} up to {day}: "
            "materialize the course first (lms-assets materialize openedx_daily --course ...)"
        )
    path = write_report(warehouse, settings.current.reports_path, args.course, day).path
    print(path)
    if args.open:
        webbrowser.open(path.as_uri())
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """``analyze --list`` names the tasks; ``analyze COURSE TASK`` writes one's result."""
    from lms_assets.reports.tasks import TASKS, run_task

    if args.list:
        width = max(map(len, TASKS))
        for task in TASKS.values():
            print(f"{task.name:<{width}}  {task.description}")
        return 0
    if not args.course or not args.task:
        raise PreflightError("give COURSE and TASK (lms-assets analyze --list names the tasks)")
    if args.task not in TASKS:
        raise PreflightError(f"unknown task {args.task!r}; the tasks are {', '.join(TASKS)}")
    if args.format == "parquet" and not args.output:
        raise PreflightError("Parquet is binary: give --output FILE")
    partitions.validate_course_key(args.course)
    frame = run_task(_report_warehouse(), args.course, args.task, args.date or partitions.today())
    if args.format == "parquet":
        frame.to_parquet(args.output, index=False)
    else:
        text = frame.to_csv(index=False) if args.format == "csv" else frame.to_markdown(index=False)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as out:
                out.write(text.rstrip("\n") + "\n")
        else:
            print(text.rstrip("\n"))
    print(f"{args.task}: {len(frame)} rows", file=sys.stderr)
    return 0
