"""Noticing new or changed research packages, registering their courses, loading them.

Packages are known by a signature (size and modification time of the archive, or of
every file of a folder) kept in the cursor. For a new or changed package the sensor
reads which courses it holds, registers them (valid keys only, through
``dynamic_partitions_requests``) and requests the load of each (course, export date).
"""

from __future__ import annotations

import json

import dagster as dg

from lms_assets import partitions
from lms_assets.errors import SourceError
from lms_assets.research_packages.assets import research_package_courses
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.research_packages.schema import PACKAGE_TABLES

JOB = "research_packages"

research_packages_job = dg.define_asset_job(
    JOB,
    selection=dg.AssetSelection.assets(*PACKAGE_TABLES, "person_course"),
    description="Load a course's edX research data package (one export), then person_course.",
)


@dg.sensor(
    name="research_package_files",
    job=research_packages_job,
    minimum_interval_seconds=300,
    description="Notices new or changed research packages in LMS_RESEARCH_PACKAGES_DIR, "
    "registers their courses and loads each (course, export date).",
)
def research_package_files(
    context: dg.SensorEvaluationContext, research_packages: ResearchPackageFolderResource
) -> dg.SensorResult | dg.SkipReason:
    """A run per (course, export date) of every new or changed package."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current: dict[str, str] = {}
    wanted: dict[str, tuple[str, str]] = {}  # partition key -> (course, day) for run requests
    first = partitions.to_date(partitions.daily_partitions.start)
    last = partitions.today()
    try:
        found = research_packages.packages()
    except SourceError as exc:  # no folder (yet): nothing to load, and nothing lost
        return dg.SkipReason(str(exc))
    for path, day in found:
        signature = research_packages.signature(path)
        current[str(path)] = signature
        if seen.get(str(path)) == signature:
            continue
        if day is None or not first <= day <= last:
            context.log.warning(
                f"{path.name}: export date {day} is not a day of the partitions "
                f"({first} to {last}); not loaded"
            )
            continue
        _, courses = research_packages.courses_of(path, day)
        valid, invalid = partitions.split_valid_course_keys(sorted(courses))
        for key, reason in invalid.items():
            context.log.warning(f"{path.name}: course {key!r} not registered: {reason}")
        if not courses:
            context.log.warning(f"{path.name}: no course found in the package")
        for course in valid:
            wanted[f"{course}|{day}"] = (course, f"{day}:{signature}")
    if not wanted:
        return dg.SkipReason(f"no new or changed packages among {len(current)}")
    registered = set(context.instance.get_dynamic_partitions(research_package_courses.name))
    new_courses = sorted({course for course, _ in wanted.values()} - registered)
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"package:{course}:{version}",
                partition_key=dg.MultiPartitionKey(
                    {partitions.COURSE_DIMENSION: course, partitions.DATE_DIMENSION: version[:10]}
                ),
            )
            for course, version in wanted.values()
        ],
        dynamic_partitions_requests=[research_package_courses.build_add_request(new_courses)]
        if new_courses
        else [],
        cursor=json.dumps(current, sort_keys=True),
    )
