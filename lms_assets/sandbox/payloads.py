"""The JSON bodies the sandbox serves: the shapes seed 000 shows, and plausible
shapes for the endpoints it does not document (docs/sandbox.md lists them)."""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from lms_assets.sandbox.university import Course, Learner, University


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def enrollment_record(learner: Learner) -> dict[str, Any]:
    return {
        "user_id": learner.user_id,
        "username": learner.username,
        "email": learner.email,
        "full_name": learner.full_name,
        "mode": learner.mode,
        "is_active": learner.is_active,
        "created": _iso(learner.enrolled_at),
        "mssv": learner.student_code,
        "class_code": learner.class_code,
    }


def page(
    records: list[dict[str, Any]],
    limit: int,
    offset: int,
    next_url: str | None,
    previous_url: str | None,
) -> dict[str, Any]:
    """Django REST framework's LimitOffsetPagination shape."""
    return {
        "count": len(records),
        "next": next_url,
        "previous": previous_url,
        "results": records[offset : offset + limit],
    }


def courses(university: University) -> list[dict[str, Any]]:
    return [
        {
            "course_id": c.course_id,
            "display_name": c.display_name,
            "org": "SANDBOX",
            "start": c.start.isoformat(),
            "end": c.end.isoformat(),
            "enrollment_count": len(c.learners),
            # The code's run history (not in seed 000): the finished runs and this one.
            "runs": [
                {
                    "course_id": run.course_id,
                    "start": run.start.isoformat(),
                    "end": run.end.isoformat(),
                    "status": run.status(university.today),
                }
                for run in c.runs
            ],
        }
        for c in university.all_courses
    ]


def student_grades(course: Course) -> dict[str, Any]:
    return {
        "course_id": course.course_id,
        "grade_data": {
            "grade_table": [
                {
                    "user_id": lr.user_id,
                    "username": lr.username,
                    "grade_percentage": lr.grade_percentage,
                    "letter_grade": lr.letter_grade,
                    "is_passed": lr.is_passed,
                }
                for lr in course.learners
                if lr.grade_percentage is not None
            ]
        },
    }


def _position(course: Course, learner: Learner) -> tuple[int, int, int]:
    """Chapter/section/unit reached, from completion (10 chapters of 4 sections of 3 units)."""
    units = round(learner.completion_rate / 100 * 120)
    return 1 + min(units // 12, 9), 1 + (units // 3) % 4, 1 + units % 3


def student_progress(course: Course) -> dict[str, Any]:
    students = []
    for lr in course.learners:
        chapter, section, unit = _position(course, lr)
        students.append(
            {
                "user_id": lr.user_id,
                "current_chapter": f"Chapter {chapter}",
                "current_section": f"Section {chapter}.{section}",
                "current_unit": f"Unit {chapter}.{section}.{unit}",
                "completion_rate": lr.completion_rate,
                "last_activity": _iso(lr.last_activity),
            }
        )
    return {"course_id": course.course_id, "progress_data": {"students": students}}


def student_discussions(course: Course) -> dict[str, Any]:
    return {
        "course_id": course.course_id,
        "discussion_data": {
            "students": [
                {
                    "user_id": lr.user_id,
                    "threads_count": lr.threads_count,
                    "comments_count": lr.comments_count,
                    "total_interactions": lr.threads_count + lr.comments_count,
                    "questions_count": lr.questions_count,
                    "total_upvotes": lr.total_upvotes,
                }
                for lr in course.learners
            ]
        },
    }


def stats_activity(course: Course, today: dt.date, days: int) -> dict[str, Any]:
    series = []
    for back in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=back)
        active = sum(
            1
            for lr in course.learners
            if lr.last_activity is not None
            and lr.enrolled_at.date() <= day <= lr.last_activity.date()
        )
        series.append({"date": day.isoformat(), "active_users": active})
    # Learners who never opened the course have no H5P data and are left out.
    scores = [
        h5p_summary(lr)["overall_percentage"]
        for lr in course.learners
        if lr.last_activity is not None
    ]
    return {
        "course_id": course.course_id,
        "days": days,
        "group_by": "day",
        "summary": {
            "total_students": len(course.learners),
            "avg_activity_score": round(statistics.fmean(scores), 2) if scores else None,
            "avg_daily_active_users": round(statistics.fmean(s["active_users"] for s in series), 2)
            if series
            else None,
        },
        "series": series,
    }


