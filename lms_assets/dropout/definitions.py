"""The dropout model's foundation: point-in-time training examples (docs/model.md)."""

from __future__ import annotations

import dagster as dg

from lms_assets.dropout.assets import dropout_model, dropout_risk, dropout_training_set

defs = dg.Definitions(assets=[dropout_training_set, dropout_model, dropout_risk])
