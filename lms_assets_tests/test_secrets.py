"""Canaries: secrets and a learner's email must not reach Dagster's storage, output or emails.

Two runs fail as they would in production, wired as in production (EnvVar secrets, the
sources' and the notifier's ``resources(config)``), in an instance whose DAGSTER_HOME is a
real folder: enrollments with a wrong session cookie, and enrollments whose warehouse
write is refused by MariaDB after the learners' rows were bound to the INSERT. The failure
sensor emails both runs through a real SMTP server that checks the password. Then every
file under DAGSTER_HOME, the captured stdout/stderr and the emails are searched.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy.engine import make_url

from lms_assets import notifications, partitions, settings
from lms_assets.openedx import definitions as openedx_definitions
from lms_assets.openedx.assets import enrollments
from lms_assets.partitions import Partition
from lms_assets.sandbox import FaultConfig, Sandbox
from lms_assets.warehouse import WarehouseResource
from lms_assets_tests.conftest import MYSQL_SERVER_URL, make_university, mysql_database

SESSION_ID = "cookie-canary-5e1d0b7a"  # the sandbox's real session
WRONG_SESSION_ID = "wrong-cookie-canary-93c4f2"
SMTP_PASSWORD = "smtp-canary-c0a8e611"
DB_PASSWORD = "dbpass-canary-4b7e2d19"


class Inbox:
    def __init__(self) -> None:
        self.raw: list[bytes] = []
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.raw.append(envelope.content)
        return "250 Message accepted"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == SMTP_PASSWORD.encode())


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=inbox.authenticate,
        auth_require_tls=False,  # loopback, security=none: the one case that is allowed
    )
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def canary_warehouse_url() -> Iterator[str]:
    """A MariaDB database at the head revision, and a user (with the canary password) who
    may read and delete but not insert: writes fail after their rows were bound."""
    with mysql_database("secrets") as root_url:
        WarehouseResource(url=root_url).engine  # noqa: B018 - creates the schema as root
        database = make_url(root_url).database
        user = f"lms_canary_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(MYSQL_SERVER_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE USER '{user}'@'%%' IDENTIFIED BY '{DB_PASSWORD}'")
            conn.exec_driver_sql(f"GRANT SELECT, DELETE ON `{database}`.* TO '{user}'@'%%'")
        try:
            yield (
                make_url(root_url)
                .set(username=user, password=DB_PASSWORD)
                .render_as_string(hide_password=False)
            )
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
            admin.dispose()


def _files_holding(root: Path, canaries: dict[str, str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [name for name, value in canaries.items() if value.encode() in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def test_no_secret_or_learner_email_reaches_storage_output_or_emails(
    tmp_path, monkeypatch, capfd, smtp, canary_warehouse_url
) -> None:
    inbox, port = smtp
    home = tmp_path / "dagster_home"
    home.mkdir()
    university = make_university(n_courses=1, learners=(20, 30))
    [(course, course_data)] = university.courses.items()
    learner_email = course_data.learners[0].email
    canaries = {
        "session id": SESSION_ID,
        "wrong session id": WRONG_SESSION_ID,
        "SMTP password": SMTP_PASSWORD,
        "warehouse password": DB_PASSWORD,
        "learner email": learner_email,
    }
    with Sandbox(university, FaultConfig(retry_after_seconds=0.0), session_id=SESSION_ID) as box:
        environment = {
            "DAGSTER_HOME": str(home),
            "LMS_DATA_DIR": str(tmp_path / "data"),
            "LMS_OPENEDX_BASE_URL": box.openedx_base_url,
            "LMS_H5P_BASE_URL": box.h5p_base_url,
            "LMS_WAREHOUSE_URL": canary_warehouse_url,
            "LMS_SMTP_HOST": "127.0.0.1",
            "LMS_SMTP_PORT": str(port),
            "LMS_SMTP_SECURITY": "none",
            "LMS_SMTP_USER": "alerts",
            "LMS_SMTP_PASSWORD": SMTP_PASSWORD,
            "LMS_ALERT_RECIPIENTS": "data-team@example.edu",
        }
        for name, value in environment.items():
            monkeypatch.setenv(name, value)
        config = settings.Settings.from_environment()
        resources = {
            **openedx_definitions.resources(config),
            "warehouse": WarehouseResource(url=config.warehouse_url_field()),
        }
        with dg.instance_for_test(temp_dir=str(home)) as instance:
            partitions.register_courses(instance, partitions.openedx_courses, [course])
            key = Partition(course, partitions.today()).partition_key
            results = {}
            for name, session in (("wrong cookie", WRONG_SESSION_ID), ("write", SESSION_ID)):
                monkeypatch.setenv("LMS_OPENEDX_SESSION_ID", session)
                results[name] = dg.materialize(
                    [enrollments],
                    instance=instance,
                    resources=resources,
                    partition_key=key,
                    raise_on_error=False,
                )
            for result in results.values():
                assert not result.success
                run = instance.get_run_by_id(result.run_id)
                [failure] = instance.all_logs(
                    result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
                )
                with dg.build_run_status_sensor_context(
                    sensor_name="email_on_run_failure",
                    dagster_instance=instance,
                    dagster_run=run,
                    dagster_event=failure.dagster_event,
                    resources=notifications.resources(config),
                ) as context:  # closes the notifier's resource scope
                    notifications.email_on_run_failure(context.for_run_failure())
    output = capfd.readouterr()

    # The runs failed where intended: the wrong cookie was refused, and the write was
    # refused by MariaDB after the canary password had logged in.
    emails = [message_from_bytes(raw, policy=policy.default) for raw in inbox.raw]
    bodies = [message.get_content() for message in emails]
    assert len(bodies) == 2
    assert "authentication failed (HTTP 401)" in bodies[0]
    assert "INSERT command denied" in bodies[1]
    assert inbox.logins == [(b"alerts", SMTP_PASSWORD.encode())] * 2
    assert box.served_count("auth", 401) >= 1  # the wrong cookie reached the sandbox

    # The search reads the storage: the failure itself is there, in plain bytes.
    assert _files_holding(home, {"failure": "INSERT command denied"})
    assert _files_holding(home, canaries) == {}
    for stream in (output.out, output.err):
        assert [name for name, value in canaries.items() if value in stream] == []
    for raw in inbox.raw:
        assert [name for name, value in canaries.items() if value.encode() in raw] == []
