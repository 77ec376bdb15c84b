"""A synthetic university, fully determined by a seed number and an as-of date.

Each learner has a latent engagement (0-1) and maybe a planned dropout week, from which
every figure any endpoint serves and every logged event is derived (semester.py), so the
APIs and the logs agree with each other: a learner who dropped out in week 5 has no event
after week 5, an old last_activity, low progress, a failing grade and mostly an inactive
enrollment. The rule is documented in docs/sandbox.md ("The semester").
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cached_property

from lms_assets.sandbox import semester

ENGAGED, STRUGGLING, DROPOUT = "engaged", "struggling", "dropout"
PASS_THRESHOLD = 50.0
ENGAGED_FROM = 0.5  # engagement at or above which a learner who stays is "engaged"
ENGAGEMENT_BETA = (2.0, 1.6)  # engagement ~ Beta(2, 1.6): mean 0.56
MEAN_DROPOUT_WEEK = 4.0  # a planned dropout week is 1 + an exponential of this mean
NEVER_ACTIVE_SHARE = 0.1  # of the learners who drop out: never came at all

_COURSE_CATALOGUE = [
    ("CS101", "Introduction to Programming"),
    ("MATH201", "Linear Algebra"),
    ("PHY110", "Physics for Engineers"),
    ("ECON150", "Principles of Economics"),
    ("BIO120", "Cell Biology"),
    ("HIST100", "World History"),
]
_FAMILY = ["Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui", "Do", "Ngo"]
_MIDDLE = ["Van", "Thi", "Minh", "Duc", "Ngoc", "Quang", "Thanh", ""]
_GIVEN = [
    "An",
    "Binh",
    "Chi",
    "Dung",
    "Giang",
    "Hai",
    "Hoa",
    "Khanh",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phuong",
    "Quan",
    "Son",
    "Trang",
    "Tuan",
    "Vy",
    "Yen",
    "Linh",
]


@dataclass(frozen=True)
class H5PItem:
    content_id: int
    max_score: int
    opened: bool
    finished: bool
    score: int
    time_spent: int  # seconds


@dataclass(frozen=True)
class VideoItem:
    content_id: int
    duration: int  # seconds
    current_time: int
    progress_percent: float
    status: str  # not_started | in_progress | completed


@dataclass(frozen=True)
class Learner:
    user_id: int
    username: str
    email: str
    full_name: str
    behaviour: str  # engaged | struggling | dropout, as of the as-of day
    engagement: float  # the latent 0-1 every figure and event follows from
    dropout_week: int | None  # planned term week of the last activity; None: stays
    mode: str
    is_active: bool
    enrolled_at: dt.datetime  # UTC
    student_code: str
    class_code: str
    last_activity: dt.datetime | None
    grade_percentage: float | None  # None: not graded yet
    completion_rate: float
    threads_count: int
    comments_count: int
    questions_count: int
    total_upvotes: int
    h5p: tuple[H5PItem, ...]
    videos: tuple[VideoItem, ...]

    @property
    def is_passed(self) -> bool | None:
        return None if self.grade_percentage is None else self.grade_percentage >= PASS_THRESHOLD

    @property
    def letter_grade(self) -> str | None:
        grade = self.grade_percentage
        if grade is None:
            return None
        for letter, floor in (("A", 90), ("B", 80), ("C", 65), ("D", 50)):
            if grade >= floor:
                return letter
        return "F"


@dataclass(frozen=True)
class CourseRun:
    """One run of a course code: the running one or a finished earlier one."""

    course_id: str
    start: dt.date
    end: dt.date

    def status(self, today: dt.date) -> str:
        return "finished" if self.end < today else "running"


@dataclass
class Course:
    course_id: str
    display_name: str
    start: dt.date
    end: dt.date
    h5p_content_ids: tuple[int, ...]
    h5p_max_scores: tuple[int, ...]
    video_content_ids: tuple[int, ...]
    video_durations: tuple[int, ...]
    learners: list[Learner] = field(default_factory=list, repr=False)
    runs: tuple[CourseRun, ...] = ()  # the code's run history, oldest first, this run last

    @cached_property
    def by_user(self) -> dict[int, Learner]:
        return {learner.user_id: learner for learner in self.learners}


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def dropout_chance(engagement: float) -> float:
    """The chance that a learner plans to drop out at all: 6% for the most engaged,
    66% for the least."""
    return 0.06 + 0.6 * (1 - engagement) ** 2


class University:
    """Courses and learners generated from ``seed``, as of the end of ``today``."""

    def __init__(
        self,
        seed: int = 42,
        n_courses: int = 4,
        today: dt.date | None = None,
        learners_per_course: tuple[int, int] = (150, 400),
        history: bool = False,
    ) -> None:
        self.seed = seed
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.learners_per_course = learners_per_course
        self.history = history
        self.courses: dict[str, Course] = {}  # the running runs
        # With ``history``: each code's finished run of the previous term, with its learners
        # as of the run's end (what a model trains on). Served by the API and written to the
        # tracking logs; the Moodle site, LTI tool and research packages hold the running
        # term only.
        self.finished: dict[str, Course] = {}
        for index in range(n_courses):
            self.add_course(index)

    @property
    def semester_start(self) -> dt.date:
        """The first day of the running term: every running course starts on it."""
        return semester.semester_start(self.today)

    @property
    def first_day(self) -> dt.date:
        """The first day of the sandbox's logs: the previous term's, with ``history``."""
        return semester.history_start(self.today) if self.history else self.semester_start

    @property
    def all_courses(self) -> list[Course]:
        """Every run the API serves: the running ones, then the finished ones."""
        return [*self.courses.values(), *self.finished.values()]

    @property
    def current_week(self) -> int:
        return semester.week_of(self.semester_start, self.today)

    @property
    def now(self) -> dt.datetime:
        """Midnight (UTC) starting the as-of day: the sandbox's clock. Every enrolment, last
        activity and logged event lies before it, so nothing is stamped later than the real
        time whenever on that day it runs, and the same day gives the same data twice."""
        return dt.datetime.combine(self.today, dt.time())

    def course_id_for(self, index: int, run: str = "2026_T1") -> str:
        code = _COURSE_CATALOGUE[index][0] if index < len(_COURSE_CATALOGUE) else f"C{index:03d}"
        return f"course-v1:SANDBOX+{code}+{run}"

    def add_course(self, index: int, n_learners: int | None = None) -> Course:
        """Add (deterministically) the course at ``index`` of the catalogue, and with
        ``history`` its finished run of the previous term."""
        course_id = self.course_id_for(index)
        rng = random.Random(f"{self.seed}:{course_id}")
        name = _COURSE_CATALOGUE[index][1] if index < len(_COURSE_CATALOGUE) else f"Course {index}"
        start = self.semester_start
        weeks = rng.randint(*semester.TERM_WEEKS)
        previous = semester.history_start(self.today)
        # One course in four has no videos at all: an edge the features must survive.
        n_videos = 0 if index % 4 == 3 else rng.randint(5, 15)
        n_h5p = rng.randint(8, 25)
        base_content = 1000 * (index + 1)
        course = Course(
            course_id=course_id,
            display_name=name,
            start=start,
            end=start + dt.timedelta(weeks=weeks, days=-1),
            h5p_content_ids=tuple(base_content + i for i in range(n_h5p)),
            h5p_max_scores=tuple(rng.choice((5, 10, 20, 100)) for _ in range(n_h5p)),
            video_content_ids=tuple(base_content + 500 + i for i in range(n_videos)),
            video_durations=tuple(rng.randint(180, 1500) for _ in range(n_videos)),
        )
        earlier = CourseRun(
            self.course_id_for(index, "2025_T3"),
            previous,
            previous + dt.timedelta(weeks=weeks, days=-1),
        )
        course.runs = (earlier, CourseRun(course_id, course.start, course.end))
        n = n_learners if n_learners is not None else rng.randint(*self.learners_per_course)
        user_ids = rng.sample(range(100_000, 100_000 + 4000), n)
        course.learners = [self._learner(rng, course, uid, self.today) for uid in user_ids]
        self.courses[course_id] = course
        if self.history:
            self.finished[earlier.course_id] = self._finished_run(course, earlier)
        return course

    def _finished_run(self, running: Course, run: CourseRun) -> Course:
        """The code's earlier run: the same content, other learners (some come back), each
        generated by the same rule as of the day after the run's end, so every dropout has
        happened, every grade is final and the last quarter's activity is known."""
        rng = random.Random(f"{self.seed}:{run.course_id}")
        course = Course(
            course_id=run.course_id,
            display_name=running.display_name,
            start=run.start,
            end=run.end,
            h5p_content_ids=running.h5p_content_ids,
            h5p_max_scores=running.h5p_max_scores,
            video_content_ids=running.video_content_ids,
            video_durations=running.video_durations,
            runs=running.runs,
        )
        n = rng.randint(*self.learners_per_course)
        user_ids = rng.sample(range(100_000, 100_000 + 4000), n)
        as_of = run.end + dt.timedelta(days=1)
        course.learners = [self._learner(rng, course, uid, as_of) for uid in user_ids]
        return course

    def _learner(self, rng: random.Random, course: Course, user_id: int, as_of: dt.date) -> Learner:
        """One learner by the semester's generative rule (docs/sandbox.md, "The semester"),
        as of the start of ``as_of`` (today, or the day after a finished run)."""
        now = dt.datetime.combine(as_of, dt.time())
        current_week = semester.week_of(course.start, as_of)
        engagement = rng.betavariate(*ENGAGEMENT_BETA)
        family, middle, given = rng.choice(_FAMILY), rng.choice(_MIDDLE), rng.choice(_GIVEN)
        full_name = " ".join(part for part in (family, middle, given) if part)
        enrolled = dt.datetime.combine(course.start, dt.time(8, 0)) + dt.timedelta(
            minutes=rng.randint(-14 * 24 * 60, 30 * 24 * 60)
        )
        enrolled = min(enrolled, now - dt.timedelta(days=1))
        dropout_week = None
        if rng.random() < dropout_chance(engagement):
            planned = 1 + int(rng.expovariate(1 / MEAN_DROPOUT_WEEK))
            dropout_week = max(planned, semester.week_of(course.start, enrolled.date()))
        weeks_done = max(1, current_week - 1)  # complete weeks of the run so far
        dropped = dropout_week is not None and dropout_week < current_week
        never_active = dropped and rng.random() < NEVER_ACTIVE_SHARE
        if dropped:
            assert dropout_week is not None
            week_monday = course.start + dt.timedelta(weeks=dropout_week - 1)
            last_day = week_monday + dt.timedelta(days=rng.randint(0, 6))
            last_day = min(max(last_day, enrolled.date()), as_of - dt.timedelta(days=1))
            moment = dt.datetime.combine(last_day, dt.time(7)) + dt.timedelta(
                minutes=rng.randint(0, 14 * 60)
            )
            last_activity = None if never_active else max(enrolled, moment)
            attended = min(1.0, (dropout_week - 0.5) / weeks_done)
            behaviour, is_active = DROPOUT, rng.random() < 0.2
        else:
            idle_days = rng.uniform(0.02, 1 + 10 * (1 - engagement))
            last_activity = max(enrolled, now - dt.timedelta(days=idle_days))
            attended = 1.0
            behaviour = ENGAGED if engagement >= ENGAGED_FROM else STRUGGLING
            is_active = rng.random() < 0.97
        # What they did decides the rest: grade and completion grow with engagement and
        # with the share of the term they stayed; a week-5 dropout fails.
        grade = 100 * attended * (0.2 + 0.8 * engagement) + rng.gauss(0, 7)
        completion = 100 * attended * (0.1 + 0.9 * engagement) + rng.gauss(0, 5)
        engage = 0.0 if never_active else max(0.05, attended * engagement)
        graded = rng.random() >= 0.05 and not never_active
        h5p = tuple(
            self._h5p_item(rng, cid, max_score, engage)
            for cid, max_score in zip(course.h5p_content_ids, course.h5p_max_scores, strict=True)
        )
        videos = tuple(
            self._video_item(rng, cid, duration, engage)
            for cid, duration in zip(course.video_content_ids, course.video_durations, strict=True)
        )
        engage = max(engage, 0.05)
        threads = int(rng.expovariate(1 / (3 * engage))) if rng.random() < engage else 0
        comments = int(rng.expovariate(1 / (6 * engage))) if rng.random() < engage else 0
        return Learner(
            user_id=user_id,
            username=f"learner{user_id}",
            email=f"learner{user_id}@sandbox.example.edu",
            full_name=full_name,
            behaviour=behaviour,
            engagement=round(engagement, 4),
            dropout_week=dropout_week,
            mode=rng.choices(["audit", "verified", "honor"], [0.5, 0.3, 0.2])[0],
            is_active=is_active,
            enrolled_at=enrolled,
            student_code=f"{21_000_000 + user_id:08d}",
            class_code=f"K{rng.randint(21, 24)}-{rng.choice('ABCD')}{rng.randint(1, 3)}",
            last_activity=last_activity,
            grade_percentage=round(_clip(grade, 0, 100), 1) if graded else None,
            completion_rate=0.0 if never_active else round(_clip(completion, 0, 100), 1),
            threads_count=threads,
            comments_count=comments,
            questions_count=min(threads, int(rng.random() * (threads + 1))),
            total_upvotes=int(rng.expovariate(1 / 2)) if threads + comments else 0,
            h5p=h5p,
            videos=videos,
        )

    @staticmethod
    def _h5p_item(rng: random.Random, content_id: int, max_score: int, engage: float) -> H5PItem:
        opened = rng.random() < engage
        finished = opened and rng.random() < engage + 0.05
        score = round(max_score * _clip(rng.gauss(engage, 0.2), 0, 1)) if finished else 0
        return H5PItem(
            content_id, max_score, opened, finished, score, rng.randint(30, 900) if opened else 0
        )

    @staticmethod
    def _video_item(rng: random.Random, content_id: int, duration: int, engage: float) -> VideoItem:
        if rng.random() >= engage:
            return VideoItem(content_id, duration, 0, 0.0, "not_started")
        watched = duration if rng.random() < engage else rng.randint(1, duration - 1)
        progress = round(100 * watched / duration, 1)
        status = "completed" if progress >= 90 else "in_progress"
        return VideoItem(content_id, duration, watched, progress, status)

    # -- lookups -------------------------------------------------------------------------------
    def course(self, course_id: str) -> Course | None:
        return self.courses.get(course_id) or self.finished.get(course_id)

    def enrollment_count(self, course_id: str) -> int:
        course = self.course(course_id)
        assert course is not None, course_id
        return len(course.learners)
