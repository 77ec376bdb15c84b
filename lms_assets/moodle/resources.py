"""Read-only access to a Moodle site's database, with Moodle's real schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from lms_assets import settings
from lms_assets.db import get_engine, redacted
from lms_assets.moodle.xmldb import moodle_table
from lms_assets.partitions import day_window

CONTEXT_COURSE = 50
CONTEXT_MODULE = 70

DEFAULT_VIEW_COMPONENTS: dict[str, list[str]] = {
    # seed 001's mapping: report column -> Moodle components counted in it
    "file_views": ["mod_resource"],
    "video_views": ["mod_page"],
    "forum_views": ["mod_forum"],
    "quiz_views": ["mod_quiz"],
    "assignment_views": ["mod_assign"],
    "url_views": ["mod_url"],
}
# Moodle's stock role ids, used when the configured shortnames are not found.
FALLBACK_STUDENT_ROLE_IDS = [5]
FALLBACK_TEACHER_ROLE_IDS = [3, 4]


def epoch_window(day: dt.date, timezone: str) -> tuple[int, int]:
    """The partition day's [start, end) in ``timezone`` as Unix seconds (``timecreated``)."""
    start, end = day_window(day, timezone)
    return int(start.replace(tzinfo=dt.UTC).timestamp()), int(
        end.replace(tzinfo=dt.UTC).timestamp()
    )


