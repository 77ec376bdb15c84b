"""The ``lms_assets`` code location: every source's definitions, merged, and shared policy.

A source is one package (``openedx/``, ``moodle/``, ``tracking/``, ``features/``) whose
``definitions.py`` exports ``defs`` with its assets, checks, jobs, schedules, sensors
and resources, and whose ``schema.py`` puts its tables on the shared MetaData. Adding
a source is one line in ``SOURCE_PACKAGES``. What holds for every asset (the daily freshness
policy) is applied here, once.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import dagster as dg

from lms_assets import partitions, settings
from lms_assets.metadata import column_schema
from lms_assets.notifications import email_daily_summary, email_on_run_failure
from lms_assets.notifications import resources as notification_resources
from lms_assets.warehouse import WarehouseResource
from lms_assets.warehouse.schema import registered_metadata

# One line per source package; each has definitions.py with `defs` (and `resources(config)`).
SOURCE_PACKAGES = [
    "lms_assets.openedx",
    "lms_assets.moodle",
    "lms_assets.tracking",
    "lms_assets.research_packages",
    "lms_assets.lti",
    "lms_assets.features",
    "lms_assets.dropout",
    "lms_assets.reports",
]
SOURCES: list[ModuleType] = [
    importlib.import_module(f"{package}.definitions") for package in SOURCE_PACKAGES
]


def shared_resources(config: settings.Settings) -> dict[str, dg.ConfigurableResource]:
    """The resources every source uses: the warehouse and the notifier."""
    return {
        "warehouse": WarehouseResource(
            url=config.warehouse_url_field(),
            batch_size=config.warehouse_batch_size,
            parallel_writes=config.warehouse_parallel_writes,
        ),
        **notification_resources(config),
    }


def build_resources(config: settings.Settings | None = None) -> dict[str, object]:
    """Every resource the code location wires, from ``config`` (default: the environment's).

    The demo and the CLI call it after changing the environment, to get the same
    resources the code location would have.
    """
    config = config or settings.current
    built: dict[str, object] = dict(shared_resources(config))
    for source in SOURCES:
        if hasattr(source, "resources"):
            built.update(source.resources(config))
    return built


def with_shared_policy(spec: dg.AssetSpec) -> dg.AssetSpec:
    """What every asset carries: the daily freshness policy (at most a day, plus the run's
    own time, old), its owners, and, for a table, its columns with their descriptions (the
    schema module knows them; the UI shows them before anything ran)."""
    table = registered_metadata().tables.get(spec.key.to_user_string())
    extra = {"dagster/column_schema": column_schema(table)} if table is not None else {}
    return spec.replace_attributes(
        freshness_policy=partitions.DAILY_FRESHNESS,
        owners=list(settings.current.asset_owners) or spec.owners,
    ).merge_attributes(metadata=extra)


def merged_definitions(config: settings.Settings | None = None) -> dg.Definitions:
    """Every source's definitions and the shared sensors and resources, policy applied.

    ``config`` (default: the environment's when the code location loaded) builds the
    resources; the demo passes the settings that point at its sandbox.
    """
    merged = dg.Definitions.merge(
        *(source.defs for source in SOURCES),
        dg.Definitions(sensors=[email_on_run_failure, email_daily_summary]),
    )
    return dg.Definitions(
        assets=dg.map_asset_specs(with_shared_policy, merged.assets or []),
        asset_checks=merged.asset_checks,
        jobs=merged.jobs,
        schedules=merged.schedules,
        sensors=merged.sensors,
        resources=build_resources(config),
    )


defs = merged_definitions()
