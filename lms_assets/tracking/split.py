"""``tracking_log_split``: read each day's files once, split the events by course.

Besides each course's staging, a day's split keeps its site-level events (``site.py``),
records which of its files hold events of other days (``tracking_file_days``, so those days'
splits read them too), and registers the courses it found as ``openedx_courses``
partitions: a site with logs and no Open edX API gets its courses from here.
"""

import datetime as dt
import shutil
from collections import Counter
from pathlib import Path

import dagster as dg
from pydantic import Field

from lms_assets import partitions, quality, settings
from lms_assets.loading import LoadReport, merge_reports, write_scope
from lms_assets.metadata import markdown_table
from lms_assets.partitions import Scope, daily_partitions, day_window, scope_of
from lms_assets.tables import partition_metadata
from lms_assets.tracking.parsing import SITE
from lms_assets.tracking.resources import TrackingLogFolderResource, date_in_name
from lms_assets.tracking.site import SITE_RULES, indexed_files, indexed_pairs, site_frames
from lms_assets.tracking.splitting import default_workers, read_course, split_day, unique_events
from lms_assets.warehouse import WarehouseResource

DAY_ASSET = {
    "partitions_def": daily_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": "tracking",
    "pool": "warehouse",
}
SHOWN = 50  # courses or days listed in a partition's metadata


def quarantine_rule(max_ratio: float) -> quality.Rule:
    return quality.ratio_at_most(
        "quarantine_ratio",
        "Quarantined lines are at most max_quarantine_ratio (default 1%) of the day's lines.",
        numerator="quarantined",
        denominator="lines",
        max_ratio=max_ratio,
    )


def _per_day(key: str):
    def measure(_w, _t, scope, load) -> list[dict]:
        return [row for p in scope for row in load.info[p][key]]

    return measure


PLACEMENT_RULES = [
    quality.Rule(
        "course_keys_valid",
        "Every course the logs name can become a partition (partitions.validate_course_key); "
        "the events of one that cannot stay in staging, unloaded, and are listed here.",
        load_violations=_per_day("unloadable"),
    ),
    quality.Rule(
        "other_days_within_partitions",
        "Every event of another day in the day's files belongs to a day of the daily "
        "dimension. To load older ones, move LMS_PARTITIONS_START_DATE back "
        "(docs/operations.md, Loading history).",
        load_violations=_per_day("outside"),
    ),
]


class SplitConfig(dg.Config):
    max_quarantine_ratio: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="The quarantine_ratio check fails above this share of quarantined lines.",
    )
    workers: int = Field(
        default=0,
        ge=0,
        description="Processes splitting the day's files (0: one per CPU core).",
    )


def partition_days() -> tuple[dt.date, dt.date]:
    """First and last day of the daily dimension (the last is today)."""
    return partitions.to_date(partitions.daily_partitions.start), partitions.today()


