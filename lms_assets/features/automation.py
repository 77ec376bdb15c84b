"""When raw_data is built: once every input it declares is stored for the same day.

raw_data reads the day's Open edX snapshots AND the tracking-log tables up to that day.
The snapshots land at the Open edX schedule's hour; a day's tracking tables only after
its logs rotate (the next morning). Building raw_data in the snapshot job would store
NULL tracking features on every first run, so raw_data is not in any source's job: a
declarative automation condition requests it for a course-day when one of its inputs
changed, none is missing and none is being written, and the sensor below evaluates it.
A site without tracking logs sets ``LMS_RAW_DATA_WAITS_FOR_TRACKING=false``.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from lms_assets import settings
from lms_assets.tracking.features import FEATURE_DEPS as TRACKING_FEATURE_DEPS

# A day's tracking tables arrive the day after; a late split or a re-run a few days
# later still rebuilds raw_data of the days it changed.
LOOKBACK = dt.timedelta(days=3)


def when_every_input_is_stored() -> dg.AutomationCondition:
    missing = dg.AutomationCondition.any_deps_missing()
    if not settings.current.raw_data_waits_for_tracking:
        missing = missing.ignore(dg.AssetSelection.assets(*TRACKING_FEATURE_DEPS))
    return (
        dg.AutomationCondition.in_latest_time_window(lookback_delta=LOOKBACK)
        & (
            dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
        ).since_last_handled()
        & ~missing
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("an input changed and every input of the day is stored")


raw_data_job = dg.define_asset_job(
    "raw_data_daily",
    selection=dg.AssetSelection.assets("raw_data"),
    description="raw_data of the day, from the stored Open edX snapshots and tracking tables.",
)

raw_data_after_inputs = dg.AutomationConditionSensorDefinition(
    "raw_data_after_inputs",
    target=dg.AssetSelection.assets("raw_data"),
    minimum_interval_seconds=300,
    description="Builds raw_data for each course-day once its snapshots and tracking tables "
    "of that day are stored, and again when one of them is re-loaded.",
)
