"""Resources for the Open edX custom API (seed 000)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import quote

import dagster as dg
import requests
from pydantic import Field

from lms_assets.http_client import HttpApiResource, SourceResponseError


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

    def iter_enrollment_pages(self, course_id: str) -> Iterator[Page]:
        """Yield every page of a course's enrollments (limit/offset pagination)."""
        log = dg.get_dagster_logger("lms_assets.openedx")
        path = f"course-enrollments-attributes/{encode_course_id(course_id)}/"
        offset = 0
        while True:
            body = self.get_json(path, params={"limit": self.page_size, "offset": offset})
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise SourceResponseError(
                    f"{self.source_name} GET {path}?offset={offset}: expected an object with a "
                    f"'results' list, got {type(body).__name__}"
                )
            try:
                total = int(body["count"])
            except (KeyError, TypeError, ValueError):
                raise SourceResponseError(
                    f"{self.source_name} GET {path}?offset={offset}: missing or invalid 'count'"
                ) from None
            records = body["results"]
            yield Page(records=records, reported_total=total, offset=offset)
            offset += len(records)
            log.info(f"{course_id}: fetched {min(offset, total)}/{total} enrollments")
            if not records or offset >= total or body.get("next") in (None, ""):
                return

    def list_courses(self) -> list[dict[str, Any]]:
        """The course runs the API knows (``/courses/``), following ``next`` links."""
        courses: list[dict[str, Any]] = []
        offset = 0
        while True:
            body = self.get_json("courses/", params={"limit": 500, "offset": offset})
            if not isinstance(body, dict) or not isinstance(body.get("results"), list):
                raise SourceResponseError(
                    f"{self.source_name} GET courses/: expected an object with a 'results' list"
                )
            courses.extend(body["results"])
            offset += len(body["results"])
            if not body["results"] or not body.get("next"):
                return courses