@dg.asset(
    kinds={"python", "arrow"},
    check_specs=[
        *quality.check_specs("tracking_log_split", [quarantine_rule(0.01)], blocking=True),
        *quality.check_specs("tracking_log_split", PLACEMENT_RULES + SITE_RULES, blocking=False),
    ],
    **DAY_ASSET,
)
def tracking_log_split(
    context: dg.AssetExecutionContext,
    config: SplitConfig,
    tracking_logs: TrackingLogFolderResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Read each day's tracking-log files once and split their events by course.

    Bad lines are quarantined (``tracking_quarantine``: file, line number, reason)
    and never stop a file. Re-running a day replaces its staging and counts.
    """
    report = LoadReport()
    per_day = []
    workers = config.workers or default_workers()
    scope = scope_of(context)
    root = Path(tracking_logs.path)
    first, last = partition_days()
    for partition in scope:
        day = partition.day
        start, end = day_window(day)
        staging = tracking_logs.staging_dir(day)
        shutil.rmtree(staging, ignore_errors=True)
        files = tracking_logs.files_for(day)
        # Files named for other days that hold events of this one, as their splits recorded
        # (read day by day: a ranged run's earlier days may have just recorded them).
        files += sorted(
            root / name
            for name in indexed_files(warehouse, [day]).get(day, ())
            if (root / name).is_file() and root / name not in files
        )
        context.log.info(f"{day}: splitting {len(files)} file(s)")
        # Lines are judged once, by their file's own day; other files add this day's events.
        split = split_day(
            [(path, date_in_name(path) == day) for path in files],
            start,
            end,
            staging,
            workers,
            on_file_read=lambda path, day=day: context.log.info(f"{day}: read {path.name}"),
            root=root,
            timezone=settings.current.timezone,
            pseudonym_key=tracking_logs.pseudonym_key,
        )
        counts, courses = split.counts, split.courses
        site = unique_events(read_course(staging, SITE))
        previous = day - dt.timedelta(days=1)
        other_days: Counter[dt.date] = Counter()
        for (_name, other), n in split.other_days.items():
            other_days[other] += n
        known = indexed_pairs(warehouse, day)
        # New (file, day) pairs need that day split again; the previous day reads this
        # day's files anyway (rotation after midnight).
        to_split = sorted(
            {d for (name, d) in split.other_days if (name, d) not in known and d != previous}
            & {d for d in other_days if first <= d <= last}
        )
        outside = {d: n for d, n in sorted(other_days.items()) if not first <= d <= last}
        registered, invalid = partitions.register_courses(
            context.instance, partitions.openedx_courses, sorted(courses)
        )
        context.log.info(
            f"{day}: {counts['events']} events of {len(courses)} course(s) "
            f"({len(registered)} newly registered), {split.site_events} without course, "
            f"{counts['other_day']} of other days, {counts['quarantined']} lines quarantined "
            f"({split.pieces} piece(s), {split.workers} worker(s))"
        )
        for key, reason in invalid.items():
            context.log.warning(
                f"{day}: {courses[key]} events of course {key!r} cannot be loaded: {reason}"
            )
        if to_split:
            context.log.info(
                f"{day}: the day's files hold events of {len(to_split)} other day(s) "
                f"({', '.join(map(str, to_split[:10]))}{' ...' if len(to_split) > 10 else ''}); "
                "tracking_courses_after_split requests their splits"
            )
        if outside:
            context.log.warning(
                f"{day}: {sum(outside.values())} events of {len(outside)} day(s) before "
                f"{first} or after {last} (outside the daily partitions: "
                f"{', '.join(map(str, list(outside)[:10]))}); to load them move "
                "LMS_PARTITIONS_START_DATE back and split those days (docs/operations.md)"
            )
        for name in {name for name, _ in split.other_days if len(name) > 255}:
            context.log.warning(
                f"{day}: {name[:80]}... holds events of other days but its path below the "
                "log folder is over 255 characters: those days' splits cannot find it; "
                "move it to a shorter path"
            )
        quarantine_rows = [
            {
                "snapshot_date": day,
                "file_name": name[:255],
                "line_number": line,
                "reason": reason[:255],
                "raw_line": raw,
            }
            for name, line, reason, raw in split.quarantine
        ]
        day_report = write_scope(
            # A date scope: the day's counts of every course, its quarantine, its site-level
            # tables and its file index are replaced.
            warehouse,
            Scope([partition]),
            {
                "tracking_split_counts": [
                    {"course_id": c, "snapshot_date": day, "events": n} for c, n in courses.items()
                ],
                "tracking_quarantine": quarantine_rows,
                "tracking_file_days": [
                    {"snapshot_date": day, "file_name": name[:255], "event_day": d, "events": n}
                    for (name, d), n in sorted(split.other_days.items())
                ],
                **site_frames(site, day),
            },
            asset_name="tracking_log_split",
        )
        day_report.info[partition] = {
            "counts": Counter(counts),
            "site_events_unique": site.num_rows,
            "previous_day": other_days.pop(previous, 0),
            "other_days": other_days,
            "to_split": to_split,
            "registered": registered,
            "unloadable": [
                {"day": str(day), "course_id": k, "events": courses[k], "reason": why[:120]}
                for k, why in invalid.items()
            ],
            "outside": [
                {"day": str(day), "event_day": str(d), "events": n} for d, n in outside.items()
            ],
            # quarantine_ratio's figures
            "quarantined": counts["quarantined"],
            "lines": counts["lines"],
        }
        report = merge_reports([report, day_report])
        ratio = counts["quarantined"] / counts["lines"] if counts["lines"] else 0.0
        per_day.append(
            {
                "day": day,
                "files": len(files),
                "pieces": split.pieces,
                "workers": split.workers,
                "worker_peak_mib": round(split.peak_memory_mib or 0),
                "courses": len(courses),
                "events": counts["events"],
                "site_events": split.site_events,
                "other_days": sum(other_days.values()),
                "quarantined": counts["quarantined"],
                "ratio": round(ratio, 5),
            }
        )
    partition_metadata(context, "tracking_log_split", _partition_figures(report))
    return _result(warehouse, config, report, per_day)


def _partition_figures(report: LoadReport) -> dict:
    figures = {}
    for p, info in report.info.items():
        counts, others = info["counts"], info["other_days"]
        figures[p] = {
            "dagster/row_count": counts["events"],
            "events": counts["events"],
            "quarantined": counts["quarantined"],
            "blank_lines": counts["blank"],
            "comment_lines": counts["comment"],
            "events_without_course": counts["site_events"],
            # Late events of the previous day: its split reads this day's files and loads them.
            "events_of_previous_day": info["previous_day"],
            # Events of any other day: recorded in tracking_file_days, split on their own day.
            "events_of_other_days": sum(others.values()),
            "other_days": dg.MetadataValue.json(
                {str(d): n for d, n in sorted(others.items())[:SHOWN]}
            ),
            "days_to_split": dg.MetadataValue.json([str(d) for d in info["to_split"]]),
            "events_outside_partitions": sum(r["events"] for r in info["outside"]),
            "courses": report.rows["tracking_split_counts"][p],
            "courses_registered": len(info["registered"]),
            "unloadable_course_count": len(info["unloadable"]),
            "unloadable_courses": dg.MetadataValue.json(
                {r["course_id"]: r["events"] for r in info["unloadable"][:SHOWN]}
            ),
        }
    return figures


def _result(
    warehouse: WarehouseResource, config: SplitConfig, report: LoadReport, per_day: list
) -> dg.MaterializeResult:
    totals = sum((info["counts"] for info in report.info.values()), Counter())
    days_to_split = sorted({d for info in report.info.values() for d in info["to_split"]})
    checks = [
        *quality.evaluate(
            warehouse,
            "tracking_quarantine",
            [quarantine_rule(config.max_quarantine_ratio)],
            report.written,
            asset="tracking_log_split",
            load=report,
        ),
        *quality.evaluate(
            warehouse,
            "tracking_split_counts",
            PLACEMENT_RULES,
            report.written,
            asset="tracking_log_split",
            load=report,
        ),
        *quality.evaluate(
            warehouse,
            "site_daily_events",
            SITE_RULES,
            report.written,
            asset="tracking_log_split",
            load=report,
        ),
    ]
    return dg.MaterializeResult(
        metadata={
            "run_events": totals["events"],
            "run_quarantined": totals["quarantined"],
            "run_events_without_course": totals["site_events"],
            "run_days_to_split": dg.MetadataValue.json([str(d) for d in days_to_split]),
            # For the load sensor when a run is too large for per-day figures.
            "run_days_with_events": dg.MetadataValue.json(
                [str(p.day) for p, info in report.info.items() if info["counts"]["events"]]
            ),
            "worker_peak_memory_mib": max((row["worker_peak_mib"] for row in per_day), default=0),
            "per_day": dg.MetadataValue.md(
                markdown_table(
                    per_day[:60],
                    [
                        "day",
                        "files",
                        "pieces",
                        "workers",
                        "worker_peak_mib",
                        "courses",
                        "events",
                        "site_events",
                        "other_days",
                        "quarantined",
                        "ratio",
                    ],
                )
            ),
        },
        check_results=checks,
    )
