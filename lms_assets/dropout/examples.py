"""Point-in-time dropout examples: what was known at each weekly cutoff, and what came after.

The point-in-time rule (docs/model.md): an example of cutoff C reads
- the log table ``learner_daily_activity`` (the tracking logs, per learner and day) for days
  up to and including C, and
- the snapshot tables ``enrollments`` and ``mooc_grades`` only as stored on the latest day
  on or before C (a snapshot tells the state of the day it was read);
never ``raw_data``, whose labels look 30 days back from its own day. The labels read only
what lies after C: activity in the run's last quarter, which starts after the last cutoff,
and the first grades snapshot stored on or after the run's end.

Set-based: one query per table for the whole run, then pandas.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from lms_assets import settings
from lms_assets.dropout.schema import metadata as schema
from lms_assets.openedx import schema as _openedx_schema  # noqa: F401 - registers its tables
from lms_assets.tracking import schema as _tracking_schema  # noqa: F401 - registers its tables
from lms_assets.warehouse import WarehouseResource

KEY = ["course_id", "snapshot_date", "user_id"]
INPUT_TABLES = ("learner_daily_activity", "enrollments", "mooc_grades")
_SUMS = {  # feature -> learner_daily_activity column, summed up to the cutoff
    "events": "events",
    "active_minutes": "active_minutes",
    "video_plays": "video_plays",
    "problem_checks": "problem_checks",
    "problem_correct": "problem_correct",
    "forum_posts": "forum_posts",
}


@dataclass(frozen=True)
class CourseRun:
    """A course run (an Open edX course id) and its calendar, both ends included."""

    course_id: str
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"course run {self.course_id}: end {self.end} before start")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def label_start(self, last_fraction: float) -> dt.date:
        """First day of the label window: the run's last ``last_fraction`` of days."""
        if not 0 < last_fraction < 1:
            raise ValueError(f"LMS_DROPOUT_LAST_FRACTION must be in (0, 1), not {last_fraction}")
        return self.end - dt.timedelta(days=math.ceil(self.days * last_fraction) - 1)

    def cutoffs(self, last_fraction: float, today: dt.date) -> list[dt.date]:
        """The last day of each run week that is over by ``today`` and ends before the label
        window (a cutoff inside it would see part of what its label is about)."""
        label_start = self.label_start(last_fraction)
        days = (self.start + dt.timedelta(days=7 * k - 1) for k in range(1, self.days // 7 + 1))
        return [d for d in days if d < label_start and d < today]


def _read(warehouse: WarehouseResource, table_name: str, course_id: str) -> pd.DataFrame:
    table = schema.tables[table_name]
    frame = warehouse.read_frame(sa.select(table).where(table.c.course_id == course_id))
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    return frame


def _latest_on_or_before(
    snapshots: pd.DataFrame, day: dt.date
) -> tuple[dt.date | None, pd.DataFrame]:
    stored = snapshots[snapshots["snapshot_date"] <= day]
    if stored.empty:
        return None, stored
    latest = stored["snapshot_date"].max()
    return latest, stored[stored["snapshot_date"] == latest]


def _labels(
    run: CourseRun,
    activity: pd.DataFrame,
    grades: pd.DataFrame,
    today: dt.date,
    last_fraction: float,
) -> tuple[set[int] | None, dict[int, bool | None]]:
    """(learners active in the label window, or None while the run is not over;
    {learner: is_passed} of the first grades snapshot stored on or after the run's end)."""
    days = activity["snapshot_date"]
    window = activity[(days >= run.label_start(last_fraction)) & (days <= run.end)]
    active = set(window["user_id"]) if run.end < today else None
    final = grades[grades["snapshot_date"] >= run.end]
    if final.empty:
        return active, {}
    first = final[final["snapshot_date"] == final["snapshot_date"].min()]
    return active, {
        int(u): None if pd.isna(p) else bool(p)
        for u, p in zip(first["user_id"], first["is_passed"], strict=True)
    }


def read_inputs(
    warehouse: WarehouseResource, course_id: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(active learner days, enrollments snapshots, grades snapshots) of one run."""
    activity = _read(warehouse, "learner_daily_activity", course_id)
    enrollments = _read(warehouse, "enrollments", course_id)
    grades = _read(warehouse, "mooc_grades", course_id)
    return activity[activity["events"] > 0], enrollments, grades


def features_at(
    run: CourseRun,
    cutoff: dt.date,
    activity: pd.DataFrame,
    enrollments: pd.DataFrame,
    grades: pd.DataFrame,
) -> pd.DataFrame | None:
    """The features of every learner known at ``cutoff`` (the point-in-time rule), or None
    when none is; also what ``dropout_risk`` scores on a day."""
    known = activity[activity["snapshot_date"] <= cutoff]  # the point-in-time rule
    used, enrolled = _latest_on_or_before(enrollments, cutoff)
    _, graded = _latest_on_or_before(grades, cutoff)
    users = sorted(set(known["user_id"]) | set(enrolled["user_id"]))
    if not users:
        return None
    frame = pd.DataFrame({"user_id": users})
    by_user = known.groupby("user_id")
    ago = known["snapshot_date"].map(lambda d, c=cutoff: (c - d).days)
    recent, previous = known[ago < 7], known[(ago >= 7) & (ago < 14)]
    sums = by_user[list(_SUMS.values())].sum().rename(columns={v: k for k, v in _SUMS.items()})
    features = pd.DataFrame(
        {
            "active_days": by_user.size(),
            "active_days_7d": recent.groupby("user_id").size(),
            "events_7d": recent.groupby("user_id")["events"].sum(),
            "events_prev_7d": previous.groupby("user_id")["events"].sum(),
            "days_since_last_activity": by_user["snapshot_date"]
            .max()
            .map(lambda d, c=cutoff: (c - d).days),
        }
    ).join(sums)
    frame = frame.merge(features, left_on="user_id", right_index=True, how="left")
    counts = [c for c in features.columns if c != "days_since_last_activity"]
    frame[counts] = frame[counts].fillna(0)
    enrolled_on = pd.to_datetime(
        frame["user_id"].map(enrolled.set_index("user_id")["enrolled_at"])
    ).dt.normalize()
    frame["days_enrolled"] = (pd.Timestamp(cutoff) - enrolled_on).dt.days
    frame["is_active"] = frame["user_id"].map(enrolled.set_index("user_id")["is_active"])
    frame["grade_at_cutoff"] = frame["user_id"].map(graded.set_index("user_id")["grade_percentage"])
    frame["snapshot_used"] = used
    frame["course_id"] = run.course_id
    frame["snapshot_date"] = cutoff
    frame["run_start"], frame["run_end"] = run.start, run.end
    frame["course_fraction"] = round(((cutoff - run.start).days + 1) / run.days, 4)
    return frame


def build_examples(
    warehouse: WarehouseResource,
    run: CourseRun,
    today: dt.date,
    last_fraction: float | None = None,
) -> pd.DataFrame:
    """The examples of ``run``: one per learner known at each cutoff (seen in the logs up to
    it, or in the enrollments snapshot it reads), columns of ``dropout_training_set``."""
    last_fraction = (
        settings.current.dropout_last_fraction if last_fraction is None else last_fraction
    )
    columns = [
        c.name for c in schema.tables["dropout_training_set"].columns if c.name != "loaded_at"
    ]
    activity, enrollments, grades = read_inputs(warehouse, run.course_id)
    active_at_end, passed = _labels(run, activity, grades, today, last_fraction)
    pieces = []
    for week, cutoff in enumerate(run.cutoffs(last_fraction, today), start=1):
        frame = features_at(run, cutoff, activity, enrollments, grades)
        if frame is None:
            continue
        frame["cutoff_week"] = week
        frame["is_dropout"] = frame["user_id"].map(
            lambda u: None if active_at_end is None else u not in active_at_end
        )
        frame["is_passed"] = frame["user_id"].map(lambda u: passed.get(int(u)))
        pieces.append(frame)
    if not pieces:
        return pd.DataFrame(columns=columns)
    out = pd.concat(pieces, ignore_index=True)
    for name in (
        "days_enrolled",
        "days_since_last_activity",
        *_SUMS,
        "active_days",
        "active_days_7d",
        "events_7d",
        "events_prev_7d",
    ):
        if name != "active_minutes":
            out[name] = pd.to_numeric(out[name]).round().astype("Int64")
    for name in ("is_active", "is_dropout", "is_passed"):
        out[name] = (
            out[name].map(lambda v: None if v is None or pd.isna(v) else bool(v)).astype(object)
        )
    return out[columns].sort_values(KEY, ignore_index=True)