def stats_assessment(course: Course) -> dict[str, Any]:
    grades = [lr.grade_percentage for lr in course.learners if lr.grade_percentage is not None]
    buckets = [0] * 10
    for grade in grades:
        buckets[min(int(grade // 10), 9)] += 1
    return {
        "course_id": course.course_id,
        "summary": {
            "avg_score": round(statistics.fmean(grades), 2) if grades else None,
            "median_score": round(statistics.median(grades), 2) if grades else None,
            "pass_rate": round(100 * sum(g >= 50 for g in grades) / len(grades), 2)
            if grades
            else None,
            "total_graded": len(grades),
        },
        "grade_distribution": [
            {"range": f"{10 * i}-{10 * i + 10}", "count": n} for i, n in enumerate(buckets)
        ],
    }


def stats_progress(course: Course) -> dict[str, Any]:
    rates = [lr.completion_rate for lr in course.learners]
    return {
        "course_id": course.course_id,
        "summary": {
            "avg_completion": round(statistics.fmean(rates), 2) if rates else None,
            "total_students": len(rates),
            "completed_count": sum(r >= 100 for r in rates),
        },
    }


def h5p_summary(learner: Learner) -> dict[str, Any]:
    total_score = sum(i.score for i in learner.h5p if i.finished)
    total_max = sum(i.max_score for i in learner.h5p if i.finished)
    return {
        "total_contents": len(learner.h5p),
        "completed_contents": sum(i.finished for i in learner.h5p),
        "total_score": total_score,
        "total_max_score": total_max,
        "overall_percentage": round(100 * total_score / total_max, 2) if total_max else 0.0,
    }


def h5p_scores(course: Course, learner: Learner) -> dict[str, Any]:
    return {
        "user_id": str(learner.user_id),
        "course_id": course.course_id,
        "summary": h5p_summary(learner),
        "scores": [
            {
                "content_id": i.content_id,
                "score": i.score,
                "max_score": i.max_score,
                "percentage": round(100 * i.score / i.max_score, 2),
                "opened": int(i.opened),
                "finished": int(i.finished),
                "time": i.time_spent,
            }
            for i in learner.h5p
            if i.opened
        ],
    }


def video_summary(learner: Learner) -> dict[str, Any]:
    videos = learner.videos
    return {
        "total_videos": len(videos),
        "completed_videos": sum(v.status == "completed" for v in videos),
        "in_progress_videos": sum(v.status == "in_progress" for v in videos),
        "total_watched_time": sum(v.current_time for v in videos),
        "overall_progress": round(statistics.fmean(v.progress_percent for v in videos), 2)
        if videos
        else 0.0,
    }


def video_progress(course: Course, learner: Learner) -> dict[str, Any]:
    return {
        "user_id": str(learner.user_id),
        "course_id": course.course_id,
        "summary": video_summary(learner),
        "videos": [
            {
                "content_id": v.content_id,
                "progress_percent": v.progress_percent,
                "current_time": v.current_time,
                "duration": v.duration,
                "status": v.status,
            }
            for v in learner.videos
            if v.status != "not_started"
        ],
    }


def _overall(learner: Learner) -> dict[str, Any]:
    h5p, video = h5p_summary(learner), video_summary(learner)
    total = h5p["total_contents"] + video["total_videos"]
    done = h5p["completed_contents"] + video["completed_videos"]
    return {
        "total_items": total,
        "completed_items": done,
        "overall_completion": round(100 * done / total, 2) if total else 0.0,
    }


def combined_progress(course: Course, learner: Learner) -> dict[str, Any]:
    return {
        "user_id": str(learner.user_id),
        "course_id": course.course_id,
        "overall": _overall(learner),
        "video_progress": video_summary(learner),
        "scores": h5p_summary(learner),
    }


def dashboard(course: Course, learner: Learner) -> dict[str, Any]:
    """The older dashboard endpoint: the same figures, flatter shape."""
    return {
        "user_id": str(learner.user_id),
        "course_id": course.course_id,
        **_overall(learner),
        "h5p": h5p_summary(learner),
        "video": video_summary(learner),
    }
