"""Failure emails through a real SMTP server on loopback (aiosmtpd)."""

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from lms_assets import partitions
from lms_assets.notifications import SmtpNotifier, email_daily_summary, email_on_run_failure
from lms_assets.openedx.assets import enrollments
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.partitions import CourseDay

SECRET_COOKIE = "secret-session-cookie-123"
SMTP_PASSWORD = "smtp-password-456"


class Inbox:
    def __init__(self) -> None:
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            (envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default))
        )
        return "250 Message accepted"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def notifier(port: int) -> SmtpNotifier:
    return SmtpNotifier(
        host="127.0.0.1",
        port=port,
        security="none",
        password=SMTP_PASSWORD,
        recipients=["data-team@example.edu", "oncall@example.edu"],
        ui_url="http://dagster.example.edu",
    )


def failed_run(sandbox, sqlite_warehouse, instance) -> dg.ExecuteInProcessResult:
    partitions.register_courses(
        instance, partitions.openedx_courses, list(sandbox.university.courses)
    )
    course = next(iter(sandbox.university.courses))
    return dg.materialize(
        [enrollments],
        instance=instance,
        raise_on_error=False,
        resources={
            "warehouse": sqlite_warehouse,
            "openedx_api": OpenEdxApiResource(
                base_url=sandbox.openedx_base_url, session_id=SECRET_COOKIE
            ),
        },
        partition_key=CourseDay(course, partitions.today()).partition_key,
    )


def test_a_failed_run_sends_one_email_with_the_run_and_step(
    sandbox, sqlite_warehouse, instance, smtp
) -> None:
    inbox, port = smtp
    result = failed_run(sandbox, sqlite_warehouse, instance)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [failure] = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    context = dg.build_run_status_sensor_context(
        sensor_name="email_on_run_failure",
        dagster_instance=instance,
        dagster_run=run,
        dagster_event=failure.dagster_event,
        resources={"notifier": notifier(port)},
    ).for_run_failure()
    email_on_run_failure(context)

    [(recipients, message)] = inbox.messages
    assert recipients == ["data-team@example.edu", "oncall@example.edu"]
    body = message.get_content()
    assert f"Run {result.run_id} of job __ephemeral_asset_job__ failed." in body
    assert message["Subject"].startswith("[lms_assets] run failed")
    assert "- step enrollments:" in body
    assert "authentication failed (HTTP 401)" in body
    assert f"http://dagster.example.edu/runs/{result.run_id}" in body
    assert SECRET_COOKIE not in message.as_string()
    assert SMTP_PASSWORD not in message.as_string()


def test_daily_summary_counts_runs_and_is_sent_once_a_day(
    sandbox, sqlite_warehouse, instance, smtp
) -> None:
    inbox, port = smtp
    failed_run(sandbox, sqlite_warehouse, instance)
    context = dg.build_sensor_context(instance=instance, resources={"notifier": notifier(port)})
    email_daily_summary(context)
    email_daily_summary(
        dg.build_sensor_context(
            instance=instance, cursor=context.cursor, resources={"notifier": notifier(port)}
        )
    )
    [(_, message)] = inbox.messages
    assert "0 runs succeeded, 1 failed" in message.get_content()
