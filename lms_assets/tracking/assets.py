"""Tracking-log assets (seed 003).

``tracking_log_split`` (daily, ``split.py``) reads a day's files ONCE, whatever the number
of courses, with one worker process per core (``splitting``), and leaves each course's
events in Arrow staging files. The course × date assets here then load and aggregate
course-days, several loads at once on MySQL/MariaDB.
"""

from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from lms_assets import charts, quality
from lms_assets.loading import LoadReport, write_scope
from lms_assets.partitions import (
    Partition,
    day_window,
    openedx_course_daily,
    scope_of,
    to_date,
)
from lms_assets.tables import partition_metadata, publish
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.tracking.schema import metadata as schema
from lms_assets.tracking.split import SplitConfig, tracking_log_split
from lms_assets.tracking.splitting import read_course, unique_events, with_username_hash
from lms_assets.tracking.store import course_keys, replace_course_day
from lms_assets.warehouse import WarehouseResource, partition_filter

COURSE_DAY_ASSET = {
    "partitions_def": openedx_course_daily,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "group_name": "tracking",
    "pool": "warehouse",
    "kinds": {"sql", "pandas"},
}
FROM_SPLIT = dg.AssetDep(
    "tracking_log_split",
    partition_mapping=dg.MultiToSingleDimensionPartitionMapping(partition_dimension_name="date"),
)


def _split_counts(warehouse: WarehouseResource, partitions: list[Partition]) -> dict:
    columns = ["course_id", "snapshot_date", "events"]
    frame = warehouse.read_partitions("tracking_split_counts", partitions, columns)
    return {Partition(c, to_date(d)): int(n) for c, d, n in frame.itertuples(index=False)}


def _stored_profile(warehouse: WarehouseResource, partitions: list[Partition]) -> dict:
    """Per course-day: rows, distinct event ids, first and last time: one scan, three checks."""
    table = schema.tables["tracking_events"]
    frame = warehouse.read_frame(
        sa.select(
            table.c.course_id,
            table.c.snapshot_date,
            sa.func.count().label("rows"),
            sa.func.count(table.c.event_id.distinct()).label("ids"),
            sa.func.min(table.c.time).label("first"),
            sa.func.max(table.c.time).label("last"),
        )
        .where(partition_filter(table, partitions))
        .group_by(table.c.course_id, table.c.snapshot_date)
    )
    return {
        Partition(c, to_date(d)): (int(rows), int(ids), pd.Timestamp(first), pd.Timestamp(last))
        for c, d, rows, ids, first, last in frame.itertuples(index=False)
    }


def _problems(test) -> quality.LoadViolations:
    """A tracking_events rule over the per-partition profile the load put in ``load.info``."""

    def measure(_w, _t, partitions: Sequence[Partition], load) -> list[dict]:
        return [{"partition": str(p), **load.info[p]} for p in partitions if test(p, load.info[p])]

    return measure


def _outside_day(p: Partition, info: dict) -> bool:
    start, end = day_window(p.day)
    return bool(info["rows"]) and (info["first"] < start or info["last"] >= end)


TRACKING_EVENT_RULES = [
    quality.Rule(
        "unique_event_ids",
        "No event is stored twice in a course-day (one row per event_id).",
        load_violations=_problems(lambda _p, i: i["rows"] != i["distinct_event_ids"]),
    ),
    quality.Rule(
        "events_inside_day",
        "Every event's time falls in its partition's day.",
        load_violations=_problems(_outside_day),
    ),
    quality.Rule(
        "counts_match_split",
        "Stored events plus dropped duplicates equal what the split counted.",
        load_violations=_problems(lambda _p, i: i["rows"] + i["duplicates"] != i["split"]),
    ),
]


