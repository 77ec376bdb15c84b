"""Running every day without anyone watching: batched run requests and course discovery.

A day's work for N courses is a handful of runs, not N: known course keys are
cut into contiguous chunks of the dynamic partition set, and each chunk becomes
ONE run over a partition range (the same tags a single-run backfill uses).
Every asset has ``BackfillPolicy.single_run()`` and loops over its partitions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os

import dagster as dg

from lms_assets.partitions import split_valid_course_keys

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
SOURCE_TAG = "lms/source"  # dagster.yaml limits concurrent runs per source with it
COURSES_PER_RUN = int(os.environ.get("LMS_COURSES_PER_RUN", "100"))


def batched_run_requests(
    job_name: str,
    course_keys: list[str],
    day: dt.date,
    *,
    run_key_prefix: str,
    courses_per_run: int = COURSES_PER_RUN,
    asset_selection: list[dg.AssetKey] | None = None,
) -> list[dg.RunRequest]:
    """One RunRequest per ``courses_per_run`` courses, each over (course range) × ``day``.

    ``course_keys`` must be in the order of the dynamic partition set, so that a
    chunk's first..last range holds exactly the chunk.
    """
    requests = []
    for start in range(0, len(course_keys), courses_per_run):
        chunk = course_keys[start : start + courses_per_run]
        requests.append(
            dg.RunRequest(
                run_key=f"{run_key_prefix}:{day.isoformat()}:{chunk[0]}..{chunk[-1]}",
                job_name=job_name,
                asset_selection=asset_selection,
                tags={
                    RANGE_START_TAG: f"{chunk[0]}|{day.isoformat()}",
                    RANGE_END_TAG: f"{chunk[-1]}|{day.isoformat()}",
                    SOURCE_TAG: job_name.split("_")[0],
                },
            )
        )
    return requests


def courses_in_request(request: dg.RunRequest, known: list[str]) -> list[str]:
    """The course keys a batched request covers (for tests and logs)."""
    first = request.tags[RANGE_START_TAG].split("|")[0]
    last = request.tags[RANGE_END_TAG].split("|")[0]
    return known[known.index(first) : known.index(last) + 1]


def discover_courses(
    context: dg.SensorEvaluationContext,
    partitions_def: dg.DynamicPartitionsDefinition,
    listed: list[str],
    *,
    job_name: str,
    day: dt.date,
    source: str,
) -> dg.SensorResult | dg.SkipReason:
    """Add the source's new, valid course keys and request today's runs for them.

    Invalid keys are logged and skipped; courses that vanished from the source are
    reported but kept (their history stays addressable). The cursor is a digest of
    the listing, so an unchanged source costs one comparison.
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
    context.log.info(f"{source}: adding {len(new)} course(s): {', '.join(new[:20])}")
    return dg.SensorResult(
        dynamic_partitions_requests=[partitions_def.build_add_request(new)],
        run_requests=batched_run_requests(
            job_name, new, day, run_key_prefix=f"{partitions_def.name}-new"
        ),
        cursor=digest,
    )
