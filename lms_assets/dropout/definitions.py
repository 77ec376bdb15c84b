"""The dropout model (docs/model.md): point-in-time examples of each course run, the model
trained on the finished runs, and each running run's daily risk scores. One job per
partitioning, in this order: examples (per course run), model (one), risk (course x day)."""

from __future__ import annotations

import dagster as dg

from lms_assets.dropout.assets import dropout_model, dropout_risk, dropout_training_set

dropout_examples = dg.define_asset_job(
    "dropout_examples",
    selection=[dropout_training_set],
    description="Point-in-time training examples of the selected course runs.",
)
dropout_training = dg.define_asset_job(
    "dropout_training",
    selection=[dropout_model],
    description="Train and evaluate the dropout model on every finished run's examples.",
)
dropout_scoring = dg.define_asset_job(
    "dropout_scoring",
    selection=[dropout_risk],
    description="Score the selected running course runs' learners on the selected days.",
)

defs = dg.Definitions(
    assets=[dropout_training_set, dropout_model, dropout_risk],
    jobs=[dropout_examples, dropout_training, dropout_scoring],
)
