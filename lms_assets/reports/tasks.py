"""The default analytic tasks (seed 003): named queries on one course as of one day.

Each task reads the warehouse (SQLAlchemy Core, parameterized, aggregated in SQL
where the rows are many) and returns one DataFrame. The course report renders
them; ``lms-assets analyze COURSE TASK`` writes one of them as CSV, Parquet or
markdown. Defined once here, so the report and the command never disagree.

"As of day D" means: daily tables up to and including D; snapshot tables (enrollments,
grades, progress, raw_data) from their latest snapshot on or before D; the
event-level sections (videos, drop-off, problems) from the WINDOW_DAYS days ending D,
since a semester of raw events is too many rows to scan for one page.
Column reference: docs/reports.md.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

from lms_assets.partitions import day_window, to_date
from lms_assets.reports.data_quality import data_quality
from lms_assets.research_packages.pseudonyms import Pseudonymizer
from lms_assets.tracking.assets import VIDEO_PAUSE, VIDEO_PLAY, VIDEO_SEEK
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

WINDOW_DAYS = 28  # the event-level sections' window, ending on the report's day
DROP_OFF_STEPS = tuple(range(0, 101, 10))  # % of a video's length
INACTIVE_DAYS = 14  # at risk: no sign of life for this long
COMPLETION_GAP = 20.0  # at risk: completion this many points below the course average
ACTIVITY_TYPES = (
    "pages_viewed",
    "video_plays",
    "video_pauses",
    "video_seeks",
    "problem_checks",
    "forum_posts",
)


def _table(name: str) -> sa.Table:
    return registered_metadata().tables[name]


@dataclass(frozen=True)
class Task:
    name: str
    description: str  # one line: what question it answers
    run: Callable[[WarehouseResource, str, dt.date], pd.DataFrame]


def latest_snapshot(warehouse: WarehouseResource, table: str, course: str, day: dt.date):
    """The latest snapshot_date of ``table`` for the course on or before ``day`` (or None)."""
    t = _table(table)
    found = warehouse.scalar(
        sa.select(sa.func.max(t.c.snapshot_date)).where(
            t.c.course_id == course, t.c.snapshot_date <= day
        )
    )
    return None if found is None else to_date(found)


def _snapshot(warehouse: WarehouseResource, table: str, course: str, day: dt.date, *columns):
    t = _table(table)
    snapshot = latest_snapshot(warehouse, table, course, day)
    selected = [t.c[c] for c in columns]
    if snapshot is None:
        return pd.DataFrame(columns=list(columns))
    return warehouse.read_frame(
        sa.select(*selected).where(t.c.course_id == course, t.c.snapshot_date == snapshot)
    )


def enrollment_over_time(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    frame = _snapshot(warehouse, "enrollments", course, day, "user_id", "enrolled_at")
    end = day_window(day)[1]
    dates = pd.to_datetime(frame["enrolled_at"]).dropna()
    dates = dates[dates < end].dt.date
    counts = dates.value_counts().sort_index()
    result = pd.DataFrame({"date": counts.index, "new_enrollments": counts.to_numpy(dtype=int)})
    result["enrolled"] = result["new_enrollments"].cumsum()
    return result


def daily_active_learners(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    t = _table("learner_daily_activity")
    frame = warehouse.read_frame(
        sa.select(
            t.c.snapshot_date.label("date"),
            sa.func.count().label("active_learners"),
            sa.func.sum(t.c.events).label("events"),
            sa.func.sum(t.c.active_minutes).label("active_minutes"),
        )
        .where(t.c.course_id == course, t.c.snapshot_date <= day)
        .group_by(t.c.snapshot_date)
        .order_by(t.c.snapshot_date)
    )
    frame["date"] = frame["date"].map(to_date)
    frame["active_minutes"] = frame["active_minutes"].astype(float).round(1)
    return frame.astype({"active_learners": int, "events": int})


def activity_by_type(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """Per week (Monday) up to the day: events of each kind; ``other`` is the rest."""
    t = _table("learner_daily_activity")
    frame = warehouse.read_frame(
        sa.select(
            t.c.snapshot_date,
            sa.func.sum(t.c.events).label("events"),
            *(sa.func.sum(t.c[kind]).label(kind) for kind in ACTIVITY_TYPES),
        )
        .where(t.c.course_id == course, t.c.snapshot_date <= day)
        .group_by(t.c.snapshot_date)
    )
    columns = ["week", *ACTIVITY_TYPES, "other"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    dates = frame["snapshot_date"].map(to_date)
    frame["week"] = [d - dt.timedelta(days=d.weekday()) for d in dates]
    numbers = frame[["events", *ACTIVITY_TYPES]].fillna(0).astype(int)
    weekly = numbers.groupby(frame["week"]).sum()
    weekly["other"] = weekly["events"] - weekly[list(ACTIVITY_TYPES)].sum(axis=1)
    return weekly.reset_index()[columns]


def _window_events(t: sa.Table, course: str, day: dt.date):
    first = day - dt.timedelta(days=WINDOW_DAYS - 1)
    return sa.and_(t.c.course_id == course, t.c.snapshot_date.between(first, day))


# Reads two tasks share (videos and video_drop_off group the same events), kept for the
# duration of one report so that the page scans them once; never across reports.
_shared_reads: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "report_reads", default=None
)


@contextlib.contextmanager
def one_read_each() -> Iterator[None]:
    token = _shared_reads.set({})
    try:
        yield
    finally:
        _shared_reads.reset(token)


def _furthest_positions(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """Per video and learner in the window: the furthest position, and whether they played."""
    shared = _shared_reads.get()
    key = ("furthest_positions", warehouse.url, course, day)
    if shared is not None and key in shared:
        return shared[key]
    frame = _read_furthest_positions(warehouse, course, day)
    if shared is not None:
        shared[key] = frame
    return frame


def _read_furthest_positions(
    warehouse: WarehouseResource, course: str, day: dt.date
) -> pd.DataFrame:
    t = _table("tracking_events")
    played = sa.func.max(sa.case((t.c.event_type.in_(VIDEO_PLAY), 1), else_=0))
    return warehouse.read_frame(
        sa.select(
            t.c.module_id.label("video_id"),
            t.c.user_id,
            sa.func.max(t.c.video_position).label("furthest"),
            played.label("played"),
        )
        .where(
            _window_events(t, course, day),
            t.c.event_type.in_(VIDEO_PLAY + VIDEO_PAUSE + VIDEO_SEEK),
            t.c.module_id.is_not(None),
            t.c.user_id.is_not(None),
        )
        .group_by(t.c.module_id, t.c.user_id)
    )


def _viewers(positions: pd.DataFrame) -> pd.DataFrame:
    """Viewers (learners who played) with their furthest position as a share of the video's
    length, the furthest position anyone reached (logs carry no duration)."""
    positions = positions.astype({"furthest": float})
    length = positions.groupby("video_id")["furthest"].transform("max")
    viewers = positions.assign(share=positions["furthest"] / length.where(length > 0))
    return viewers[viewers["played"].astype(int) == 1]


def videos(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """Per video, the window's viewers and the % of them who reached 90% of its length
    (the same completion as video_engagement's, over the window instead of one day)."""
    viewers = _viewers(_furthest_positions(warehouse, course, day))
    columns = ["video_id", "viewers", "completed", "completion_pct"]
    if viewers.empty:
        return pd.DataFrame(columns=columns)
    grouped = viewers.assign(done=viewers["share"] >= 0.9).groupby("video_id")
    result = pd.DataFrame(
        {"viewers": grouped.size(), "completed": grouped["done"].sum().astype(int)}
    )
    result["completion_pct"] = (100 * result["completed"] / result["viewers"]).round(1)
    return result.reset_index().sort_values(["viewers", "video_id"], ascending=[False, True])[
        columns
    ]


def video_drop_off(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """Per video and step along it (0, 10, ... 100 % of its length): the % of its viewers
    whose furthest position reached that far."""
    viewers = _viewers(_furthest_positions(warehouse, course, day)).dropna(subset=["share"])
    rows = []
    for video_id, group in viewers.groupby("video_id"):
        shares = group["share"].to_numpy()
        for step in DROP_OFF_STEPS:
            reached = int((shares >= step / 100 - 1e-9).sum())
            rows.append(
                {
                    "video_id": video_id,
                    "position_pct": step,
                    "viewers": len(shares),
                    "still_watching_pct": round(100 * reached / len(shares), 1),
                }
            )
    return pd.DataFrame(rows, columns=["video_id", "position_pct", "viewers", "still_watching_pct"])


def problem_performance(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """Per problem in the window: checks, learners, % correct, and first-try success (% of
    first attempts, problem_attempts = 1, answered correctly); hardest first."""
    t = _table("tracking_events")
    correct = sa.case((t.c.problem_success.is_(True), 1), else_=0)
    first = sa.case((t.c.problem_attempts == 1, 1), else_=0)
    first_correct = sa.case(
        (sa.and_(t.c.problem_attempts == 1, t.c.problem_success.is_(True)), 1), else_=0
    )
    frame = warehouse.read_frame(
        sa.select(
            t.c.problem_id,
            sa.func.count().label("attempts"),
            sa.func.count(t.c.user_id.distinct()).label("learners"),
            sa.func.sum(correct).label("correct"),
            sa.func.sum(first).label("first_tries"),
            sa.func.sum(first_correct).label("first_try_correct"),
        )
        .where(
            _window_events(t, course, day),
            t.c.event_type == "problem_check",
            t.c.event_source == "server",
            t.c.problem_id.is_not(None),
        )
        .group_by(t.c.problem_id)
    )
    numbers = ["attempts", "learners", "correct", "first_tries", "first_try_correct"]
    frame[numbers] = frame[numbers].fillna(0).astype(int)
    frame["correct_pct"] = (100 * frame["correct"] / frame["attempts"]).round(1)
    tries = frame["first_tries"].where(frame["first_tries"] > 0)
    frame["first_try_success_pct"] = (100 * frame["first_try_correct"] / tries).round(1)
    return frame.sort_values(
        ["first_try_success_pct", "correct_pct", "problem_id"], na_position="last"
    ).reset_index(drop=True)


def _buckets(values: pd.Series, name: str) -> pd.DataFrame:
    """Learners per 10-point bucket of a 0-100 figure (100 in the last bucket)."""
    counts = np.histogram(values.dropna().astype(float), bins=10, range=(0, 100))[0]
    return pd.DataFrame(
        {
            name: [f"{10 * i}-{10 * i + 10}" for i in range(10)],
            "learners": counts.astype(int),
        }
    )


def grade_distribution(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    frame = _snapshot(warehouse, "mooc_grades", course, day, "grade_percentage", "is_passed")
    result = _buckets(frame["grade_percentage"], "grade")
    grades = frame["grade_percentage"].astype(float)
    bucket = np.minimum((grades // 10).fillna(-1), 9).astype(int)
    passed = frame["is_passed"].map(lambda v: v is True or v == 1)
    result["passed"] = [int((passed & (bucket == i)).sum()) for i in range(10)]
    return result


def completion_distribution(
    warehouse: WarehouseResource, course: str, day: dt.date
) -> pd.DataFrame:
    frame = _snapshot(warehouse, "mooc_progress", course, day, "completion_rate")
    return _buckets(frame["completion_rate"], "completion")


def pseudonymizer() -> Pseudonymizer:
    """Seed 004's pseudonym (RIPEMD160 of the username, HMAC with LMS_PSEUDONYM_KEY when set):
    the same id a research package gives the learner, never the name."""
    return Pseudonymizer(os.environ.get("LMS_PSEUDONYM_KEY") or None)


def learners_at_risk(warehouse: WarehouseResource, course: str, day: dt.date) -> pd.DataFrame:
    """Learners of the latest raw_data snapshot flagged by one or more reasons, most first."""
    frame = _snapshot(
        warehouse,
        "raw_data",
        course,
        day,
        "user_id",
        "grade_percentage",
        "completion_rate",
        "days_since_last_activity",
        "relative_to_course_completion",
        "is_dropout",
        "is_bottom_performer",
    )
    columns = ["learner", "reasons", "grade", "completion", "days_inactive"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    idle = pd.to_numeric(frame["days_since_last_activity"])
    gap = pd.to_numeric(frame["relative_to_course_completion"])
    flags = {
        "dropout (inactive, idle over 30 days)": frame["is_dropout"].map(lambda v: v in (1, True)),
        f"no activity for {INACTIVE_DAYS}+ days": idle >= INACTIVE_DAYS,
        f"completion {COMPLETION_GAP:g}+ points below average": gap <= -COMPLETION_GAP,
        "grade in the bottom quarter": frame["is_bottom_performer"].map(lambda v: v in (1, True)),
    }
    reasons = pd.Series([[] for _ in range(len(frame))], index=frame.index)
    for reason, flagged in flags.items():
        for i in frame.index[flagged.fillna(False).astype(bool)]:
            reasons[i].append(reason)
    names = _snapshot(warehouse, "enrollments", course, day, "user_id", "username")
    username = dict(zip(names["user_id"], names["username"], strict=True))
    pseudonym = pseudonymizer()
    result = pd.DataFrame(
        {
            "learner": [pseudonym(username.get(u) or str(u)) for u in frame["user_id"]],
            "reasons": reasons.map("; ".join),
            "grade": frame["grade_percentage"],
            "completion": frame["completion_rate"],
            "days_inactive": idle.astype("Int64"),
            "count": reasons.map(len),
        }
    )
    result = result[result["count"] > 0]
    result = result.sort_values(
        ["count", "days_inactive", "learner"], ascending=[False, False, True]
    )
    return result[columns].reset_index(drop=True)


TASKS = {
    task.name: task
    for task in (
        Task("enrollment_over_time", "new and total enrollments per day", enrollment_over_time),
        Task("daily_active_learners", "learners with events, per day", daily_active_learners),
        Task(
            "activity_by_type",
            "events per week by kind (pages, video, problems...)",
            activity_by_type,
        ),
        Task("videos", f"viewers and completion per video, last {WINDOW_DAYS} days", videos),
        Task("video_drop_off", "% of viewers still watching along each video", video_drop_off),
        Task(
            "problem_performance",
            f"attempts, % correct, first-try success per problem, hardest first, last "
            f"{WINDOW_DAYS} days",
            problem_performance,
        ),
        Task(
            "grade_distribution",
            "learners (and passed) per 10-point grade bucket",
            grade_distribution,
        ),
        Task(
            "completion_distribution",
            "learners per 10-point completion bucket",
            completion_distribution,
        ),
        Task(
            "learners_at_risk", "pseudonymous learners flagged at risk, and why", learners_at_risk
        ),
        Task(
            "data_quality",
            "the day's rows, checks, refused records, quarantined lines",
            data_quality,
        ),
    )
}


def run_task(warehouse: WarehouseResource, course: str, name: str, day: dt.date) -> pd.DataFrame:
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; the tasks are {', '.join(TASKS)}")
    return TASKS[name].run(warehouse, course, day)
