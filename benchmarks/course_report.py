"""The course report of one course with 5,000 learners and a semester (120 days) of events.

The warehouse holds what the product would have stored: the day's snapshots
(enrollments, grades, progress, raw_data) and, for every day of the semester,
learner_daily_activity and the tracking events behind it (~1.6 million events). The
figure is the time to render and write the page (all ten tasks, their charts, the
HTML), on SQLite (the default warehouse) and on MariaDB (LMS_BENCH_MYSQL_URL); the
physical floor is one scan of the event window the page reads.
"""

import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import sqlalchemy as sa

from benchmarks._mysql import throwaway_database
from lms_assets.partitions import Partition
from lms_assets.reports import tasks
from lms_assets.reports.html import write_report
from lms_assets.tracking.store import store_events
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

LEARNERS = 5_000
DAYS = 120
COURSE = "course-v1:BENCH+REPORT+2026_T1"
FIRST = dt.date(2026, 1, 12)
DAY = FIRST + dt.timedelta(days=DAYS - 1)
VIDEOS, PROBLEMS = 40, 60
# Per active learner-day: 2 plays, a pause and a seek, 2 problem checks, 2 pages.
PATTERN = ["play_video", "pause_video", "play_video", "seek_video"]
PATTERN += ["problem_check", "problem_check", "/courseware", "/progress"]


