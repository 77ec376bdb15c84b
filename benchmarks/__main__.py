"""Run benchmarks: ``python -m benchmarks [name ...]`` (default: all). See docs/benchmarks.md."""

import os
import sys
import warnings

# The benchmarks partition fixed 2026 days; the default start (the day before the site first
# ran) would leave them outside the daily dimension. Set before lms_assets reads its settings.
os.environ.setdefault("LMS_PARTITIONS_START_DATE", "2025-01-01")

import dagster as dg

from benchmarks import (
    backfill,
    course_report,
    fetch_h5p,
    lti_ingest,
    moodle_activity,
    package_ingest,
    raw_data_build,
    tracking_ingest,
)

BENCHMARKS = {
    "fetch_h5p": fetch_h5p.main,
    "raw_data_build": raw_data_build.main,
    "moodle_activity": moodle_activity.main,
    "backfill": backfill.main,
    "tracking_ingest": tracking_ingest.main,
    "package_ingest": package_ingest.main,
    "lti_ingest": lti_ingest.main,
    "course_report": course_report.main,
}


def main(argv: list[str]) -> int:
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    names = argv or list(BENCHMARKS)
    for name in names:
        print(f"== {name}")
        BENCHMARKS[name]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
