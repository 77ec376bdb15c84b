"""The sandbox's Open edX tracking logs: the same learners, every kind of real defect.

One gzip file per day (``tracking-YYYY-MM-DD.log.gz``) holding every course. Each
active learner leaves page views, video plays/pauses/seeks, problem checks and
forum posts; around them sit blank lines, comments, logging headers, truncated
JSON, browser events whose ``event`` is a JSON string, URL event types, events
with an empty course id (course in the page URL) and an old-style course id.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path

from lms_assets.sandbox.semester import active_chance, released_share
from lms_assets.sandbox.university import University

OLD_STYLE_COURSE = "SANDBOX/LEGACY101/2019"


def _line(rng: random.Random, record: dict) -> str:
    text = json.dumps(record, separators=(",", ":"))
    roll = rng.random()
    if roll < 0.02:  # the logging handler's header in front of the JSON
        return f"2026-01-01 00:00:00,000 INFO 1234 [tracking] logger.py:41 - {text}"
    return text


def _events(rng: random.Random, university: University, day: dt.date) -> Iterator[dict]:
    base = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    for course in university.all_courses:
        # The content released so far: this week's problems and videos join the earlier ones.
        share = released_share(course.start, course.end, day)
        videos = course.video_content_ids[: max(1, round(share * len(course.video_content_ids)))]
        problems = course.h5p_content_ids[: max(1, round(share * len(course.h5p_content_ids)))]
        for learner in course.learners:
            chance = active_chance(learner, day, course.start)
            if chance == 0.0 or rng.random() >= chance:
                continue
            last = learner.last_activity
            assert last is not None  # a learner with a chance has been active
            if day == last.date():
                # The last active day: a session of at least one event ends at last_activity
                # (the first step is at most 400 s), so the logs' last day is the API's.
                start = last.replace(tzinfo=dt.UTC) - dt.timedelta(seconds=rng.randint(600, 3600))
                moment = max(base, start)
                clock = min(university.now, last + dt.timedelta(seconds=1)).replace(tzinfo=dt.UTC)
            else:
                moment = base + dt.timedelta(seconds=rng.randint(0, 80_000))
                clock = university.now.replace(tzinfo=dt.UTC)
            session = f"{learner.user_id:x}{day:%m%d}"
            context = {"user_id": learner.user_id, "course_id": course.course_id, "path": "/event"}
            common = {"username": learner.username, "session": session, "host": "lms.sandbox"}
            courseware = f"https://lms.sandbox/courses/{course.course_id}/courseware/ch/seq/"
            for _ in range(rng.randint(2, 12)):
                moment += dt.timedelta(seconds=rng.randint(5, 400))
                if moment >= clock:
                    break  # the sandbox's clock: nothing happened after it yet
                when = moment.isoformat().replace("+00:00", "Z")
                kind = rng.random()
                if kind < 0.2:  # a page view: a server event whose type is the URL path
                    yield {
                        **common,
                        "event_source": "server",
                        "time": when,
                        "event_type": f"/courses/{course.course_id}/courseware/ch/seq/",
                        "context": context,
                        "event": {"GET": {}, "POST": {}},
                    }
                elif kind < 0.6 and videos:
                    video = rng.choice(videos)
                    event_type = rng.choice(["play_video", "pause_video", "seek_video"])
                    payload = {
                        "id": f"video-{video}",
                        "code": "html5",
                        "currentTime": round(rng.uniform(0, 900), 1),
                    }
                    ctx = context if rng.random() > 0.05 else {**context, "course_id": ""}
                    yield {
                        **common,
                        "event_source": "browser",
                        "time": when,
                        "page": courseware,
                        "event_type": event_type,
                        "name": event_type,
                        "context": ctx,
                        "event": json.dumps(payload),
                    }
                elif kind < 0.85 and problems:
                    problem = rng.choice(problems)
                    correct = rng.random() < 0.25 + 0.65 * learner.engagement
                    success = "correct" if correct else "incorrect"
                    yield {
                        **common,
                        "event_source": "server",
                        "time": when,
                        "event_type": "problem_check",
                        "context": context,
                        "event": {
                            "problem_id": f"problem-{problem}",
                            "success": success,
                            "attempts": rng.randint(1, 3),
                            "grade": 1,
                            "max_grade": 1,
                        },
                    }
                else:
                    yield {
                        **common,
                        "event_source": "server",
                        "time": when,
                        "event_type": "edx.forum.thread.created",
                        "context": context,
                        "event": {"commentable_id": f"forum-{course.course_id[-8:]}"},
                    }


def write_tracking_logs(university: University, folder: Path, days: int | None = 2) -> list[Path]:
    """Write the last ``days`` days (today included; None: from the university's first day
    of logs) of tracking logs; returns the files.

    Each day has its own dice (seed and date), so a day's file is the same whatever the
    number of days written (the demo writes every day of its history, tests two days); the
    terms do not overlap, so the finished runs change no event of the running ones."""
    if days is None:
        days = (university.today - university.first_day).days + 1
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for back in range(days - 1, -1, -1):
        day = university.today - dt.timedelta(days=back)
        rng = random.Random(f"{university.seed}:tracking:{day.isoformat()}")
        path = folder / f"tracking-{day.isoformat()}.log.gz"
        events = sorted(_events(rng, university, day), key=lambda e: e["time"])
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write("# sandbox tracking log, rotated daily\n\n")
            for index, record in enumerate(events):
                handle.write(_line(rng, record) + "\n")
                if index % 997 == 500:  # a truncated line, as when a process dies mid-write
                    handle.write(json.dumps(record)[:60] + "\n")
                if index % 1499 == 700:  # an event of a course from before course-v1 keys
                    legacy = {
                        **record,
                        "context": {**record["context"], "course_id": OLD_STYLE_COURSE},
                    }
                    handle.write(json.dumps(legacy) + "\n")
            if day >= university.today:
                written.append(path)  # today's file: rotated at midnight, nothing in it yet
                continue
            handle.write(
                json.dumps(
                    {
                        "event_type": "edx.user.login",
                        "event_source": "server",
                        "time": f"{day.isoformat()}T06:00:00Z",
                        "context": {},
                    }
                )
                + "\n"
            )
        written.append(path)
    return written


UNITS_PER_COURSE = 1000


def write_large_log(
    path: Path, n_events: int, day: dt.date, courses: int = 20, seed: int = 1
) -> int:
    """A plain tracking log of ``n_events`` realistic (~1 KB) events of ``day``, for benchmarks.

    Every 1,000th line is a defect (truncated JSON); returns the bytes written.
    """
    rng = random.Random(seed)
    agent = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    )
    course_ids = [f"course-v1:BENCH+C{n:03d}+2026" for n in range(courses)]
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    written = 0
    with path.open("w", encoding="utf-8") as handle:
        for index in range(n_events):
            course = course_ids[index % courses]
            user = 100_000 + rng.randrange(20_000)
            when = start + dt.timedelta(microseconds=index * 86_000_000_000 // n_events)
            # A page is one of the course's units, as in real logs (learners visit the same
            # units): 1,000 per course, the URL as long as before.
            unit = rng.getrandbits(64) % UNITS_PER_COURSE
            page = f"https://lms.bench.edu/courses/{course}/courseware/{unit:016x}/"
            kind = index % 4
            if kind == 0:
                event_type, payload = (
                    "play_video",
                    json.dumps(
                        {"id": f"video-{index % 50}", "code": "html5", "currentTime": index % 900}
                    ),
                )
            elif kind == 1:
                event_type, payload = (
                    "pause_video",
                    json.dumps(
                        {"id": f"video-{index % 50}", "code": "html5", "currentTime": index % 900}
                    ),
                )
            elif kind == 2:
                event_type, payload = (
                    "problem_check",
                    {"problem_id": f"problem-{index % 80}", "success": "correct", "attempts": 1},
                )
            else:
                event_type, payload = f"/courses/{course}/courseware/ch/seq/", {"GET": {}}
            record = {
                "username": f"learner{user}",
                "event_source": "server" if kind > 1 else "browser",
                "name": event_type,
                "accept_language": "vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7",
                "time": when.isoformat(),
                "agent": agent,
                "page": page,
                "host": "lms.bench.edu",
                "session": f"{user:x}{index // 5000:x}",
                "referer": page,
                "context": {
                    "user_id": user,
                    "org_id": "BENCH",
                    "course_id": course,
                    "path": "/event",
                    "module": {"display_name": "Unit " + str(index % 97)},
                },
                "ip": "anon_" + f"{rng.getrandbits(128):032x}",
                "event": payload,
                "event_type": event_type,
            }
            line = json.dumps(record, separators=(",", ":"))
            if index % 1000 == 999:
                line = line[:80]
            handle.write(line + "\n")
            written += len(line) + 1
    return written
