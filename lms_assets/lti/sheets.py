"""Seed 002's Google Sheets report through gspread: one row per day, updated in place.

The seed appends a row per run, so a re-run doubles the day. Here the day's row is
found by its date in column A and overwritten, or written below the last row when the
day is new; the header row is rewritten when it is not the expected one. The service
account comes from ``GOOGLE_SHEETS_CREDENTIALS_BASE64`` (the JSON key, base64, as in the
seed) and the sheet from ``SPREADSHEET_ID``; both are secrets (EnvVar) and never logged.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import dagster as dg
from google.auth.transport.requests import AuthorizedSession
from google.oauth2.service_account import Credentials
from pydantic import Field

GOOGLE_SHEETS_URL = "https://sheets.googleapis.com"
SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
HEADER = [
    "date",
    "total_attempts",
    "unique_users",
    "successful_attempts",
    "success_rate_percent",
    "runs",
    "submits",
]


class SheetsApiSession(AuthorizedSession):
    """gspread's session, sending Google's Sheets URLs to ``api_url`` when that is set
    elsewhere (a private endpoint, or the sandbox's stand-in on loopback)."""

    def __init__(self, credentials: Credentials, api_url: str) -> None:
        super().__init__(credentials)
        self.api_url = api_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.api_url != GOOGLE_SHEETS_URL and url.startswith(GOOGLE_SHEETS_URL):
            url = self.api_url + url[len(GOOGLE_SHEETS_URL) :]
        return super().request(method, url, *args, **kwargs)


def _column(n: int) -> str:
    return chr(ord("A") + n - 1)  # the report has 7 columns


class GoogleSheetsReportResource(dg.ConfigurableResource):
    """Where the daily LTI statistics go; unset credentials or sheet mean "no report"."""

    credentials_base64: str | None = Field(
        default=None, description="Service-account JSON key, base64 (a secret)."
    )
    spreadsheet_id: str | None = Field(default=None, description="The sheet's id (a secret).")
    api_url: str = Field(default=GOOGLE_SHEETS_URL, description="Root of the Sheets API.")
    worksheet: str = Field(default="LTI daily stats", description="Worksheet of the report.")

    @property
    def configured(self) -> bool:
        return bool(self.credentials_base64 and self.spreadsheet_id)

    def _worksheet(self) -> Any:
        import gspread

        try:
            info = json.loads(base64.b64decode(self.credentials_base64 or ""))
        except ValueError:
            raise dg.Failure(
                "GOOGLE_SHEETS_CREDENTIALS_BASE64 is not base64 of a service-account JSON key"
            ) from None
        credentials = Credentials.from_service_account_info(info, scopes=SCOPES)
        client = gspread.Client(
            auth=credentials, session=SheetsApiSession(credentials, self.api_url)
        )
        spreadsheet = client.open_by_key(self.spreadsheet_id)
        try:
            return spreadsheet.worksheet(self.worksheet)
        except gspread.WorksheetNotFound:
            return spreadsheet.add_worksheet(self.worksheet, rows=1000, cols=len(HEADER))

    def upsert_days(self, rows: list[list[Any]]) -> list[dict[str, Any]]:
        """Write each day's row (date first) over that day's row, or below the last one."""
        sheet = self._worksheet()
        values = sheet.get_all_values()
        last = _column(len(HEADER))
        if not values or values[0][: len(HEADER)] != HEADER:
            sheet.update([HEADER], f"A1:{last}1")
            values = [HEADER, *values[1:]]
        where = {row[0]: number for number, row in enumerate(values, start=1) if row}
        done = []
        for row in rows:
            number = where.get(str(row[0]))
            action = "updated" if number else "appended"
            if number is None:
                number = max(len(values), 1) + 1
                values.append([str(row[0])])
                where[str(row[0])] = number
            sheet.update([row], f"A{number}:{last}{number}")
            done.append({"date": str(row[0]), "sheet_row": number, "action": action})
        return done

    def read_rows(self) -> list[list[str]]:
        return self._worksheet().get_all_values()
