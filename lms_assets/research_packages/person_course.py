"""person_course: one row per learner, course and export date (edx2bigquery's definitions).

Every definition is in docs/person_course.md; in short, for the learners enrolled in
the package (``package_enrollments``):

- registered: 1 (enrolled); viewed: has any courseware_modules row; nchapters: distinct
  chapters (course_blocks.chapter_id) of the modules touched; explored: nchapters is at
  least half of the course's chapters; certified: a certificate with status
  ``downloadable``; completed: the course grade is passing, or certified; grade: the
  course grade's percent_grade, else the certificate's grade;
- nforum_posts: the learner's posts in the package's forum;
- nevents, ndays_act, nplay_video, first_event, last_event: from tracking_events of the
  course up to the export date, joined on its stored ``username_hash`` (the tracking split
  hashes each username as the packages do, with the same LMS_PSEUDONYM_KEY); NULL when the
  course has no tracking events at all, 0 for a learner without any.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import sqlalchemy as sa

from lms_assets.partitions import Partition, Scope, to_date
from lms_assets.research_packages.readers import block_parts, course_parts
from lms_assets.warehouse import WarehouseResource

VIDEO_PLAY = ("play_video", "edx.video.played")
COLUMNS = [
    "course_id",
    "snapshot_date",
    "user_id",
    "username_hash",
    "registered",
    "viewed",
    "explored",
    "certified",
    "completed",
    "grade",
    "mode",
    "start_time",
    "nchapters",
    "nforum_posts",
    "nevents",
    "ndays_act",
    "nplay_video",
    "first_event",
    "last_event",
    "gender",
    "year_of_birth",
    "level_of_education",
    "country",
]


def course_id_forms(course_id: str) -> list[str]:
    """The course id in both forms (org/course/run and course-v1:), as logs may use either."""
    parts = course_parts(course_id)
    if parts is None:
        return [course_id]
    return sorted({course_id, "/".join(parts), "course-v1:" + "+".join(parts)})


def _read(warehouse: WarehouseResource, table: str, scope: Scope, columns: list[str]):
    frame = warehouse.read_partitions(table, scope, ["course_id", "snapshot_date", *columns])
    frame["snapshot_date"] = frame["snapshot_date"].map(to_date)
    return frame


def _tracking(warehouse: WarehouseResource, course_id: str, day: Any) -> pd.DataFrame:
    events = sa.table(
        "tracking_events",
        sa.column("course_id"),
        sa.column("snapshot_date"),
        sa.column("time"),
        sa.column("username_hash"),
        sa.column("event_type"),
    )
    return warehouse.read_frame(
        sa.select(events.c.time, events.c.username_hash, events.c.event_type).where(
            events.c.course_id.in_(course_id_forms(course_id)), events.c.snapshot_date <= day
        )
    )


def _activity(events: pd.DataFrame) -> pd.DataFrame:
    events = events[events["username_hash"].notna()].copy()
    events["time"] = pd.to_datetime(events["time"])
    events["day"] = events["time"].dt.date
    events["play"] = events["event_type"].isin(VIDEO_PLAY)
    grouped = events.groupby("username_hash")
    return pd.DataFrame(
        {
            "nevents": grouped.size(),
            "ndays_act": grouped["day"].nunique(),
            "nplay_video": grouped["play"].sum(),
            "first_event": grouped["time"].min(),
            "last_event": grouped["time"].max(),
        }
    )


def _chapters_touched(modules: pd.DataFrame, blocks: pd.DataFrame) -> pd.Series:
    """Distinct chapters per learner of the modules they touched (ids in either form)."""
    by_id = dict(zip(blocks["block_id"], blocks["chapter_id"], strict=True))
    by_parts = {block_parts(b): c for b, c in by_id.items() if block_parts(b) is not None}
    chapters = modules["module_id"].map(lambda m: by_id.get(m) or by_parts.get(block_parts(m)))
    touched = modules.assign(chapter=chapters).dropna(subset=["chapter"])
    return touched.groupby("user_id")["chapter"].nunique()


def _one(partition: Partition, tables: dict[str, pd.DataFrame], warehouse):
    def of(name: str) -> pd.DataFrame:
        frame = tables[name]
        keep = (frame["course_id"] == partition.course_id) & (
            frame["snapshot_date"] == partition.day
        )
        return frame[keep]

    learners = of("package_enrollments").set_index("user_id")
    users = of("package_users").set_index("user_id")
    modules, blocks = of("courseware_modules"), of("course_blocks")
    certificates = of("package_certificates").set_index("user_id")
    grades = of("package_course_grades").set_index("user_id")
    posts = of("forum_posts").groupby("author_id").size()
    total_chapters = int((blocks["category"] == "chapter").sum())
    nchapters = _chapters_touched(modules, blocks).reindex(learners.index, fill_value=0)
    certified = certificates["status"].reindex(learners.index).eq("downloadable")
    passed = grades["passed"].reindex(learners.index).isin([True, 1])
    course_grade = grades["percent_grade"].reindex(learners.index)
    grade = course_grade.where(course_grade.notna(), certificates["grade"].reindex(learners.index))
    frame = pd.DataFrame(
        {
            "course_id": partition.course_id,
            "snapshot_date": partition.day,
            "user_id": learners.index,
            "username_hash": users["username_hash"].reindex(learners.index).values,
            "registered": True,
            "viewed": learners.index.isin(modules["user_id"]),
            "explored": (total_chapters > 0) & (2 * nchapters.values >= total_chapters),
            "certified": certified.values,
            "completed": (passed | certified).values,
            "grade": grade.values,
            "mode": learners["mode"].values,
            "start_time": learners["created"].values,
            "nchapters": nchapters.values,
            "nforum_posts": posts.reindex(learners.index, fill_value=0).values,
            **{
                column: users[column].reindex(learners.index).values
                for column in ("gender", "year_of_birth", "level_of_education", "country")
            },
        }
    )
    events = _tracking(warehouse, partition.course_id, partition.day)
    if events.empty:  # no tracking logs of this course: activity unknown, not zero
        for column in ("nevents", "ndays_act", "nplay_video", "first_event", "last_event"):
            frame[column] = None
    else:
        activity = _activity(events).reindex(frame["username_hash"])
        for column in ("nevents", "ndays_act", "nplay_video"):
            frame[column] = activity[column].fillna(0).astype(int).values
        frame["first_event"] = activity["first_event"].values
        frame["last_event"] = activity["last_event"].values
    return frame[COLUMNS]


def person_course_frame(warehouse: WarehouseResource, scope: Scope) -> pd.DataFrame:
    """person_course of every partition of ``scope``, from the stored package tables."""
    tables = {
        "package_enrollments": _read(
            warehouse, "package_enrollments", scope, ["user_id", "mode", "created"]
        ),
        "package_users": _read(
            warehouse,
            "package_users",
            scope,
            [
                "user_id",
                "username_hash",
                "gender",
                "year_of_birth",
                "level_of_education",
                "country",
            ],
        ),
        "courseware_modules": _read(
            warehouse, "courseware_modules", scope, ["user_id", "module_id"]
        ),
        "course_blocks": _read(
            warehouse, "course_blocks", scope, ["block_id", "category", "chapter_id"]
        ),
        "package_certificates": _read(
            warehouse, "package_certificates", scope, ["user_id", "grade", "status"]
        ),
        "package_course_grades": _read(
            warehouse, "package_course_grades", scope, ["user_id", "percent_grade", "passed"]
        ),
        "forum_posts": _read(warehouse, "forum_posts", scope, ["author_id"]),
    }
    frames = [_one(p, tables, warehouse) for p in scope]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
