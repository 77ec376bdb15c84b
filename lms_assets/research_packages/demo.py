"""The demo's research-package step: write the sandbox's packages, then load each one.

Kept in this package so that ``lms_assets/demo.py`` only calls two functions; the
requests run through the demo's own executor, like every other source's. Courses
are registered the way the sensor registers them, and each (course, export date) is
loaded by the source's named job, ``research_packages``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from lms_assets import partitions
from lms_assets.automation import SOURCE_TAG
from lms_assets.partitions import Partition
from lms_assets.research_packages.assets import research_package_courses
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.research_packages.sensors import JOB
from lms_assets.sandbox import University
from lms_assets.sandbox.research_packages import write_research_packages


def prepare(university: University, data_dir: Path) -> dict[str, str]:
    """Write one package per sandbox course; the environment pointing the source at them."""
    folder = Path(os.environ.get("LMS_RESEARCH_PACKAGES_DIR", str(data_dir / "research_packages")))
    written = write_research_packages(university, folder)
    print(f"Sandbox research packages: {len(written)} in {folder}")
    return {"LMS_RESEARCH_PACKAGES_DIR": str(folder)}


def requests(instance: dg.DagsterInstance, folder: str) -> list[dg.RunRequest]:
    """Register every package's courses (as the sensor does) and one request of the named
    job per (course, export date)."""
    source = ResearchPackageFolderResource(path=folder)
    wanted = []
    for path, day in source.packages():
        if day is None:
            continue
        _, courses = source.courses_of(path, day)
        wanted += [Partition(course, day) for course in courses]
    partitions.register_courses(
        instance, research_package_courses, sorted({p.course_id for p in wanted})
    )
    return [
        dg.RunRequest(job_name=JOB, partition_key=p.partition_key, tags={SOURCE_TAG: "research"})
        for p in sorted(wanted)
    ]
