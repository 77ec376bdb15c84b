"""Features across sources: ``raw_data``, built from what each source contributes."""

from __future__ import annotations

import dagster as dg

from lms_assets.features import raw_data

defs = dg.Definitions(assets=[raw_data.raw_data])
