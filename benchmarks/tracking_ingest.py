"""Ingesting a ~1 GB tracking log (1.25M events) end to end into MariaDB.

Ours: the Dagster assets as deployed: ``tracking_log_split`` for the day, then
``tracking_events`` for all 20 courses in one run, into a MariaDB warehouse.
Compared, in one run, with
- (a) the same file only parsed by orjson, no writing: the ceiling on one core;
- (b) DuckDB's ``read_json`` on the same file (what a user might pick instead);
- (c) seed 003's way: ``json.loads`` and one INSERT per event (measured on a sample);
- (d) the server's ceiling: the same typed rows, already written as CSV, only
  ``LOAD DATA``-ed into a copy of the table over as many connections as ours uses.
Peak memory of the split (the run's process and its largest worker) is measured for two
file sizes, to show it does not grow with the file.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dagster as dg
import orjson
import pyarrow as pa
import sqlalchemy as sa

from benchmarks._mysql import throwaway_database
from lms_assets import partitions
from lms_assets.definitions import defs
from lms_assets.sandbox.tracking_logs import write_large_log
from lms_assets.tracking import assets as tracking
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.tracking.splitting import read_course, unique_events
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.bulk import load_file, write_load_file
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()

EVENTS = int(os.environ.get("LMS_BENCH_EVENTS", "1250000"))
COURSES = 20
SEED_SAMPLE = 20_000
DAY = dt.date(2026, 3, 10)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _peak_split_memory(events: int, work: Path) -> tuple[float, float]:
    """Peak RSS (MiB) of a process running the split of ``events`` events, and of its
    largest worker process."""
    folder = work / f"mem{events}"
    (folder / "logs").mkdir(parents=True)
    write_large_log(folder / "logs" / f"tracking-{DAY}.log", events, DAY, COURSES)
    code = f"""
import dagster as dg
from lms_assets.tracking import assets as t
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.tracking.splitting import peak_memory_mib
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.bulk import load_file, write_load_file
from lms_assets.warehouse.schema import registered_metadata
if __name__ == "__main__":
    with dg.instance_for_test() as i:
        result = dg.materialize([t.tracking_log_split], instance=i, partition_key="{DAY}",
            resources={{"tracking_logs": TrackingLogFolderResource(path="{folder / "logs"}",
                                                       staging_path="{folder / "staging"}"),
                       "warehouse": WarehouseResource(url="sqlite:///{folder / "w.sqlite"}")}})
    meta = result.asset_materializations_for_node("tracking_log_split")[0].metadata
    # ru_maxrss survives exec (it would report the parent's peak); VmHWM is this image's own.
    print(peak_memory_mib(), meta["worker_peak_memory_mib"].value)
"""
    script = folder / "measure.py"
    script.write_text(code)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    run_peak, worker_peak = out.stdout.strip().splitlines()[-1].split()
    return float(run_peak), float(worker_peak)


def _settle(warehouse: WarehouseResource, table: str) -> None:
    """Write ``table``'s dirty pages back to disk now, so that the next measurement does not
    pay for this one's writes (InnoDB would otherwise flush them lazily, during it)."""
    with warehouse.engine.connect() as conn:
        conn.exec_driver_sql(f"FLUSH TABLES {table} FOR EXPORT")
        conn.exec_driver_sql("UNLOCK TABLES")


def _load_only(warehouse: WarehouseResource, staging: Path, courses: list[str]) -> float:
    """Seconds to LOAD DATA the stored rows into a copy of the table, their files written
    beforehand by the warehouse's own bulk path (``write_load_file``): the server alone."""
    engine = warehouse.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ceiling LIKE tracking_events")
    ceiling = schema.tables["tracking_events"].to_metadata(sa.MetaData(), name="ceiling")
    loaded_at = dt.datetime(2026, 3, 11, 1, 0)
    files = []
    for number, course in enumerate(courses):
        data = unique_events(read_course(staging, course))
        data = data.append_column("snapshot_date", pa.array([DAY] * data.num_rows, pa.date32()))
        data = data.append_column(
            "loaded_at", pa.array([loaded_at] * data.num_rows, pa.timestamp("s"))
        )
        path = staging.parent / f"ceiling-{number}.csv"
        files.append((path, write_load_file(data, path)))

    def load(item: tuple[Path, list[str]]) -> None:
        with engine.begin() as conn:
            load_file(conn, ceiling, *item)

    _settle(warehouse, "tracking_events")
    started = time.perf_counter()
    with ThreadPoolExecutor(warehouse.writers) as pool:
        list(pool.map(load, files))
    return time.perf_counter() - started


def main() -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="lms_tracking_"))
    try:
        return _measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # several GB of logs and staging


