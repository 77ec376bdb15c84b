"""The sandbox's command-line options (``lms-assets sandbox|demo|ui``): the synthetic
university and its fault knobs."""

from __future__ import annotations

import argparse
import datetime as dt

from lms_assets.sandbox.server import FaultConfig, Sandbox
from lms_assets.sandbox.university import University


def add_sandbox_options(parser: argparse.ArgumentParser, default_port: int) -> None:
    group = parser.add_argument_group("sandbox")
    group.add_argument("--host", default="127.0.0.1", help="interface to listen on (loopback)")
    group.add_argument("--port", type=int, default=default_port, help="0 picks a free port")
    group.add_argument("--seed", type=int, default=42, help="picks the synthetic university")
    group.add_argument("--courses", type=int, default=4, help="number of courses")
    group.add_argument(
        "--history",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also serve each course code's finished run of the previous term, with its "
        "tracking logs (what the dropout model trains on)",
    )
    group.add_argument("--min-learners", type=int, default=150)
    group.add_argument("--max-learners", type=int, default=400)
    group.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        default=None,
        help="as-of date of the data (YYYY-MM-DD; default today, UTC)",
    )
    group.add_argument(
        "--session-id",
        default="sandbox-session",
        help="the `sessionid` cookie the MOOC API accepts",
    )
    group.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    group.add_argument("--error-rate", type=float, default=0.0, help="share answered 500")
    group.add_argument(
        "--throttle-rate", type=float, default=0.0, help="share answered 429 with Retry-After"
    )
    group.add_argument(
        "--retry-after", type=float, default=1.0, help="Retry-After seconds sent with 429s"
    )
    group.add_argument(
        "--timeout-rate",
        type=float,
        default=0.0,
        help="share held for --hang-seconds before answering",
    )
    group.add_argument("--hang-seconds", type=float, default=5.0)
    group.add_argument(
        "--malformed-rate",
        type=float,
        default=0.0,
        help="share answered with a truncated JSON body",
    )
    group.add_argument("--max-page-size", type=int, default=1000, help="server cap on `limit`")
    group.add_argument(
        "--enrollment-defects",
        type=int,
        default=0,
        help="bad enrollment records appended per course",
    )
    group.add_argument(
        "--malformed-learners",
        type=int,
        default=0,
        help="the first N learners of each course get broken H5P bodies",
    )
    group.add_argument(
        "--day-first-last-activity",
        action="store_true",
        help='the progress export sends last_activity as "23/11/2026"',
    )
    group.add_argument(
        "--grades-above-100",
        action="store_true",
        help="the grades export adds 101 to every grade_percentage",
    )
    group.add_argument(
        "--oversized-discussions",
        type=int,
        default=0,
        help="the first N learners' threads_count is 3e9, and a record with user_id 1e20",
    )
    group.add_argument(
        "--h5p-times-beyond-int",
        action="store_true",
        help="H5P scores send every content's time as 3e9 seconds",
    )
    group.add_argument(
        "--broken-endpoint",
        action="append",
        default=[],
        help="an endpoint that always answers 500 (repeatable), e.g. "
        "h5p_combined_progress, stats_activity",
    )
    group.add_argument(
        "--echo-cookie-status",
        type=int,
        default=0,
        help="answer every authenticated request with this 4xx, echoing its Cookie header",
    )
    group.add_argument(
        "--count-shortfall",
        type=int,
        default=0,
        help="paged listings report a `count` this many records too low",
    )
    group.add_argument(
        "--repeated-page-offset",
        type=int,
        default=None,
        help="listing requests past this offset get this offset's page again",
    )
    group.add_argument(
        "--self-next-offset",
        type=int,
        default=None,
        help="the listing page at this offset names itself as `next`",
    )
    group.add_argument("--fault-seed", type=int, default=0, help="seeds the fault dice")
    group.add_argument(
        "--moodle-url",
        default=None,
        help="where to write the sandbox Moodle database (SQLAlchemy URL; "
        "default sqlite under LMS_DATA_DIR, e.g. mysql+pymysql://root@127.0.0.1/moodle)",
    )
    group.add_argument("--verbose", action="store_true", help="log every request")


def sandbox_from(args: argparse.Namespace) -> Sandbox:
    university = University(
        seed=args.seed,
        n_courses=args.courses,
        today=args.today,
        learners_per_course=(args.min_learners, args.max_learners),
        history=args.history,
    )
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        throttle_rate=args.throttle_rate,
        retry_after_seconds=args.retry_after,
        timeout_rate=args.timeout_rate,
        hang_seconds=args.hang_seconds,
        malformed_rate=args.malformed_rate,
        max_page_size=args.max_page_size,
        enrollment_defects=args.enrollment_defects,
        malformed_learners=args.malformed_learners,
        day_first_last_activity=args.day_first_last_activity,
        grades_above_100=args.grades_above_100,
        oversized_discussions=args.oversized_discussions,
        h5p_times_beyond_int=args.h5p_times_beyond_int,
        broken_endpoints=frozenset(args.broken_endpoint),
        echo_cookie_status=args.echo_cookie_status,
        count_shortfall=args.count_shortfall,
        repeated_page_offset=args.repeated_page_offset,
        self_next_offset=args.self_next_offset,
        seed=args.fault_seed,
    )
    return Sandbox(
        university,
        faults,
        session_id=args.session_id,
        host=args.host,
        port=args.port,
        verbose=args.verbose,
    )
