"""Failure emails through a real SMTP server on loopback (aiosmtpd)."""

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import dagster as dg
import pytest
from aiosmtpd.controller import Controller

from lms_assets import partitions
from lms_assets.automation import batched_run_requests
from lms_assets.notifications import SmtpNotifier, email_daily_summary, email_on_run_failure
from lms_assets.openedx.assets import enrollments
from lms_assets.openedx.resources import OpenEdxApiResource
from lms_assets.partitions import Partition
from lms_assets.sandbox import FaultConfig, Sandbox
from lms_assets.settings import SettingError
from lms_assets_tests.conftest import make_university

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
        partition_key=Partition(course, partitions.today()).partition_key,
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
    resources = {"notifier": notifier(port), "warehouse": sqlite_warehouse}
    context = dg.build_sensor_context(instance=instance, resources=resources)
    email_daily_summary(context)
    email_daily_summary(
        dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=resources)
    )
    [(_, message)] = inbox.messages
    assert "0 runs succeeded, 1 failed" in message.get_content()


def test_a_batched_run_counts_rows_per_partition_and_the_summary_counts_the_warehouse(
    sqlite_warehouse, instance, smtp
) -> None:
    """One run over three courses, as the daily schedule batches them: each partition's
    materialization shows its own course's row count (not the run's total), and the daily
    summary counts stored rows once (not once per partition)."""
    inbox, port = smtp
    university = make_university(n_courses=3, learners=(20, 60))
    sizes = {course_id: len(course.learners) for course_id, course in university.courses.items()}
    assert len(set(sizes.values())) == 3  # a run-wide figure copied around would show
    day = partitions.today()
    with Sandbox(university, FaultConfig(retry_after_seconds=0.0)) as sandbox:
        courses = list(sizes)
        partitions.register_courses(instance, partitions.openedx_courses, courses)
        [request] = batched_run_requests("openedx_daily", courses, day, run_key_prefix="test")
        result = dg.materialize(
            [enrollments],
            instance=instance,
            tags=request.tags,
            resources={
                "warehouse": sqlite_warehouse,
                "openedx_api": OpenEdxApiResource(
                    base_url=sandbox.openedx_base_url, session_id=sandbox.session_id
                ),
            },
        )
    assert result.success
    shown = {
        str(m.partition): (m.metadata["dagster/row_count"].value, m.metadata["run_rows"].value)
        for m in result.asset_materializations_for_node("enrollments")
    }
    total = sum(sizes.values())
    assert shown == {
        str(Partition(course, day).partition_key): (n, total) for course, n in sizes.items()
    }

    resources = {"notifier": notifier(port), "warehouse": sqlite_warehouse}
    email_daily_summary(dg.build_sensor_context(instance=instance, resources=resources))
    [(_, message)] = inbox.messages
    body = message.get_content()
    assert f"- enrollments: {total}" in body.splitlines()
    assert "1 runs succeeded, 0 failed" in body


def test_security_none_refuses_to_send_a_password_off_this_machine(smtp) -> None:
    """0.0.0.0 reaches the loopback server below, but is not a loopback name: the password
    would cross a network in clear, so nothing is sent. Unknown modes are refused too."""
    inbox, port = smtp
    remote = notifier(port).model_copy(update={"host": "0.0.0.0"})
    with pytest.raises(SettingError, match=r"unencrypted to 0\.0\.0\.0") as caught:
        remote.send("subject", "body")
    assert SMTP_PASSWORD not in str(caught.value)
    typo = notifier(port).model_copy(update={"security": "tls"})
    with pytest.raises(SettingError, match="LMS_SMTP_SECURITY='tls'"):
        typo.send("subject", "body")
    assert inbox.messages == []
    # Without a password, or to a loopback host, security=none still delivers.
    notifier(port).model_copy(update={"host": "0.0.0.0", "password": None}).send("a", "b")
    notifier(port).model_copy(update={"host": "localhost"}).send("c", "d")
    assert [message["Subject"] for _, message in inbox.messages] == ["a", "c"]
