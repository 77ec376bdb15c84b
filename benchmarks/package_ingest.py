"""A research package with 1,000,000 courseware_studentmodule rows into MariaDB (issue 15).

Ours: ``research_package_tables`` as deployed (every table of the package read, the ``.sql``
tables streamed as Arrow batches through the bulk path inside one transaction, checks
included), run in a fresh process that reports its own time and peak memory (VmHWM): at
100,000 and 1,000,000 modules of the same 20,000 learners (memory per module record), and
at 100,000 modules of 2,000 learners (memory per learner). Compared, in one run, with
- (b) the naive way: the ``csv`` module and one INSERT per row (measured on a sample);
- (c) the server's ceiling: the same typed rows, already written as the bulk CSV, only
  ``LOAD DATA``-ed into a copy of the table.
"""

import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import sqlalchemy as sa

from benchmarks._mysql import throwaway_database
from lms_assets.partitions import Partition
from lms_assets.research_packages.parsing import CourseReader
from lms_assets.research_packages.pseudonyms import Pseudonymizer
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.bulk import load_file, write_load_file
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()

ROWS = int(os.environ.get("LMS_BENCH_MODULE_ROWS", "1000000"))
SMALL = ROWS // 10
LEARNERS = ROWS // 50
NAIVE_SAMPLE = 20_000
DAY = dt.date(2026, 3, 2)
COURSE = "course-v1:BenchX+BIG101+2026"
PREFIX = "BenchX-BIG101-2026"
MODULE_HEADER = (
    "id module_type module_id student_id state grade max_grade done course_id created modified"
)


