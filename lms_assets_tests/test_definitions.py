"""The code location as Dagster loads it."""

import dagster as dg

from lms_assets import partitions
from lms_assets.definitions import defs


def test_code_location_loads_with_every_asset_checked() -> None:
    graph = defs.resolve_asset_graph()
    enrollments = dg.AssetKey("enrollments")
    assert enrollments in graph.get_all_asset_keys()
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == enrollments}
    assert checks == {
        "user_id_unique",
        "user_id_not_null",
        "row_count_matches_api_total",
        "row_count_matches_records_served",
        "rejection_ratio",
    }
    for key in graph.get_all_asset_keys():
        assert any(c.asset_key == key for c in graph.asset_check_keys), f"{key} has no checks"


def test_enrollments_is_course_by_day_partitioned_and_backfills_in_one_run() -> None:
    assets_def = defs.resolve_assets_def("enrollments")
    assert assets_def.partitions_def == partitions.openedx_course_daily
    assert assets_def.backfill_policy == dg.BackfillPolicy.single_run()
    assert assets_def.node_def.pool == "openedx_api"


def test_secrets_come_from_the_environment() -> None:
    api = defs.resources["openedx_api"]
    assert api.session_id == dg.EnvVar("LMS_OPENEDX_SESSION_ID")
    assert api.base_url == dg.EnvVar("LMS_OPENEDX_BASE_URL")


def test_every_asset_is_fresh_daily_pooled_and_backfills_in_one_run() -> None:
    graph = defs.resolve_asset_graph()
    pools = set()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.freshness_policy == partitions.DAILY_FRESHNESS, key
        assert node.backfill_policy == dg.BackfillPolicy.single_run(), key
        pools.add(node.pools and next(iter(node.pools)))
    assert pools == {"openedx_api", "h5p_api", "moodle_db", "warehouse"}


def test_automation_is_registered() -> None:
    assert {s.name for s in defs.schedules} == {
        "openedx_daily_schedule",
        "moodle_daily_schedule",
        "lti_daily_schedule",
    }
    assert {s.name for s in defs.sensors} == {
        "openedx_course_discovery",
        "moodle_course_discovery",
        "email_on_run_failure",
        "email_daily_summary",
        "tracking_log_files",
        "raw_data_after_inputs",
        "tracking_courses_after_split",
        "research_package_files",
        "lti_course_discovery",
        "lti_report_after_daily",
    }


def test_demo_runs_belong_to_this_code_location(instance) -> None:
    """A run executed in process gets the origin of workspace.yaml's location, so the UI's
    Overview timeline and Jobs page list it under its job."""
    from pathlib import Path

    import yaml

    from lms_assets.automation import attach_to_code_location

    workspace = yaml.safe_load((Path(__file__).parents[1] / "workspace.yaml").read_text())
    [location] = workspace["load_from"]

    @dg.op
    def nothing() -> None:
        pass

    @dg.job
    def a_job() -> None:
        nothing()

    result = a_job.execute_in_process(instance=instance)
    attach_to_code_location(instance, result.run_id)

    run = instance.get_run_by_id(result.run_id)
    assert run.remote_job_origin.repository_origin.get_label() == (
        f"__repository__@{location['python_module']['location_name']}"
    )
    assert run.tags[".dagster/repository"] == run.remote_job_origin.repository_origin.get_label()


def test_every_job_sensor_and_schedule_says_what_it_does_in_the_users_words() -> None:
    described = [*defs.jobs, *defs.sensors, *defs.schedules]
    assert [d.name for d in described if not d.description] == []
    assert [d.name for d in described if "seed 00" in d.description.lower()] == []
