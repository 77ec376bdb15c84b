"""Tracking-log assets (seed 003).

``tracking_log_split`` (daily) reads a day's files ONCE, whatever the number of
courses, and streams each course's events to a Parquet staging file (at most
FLUSH_ROWS events wait in memory, whatever the file size or number of courses). The
course × date assets then load and aggregate one course-day at a time.
"""

import datetime as dt
import shutil
from collections import Counter
from dataclasses import fields
from operator import attrgetter
from zoneinfo import ZoneInfo

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlalchemy as sa
from pydantic import Field

from lms_assets import quality, settings
from lms_assets.metadata import markdown_table
from lms_assets.partitions import (
    DAILY_FRESHNESS,
    CourseDay,
    course_days,
    daily_partitions,
    openedx_course_daily,
    to_date,
)
from lms_assets.tracking.parsing import Event, Quarantined, Skipped, parse_line
from lms_assets.tracking.resources import TrackingLogFolderResource, date_in_name
from lms_assets.warehouse import WarehouseResource, partition_filter, rows_from_frame
from lms_assets.warehouse.schema import metadata as schema

FLUSH_ROWS = 100_000  # events buffered in total before every course's buffer is written
MAX_QUARANTINE_ROWS = 10_000  # kept per day for inspection; all are counted
EVENT_FIELDS = [f.name for f in fields(Event)]
_event_values = attrgetter(*EVENT_FIELDS)
STAGING_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("time", pa.timestamp("us")),
        ("user_id", pa.int64()),
        ("username", pa.string()),
        ("course_id", pa.string()),
        ("course_from", pa.string()),
        ("event_type", pa.string()),
        ("event_source", pa.string()),
        ("session", pa.string()),
        ("page", pa.string()),
        ("module_id", pa.string()),
        ("video_position", pa.float64()),
        ("problem_id", pa.string()),
        ("problem_success", pa.bool_()),
        ("problem_attempts", pa.int64()),
        ("discussion_id", pa.string()),
    ]
)
DAY_ASSET = {
    "partitions_def": daily_partitions,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": "tracking",
    "pool": "warehouse",
    "freshness_policy": DAILY_FRESHNESS,
}
COURSE_DAY_ASSET = {
    "partitions_def": openedx_course_daily,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": "tracking",
    "pool": "warehouse",
    "freshness_policy": DAILY_FRESHNESS,
    "kinds": {"sql", "pandas"},
}
FROM_SPLIT = dg.AssetDep(
    "tracking_log_split",
    partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"),
)


