"""The tracking-log folder: rotated ``*.log`` / ``*.log.gz`` files, one per day."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import dagster as dg
from pydantic import Field

_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")
# *.log, *.log.gz, and logrotate's dateext names: tracking.log-20260310[.gz]
_LOG_NAME = re.compile(r"(\.log(\.gz)?|\.log-\d{4}-?\d{2}-?\d{2}(\.gz)?)$")


def date_in_name(path: Path) -> dt.date | None:
    """The date a rotated file is named for (``tracking.log-20260310.gz``, ``2026-03-10.log``)."""
    match = _DATE_IN_NAME.search(path.name)
    if not match:
        return None
    try:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


class TrackingLogFolderResource(dg.ConfigurableResource):
    """A folder of Open edX tracking logs (``LMS_TRACKING_LOG_DIR``).

    Layout: files ``*.log``, ``*.log.gz`` or logrotate's ``tracking.log-YYYYMMDD[.gz]``
    (any sub-folder), each named with the date it was rotated on (YYYY-MM-DD or
    YYYYMMDD); every course's events in one file. A day's events are looked for in
    the files named for that day and for the next one (rotation happens after midnight).
    """

    path: str = Field(description="The folder holding the tracking logs.")
    staging_path: str = Field(
        description="Where the daily split leaves each course's events (Arrow files, one "
        "folder per course), for the course assets to load."
    )
    pseudonym_key: str | None = Field(
        default=None,
        description="Key of the keyed pseudonyms in username_hash (HMAC-RIPEMD160), the same "
        "as the research packages'; unset: plain RIPEMD160. From LMS_PSEUDONYM_KEY (a secret).",
    )

    def staging_dir(self, day: dt.date) -> Path:
        return Path(self.staging_path) / day.isoformat()

    def files(self) -> list[Path]:
        root = Path(self.path)
        if not root.is_dir():
            raise FileNotFoundError(f"tracking-log folder {root} does not exist")
        return sorted(p for p in root.rglob("*") if p.is_file() and _LOG_NAME.search(p.name))

    def files_for(self, day: dt.date) -> list[Path]:
        wanted = {day, day + dt.timedelta(days=1)}
        return [p for p in self.files() if date_in_name(p) in wanted]
