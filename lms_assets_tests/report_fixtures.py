"""A small course whose report figures are computed by hand (the comments give them).

Four learners; the report's day is Tuesday 2026-03-10, its 28-day window 2026-02-11..03-10.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from lms_assets.partitions import Partition
from lms_assets.tracking.store import store_events
from lms_assets.warehouse import RejectedRecord, WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

COURSE = "course-v1:Test+R101+2026_T1"
DAY = dt.date(2026, 3, 10)
D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)  # Monday, Tuesday of the week before
V1 = "block-v1:Test+R101+2026_T1+type@video+block@intro"
V2 = "block-v1:Test+R101+2026_T1+type@video+block@recap"
P1 = "block-v1:Test+R101+2026_T1+type@problem+block@hard"
P2 = "block-v1:Test+R101+2026_T1+type@problem+block@easy"


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute)


def _activity(user: int, events: int, minutes: float, **kinds: int) -> dict:
    names = ("pages_viewed", "video_plays", "video_pauses", "video_seeks", "problem_checks")
    return {
        "user_id": user,
        "events": events,
        "active_minutes": minutes,
        "sessions": 1,
        "problem_correct": 0,
        "forum_posts": kinds.pop("forum_posts", 0),
        **{name: kinds.get(name, 0) for name in names},
    }


EVENT_FIELDS = ("module_id", "video_position", "problem_id", "problem_attempts", "problem_success")


def _event(n: int, time: dt.datetime, user: int, kind: str, **fields) -> dict:
    return {
        **dict.fromkeys(EVENT_FIELDS),
        "course_id": COURSE,
        "snapshot_date": time.date(),
        "event_id": hashlib.sha1(str(n).encode()).hexdigest(),
        "time": time,
        "user_id": user,
        "event_type": kind,
        "event_source": fields.pop("source", "browser" if "video" in kind else "server"),
        **fields,
    }


def load_course(warehouse: WarehouseResource) -> None:
    here = Partition(COURSE, DAY)
    enrolled = [at(dt.date(2026, 2, 20), 10), at(dt.date(2026, 2, 20), 11)]
    enrolled += [at(dt.date(2026, 3, 1), 9), at(dt.date(2026, 3, 5), 12)]
    # enrollment_over_time: 02-20 +2 (2), 03-01 +1 (3), 03-05 +1 (4)
    warehouse.write(
        [here],
        {
            "enrollments": [
                {
                    "course_id": COURSE,
                    "snapshot_date": DAY,
                    "user_id": u,
                    "username": f"learner{u}",
                    "is_active": u != 4,
                    "enrolled_at": enrolled[u - 1],
                }
                for u in (1, 2, 3, 4)
            ],
            # grades 95 (passed), 72 (passed), 40, NULL: buckets 90-100, 70-80, 40-50
            "mooc_grades": [
                {
                    "course_id": COURSE,
                    "snapshot_date": DAY,
                    "user_id": u,
                    "grade_percentage": g,
                    "is_passed": p,
                }
                for u, g, p in ((1, 95.0, True), (2, 72.0, True), (3, 40.0, False), (4, None, None))
            ],
            # completion 100, 65, 10, 0: buckets 90-100, 60-70, 10-20, 0-10
            "mooc_progress": [
                {"course_id": COURSE, "snapshot_date": DAY, "user_id": u, "completion_rate": c}
                for u, c in ((1, 100.0), (2, 65.0), (3, 10.0), (4, 0.0))
            ],
            # at risk: learner3 (idle 20 days, 33.75 points below, bottom quarter), learner4
            # (dropout, idle 40 days, 43.75 below); learners 1 and 2 are not flagged.
            "raw_data": [
                {
                    "course_id": COURSE,
                    "snapshot_date": DAY,
                    "user_id": u,
                    "grade_percentage": g,
                    "completion_rate": c,
                    "days_since_last_activity": idle,
                    "relative_to_course_completion": gap,
                    "is_dropout": drop,
                    "is_bottom_performer": bottom,
                    "is_active": u != 4,
                }
                for u, g, c, idle, gap, drop, bottom in (
                    (1, 95.0, 100.0, 0, 56.25, False, False),
                    (2, 72.0, 65.0, 0, 21.25, False, False),
                    (3, 40.0, 10.0, 20, -33.75, False, True),
                    (4, None, 0.0, 40, -43.75, True, None),
                )
            ],
        },
        asset_name="enrollments",
        rejected=[
            RejectedRecord(here, "openedx", "user_id missing"),
            RejectedRecord(here, "openedx", "user_id missing"),
        ],
    )
    # daily_active_learners: 03-02 2 learners 15 events 15.5 min; 03-03 1, 6, 8.0; 03-10 1, 4, 5.5
    # activity_by_type: week 03-02 pages 9, plays 3, pauses 1, seeks 0, checks 5, forum 1,
    # other 21 - 19 = 2; week 03-09 pages 1, plays 1, checks 2, other 0
    activity = {
        D1: [
            _activity(
                1,
                10,
                12.5,
                pages_viewed=4,
                video_plays=2,
                video_pauses=1,
                problem_checks=2,
                forum_posts=1,
            ),
            _activity(2, 5, 3.0, pages_viewed=3, video_plays=1),
        ],
        D2: [_activity(1, 6, 8.0, pages_viewed=2, problem_checks=3)],
        DAY: [_activity(2, 4, 5.5, pages_viewed=1, video_plays=1, problem_checks=2)],
    }
    warehouse.write(
        [Partition(COURSE, d) for d in activity],
        {
            "learner_daily_activity": [
                {"course_id": COURSE, "snapshot_date": d, **row}
                for d, rows in activity.items()
                for row in rows
            ]
        },
        asset_name="learner_daily_activity",
    )
    # videos: V1 viewers learner1 (furthest 100 = length) and learner2 (45): 1 of 2 reach 90%,
    # 50.0; learner3 paused without playing: not a viewer (but 30 is below the length anyway).
    # V2: learner1 alone, 20 of 20: 100.0. Drop-off of V1: 100 up to 40%, 50 from 50%.
    # problems (server checks): P1 4 attempts by 3 learners, 2 correct (50.0); first tries 3, 1
    # correct (33.3). P2: 1 attempt, correct, first try: 100.0. A browser check and an
    # attempt before the window are not counted.
    events = [
        _event(1, at(D1, 9), 1, "play_video", module_id=V1, video_position=0.0),
        _event(2, at(D1, 9, 5), 1, "pause_video", module_id=V1, video_position=100.0),
        _event(3, at(D1, 10), 2, "play_video", module_id=V1, video_position=0.0),
        _event(4, at(D1, 10, 2), 2, "seek_video", module_id=V1, video_position=45.0),
        _event(5, at(D2, 8), 3, "pause_video", module_id=V1, video_position=30.0),
        _event(6, at(DAY, 8), 1, "play_video", module_id=V2, video_position=20.0),
        _event(
            7,
            at(D1, 11),
            1,
            "problem_check",
            problem_id=P1,
            problem_attempts=1,
            problem_success=False,
        ),
        _event(
            8,
            at(D1, 11, 3),
            1,
            "problem_check",
            problem_id=P1,
            problem_attempts=2,
            problem_success=True,
        ),
        _event(
            9,
            at(D2, 9),
            2,
            "problem_check",
            problem_id=P1,
            problem_attempts=1,
            problem_success=True,
        ),
        _event(
            10,
            at(DAY, 9),
            3,
            "problem_check",
            problem_id=P1,
            problem_attempts=1,
            problem_success=False,
        ),
        _event(
            11,
            at(DAY, 10),
            1,
            "problem_check",
            problem_id=P2,
            problem_attempts=1,
            problem_success=True,
        ),
        _event(
            12,
            at(DAY, 10),
            1,
            "problem_check",
            problem_id=P2,
            problem_attempts=1,
            problem_success=True,
            source="browser",
        ),
        _event(
            13,
            at(dt.date(2026, 2, 8), 9),
            4,
            "problem_check",
            problem_id=P1,
            problem_attempts=1,
            problem_success=True,
        ),
    ]
    for day in sorted({e["snapshot_date"] for e in events}):  # as the tracking load stores them
        store_events(
            warehouse, Partition(COURSE, day), [e for e in events if e["snapshot_date"] == day]
        )
    # Three lines of the day's logs could not be read (the whole site's).
    quarantine = registered_metadata().tables["tracking_quarantine"]
    with warehouse.engine.begin() as conn:
        conn.execute(
            quarantine.insert(),
            [
                {
                    "snapshot_date": DAY,
                    "file_name": "tracking.log",
                    "line_number": n,
                    "reason": "not JSON",
                    "raw_line": "{",
                    "loaded_at": at(DAY, 23),
                }
                for n in (1, 2, 3)
            ],
        )
