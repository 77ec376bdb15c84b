"""What the tracking logs contribute to ``raw_data``: 30 days of behaviour per learner.

The columns are declared here, with their types, and added to raw_data's table
definition by ``features/schema.py``; ``tracking_features`` fills them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from lms_assets import quality
from lms_assets.partitions import Partition
from lms_assets.tracking.schema import metadata as schema
from lms_assets.warehouse import WarehouseResource, partition_filter

KEY = ["course_id", "snapshot_date", "user_id"]
FEATURE_DEPS = ("learner_daily_activity",)  # what raw_data reads from here


def _described(name: str, kind: type, description: str) -> sa.Column:
    return sa.Column(name, kind, info={"description": description})


def feature_columns() -> list[sa.Column]:
    """raw_data's tracking columns; NULL when the course has no tracking data in the window."""
    return [
        _described("tracking_active_days_30d", sa.Integer, "days with events, last 30 days"),
        _described("tracking_events_7d", sa.Integer, "tracking-log events, last 7 days"),
        _described("tracking_events_30d", sa.Integer, "tracking-log events, last 30 days"),
        _described("tracking_video_plays_30d", sa.Integer, "video plays, last 30 days"),
        _described("tracking_problem_checks_30d", sa.Integer, "problem checks, last 30 days"),
        _described("tracking_problem_correct_30d", sa.Integer, "correct checks, last 30 days"),
        _described("tracking_last_event_at", sa.DateTime, "last tracking-log event (UTC)"),
    ]


TRACKING_WINDOW_DAYS = 30
TRACKING_COLUMNS = tuple(c.name for c in feature_columns())
_TRACKING_SUMS = {
    "events": "tracking_events",
    "video_plays": "tracking_video_plays",
    "problem_checks": "tracking_problem_checks",
    "problem_correct": "tracking_problem_correct",
}


def tracking_features(
    warehouse: WarehouseResource, partitions: Sequence[Partition], learners: pd.DataFrame
) -> pd.DataFrame:
    """Behaviour from learner_daily_activity over the 30 days ending each partition day.

    Only days up to the partition day are read, so later logs never change a past
    day's features. A course with no tracking data in the window gets no rows
    (its features stay NULL); a learner of a course with data but no events, 0.
    """
    columns = list(TRACKING_COLUMNS)
    table = schema.tables["learner_daily_activity"]
    first = min(p.day for p in partitions) - dt.timedelta(days=TRACKING_WINDOW_DAYS - 1)
    daily = warehouse.read_frame(
        sa.select(table).where(
            table.c.course_id.in_(sorted({p.course_id for p in partitions})),
            table.c.snapshot_date.between(first, max(p.day for p in partitions)),
        )
    )
    if daily.empty:
        return pd.DataFrame(columns=[*KEY, *columns])
    daily["activity_date"] = pd.to_datetime(daily["snapshot_date"]).dt.date
    pieces = []
    for (course_id, day), group in learners.groupby(["course_id", "snapshot_date"]):
        window = daily[
            (daily["course_id"] == course_id)
            & (daily["activity_date"] <= day)
            & (daily["activity_date"] > day - dt.timedelta(days=TRACKING_WINDOW_DAYS))
        ]
        if window.empty:
            continue  # no tracking data for this course: NULL, not 0
        by_user = window.groupby("user_id")
        last_week = window[window["activity_date"] > day - dt.timedelta(days=7)]
        features = pd.DataFrame(
            {
                "tracking_active_days_30d": by_user.size(),
                "tracking_events_7d": last_week.groupby("user_id")["events"].sum(),
                "tracking_last_event_at": by_user["last_event_at"].max(),
                **{f"{name}_30d": by_user[source].sum() for source, name in _TRACKING_SUMS.items()},
            }
        )
        merged = group[KEY].merge(features, left_on="user_id", right_index=True, how="left")
        counts = [c for c in columns if c != "tracking_last_event_at"]
        # infer_objects first: an all-NULL column of object dtype fills to numbers, not objects.
        merged[counts] = merged[counts].infer_objects().fillna(0)
        pieces.append(merged)
    return (
        pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=[*KEY, *columns])
    )


def _features_present_where_activity_is() -> quality.Rule:
    """A course-day of raw_data whose tracking columns are all NULL although
    learner_daily_activity holds rows of that course in the 30-day window: raw_data
    was built before (or without) the tracking tables it declares."""

    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        activity = schema.tables["learner_daily_activity"]
        in_window = sa.or_(
            *(
                sa.and_(
                    table.c.snapshot_date == day,
                    sa.exists().where(
                        activity.c.course_id == table.c.course_id,
                        activity.c.snapshot_date.between(
                            day - dt.timedelta(days=TRACKING_WINDOW_DAYS - 1), day
                        ),
                    ),
                )
                for day in sorted({p.day for p in partitions})
            )
        )
        return (
            sa.select(table.c.course_id, table.c.snapshot_date)
            .where(partition_filter(table, partitions), in_window)
            .group_by(table.c.course_id, table.c.snapshot_date)
            .having(sa.func.count(table.c.tracking_events_30d) == 0)
        )

    return quality.Rule(
        "tracking_features_present",
        "A course with tracking-log activity in the 30 days up to the day has tracking "
        "features in raw_data (all NULL means raw_data was built before its tracking tables).",
        query,
        reads=FEATURE_DEPS,
    )


FEATURE_RULES = [_features_present_where_activity_is()]  # raw_data checks these
