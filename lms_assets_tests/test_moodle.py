"""Seed 001 on a hand-built Moodle site, created from Moodle's own XMLDB schema.

Timezone Asia/Jakarta (UTC+7): day D runs from S = D-1 17:00 UTC to E = D 17:00 UTC.
Table prefix `lms_` (not the default) and the site's own role shortnames:
students are `mahasiswa` (id 9), teachers `dosen` (id 10) and `editingteacher` (id 3).

Courses: 10 ALG and 11 DB (category FCOMP), 12 hidden, 13 in a category without
idnumber, 1 the site. Hand-counted results for D:

| course | file | video | forum | quiz | assign | url | total | days | students | teachers | avg |
|---|---|---|---|---|---|---|---|---|---|---|---|
| 10 | 1 | 1 | 1 | 1 | 2 | 1 | 7 | 1 | 3 | 2 | 7/3/1 = 2.33 |
| 11 | 1 | 0 | 0 | 0 | 0 | 0 | 1 | 1 | 2 | 1 | 1/2/1 = 0.50 |
| 13 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | (left out: no category idnumber) |
"""

import datetime as dt
from decimal import Decimal

import dagster as dg
import pytest
import sqlalchemy as sa

from lms_assets import partitions
from lms_assets.moodle import assets as moodle_assets
from lms_assets.moodle.assets import average_per_student_per_day
from lms_assets.moodle.definitions import ASSETS as MOODLE_ASSETS
from lms_assets.moodle.resources import MoodleDatabaseResource, epoch_window
from lms_assets.moodle.xmldb import moodle_metadata
from lms_assets.partitions import Partition
from lms_assets.sandbox.moodle_db import _insert
from lms_assets.warehouse.schema import registered_metadata

from .conftest import BACKENDS, mysql_database

schema = registered_metadata()

# Listed here, not imported, so the test does not follow a change of the schema.
ACTIVITY_COLUMNS = [
    "file_views",
    "video_views",
    "forum_views",
    "quiz_views",
    "assignment_views",
    "url_views",
    "total_views",
    "active_days",
]

PREFIX = "lms_"
ZONE = "Asia/Jakarta"
D = partitions.today()
S, E = epoch_window(D, ZONE)
COURSES = ["10", "11", "12", "13"]


@pytest.fixture(params=BACKENDS)
def moodle_url(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'moodle.sqlite'}"
        build_site(url)
        yield url
    else:
        with mysql_database("moodle") as url:
            build_site(url)
            yield url