def _measure(work: Path) -> dict[str, float]:
    logs_dir = work / "logs"
    logs_dir.mkdir()
    log = logs_dir / f"tracking-{DAY}.log"
    started = time.perf_counter()
    size = write_large_log(log, EVENTS, DAY, COURSES)
    print(
        f"file: {size / 1e9:.2f} GB, {EVENTS:,} events ({time.perf_counter() - started:.0f} s "
        "to generate)"
    )

    started = time.perf_counter()
    parsed = 0
    with log.open("rb") as handle:
        for line in handle:
            try:
                orjson.loads(line)
                parsed += 1
            except orjson.JSONDecodeError:
                pass
    parse_only = time.perf_counter() - started

    import duckdb

    started = time.perf_counter()
    duck = duckdb.sql(
        f"SELECT count(*) FROM read_json('{log}', format='newline_delimited', "
        "ignore_errors=true, maximum_object_size=1048576)"
    ).fetchall()[0][0]
    duck_time = time.perf_counter() - started

    with throwaway_database("tracking") as url:
        warehouse = WarehouseResource(url=url)
        resources = {
            "tracking_logs": TrackingLogFolderResource(
                path=str(logs_dir), staging_path=str(work / "staging")
            ),
            "warehouse": warehouse,
        }
        courses = [f"course-v1:BENCH+C{n:03d}+2026" for n in range(COURSES)]
        with dg.instance_for_test() as instance:
            partitions.register_courses(instance, partitions.openedx_courses, courses)
            started = time.perf_counter()
            assert dg.materialize(
                [tracking.tracking_log_split],
                instance=instance,
                partition_key=DAY.isoformat(),
                resources=resources,
                run_config=QUIET,
            ).success
            split_time = time.perf_counter() - started
            job = defs.resolve_job_def("tracking_courses").get_subset(
                asset_selection={dg.AssetKey("tracking_events")}
            )
            assert job.execute_in_process(
                instance=instance,
                resources=resources,
                run_config=QUIET,
                tags={
                    "dagster/asset_partition_range_start": f"{courses[0]}|{DAY}",
                    "dagster/asset_partition_range_end": f"{courses[-1]}|{DAY}",
                },
            ).success
            ours = time.perf_counter() - started
        with warehouse.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT COUNT(*) FROM tracking_events")).scalar()
        load_only = _load_only(warehouse, work / "staging" / DAY.isoformat(), courses)

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "CREATE TABLE seed_events (id BIGINT AUTO_INCREMENT PRIMARY KEY,"
                    " username VARCHAR(150), event_type VARCHAR(255), time VARCHAR(40),"
                    " course_id VARCHAR(255), event TEXT)"
                )
            )
        started = time.perf_counter()
        with log.open("rb") as handle, engine.connect() as conn:
            for count, line in enumerate(handle):
                if count == SEED_SAMPLE:
                    break
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                conn.execute(
                    sa.text(
                        "INSERT INTO seed_events (username, event_type, time, course_id, event)"
                        " VALUES (:u, :t, :w, :c, :e)"
                    ),
                    {
                        "u": record.get("username"),
                        "t": record.get("event_type"),
                        "w": record.get("time"),
                        "c": record["context"].get("course_id"),
                        "e": json.dumps(record.get("event")),
                    },
                )
                conn.commit()
        seed_rate = SEED_SAMPLE / (time.perf_counter() - started)
        engine.dispose()

    small_events = EVENTS // 10
    small, large = _peak_split_memory(small_events, work), _peak_split_memory(EVENTS, work)
    rate = stored / ours
    print(
        f"ours:  {ours:6.1f} s  {rate:9,.0f} events/s end to end into MariaDB "
        f"(split {split_time:.1f} s, load {ours - split_time:.1f} s); {stored:,} stored"
    )
    print(f"(a) orjson parse only: {parse_only:6.1f} s  {parsed / parse_only:9,.0f} events/s")
    print(
        f"(b) DuckDB read_json:  {duck_time:6.1f} s  {duck / duck_time:9,.0f} events/s "
        f"({duck:,} rows, no warehouse)"
    )
    print(
        f"(c) seed's way: json.loads + INSERT per event: {seed_rate:9,.0f} events/s "
        f"(sample of {SEED_SAMPLE:,}; {EVENTS / seed_rate / 60:.0f} min for the file)"
    )
    print(
        f"(d) LOAD DATA only of the {stored:,} typed rows, {warehouse.writers} connections: "
        f"{load_only:6.1f} s  {stored / load_only:9,.0f} rows/s (the server's ceiling)"
    )
    print(
        f"peak memory (VmHWM), run process / largest worker: {small[0]:.0f} / {small[1]:.0f} MiB "
        f"for {small_events:,} events, {large[0]:.0f} / {large[1]:.0f} MiB for {EVENTS:,}"
    )
    return {"ours": rate}
