"""Resources for the Open edX custom API (seed 000)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import dagster as dg
import requests
from pydantic import Field

from lms_assets.errors import SourceResponseError
from lms_assets.http_client import HttpApiResource


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]
    reported_total: int
    offset: int


def encode_course_id(course_id: str) -> str:
    """The MOOC API wants course ids URL-encoded with no safe characters (':' and '+' too)."""
    return quote(course_id, safe="")


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

    def configure_session(self, session: requests.Session) -> None:
        # The seed sends the same value under both names; some deployments read one,
        # some the other.
        session.cookies.set("sessionid", self.session_id)
        session.cookies.set("edx-session", self.session_id)

    def _pages(self, path: str, limit: int, *, count_required: bool = True) -> Iterator[Page]:
        """Every page of a DRF-style listing (limit/offset, ``count``, ``next``).

        Without ``count_required`` a listing that gives no ``count`` is read until ``next``
        is empty (the courses listing of some deployments).
        """
        offset = 0
        while True:
            body = self.get_json(path, params={"limit": limit, "offset": offset})
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise SourceResponseError(
                    f"{self.source_name} GET {path}?offset={offset}: expected an object with a "
                    f"'results' list, got {type(body).__name__}"
                )
            records = body["results"]
            try:
                total = int(body["count"])
            except (KeyError, TypeError, ValueError):
                if count_required:
                    raise SourceResponseError(
                        f"{self.source_name} GET {path}?offset={offset}: missing or invalid 'count'"
                    ) from None
                total = offset + len(records) + (1 if body.get("next") else 0)
            yield Page(records=records, reported_total=total, offset=offset)
            offset += len(records)
            if not records or offset >= total or body.get("next") in (None, ""):
                return

    def iter_enrollment_pages(self, course_id: str) -> Iterator[Page]:
        """Yield every page of a course's enrollments (limit/offset pagination)."""
        log = dg.get_dagster_logger("lms_assets.openedx")
        path = f"course-enrollments-attributes/{encode_course_id(course_id)}/"
        for page in self._pages(path, self.page_size):
            done = min(page.offset + len(page.records), page.reported_total)
            log.info(f"{course_id}: fetched {done}/{page.reported_total} enrollments")
            yield page

    def list_courses(self) -> list[dict[str, Any]]:
        """The course runs the API knows (``/courses/``), following the pages."""
        pages = self._pages("courses/", 500, count_required=False)
        return [record for page in pages for record in page.records]


class H5PApiResource(HttpApiResource):
    """The H5P plugin API of the course's WordPress (``/wp-json/mooc/v1``).

    Per-learner endpoints; course ids go into the path raw (the plugin does not
    decode them). Calls for different learners run concurrently, at most
    ``max_concurrency`` at a time and never faster than ``requests_per_second``.
    """

    source_name: ClassVar[str] = "H5P API"

    max_concurrency: int = Field(
        default=8, gt=0, le=64, description="Learners fetched at the same time."
    )

    def learner_data(self, endpoint: str, user_id: int, course_id: str) -> dict[str, Any] | None:
        """One learner's body from ``endpoint``; None when the API has no data (404)."""
        body = self.get_json(f"{endpoint}/{user_id}/{course_id}", not_found_ok=True)
        if body is not None and not isinstance(body, dict):
            raise SourceResponseError(
                f"{self.source_name} GET {endpoint}/{user_id}/{course_id}: expected an object, "
                f"got {type(body).__name__}"
            )
        return body
