"""activity_counts for 30 days x 100 courses over 5 million Moodle log rows on MariaDB.

The log is generated inside MariaDB (its SEQUENCE engine), in a database created
from Moodle's own XMLDB schema, indexes included. Compared, in one run:
- ours: ``MoodleDatabaseResource.view_counts``, one query for all courses and days;
- seed 001's query run once per course and day (measured on a sample, then scaled);
- the floor: counting the window's rows through the timecreated index, no grouping.
"""

import datetime as dt
import time

import sqlalchemy as sa

from benchmarks._mysql import throwaway_database
from lms_assets.moodle.resources import MoodleDatabaseResource, epoch_window
from lms_assets.moodle.xmldb import moodle_metadata

ROWS = 5_000_000
COURSES = 100
DAYS = 30
SPAN_DAYS = 40  # the log covers 40 days; the backfill reads 30 of them
SEED_SAMPLE_DAYS = 3
FIRST_DAY = dt.date(2026, 1, 1)
COMPONENTS = "'mod_resource','mod_page','mod_forum','mod_quiz','mod_assign','mod_url','mod_label'"


def _fill(engine: sa.Engine) -> float:
    """Load the log, then build Moodle's indexes on it (faster than indexing row by row)."""
    metadata = moodle_metadata("mdl_")
    log = metadata.tables["mdl_logstore_standard_log"]
    bare = sa.Table(log.name, sa.MetaData(), *(c._copy() for c in log.columns))
    metadata.create_all(engine, tables=[t for t in metadata.sorted_tables if t is not log])
    bare.create(engine)
    start = epoch_window(FIRST_DAY, "UTC")[0]
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"""
            INSERT INTO mdl_logstore_standard_log
              (eventname, component, action, target, crud, edulevel, contextid, contextlevel,
               contextinstanceid, userid, courseid, timecreated)
            SELECT 'x', ELT(1 + seq % 7, {COMPONENTS}),
                   IF(seq % 11 = 0, 'submitted', 'viewed'), 'course_module', 'r', 2,
                   seq % 5000, IF(seq % 13 = 0, 50, 70), seq % 5000, seq % 20000,
                   2 + seq % {COURSES}, {start} + (seq * 7919) % {SPAN_DAYS * 86400}
            FROM seq_1_to_{ROWS}
        """)
        )
    for index in log.indexes:
        index.create(engine)
    return time.perf_counter() - started


def main() -> dict[str, float]:
    with throwaway_database("moodle") as url:
        engine = sa.create_engine(url)
        fill = _fill(engine)
        moodle = MoodleDatabaseResource(url=url, timezone="UTC")
        courses = list(range(2, 2 + COURSES))
        days = [FIRST_DAY + dt.timedelta(days=n) for n in range(DAYS)]
        first, last = epoch_window(days[0], "UTC")[0], epoch_window(days[-1], "UTC")[1]
        with engine.connect() as conn:
            window_rows = conn.execute(
                sa.text(
                    "SELECT COUNT(*) FROM mdl_logstore_standard_log"
                    " WHERE timecreated >= :a AND timecreated < :b"
                ),
                {"a": first, "b": last},
            ).scalar()

        started = time.perf_counter()
        ours = moodle.view_counts(courses, days)
        ours_time = time.perf_counter() - started
        assert len(ours) == COURSES * DAYS

        started = time.perf_counter()
        with engine.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT COUNT(*), SUM(contextlevel = 70 AND action = 'viewed')"
                    " FROM mdl_logstore_standard_log WHERE timecreated >= :a AND timecreated < :b"
                ),
                {"a": first, "b": last},
            ).one()
        floor_time = time.perf_counter() - started

        seed_query = sa.text("""
            SELECT courseid,
              COUNT(CASE WHEN component = 'mod_resource' THEN 1 END),
              COUNT(CASE WHEN component = 'mod_page' THEN 1 END),
              COUNT(CASE WHEN component = 'mod_forum' THEN 1 END),
              COUNT(CASE WHEN component = 'mod_quiz' THEN 1 END),
              COUNT(CASE WHEN component = 'mod_assign' THEN 1 END),
              COUNT(CASE WHEN component = 'mod_url' THEN 1 END),
              DATEDIFF(FROM_UNIXTIME(MAX(timecreated)), FROM_UNIXTIME(MIN(timecreated))) + 1
            FROM mdl_logstore_standard_log
            WHERE contextlevel = 70 AND action = 'viewed' AND courseid = :c
              AND timecreated BETWEEN :a AND :b
            GROUP BY courseid""")
        started = time.perf_counter()
        with engine.connect() as conn:
            for day in days[:SEED_SAMPLE_DAYS]:
                a, b = epoch_window(day, "UTC")
                for course in courses:
                    conn.execute(seed_query, {"c": course, "a": a, "b": b - 1}).all()
        seed_sample = time.perf_counter() - started
        seed_time = seed_sample * DAYS / SEED_SAMPLE_DAYS
        engine.dispose()
    print(
        f"log rows={ROWS:,} (loaded in {fill:.1f} s), window of {DAYS} days = {window_rows:,} "
        f"rows, {COURSES} courses"
    )
    print(f"ours:  {ours_time:7.2f} s  {window_rows / ours_time:12,.0f} rows/s  (1 query)")
    print(
        f"seed:  {seed_time:7.2f} s  {window_rows / seed_time:12,.0f} rows/s  "
        f"({COURSES * DAYS} queries; measured {COURSES * SEED_SAMPLE_DAYS} in "
        f"{seed_sample:.2f} s)"
    )
    print(
        f"floor: {floor_time:7.2f} s  {window_rows / floor_time:12,.0f} rows/s  "
        "(count the window through the index, no grouping)"
    )
    return {"ours": ours_time, "seed": seed_time, "floor": floor_time}
