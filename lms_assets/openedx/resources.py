"""Resources for the Open edX custom API (seed 000)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import dagster as dg
import requests
from pydantic import Field

from lms_assets.errors import SourceResponseError
from lms_assets.http_client import HttpApiResource


@dataclass(frozen=True)
class Page:
    """One page of a listing: its records, the API's ``count`` (-1: none), and ``offset``,
    the number of records the listing served before this page."""

    records: list[dict[str, Any]]
    reported_total: int
    offset: int


def encode_course_id(course_id: str) -> str:
    """The MOOC API wants course ids URL-encoded with no safe characters (':' and '+' too)."""
    return quote(course_id, safe="")


# What would cut or re-route a path segment ('?' starts the query, '#' the fragment, '/' a
# new segment, '%' an escape) or is not allowed in a URL (whitespace).
_H5P_PATH_ESCAPES = {"%": "%25", "?": "%3F", "#": "%23", "/": "%2F"}


def encode_h5p_course_id(course_id: str) -> str:
    """The H5P plugin takes course ids raw (':' and '+' as they are): escape only what breaks
    the path, which the server decodes once before the plugin sees it."""
    return "".join(
        _H5P_PATH_ESCAPES.get(c) or (quote(c, safe="") if c.isspace() else c) for c in course_id
    )


class OpenEdxApiResource(HttpApiResource):
    """The Open edX custom API, authenticated with the browser's ``sessionid`` cookie.

    ``base_url`` is the API root, e.g. ``https://mooc.example.edu/api/custom/v1``;
    set ``session_id`` from the environment (``LMS_OPENEDX_SESSION_ID``).
    """

    source_name: ClassVar[str] = "Open edX API"
    credential_hint: ClassVar[str] = (
        "log in to the LMS in a browser and put a fresh `sessionid` cookie in "
        "LMS_OPENEDX_SESSION_ID"
    )

    session_id: str = Field(description="Value of the LMS `sessionid` cookie (a secret).")
    page_size: int = Field(
        default=200, gt=0, le=1000, description="`limit` of each enrollments page."
    )

    def secret_values(self) -> Sequence[str]:
        return (self.session_id,)

    def configure_session(self, session: requests.Session) -> None:
        # The seed sends the same value under both names; some deployments read one,
        # some the other.
        session.cookies.set("sessionid", self.session_id)
        session.cookies.set("edx-session", self.session_id)

    def _pages(
        self, path: str, limit: int, *, key: str, count_required: bool = True
    ) -> Iterator[Page]:
        """Every page of a DRF-style listing (limit/offset, ``count``, ``next``).

        ``next`` decides when the listing ends (or an empty page): a ``count`` that
        is too low must not cut it short. Only ``next``'s query (offset, limit, ...) is used,
        on our own ``base_url``: credentials never follow a link to another host.
        A ``next`` already requested, or a page serving the same ``key`` values as
        the page before, is a loop: SourceResponseError at once. Without
        ``count_required`` a listing that gives no ``count`` is fine (the courses
        listing of some deployments); ``reported_total`` is then -1.
        """
        params: dict[str, str] = {"limit": str(limit), "offset": "0"}
        requested: set[tuple[tuple[str, str], ...]] = set()
        previous_keys: list[Any] = []
        served = 0
        while True:
            where = f"{self.source_name} GET {path}?{urlencode(params)}"
            requested.add(tuple(sorted(params.items())))
            body = self.get_json(path, params=params)
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise self.redacted_error(
                    SourceResponseError,
                    f"{where}: expected an object with a 'results' list, got {type(body).__name__}",
                )
            records = body["results"]
            try:
                total = int(body["count"])
            except (KeyError, TypeError, ValueError):
                if count_required:
                    raise self.redacted_error(
                        SourceResponseError, f"{where}: missing or invalid 'count'"
                    ) from None
                total = -1
            keys = [r.get(key) if isinstance(r, dict) else None for r in records]
            if any(k is not None for k in keys) and keys == previous_keys:
                raise self.redacted_error(
                    SourceResponseError,
                    f"{where}: the page repeats the previous page's {len(keys)} {key}s "
                    f"({keys[0]}...): the API ignores the offset; stopped after "
                    f"{len(requested)} requests",
                )
            yield Page(records=records, reported_total=total, offset=served)
            served += len(records)
            previous_keys = keys
            link = body.get("next")
            # An empty page ends the listing whatever `next` says: a `count` too high makes
            # DRF link on past the end, and those pages have nothing more to give.
            if link in (None, "") or not records:
                return
            if not isinstance(link, str):
                raise self.redacted_error(
                    SourceResponseError, f"{where}: 'next' is not a URL: {link!r}"
                )
            params = dict(parse_qsl(urlsplit(link).query, keep_blank_values=True))
            if tuple(sorted(params.items())) in requested:
                raise self.redacted_error(
                    SourceResponseError,
                    f"{where}: 'next' ({urlencode(params) or 'no query'}) points at a page "
                    f"already requested: the listing loops; stopped after {len(requested)} "
                    "requests",
                )

    def iter_enrollment_pages(self, course_id: str) -> Iterator[Page]:
        """Yield every page of a course's enrollments (limit/offset pagination)."""
        log = dg.get_dagster_logger("lms_assets.openedx")
        path = f"course-enrollments-attributes/{encode_course_id(course_id)}/"
        served = total = 0
        for page in self._pages(path, self.page_size, key="user_id"):
            served, total = page.offset + len(page.records), page.reported_total
            log.info(f"{course_id}: fetched {served} enrollments (the API's count: {total})")
            yield page
        if served != total:
            log.warning(
                f"{course_id}: the pages served {served} enrollments but the API's count says "
                f"{total}; every page up to an empty 'next' was read"
            )

    def list_courses(self) -> list[dict[str, Any]]:
        """The course runs the API knows (``/courses/``), following the pages."""
        pages = self._pages("courses/", 500, key="course_id", count_required=False)
        return [record for page in pages for record in page.records]


class H5PApiResource(HttpApiResource):
    """The H5P plugin API of the course's WordPress (``/wp-json/mooc/v1``).

    Per-learner endpoints; course ids go into the path raw (the plugin does not
    decode them), except for what would break the path (``encode_h5p_course_id``).
    Calls for different learners run concurrently, at most ``max_concurrency`` at a
    time and never faster than ``requests_per_second``.
    """

    source_name: ClassVar[str] = "H5P API"

    max_concurrency: int = Field(
        default=8, gt=0, le=64, description="Learners fetched at the same time."
    )

    def learner_data(self, endpoint: str, user_id: int, course_id: str) -> dict[str, Any] | None:
        """One learner's body from ``endpoint``; None when the API has no data (404)."""
        path = f"{endpoint}/{user_id}/{encode_h5p_course_id(course_id)}"
        body = self.get_json(path, not_found_ok=True)
        if body is not None and not isinstance(body, dict):
            raise self.redacted_error(
                SourceResponseError,
                f"{self.source_name} GET {path}: expected an object, got {type(body).__name__}",
            )
        return body
