"""Checks made once, before the first run, so that a wrong setting costs one line, not a run log.

Every CLI command calls what it needs (the warehouse, the settings a job's resources read)
and stops at the first problem with a ``PreflightError`` whose message is one line: what,
where (URLs with the password hidden), why, and the fix. ``lms-assets check`` runs them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from lms_assets.db import get_engine, normalize_url, redacted


class PreflightError(RuntimeError):
    """A setting or a system that would make every run fail; the message is the whole story."""


@dataclass(frozen=True)
class RequiredSetting:
    env: str
    what: str
    example: str


# What each resource cannot work without (the resource keys of definitions.build_resources).
REQUIRED_BY_RESOURCE: dict[str, tuple[RequiredSetting, ...]] = {
    "openedx_api": (
        RequiredSetting(
            "LMS_OPENEDX_BASE_URL",
            "the Open edX custom API root",
            "https://mooc.example.edu/api/custom/v1",
        ),
        RequiredSetting(
            "LMS_OPENEDX_SESSION_ID",
            "the sessionid cookie of a logged-in staff session (a secret)",
            "<value of the sessionid cookie>",
        ),
    ),
    "h5p_api": (
        RequiredSetting(
            "LMS_H5P_BASE_URL",
            "the H5P plugin API root",
            "https://h5p.example.edu/wp-json/mooc/v1",
        ),
    ),
    "moodle": (
        RequiredSetting(
            "LMS_MOODLE_URL",
            "a read-only SQLAlchemy URL of the Moodle database (a secret)",
            "mysql+pymysql://reader:secret@moodle-db:3306/moodle",
        ),
    ),
}


def require_settings(resource_keys: Iterable[str], *, purpose: str) -> None:
    """Every setting the resources need is set, or one line naming the first that is not."""
    for key in resource_keys:
        for setting in REQUIRED_BY_RESOURCE.get(key, ()):
            if not os.environ.get(setting.env, "").strip():
                raise PreflightError(
                    f"{setting.env} is not set: {purpose} needs {setting.what}. "
                    f"Set it, e.g. export {setting.env}={setting.example}"
                )


# Where each resource's system is, to see that it answers before the first run.
_ENDPOINTS = {
    "openedx_api": ("the Open edX API", "LMS_OPENEDX_BASE_URL"),
    "h5p_api": ("the H5P API", "LMS_H5P_BASE_URL"),
}


def check_sources(resource_keys: Iterable[str]) -> None:
    """Each configured source answers: an HTTP API at its root (any status will do: it is
    up), the Moodle database to ``SELECT 1``. One line naming the first that does not."""
    from lms_assets.http_client import unreachable

    for key in resource_keys:
        if key in _ENDPOINTS:
            what, env = _ENDPOINTS[key]
            url = os.environ.get(env, "")
            reason = unreachable(url)
            if reason is not None:
                raise PreflightError(
                    f"{what} at {redacted(url)} does not answer ({reason}). Fix: check {env} "
                    "and that the host is reachable from here."
                )
        elif key == "moodle":
            url = os.environ.get("LMS_MOODLE_URL", "")
            try:
                with get_engine(url, read_only=True).connect() as conn:
                    conn.execute(sa.text("SELECT 1"))
            except sa.exc.DBAPIError as exc:
                reason = " ".join(str(exc.orig if exc.orig is not None else exc).split())
                raise PreflightError(
                    f"cannot read the Moodle database {redacted(url)}: {reason}. "
                    "Fix: check LMS_MOODLE_URL."
                ) from None


# MySQL/MariaDB error numbers -> (why, fix). {db} is the database name, {where} host:port.
_MYSQL_FIXES = {
    1049: (
        "the database {db} does not exist",
        "create it (CREATE DATABASE `{db}` CHARACTER SET utf8mb4) or point "
        "LMS_WAREHOUSE_URL at an existing database",
    ),
    1045: ("the server refused the user name or password", "correct them in LMS_WAREHOUSE_URL"),
    1044: ("the user may not use the database {db}", "GRANT ALL ON `{db}`.* to that user"),
    2003: (
        "nothing answers on {where}",
        "start the server or correct the host and port in LMS_WAREHOUSE_URL",
    ),
    2005: ("the host name does not resolve", "correct the host in LMS_WAREHOUSE_URL"),
}


def check_warehouse(url: str) -> None:
    """Connect once and run ``SELECT 1``; on failure one line with the fix."""
    url = normalize_url(url)
    try:
        with get_engine(url).connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.DBAPIError as exc:
        raise PreflightError(warehouse_problem(url, exc)) from None


def warehouse_problem(url: str, exc: sa.exc.DBAPIError) -> str:
    """One line for a failed warehouse connection: what, where, why, fix."""
    parsed = sa.engine.make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 3306}"
    original = exc.orig if exc.orig is not None else exc
    args = getattr(original, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    if code in _MYSQL_FIXES:
        why, fix = _MYSQL_FIXES[code]
        values = {"db": parsed.database, "where": where}
        return (
            f"cannot use the warehouse {redacted(url)}: {why.format(**values)}. "
            f"Fix: {fix.format(**values)}."
        )
    reason = " ".join(str(original).split())
    if parsed.get_backend_name() == "sqlite":
        return (
            f"cannot open the warehouse {redacted(url)}: {reason}. Fix: make its folder "
            "exist and be writable, or set LMS_WAREHOUSE_URL / LMS_DATA_DIR."
        )
    return f"cannot use the warehouse {redacted(url)}: {reason}. Fix: check LMS_WAREHOUSE_URL."
