"""Seed 002's report: gspread against the loopback Sheets stand-in, the email over real SMTP."""

from __future__ import annotations

import base64
import json
import socket
from email import message_from_bytes, policy

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from lms_assets.lti.report import lti_daily_report
from lms_assets.lti.sheets import HEADER, GoogleSheetsReportResource
from lms_assets.notifications import SmtpNotifier
from lms_assets.sandbox import FaultConfig, Sandbox
from lms_assets.sandbox.sheets import SheetsStandIn
from lms_assets_tests.conftest import make_university
from lms_assets_tests.lti_fixtures import COURSES, DAY, day_records
from lms_assets_tests.test_lti import LENIENT, materialize_days

SHEET_ROW = ["2026-11-30", "9", "4", "2", "50.0", "5", "4"]  # hand-counted from the fixture


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@pytest.fixture
def inbox():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Inbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    box.port = port
    yield box
    controller.stop()


@pytest.fixture
def loaded_day(warehouse, instance):
    """The fixture day loaded (lti_attempts and stats) into ``warehouse``."""
    with Sandbox(make_university(), FaultConfig(retry_after_seconds=0.0)) as sandbox:
        sandbox.lti.fixture[DAY] = day_records()
        second = DAY.replace(day=29)
        sandbox.lti.fixture[second] = day_records(second)[:3]  # 3 attempts of user 1
        assert materialize_days(sandbox, warehouse, instance, second, DAY, COURSES, LENIENT).success
    return warehouse


def report(warehouse, instance, sheets, inbox, day=DAY, raise_on_error=True):
    notifier = SmtpNotifier(
        host="127.0.0.1", port=inbox.port, security="none", recipients=["team@example.edu"]
    )
    return dg.materialize(
        [lti_daily_report],
        instance=instance,
        partition_key=day.isoformat(),
        resources={"warehouse": warehouse, "lti_sheets": sheets, "notifier": notifier},
        raise_on_error=raise_on_error,
        run_config={
            "ops": {
                "lti_daily_report": {
                    "config": {
                        "sheet_link": "https://sheets.example/lti",
                        "dashboard_link": "https://bi.example/lti",
                    }
                }
            }
        },
    )


def test_the_day_row_is_written_once_and_updated_by_reruns(loaded_day, instance, inbox) -> None:
    with SheetsStandIn() as stand_in:
        sheet_id = stand_in.create_spreadsheet()
        sheets = GoogleSheetsReportResource(
            credentials_base64=stand_in.credentials_base64(),
            spreadsheet_id=sheet_id,
            api_url=stand_in.base_url,
        )
        for _ in range(3):
            result = report(loaded_day, instance, sheets, inbox)
            assert result.success
            assert stand_in.rows(sheet_id, "LTI daily stats") == [HEADER, SHEET_ROW]
        # A wrong header is put right; another day is added below; rerunning DAY updates row 2.
        stand_in.spreadsheets[sheet_id]["LTI daily stats"][0] = ["Дата", "x"]
        report(loaded_day, instance, sheets, inbox, day=DAY.replace(day=29))
        report(loaded_day, instance, sheets, inbox)
        assert stand_in.rows(sheet_id, "LTI daily stats") == [
            HEADER,
            SHEET_ROW,
            ["2026-11-29", "3", "1", "1", "50.0", "1", "2"],
        ]
        assert "POST /v4/spreadsheets/" + sheet_id + ":batchUpdate" in stand_in.calls  # added
        evaluation = result.get_asset_check_evaluations()[0]
        assert evaluation.check_name == "sheet_has_the_day_once" and evaluation.passed

    assert len(inbox.messages) == 5  # one per report run of a day
    message = inbox.messages[0]
    assert message["Subject"] == "[lms_assets] LTI attempts 2026-11-30: 9 stored, 16 rejected"
    body = message.get_content()
    assert "Records received: 25" in body
    assert "Stored: 9 attempts of 4 learners" in body
    assert "Rejected: 16" in body
    assert "Successful attempts: 2 (50.0% of 4 submits), runs: 5" in body
    assert "Sheet: https://sheets.example/lti" in body
    assert "Dashboard: https://bi.example/lti" in body
    assert "Report run time:" in body
    assert sheet_id not in body and "PRIVATE KEY" not in body


def test_without_sheet_settings_the_report_is_skipped_with_a_log_line(
    loaded_day, instance, inbox, capfd
) -> None:
    result = report(loaded_day, instance, GoogleSheetsReportResource(), inbox)
    assert result.success
    assert "Google Sheets report skipped" in capfd.readouterr().err
    evaluation = result.get_asset_check_evaluations()[0]
    assert evaluation.metadata["skipped"].value is True
    assert len(inbox.messages) == 1  # the email still goes


def test_a_key_the_token_endpoint_did_not_issue_is_refused(loaded_day, instance, inbox) -> None:
    with SheetsStandIn() as stand_in, SheetsStandIn() as other:
        # other's key, stand_in's token endpoint: the JWT's signature does not verify.
        info = other.service_account_info() | {"token_uri": f"{stand_in.base_url}/token"}
        sheets = GoogleSheetsReportResource(
            credentials_base64=base64.b64encode(json.dumps(info).encode()).decode(),
            spreadsheet_id=stand_in.create_spreadsheet(),
            api_url=stand_in.base_url,
        )
        result = report(loaded_day, instance, sheets, inbox, raise_on_error=False)
        assert not result.success
        assert stand_in.calls == []  # no Sheets call without a token
