"""The sandbox's Moodle database: Moodle's real schema, filled for the synthetic university.

Courses sit in categories (one without an idnumber), one extra course is
hidden, roles are Moodle's stock ones, teachers and a site manager are
assigned too, and every learner leaves months of log rows of many components,
actions and context levels, so the seed-001 filters actually matter.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lms_assets.db import get_engine
from lms_assets.moodle.xmldb import moodle_metadata
from lms_assets.sandbox.semester import active_chance
from lms_assets.sandbox.university import University

ROLES = [
    (1, "manager", "manager"),
    (2, "coursecreator", "coursecreator"),
    (3, "editingteacher", "editingteacher"),
    (4, "teacher", "teacher"),
    (5, "student", "student"),
    (6, "guest", "guest"),
    (7, "user", "user"),
    (8, "frontpage", "frontpage"),
]
CATEGORIES = [
    (1, "Miscellaneous", ""),
    (2, "Faculty of Computing", "FCOMP"),
    (3, "Faculty of Science", "FSCI"),
    (4, "Open Courses", None),  # no idnumber: its courses are left out of user_activity
]
MODULES = [
    "mod_resource",
    "mod_page",
    "mod_forum",
    "mod_quiz",
    "mod_assign",
    "mod_url",
    "mod_label",
]
BATCH = 5000


@dataclass(frozen=True)
class MoodleSandbox:
    url: str
    prefix: str
    course_ids: dict[str, int]  # Open edX course id -> Moodle course id
    hidden_course_id: int
    log_rows: int


def moodle_course_id(index: int) -> int:
    return index + 2  # id 1 is the site course, as in every Moodle


def _complete(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """Fill NOT NULL columns without a default the way Moodle does ('' or 0)."""
    for column in table.columns:
        if column.name in row or column.nullable or column.server_default is not None:
            continue
        if column.primary_key:
            continue
        row[column.name] = "" if isinstance(column.type, sa.String | sa.Text) else 0
    return row


def _column_default(column: sa.Column) -> Any:
    if column.server_default is None:
        return None
    text = str(column.server_default.arg.text)  # type: ignore[attr-defined]
    if text.startswith("'"):
        return text[1:-1].replace("''", "'")
    return float(text) if "." in text else int(text)


def _insert(conn: sa.Connection, table: sa.Table, rows: Iterable[dict[str, Any]]) -> int:
    """Bulk insert; every row gets the same keys (executemany needs them)."""
    batch: list[dict[str, Any]] = []
    written = 0

    def flush() -> None:
        keys = set().union(*batch)
        for row in batch:
            for key in keys - row.keys():
                row[key] = _column_default(table.c[key])
        conn.execute(table.insert(), batch)

    for row in rows:
        batch.append(_complete(table, row))
        if len(batch) >= BATCH:
            flush()
            written, batch = written + len(batch), []
    if batch:
        flush()
        written += len(batch)
    return written


def write_moodle_database(
    university: University, url: str, prefix: str = "mdl_", days: int | None = None
) -> MoodleSandbox:
    """(Re)create the sandbox Moodle database at ``url``; idempotent. Its log holds the
    last ``days`` days (default: the semester so far, today included)."""
    metadata = moodle_metadata(prefix)
    engine = get_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    t = metadata.tables
    now = university.now
    days = days if days is not None else (university.today - university.semester_start).days
    epoch = lambda moment: int(moment.replace(tzinfo=dt.UTC).timestamp())  # noqa: E731

    courses = list(university.courses.values())
    ids = {c.course_id: moodle_course_id(i) for i, c in enumerate(courses)}
    hidden_id = moodle_course_id(len(courses))
    category_of = {c.course_id: (2 if i % 2 == 0 else 3) for i, c in enumerate(courses)}
    if len(courses) >= 4:
        category_of[courses[3].course_id] = 4
    rng = random.Random(f"{university.seed}:moodle")

    with engine.begin() as conn:
        _insert(
            conn,
            t[prefix + "role"],
            (
                {
                    "id": rid,
                    "name": name.title(),
                    "shortname": name,
                    "archetype": arch,
                    "sortorder": rid,
                }
                for rid, name, arch in ROLES
            ),
        )
        _insert(
            conn,
            t[prefix + "course_categories"],
            (
                {"id": cid, "name": name, "idnumber": idn, "path": f"/{cid}", "depth": 1}
                for cid, name, idn in CATEGORIES
            ),
        )
        course_rows = [
            {
                "id": 1,
                "category": 0,
                "fullname": "Sandbox University",
                "shortname": "sandbox",
                "format": "site",
                "visible": 1,
            }
        ]
        for c in courses:
            code = c.course_id.split("+")[1]
            course_rows.append(
                {
                    "id": ids[c.course_id],
                    "category": category_of[c.course_id],
                    "fullname": c.display_name,
                    "shortname": code,
                    "idnumber": f"{code}-2026T1",
                    "visible": 1,
                    "startdate": epoch(dt.datetime.combine(c.start, dt.time())),
                }
            )
        course_rows.append(
            {
                "id": hidden_id,
                "category": 2,
                "fullname": "Archived course",
                "shortname": "OLD100",
                "idnumber": "OLD100-2020",
                "visible": 0,
            }
        )
        _insert(conn, t[prefix + "course"], course_rows)

        contexts = [{"id": 1, "contextlevel": 10, "instanceid": 0, "path": "/1", "depth": 1}]
        contexts += [
            {
                "id": 100 + cid,
                "contextlevel": 50,
                "instanceid": cid,
                "path": f"/1/{100 + cid}",
                "depth": 2,
            }
            for cid in [*ids.values(), hidden_id]
        ]
        modules: dict[int, list[tuple[int, str]]] = {}
        for cid in [*ids.values(), hidden_id]:
            modules[cid] = [(cid * 100 + k, MODULES[k % len(MODULES)]) for k in range(14)]
            contexts += [
                {
                    "id": 10_000 + cmid,
                    "contextlevel": 70,
                    "instanceid": cmid,
                    "path": f"/1/{100 + cid}/{10_000 + cmid}",
                    "depth": 3,
                }
                for cmid, _ in modules[cid]
            ]
        _insert(conn, t[prefix + "context"], contexts)

        users = {2: ("admin", "Admin", "User")}
        assignments = [{"roleid": 1, "contextid": 1, "userid": 2}]  # a site manager
        for c in courses:
            context_id = 100 + ids[c.course_id]
            for learner in c.learners:
                users[learner.user_id] = (learner.username, *learner.full_name.split(" ", 1))
                assignments.append(
                    {"roleid": 5, "contextid": context_id, "userid": learner.user_id}
                )
            # The same student assigned twice (another enrolment plugin): counted once.
            assignments.append(
                {
                    "roleid": 5,
                    "contextid": context_id,
                    "userid": c.learners[0].user_id,
                    "component": "enrol_self",
                }
            )
            for offset, role in ((0, 3), (1, 4), (2, 4)):
                teacher = 900_000 + ids[c.course_id] * 10 + offset
                users[teacher] = (f"teacher{teacher}", "Teacher", str(teacher))
                assignments.append({"roleid": role, "contextid": context_id, "userid": teacher})
        _insert(
            conn,
            t[prefix + "user"],
            (
                {
                    "id": uid,
                    "username": name,
                    "firstname": first,
                    "lastname": last or "-",
                    "email": f"{name}@sandbox.example.edu",
                    "confirmed": 1,
                    "mnethostid": 1,
                }
                for uid, (name, first, last) in users.items()
            ),
        )
        _insert(
            conn,
            t[prefix + "role_assignments"],
            ({"id": i + 1, **a} for i, a in enumerate(assignments)),
        )

        def log_rows() -> Iterable[dict[str, Any]]:
            first_day = now.date() - dt.timedelta(days=days)
            for c in courses:
                cid = ids[c.course_id]
                for learner in c.learners:
                    if learner.last_activity is None:
                        continue
                    start = max(first_day, learner.enrolled_at.date())
                    day = start
                    while day <= learner.last_activity.date():
                        chance = active_chance(learner, day, c.start)
                        if chance and rng.random() < chance:
                            yield from _day_of_events(
                                rng,
                                cid,
                                learner.user_id,
                                day,
                                modules[cid],
                                epoch,
                                learner.last_activity,
                            )
                        day += dt.timedelta(days=1)
            # The hidden course still has activity: only the report filter leaves it out.
            for day_back in range(days):
                day = now.date() - dt.timedelta(days=day_back)
                yield from _day_of_events(rng, hidden_id, 2, day, modules[hidden_id], epoch, now)

        log = t[prefix + "logstore_standard_log"]
        written = _insert(conn, log, ({"id": i + 1, **row} for i, row in enumerate(log_rows())))
    if engine.dialect.name == "sqlite":
        # Written once, then only read: back to a single file, no 30 MB -wal beside it.
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
        engine.dispose()
    return MoodleSandbox(url, prefix, ids, hidden_id, written)


def _day_of_events(rng, course_id, user_id, day, modules, epoch, until) -> Iterable[dict]:
    """A few minutes of a user's activity on ``day``: views, submissions, course views."""
    base = epoch(dt.datetime.combine(day, dt.time()))
    limit = epoch(until)
    for _ in range(rng.randint(2, 9)):
        moment = base + rng.randint(0, 86_399)
        if moment > limit:
            continue
        cmid, component = rng.choice(modules)
        kind = rng.random()
        if kind < 0.15:  # the course page itself: context level 50
            yield _event(
                course_id,
                user_id,
                moment,
                "core",
                "viewed",
                "course",
                100 + course_id,
                50,
                course_id,
            )
        elif kind < 0.25 and component in ("mod_assign", "mod_quiz", "mod_forum"):
            action = {"mod_assign": "submitted", "mod_quiz": "started", "mod_forum": "created"}
            yield _event(
                course_id,
                user_id,
                moment,
                component,
                action[component],
                "submission",
                10_000 + cmid,
                70,
                cmid,
            )
        else:
            yield _event(
                course_id,
                user_id,
                moment,
                component,
                "viewed",
                "course_module",
                10_000 + cmid,
                70,
                cmid,
            )


def _event(
    course_id: int,
    user_id: int,
    moment: int,
    component: str,
    action: str,
    target: str,
    context_id: int,
    context_level: int,
    instance_id: int,
) -> dict[str, Any]:
    return {
        "eventname": f"\\{component}\\event\\{target}_{action}",
        "component": component,
        "action": action,
        "target": target,
        "crud": "r",
        "edulevel": 2,
        "contextid": context_id,
        "contextlevel": context_level,
        "contextinstanceid": instance_id,
        "userid": user_id,
        "courseid": course_id,
        "timecreated": moment,
        "origin": "web",
    }
