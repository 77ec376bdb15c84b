# ruff: noqa: RUF009 - _setting() is dataclasses.field() with the variable name attached
"""Every setting of the product, read from the environment in ONE place, typed.

``current`` is read when the code location loads (the partition timezone and start
date must be known then). Builders (each source's ``resources(config)``, the CLI,
the demo) take their values from a ``Settings``; secrets are never copied out of
the environment: resources get a ``dagster.EnvVar`` for them, so their values do
not reach run config, logs or the UI. docs/configuration.md lists every variable.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg


class SettingError(ValueError):
    """An environment variable whose value cannot be used; the message says which and why."""


def _setting(env: str, default: Any, doc: str, *, presence: bool = False) -> Any:
    """``presence``: the value stays in the environment (a secret); only "is it set" is read."""
    return field(default=default, metadata={"env": env, "doc": doc, "presence": presence})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting("LMS_DATA_DIR", Path("data"), "folder for local files")
    timezone: str = _setting("LMS_TIMEZONE", "UTC", "IANA timezone of a partition's day")
    partitions_start_date: str = _setting(
        "LMS_PARTITIONS_START_DATE",
        "",
        "first day of the daily partitions (default: the day before this site first ran)",
    )
    warehouse_url: str | None = _setting(
        "LMS_WAREHOUSE_URL", None, "SQLAlchemy URL of the warehouse (secret)"
    )
    warehouse_batch_size: int = _setting("LMS_WAREHOUSE_BATCH_SIZE", 1000, "rows per INSERT")
    warehouse_parallel_writes: int = _setting(
        "LMS_WAREHOUSE_PARALLEL_WRITES", 2, "partition writes at once (MySQL/MariaDB)"
    )
    openedx_requests_per_second: float = _setting(
        "LMS_OPENEDX_REQUESTS_PER_SECOND", 10.0, "most requests per second to Open edX"
    )
    openedx_page_size: int = _setting("LMS_OPENEDX_PAGE_SIZE", 200, "enrollments page size")
    h5p_requests_per_second: float = _setting(
        "LMS_H5P_REQUESTS_PER_SECOND", 10.0, "most requests per second to H5P"
    )
    h5p_max_concurrency: int = _setting("LMS_H5P_MAX_CONCURRENCY", 8, "learners fetched at once")
    moodle_table_prefix: str = _setting("LMS_MOODLE_TABLE_PREFIX", "mdl_", "$CFG->prefix")
    moodle_timezone: str | None = _setting(
        "LMS_MOODLE_TIMEZONE", None, "timezone of a day over timecreated (default LMS_TIMEZONE)"
    )
    tracking_log_dir: str | None = _setting(
        "LMS_TRACKING_LOG_DIR", None, "folder of tracking logs (default DATA_DIR/tracking_logs)"
    )
    tracking_staging_dir: str | None = _setting(
        "LMS_TRACKING_STAGING_DIR", None, "split staging (default DATA_DIR/tracking_staging)"
    )
    research_packages_dir: str | None = _setting(
        "LMS_RESEARCH_PACKAGES_DIR",
        None,
        "folder of edX research data packages (default DATA_DIR/research_packages)",
    )
    reports_dir: str | None = _setting(
        "LMS_REPORTS_DIR", None, "folder of the course reports (default DATA_DIR/reports)"
    )
    pseudonym_key_set: bool = _setting(
        "LMS_PSEUDONYM_KEY", False, "key of the optional HMAC pseudonyms (secret)", presence=True
    )
    http_timeout_seconds: float = _setting("LMS_HTTP_TIMEOUT_SECONDS", 30.0, "request timeout")
    http_max_retries: int = _setting("LMS_HTTP_MAX_RETRIES", 5, "retries per request")
    http_backoff_seconds: float = _setting("LMS_HTTP_BACKOFF_SECONDS", 0.5, "first backoff")
    openedx_schedule: str = _setting("LMS_OPENEDX_SCHEDULE", "0 7 * * *", "Open edX daily cron")
    moodle_schedule: str = _setting("LMS_MOODLE_SCHEDULE", "0 2 * * *", "Moodle daily cron")
    courses_per_run: int = _setting("LMS_COURSES_PER_RUN", 100, "courses per scheduled run")
    raw_data_waits_for_tracking: bool = _setting(
        "LMS_RAW_DATA_WAITS_FOR_TRACKING",
        True,
        "raw_data waits for the day's tracking tables (false: a site without tracking logs)",
    )
    smtp_host: str = _setting("LMS_SMTP_HOST", "localhost", "mail server")
    smtp_port: int = _setting("LMS_SMTP_PORT", 587, "mail server port")
    smtp_security: str = _setting("LMS_SMTP_SECURITY", "starttls", "starttls, ssl or none")
    smtp_user: str | None = _setting("LMS_SMTP_USER", None, "SMTP login")
    smtp_password_set: bool = _setting(
        "LMS_SMTP_PASSWORD", False, "SMTP password (secret)", presence=True
    )
    smtp_from: str = _setting("LMS_SMTP_FROM", "lms-assets@localhost", "sender address")
    alert_recipients: tuple[str, ...] = _setting(
        "LMS_ALERT_RECIPIENTS", (), "comma-separated recipients"
    )
    asset_owners: tuple[str, ...] = _setting(
        "LMS_ASSET_OWNERS",
        ("team:learning-analytics",),
        "owners shown on every asset (emails or team:name, comma-separated)",
    )
    dagster_ui_url: str = _setting("LMS_DAGSTER_UI_URL", "http://127.0.0.1:3000", "UI base URL")
    lti_timezone: str | None = _setting(
        "LMS_LTI_TIMEZONE", None, "clock of the LTI API's timestamps (default LMS_TIMEZONE)"
    )
    lti_schedule: str = _setting("LMS_LTI_SCHEDULE", "0 7 * * *", "LTI daily cron (yesterday)")
    lti_timeout_seconds: float = _setting(
        "LMS_LTI_TIMEOUT_SECONDS", 180.0, "timeout of the day's attempts request"
    )
    lti_max_rejected_ratio: float = _setting(
        "LMS_LTI_MAX_REJECTED_RATIO", 0.05, "rejected share of a course-day that blocks its stats"
    )
    sheets_credentials_set: bool = _setting(
        "GOOGLE_SHEETS_CREDENTIALS_BASE64",
        False,
        "service account JSON, base64 (secret)",
        presence=True,
    )
    sheets_spreadsheet_set: bool = _setting(
        "SPREADSHEET_ID", False, "the report's sheet (secret)", presence=True
    )
    sheets_api_url: str = _setting(
        "LMS_SHEETS_API_URL", "https://sheets.googleapis.com", "Sheets API root"
    )
    sheets_worksheet: str = _setting("LMS_SHEETS_WORKSHEET", "LTI daily stats", "worksheet title")
    lti_sheet_link: str | None = _setting("LMS_LTI_SHEET_LINK", None, "sheet link in the email")
    lti_dashboard_link: str | None = _setting(
        "LMS_LTI_DASHBOARD_LINK", None, "dashboard link in the email"
    )

    dropout_last_fraction: float = _setting(
        "LMS_DROPOUT_LAST_FRACTION",
        0.25,
        "dropout label: no activity in this last share of a course run",
    )
    dropout_gate_min_auc: float = _setting(
        "LMS_DROPOUT_GATE_MIN_AUC",
        0.70,
        "dropout gate: lowest allowed lower confidence bound of ROC-AUC at 50% of the course",
    )
    dropout_gate_max_ece: float = _setting(
        "LMS_DROPOUT_GATE_MAX_ECE",
        0.05,
        "dropout gate: highest allowed expected calibration error",
    )
    dropout_bootstrap_samples: int = _setting(
        "LMS_DROPOUT_BOOTSTRAP_SAMPLES",
        1000,
        "dropout evaluation: course-clustered bootstrap resamples per interval",
    )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is None or raw.strip() == "":
                continue
            if f.metadata["presence"]:
                values[f.name] = True  # a set secret: its value stays in the environment
                continue
            values[f.name] = _parse(f.metadata["env"], raw.strip(), f.default)
        config = cls(**values)
        data_dir = Path(config.data_dir).resolve()
        return dataclasses.replace(
            config,
            data_dir=data_dir,
            partitions_start_date=config.partitions_start_date
            or first_run_date(data_dir, config.timezone),
        )

    # -- derived values ----------------------------------------------------------------------
    def default_warehouse_url(self) -> str:
        """SQLite file under data_dir: the embedded default when LMS_WAREHOUSE_URL is unset."""
        return f"sqlite:///{self.data_dir / 'warehouse.sqlite'}"

    def resolved_warehouse_url(self) -> str:
        """The warehouse URL as a value, for code outside runs (CLI, demo, benchmarks)."""
        self._check_warehouse_url()
        return self.warehouse_url or self.default_warehouse_url()

    def warehouse_url_field(self) -> Any:
        """The warehouse resource's ``url``: an EnvVar when set (a secret), else the default.

        The URL is checked here, when the code location loads, so that a malformed one is
        reported then rather than by the first run."""
        self._check_warehouse_url()
        return (
            dg.EnvVar("LMS_WAREHOUSE_URL") if self.warehouse_url else self.default_warehouse_url()
        )

    def _check_warehouse_url(self) -> None:
        if not self.warehouse_url:
            return
        from lms_assets.db import parse_url  # imported here: lms_assets.db imports this module

        try:
            parse_url(self.warehouse_url)
        except SettingError as exc:
            raise SettingError(f"LMS_WAREHOUSE_URL: {exc}") from None

    @property
    def moodle_day_timezone(self) -> str:
        return self.moodle_timezone or self.timezone

    @property
    def lti_day_timezone(self) -> str:
        return self.lti_timezone or self.timezone

    @property
    def tracking_logs_path(self) -> str:
        return self.tracking_log_dir or str(self.data_dir / "tracking_logs")

    @property
    def tracking_staging_path(self) -> str:
        return self.tracking_staging_dir or str(self.data_dir / "tracking_staging")

    @property
    def research_packages_path(self) -> str:
        return self.research_packages_dir or str(self.data_dir / "research_packages")

    @property
    def reports_path(self) -> str:
        return self.reports_dir or str(self.data_dir / "reports")

    def http_options(self) -> dict[str, Any]:
        return {
            "timeout_seconds": self.http_timeout_seconds,
            "max_retries": self.http_max_retries,
            "backoff_seconds": self.http_backoff_seconds,
        }


def _parse(env: str, raw: str, default: Any) -> Any:
    kind = type(default)
    if isinstance(default, bool):
        return _flag(env, raw)
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if isinstance(default, Path):
            return Path(raw)
    except ValueError:
        what = "an integer" if kind is int else "a number"
        raise SettingError(f"Environment variable {env}={raw!r} is not {what}.") from None
    return raw


START_DATE_FILE = "partitions_start_date"


def first_run_date(data_dir: Path, timezone: str) -> str:
    """The day before this site first ran (kept in DATA_DIR/partitions_start_date), written
    if absent: that morning's runs load yesterday's logs (Moodle, tracking) and today's
    snapshots, and nothing earlier can be read from a snapshot API, so an older start would
    show every table in the UI as mostly "missing". History of the log sources before it is
    loaded by setting LMS_PARTITIONS_START_DATE earlier (docs/operations.md)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    marker = data_dir / START_DATE_FILE
    if marker.exists():
        return marker.read_text().strip()
    day = (dt.datetime.now(ZoneInfo(timezone)).date() - dt.timedelta(days=1)).isoformat()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        marker.write_text(day + "\n")
    except OSError:
        pass  # a read-only folder: recomputed next time (set the variable in production)
    return day


def _flag(env: str, raw: str) -> bool:
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise SettingError(f"Environment variable {env}={raw!r} is not true or false.")


current = Settings.from_environment()
"""The settings of this process, read once when the code location loads."""


def reload() -> Settings:
    """Read the environment again (the demo points the sources at its sandbox first)."""
    global current
    current = Settings.from_environment()
    return current
