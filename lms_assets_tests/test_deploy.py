"""The instance configurations we ship load and mean what docs/deploy.md says."""

import os
import shutil
import uuid
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from lms_assets.demo import LOCAL_INSTANCE_CONFIG

REPO = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "LMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _limits(instance: dg.DagsterInstance) -> tuple[str, int, int]:
    """What the daemon enforces: coordinator, pool default, run queue limit."""
    config = instance.get_concurrency_config()
    return (
        type(instance.run_coordinator).__name__,
        config.pool_config.default_pool_limit,
        config.run_queue_config.max_concurrent_runs,
    )


def test_local_instance_limits_pools_and_runs(tmp_path) -> None:
    (tmp_path / "dagster.yaml").write_text(LOCAL_INSTANCE_CONFIG)
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert _limits(instance) == ("QueuedRunCoordinator", 2, 4)
        [limit] = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert limit["key"] == "lms/source" and limit["limit"] == 2


def test_production_instance_on_postgresql(tmp_path, monkeypatch) -> None:
    name = f"lms_deploy_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {exc}")
    url = sa.engine.make_url(POSTGRES_URL)
    for key, value in {
        "DAGSTER_PG_HOST": url.host,
        "DAGSTER_PG_PORT": str(url.port),
        "DAGSTER_PG_DB": name,
        "DAGSTER_PG_USER": url.username,
        "DAGSTER_PG_PASSWORD": url.password or "",
    }.items():
        monkeypatch.setenv(key, value)
    shutil.copy(REPO / "deploy" / "dagster.yaml", tmp_path / "dagster.yaml")
    try:
        with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
            assert type(instance.run_storage).__name__ == "PostgresRunStorage"
            assert _limits(instance) == ("QueuedRunCoordinator", 2, 6)
            instance.add_dynamic_partitions("openedx_courses", ["course-v1:A+B+C"])
            assert instance.get_dynamic_partitions("openedx_courses") == ["course-v1:A+B+C"]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
