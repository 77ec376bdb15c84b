"""The LTI part of ``make demo``: the sandbox's days of attempts, the sheet, the emails.

The demo calls :func:`run_lti_demo` with its sandbox, instance, resources and the number of
days before today to load (the semester). It starts a loopback stand-in of the Sheets API
and a loopback SMTP server, registers the courses the attempts name, runs the ``lti_daily``
job once over every course and the days (one API request per day), then ``lti_report``
once over the days (a single-run backfill: a sheet row and an email per day), and says
what it wrote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from lms_assets.automation import RANGE_END_TAG, RANGE_START_TAG
from lms_assets.lti.assets import lti_courses
from lms_assets.lti.parsing import parse_day
from lms_assets.lti.resources import LtiApiResource
from lms_assets.lti.sheets import GoogleSheetsReportResource
from lms_assets.notifications import SmtpNotifier
from lms_assets.partitions import register_courses
from lms_assets.sandbox.sheets import SheetsStandIn

DEMO_DAYS = 7
QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class LtiDemo:
    """What the LTI part did: its runs (label, result), and the sheet and inbox it filled."""

    runs: list[tuple[str, dg.ExecuteInProcessResult]] = field(default_factory=list)
    sheet_rows: list[list[str]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)  # subjects


@contextlib.contextmanager
def loopback_smtp(subjects: list[str]) -> Iterator[int]:
    """A real SMTP server on loopback (aiosmtpd) that keeps the subjects it receives."""
    from aiosmtpd.controller import Controller  # installed with the dev extra (make demo)

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            for line in envelope.content.decode(errors="replace").splitlines():
                if line.startswith("Subject: "):
                    subjects.append(line[len("Subject: ") :])
            return "250 Message accepted"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


def run_lti_demo(
    sandbox: Any, instance: dg.DagsterInstance, resources: dict[str, Any], days: int = DEMO_DAYS
) -> LtiDemo:
    from lms_assets.definitions import defs

    outcome = LtiDemo()
    env = sandbox.lti.environment(sandbox.base_url)
    api = LtiApiResource(
        base_url=env["LMS_LTI_API_URL"],
        client=env["LMS_LTI_CLIENT"],
        client_key=env["LMS_LTI_CLIENT_KEY"],
        timezone=env["LMS_LTI_TIMEZONE"],
    )
    last = sandbox.university.today - dt.timedelta(days=1)
    first = last - dt.timedelta(days=days - 1)
    courses: set[str] = set()
    for n in range(days):
        day = first + dt.timedelta(days=n)
        courses.update(parse_day(api.attempts(day), day, api.timezone).courses)
    register_courses(instance, lti_courses, sorted(courses))
    known = list(instance.get_dynamic_partitions(lti_courses.name or ""))
    with SheetsStandIn() as sheets, loopback_smtp(outcome.emails) as smtp_port:
        sheet_id = sheets.create_spreadsheet()
        demo_resources = {
            **resources,
            "lti_sheets": GoogleSheetsReportResource(
                credentials_base64=sheets.credentials_base64(),
                spreadsheet_id=sheet_id,
                api_url=sheets.base_url,
            ),
            "notifier": SmtpNotifier(
                host="127.0.0.1",
                port=smtp_port,
                security="none",
                recipients=["data-team@example.edu"],
            ),
        }
        daily = defs.resolve_job_def("lti_daily").execute_in_process(
            instance=instance,
            resources=demo_resources,
            run_config=QUIET_LOGS,
            raise_on_error=False,
            tags={
                RANGE_START_TAG: f"{known[0]}|{first.isoformat()}",
                RANGE_END_TAG: f"{known[-1]}|{last.isoformat()}",
            },
        )
        outcome.runs.append((f"LTI attempts {first}..{last}, {len(known)} courses", daily))
        report = defs.resolve_job_def("lti_report").execute_in_process(
            instance=instance,
            resources=demo_resources,
            run_config=QUIET_LOGS,
            raise_on_error=False,
            tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
        )
        outcome.runs.append((f"LTI reports {first}..{last}", report))
        outcome.sheet_rows = sheets.rows(sheet_id, demo_resources["lti_sheets"].worksheet)
    return outcome
