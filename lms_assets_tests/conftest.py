"""Shared fixtures: the warehouse on SQLite AND MariaDB, the sandbox, a Dagster instance.

MariaDB comes from LMS_TEST_MYSQL_URL (default root@127.0.0.1:3306/test); each
test session works in its own throwaway database. When it cannot be reached the
MariaDB tests are skipped locally, but fail when LMS_REQUIRE_MYSQL=1 or CI=true.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import uuid
from collections import Counter
from collections.abc import Iterator

# The tests' hand-made days lie in 2026: a fixed start, not the day the suite first ran.
os.environ.setdefault("LMS_PARTITIONS_START_DATE", "2025-01-01")

import dagster as dg  # (after the environment above: the code location reads it)
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from lms_assets.partitions import today
from lms_assets.sandbox import FaultConfig, Sandbox, University
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import is_view, registered_metadata

registered_metadata()  # every source's tables, as in the code location

MYSQL_SERVER_URL = os.environ.get("LMS_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRE_MYSQL = os.environ.get("LMS_REQUIRE_MYSQL") == "1" or os.environ.get("CI") == "true"
BACKENDS = ["sqlite", "mysql"]


@contextlib.contextmanager
def mysql_database(purpose: str = "test") -> Iterator[str]:
    """A fresh database on the MariaDB server, dropped afterwards; fails or skips if unreachable."""
    server = make_url(MYSQL_SERVER_URL)
    name = f"lms_{purpose}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"MariaDB at {server.render_as_string(hide_password=True)} unreachable: {exc}"
        if REQUIRE_MYSQL:
            pytest.fail(message)
        pytest.skip(message + " (set LMS_REQUIRE_MYSQL=1 to make this a failure)")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(scope="session")
def mysql_database_url() -> Iterator[str]:
    """The warehouse database of this test session on MariaDB."""
    with mysql_database("test") as url:
        yield url


@pytest.fixture(params=BACKENDS)
def warehouse(request: pytest.FixtureRequest, tmp_path) -> Iterator[WarehouseResource]:
    """An empty warehouse on each backend."""
    if request.param == "sqlite":
        yield WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
        return
    url = request.getfixturevalue("mysql_database_url")
    resource = WarehouseResource(url=url)
    yield resource
    metadata = registered_metadata()

    with resource.engine.begin() as conn:  # leave the shared database empty for the next test
        for table in reversed(metadata.sorted_tables):
            if not is_view(table):
                conn.execute(table.delete())


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def make_university(n_courses: int = 2, learners: tuple[int, int] = (210, 260)) -> University:
    """Small but above one enrollments page (limit=200), so pagination is exercised."""
    return University(seed=7, n_courses=n_courses, today=today(), learners_per_course=learners)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(make_university(), FaultConfig(retry_after_seconds=0.0)) as server:
        yield server


@pytest.fixture
def yesterday() -> dt.date:
    return today() - dt.timedelta(days=1)


_backend_results: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        for backend in BACKENDS:
            if f"[{backend}" in report.nodeid or f"-{backend}" in report.nodeid:
                _backend_results[(backend, report.outcome)] += 1


def pytest_terminal_summary(terminalreporter) -> None:
    line = ", ".join(
        f"{backend}: {_backend_results[(backend, 'passed')]} passed, "
        f"{_backend_results[(backend, 'failed')]} failed, "
        f"{_backend_results[(backend, 'skipped')]} skipped"
        for backend in BACKENDS
    )
    terminalreporter.write_line(f"warehouse backends exercised -> {line}")


@pytest.fixture
def sqlite_warehouse(tmp_path) -> WarehouseResource:
    """For tests of source logic that does not depend on the database engine."""
    return WarehouseResource(url=f"sqlite:///{tmp_path / 'warehouse.sqlite'}")
