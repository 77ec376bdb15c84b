"""The sandbox's HTTP server: the Open edX custom API and the H5P API on loopback.

It authenticates the MOOC API like the real one (``sessionid`` cookie, 401
without it) and injects faults on request: latency, 500s, 429s with
Retry-After, requests that hang past the client's timeout, malformed bodies,
listings whose `count` is too low or whose pages loop, 4xx bodies echoing the
request's cookie.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from lms_assets.sandbox import payloads
from lms_assets.sandbox.lti_attempts import LTI_PATH, LtiAttemptsFeed
from lms_assets.sandbox.university import University

MOOC_PREFIX = "/api/custom/v1"
H5P_PREFIX = "/wp-json/mooc/v1"
DEFAULT_SESSION_ID = "sandbox-session"


@dataclass
class FaultConfig:
    """Fault knobs; a server's knobs may be changed while it runs."""

    latency_ms: float = 0.0
    error_rate: float = 0.0  # share of requests answered 500
    throttle_rate: float = 0.0  # share answered 429 with Retry-After
    retry_after_seconds: float = 1.0
    timeout_rate: float = 0.0  # share held for hang_seconds before answering
    hang_seconds: float = 5.0
    malformed_rate: float = 0.0  # share answered 200 with a truncated JSON body
    max_page_size: int = 1000  # the server's cap on `limit`
    enrollment_defects: int = 0  # bad records appended to each course's enrollments
    malformed_learners: int = 0  # the first N learners of each course: H5P bodies always broken
    broken_endpoints: frozenset[str] = frozenset()  # endpoints that always answer 500
    # Answer every MOOC API request with this 4xx, its body echoing the request's Cookie header
    # and session value (as debug pages and some proxies do); 0: off.
    echo_cookie_status: int = 0
    # Paged listings (enrollments, courses): a `count` this many records below what the pages
    # serve ("next" stays right); requests past this offset served this offset's records again
    # ("next" advancing as if they were not); the page at this offset naming itself as "next".
    count_shortfall: int = 0
    repeated_page_offset: int | None = None
    self_next_offset: int | None = None
    # Export defects: a field every learner's record gets wrong (the record stays usable).
    day_first_last_activity: bool = False  # progress: last_activity as "23/11/2026"
    grades_above_100: bool = False  # grades: grade_percentage + 101 (0 becomes 101)
    # Discussions: the first N learners' threads_count is 3e9 (beyond INT), and a record
    # with user_id 1e20 (beyond BIGINT) is appended: values MariaDB refuses, SQLite keeps.
    oversized_discussions: int = 0
    h5p_times_beyond_int: bool = False  # H5P scores: every content's `time` is 3e9 seconds
    seed: int = 0  # seeds the fault dice, so a faulty run can be replayed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True
    sandbox: Sandbox


_MOOC_ROUTES = {
    "course-enrollments-attributes": "enrollments",
    "export/student-grades": "grades",
    "export/student-progress": "progress",
    "export/student-discussions": "discussions",
    "stats/activity": "stats_activity",
    "stats/assessment": "stats_assessment",
    "stats/progress": "stats_progress",
}
_MOOC_PATH = re.compile(
    r"^"
    + re.escape(MOOC_PREFIX)
    + r"/(?P<route>"
    + "|".join(map(re.escape, _MOOC_ROUTES))
    + r")/(?P<course>[^/]+)/?$"
)
_H5P_PATH = re.compile(
    r"^"
    + re.escape(H5P_PREFIX)
    + r"/(?P<route>scores|video-progress|combined-progress|dashboard)"
    + r"/(?P<user>[^/]+)/(?P<course>.+?)/?$"
)


def _path_value(raw: str) -> str:
    """A path segment as the real routes see it: percent-decoded once by the web server.

    Both APIs match their routes on the decoded path. '+' stays '+' (a path is not a
    form body) and nothing is decoded a second time (the H5P plugin does not decode the
    course id it is given): a literal '%' in a course id must arrive as '%25'.
    """
    return unquote(raw)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.sandbox.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        sandbox = self.server.sandbox
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            status, body, headers = sandbox.handle(
                url.path, query, self._session_cookie(), self.headers.get("Cookie", "")
            )
        except Exception as exc:  # a sandbox bug must not look like a network fault
            status, body, headers = 500, {"detail": f"sandbox error: {exc!r}"}, {}
        self._send(status, body, headers)

    def _session_cookie(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get("sessionid") or cookie.get("edx-session")
        return morsel.value if morsel else None

    def _send(self, status: int, body: Any, headers: dict[str, str]) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. its timeout fired): nothing to do


