"""pymysql connections that send a local file only when our own bulk load asked for it.

LOAD DATA LOCAL INFILE lets the *server* name the file the client sends: with plain
``local_infile=True`` a rogue or intercepted server can answer any query with a
LOAD LOCAL request for ``~/.ssh/id_rsa`` and pymysql would send it. A
``GuardedConnection`` sends a file only while ``local_file_allowed`` has registered
exactly that name for that connection (the temp CSV ``load_file`` wrote), and refuses
every other request with ``LocalInfileRefused``. The check is client-side: no extra
round trip on the bulk path.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pymysql
from pymysql.connections import MySQLResult
from pymysql.protocol import LoadLocalPacketWrapper

from lms_assets.settings import SettingError

# pymysql options the SQLAlchemy dialect passes on as the URL's strings: "false" is a true
# string, so ?ssl_disabled=false would silently switch TLS off.
_BOOLEAN_OPTIONS = ("ssl_disabled", "ssl_verify_identity", "ssl_verify_cert")
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


class LocalInfileRefused(RuntimeError):
    """The server asked for a local file that our current bulk load did not register."""


class _GuardedResult(MySQLResult):
    def _read_load_local_packet(self, first_packet: Any) -> None:
        conn = self.connection
        requested = LoadLocalPacketWrapper(first_packet).filename
        allowed = getattr(conn, "allowed_local_file", None)
        if allowed is not None and requested == allowed:
            super()._read_load_local_packet(first_packet)
            return
        # Send "no data" (an empty packet) so the connection stays in step with the server,
        # read its answer, then fail loudly: nothing of the file left this machine.
        conn.write_packet(b"")
        with contextlib.suppress(pymysql.err.MySQLError):
            conn._read_packet()
        raise LocalInfileRefused(
            f"the database server asked for the local file {os.fsdecode(requested)!r}, which "
            "no bulk load of ours registered; refused, nothing was sent. A server that asks "
            "for files it was not given is misbehaving or not the warehouse."
        )


class GuardedConnection(pymysql.connections.Connection):
    """A pymysql connection whose LOAD LOCAL requests go through ``_GuardedResult``."""

    # Per connection: a DBAPI connection serves one thread at a time (the pool checks it
    # out), so the registration needs no lock and cannot serve another connection's server.
    allowed_local_file: bytes | None = None

    def _read_query_result(self, unbuffered: bool = False) -> int:
        # pymysql's own body, with the guarded result class.
        self._result = None
        result = _GuardedResult(self)
        if unbuffered:
            result.init_unbuffered_query()
        else:
            result.read()
        self._result = result
        if result.server_status is not None:
            self.server_status = result.server_status
        return result.affected_rows


@contextlib.contextmanager
def local_file_allowed(dbapi_connection: Any, path: str | os.PathLike) -> Iterator[None]:
    """Let ``dbapi_connection`` send ``path`` (and only it) for the statements inside."""
    if not isinstance(dbapi_connection, GuardedConnection):
        raise TypeError(
            "LOAD DATA LOCAL needs a connection from lms_assets.db.get_engine "
            f"(a GuardedConnection), not {type(dbapi_connection).__name__}"
        )
    dbapi_connection.allowed_local_file = os.fsencode(os.fspath(path))
    try:
        yield
    finally:
        dbapi_connection.allowed_local_file = None


def connect(*args: Any, **kwargs: Any) -> GuardedConnection:
    """``pymysql.connect`` for SQLAlchemy's ``do_connect``: booleans from the URL made real."""
    for name in _BOOLEAN_OPTIONS:
        value = kwargs.get(name)
        if isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE | _FALSE:
                kwargs[name] = word in _TRUE
            elif name != "ssl_verify_cert":  # pymysql also knows ssl_verify_cert=optional
                raise SettingError(f"URL option {name}={value!r} is not true or false")
    return GuardedConnection(*args, **kwargs)
