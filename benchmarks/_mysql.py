"""A throwaway database on the benchmark MariaDB server (LMS_BENCH_MYSQL_URL)."""

import contextlib
import os
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

SERVER = os.environ.get("LMS_BENCH_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")


@contextlib.contextmanager
def throwaway_database(purpose: str) -> Iterator[str]:
    """Yield the URL of a new utf8mb4 database; drop it afterwards."""
    server = sa.engine.make_url(SERVER)
    name = f"lms_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()
