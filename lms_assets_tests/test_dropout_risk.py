"""dropout_risk on both backends: the newest model that passed the gate scores each active
learner of a day, the reasons are the logistic model's coefficient x standardized value
(checked by hand), and a failing gate blocks it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import sqlalchemy as sa

from lms_assets import partitions, settings
from lms_assets.dropout import risk
from lms_assets.dropout.assets import dropout_model, dropout_risk
from lms_assets.dropout.model import CARD_FILE, _models
from lms_assets.dropout.schema import metadata as schema
from lms_assets.partitions import Partition
from lms_assets_tests.test_dropout import COURSE, load_fixture
from lms_assets_tests.test_dropout_model import SIX_RUNS, planted_examples

DAY = dt.date(2026, 1, 25)
KEY = f"{COURSE}|{DAY.isoformat()}"


def test_reasons_are_coefficient_times_standardized_value() -> None:
    # Two features, no missing value: standardized x = (x - mean) / std (population std).
    x = np.array([[0.0, 1.0], [2.0, 1.0], [4.0, 3.0], [6.0, 3.0]])
    y = np.array([0, 0, 1, 1])
    logistic = _models()["logistic_regression"].fit(x, y)
    coef = logistic.steps[-1][1].coef_[0]
    mean, std = np.array([3.0, 2.0]), np.array([np.sqrt(5.0), 1.0])
    row = np.array([[6.0, 1.0]])
    expected = (row - mean) / std * coef
    assert risk.pushes(logistic, row, ["a", "b"]) == pytest.approx(expected)
    assert [risk.band(p) for p in (0.0, 0.29, 0.3, 0.59, 0.6, 1.0)] == [
        "low",
        "low",
        "medium",
        "medium",
        "high",
        "high",
    ]


def _train(warehouse, models_dir: Path, **overrides) -> dg.ExecuteInProcessResult:
    rows = [row for run in SIX_RUNS for row in planted_examples(run)]
    warehouse.write(
        [Partition(course_id=run) for run in SIX_RUNS],
        {"dropout_training_set": rows},
        asset_name="fixture",
    )
    return dg.materialize(
        [dropout_model],
        resources={"warehouse": warehouse},
        run_config={"ops": {"dropout_model": {"config": {"models_dir": str(models_dir)}}}},
        raise_on_error=False,
    )


def _risk_config(models_dir: Path) -> dict:
    return {
        "start": "2026-01-05",
        "end": "2026-02-15",
        "models_dir": str(models_dir),
    }


def test_each_active_learner_is_scored_by_the_gated_model(
    warehouse, instance, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    assert _train(warehouse, models).success
    [version] = [p.name for p in models.iterdir()]
    load_fixture(warehouse)
    partitions.register_courses(instance, partitions.openedx_courses, [COURSE])
    result = dg.materialize(
        [dropout_risk],
        instance=instance,
        resources={"warehouse": warehouse},
        partition_key=KEY,
        run_config={"ops": {"dropout_risk": {"config": _risk_config(models)}}},
    )
    assert result.success
    table = schema.tables["dropout_risk"]
    with warehouse.engine.connect() as conn:
        rows = {r["user_id"]: dict(r) for r in conn.execute(sa.select(table)).mappings()}
    # On 25 January the 24 January snapshot is read: learner 2 is unenrolled there (not
    # active, not scored); learner 1 (active 20 January) and 3 (enrolled, never came) are.
    assert sorted(rows) == [1, 3]
    for row in rows.values():
        assert row["model_version"] == version
        assert 0.0 <= row["probability"] <= 1.0
        assert row["risk_band"] == risk.band(row["probability"])
        assert row["course_fraction"] == pytest.approx(21 / 42)
        if row["reason_1"] is not None:
            assert row["push_1"] > 0
    [materialization] = result.asset_materializations_for_node("dropout_risk")
    assert materialization.metadata["dagster/row_count"].value == 2


def test_a_model_that_failed_the_gate_never_scores(
    warehouse, instance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        settings, "current", dataclasses.replace(settings.current, dropout_gate_min_auc=1.01)
    )
    models = tmp_path / "models"
    load_fixture(warehouse)
    partitions.register_courses(instance, partitions.openedx_courses, [COURSE])
    rows = [row for run in SIX_RUNS for row in planted_examples(run)]
    warehouse.write(
        [Partition(course_id=run) for run in SIX_RUNS],
        {"dropout_training_set": rows},
        asset_name="fixture",
    )
    # In one run: the blocking gate fails, so dropout_risk does not run.
    result = dg.materialize(
        [dropout_model, dropout_risk],
        instance=instance,
        resources={"warehouse": warehouse},
        partition_key=KEY,
        run_config={
            "ops": {
                "dropout_model": {"config": {"models_dir": str(models)}},
                "dropout_risk": {"config": _risk_config(models)},
            }
        },
        raise_on_error=False,
    )
    assert result.asset_materializations_for_node("dropout_model")  # the run did train
    [gate] = [c for c in result.get_asset_check_evaluations() if c.check_name == "quality_gate"]
    assert not gate.passed
    assert not result.asset_materializations_for_node("dropout_risk")
    [card] = list(models.glob(f"*/{CARD_FILE}"))
    assert json.loads(card.read_text())["gate"]["passed"] is False
    # Alone, later: the stored model failed the gate, so there is none to score with.
    alone = dg.materialize(
        [dropout_risk],
        instance=instance,
        resources={"warehouse": warehouse},
        partition_key=KEY,
        run_config={"ops": {"dropout_risk": {"config": _risk_config(models)}}},
        raise_on_error=False,
    )
    assert not alone.success
    assert "no dropout model that passed the gate is stored under" in str(
        alone.failure_data_for_node("dropout_risk").error
    )
