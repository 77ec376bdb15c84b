"""Engines for every database the product talks to: one factory, one cache per URL.

The warehouse connects read-write; source databases (Moodle) connect read-only,
enforced by the connection itself so a bug can never write to a production LMS.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

from lms_assets import mysql_connection
from lms_assets.settings import SettingError

_engines: dict[tuple[str, bool], Engine] = {}
_lock = threading.Lock()


def parse_url(url: str) -> URL:
    """``make_url``, refusing URLs whose password was not URL-encoded.

    ``mysql://lms:p@ss@db/lms`` parses as password ``p`` on host ``ss@db``: every message
    would then show the password's tail as the host. Neither error names the URL's parts.
    """
    try:
        parsed = make_url(url)
    except ValueError:  # e.g. int() of a "port" that is the rest of a password
        raise SettingError(
            "the database URL cannot be parsed (not shown: it may hold a password); if the "
            "password contains '@', ':', '/' or '%', URL-encode it (urllib.parse.quote_plus: "
            "'@' as %40)."
        ) from None
    # A SQLite file path may hold '@'; a server's host or database name does not.
    spill = [parsed.host or ""] + (
        [] if parsed.get_backend_name() == "sqlite" else [parsed.database or ""]
    )
    if any("@" in part for part in spill):
        raise SettingError(
            "the database URL's host or database name contains '@': the password (or user "
            "name) holds an unencoded '@'. URL-encode it ('@' as %40, "
            "urllib.parse.quote_plus(password)); "
            "the URL is not shown because it holds the password."
        )
    return parsed


def normalize_url(url: str) -> str:
    """MySQL URLs get the pymysql driver and utf8mb4 unless they say otherwise."""
    parsed = parse_url(url)
    if parsed.get_backend_name() in ("mysql", "mariadb"):
        if parsed.drivername in ("mysql", "mariadb"):
            parsed = parsed.set(drivername=f"{parsed.drivername}+pymysql")
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def redacted(url: str) -> str:
    """The URL as it may appear in logs and metadata: password hidden."""
    return parse_url(url).render_as_string(hide_password=True)


def get_engine(url: str, *, read_only: bool = False) -> Engine:
    """The process's engine (and pool) for ``url``."""
    url = normalize_url(url)
    with _lock:
        engine = _engines.get((url, read_only))
        if engine is None:
            engine = _engines[(url, read_only)] = _create_engine(url, read_only)
        return engine


def _connect_args(parsed: URL, read_only: bool) -> dict[str, Any]:
    """The warehouse's bulk path (LOAD DATA LOCAL INFILE) needs ``local_infile``; it is
    enabled only where a GuardedConnection (below) sends no file but the one the current
    ``load_file`` registered: pymysql. Another MySQL driver would send any file a server
    names, so it gets no LOCAL INFILE (and ``load_file`` refuses to run on it)."""
    mysql = parsed.get_backend_name() in ("mysql", "mariadb")
    if mysql and parsed.get_driver_name() == "pymysql" and not read_only:
        return {"local_infile": True}
    return {}


def _create_engine(url: str, read_only: bool) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not read_only:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: see below.
        engine = sa.create_engine(url, connect_args={"timeout": 60}, hide_parameters=True)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if read_only:
                cursor.execute("PRAGMA query_only = ON")
            else:
                # WAL lets the UI and checks read while a run writes; steps of one run may
                # write from several processes, hence the generous busy timeout.
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.close()

        return engine
    engine = sa.create_engine(
        url,
        pool_pre_ping=True,
        pool_recycle=3600,
        connect_args=_connect_args(parsed, read_only),
        # A failed statement's message would print its bound values: learners' emails and
        # names would reach Dagster's logs, the run database and failure emails.
        hide_parameters=True,
    )
    if parsed.get_driver_name() == "pymysql":

        @sa.event.listens_for(engine, "do_connect")
        def _guarded_connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
            return mysql_connection.connect(*cargs, **cparams)

    if read_only:

        @sa.event.listens_for(engine, "connect")
        def _read_only_session(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            if backend in ("mysql", "mariadb"):
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
            elif backend == "postgresql":
                cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
            cursor.close()

    return engine