def day_bounds(day: dt.date, timezone: str | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of ``day`` in the partition timezone, as naive UTC."""
    zone = ZoneInfo(timezone or settings.TIMEZONE)
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return (
        start.astimezone(dt.UTC).replace(tzinfo=None),
        end.astimezone(dt.UTC).replace(tzinfo=None),
    )


class SplitConfig(dg.Config):
    max_quarantine_ratio: float = Field(
        default=0.01,
        ge=0,
        le=1,
        description="The quarantine_ratio check fails above this share of quarantined lines.",
    )


class _CourseWriters:
    """One streaming Parquet writer per course; at most FLUSH_ROWS events wait in memory."""

    def __init__(self, day: dt.date, tracking_logs: TrackingLogFolderResource) -> None:
        self.day = day
        self.tracking_logs = tracking_logs
        self.buffers: dict[str, list[tuple]] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.counts: Counter[str] = Counter()
        self.buffered = 0

    def add(self, event: Event) -> None:
        self.buffers.setdefault(event.course_id, []).append(_event_values(event))
        self.counts[event.course_id] += 1
        self.buffered += 1
        if self.buffered >= FLUSH_ROWS:  # a global bound: memory does not grow with courses
            for course_id in list(self.buffers):
                self._flush(course_id)
            self.buffered = 0

    def _flush(self, course_id: str) -> None:
        rows = self.buffers[course_id]
        if not rows:
            return
        columns = list(zip(*rows, strict=True))
        table = pa.table(
            {
                name: pa.array(values, type=STAGING_SCHEMA.field(name).type)
                for name, values in zip(EVENT_FIELDS, columns, strict=True)
            },
            schema=STAGING_SCHEMA,
        )
        writer = self.writers.get(course_id)
        if writer is None:
            path = self.tracking_logs.staging_file(self.day, course_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = self.writers[course_id] = pq.ParquetWriter(path, STAGING_SCHEMA)
        writer.write_table(table)
        self.buffers[course_id] = []

    def close(self) -> None:
        for course_id in list(self.buffers):
            self._flush(course_id)
        for writer in self.writers.values():
            writer.close()


@dg.asset(
    kinds={"python", "parquet"},
    check_specs=[
        dg.AssetCheckSpec(
            "quarantine_ratio",
            asset="tracking_log_split",
            blocking=True,
            description="Quarantined lines are at most max_quarantine_ratio (default 1%) "
            "of the day's lines.",
        )
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
    and never stop a file. Re-running a day replaces its staging files and counts.
    """
    totals: Counter[str] = Counter()
    per_day = []
    worst = 0.0
    for key in context.partition_keys:
        day = to_date(key)
        start, end = day_bounds(day)
        shutil.rmtree(tracking_logs.staging_dir(day), ignore_errors=True)
        writers = _CourseWriters(day, tracking_logs)
        counts: Counter[str] = Counter()
        quarantine_rows: list[dict] = []
        files = tracking_logs.files_for(day)
        for path in files:
            home = date_in_name(path) == day  # lines are judged once, by the file's own day
            for number, line in enumerate(tracking_logs.lines(path), start=1):
                outcome = parse_line(line)
                counts["lines"] += home
                if isinstance(outcome, Event):
                    if start <= outcome.time < end:
                        writers.add(outcome)
                    else:
                        counts["other_day"] += home
                elif not home:
                    continue
                elif isinstance(outcome, Skipped):
                    counts[outcome.kind] += 1
                elif isinstance(outcome, Quarantined):
                    counts["quarantined"] += 1
                    if len(quarantine_rows) < MAX_QUARANTINE_ROWS:
                        quarantine_rows.append(
                            {
                                "snapshot_date": day,
                                "file_name": path.name[:255],
                                "line_number": number,
                                "reason": outcome.reason[:255],
                                "raw_line": outcome.raw,
                            }
                        )
            context.log.info(f"{day}: read {path.name}")
        writers.close()
        counts["events"] = sum(writers.counts.values())
        known = warehouse.read_frame(
            sa.select(schema.tables["tracking_split_counts"].c.course_id).where(
                schema.tables["tracking_split_counts"].c.snapshot_date == day
            )
        )
        courses = sorted(set(writers.counts) | set(known["course_id"]))
        warehouse.write(
            # No course that day still replaces the day's quarantine rows.
            [CourseDay(c, day) for c in courses] or [CourseDay("", day)],
            {
                "tracking_split_counts": [
                    {"course_id": c, "snapshot_date": day, "events": n}
                    for c, n in writers.counts.items()
                ],
                "tracking_quarantine": quarantine_rows,
            },
            asset_name="tracking_log_split",
        )
        ratio = counts["quarantined"] / counts["lines"] if counts["lines"] else 0.0
        worst = max(worst, ratio)
        totals.update(counts)
        per_day.append(
            {
                "day": day,
                "files": len(files),
                "courses": len(writers.counts),
                "events": counts["events"],
                "quarantined": counts["quarantined"],
                "ratio": round(ratio, 5),
            }
        )
    return dg.MaterializeResult(
        metadata={
            "events": totals["events"],
            "quarantined": totals["quarantined"],
            "blank_lines": totals["blank"],
            "comment_lines": totals["comment"],
            "events_without_course": totals["no_course"],
            "events_of_other_days": totals["other_day"],
            "per_day": dg.MetadataValue.md(
                markdown_table(
                    per_day[:60], ["day", "files", "courses", "events", "quarantined", "ratio"]
                )
            ),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="quarantine_ratio",
                passed=worst <= config.max_quarantine_ratio,
                metadata={"worst_ratio": worst, "threshold": config.max_quarantine_ratio},
            )
        ],
    )


def _split_counts(warehouse: WarehouseResource, partitions: list[CourseDay]) -> dict:
    table = schema.tables["tracking_split_counts"]
    frame = warehouse.read_frame(
        sa.select(table.c.course_id, table.c.snapshot_date, table.c.events).where(
            partition_filter(table, partitions)
        )
    )
    return {CourseDay(c, to_date(d)): int(n) for c, d, n in frame.itertuples(index=False)}


