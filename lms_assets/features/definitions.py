"""Features across sources: ``raw_data``, built from what each source contributes."""

from __future__ import annotations

import dagster as dg

from lms_assets.features import raw_data
from lms_assets.features.automation import raw_data_after_inputs, raw_data_job

defs = dg.Definitions(
    assets=[raw_data.raw_data], jobs=[raw_data_job], sensors=[raw_data_after_inputs]
)
