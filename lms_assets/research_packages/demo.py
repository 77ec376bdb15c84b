"""The demo's research-package step: write the sandbox's packages, then load each one.

Kept in this package so that ``lms_assets/demo.py`` only calls two functions. Courses
are registered the way the sensor registers them, and each (course, export date) is
loaded by the source's named job, ``research_packages``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg

from lms_assets import partitions
from lms_assets.partitions import Partition
from lms_assets.research_packages.assets import research_package_courses
from lms_assets.research_packages.definitions import ASSETS
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.research_packages.sensors import JOB, research_packages_job
from lms_assets.sandbox import University
from lms_assets.sandbox.research_packages import write_research_packages


def prepare(university: University, data_dir: Path) -> dict[str, str]:
    """Write one package per sandbox course; the environment pointing the source at them."""
    folder = Path(os.environ.get("LMS_RESEARCH_PACKAGES_DIR", str(data_dir / "research_packages")))
    written = write_research_packages(university, folder)
    print(f"Sandbox research packages: {len(written)} in {folder}")
    return {"LMS_RESEARCH_PACKAGES_DIR": str(folder)}


def run(
    instance: dg.DagsterInstance,
    resources: dict[str, Any],
    folder: str,
    record: Callable[[str, dg.ExecuteInProcessResult], None],
    run_config: dict[str, Any] | None = None,
) -> list[Partition]:
    """Register every package's courses and run the job once per (course, export date)."""
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
    job = dg.Definitions(
        assets=ASSETS, jobs=[research_packages_job], resources=resources
    ).resolve_job_def(JOB)
    for partition in sorted(wanted):
        started = time.monotonic()
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition.partition_key,
            run_config=run_config or {},
            raise_on_error=False,
        )
        record(f"research package {partition}", result)
        status = "ok" if result.success else "FAILED"
        print(f"  research package {partition}: {status} in {time.monotonic() - started:.1f}s")
    return wanted
