"""The ``lms_assets`` code location: every asset, check, resource and job in one place."""

from __future__ import annotations

import dagster as dg

from lms_assets.openedx import assets as openedx_assets
from lms_assets.openedx import h5p_assets, raw_data
from lms_assets.resources import build_resources

all_assets = dg.load_assets_from_modules([openedx_assets, h5p_assets, raw_data])

defs = dg.Definitions(
    assets=all_assets,
    resources=build_resources(),
)