class Sandbox:
    """Serve ``university`` on ``host:port`` (port 0 picks a free one) in a thread."""

    def __init__(
        self,
        university: University | None = None,
        faults: FaultConfig | None = None,
        session_id: str = DEFAULT_SESSION_ID,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
    ) -> None:
        self.university = university or University()
        self.lti = LtiAttemptsFeed(self.university)  # seed 002's attempts API
        self.faults = faults or FaultConfig()
        self.session_id = session_id
        self.verbose = verbose
        self.served: Counter[tuple[str, int]] = Counter()
        self.paths: deque[str] = deque(maxlen=1000)  # raw request paths, as they arrived
        self._served_lock = threading.Lock()
        self._dice_seed = self.faults.seed
        self._dice = random.Random(self._dice_seed)
        self._dice_lock = threading.Lock()
        self._server = _Server((host, port), _Handler)
        self._server.sandbox = self
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def openedx_base_url(self) -> str:
        return self.base_url + MOOC_PREFIX

    @property
    def h5p_base_url(self) -> str:
        return self.base_url + H5P_PREFIX

    def start(self) -> Sandbox:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="lms-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """Environment variables that point the product's resources at this sandbox."""
        return {
            "LMS_OPENEDX_BASE_URL": self.openedx_base_url,
            "LMS_OPENEDX_SESSION_ID": self.session_id,
            "LMS_H5P_BASE_URL": self.h5p_base_url,
            **self.lti.environment(self.base_url),
        }

    def served_count(self, endpoint: str, status: int | None = None) -> int:
        with self._served_lock:
            return sum(
                n
                for (name, code), n in self.served.items()
                if name == endpoint and (status is None or code == status)
            )

    # -- request handling ----------------------------------------------------------------------
    def _roll(self) -> float:
        with self._dice_lock:
            if self.faults.seed != self._dice_seed:  # knobs may change while serving
                self._dice_seed = self.faults.seed
                self._dice = random.Random(self._dice_seed)
            return self._dice.random()

    def _pick_fault(self) -> str | None:
        faults, roll, edge = self.faults, self._roll(), 0.0
        for rate, fault in (
            (faults.error_rate, "error"),
            (faults.throttle_rate, "throttle"),
            (faults.timeout_rate, "timeout"),
            (faults.malformed_rate, "malformed"),
        ):
            edge += rate
            if roll < edge:
                return fault
        return None

    def handle(
        self, path: str, query: dict[str, str], session: str | None, cookie_header: str = ""
    ) -> tuple[int, Any, dict[str, str]]:
        endpoint, status, body, headers = self._route(path, query, session, cookie_header)
        with self._served_lock:
            self.served[(endpoint, status)] += 1
            self.paths.append(path)
        return status, body, headers

    def _route(
        self, path: str, query: dict[str, str], session: str | None, cookie_header: str = ""
    ) -> tuple[str, int, Any, dict[str, str]]:
        faults = self.faults
        if faults.latency_ms:
            time.sleep(faults.latency_ms / 1000)
        is_mooc = path.startswith(MOOC_PREFIX)
        if is_mooc and session != self.session_id:
            return "auth", 401, {"detail": "Authentication credentials were not provided."}, {}
        if is_mooc and faults.echo_cookie_status:
            echo = {"detail": "Bad request (injected)", "cookie": cookie_header, "session": session}
            return "fault", faults.echo_cookie_status, echo, {}

        fault = self._pick_fault()
        if fault == "error":
            return "fault", 500, {"detail": "Internal Server Error (injected)"}, {}
        if fault == "throttle":
            return (
                "fault",
                429,
                {"detail": "Request was throttled (injected)."},
                {"Retry-After": f"{faults.retry_after_seconds:g}"},
            )
        if fault == "timeout":
            time.sleep(faults.hang_seconds)

        endpoint, status, body = self._dispatch(path, query)
        if endpoint in faults.broken_endpoints:
            return endpoint, 500, {"detail": f"{endpoint} is broken (injected)"}, {}
        if status == 200 and endpoint.startswith("h5p_") and self._is_malformed_learner(path):
            fault = "malformed"
        if fault == "malformed" and status == 200:
            raw = json.dumps(body).encode()
            return endpoint, 200, raw[: max(1, len(raw) // 2)], {}
        return endpoint, status, body, {}

    def _dispatch(self, path: str, query: dict[str, str]) -> tuple[str, int, Any]:
        uni = self.university
        if path.rstrip("/") == LTI_PATH:
            return self.lti.handle(query)
        if path.rstrip("/") == MOOC_PREFIX + "/courses":
            return "courses", 200, self._page(path, query, payloads.courses(uni))
        if match := _MOOC_PATH.match(path):
            course = uni.course(_path_value(match["course"]))
            route = _MOOC_ROUTES[match["route"]]
            if course is None:
                return route, 404, {"detail": "Course not found."}
            if route == "enrollments":
                records = [payloads.enrollment_record(lr) for lr in course.learners]
                records += self._enrollment_defects(records)
                return route, 200, self._page(path, query, records)
            if route == "stats_activity":
                days = int(query.get("days", 90))
                return route, 200, payloads.stats_activity(course, uni.today, days)
            builder = {
                "grades": payloads.student_grades,
                "progress": payloads.student_progress,
                "discussions": payloads.student_discussions,
                "stats_assessment": payloads.stats_assessment,
                "stats_progress": payloads.stats_progress,
            }[route]
            return route, 200, self._export_defects(route, builder(course))
        if match := _H5P_PATH.match(path):
            route = match["route"]
            course = uni.course(_path_value(match["course"]))
            learner = None
            if course is not None and match["user"].isdigit():
                learner = course.by_user.get(int(match["user"]))
            endpoint = "h5p_" + route.replace("-", "_")
            # A learner who never opened the course has no H5P records at all.
            if course is None or learner is None or learner.last_activity is None:
                return endpoint, 404, {"code": "rest_no_data", "message": "No data for this user."}
            builder = {
                "scores": payloads.h5p_scores,
                "video-progress": payloads.video_progress,
                "combined-progress": payloads.combined_progress,
                "dashboard": payloads.dashboard,
            }[route]
            body = builder(course, learner)
            if route == "scores" and self.faults.h5p_times_beyond_int:
                for score in body["scores"]:
                    score["time"] = 3_000_000_000
            return endpoint, 200, body
        return "unknown", 404, {"detail": "Not found."}

    def _is_malformed_learner(self, path: str) -> bool:
        match = _H5P_PATH.match(path)
        if not match or not self.faults.malformed_learners or not match["user"].isdigit():
            return False
        course = self.university.course(_path_value(match["course"]))
        if course is None:
            return False
        broken = {lr.user_id for lr in course.learners[: self.faults.malformed_learners]}
        return int(match["user"]) in broken

    def _limit_offset(self, query: dict[str, str]) -> tuple[int, int]:
        try:
            limit = int(query.get("limit", 100))
            offset = int(query.get("offset", 0))
        except ValueError:
            limit, offset = 100, 0
        return max(1, min(limit, self.faults.max_page_size)), max(0, offset)

    def _page(self, path: str, query: dict[str, str], records: list[dict]) -> dict[str, Any]:
        """One page of ``records`` with DRF's absolute next and previous links."""
        faults = self.faults
        limit, offset = self._limit_offset(query)
        link = f"{self.base_url}{path}?limit={limit}&offset="
        next_url = None if offset + limit >= len(records) else f"{link}{offset + limit}"
        if offset == faults.self_next_offset:
            next_url = f"{link}{offset}"
        previous_url = None if offset == 0 else f"{link}{max(0, offset - limit)}"
        served_offset = offset
        if faults.repeated_page_offset is not None and offset > faults.repeated_page_offset:
            served_offset = faults.repeated_page_offset
        body = payloads.page(records, limit, served_offset, next_url, previous_url)
        body["count"] = max(0, body["count"] - faults.count_shortfall)
        return body

    def _export_defects(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        faults = self.faults
        if route == "progress" and faults.day_first_last_activity:
            for record in body["progress_data"]["students"]:
                if record["last_activity"]:  # "2026-11-23T..." -> "23/11/2026"
                    year, month, day = record["last_activity"][:10].split("-")
                    record["last_activity"] = f"{day}/{month}/{year}"
        if route == "grades" and faults.grades_above_100:
            for record in body["grade_data"]["grade_table"]:
                record["grade_percentage"] += 101
        if route == "discussions" and faults.oversized_discussions:
            students = body["discussion_data"]["students"]
            for record in students[: faults.oversized_discussions]:
                record["threads_count"] = 3_000_000_000
            students.append({**students[0], "user_id": 1e20, "threads_count": 1})
        return body

    def _enrollment_defects(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Alternately a duplicate of an existing record and a record without user_id."""
        defects = []
        for i in range(self.faults.enrollment_defects):
            if i % 2 == 0 and records:
                defects.append(dict(records[(i // 2) % len(records)]))
            else:
                broken = dict(records[0]) if records else {}
                broken["user_id"] = None
                broken["username"] = f"broken{i}"
                defects.append(broken)
        return defects
