"""A synthetic university, fully determined by a seed number and an as-of date.

Each learner has one behaviour (engaged, struggling, dropping out) from which
every figure any endpoint serves is derived, so the APIs agree with each other:
a learner who dropped out has an old last_activity, low progress, a low grade
and an inactive enrollment.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from functools import cached_property

ENGAGED, STRUGGLING, DROPOUT = "engaged", "struggling", "dropout"
BEHAVIOURS = ((ENGAGED, 0.5), (STRUGGLING, 0.3), (DROPOUT, 0.2))
PASS_THRESHOLD = 50.0

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
    behaviour: str
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

    @cached_property
    def by_user(self) -> dict[int, Learner]:
        return {learner.user_id: learner for learner in self.learners}


def _clip(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


class University:
    """Courses and learners generated from ``seed``, as of the end of ``today``."""

    def __init__(
        self,
        seed: int = 42,
        n_courses: int = 4,
        today: dt.date | None = None,
        learners_per_course: tuple[int, int] = (150, 400),
    ) -> None:
        self.seed = seed
        self.today = today or dt.datetime.now(dt.UTC).date()
        self.learners_per_course = learners_per_course
        self.courses: dict[str, Course] = {}
        for index in range(n_courses):
            self.add_course(index)

    @property
    def now(self) -> dt.datetime:
        """Midnight (UTC) starting the as-of day: the sandbox's clock. Every enrolment, last
        activity and logged event lies before it, so nothing is stamped later than the real
        time whenever on that day it runs, and the same day gives the same data twice."""
        return dt.datetime.combine(self.today, dt.time())

    def course_id_for(self, index: int) -> str:
        code = _COURSE_CATALOGUE[index][0] if index < len(_COURSE_CATALOGUE) else f"C{index:03d}"
        return f"course-v1:SANDBOX+{code}+2026_T1"

    def add_course(self, index: int, n_learners: int | None = None) -> Course:
        """Add (deterministically) the course at ``index`` of the catalogue."""
        course_id = self.course_id_for(index)
        rng = random.Random(f"{self.seed}:{course_id}")
        name = _COURSE_CATALOGUE[index][1] if index < len(_COURSE_CATALOGUE) else f"Course {index}"
        start = self.today - dt.timedelta(days=rng.randint(60, 120))
        # One course in four has no videos at all: an edge the features must survive.
        n_videos = 0 if index % 4 == 3 else rng.randint(5, 15)
        n_h5p = rng.randint(8, 25)
        base_content = 1000 * (index + 1)
        course = Course(
            course_id=course_id,
            display_name=name,
            start=start,
            end=start + dt.timedelta(days=150),
            h5p_content_ids=tuple(base_content + i for i in range(n_h5p)),
            h5p_max_scores=tuple(rng.choice((5, 10, 20, 100)) for _ in range(n_h5p)),
            video_content_ids=tuple(base_content + 500 + i for i in range(n_videos)),
            video_durations=tuple(rng.randint(180, 1500) for _ in range(n_videos)),
        )
        n = n_learners if n_learners is not None else rng.randint(*self.learners_per_course)
        user_ids = rng.sample(range(100_000, 100_000 + 4000), n)
        course.learners = [self._learner(rng, course, uid, i) for i, uid in enumerate(user_ids)]
        self.courses[course_id] = course
        return course

    def _learner(self, rng: random.Random, course: Course, user_id: int, index: int) -> Learner:
        behaviour = rng.choices([b for b, _ in BEHAVIOURS], [w for _, w in BEHAVIOURS])[0]
        family, middle, given = rng.choice(_FAMILY), rng.choice(_MIDDLE), rng.choice(_GIVEN)
        full_name = " ".join(part for part in (family, middle, given) if part)
        enrolled = dt.datetime.combine(course.start, dt.time(8, 0)) + dt.timedelta(
            minutes=rng.randint(-14 * 24 * 60, 30 * 24 * 60)
        )
        enrolled = min(enrolled, self.now - dt.timedelta(days=1))
        if behaviour == ENGAGED:
            inactive_days, grade, completion, engage = (
                rng.uniform(0, 3),
                rng.gauss(82, 9),
                rng.uniform(60, 100),
                0.9,
            )
            is_active = True
        elif behaviour == STRUGGLING:
            inactive_days, grade, completion, engage = (
                rng.uniform(2, 20),
                rng.gauss(55, 12),
                rng.uniform(25, 70),
                0.55,
            )
            is_active = rng.random() < 0.95
        else:
            inactive_days, grade, completion, engage = (
                rng.uniform(31, 100),
                rng.gauss(15, 10),
                rng.uniform(0, 25),
                0.15,
            )
            is_active = rng.random() < 0.2
        never_active = behaviour == DROPOUT and rng.random() < 0.1
        last_activity = (
            None if never_active else max(enrolled, self.now - dt.timedelta(days=inactive_days))
        )
        graded = rng.random() >= 0.05 and not never_active
        h5p = tuple(
            self._h5p_item(rng, cid, max_score, engage)
            for cid, max_score in zip(course.h5p_content_ids, course.h5p_max_scores, strict=True)
        )
        videos = tuple(
            self._video_item(rng, cid, duration, engage)
            for cid, duration in zip(course.video_content_ids, course.video_durations, strict=True)
        )
        threads = int(rng.expovariate(1 / (3 * engage))) if rng.random() < engage else 0
        comments = int(rng.expovariate(1 / (6 * engage))) if rng.random() < engage else 0
        return Learner(
            user_id=user_id,
            username=f"learner{user_id}",
            email=f"learner{user_id}@sandbox.example.edu",
            full_name=full_name,
            behaviour=behaviour,
            mode=rng.choices(["audit", "verified", "honor"], [0.5, 0.3, 0.2])[0],
            is_active=is_active,
            enrolled_at=enrolled,
            student_code=f"{21_000_000 + user_id:08d}",
            class_code=f"K{rng.randint(21, 24)}-{rng.choice('ABCD')}{rng.randint(1, 3)}",
            last_activity=last_activity,
            grade_percentage=round(_clip(grade, 0, 100), 1) if graded else None,
            completion_rate=0.0 if never_active else round(completion, 1),
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
        return self.courses.get(course_id)

    def enrollment_count(self, course_id: str) -> int:
        return len(self.courses[course_id].learners)