def _events_inside_day() -> quality.Rule:
    def query(table: sa.Table, partitions: list[CourseDay]) -> sa.Select:
        outside = [
            sa.and_(
                table.c.course_id == p.course_id,
                table.c.snapshot_date == p.day,
                sa.or_(table.c.time < day_bounds(p.day)[0], table.c.time >= day_bounds(p.day)[1]),
            )
            for p in partitions
        ]
        return sa.select(table.c.course_id, table.c.event_id, table.c.time).where(sa.or_(*outside))

    return quality.Rule(
        "events_inside_day", "Every event's time falls in its partition's day.", query
    )


EVENT_RULES = [quality.unique_key(["course_id", "snapshot_date", "event_id"]), _events_inside_day()]


@dg.asset(
    deps=[FROM_SPLIT],
    check_specs=[
        *quality.check_specs("tracking_events", EVENT_RULES, blocking=True),
        dg.AssetCheckSpec(
            "counts_match_split",
            asset="tracking_events",
            blocking=True,
            description="Stored events plus dropped duplicates equal what the split counted.",
        ),
    ],
    **COURSE_DAY_ASSET,
)
def tracking_events(
    context: dg.AssetExecutionContext,
    tracking_logs: TrackingLogFolderResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """The course's events of the day, typed; an event read twice is stored once."""
    partitions = course_days(context)
    split = _split_counts(warehouse, partitions)
    stored, duplicates, mismatches = 0, 0, []
    for partition in partitions:
        path = tracking_logs.staging_file(partition.day, partition.course_id)
        data = pq.read_table(path) if path.exists() else STAGING_SCHEMA.empty_table()
        data = data.filter(pc.equal(data["course_id"], partition.course_id))  # never mix courses
        first_seen = ~data["event_id"].to_pandas().duplicated().to_numpy()
        # Sorted by the key, InnoDB appends to its clustered index instead of splitting pages.
        unique = data.filter(pa.array(first_seen, type=pa.bool_())).sort_by("event_id")
        dropped = data.num_rows - unique.num_rows
        unique = unique.append_column(
            "snapshot_date", pa.array([partition.day] * unique.num_rows, type=pa.date32())
        )
        summary = warehouse.replace_partitions(
            "tracking_events", [partition], unique, asset_name="tracking_events"
        )
        stored += summary.rows_written
        duplicates += dropped
        expected = split.get(partition, 0)
        if summary.rows_written + dropped != expected:
            mismatches.append(
                {
                    "partition": str(partition),
                    "stored": summary.rows_written,
                    "duplicates": dropped,
                    "split": expected,
                }
            )
        context.log.info(f"{partition}: {summary.rows_written} events ({dropped} duplicates)")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": stored, "duplicates_dropped": duplicates},
        check_results=[
            *quality.evaluate(warehouse, "tracking_events", EVENT_RULES, partitions),
            dg.AssetCheckResult(
                check_name="counts_match_split",
                passed=not mismatches,
                metadata={
                    "mismatches": dg.MetadataValue.md(
                        markdown_table(mismatches, ["partition", "stored", "duplicates", "split"])
                        if mismatches
                        else "none"
                    )
                },
            ),
        ],
    )


VIDEO_PLAY = ("play_video", "edx.video.played")
VIDEO_PAUSE = ("pause_video", "edx.video.paused")
VIDEO_SEEK = ("seek_video", "edx.video.position.changed")
ACTIVE_GAP_CAP = pd.Timedelta(minutes=5)


def _events_frame(warehouse: WarehouseResource, partitions: list[CourseDay]) -> pd.DataFrame:
    table = schema.tables["tracking_events"]
    frame = warehouse.read_frame(sa.select(table).where(partition_filter(table, partitions)))
    frame["snapshot_date"] = frame["snapshot_date"].map(to_date)
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