def build_site(url: str) -> None:
    metadata = moodle_metadata(PREFIX)
    engine = sa.create_engine(url)
    metadata.create_all(engine)  # Moodle's own DDL, from install.xml
    t = {name.removeprefix(PREFIX): table for name, table in metadata.tables.items()}

    def log(course, when, component, action="viewed", level=70):
        return {
            "eventname": f"\\{component}\\event\\x",
            "component": component,
            "action": action,
            "target": "course_module",
            "crud": "r",
            "edulevel": 2,
            "contextid": 5000,
            "contextlevel": level,
            "contextinstanceid": 1,
            "userid": 101,
            "courseid": course,
            "timecreated": when,
        }

    with engine.begin() as conn:
        _insert(
            conn,
            t["course_categories"],
            [
                {"id": 2, "name": "Computing", "idnumber": "FCOMP", "path": "/2"},
                {"id": 3, "name": "Open", "idnumber": None, "path": "/3"},
            ],
        )
        _insert(
            conn,
            t["course"],
            [
                {"id": 1, "category": 0, "fullname": "Site", "shortname": "site", "visible": 1},
                {
                    "id": 10,
                    "category": 2,
                    "fullname": "Algorithms",
                    "shortname": "ALG",
                    "idnumber": "ALG-1",
                    "visible": 1,
                },
                {
                    "id": 11,
                    "category": 2,
                    "fullname": "Databases",
                    "shortname": "DB",
                    "idnumber": "DB-1",
                    "visible": 1,
                },
                {"id": 12, "category": 2, "fullname": "Hidden", "shortname": "HID", "visible": 0},
                {
                    "id": 13,
                    "category": 3,
                    "fullname": "Open course",
                    "shortname": "OPEN",
                    "visible": 1,
                },
            ],
        )
        _insert(
            conn,
            t["role"],
            [
                {
                    "id": rid,
                    "name": short.title(),
                    "shortname": short,
                    "archetype": arch,
                    "sortorder": rid,
                }
                for rid, short, arch in [
                    (1, "manager", "manager"),
                    (3, "editingteacher", "editingteacher"),
                    (5, "student", "student"),
                    (9, "mahasiswa", "student"),
                    (10, "dosen", "teacher"),
                ]
            ],
        )
        _insert(
            conn,
            t["context"],
            [
                {"id": 1, "contextlevel": 10, "instanceid": 0},
                {"id": 110, "contextlevel": 50, "instanceid": 10},
                {"id": 111, "contextlevel": 50, "instanceid": 11},
                {"id": 113, "contextlevel": 50, "instanceid": 13},
                {"id": 5000, "contextlevel": 70, "instanceid": 10},  # a module of course 10
            ],
        )
        _insert(
            conn,
            t["role_assignments"],
            [
                {"id": i, "roleid": role, "contextid": ctx, "userid": user, "component": comp}
                for i, (role, ctx, user, comp) in enumerate(
                    [
                        (9, 110, 101, ""),
                        (9, 110, 101, "enrol_self"),  # twice: counted once
                        (9, 110, 102, ""),
                        (9, 110, 103, ""),
                        (
                            5,
                            110,
                            104,
                            "",
                        ),  # stock student role: not one of this site's student roles
                        (10, 110, 201, ""),
                        (3, 110, 202, ""),
                        (9, 5000, 106, ""),  # module context, not the course's
                        (1, 1, 301, ""),  # site manager at system context
                        (9, 111, 101, ""),
                        (9, 111, 105, ""),
                        (10, 111, 203, ""),
                    ],
                    start=1,
                )
            ],
        )
        _insert(
            conn,
            t["logstore_standard_log"],
            [
                {"id": i, **row}
                for i, row in enumerate(
                    [
                        log(10, S, "mod_resource"),  # first second of the day: in
                        log(10, S - 1, "mod_resource"),  # last second of the day before: out
                        log(10, E - 1, "mod_page"),  # last second of the day: in
                        log(10, E, "mod_page"),  # first second of the next day: out
                        log(10, S + 100, "mod_forum"),
                        log(10, S + 200, "mod_quiz"),
                        log(10, S + 201, "mod_quiz", action="started"),  # not a view
                        log(10, S + 300, "mod_assign"),
                        log(10, S + 301, "mod_assign"),
                        log(10, S + 302, "mod_assign", action="submitted"),  # not a view
                        log(10, S + 400, "mod_url"),
                        log(10, S + 500, "core", level=50),  # course page: context level 50
                        log(10, S + 600, "mod_label"),  # not in the mapping
                        log(11, S + 700, "mod_resource"),
                        log(12, S + 800, "mod_resource"),  # hidden course
                    ],
                    start=1,
                )
            ],
        )
    engine.dispose()


def moodle_resource(url: str, **overrides) -> MoodleDatabaseResource:
    settings = {
        "url": url,
        "table_prefix": PREFIX,
        "timezone": ZONE,
        "student_roles": ["mahasiswa"],
        "teacher_roles": ["dosen", "editingteacher"],
    }
    return MoodleDatabaseResource(**{**settings, **overrides})


def materialize(
    moodle, warehouse, instance, day=D, courses=COURSES, selection=None, raise_on_error=True
):
    partitions.register_courses(instance, partitions.moodle_courses, courses)
    results = [
        dg.materialize(
            MOODLE_ASSETS,
            instance=instance,
            selection=selection,
            resources={"moodle": moodle, "warehouse": warehouse},
            partition_key=Partition(course, day).partition_key,
            raise_on_error=raise_on_error,
        )
        for course in courses
    ]
    return results


def stored(warehouse, table_name: str, columns: list[str]) -> dict[str, tuple]:
    table = schema.tables[table_name]
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(table.c.course_id, *(table.c[c] for c in columns)))
        return {row[0]: tuple(row[1:]) for row in rows}


