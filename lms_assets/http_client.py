"""The one HTTP client base for every REST source: retries, rate limit, timeouts, errors.

Retries are done here rather than by urllib3's ``Retry`` inside the adapter so
that every attempt, retries included, passes through the rate limiter (a
politeness promise to the source) and shows up in the logs and the
materialization metadata.
"""

from __future__ import annotations

import email.utils
import json
import random
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import dagster as dg
import requests
from pydantic import Field, PrivateAttr

from lms_assets.errors import (
    SourceAuthenticationError,
    SourceError,
    SourceRequestError,
    SourceResponseError,
)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "lms-assets/0.1 (+https://github.com/lms-assets)"
REDACTED = "[redacted]"
E = TypeVar("E", bound=SourceError)
# `name=value` pairs whose name says credential (sessionid=, edx-session=, csrftoken=, ...):
# redacted whatever their value, since a body may echo a cookie we do not know the value of.
_CREDENTIAL_PAIR = re.compile(
    r"(?i)\b([\w.-]*(?:session|token|secret|passw|auth)[\w.-]*=)([^\s;&,'\"\\]+)"
)


class RateLimiter:
    """Spaces calls at least ``1 / rate`` seconds apart, across all threads.

    Unlike a fixed sleep after each call, time spent waiting for the server
    counts toward the interval, so throughput approaches the limit.
    """

    def __init__(self, requests_per_second: float) -> None:
        self.interval = 1.0 / requests_per_second if requests_per_second > 0 else 0.0
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until this caller may send; return the seconds waited."""
        if not self.interval:
            return 0.0
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        wait = slot - now
        if wait > 0:
            time.sleep(wait)
        return wait


@dataclass
class RequestStats:
    """Counters for one resource instance; safe to update from several threads.

    Assets report ``stats.since(start)``, not the instance's totals (see :meth:`since`).
    """

    requests: int = 0
    retries: int = 0
    throttled_429: int = 0
    server_errors_5xx: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    malformed_bodies: int = 0
    retry_after_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **increments: float) -> None:
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def copy(self) -> RequestStats:
        with self._lock:
            return RequestStats(**self._values())

    def since(self, start: RequestStats) -> RequestStats:
        """The requests counted after ``start`` (a ``copy()``): one asset's own figures.

        A resource instance is shared by every step a process runs, so its totals mix
        the assets of a run; steps in one process run one after the other, so the
        difference is the step's own (its own threads included).
        """
        now, then = self.copy()._values(), start._values()
        return RequestStats(**{name: now[name] - then[name] for name in now})

    def _values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}

    def as_metadata(self, prefix: str) -> dict[str, Any]:
        with self._lock:
            values = self._values()
        values["retry_after_seconds"] = round(values["retry_after_seconds"], 3)
        # Requests are always shown; a counter of trouble (retries, 429s, ...) only when it
        # happened, so a clean run's page is not a column of zeros.
        return {f"{prefix}_{k}": v for k, v in values.items() if v or k == "requests"}


def unreachable(url: str, timeout_seconds: float = 10.0) -> str | None:
    """Why nothing answers at ``url`` (e.g. "Connection error"), or None when something does,
    whatever its status: the one-request probe of the preflight, without retries."""
    try:
        requests.get(url, timeout=timeout_seconds, allow_redirects=False)
    except requests.RequestException as exc:
        return type(exc).__name__.replace("Error", " error").strip()
    return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _Runtime:
    """Per-resource-instance state: the limiter, the counters and one session per thread."""

    def __init__(self, requests_per_second: float) -> None:
        self.limiter = RateLimiter(requests_per_second)
        self.stats = RequestStats()
        self.local = threading.local()


class HttpApiResource(dg.ConfigurableResource):
    """Base for REST sources: subclasses set ``source_name`` and may add authentication."""

    source_name: ClassVar[str] = "HTTP API"
    credential_hint: ClassVar[str] = "check the source's credentials"

    base_url: str = Field(description="Base URL; endpoint paths are appended to it.")
    timeout_seconds: float = Field(
        default=30.0, gt=0, description="Connect and read timeout of one request."
    )
    max_retries: int = Field(
        default=5, ge=0, description="Retries after a 429, 5xx, timeout or unreadable body."
    )
    backoff_seconds: float = Field(
        default=0.5, ge=0, description="First backoff; doubles each retry (with jitter)."
    )
    max_backoff_seconds: float = Field(
        default=60.0, ge=0, description="Cap on one wait, including a server's Retry-After."
    )
    requests_per_second: float = Field(
        default=10.0,
        ge=0,
        description="Most requests per second sent to this source (0 = unlimited). "
        "Replaces the seeds' fixed sleep between calls.",
    )

    _runtime: _Runtime | None = PrivateAttr(default=None)
    _runtime_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    # -- hooks --------------------------------------------------------------------------------
    def configure_session(self, session: requests.Session) -> None:
        """Add credentials to a new session (cookies, headers). Default: none."""

    def secret_values(self) -> Sequence[str]:
        """The credentials this source sends, never to appear in a message. Default: none."""
        return ()

    def redact(self, text: str) -> str:
        """``text`` without the secret values (raw, URL- and JSON-escaped) and credential pairs.

        Every message this client builds passes through here: error bodies may echo
        the request's cookie, and messages end up in run storage, logs and emails.
        """
        forms = {
            form
            for secret in self.secret_values()
            if secret
            for form in (secret, quote(secret, safe=""), json.dumps(secret)[1:-1])
        }
        for form in sorted(forms, key=len, reverse=True):  # longest first: no partial leftovers
            text = text.replace(form, REDACTED)
        return _CREDENTIAL_PAIR.sub(lambda m: m[1] + REDACTED, text)

    def redacted_error(self, kind: type[E], message: str) -> E:
        """The error to raise with ``message``: every message of a source is built here."""
        return kind(self.redact(message))

    # -- state --------------------------------------------------------------------------------
    def _state(self) -> _Runtime:
        with self._runtime_lock:
            if self._runtime is None:
                self._runtime = _Runtime(self.requests_per_second)
            return self._runtime

    @property
    def stats(self) -> RequestStats:
        return self._state().stats

    def _session(self) -> requests.Session:
        local = self._state().local
        session = getattr(local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = USER_AGENT
            session.headers["Accept"] = "application/json"
            self.configure_session(session)
            local.session = session
        return session

    def url_for(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    # -- requests -----------------------------------------------------------------------------
    def get_json(
        self, path: str, params: dict[str, Any] | None = None, *, not_found_ok: bool = False
    ) -> Any:
        """GET ``path`` and return its JSON body, retrying what is worth retrying.

        With ``not_found_ok`` a 404 means "no data" and returns None.

        Raises ``SourceAuthenticationError`` at once on 401/403, and
        ``SourceRequestError``/``SourceResponseError`` when the request still fails
        after ``max_retries`` retries. Messages never contain credentials: every one
        passes through :meth:`redact`.
        """
        state = self._state()
        log = dg.get_dagster_logger("lms_assets.http")
        what = f"{self.source_name} GET {path}"
        last_problem = "no attempt made"
        last_error: type[SourceError] = SourceRequestError
        for attempt in range(self.max_retries + 1):
            state.limiter.acquire()
            state.stats.add(requests=1)
            retry_after: float | None = None
            last_error = SourceRequestError
            try:
                response = self._session().get(
                    self.url_for(path), params=params, timeout=self.timeout_seconds
                )
            except requests.Timeout:
                state.stats.add(timeouts=1)
                last_problem = f"timed out after {self.timeout_seconds}s"
            except requests.ConnectionError as exc:
                state.stats.add(connection_errors=1)
                last_problem = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if status in (401, 403):
                    raise self.redacted_error(
                        SourceAuthenticationError,
                        f"{self.source_name} authentication failed (HTTP {status}) for "
                        f"GET {path}: the credentials were rejected or have expired; "
                        f"{self.credential_hint}.",
                    )
                if status == 404 and not_found_ok:
                    return None
                if status == 200:
                    try:
                        return response.json()
                    except ValueError:
                        state.stats.add(malformed_bodies=1)
                        last_error = SourceResponseError
                        start = self.redact(response.text)[:60]  # redact, then cut
                        last_problem = f"body is not valid JSON (starts {start!r})"
                elif status in RETRYABLE_STATUSES:
                    if status == 429:
                        state.stats.add(throttled_429=1)
                    else:
                        state.stats.add(server_errors_5xx=1)
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    last_problem = f"HTTP {status}"
                else:
                    # Redacted before it is cut, so no part of a secret is left at the end.
                    body = self.redact(response.text)[:200]
                    raise self.redacted_error(
                        SourceRequestError, f"{what} failed with HTTP {status}: {body!r}"
                    )
            if attempt == self.max_retries:
                break
            if retry_after is not None:
                wait = min(retry_after, self.max_backoff_seconds)
                state.stats.add(retry_after_seconds=wait)
            else:
                backoff = self.backoff_seconds * (2**attempt)
                wait = min(backoff * (0.5 + random.random() / 2), self.max_backoff_seconds)
            state.stats.add(retries=1)
            log.info(
                self.redact(
                    f"{what}: {last_problem}; retry {attempt + 1}/{self.max_retries} in {wait:.2f}s"
                )
            )
            time.sleep(wait)
        raise self.redacted_error(
            last_error, f"{what} failed after {self.max_retries + 1} attempts: {last_problem}"
        )