def learner_daily_frame(events: pd.DataFrame) -> pd.DataFrame:
    """Per course, day and learner: counts by kind, sessions, and an active-time estimate."""
    events = events[events["user_id"].notna()].sort_values("time")
    keys = ["course_id", "snapshot_date", "user_id"]
    kind = events["event_type"]
    flags = pd.DataFrame(
        {
            "video_plays": kind.isin(VIDEO_PLAY),
            "video_pauses": kind.isin(VIDEO_PAUSE),
            "video_seeks": kind.isin(VIDEO_SEEK),
            "problem_checks": (kind == "problem_check") & (events["event_source"] == "server"),
            "problem_correct": (kind == "problem_check") & (events["problem_success"] == True),  # noqa: E712
            "forum_posts": kind.str.startswith("edx.forum.") & kind.str.endswith(".created"),
            "pages_viewed": (events["event_source"] == "server") & kind.str.startswith("/"),
        }
    )
    gaps = events.groupby(keys)["time"].diff(-1).abs().clip(upper=ACTIVE_GAP_CAP)
    grouped = pd.concat([events[keys], flags, gaps.rename("gap")], axis=1).groupby(keys)
    result = grouped[list(flags.columns)].sum().astype(int)
    result["events"] = grouped.size()
    result["active_minutes"] = (grouped["gap"].sum().dt.total_seconds() / 60).round(2)
    result["sessions"] = events.groupby(keys)["session"].nunique()
    result["last_event_at"] = events.groupby(keys)["time"].max()
    return result.reset_index()


def video_frame(events: pd.DataFrame) -> pd.DataFrame:
    video = events[
        events["event_type"].isin(VIDEO_PLAY + VIDEO_PAUSE + VIDEO_SEEK)
        & events["module_id"].notna()
    ]
    keys = ["course_id", "snapshot_date", "module_id"]
    plays = video[video["event_type"].isin(VIDEO_PLAY)]
    furthest = video.groupby([*keys, "user_id"])["video_position"].max().reset_index()
    longest = furthest.groupby(keys)["video_position"].transform("max")
    furthest["completed"] = furthest["video_position"] >= 0.9 * longest
    result = (
        pd.DataFrame(
            {
                "viewers": plays.groupby(keys)["user_id"].nunique(),
                "plays": plays.groupby(keys).size(),
                "completion_estimate": (100 * furthest.groupby(keys)["completed"].mean()).round(2),
            }
        )
        .fillna({"viewers": 0, "plays": 0})
        .reset_index()
    )
    return result.rename(columns={"module_id": "video_id"})


def problem_frame(events: pd.DataFrame) -> pd.DataFrame:
    server_checks = (events["event_type"] == "problem_check") & (events["event_source"] == "server")
    checks = events[server_checks & events["problem_id"].notna()]
    checks = checks.assign(correct=checks["problem_success"].eq(True).astype(int))
    grouped = checks.groupby(["course_id", "snapshot_date", "problem_id"])
    attempts = grouped.size()
    return pd.DataFrame(
        {
            "learners": grouped["user_id"].nunique(),
            "attempts": attempts,
            "correct_rate": (100 * grouped["correct"].sum() / attempts).astype(float).round(2),
        }
    ).reset_index()


AGGREGATE_RULES = {
    "learner_daily_activity": [
        quality.unique_key(["course_id", "snapshot_date", "user_id"]),
        quality.in_range({"events": (1, None), "active_minutes": (0, 24 * 60)}),
    ],
    "video_engagement": [
        quality.unique_key(["course_id", "snapshot_date", "video_id"]),
        quality.in_range({"completion_estimate": (0, 100), "viewers": (0, None)}),
    ],
    "problem_activity": [
        quality.unique_key(["course_id", "snapshot_date", "problem_id"]),
        quality.in_range({"correct_rate": (0, 100), "attempts": (1, None)}),
    ],
}


def _aggregate_asset(name: str, build) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        deps=["tracking_events"],
        description=schema.tables[name].comment,
        check_specs=quality.check_specs(name, AGGREGATE_RULES[name], blocking=False),
        **COURSE_DAY_ASSET,
    )
    def aggregate(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        partitions = course_days(context)
        frame = build(_events_frame(warehouse, partitions))
        warehouse.write(partitions, {name: rows_from_frame(frame)}, asset_name=name)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": len(frame),
                "preview": dg.MetadataValue.md(
                    markdown_table(frame.head(10).to_dict("records"), frame.columns)
                ),
            },
            check_results=quality.evaluate(warehouse, name, AGGREGATE_RULES[name], partitions),
        )

    return aggregate


learner_daily_activity = _aggregate_asset("learner_daily_activity", learner_daily_frame)
video_engagement = _aggregate_asset("video_engagement", video_frame)
problem_activity = _aggregate_asset("problem_activity", problem_frame)