@dg.asset(
    deps=[FROM_SPLIT],
    check_specs=quality.check_specs("tracking_events", TRACKING_EVENT_RULES, blocking=True),
    **COURSE_DAY_ASSET,
)
def tracking_events(
    context: dg.AssetExecutionContext,
    tracking_logs: TrackingLogFolderResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """The course's events of the day, typed; an event read twice is stored once.

    Stored narrow in ``tracking_event_rows`` (store.py), read through the ``tracking_events``
    view with the same columns as the table it was before, plus ``username_hash``.
    """
    partitions = scope_of(context)
    report = LoadReport(written=list(partitions), rows={"tracking_events": Counter()})
    split = _split_counts(warehouse, partitions)
    keys = course_keys(warehouse, [p.course_id for p in partitions])

    def load(partition: Partition) -> tuple[int, int]:
        staged = read_course(tracking_logs.staging_dir(partition.day), partition.course_id)
        if staged.num_rows != split.get(partition, 0):
            # Never replace stored events with a staging that is not the split's.
            raise dg.Failure(
                f"tracking_events {partition}: the staging holds {staged.num_rows} events but "
                f"tracking_log_split counted {split.get(partition, 0)} (staging deleted or "
                f"from another split?); this course-day was not written. Re-run "
                f"tracking_log_split for {partition.day}, then this partition."
            )
        # A staging split before username_hash existed gets it here.
        unique = with_username_hash(unique_events(staged), tracking_logs.pseudonym_key)
        written = replace_course_day(warehouse, partition, keys[partition.course_id], unique)
        return written, staged.num_rows - unique.num_rows

    # Each course-day is its own transaction: loads run side by side on the server's cores.
    with ThreadPoolExecutor(warehouse.writers) as pool:
        for partition, (written, duplicates) in zip(
            partitions, pool.map(load, partitions), strict=True
        ):
            report.rows["tracking_events"][partition] = written
            report.info[partition] = {"duplicates": duplicates, "split": split.get(partition, 0)}
            context.log.info(f"{partition}: {written} events ({duplicates} duplicates)")
    # One scan of what is stored gives the three checks their figures.
    profile = _stored_profile(warehouse, list(partitions))
    for partition in partitions:
        rows, ids, first, last = profile.get(partition, (0, 0, None, None))
        report.info[partition].update(rows=rows, distinct_event_ids=ids, first=first, last=last)
    partition_metadata(
        context,
        "tracking_events",
        {p: {"duplicates_dropped": report.info[p]["duplicates"]} for p in partitions},
    )
    return publish(
        context,
        warehouse,
        report,
        "tracking_events",
        TRACKING_EVENT_RULES,
        extra={"run_duplicates_dropped": sum(i["duplicates"] for i in report.info.values())},
    )


VIDEO_PLAY = ("play_video", "edx.video.played")
VIDEO_PAUSE = ("pause_video", "edx.video.paused")
VIDEO_SEEK = ("seek_video", "edx.video.position.changed")
ACTIVE_GAP_CAP = pd.Timedelta(minutes=5)


def _events_frame(warehouse: WarehouseResource, partitions: list[Partition]) -> pd.DataFrame:
    frame = warehouse.read_partitions("tracking_events", partitions)
    frame["snapshot_date"] = frame["snapshot_date"].map(to_date)
    frame["time"] = pd.to_datetime(frame["time"])
    return frame


def learner_daily_frame(events: pd.DataFrame) -> pd.DataFrame:
    """Per course, day and learner: counts by kind, sessions, and an active-time estimate.

    Studio's requests (course authoring) are the course team's work, not learning: left out.
    """
    learning = events["user_id"].notna() & (events["from_studio"] != True)  # noqa: E712 (NULL)
    events = events[learning].sort_values("time")
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
    """Per video and day: viewers, plays, and the share of viewers who watched to the end.

    ``completion_estimate`` = 100 x (viewers whose furthest position reached 90% of the
    video's length) / viewers, where a viewer is a learner who played it (once or many
    times: counted once, at the furthest position of all their events), and the length is
    the furthest position anyone reached (play, pause or seek): logs carry no duration.
    NULL when no position of the video is known at all, since nothing says how far anyone got.
    """
    video = events[
        events["event_type"].isin(VIDEO_PLAY + VIDEO_PAUSE + VIDEO_SEEK)
        & events["module_id"].notna()
    ]
    keys = ["course_id", "snapshot_date", "module_id"]
    plays = video[video["event_type"].isin(VIDEO_PLAY)]
    length = video.groupby(keys)["video_position"].max().rename("length")
    viewers = plays[plays["user_id"].notna()][[*keys, "user_id"]].drop_duplicates()
    furthest = video.groupby([*keys, "user_id"])["video_position"].max().rename("furthest")
    watched = viewers.join(furthest, on=[*keys, "user_id"]).join(length, on=keys)
    watched["completed"] = watched["furthest"] >= 0.9 * watched["length"]
    completion = (100 * watched.groupby(keys)["completed"].mean()).round(2)
    completion[length.reindex(completion.index).isna()] = float("nan")
    result = (
        pd.DataFrame(
            {
                "viewers": viewers.groupby(keys).size(),
                "plays": plays.groupby(keys).size(),
                "completion_estimate": completion,
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


# The chart each aggregate's materialization shows (charts.py draws it).
AGGREGATE_CHARTS = {
    "learner_daily_activity": lambda f: charts.per_day_or_course(f, None, "active learners"),
    "video_engagement": lambda f: charts.grouped_bars(
        f, "video_id", "viewers", "viewers of the most watched videos", top=10, horizontal=True
    ),
    "problem_activity": lambda f: charts.grouped_bars(
        f, "problem_id", "attempts", "attempts of the most tried problems", top=10, horizontal=True
    ),
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
        partitions = scope_of(context)
        frame = build(_events_frame(warehouse, partitions))
        report = write_scope(warehouse, partitions, {name: frame}, asset_name=name)
        shown = AGGREGATE_CHARTS[name](frame)
        return publish(context, warehouse, report, name, AGGREGATE_RULES[name], extra=shown)

    return aggregate


learner_daily_activity = _aggregate_asset("learner_daily_activity", learner_daily_frame)
video_engagement = _aggregate_asset("video_engagement", video_frame)
problem_activity = _aggregate_asset("problem_activity", problem_frame)

__all__ = ["SplitConfig", "tracking_log_split"]  # the daily split, from split.py