def write_package(folder: Path, rows: int, learners: int) -> Path:
    """A package folder whose courseware_studentmodule file has ``rows`` records of
    ``learners`` learners (``rows // learners`` modules each)."""
    package = folder / f"BenchX-{DAY}"
    package.mkdir(parents=True)
    per_learner = max(1, rows // learners)
    rng = random.Random(4)
    block = "block-v1:BenchX+BIG101+2026+type@problem+block@p"
    with open(package / f"{PREFIX}-courseware_studentmodule-prod-analytics.sql", "w") as out:
        out.write(MODULE_HEADER.replace(" ", "\t") + "\n")
        for n in range(rows):
            learner, module = divmod(n, per_learner)
            state = json.dumps(
                {"attempts": rng.randint(1, 4), "seed": 1, "done": True, "input_state": {"a": ""}}
            )
            out.write(
                f"{n + 1}\tproblem\t{block}{module}\t{learner + 1}\t{state}\t{rng.randint(0, 2)}"
                f"\t2\tna\t{COURSE}\t2026-01-{1 + module % 28:02d} 10:00:00\t2026-02-01 10:00:00\n"
            )
    with open(package / f"{PREFIX}-auth_user-prod-analytics.sql", "w") as out:
        out.write("id\tusername\temail\tis_staff\tdate_joined\n")
        for n in range(learners):
            out.write(f"{n + 1}\tlearner{n + 1}\tl{n + 1}@x.org\t0\t2026-01-01 00:00:00\n")
    with open(package / f"{PREFIX}-student_courseenrollment-prod-analytics.sql", "w") as out:
        out.write("id\tuser_id\tcourse_id\tcreated\tis_active\tmode\n")
        for n in range(learners):
            out.write(f"{n + 1}\t{n + 1}\t{COURSE}\t2026-01-01 00:00:00\t1\taudit\n")
    return package


MEASURE = """
import datetime, json, time
import dagster as dg
from lms_assets.partitions import Partition
from lms_assets.research_packages.assets import research_package_courses, research_package_tables
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.tracking.splitting import peak_memory_mib
from lms_assets.warehouse import WarehouseResource
warehouse = WarehouseResource(url={url!r})
warehouse.engine  # the schema, before the clock starts
with dg.instance_for_test() as instance:
    instance.add_dynamic_partitions(research_package_courses.name, [{course!r}])
    started = time.perf_counter()
    result = dg.materialize([research_package_tables], instance=instance,
        partition_key=Partition({course!r}, datetime.date.fromisoformat({day!r})).partition_key,
        resources={{"research_packages": ResearchPackageFolderResource(path={folder!r}),
                    "warehouse": warehouse}},
        run_config={{"loggers": {{"console": {{"config": {{"log_level": "WARNING"}}}}}}}})
    seconds = time.perf_counter() - started
stored = int(warehouse.read_frame("SELECT COUNT(*) AS n FROM courseware_modules")["n"][0])
checks = all(e.passed for e in result.get_asset_check_evaluations())
print(json.dumps({{"seconds": seconds, "peak_mib": peak_memory_mib(), "stored": stored,
                  "success": result.success, "checks_passed": checks}}))
"""


def _ours(url: str, folder: Path) -> dict:
    code = MEASURE.format(url=url, course=COURSE, day=DAY.isoformat(), folder=str(folder))
    # The export date must be a partition: the date dimension starts no later than it.
    env = {**os.environ, "LMS_PARTITIONS_START_DATE": DAY.isoformat()}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _naive(url: str, package: Path) -> float:
    """Seconds per row: csv.reader and one INSERT per row (seed-style), on a sample."""
    import csv

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE naive_modules (id BIGINT PRIMARY KEY, module_type VARCHAR(32), "
            "module_id VARCHAR(255), student_id BIGINT, state TEXT, grade DOUBLE, "
            "max_grade DOUBLE, created DATETIME, modified DATETIME)"
        )
    path = next(package.glob("*courseware_studentmodule*"))
    inserted = 0
    started = time.perf_counter()
    with open(path, newline="") as handle, engine.begin() as conn:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        for n, row in enumerate(reader):
            if n == NAIVE_SAMPLE:
                break
            inserted += 1
            conn.execute(
                sa.text(
                    "INSERT INTO naive_modules VALUES (:id, :module_type, :module_id, "
                    ":student_id, :state, :grade, :max_grade, :created, :modified)"
                ),
                {
                    k: (None if v == "NULL" else v)
                    for k, v in row.items()
                    if k not in ("done", "course_id")
                },
            )
    engine.dispose()
    return (time.perf_counter() - started) / inserted


def _ceiling(url: str, package: Path) -> tuple[float, int]:
    """Seconds to LOAD DATA the same typed rows (the bulk CSV written beforehand)."""
    scanned = ResearchPackageFolderResource(path=str(package.parent))
    found, prefix = scanned.find(Partition(COURSE, DAY))
    load = CourseReader(found, prefix, Partition(COURSE, DAY), Pseudonymizer()).read()
    data = pa.concat_tables(list(load.rows["courseware_modules"])).unify_dictionaries()
    data = data.append_column("loaded_at", sa_now(data.num_rows))
    warehouse = WarehouseResource(url=url)
    with tempfile.NamedTemporaryFile(suffix=".csv", delete=False) as handle:
        path = handle.name
    try:
        columns = write_load_file(data, path)
        with warehouse.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE ceiling LIKE courseware_modules")
        started = time.perf_counter()
        with warehouse.engine.begin() as conn:
            load_file(
                conn,
                schema.tables["courseware_modules"].to_metadata(sa.MetaData(), name="ceiling"),
                path,
                columns,
            )
        return time.perf_counter() - started, data.num_rows
    finally:
        os.unlink(path)


def _phases(url: str, package: Path) -> dict[str, float]:
    """Seconds of each phase of ours, timed apart in this process: the read alone (its
    streams drained, nothing written), the read streamed into the write, the checks."""
    from lms_assets import quality
    from lms_assets.loading import LoadReport
    from lms_assets.research_packages.checks import RULES

    partition = Partition(COURSE, DAY)
    warehouse = WarehouseResource(url=url)
    _ = warehouse.engine  # the schema, before the clock starts
    timings = {}
    started = time.perf_counter()
    found, prefix = ResearchPackageFolderResource(path=str(package.parent)).find(partition)
    load = CourseReader(found, prefix, partition, Pseudonymizer()).read()
    for rows in load.rows.values():
        for _ in rows:
            pass
    timings["read alone"] = time.perf_counter() - started
    started = time.perf_counter()
    load = CourseReader(found, prefix, partition, Pseudonymizer()).read()
    warehouse.write([partition], load.rows, asset_name="bench", rejected=lambda: load.rejected)
    timings["read + write"] = time.perf_counter() - started
    report = LoadReport(written=[partition])
    report.add_load(partition, load)
    started = time.perf_counter()
    for table, rules in RULES.items():
        quality.evaluate(warehouse, table, rules, [partition], load=report)
    timings["checks"] = time.perf_counter() - started
    return timings


def sa_now(n: int):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    return pa.array([now] * n, type=pa.timestamp("s"))


def main() -> dict:
    with tempfile.TemporaryDirectory() as work:
        work_path = Path(work)
        results = {}
        # (modules, learners): the first two differ by modules only, the first and the
        # last by learners only.
        for size, learners in ((SMALL, LEARNERS), (ROWS, LEARNERS), (SMALL, LEARNERS // 10)):
            folder = work_path / f"{size}-{learners}"
            package = write_package(folder, size, learners)
            megabytes = sum(p.stat().st_size for p in package.iterdir()) / 2**20
            with throwaway_database("packages") as url:
                ours = _ours(url, folder)
                assert ours["success"] and ours["checks_passed"] and ours["stored"] == size, ours
                results[size, learners] = ours
                print(
                    f"ours, {size:,} rows of {learners:,} learners ({megabytes:.0f} MiB package): "
                    f"{ours['seconds']:.1f} s, {size / ours['seconds']:,.0f} rows/s, "
                    f"peak {ours['peak_mib']:.0f} MiB"
                )
                if size == ROWS:
                    per_row = _naive(url, package)
                    print(
                        f"naive (csv + one INSERT per row, {NAIVE_SAMPLE:,} sampled): "
                        f"{per_row * 1e6:.0f} us/row -> {per_row * size:.0f} s for {size:,} "
                        f"({1 / per_row:,.0f} rows/s)"
                    )
                    seconds, rows = _ceiling(url, package)
                    print(
                        f"ceiling (LOAD DATA of the typed rows only): {seconds:.1f} s, "
                        f"{rows / seconds:,.0f} rows/s; ours is "
                        f"{ours['seconds'] / seconds:.1f}x the ceiling's time, the naive way "
                        f"{per_row * size / seconds:.1f}x"
                    )
                    results["naive_per_row"] = per_row
                    results["ceiling_seconds"] = seconds
            if size == ROWS:
                with throwaway_database("phases") as url:
                    phases = _phases(url, package)
                    print(
                        "phases of ours, apart: "
                        + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items())
                    )
        small, large = results[SMALL, LEARNERS]["peak_mib"], results[ROWS, LEARNERS]["peak_mib"]
        few = results[SMALL, LEARNERS // 10]["peak_mib"]
        print(
            f"peak memory: {small:.0f} MiB at {SMALL:,} rows, {large:.0f} MiB at {ROWS:,} "
            f"(both {LEARNERS:,} learners): {(large - small) * 2**20 / (ROWS - SMALL):.0f} "
            f"bytes per extra module record; {few:.0f} MiB at {SMALL:,} rows of "
            f"{LEARNERS // 10:,} learners: "
            f"{(small - few) * 2**20 / (LEARNERS - LEARNERS // 10):.0f} bytes per extra learner"
        )
        return results
