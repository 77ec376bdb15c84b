"""A day of 1,000,000 LTI attempts end to end into MariaDB (seed 002).

Each way runs in its own process (so its peak memory is its own), against the same day
served over loopback HTTP by a process of its own (one JSON list, as the real API sends):
- ours: the Dagster assets as deployed: ``lti_attempts`` (one GET, validation, de-duplication,
  split by course, one transaction per course-day) and ``attempt_daily_stats``, with their
  checks, for the 20 courses and ``lti-course-unknown`` in one run;
- seed 002's way: the same GET, then per record validation (its checks, ``ast.literal_eval``
  of passback_params) and one ``INSERT ... ON DUPLICATE KEY UPDATE`` (MariaDB's ON CONFLICT)
  per row into the seed's ``attempts`` table, one commit at the end; measured on the first
  ``LMS_BENCH_SEED_SAMPLE`` records (default 100,000) and scaled, since its cost per row is
  constant;
- the ceiling: the same typed rows, already written as the bulk CSV, only ``LOAD DATA``-ed
  into a copy of ``lti_attempts``.

``python -m benchmarks lti_ingest`` (``LMS_BENCH_ATTEMPTS`` to change the size).
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ATTEMPTS = int(os.environ.get("LMS_BENCH_ATTEMPTS", "1000000"))
SEED_SAMPLE = int(os.environ.get("LMS_BENCH_SEED_SAMPLE", "100000"))
COURSES = [f"course-v1:BENCH+C{n:02d}+2026" for n in range(20)]
DAY = dt.date(2026, 3, 10)
CLIENT, KEY = "bench-client", "bench-key"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def write_day(path: Path, attempts: int) -> None:
    """``attempts`` records of one day as JSON: sessions of a learner at an exercise (1-7
    attempts, runs then submits, one passback_params string per learner and exercise, as
    the LMS sends); 1 in 200 records bad, 1 in 500 a duplicate of the previous one."""
    rng = random.Random(2)
    users = [f"{n:032x}" for n in range(200_000)]
    start = dt.datetime.combine(DAY, dt.time())
    records: list[dict] = []
    while len(records) < attempts:
        course, block, user = rng.choice(COURSES), rng.randrange(8), rng.choice(users)
        params = repr(
            {
                "oauth_consumer_key": "",
                "lis_result_sourcedid": f"{course}:lms.bench.edu-{block:032x}:{user}",
                "lis_outcome_service_url": f"https://lms.bench.edu/courses/{course}/xblock/"
                f"block-v1:{course[10:]}+type@lti+block@{block:032x}/handler_noauth/grade_handler",
            }
        )
        moment = start + dt.timedelta(microseconds=rng.randrange(80_000_000_000))
        for k in range(rng.randint(1, 7)):
            kind = "run" if k < 2 else "submit"
            moment += dt.timedelta(microseconds=rng.randrange(1, 60_000_000))
            record = {
                "lti_user_id": user,
                "passback_params": params,
                "is_correct": None if kind == "run" else int(rng.random() < 0.45),
                "attempt_type": kind,
                "created_at": moment.strftime("%Y-%m-%d %H:%M:%S.%f"),
            }
            n = len(records)
            if n % 200 == 199:
                record["is_correct"] = 2 if kind == "submit" else 1
            elif n % 500 == 499 and records:
                record = dict(records[-1])
            records.append(record)
    path.write_bytes(json.dumps(records[:attempts]).encode())


def serve(path: str) -> None:
    """Serve the day's file to any GET with the right client and key (the API's process)."""
    body = Path(path).read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            ok = f"client={CLIENT}" in self.path and f"client_key={KEY}" in self.path
            self.send_response(200 if ok else 403)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if ok else 2))
            self.end_headers()
            self.wfile.write(body if ok else b"{}")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


def _api(port: int):
    from lms_assets.lti.resources import LtiApiResource

    return LtiApiResource(
        base_url=f"http://127.0.0.1:{port}/attempts", client=CLIENT, client_key=KEY
    )


def ours(url: str, port: int) -> dict:
    import dagster as dg

    from lms_assets.automation import RANGE_END_TAG, RANGE_START_TAG
    from lms_assets.lti.assets import attempt_daily_stats, lti_attempts, lti_courses
    from lms_assets.lti.parsing import UNKNOWN_COURSE
    from lms_assets.warehouse import WarehouseResource

    warehouse = WarehouseResource(url=url)
    _ = warehouse.engine  # the schema first, outside the timing
    courses = [*COURSES, UNKNOWN_COURSE]
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(lti_courses.name, courses)
        started = time.perf_counter()
        result = dg.materialize(
            [lti_attempts, attempt_daily_stats],
            instance=instance,
            resources={"warehouse": warehouse, "lti_api": _api(port)},
            tags={RANGE_START_TAG: f"{courses[0]}|{DAY}", RANGE_END_TAG: f"{courses[-1]}|{DAY}"},
            run_config=QUIET,
        )
        seconds = time.perf_counter() - started
    assert result.success
    rows = warehouse.scalar(_count("lti_attempts"))
    steps = {
        event.step_key: round(event.event_specific_data.duration_ms / 1000, 1)
        for event in result.get_step_success_events()
    }
    return {"seconds": seconds, "rows": rows, "steps": steps}


def _count(table: str):
    import sqlalchemy as sa

    return sa.select(sa.func.count()).select_from(sa.table(table))


SEED_DDL = """
CREATE TABLE attempts (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    user_id VARCHAR(32) NOT NULL,
    oauth_consumer_key TEXT,
    lis_result_sourcedid TEXT,
    lis_outcome_service_url TEXT,
    is_correct BOOLEAN,
    attempt_type VARCHAR(10) NOT NULL CHECK (attempt_type IN ('run', 'submit')),
    created_at DATETIME(6) NOT NULL,
    CONSTRAINT unique_attempt UNIQUE (user_id, attempt_type, created_at)
) ENGINE=InnoDB CHARSET=utf8mb4
"""


def seed_way(url: str, port: int) -> dict:
    """Seed 002: fetch, validate record by record, one INSERT per row."""
    import sqlalchemy as sa

    from lms_assets.db import get_engine

    engine = get_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(SEED_DDL)
    api = _api(port)
    started = time.perf_counter()
    records = api.attempts(DAY)[:SEED_SAMPLE]
    kept = 0
    raw = engine.raw_connection()
    cursor = raw.cursor()
    for record in records:
        try:  # the seed's DataProcessor checks
            if not all(k in record for k in ("lti_user_id", "passback_params", "attempt_type")):
                continue
            if record["attempt_type"] not in ("run", "submit"):
                continue
            if record["is_correct"] not in (0, 1, None):
                continue
            if record["attempt_type"] == "run" and record["is_correct"] is not None:
                continue
            created = dt.datetime.strptime(record["created_at"], "%Y-%m-%d %H:%M:%S.%f")
            params = ast.literal_eval(record["passback_params"])
            if not all(v is None or isinstance(v, str) for v in params.values()):
                continue
        except (ValueError, SyntaxError, KeyError):
            continue
        cursor.execute(
            "INSERT INTO attempts (user_id, oauth_consumer_key, lis_result_sourcedid, "
            "lis_outcome_service_url, is_correct, attempt_type, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) ON DUPLICATE KEY UPDATE id = id",
            (
                record["lti_user_id"],
                params.get("oauth_consumer_key"),
                params.get("lis_result_sourcedid"),
                params.get("lis_outcome_service_url"),
                record["is_correct"],
                record["attempt_type"],
                created,
            ),
        )
        kept += 1
    raw.commit()
    seconds = time.perf_counter() - started
    raw.close()
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT COUNT(*) FROM attempts")).scalar_one()
    return {"seconds": seconds, "rows": rows, "records": len(records), "validated": kept}


def ceiling(url: str, port: int) -> dict:
    """LOAD DATA of the same typed rows (parsed and written as CSV before the clock starts)."""
    import pyarrow as pa

    from lms_assets.lti.parsing import parse_day
    from lms_assets.warehouse import WarehouseResource
    from lms_assets.warehouse.bulk import load_file, write_load_file
    from lms_assets.warehouse.schema import registered_metadata

    warehouse = WarehouseResource(url=url)
    table = registered_metadata().tables["lti_attempts"]
    parsed = parse_day(_api(port).attempts(DAY), DAY, "UTC")
    loaded_at = dt.datetime(2026, 3, 11)
    rows = [{**r, "loaded_at": loaded_at} for course in parsed.rows.values() for r in course]
    data = pa.Table.from_pylist(rows).select([c.name for c in table.columns])
    del rows, parsed
    path = Path(tempfile.mkdtemp()) / "lti_attempts.csv"
    columns = write_load_file(data, str(path))
    _ = warehouse.engine  # the schema first, outside the timing
    started = time.perf_counter()
    with warehouse.engine.begin() as conn:
        load_file(conn, table, str(path), columns)
    seconds = time.perf_counter() - started
    path.unlink()
    return {"seconds": seconds, "rows": warehouse.scalar(_count("lti_attempts"))}


WAYS = {"ours": ours, "seed": seed_way, "ceiling": ceiling}


def _run_way(way: str, port: int) -> dict:
    """One way in a process of its own, on a throwaway database; its figures and peak RSS."""
    code = (
        "import json, sys, warnings; warnings.filterwarnings('ignore')\n"
        "from benchmarks._mysql import throwaway_database\n"
        "from benchmarks import lti_ingest as b\n"
        "from lms_assets.tracking.splitting import peak_memory_mib\n"
        f"with throwaway_database('lti_{way}') as url:\n"
        f"    out = b.WAYS[{way!r}](url, {port})\n"
        "out['peak_mib'] = peak_memory_mib()\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{way} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> dict:
    work = Path(tempfile.mkdtemp(prefix="lti_bench_"))
    day = work / "day.json"
    started = time.perf_counter()
    write_day(day, ATTEMPTS)
    print(
        f"generated {ATTEMPTS:,} attempts ({day.stat().st_size / 2**20:.0f} MiB of JSON) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", f"from benchmarks.lti_ingest import serve; serve({str(day)!r})"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        figures = {way: _run_way(way, port) for way in WAYS}
    finally:
        server.terminate()
        server.wait()
        day.unlink()
    ours_, seed, top = figures["ours"], figures["seed"], figures["ceiling"]
    seed_full = seed["seconds"] * ATTEMPTS / seed["records"]
    print(
        f"ours:    {ours_['seconds']:.1f} s end to end, {ours_['rows']:,} attempts stored, "
        f"{ours_['rows'] / ours_['seconds']:,.0f} rows/s, peak {ours_['peak_mib']:.0f} MiB; "
        f"steps (s, checks included): {ours_['steps']}"
    )
    print(
        f"seed's:  {seed['seconds']:.1f} s for {seed['records']:,} records "
        f"({seed['rows']:,} rows) -> {seed_full:.0f} s for {ATTEMPTS:,} "
        f"({seed['records'] / seed['seconds']:,.0f} rows/s), peak {seed['peak_mib']:.0f} MiB"
    )
    print(
        f"ceiling: LOAD DATA of the same rows {top['seconds']:.1f} s "
        f"({top['rows'] / top['seconds']:,.0f} rows/s), peak {top['peak_mib']:.0f} MiB"
    )
    print(
        f"ours is {seed_full / ours_['seconds']:.1f}x faster than the seed's way and "
        f"{ours_['seconds'] / top['seconds']:.1f}x the LOAD DATA ceiling"
    )
    return {"ours": ours_["seconds"], "seed": seed_full, "ceiling": top["seconds"]}


if __name__ == "__main__":
    main()