def _learners(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Each learner: how often they come, and the day they stop (many never do)."""
    return {
        "engagement": rng.uniform(0.1, 0.7, LEARNERS),
        "last_day": np.where(rng.random(LEARNERS) < 0.3, rng.integers(10, DAYS, LEARNERS), DAYS),
        "skill": rng.uniform(0.2, 0.95, LEARNERS),
    }


def _activity(rng: np.random.Generator, people: dict) -> tuple[np.ndarray, np.ndarray]:
    """(day index, user index) of every active learner-day."""
    day = np.arange(DAYS)[:, None]
    weekday = np.where((FIRST.weekday() + day) % 7 < 5, 1.0, 0.4)  # weekends are quieter
    active = rng.random((DAYS, LEARNERS)) < people["engagement"][None, :] * weekday
    active &= day < people["last_day"][None, :]
    return np.nonzero(active)


def _events(rng, people, days, users) -> pa.Table:
    n = len(days) * len(PATTERN)
    slot = np.tile(np.arange(len(PATTERN)), len(days))
    day = np.repeat(days, len(PATTERN))
    user = np.repeat(users, len(PATTERN))
    kind = np.array(PATTERN, dtype=object)[slot]
    video = kind != "problem_check"
    video &= ~np.char.startswith(kind.astype(str), "/")
    problem = kind == "problem_check"
    dates = np.array([FIRST + dt.timedelta(days=int(d)) for d in range(DAYS)])
    time_ = (
        np.datetime64(f"{FIRST}T08:00")
        + day.astype("timedelta64[D]")
        + slot.astype("timedelta64[m]")
    ).astype("datetime64[us]")
    video_ids = rng.integers(0, VIDEOS, n)
    position = np.where(kind == "play_video", 0.0, rng.uniform(0, 1, n) ** 0.5 * 600 * video)
    attempts = rng.integers(1, 4, n)
    success = rng.random(n) < people["skill"][user] - 0.05 * (video_ids % 10)
    return pa.table(
        {
            "course_id": pa.array([COURSE] * n),
            "snapshot_date": pa.array(dates[day], type=pa.date32()),
            "event_id": pa.array([f"{i:040x}" for i in range(n)]),
            "time": pa.array(time_, type=pa.timestamp("us")),
            "user_id": pa.array(user + 1, type=pa.int64()),
            "event_type": pa.array(kind.astype(str)),
            "event_source": pa.array(np.where(problem, "server", "browser")),
            "module_id": pa.array(
                [
                    f"block-v1:BENCH+type@video+block@v{v}" if is_v else None
                    for v, is_v in zip(video_ids, video, strict=True)
                ]
            ),
            "video_position": pa.array(np.where(video, position, np.nan), from_pandas=True),
            "problem_id": pa.array(
                [
                    f"block-v1:BENCH+type@problem+block@p{v % PROBLEMS}" if is_p else None
                    for v, is_p in zip(video_ids, problem, strict=True)
                ]
            ),
            "problem_success": pa.array(np.where(problem, success, None), type=pa.bool_()),
            "problem_attempts": pa.array(np.where(problem, attempts, None), type=pa.int32()),
        }
    )


def _daily(days, users) -> pa.Table:
    n = len(days)
    dates = np.array([FIRST + dt.timedelta(days=int(d)) for d in range(DAYS)])
    counts = {"pages_viewed": 2, "video_plays": 2, "video_pauses": 1, "video_seeks": 1}
    return pa.table(
        {
            "course_id": pa.array([COURSE] * n),
            "snapshot_date": pa.array(dates[days], type=pa.date32()),
            "user_id": pa.array(users + 1, type=pa.int64()),
            "events": pa.array(np.full(n, len(PATTERN)), type=pa.int32()),
            "active_minutes": pa.array(np.full(n, 7.0)),
            "sessions": pa.array(np.ones(n, dtype=int), type=pa.int32()),
            **{k: pa.array(np.full(n, v), type=pa.int32()) for k, v in counts.items()},
            "problem_checks": pa.array(np.full(n, 2), type=pa.int32()),
            "problem_correct": pa.array(np.ones(n, dtype=int), type=pa.int32()),
            "forum_posts": pa.array(np.zeros(n, dtype=int), type=pa.int32()),
        }
    )


def _snapshots(rng, people, days, users) -> dict[str, list[dict]]:
    base = {"course_id": COURSE, "snapshot_date": DAY}
    last = np.full(LEARNERS, -1)
    np.maximum.at(last, users, days)
    grade = np.round(people["skill"] * 100 * np.minimum(1, (last + 1) / DAYS + 0.2), 1)
    completion = np.round(100 * np.minimum(1, (last + 1) / DAYS) * people["engagement"] / 0.7, 1)
    idle = DAYS - 1 - last
    ids = range(LEARNERS)
    enrolled = [
        dt.datetime.combine(FIRST, dt.time(9)) - dt.timedelta(hours=int(h))
        for h in rng.integers(0, 24 * 40, LEARNERS)
    ]
    return {
        "enrollments": [
            {
                **base,
                "user_id": i + 1,
                "username": f"learner{i + 1}",
                "is_active": True,
                "enrolled_at": enrolled[i],
            }
            for i in ids
        ],
        "mooc_grades": [
            {
                **base,
                "user_id": i + 1,
                "grade_percentage": float(grade[i]),
                "is_passed": bool(grade[i] >= 50),
            }
            for i in ids
        ],
        "mooc_progress": [
            {**base, "user_id": i + 1, "completion_rate": float(completion[i])} for i in ids
        ],
        "raw_data": [
            {
                **base,
                "user_id": i + 1,
                "grade_percentage": float(grade[i]),
                "completion_rate": float(completion[i]),
                "days_since_last_activity": int(idle[i]),
                "relative_to_course_completion": float(completion[i] - completion.mean()),
                "is_dropout": bool(idle[i] > 30),
                "is_bottom_performer": bool(grade[i] < 30),
                "is_active": True,
            }
            for i in ids
        ],
    }


def load(warehouse: WarehouseResource) -> int:
    rng = np.random.default_rng(16)
    people = _learners(rng)
    days, users = _activity(rng, people)
    events, daily = _events(rng, people, days, users), _daily(days, users)
    # Day by day, as tracking_events is loaded (and so a day's rows at a time in memory).
    starts = np.searchsorted(days, np.arange(DAYS + 1))  # days come sorted from nonzero()
    for d in range(DAYS):
        partition = [Partition(COURSE, FIRST + dt.timedelta(days=d))]
        first, last = int(starts[d]), int(starts[d + 1])
        step = len(PATTERN)
        store_events(warehouse, partition[0], events.slice(first * step, (last - first) * step))
        warehouse.replace_partitions(
            "learner_daily_activity", partition, daily.slice(first, last - first)
        )
    warehouse.write(
        [Partition(COURSE, DAY)], _snapshots(rng, people, days, users), asset_name="bench"
    )
    return events.num_rows


def _floor(warehouse: WarehouseResource) -> float:
    """One scan of the window's events: what any page over them costs at least."""
    t = registered_metadata().tables["tracking_events"]
    first = DAY - dt.timedelta(days=tasks.WINDOW_DAYS - 1)
    started = time.perf_counter()
    warehouse.scalar(
        sa.select(sa.func.count(), sa.func.max(t.c.video_position)).where(
            t.c.course_id == COURSE, t.c.snapshot_date.between(first, DAY)
        )
    )
    return time.perf_counter() - started


def measure(name: str, warehouse: WarehouseResource) -> None:
    started = time.perf_counter()
    events = load(warehouse)
    print(
        f"{name}: loaded {events:,} events of {LEARNERS:,} learners x {DAYS} days "
        f"in {time.perf_counter() - started:.0f}s"
    )
    with tempfile.TemporaryDirectory() as folder:
        write_report(warehouse, folder, COURSE, DAY)  # warm: the engine, matplotlib's fonts
        best, cpu = float("inf"), 0.0
        for _ in range(3):
            wall, process = time.perf_counter(), time.process_time()
            path = write_report(warehouse, folder, COURSE, DAY).path
            took = time.perf_counter() - wall
            if took < best:
                best, cpu = took, time.process_time() - process
        size = Path(path).stat().st_size
    floor = _floor(warehouse)
    print(
        f"{name}: report in {best:.2f}s wall ({cpu:.2f}s CPU of this process), "
        f"{size / 1024:.0f} KB; one scan of the {tasks.WINDOW_DAYS}-day event window "
        f"{floor:.2f}s ({best / floor:.1f}x)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        measure("SQLite", WarehouseResource(url=f"sqlite:///{folder}/warehouse.sqlite"))
    with throwaway_database("report") as url:
        measure("MariaDB", WarehouseResource(url=url))


if __name__ == "__main__":
    main()
