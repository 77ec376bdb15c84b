"""Email when something breaks (and, if asked, a daily summary), through SMTP.

Messages say what failed and link to the run in the UI. They carry error
messages and names, never configuration values: credentials stay out.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import smtplib
import ssl
from email.message import EmailMessage

import dagster as dg
from pydantic import Field

from lms_assets import settings
from lms_assets.automation import partition_range
from lms_assets.warehouse import WarehouseResource


class SmtpNotifier(dg.ConfigurableResource):
    """SMTP settings; ``password`` comes from ``LMS_SMTP_PASSWORD`` (EnvVar)."""

    host: str = Field(description="SMTP server host.")
    port: int = Field(default=587, description="587 with STARTTLS, 465 with implicit TLS.")
    security: str = Field(
        default="starttls", description="starttls, ssl (implicit TLS) or none (loopback only)."
    )
    username: str | None = Field(default=None, description="SMTP login, if the server needs one.")
    password: str | None = Field(default=None, description="SMTP password (a secret).")
    sender: str = Field(default="lms-assets@localhost", description="From: address.")
    recipients: list[str] = Field(default_factory=list, description="To: addresses.")
    ui_url: str = Field(
        default="http://127.0.0.1:3000", description="Base URL of the Dagster UI, for links."
    )
    timeout_seconds: float = Field(default=30.0, gt=0)

    def send(self, subject: str, body: str) -> None:
        if not self.recipients:
            raise ValueError("SmtpNotifier has no recipients (set LMS_ALERT_RECIPIENTS)")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = (
            self.sender,
            ", ".join(self.recipients),
            subject,
        )
        message.set_content(body)
        self._refuse_plaintext_credentials()
        if self.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host,
                self.port,
                timeout=self.timeout_seconds,
                context=ssl.create_default_context(),
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds)
        with client:
            if self.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if self.username:
                client.login(self.username, self.password or "")
            client.send_message(message)

    def _refuse_plaintext_credentials(self) -> None:
        """A password is sent in clear with ``security=none``: only to this machine."""
        if self.security not in ("starttls", "ssl", "none"):
            # Anything else would fall through to a plaintext session.
            raise settings.SettingError(
                f"LMS_SMTP_SECURITY={self.security!r}: use starttls, ssl or none."
            )
        if self.security == "none" and self.password and not _is_loopback(self.host):
            raise settings.SettingError(
                f"LMS_SMTP_SECURITY=none would send the SMTP password unencrypted to "
                f"{self.host}; use starttls or ssl, or none only with a server on this "
                "machine (localhost, 127.0.0.1, ::1). Nothing was sent."
            )

    def run_link(self, run_id: str) -> str:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}"


def _is_loopback(host: str) -> bool:
    # Literal names only: resolving a name here would trust DNS with the decision.
    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _root_cause(error: object) -> str:
    """The innermost exception of Dagster's error chain: the user's own message."""
    if error is None:
        return "failed"
    while getattr(error, "cause", None) is not None:
        error = error.cause  # type: ignore[attr-defined]
    message = (getattr(error, "message", "") or "").strip().splitlines()
    return message[0] if message else "failed"


def _partitions_of(run: dg.DagsterRun) -> str:
    keys = partition_range(run.tags)
    if keys is None:
        return "-"
    return keys[0] if keys[0] == keys[1] else f"{keys[0]} .. {keys[1]}"


@dg.run_failure_sensor(
    name="email_on_run_failure",
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Emails LMS_ALERT_RECIPIENTS when a run fails: the job, its partitions, each "
    "failed step with its root cause, and a link to the run.",
)
def email_on_run_failure(context: dg.RunFailureSensorContext, notifier: SmtpNotifier) -> None:
    """One email per failed run: the job, the partitions, each failed step and why, a link."""
    run = context.dagster_run
    failures = [
        f"- step {event.step_key}: {_root_cause(event.step_failure_data.error)}"
        for event in context.get_step_failure_events()
    ]
    body = "\n".join(
        [
            f"Run {run.run_id} of job {run.job_name} failed.",
            f"Partitions: {_partitions_of(run)}",
            "",
            "Failed steps:",
            *(failures or [f"- (no step failed) {context.failure_event.message}"]),
            "",
            f"Open the run: {notifier.run_link(run.run_id)}",
        ]
    )
    notifier.send(f"[lms_assets] run failed: {run.job_name} ({_partitions_of(run)})", body)
    context.log.info(f"failure email for run {run.run_id} sent to {len(notifier.recipients)}")


@dg.sensor(
    name="email_daily_summary",
    minimum_interval_seconds=3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Once a day, emails LMS_ALERT_RECIPIENTS the runs that succeeded and failed, "
    "the rows stored per table and the checks that failed.",
)
def email_daily_summary(
    context: dg.SensorEvaluationContext, notifier: SmtpNotifier, warehouse: WarehouseResource
) -> dg.SkipReason:
    """Once a day: runs succeeded/failed, rows stored per table, checks that failed.

    Rows are counted in the warehouse (``loaded_at`` within the last 24 hours), not
    from materialization metadata: a batched run materializes a hundred partitions
    at once, and any run-wide figure in its metadata would be counted a hundred times.
    """
    today = dt.datetime.now(dt.UTC).date().isoformat()
    if context.cursor == today:
        return dg.SkipReason(f"summary for {today} already sent")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    records = context.instance.get_run_records(dg.RunsFilter(created_after=since), limit=10_000)
    statuses = [r.dagster_run.status for r in records]
    succeeded = sum(s == dg.DagsterRunStatus.SUCCESS for s in statuses)
    failed = sum(s == dg.DagsterRunStatus.FAILURE for s in statuses)
    failed_checks: list[str] = []
    for record in records:
        for event in context.instance.all_logs(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        ):
            data = event.dagster_event.event_specific_data
            if not data.passed:
                failed_checks.append(
                    f"- {data.asset_key.to_user_string()}.{data.check_name} "
                    f"({notifier.run_link(record.dagster_run.run_id)})"
                )
    rows = warehouse.rows_loaded_since(since.replace(tzinfo=None))
    body = "\n".join(
        [
            f"Last 24 hours: {succeeded} runs succeeded, {failed} failed.",
            "",
            "Rows stored (counted in the warehouse):",
            *(f"- {table}: {n}" for table, n in sorted(rows.items())),
            "",
            f"Failed checks: {len(failed_checks)}",
            *failed_checks[:100],
        ]
    )
    notifier.send(f"[lms_assets] daily summary {today}: {failed} failed runs", body)
    context.update_cursor(today)
    return dg.SkipReason(f"summary for {today} sent")


def resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "notifier": SmtpNotifier(
            host=config.smtp_host,
            port=config.smtp_port,
            security=config.smtp_security,
            username=config.smtp_user,
            password=dg.EnvVar("LMS_SMTP_PASSWORD") if config.smtp_password_set else None,
            sender=config.smtp_from,
            recipients=list(config.alert_recipients),
            ui_url=config.dagster_ui_url,
        )
    }