def test_hand_built_site_gives_the_hand_counted_report(moodle_url, warehouse, instance) -> None:
    results = materialize(moodle_resource(moodle_url), warehouse, instance)
    assert all(r.success for r in results)
    assert all(e.passed for r in results for e in r.get_asset_check_evaluations())
    views = ACTIVITY_COLUMNS
    assert stored(warehouse, "activity_counts", views) == {
        "10": (1, 1, 1, 1, 2, 1, 7, 1),
        "11": (1, 0, 0, 0, 0, 0, 1, 1),
        "12": (1, 0, 0, 0, 0, 0, 1, 1),
        "13": (0, 0, 0, 0, 0, 0, 0, 0),
    }
    assert stored(
        warehouse,
        "user_counts",
        ["num_students", "num_teachers", "student_role_ids", "teacher_role_ids"],
    ) == {
        "10": (3, 2, "9", "10,3"),
        "11": (2, 1, "9", "10,3"),
        "12": (0, 0, "9", "10,3"),
        "13": (0, 0, "9", "10,3"),
    }
    report = stored(
        warehouse,
        "user_activity",
        [
            "category_idnumber",
            "id_number",
            "course_name",
            "course_shortname",
            "num_teachers",
            "num_students",
            "total_views",
            "avg_activity_per_student_per_day",
            "active_days",
        ],
    )
    assert report == {
        "10": ("FCOMP", "ALG-1", "Algorithms", "ALG", 2, 3, 7, Decimal("2.33"), 1),
        "11": ("FCOMP", "DB-1", "Databases", "DB", 1, 2, 1, Decimal("0.50"), 1),
    }


def test_stock_role_ids_are_used_when_the_shortnames_are_missing(moodle_url) -> None:
    moodle = moodle_resource(moodle_url, student_roles=["pupil"], teacher_roles=["tutor"])
    students, teachers, warnings = moodle.role_ids()
    assert (students, teachers) == ([5], [3, 4])
    assert "no role with shortname ['pupil']" in warnings[0]
    assert moodle.role_counts([10], students, teachers) == {10: (1, 1)}  # user 104; user 202


def test_discovery_lists_visible_courses_but_not_the_site(moodle_url) -> None:
    assert moodle_resource(moodle_url).visible_course_ids() == ["10", "11", "13"]


def test_the_moodle_connection_refuses_writes(moodle_url) -> None:
    moodle = moodle_resource(moodle_url)
    with pytest.raises(sa.exc.DBAPIError), moodle.engine.begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {PREFIX}course"))
    assert moodle.visible_course_ids() == ["10", "11", "13"]


def test_a_past_day_of_logs_can_be_loaded(moodle_url, warehouse, instance) -> None:
    yesterday = D - dt.timedelta(days=1)
    results = materialize(
        moodle_resource(moodle_url),
        warehouse,
        instance,
        day=yesterday,
        courses=["10"],
        selection=["activity_counts"],
    )
    assert results[0].success
    # Only the row one second before S belongs to the day before.
    assert stored(warehouse, "activity_counts", ["file_views", "total_views"]) == {"10": (1, 1)}


def test_user_counts_refuse_a_past_day(moodle_url, warehouse, instance) -> None:
    partitions.register_courses(instance, partitions.moodle_courses, ["10"])
    result = dg.materialize(
        MOODLE_ASSETS,
        instance=instance,
        selection=["user_counts"],
        raise_on_error=False,
        resources={"moodle": moodle_resource(moodle_url), "warehouse": warehouse},
        partition_key=Partition("10", D - dt.timedelta(days=1)).partition_key,
    )
    assert not result.success
    assert (
        "only gives today's snapshot"
        in result.failure_data_for_node("user_counts").error.to_string()
    )


@pytest.mark.parametrize(
    ("total", "students", "days", "expected"),
    [
        (7, 3, 1, Decimal("2.33")),
        (5, 8, 1, Decimal("0.63")),
        (1, 8, 1, Decimal("0.13")),
        (10, 0, 1, None),
        (10, 3, 0, None),
        (None, 3, 1, None),
    ],
)
def test_average_rounds_half_up_and_never_divides_by_zero(total, students, days, expected):
    assert average_per_student_per_day(total, students, days) == expected


