"""The LTI attempts API of seed 002: one GET per day for the whole client, all courses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import Field

from lms_assets.errors import SourceResponseError
from lms_assets.http_client import HttpApiResource

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def day_bounds(day: dt.date) -> tuple[str, str]:
    """``start`` and ``end`` as the seed sends them: the day's first and last microsecond."""
    start = dt.datetime.combine(day, dt.time.min)
    end = dt.datetime.combine(day, dt.time.max)
    return start.strftime(TIMESTAMP_FORMAT), end.strftime(TIMESTAMP_FORMAT)


class LtiApiResource(HttpApiResource):
    """``GET <base_url>?client=&client_key=&start=&end=``: a JSON list of attempts.

    ``base_url`` is the seed's ``API_URL`` itself (the endpoint, not a root);
    ``client_key`` is a secret (``LMS_LTI_CLIENT_KEY``) and is redacted from every message.
    ``timezone`` is the clock of the API's timestamps: a day's window is asked for in it.
    """

    source_name: ClassVar[str] = "LTI attempts API"
    credential_hint: ClassVar[str] = "check LMS_LTI_CLIENT and LMS_LTI_CLIENT_KEY"

    client: str = Field(description="The API's client name (seed: API_CLIENT).")
    client_key: str = Field(description="The client's key (seed: API_CLIENT_KEY; a secret).")
    timezone: str = Field(default="UTC", description="IANA timezone of the API's timestamps.")
    discovery_lookback_hours: float = Field(
        default=2.0,
        gt=0,
        description="Course discovery asks for the attempts of this many past hours (a tick "
        "an hour, so 2 overlap), not for whole days: a day may hold a million attempts.",
    )

    def secret_values(self) -> Sequence[str]:
        return (self.client_key,)

    def url_for(self, path: str) -> str:
        return self.base_url if not path else super().url_for(path)

    def attempts(self, day: dt.date) -> list[Any]:
        """Every attempt of ``day`` (in the API's clock), all courses, as the API sent them."""
        return self.attempts_between(*day_bounds(day))

    def attempts_between(self, start: str, end: str) -> list[Any]:
        """The attempts of [start, end] (``YYYY-MM-DD HH:MM:SS.ffffff``, the API's clock)."""
        body = self.get_json(
            "", {"client": self.client, "client_key": self.client_key, "start": start, "end": end}
        )
        if not isinstance(body, list):
            raise self.redacted_error(
                SourceResponseError,
                f"{self.source_name} answered {start}..{end} with a {type(body).__name__}, "
                "not a list of attempts",
            )
        return body

    def recent_course_keys(self, now: dt.datetime | None = None) -> list[str]:
        """The courses of the last ``discovery_lookback_hours`` of attempts (course discovery);
        ``lti-course-unknown`` too when some of them name no course."""
        from lms_assets.lti.parsing import UNKNOWN_COURSE, PassbackCache, course_of_bad_record

        now = now or dt.datetime.now(ZoneInfo(self.timezone)).replace(tzinfo=None)
        start = now - dt.timedelta(hours=self.discovery_lookback_hours)
        records = self.attempts_between(
            start.strftime(TIMESTAMP_FORMAT), now.strftime(TIMESTAMP_FORMAT)
        )
        passback = PassbackCache()
        keys = {course_of_bad_record(record, passback) for record in records}
        return sorted(keys - {UNKNOWN_COURSE}) + sorted(keys & {UNKNOWN_COURSE})
