"""Running every day without anyone watching: course discovery and batched daily runs.

Every source with a dynamic set of course keys gets its automation from these two
factories: a discovery sensor that only REGISTERS new course keys (the next
scheduled run picks them up; a sensor that also requested runs would double the
work, the lesson of mitodl/ol-data-platform), and a daily schedule whose work for
N courses is a handful of runs, not N: known course keys are cut into contiguous
chunks of the dynamic partition set, and each chunk becomes ONE run over a
partition range (the same tags a single-run backfill uses). Every asset has
``BackfillPolicy.single_run()`` and loops over its partitions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence

import dagster as dg

from lms_assets import settings
from lms_assets.partitions import split_valid_course_keys

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
SOURCE_TAG = "lms/source"  # dagster.yaml limits concurrent runs per source with it
LOCATION_NAME = "lms_assets"  # the code location's name in workspace.yaml
REPOSITORY_NAME = "__repository__"  # what Dagster names the repository of a Definitions


def attach_to_code_location(instance: dg.DagsterInstance, run_id: str) -> None:
    """Give a run executed in this process (the demo, ``lms-assets materialize``) the origin
    of this code location, as ``dagster run migrate-repository`` does for old runs: the UI's
    Overview timeline and Jobs page list a location's runs by it, and would otherwise show
    the jobs as never run."""
    from dagster._core.remote_origin import (
        ManagedGrpcPythonEnvCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

    run = instance.get_run_by_id(run_id)
    assert run is not None
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(module_name="lms_assets.definitions"), location_name=LOCATION_NAME
    )
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), run.job_name)
    instance.run_storage.replace_job_origin(run, origin)


def source_of_job(job_name: str) -> str:
    """The ``lms/source`` tag of a job's runs: openedx_daily -> openedx, raw_data_daily ->
    raw_data, tracking_courses -> tracking."""
    if job_name.endswith("_daily"):
        return job_name.removesuffix("_daily")
    return job_name.split("_")[0]


def batched_run_requests(
    job_name: str,
    course_keys: list[str],
    day: dt.date,
    *,
    run_key_prefix: str,
    courses_per_run: int | None = None,
    asset_selection: list[dg.AssetKey] | None = None,
    last: dt.date | None = None,
) -> list[dg.RunRequest]:
    """One RunRequest per ``courses_per_run`` courses, each over (course range) × ``day``
    (× ``day``..``last`` when given: a single-run backfill of the days).

    ``course_keys`` must be in the order of the dynamic partition set, so that a
    chunk's first..last range holds exactly the chunk.
    """
    size = courses_per_run or settings.current.courses_per_run
    last = last or day
    days = day.isoformat() if last == day else f"{day.isoformat()}..{last.isoformat()}"
    requests = []
    for segment in valid_segments(course_keys):
        for start in range(0, len(segment), size):
            chunk = segment[start : start + size]
            requests.append(
                dg.RunRequest(
                    run_key=f"{run_key_prefix}:{days}:{chunk[0]}..{chunk[-1]}",
                    job_name=job_name,
                    asset_selection=asset_selection,
                    tags={
                        RANGE_START_TAG: f"{chunk[0]}|{day.isoformat()}",
                        RANGE_END_TAG: f"{chunk[-1]}|{last.isoformat()}",
                        SOURCE_TAG: source_of_job(job_name),
                    },
                )
            )
    return requests


def valid_segments(course_keys: Sequence[str]) -> list[list[str]]:
    """Runs of consecutive valid keys: a range never spans a key Dagster cannot carry (one
    registered before validation existed, or through the UI's "Add partition")."""
    segments: list[list[str]] = [[]]
    for key in course_keys:
        if split_valid_course_keys([key])[0]:
            segments[-1].append(key)
        elif segments[-1]:
            segments.append([])
    return [segment for segment in segments if segment]


def report_invalid_registered(
    context: dg.SensorEvaluationContext | dg.ScheduleEvaluationContext, known: list[str]
) -> None:
    """Log every registered course key that cannot be run, with how to remove it."""
    for key, reason in split_valid_course_keys(known)[1].items():
        context.log.error(
            f"registered course {key!r} is skipped: {reason} Remove it with "
            f"lms-assets remove-course SOURCE '{key}' and add the right key."
        )


PARTITION_TAG = "dagster/partition"


def partition_range(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """(first, last) partition key of a run or request from its tags; None if unpartitioned.

    A single-partition run is the range (key, key); a batched run or single-run backfill
    carries the range tags.
    """
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG], tags[PARTITION_TAG]
    if RANGE_START_TAG in tags:
        return tags[RANGE_START_TAG], tags[RANGE_END_TAG]
    return None


def courses_in_request(request: dg.RunRequest, known: list[str]) -> list[str]:
    """The course keys a batched request covers (for tests and logs)."""
    first, last = (key.split("|")[0] for key in partition_range(request.tags) or ("", ""))
    return known[known.index(first) : known.index(last) + 1]


def discover_courses(
    context: dg.SensorEvaluationContext,
    partitions_def: dg.DynamicPartitionsDefinition,
    listed: list[str],
    *,
    source: str,
) -> dg.SensorResult | dg.SkipReason:
    """Register the source's new, valid course keys as partitions; request no runs.

    Invalid keys are logged and skipped; courses that vanished from the source are
    reported but kept (their history stays addressable).
    """
    assert partitions_def.name is not None
    valid, invalid = split_valid_course_keys(listed)
    for key, reason in invalid.items():
        context.log.warning(f"{source}: skipped course {key!r}: {reason}")
    digest = hashlib.sha256(json.dumps(sorted(listed)).encode()).hexdigest()[:16]
    known = list(context.instance.get_dynamic_partitions(partitions_def.name))
    new = [key for key in dict.fromkeys(valid) if key not in set(known)]
    vanished = sorted(set(known) - set(valid))
    if vanished:
        context.log.warning(
            f"{source}: {len(vanished)} registered course(s) no longer listed, kept: "
            + ", ".join(vanished[:20])
        )
    if not new:
        return dg.SkipReason(
            f"{source}: no new courses ({len(known)} known, {len(vanished)} no longer listed, "
            f"{len(invalid)} invalid)"
        )
    context.log.info(
        f"{source}: adding {len(new)} course(s): {', '.join(new[:20])}; the next scheduled "
        "run loads them"
    )
    return dg.SensorResult(
        dynamic_partitions_requests=[partitions_def.build_add_request(new)], cursor=digest
    )


def course_discovery_sensor(
    name: str,
    partitions_def: dg.DynamicPartitionsDefinition,
    *,
    source: str,
    resource_key: str,
    list_course_keys: Callable[[object], list[str]],
    description: str,
) -> dg.SensorDefinition:
    """A sensor that asks ``resource_key`` for its course keys and registers the new ones."""

    @dg.sensor(
        name=name,
        minimum_interval_seconds=3600,
        required_resource_keys={resource_key},
        description=description,
    )
    def discovery(
        context: dg.SensorEvaluationContext, **resources: object
    ) -> dg.SensorResult | dg.SkipReason:
        listed = list_course_keys(resources[resource_key])
        return discover_courses(context, partitions_def, listed, source=source)

    return discovery


def daily_course_schedule(
    name: str,
    job: dg.UnresolvedAssetJobDefinition,
    partitions_def: dg.DynamicPartitionsDefinition,
    *,
    cron: str,
    runs_for_day: Callable[[str, list[str], dt.date], Sequence[dg.RunRequest]] | None = None,
    description: str,
) -> dg.ScheduleDefinition:
    """Every known course of ``partitions_def``, batched; by default today's partitions.

    ``runs_for_day(job_name, courses, scheduled_day)`` replaces the default when a source
    needs more than today's snapshot (Moodle: yesterday's logs too).
    """
    assert partitions_def.name is not None
    name_of_set = partitions_def.name

    def default_runs(job_name: str, courses: list[str], day: dt.date) -> list[dg.RunRequest]:
        return batched_run_requests(job_name, courses, day, run_key_prefix=name)

    plan = runs_for_day or default_runs

    @dg.schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=settings.current.timezone,
        description=description,
    )
    def schedule(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
        day = context.scheduled_execution_time.date()
        known = list(context.instance.get_dynamic_partitions(name_of_set))
        report_invalid_registered(context, known)
        return list(plan(job.name, known, day))

    return schedule


__all__ = [
    "RANGE_END_TAG",
    "RANGE_START_TAG",
    "batched_run_requests",
    "course_discovery_sensor",
    "courses_in_request",
    "daily_course_schedule",
    "discover_courses",
]
