"""What a split keeps besides the courses' events: site-level events and the file-day index.

Events naming no course (logins, the dashboard, enrollment and registration pages) are a
site's activity: ``site_daily_events`` (per day and event type) and ``site_learner_daily``
(per learner and day). ``tracking_file_days`` records which files hold events of days other
than the one they are named for (archives, exports, a history folder), so that each day's
split reads them too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import sqlalchemy as sa

from lms_assets import quality
from lms_assets.partitions import Partition, to_date
from lms_assets.warehouse import WarehouseResource, partition_filter
from lms_assets.warehouse.schema import metadata


def site_frames(events: pa.Table, day: dt.date) -> dict[str, pd.DataFrame]:
    """The two site tables' rows of ``day`` from its (de-duplicated) site-level events.

    Studio's requests are counted per type but are no learner's activity.
    """
    frame = events.select(["event_type", "user_id", "session", "time", "from_studio"]).to_pandas()
    # MySQL compares keys without trailing spaces: "/login " and "/login" are one type.
    frame["event_type"] = frame["event_type"].str.rstrip(" ")
    by_type = frame.groupby("event_type", sort=True)
    per_type = pd.DataFrame(
        {
            "events": by_type.size(),
            "learners": by_type["user_id"].nunique(),
            "anonymous_events": by_type["user_id"].agg(lambda ids: int(ids.isna().sum())),
        }
    ).reset_index()
    learners = frame[frame["user_id"].notna() & ~frame["from_studio"].astype(bool)]
    by_learner = learners.groupby(learners["user_id"].astype("int64"))
    per_learner = pd.DataFrame(
        {
            "events": by_learner.size(),
            "event_types": by_learner["event_type"].nunique(),
            "sessions": by_learner["session"].nunique(),
            "first_event_at": by_learner["time"].min(),
            "last_event_at": by_learner["time"].max(),
        }
    ).reset_index()
    for table in (per_type, per_learner):
        table.insert(0, "snapshot_date", day)
    return {"site_daily_events": per_type, "site_learner_daily": per_learner}


def indexed_files(warehouse: WarehouseResource, days: Sequence[dt.date]) -> dict[dt.date, set[str]]:
    """{day: file names (below the log folder) known to hold events of that day}."""
    table = metadata.tables["tracking_file_days"]
    if not days:
        return {}
    frame = warehouse.read_frame(
        sa.select(table.c.event_day, table.c.file_name).where(table.c.event_day.in_(days))
    )
    found: dict[dt.date, set[str]] = {}
    for day, name in frame.itertuples(index=False):
        found.setdefault(to_date(day), set()).add(name)
    return found


def indexed_pairs(warehouse: WarehouseResource, day: dt.date) -> set[tuple[str, dt.date]]:
    """The (file, other day) pairs the previous split of ``day`` recorded."""
    frame = warehouse.read_partitions(
        "tracking_file_days", [Partition(day=day)], ["file_name", "event_day"]
    )
    return {(name, to_date(other)) for name, other in frame.itertuples(index=False)}


def _site_sums(warehouse: WarehouseResource, partitions: Sequence[Partition]) -> dict:
    """Per day: (events, events with a learner) of site_daily_events, events of learners."""
    types, learners = metadata.tables["site_daily_events"], metadata.tables["site_learner_daily"]
    sums: dict = {p.day: [0, 0, 0] for p in partitions}
    with warehouse.engine.connect() as conn:
        for day, events, anonymous in conn.execute(
            sa.select(
                types.c.snapshot_date,
                sa.func.sum(types.c.events),
                sa.func.sum(types.c.anonymous_events),
            )
            .where(partition_filter(types, partitions))
            .group_by(types.c.snapshot_date)
        ):
            sums[to_date(day)][:2] = [int(events), int(events) - int(anonymous)]
        for day, events in conn.execute(
            sa.select(learners.c.snapshot_date, sa.func.sum(learners.c.events))
            .where(partition_filter(learners, partitions))
            .group_by(learners.c.snapshot_date)
        ):
            sums[to_date(day)][2] = int(events)
    return sums


def _site_mismatches(
    warehouse: WarehouseResource, _table: str, partitions: Sequence[Partition], load: Any
) -> list[dict]:
    found = []
    for day, (events, with_learner, of_learners) in _site_sums(warehouse, partitions).items():
        info = load.info[Partition(day=day)]
        if events != info["site_events_unique"] or of_learners > with_learner:
            found.append(
                {
                    "day": str(day),
                    "stored_events": events,
                    "split_unique_site_events": info["site_events_unique"],
                    "learner_events": of_learners,
                    "events_with_a_learner": with_learner,
                }
            )
    return found


SITE_RULES = [
    quality.Rule(
        "site_events_match_split",
        "site_daily_events holds every distinct site-level event the split found, once; "
        "site_learner_daily counts no more events than have a learner.",
        load_violations=_site_mismatches,
    ),
]
