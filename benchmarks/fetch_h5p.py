"""Per-learner H5P fetching: our concurrent rate-limited fetch vs seed 000's loop.

Sandbox course of 500 learners, 20 ms latency on every request, a limit of
100 requests/s. Seed 000 calls scores, video-progress and combined-progress one
after another and sleeps 0.5 s after each call. Its time per learner is
constant, so it is measured on the first SEED_LEARNERS learners only.
"""

import time

import dagster as dg
import requests

from lms_assets.openedx.h5p_assets import _fetch_course
from lms_assets.openedx.resources import H5PApiResource
from lms_assets.partitions import Partition, today
from lms_assets.sandbox import FaultConfig, Sandbox, University

LEARNERS = 500
LATENCY_MS = 20
RATE_LIMIT = 100.0  # requests per second
CALLS_PER_LEARNER = 3
SEED_DELAY = 0.5
SEED_LEARNERS = 20


def main() -> dict[str, float]:
    university = University(
        seed=1, n_courses=1, today=today(), learners_per_course=(LEARNERS, LEARNERS)
    )
    course = next(iter(university.courses.values()))
    user_ids = [lr.user_id for lr in course.learners]
    ceiling = RATE_LIMIT / CALLS_PER_LEARNER
    with Sandbox(university, FaultConfig(latency_ms=LATENCY_MS)) as sandbox:
        api = H5PApiResource(
            base_url=sandbox.h5p_base_url, requests_per_second=RATE_LIMIT, max_concurrency=8
        )
        context = dg.build_asset_context()
        started = time.perf_counter()
        load = _fetch_course(context, api, Partition(course.course_id, today()), user_ids)
        ours = time.perf_counter() - started
        assert not load.info["failed"], load.info["failed"]

        session = requests.Session()
        started = time.perf_counter()
        for user_id in user_ids[:SEED_LEARNERS]:
            for endpoint in ("scores", "video-progress", "combined-progress"):
                session.get(f"{sandbox.h5p_base_url}/{endpoint}/{user_id}/{course.course_id}")
                time.sleep(SEED_DELAY)
        seed = time.perf_counter() - started
    ours_rate, seed_rate = LEARNERS / ours, SEED_LEARNERS / seed
    print(
        f"learners={LEARNERS} latency={LATENCY_MS}ms limit={RATE_LIMIT:g} req/s "
        f"(ceiling {ceiling:.2f} learners/s)"
    )
    print(f"ours:  {ours:7.2f} s  {ours_rate:6.2f} learners/s  {ours_rate / ceiling:6.1%} of limit")
    print(
        f"seed:  {seed:7.2f} s for {SEED_LEARNERS}  {seed_rate:6.2f} learners/s  "
        f"{seed_rate / ceiling:6.1%} of limit  (500 learners: {LEARNERS / seed_rate:.0f} s)"
    )
    return {"ours": ours_rate, "seed": seed_rate, "ceiling": ceiling}