class MoodleDatabaseResource(dg.ConfigurableResource):
    """A Moodle database, read-only (the connection itself refuses writes).

    ``url`` is a SQLAlchemy URL (MySQL/MariaDB, PostgreSQL or SQLite); set it from
    ``LMS_MOODLE_URL``. Tables are named ``table_prefix + name`` as on the site.
    """

    url: str = Field(description="SQLAlchemy URL of the Moodle database (a secret).")
    table_prefix: str = Field(default="mdl_", description="The site's $CFG->prefix.")
    timezone: str = Field(
        default=settings.current.timezone,
        description="Timezone that defines a partition's day for log rows (IANA name).",
    )
    view_components: dict[str, list[str]] = Field(
        default=DEFAULT_VIEW_COMPONENTS,
        description="activity_counts column -> Moodle components whose 'viewed' events it counts.",
    )
    student_roles: list[str] = Field(
        default=["student"], description="Role shortnames counted as students."
    )
    teacher_roles: list[str] = Field(
        default=["editingteacher", "teacher"], description="Role shortnames counted as teachers."
    )

    @property
    def engine(self) -> sa.Engine:
        return get_engine(self.url, read_only=True)

    @property
    def display_url(self) -> str:
        return redacted(self.url)

    def table(self, name: str) -> sa.Table:
        return moodle_table(name, self.table_prefix)

    def fetch(self, statement: sa.Executable) -> list[sa.Row[Any]]:
        with self.engine.connect() as conn:
            return list(conn.execute(statement))

    # -- courses ---------------------------------------------------------------------------------
    def visible_course_ids(self) -> list[str]:
        """Visible courses (not the site front page, which has category 0), as partition keys."""
        course = self.table("course")
        rows = self.fetch(
            sa.select(course.c.id)
            .where(course.c.visible == 1, course.c.category != 0)
            .order_by(course.c.id)
        )
        return [str(row.id) for row in rows]

    def course_details(self, course_ids: Sequence[int]) -> list[sa.Row[Any]]:
        course, category = self.table("course"), self.table("course_categories")
        return self.fetch(
            sa.select(
                course.c.id,
                course.c.idnumber,
                course.c.fullname,
                course.c.shortname,
                course.c.visible,
                category.c.idnumber.label("category_idnumber"),
            )
            .select_from(course.outerjoin(category, course.c.category == category.c.id))
            .where(course.c.id.in_(course_ids))
        )

    # -- roles -----------------------------------------------------------------------------------
    def role_ids(self) -> tuple[list[int], list[int], list[str]]:
        """(student role ids, teacher role ids, warnings) from the configured shortnames."""
        role = self.table("role")
        wanted = set(self.student_roles) | set(self.teacher_roles)
        found = {
            row.shortname: int(row.id)
            for row in self.fetch(
                sa.select(role.c.id, role.c.shortname).where(role.c.shortname.in_(wanted))
            )
        }
        warnings = []
        students = [found[s] for s in self.student_roles if s in found]
        teachers = [found[s] for s in self.teacher_roles if s in found]
        if not students:
            students = FALLBACK_STUDENT_ROLE_IDS
            warnings.append(
                f"no role with shortname {self.student_roles}; "
                f"counting role ids {students} as students"
            )
        if not teachers:
            teachers = FALLBACK_TEACHER_ROLE_IDS
            warnings.append(
                f"no role with shortname {self.teacher_roles}; "
                f"counting role ids {teachers} as teachers"
            )
        return students, teachers, warnings

    # -- the two extraction queries of seed 001 --------------------------------------------------
    def view_counts(
        self, course_ids: Sequence[int], days: Sequence[dt.date]
    ) -> dict[tuple[int, dt.date], dict[str, int]]:
        """Module 'viewed' events per course and day, by report column, in ONE query.

        Day windows come in as a derived table joined on ``timecreated``, so any
        number of courses and days (DST included) costs one scan of the index range.
        """
        log = self.table("logstore_standard_log")
        windows = sa.union_all(
            *(
                sa.select(
                    sa.literal(day.isoformat()).label("day"),
                    sa.literal(start).label("day_start"),
                    sa.literal(end).label("day_end"),
                )
                for day in days
                for start, end in [epoch_window(day, self.timezone)]
            )
        ).subquery("windows")
        first, last = (
            epoch_window(min(days), self.timezone)[0],
            epoch_window(max(days), self.timezone)[1],
        )
        counts = [
            sa.func.sum(sa.case((log.c.component.in_(components), 1), else_=0)).label(column)
            for column, components in self.view_components.items()
        ]
        statement = (
            sa.select(log.c.courseid, windows.c.day, *counts)
            .select_from(
                log.join(
                    windows,
                    sa.and_(
                        log.c.timecreated >= windows.c.day_start,
                        log.c.timecreated < windows.c.day_end,
                    ),
                )
            )
            .where(
                log.c.contextlevel == CONTEXT_MODULE,
                log.c.action == "viewed",
                log.c.courseid.in_(course_ids),
                log.c.timecreated >= first,
                log.c.timecreated < last,
            )
            .group_by(log.c.courseid, windows.c.day)
        )
        result: dict[tuple[int, dt.date], dict[str, int]] = {}
        for row in self.fetch(statement):
            values = row._mapping
            result[(int(row.courseid), dt.date.fromisoformat(row.day))] = {
                column: int(values[column] or 0) for column in self.view_components
            }
        return result

    def role_counts(
        self, course_ids: Sequence[int], student_ids: list[int], teacher_ids: list[int]
    ) -> dict[int, tuple[int, int]]:
        """Distinct students and teachers assigned in each course's context (level 50)."""
        ra, ctx = self.table("role_assignments"), self.table("context")
        statement = (
            sa.select(
                ctx.c.instanceid,
                sa.func.count(
                    sa.distinct(sa.case((ra.c.roleid.in_(student_ids), ra.c.userid)))
                ).label("students"),
                sa.func.count(
                    sa.distinct(sa.case((ra.c.roleid.in_(teacher_ids), ra.c.userid)))
                ).label("teachers"),
            )
            .select_from(ra.join(ctx, ra.c.contextid == ctx.c.id))
            .where(ctx.c.contextlevel == CONTEXT_COURSE, ctx.c.instanceid.in_(course_ids))
            .group_by(ctx.c.instanceid)
        )
        return {
            int(r.instanceid): (int(r.students), int(r.teachers)) for r in self.fetch(statement)
        }

    def student_user_ids(
        self, course_ids: Sequence[int], student_ids: list[int]
    ) -> dict[int, set[int]]:
        """The student users of each course, fetched row by row (for the cross-check)."""
        ra, ctx = self.table("role_assignments"), self.table("context")
        result: dict[int, set[int]] = {cid: set() for cid in course_ids}
        for row in self.fetch(
            sa.select(ctx.c.instanceid, ra.c.userid)
            .select_from(ra.join(ctx, ra.c.contextid == ctx.c.id))
            .where(
                ctx.c.contextlevel == CONTEXT_COURSE,
                ctx.c.instanceid.in_(course_ids),
                ra.c.roleid.in_(student_ids),
            )
        ):
            result[int(row.instanceid)].add(int(row.userid))
        return result
