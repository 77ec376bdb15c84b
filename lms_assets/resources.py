"""The resources every deployment wires, from the environment (docs/configuration.md).

Secrets and URLs come in through ``dagster.EnvVar`` so their values never reach
run config, logs or the UI; plain tuning numbers are read here with defaults.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from lms_assets import settings
from lms_assets.moodle.resources import MoodleDatabaseResource
from lms_assets.notifications import SmtpNotifier
from lms_assets.openedx.resources import H5PApiResource, OpenEdxApiResource
from lms_assets.tracking.resources import TrackingLogFolderResource
from lms_assets.warehouse import WarehouseResource


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"Environment variable {name}={raw!r} is not a number.") from None


def build_resources() -> dict[str, Any]:
    warehouse_url: Any = (
        dg.EnvVar("LMS_WAREHOUSE_URL")
        if os.environ.get("LMS_WAREHOUSE_URL")
        else settings.default_warehouse_url()
    )
    http = {
        "timeout_seconds": _number("LMS_HTTP_TIMEOUT_SECONDS", 30.0),
        "max_retries": int(_number("LMS_HTTP_MAX_RETRIES", 5)),
        "backoff_seconds": _number("LMS_HTTP_BACKOFF_SECONDS", 0.5),
    }
    return {
        "warehouse": WarehouseResource(
            url=warehouse_url,
            batch_size=int(_number("LMS_WAREHOUSE_BATCH_SIZE", 1000)),
            parallel_writes=int(_number("LMS_WAREHOUSE_PARALLEL_WRITES", 2)),
        ),
        "openedx_api": OpenEdxApiResource(
            base_url=dg.EnvVar("LMS_OPENEDX_BASE_URL"),
            session_id=dg.EnvVar("LMS_OPENEDX_SESSION_ID"),
            requests_per_second=_number("LMS_OPENEDX_REQUESTS_PER_SECOND", 10.0),
            page_size=int(_number("LMS_OPENEDX_PAGE_SIZE", 200)),
            **http,
        ),
        "h5p_api": H5PApiResource(
            base_url=dg.EnvVar("LMS_H5P_BASE_URL"),
            requests_per_second=_number("LMS_H5P_REQUESTS_PER_SECOND", 10.0),
            max_concurrency=int(_number("LMS_H5P_MAX_CONCURRENCY", 8)),
            **http,
        ),
        "moodle": MoodleDatabaseResource(
            url=dg.EnvVar("LMS_MOODLE_URL"),
            table_prefix=os.environ.get("LMS_MOODLE_TABLE_PREFIX", "mdl_"),
            timezone=os.environ.get("LMS_MOODLE_TIMEZONE", settings.TIMEZONE),
        ),
        "tracking_logs": TrackingLogFolderResource(
            path=os.environ.get("LMS_TRACKING_LOG_DIR", str(settings.DATA_DIR / "tracking_logs")),
            staging_path=os.environ.get(
                "LMS_TRACKING_STAGING_DIR", str(settings.DATA_DIR / "tracking_staging")
            ),
        ),
        "notifier": SmtpNotifier(
            host=os.environ.get("LMS_SMTP_HOST", "localhost"),
            port=int(_number("LMS_SMTP_PORT", 587)),
            security=os.environ.get("LMS_SMTP_SECURITY", "starttls"),
            username=os.environ.get("LMS_SMTP_USER") or None,
            password=dg.EnvVar("LMS_SMTP_PASSWORD")
            if os.environ.get("LMS_SMTP_PASSWORD")
            else None,
            sender=os.environ.get("LMS_SMTP_FROM", "lms-assets@localhost"),
            recipients=[
                r.strip()
                for r in os.environ.get("LMS_ALERT_RECIPIENTS", "").split(",")
                if r.strip()
            ],
            ui_url=os.environ.get("LMS_DAGSTER_UI_URL", "http://127.0.0.1:3000"),
        ),
    }
