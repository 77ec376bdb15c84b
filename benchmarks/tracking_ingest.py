"""Ingesting a ~1 GB tracking log (1.25M events) end to end into MariaDB (issue 12, point 8).

Ours: the Dagster assets as deployed: ``tracking_log_split`` for the day, then
``tracking_events`` (the narrow ``tracking_event_rows``) for all 20 courses in one run, into
a MariaDB warehouse, once with 1 split worker and 1 writer, once with 2 and 2. Reported in
one run:
- end to end (2 workers, 2 writers) against (d) the server's ceiling: the same narrow rows,
  already written as CSV, only ``LOAD DATA``-ed into a copy of the table over as many
  connections, as a ratio (target <= 2x);
- CPU-seconds per 1M events of the split (this process and its workers: getrusage of self
  and children) and of the load (this process, plus the MariaDB server's own CPU from
  /proc/<mariadbd>/stat: the server is shared, so other work on it counts too), at 1 and 2;
- the split's peak memory at 3 file sizes, up to 5 GB;
and, for context, (a) the file only parsed by orjson, (b) DuckDB's ``read_json``, (c) seed
003's way (``json.loads`` and one INSERT per event, sampled).
"""

import datetime as dt
import json
import os
import resource
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
from lms_assets.tracking.store import course_keys, narrow_rows
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.bulk import load_file, write_load_file
from lms_assets.warehouse.schema import registered_metadata

schema = registered_metadata()

EVENTS = int(os.environ.get("LMS_BENCH_EVENTS", "1250000"))
# ~820 bytes an event: 6.25M events is a 5 GB file.
MEMORY_EVENTS = int(os.environ.get("LMS_BENCH_MEMORY_EVENTS", "6250000"))
COURSES = 20
SEED_SAMPLE = 20_000
DAY = dt.date(2026, 3, 10)
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def _server_pid() -> int | None:
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() in ("mariadbd", "mysqld"):
                return int(comm.parent.name)
        except OSError:
            continue
    return None


def _server_cpu(pid: int | None) -> float:
    """CPU seconds the local MariaDB server has used (0 when it is not visible here)."""
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_split_memory(events: int, work: Path) -> tuple[float, float, float]:
    """Peak RSS (MiB) of a process running the split of ``events`` events, of its largest
    worker process, and the file's size in GB (the file is deleted afterwards)."""
    folder = work / f"mem{events}"
    (folder / "logs").mkdir(parents=True)
    size = write_large_log(folder / "logs" / f"tracking-{DAY}.log", events, DAY, COURSES)
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
    shutil.rmtree(folder, ignore_errors=True)
    return float(run_peak), float(worker_peak), size / 1e9


def _settle(warehouse: WarehouseResource, table: str) -> None:
    """Write ``table``'s dirty pages back to disk now, so that the next measurement does not
    pay for this one's writes (InnoDB would otherwise flush them lazily, during it)."""
    with warehouse.engine.connect() as conn:
        conn.exec_driver_sql(f"FLUSH TABLES {table} FOR EXPORT")
        conn.exec_driver_sql("UNLOCK TABLES")


def _load_only(warehouse: WarehouseResource, staging: Path, courses: list[str]) -> float:
    """Seconds to LOAD DATA the same narrow rows into a copy of tracking_event_rows, their
    files written beforehand by the warehouse's own bulk path (``write_load_file``)."""
    engine = warehouse.engine
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ceiling LIKE tracking_event_rows")
    ceiling = schema.tables["tracking_event_rows"].to_metadata(sa.MetaData(), name="ceiling")
    loaded_at = dt.datetime(2026, 3, 11, 1, 0)
    keys = course_keys(warehouse, courses)
    files = []
    for number, course in enumerate(courses):
        data, _pages = narrow_rows(unique_events(read_course(staging, course)), keys[course], DAY)
        data = data.append_column(
            "loaded_at", pa.array([loaded_at] * data.num_rows, pa.timestamp("s"))
        )
        path = staging.parent / f"ceiling-{number}.csv"
        files.append((path, write_load_file(data, path)))

    def load(item: tuple[Path, list[str]]) -> None:
        with engine.begin() as conn:
            load_file(conn, ceiling, *item)

    _settle(warehouse, "tracking_event_rows")
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