def test_a_30_day_backfill_in_one_run_equals_the_days_one_by_one(
    tmp_path, sqlite_warehouse, instance
) -> None:
    from lms_assets.definitions import defs
    from lms_assets.sandbox.moodle_db import write_moodle_database
    from lms_assets.warehouse import WarehouseResource

    from .conftest import make_university

    site = write_moodle_database(make_university(), f"sqlite:///{tmp_path / 'moodle.sqlite'}")
    moodle = MoodleDatabaseResource(url=site.url)
    courses = moodle.visible_course_ids()
    partitions.register_courses(instance, partitions.moodle_courses, courses)
    days = [D - dt.timedelta(days=n) for n in range(30, 0, -1)]
    job = defs.resolve_job_def("moodle_daily")

    # The tags a single-run backfill of 2 courses x 30 days puts on its one run.
    backfill = job.get_subset(asset_selection={dg.AssetKey("activity_counts")}).execute_in_process(
        instance=instance,
        resources={"moodle": moodle, "warehouse": sqlite_warehouse},
        tags={
            "dagster/asset_partition_range_start": f"{courses[0]}|{days[0]}",
            "dagster/asset_partition_range_end": f"{courses[-1]}|{days[-1]}",
        },
    )
    assert backfill.success
    assert len(instance.get_run_records()) == 1
    columns = ["snapshot_date", *ACTIVITY_COLUMNS]

    def rows(warehouse):
        table = schema.tables["activity_counts"]
        with warehouse.engine.connect() as conn:
            query = sa.select(table.c.course_id, *(table.c[c] for c in columns))
            return sorted(tuple(r) for r in conn.execute(query.order_by(table.c.course_id)))

    in_one_run = rows(sqlite_warehouse)
    assert len(in_one_run) == len(courses) * 30
    assert sum(r[-2] for r in in_one_run) > 1000  # real activity, not a table of zeros

    one_by_one = WarehouseResource(url=f"sqlite:///{tmp_path / 'one_by_one.sqlite'}")
    for course in courses:
        for day in days:
            assert dg.materialize(
                MOODLE_ASSETS,
                instance=instance,
                selection=["activity_counts"],
                resources={"moodle": moodle, "warehouse": one_by_one},
                partition_key=Partition(course, day).partition_key,
            ).success
    assert rows(one_by_one) == in_one_run


def test_the_sandbox_moodle_on_mariadb_answers_like_on_sqlite(tmp_path) -> None:
    from lms_assets.sandbox.moodle_db import write_moodle_database

    from .conftest import make_university

    answers = []
    with mysql_database("moodle") as mysql_url:
        for url in (f"sqlite:///{tmp_path / 'moodle.sqlite'}", mysql_url):
            site = write_moodle_database(make_university(), url)
            moodle = MoodleDatabaseResource(url=url)
            courses = [int(c) for c in moodle.visible_course_ids()]
            days = [D - dt.timedelta(days=n) for n in range(5)]
            answers.append(
                (
                    site.log_rows,
                    courses,
                    moodle.view_counts(courses, days),
                    moodle.role_counts(courses, [5], [3, 4]),
                )
            )
    assert answers[0] == answers[1]
    log_rows, courses, views, roles = answers[0]
    assert log_rows > 10_000 and courses == [2, 3]
    assert sum(v for counts in views.values() for v in counts.values()) > 100
    university = make_university()
    assert roles == {
        cid: (len(c.learners), 3)
        for cid, c in zip(courses, university.courses.values(), strict=True)
    }


def test_an_unknown_course_gets_no_row_and_fails_its_check(moodle_url, warehouse, instance):
    """Course 999 is not on the site: no activity_counts row (zeros would read as 'nobody
    looked'), the blocking course_in_moodle check fails; the known course is stored."""
    results = materialize(
        moodle_resource(moodle_url),
        warehouse,
        instance,
        courses=["10", "999"],
        selection=["activity_counts"],
        raise_on_error=False,
    )
    checks = [{e.check_name: e.passed for e in r.get_asset_check_evaluations()} for r in results]
    assert [c["course_in_moodle"] for c in checks] == [True, False]
    assert [r.success for r in results] == [True, False]  # blocking: the run says so
    assert sorted(stored(warehouse, "activity_counts", ["total_views"])) == ["10"]


def test_a_course_key_of_unicode_digits_is_refused_by_name() -> None:
    """'²' passes str.isdigit() but int() refuses it: named, not a crash."""
    with pytest.raises(dg.Failure, match="Moodle course key '²' is not a Moodle course id"):
        moodle_assets.moodle_course_ids([Partition("²", D)])
