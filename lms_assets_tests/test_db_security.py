"""What a warehouse connection sends and to whom: LOCAL INFILE, TLS options, URL mistakes.

The rogue server is a real socket server on loopback (``fake_mysql``); the bulk path is
also exercised against the real MariaDB (here and by the tracking and warehouse tests).
"""

from __future__ import annotations

import re

import certifi
import pyarrow as pa
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lms_assets.db import _connect_args, get_engine, redacted
from lms_assets.mysql_connection import GuardedConnection, LocalInfileRefused
from lms_assets.settings import SettingError, Settings
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.bulk import load_file, write_load_file
from lms_assets_tests.fake_mysql import CLIENT_SSL, FakeMySQLServer

CANARY = "canary-secret-7f3a9c"


@pytest.fixture
def secret_file(tmp_path) -> str:
    path = tmp_path / "id_rsa"
    path.write_text(f"-----BEGIN KEY----- {CANARY} -----END KEY-----\n")
    return str(path)


def _table() -> sa.Table:
    return sa.Table("t", sa.MetaData(), sa.Column("a", sa.String(10)))


def test_a_server_asking_for_a_file_on_a_plain_query_gets_nothing(secret_file) -> None:
    with FakeMySQLServer(requested_file=secret_file, trigger="steal") as server:
        engine = get_engine(server.url())
        with engine.connect() as conn:
            with pytest.raises(LocalInfileRefused, match=re.escape(secret_file)):
                conn.exec_driver_sql("SELECT 'steal'")
            # The refusal kept the connection in step with the server.
            assert conn.exec_driver_sql("SELECT VERSION()").scalar() == "5.7.99-fake"
    assert server.load_requests == 1
    assert bytes(server.received) == b""


def test_load_file_sends_its_own_file_and_no_other(tmp_path, secret_file) -> None:
    ours = tmp_path / "rows.csv"
    columns = write_load_file(pa.table({"a": ["x", "y"]}), ours)
    with (
        FakeMySQLServer(requested_file=secret_file, trigger="LOAD DATA") as rogue,
        get_engine(rogue.url()).connect() as conn,
    ):
        with pytest.raises(LocalInfileRefused, match=re.escape(secret_file)):
            load_file(conn, _table(), ours, columns)
        assert conn.connection.dbapi_connection.allowed_local_file is None  # cleared
    assert rogue.load_requests == 1
    assert CANARY.encode() not in rogue.received
    assert bytes(rogue.received) == b""

    with (
        FakeMySQLServer(requested_file=str(ours), trigger="LOAD DATA") as honest,
        get_engine(honest.url()).connect() as conn,
    ):
        load_file(conn, _table(), ours, columns)
    assert bytes(honest.received) == ours.read_bytes() == b'"x"\n"y"\n'


def test_the_warehouse_engine_uses_guarded_connections_and_bulk_loads(
    mysql_database_url, tmp_path
) -> None:
    """The real MariaDB: the guard lets load_file's own file through, for its statement only."""
    warehouse = WarehouseResource(url=mysql_database_url)
    table = sa.Table("bulk_guard_probe", sa.MetaData(), sa.Column("a", sa.String(10)))
    table.create(warehouse.engine)
    path = tmp_path / "rows.csv"
    try:
        with warehouse.engine.begin() as conn:
            dbapi_connection = conn.connection.dbapi_connection
            assert isinstance(dbapi_connection, GuardedConnection)
            load_file(conn, table, path, write_load_file(pa.table({"a": ["one", "two"]}), path))
            assert dbapi_connection.allowed_local_file is None
            # After load_file the same file is refused: a later request cannot reuse it.
            with pytest.raises(LocalInfileRefused, match=r"rows\.csv"):
                conn.exec_driver_sql(
                    f"LOAD DATA LOCAL INFILE %s INTO TABLE {table.name}", (str(path),)
                )
        assert sorted(warehouse.read_frame(sa.select(table.c.a))["a"]) == ["one", "two"]
    finally:
        table.drop(warehouse.engine)


def test_local_infile_is_enabled_only_where_the_guard_is() -> None:
    """mysqlclient would send whatever file a server names: no LOCAL INFILE for it."""
    assert _connect_args(make_url("mysql+pymysql://u@h/d"), read_only=False) == {
        "local_infile": True
    }
    assert _connect_args(make_url("mysql+mysqldb://u@h/d"), read_only=False) == {}
    assert _connect_args(make_url("mysql+pymysql://u@h/d"), read_only=True) == {}  # Moodle


# -- TLS ------------------------------------------------------------------------------------
def test_ssl_ca_in_the_url_makes_pymysql_require_tls() -> None:
    query = f"?ssl_ca={certifi.where()}"
    with (
        FakeMySQLServer(advertise_ssl=True) as server,
        pytest.raises(sa.exc.OperationalError),  # this server cannot do the TLS handshake
    ):
        get_engine(server.url(query)).connect()
    [flags] = server.client_flags  # an SSLRequest, before any password
    assert flags & CLIENT_SSL
    with (
        FakeMySQLServer(advertise_ssl=False) as plain,
        pytest.raises(sa.exc.OperationalError, match="SSL is required"),
    ):
        get_engine(plain.url(query)).connect()
    assert plain.client_flags == []  # no downgrade: the login (with the password) never left


def test_boolean_tls_options_in_the_url_mean_what_they_say() -> None:
    with FakeMySQLServer(advertise_ssl=True) as server:
        with pytest.raises(sa.exc.OperationalError):
            get_engine(server.url("?ssl_disabled=false")).connect()
        with get_engine(server.url("?ssl_disabled=true")).connect():
            pass
    preferred, disabled = server.client_flags
    assert preferred & CLIENT_SSL  # "false" is not a true string here: TLS stays on
    assert not disabled & CLIENT_SSL
    with pytest.raises(SettingError, match="ssl_disabled='maybe'"):
        get_engine("mysql+pymysql://u:p@127.0.0.1:9/x?ssl_disabled=maybe").connect()


# -- URL mistakes -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "mysql+pymysql://lms:Zq9@Xv7@db.example.edu/lms",
        "mysql+pymysql://lms:Zq9@Xv7@db.example.edu:3306/lms",
        "mysql+pymysql://lms:Zq9@Xv7:w0rd@db.example.edu/lms",
        "mysql+pymysql://lms:Zq9@X/v7@db.example.edu/lms",
    ],
    ids=["host", "host-and-port", "port", "database"],
)
def test_an_unencoded_at_in_the_password_is_refused_without_showing_it(url) -> None:
    for attempt in (
        lambda: get_engine(url),
        lambda: redacted(url),
        lambda: WarehouseResource(url=url).display_url,
    ):
        with pytest.raises(SettingError, match="%40") as caught:
            attempt()
        message = str(caught.value)
        assert "Zq9" not in message and "Xv7" not in message and "w0rd" not in message
    with pytest.raises(SettingError, match=r"^LMS_WAREHOUSE_URL: .*%40") as caught:
        Settings.from_environment({"LMS_WAREHOUSE_URL": url}).warehouse_url_field()
    assert "Zq9" not in str(caught.value) and "Xv7" not in str(caught.value)
    assert redacted("mysql+pymysql://lms:Zq9%40Xv7@db.example.edu/lms") == (
        "mysql+pymysql://lms:***@db.example.edu/lms"
    )
    assert redacted("sqlite:////srv/a@b/warehouse.sqlite").endswith("/warehouse.sqlite")