def _split_and_load(url: str, logs_dir: Path, staging: Path, courses: list[str], n: int):
    """Split the day with ``n`` workers, then load its courses with ``n`` writers (from
    empty tables). Returns (split s, split CPU s, load s, load CPU s here, server CPU s)."""
    warehouse = WarehouseResource(url=url, parallel_writes=n)
    with warehouse.engine.begin() as conn:  # each round loads into an empty table
        for table in ("tracking_event_rows", "tracking_pages", "tracking_split_counts"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    _settle(warehouse, "tracking_event_rows")
    resources = {
        "tracking_logs": TrackingLogFolderResource(path=str(logs_dir), staging_path=str(staging)),
        "warehouse": warehouse,
    }
    config = {**QUIET, "ops": {"tracking_log_split": {"config": {"workers": n}}}}
    server = _server_pid()
    with dg.instance_for_test() as instance:
        partitions.register_courses(instance, partitions.openedx_courses, courses)
        cpu, started = _cpu(), time.perf_counter()
        assert dg.materialize(
            [tracking.tracking_log_split],
            instance=instance,
            partition_key=DAY.isoformat(),
            resources=resources,
            run_config=config,
        ).success
        split, split_cpu = time.perf_counter() - started, _cpu() - cpu
        job = defs.resolve_job_def("tracking_courses").get_subset(
            asset_selection={dg.AssetKey("tracking_events")}
        )
        cpu, server_cpu, started = _cpu(), _server_cpu(server), time.perf_counter()
        assert job.execute_in_process(
            instance=instance,
            resources=resources,
            run_config=QUIET,
            tags={
                "dagster/asset_partition_range_start": f"{courses[0]}|{DAY}",
                "dagster/asset_partition_range_end": f"{courses[-1]}|{DAY}",
            },
        ).success
        load = time.perf_counter() - started
        return split, split_cpu, load, _cpu() - cpu, _server_cpu(server) - server_cpu


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

    courses = [f"course-v1:BENCH+C{n:03d}+2026" for n in range(COURSES)]
    with throwaway_database("tracking") as url:
        rounds = {n: _split_and_load(url, logs_dir, work / "staging", courses, n) for n in (1, 2)}
        warehouse = WarehouseResource(url=url)  # 2 writers, as the 2-worker round
        with warehouse.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT COUNT(*) FROM tracking_event_rows")).scalar()
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
    shutil.rmtree(work / "staging", ignore_errors=True)
    log.unlink()  # room for the memory runs' files

    per_million = 1e6 / EVENTS
    for n, (split, split_cpu, load, load_cpu, server_cpu) in rounds.items():
        print(
            f"ours, {n} worker(s) / {n} writer(s): split {split:5.1f} s "
            f"({split_cpu * per_million:5.1f} CPU-s per 1M events), load {load:5.1f} s "
            f"({load_cpu * per_million:5.1f} CPU-s here + {server_cpu * per_million:5.1f} in "
            f"the server per 1M = {(load_cpu + server_cpu) * per_million:5.1f}); end to end "
            f"{split + load:5.1f} s, {stored / (split + load):,.0f} events/s"
        )
    split, _, load, _, _ = rounds[2]
    ours = split + load
    print(
        f"(d) LOAD DATA only of the {stored:,} narrow rows, {warehouse.writers} connections: "
        f"{load_only:6.1f} s  {stored / load_only:9,.0f} rows/s (the server's ceiling); "
        f"end to end / ceiling = {ours / load_only:.2f}x (target <= 2x); "
        f"load alone / ceiling = {load / load_only:.2f}x"
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
    for events in (EVENTS // 10, EVENTS, MEMORY_EVENTS):
        run_peak, worker_peak, gigabytes = _peak_split_memory(events, work)
        print(
            f"peak memory (VmHWM) of the split, run process / largest worker: {run_peak:.0f} / "
            f"{worker_peak:.0f} MiB for {events:,} events ({gigabytes:.2f} GB)"
        )
    return {"ours": stored / ours, "ratio_to_ceiling": ours / load_only}
