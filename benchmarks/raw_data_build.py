"""Building raw_data for one course of 10,000 learners on MariaDB.

Ours: ``compute_raw_data`` (one query per input table, vectorised pandas) plus
the one write path. Seed 000's way: for each learner, one SELECT per input
table, compute, then INSERT ... ON DUPLICATE KEY UPDATE and COMMIT. Uses
LMS_BENCH_MYSQL_URL (default root@127.0.0.1:3306), in a throwaway database.
"""

import datetime as dt
import random
import time

import sqlalchemy as sa

from benchmarks._mysql import throwaway_database
from lms_assets.features.raw_data import compute_raw_data
from lms_assets.openedx.features import LEARNER_TABLES
from lms_assets.partitions import Partition
from lms_assets.warehouse import WarehouseResource, rows_from_frame

LEARNERS = 10_000
COURSE = "course-v1:BENCH+RAW+2026"
DAY = dt.date(2026, 3, 10)


def _fixture(n: int) -> dict[str, list[dict]]:
    rng = random.Random(3)
    base = {"course_id": COURSE, "snapshot_date": DAY}
    tables: dict[str, list[dict]] = {name: [] for name in LEARNER_TABLES}
    for uid in range(1, n + 1):
        tables["enrollments"].append(
            {
                **base,
                "user_id": uid,
                "mode": "audit",
                "is_active": rng.random() < 0.8,
                "enrolled_at": dt.datetime(2026, 1, 1) + dt.timedelta(hours=rng.randint(0, 1500)),
            }
        )
        grade = round(rng.uniform(0, 100), 1)
        tables["mooc_grades"].append(
            {
                **base,
                "user_id": uid,
                "grade_percentage": grade,
                "letter_grade": "A",
                "is_passed": grade >= 50,
            }
        )
        tables["mooc_progress"].append(
            {
                **base,
                "user_id": uid,
                "completion_rate": round(rng.uniform(0, 100), 1),
                "last_activity": dt.datetime(2026, 3, 10)
                - dt.timedelta(hours=rng.randint(0, 2000)),
            }
        )
        tables["mooc_discussions"].append(
            {
                **base,
                "user_id": uid,
                "threads_count": 1,
                "comments_count": 2,
                "total_interactions": 3,
                "questions_count": 0,
                "total_upvotes": 1,
            }
        )
        tables["h5p_scores_summary"].append(
            {
                **base,
                "user_id": uid,
                "total_contents": 20,
                "completed_contents": rng.randint(0, 20),
                "total_score": 50,
                "total_max_score": 100,
                "overall_percentage": 50.0,
            }
        )
        tables["video_progress_summary"].append(
            {
                **base,
                "user_id": uid,
                "total_videos": 10,
                "completed_videos": rng.randint(0, 10),
                "in_progress_videos": 0,
                "total_watched_time": 100,
                "overall_progress": 40.0,
            }
        )
        tables["dashboard_summary"].append(
            {
                **base,
                "user_id": uid,
                "overall_completion": 45.0,
                "total_items": 30,
                "completed_items": 12,
                "answered_by": "combined-progress",
            }
        )
    tables["course_stats_benchmarks"] = [
        {
            **base,
            "assessment_avg_score": 50.0,
            "progress_avg_completion": 50.0,
            "activity_avg_score": 50.0,
            "total_students": n,
            "activity_source": "api",
            "assessment_source": "api",
            "progress_source": "api",
        }
    ]
    return tables


def _seed_way(engine: sa.Engine, n: int) -> float:
    """One query set per learner and a commit per learner, as seed 000's aggregate_raw_data."""
    lookups = [
        "enrollments",
        "h5p_scores_summary",
        "video_progress_summary",
        "mooc_grades",
        "mooc_progress",
        "mooc_discussions",
        "dashboard_summary",
    ]
    started = time.perf_counter()
    with engine.connect() as conn:
        bench = (
            conn.execute(
                sa.text(
                    "SELECT * FROM course_stats_benchmarks WHERE course_id=:c AND snapshot_date=:d"
                ),
                {"c": COURSE, "d": DAY},
            )
            .mappings()
            .one()
        )
        for uid in range(1, n + 1):
            found = {}
            for table in lookups:
                found[table] = (
                    conn.execute(
                        sa.text(
                            f"SELECT * FROM {table} WHERE course_id=:c"
                            " AND snapshot_date=:d AND user_id=:u"
                        ),
                        {"c": COURSE, "d": DAY, "u": uid},
                    )
                    .mappings()
                    .first()
                )
            grade = found["mooc_grades"]["grade_percentage"]
            conn.execute(
                sa.text(
                    "INSERT INTO seed_raw_data"
                    " (course_id, user_id, grade_percentage, relative_score)"
                    " VALUES (:c, :u, :g, :r) ON DUPLICATE KEY UPDATE"
                    " grade_percentage=VALUES(grade_percentage),"
                    " relative_score=VALUES(relative_score)"
                ),
                {"c": COURSE, "u": uid, "g": grade, "r": grade - bench["assessment_avg_score"]},
            )
            conn.commit()
    return time.perf_counter() - started


def main() -> dict[str, float]:
    with throwaway_database("raw") as url:
        warehouse = WarehouseResource(url=url)
        partition = [Partition(COURSE, DAY)]
        warehouse.write(partition, _fixture(LEARNERS), asset_name="bench")
        with warehouse.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE seed_raw_data (course_id VARCHAR(255), user_id BIGINT, "
                    "grade_percentage DOUBLE, relative_score DOUBLE,"
                    " PRIMARY KEY (course_id, user_id))"
                )
            )

        timings = []
        for _ in range(3):
            started = time.perf_counter()
            frame = compute_raw_data(warehouse, partition, timezone="UTC")
            computed = time.perf_counter() - started
            warehouse.write(partition, {"raw_data": rows_from_frame(frame)}, asset_name="raw_data")
            timings.append((time.perf_counter() - started, computed))
        ours, computed = min(timings)
        assert len(frame) == LEARNERS
        seed = _seed_way(warehouse.engine, LEARNERS)
        backend = warehouse.dialect
    print(f"learners={LEARNERS} on {backend} (best of 3 for ours)")
    print(
        f"ours: {ours:7.2f} s  (compute {computed:.2f} s + write {ours - computed:.2f} s)  "
        f"{LEARNERS / ours:9.0f} learners/s"
    )
    print(
        f"seed: {seed:7.2f} s  (8 queries + 1 commit per learner)        "
        f"{LEARNERS / seed:9.0f} learners/s   ours is {seed / ours:.0f}x faster"
    )
    return {"ours": ours, "seed": seed}
