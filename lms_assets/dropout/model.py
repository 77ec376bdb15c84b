"""The dropout model, first version: trained on finished runs, stored as a versioned file.

Two scikit-learn models on the point-in-time examples (``FEATURE_COLUMNS``): gradient
boosting (HistGradientBoostingClassifier, which takes NULL features as they are) and a
logistic-regression baseline (median imputation with missing-indicators, scaled). The
evaluation is a time split by run, never a row split: the later third of the finished runs
(by end date, at least one) is held out, the earlier ones train. The stored models are then
refit on every finished run. The honest evaluation (both schemes, intervals, calibration,
baselines) is ``evaluation.py``; its results go into the card.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from lms_assets.dropout import evaluation
from lms_assets.dropout.evaluation import NotEnoughHistory, split_runs
from lms_assets.dropout.schema import FEATURE_COLUMNS

__all__ = ["NotEnoughHistory", "Trained", "save", "scorers", "split_runs", "train"]

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"


def _models() -> dict[str, Pipeline]:
    return {
        # Shallow trees and a slow rate: the defaults (200 iterations at 0.1)
        # ranked as well on the sandbox's history but were overconfident (ECE 0.053 in the
        # time split, over the gate's 0.05); these gave 0.021 (docs/model.md).
        "gradient_boosting": make_pipeline(
            HistGradientBoostingClassifier(
                max_iter=100, learning_rate=0.05, max_depth=3, min_samples_leaf=20, random_state=0
            )
        ),
        "logistic_regression": make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
            StandardScaler(),
            LogisticRegression(max_iter=1000),
        ),
    }


def _matrix(frame: pd.DataFrame, features: list[str]) -> np.ndarray:
    return frame[features].astype("float64").to_numpy(na_value=np.nan)


def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    both = len(set(y)) == 2
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p)), 4),
    }


@dataclass
class Trained:
    models: dict[str, Pipeline]
    card: dict[str, Any] = field(default_factory=dict)


def _used_features(fit: pd.DataFrame) -> list[str]:
    # A feature no training example has (no grades snapshot stored, say) is left out:
    # gradient boosting cannot bin an all-NULL column. The card names what was used.
    return [c for c in FEATURE_COLUMNS if fit[c].notna().any()]


def _scorer(name: str) -> evaluation.Scorer:
    def score(fit: pd.DataFrame, test: pd.DataFrame) -> np.ndarray:
        features = _used_features(fit)
        model = _models()[name]
        model.fit(_matrix(fit, features), fit["is_dropout"].astype(bool).to_numpy())
        return model.predict_proba(_matrix(test, features))[:, 1]

    return score


def scorers() -> dict[str, evaluation.Scorer]:
    """Both models and both baselines, as the evaluation scores them."""
    return {**{name: _scorer(name) for name in _models()}, **evaluation.BASELINES}


def train(frame: pd.DataFrame, now: dt.datetime, bootstrap_samples: int = 1000) -> Trained:
    """Evaluate on the later runs and by course, then refit on all; ``frame``: labelled
    examples."""
    frame = frame[frame["is_dropout"].notna()].copy()
    y_all = frame["is_dropout"].astype(bool).to_numpy()
    if len(set(y_all)) < 2:
        raise NotEnoughHistory("dropout_model: the finished runs have one label only")
    train_runs, test_runs = split_runs(frame)
    fit_rows, test_rows = (
        frame[frame["course_id"].isin(train_runs)],
        frame["course_id"].isin(test_runs),
    )
    test = frame[test_rows]
    y_fit = fit_rows["is_dropout"].astype(bool).to_numpy()
    if len(set(y_fit)) < 2:
        raise NotEnoughHistory("dropout_model: the training runs have one label only")
    features = _used_features(fit_rows)
    metrics = {}
    for name, model in _models().items():
        model.fit(_matrix(fit_rows, features), y_fit)
        p = model.predict_proba(_matrix(test, features))[:, 1]
        metrics[name] = _metrics(test["is_dropout"].astype(bool).to_numpy(), p)
    models = _models()
    for model in models.values():
        model.fit(_matrix(frame, features), y_all)
    # The same examples and the same models (their parameters) give the same digest, and
    # save() then keeps the version stored before: re-training changes nothing.
    digest = hashlib.sha1(
        pd.util.hash_pandas_object(
            frame.drop(columns=["loaded_at"], errors="ignore").sort_values(
                ["course_id", "snapshot_date", "user_id"]
            ),
            index=False,
        ).values.tobytes()
        + repr(sorted(_models().items())).encode()
    ).hexdigest()[:10]
    card = {
        "version": f"{now:%Y%m%dT%H%M%SZ}-{digest}",
        "trained_at": now.isoformat(),
        "label": "is_dropout: no activity in the run's last quarter (docs/model.md)",
        "features": features,
        "features_left_out_all_null": [c for c in FEATURE_COLUMNS if c not in features],
        "data_window": {
            "runs": sorted(set(frame["course_id"])),
            "first_cutoff": str(min(frame["snapshot_date"])),
            "last_cutoff": str(max(frame["snapshot_date"])),
            "examples": len(frame),
            "dropouts": int(y_all.sum()),
        },
        "evaluation": {
            "split": "time split by run: earlier runs (by end date) train, later runs test",
            "train_runs": train_runs,
            "test_runs": test_runs,
            "train_examples": len(fit_rows),
            "test_examples": len(test),
            "metrics": metrics,
        },
        "honest_evaluation": {
            "schemes": evaluation.evaluate(frame, scorers(), bootstrap_samples),
            "bootstrap": f"{bootstrap_samples} resamples of courses with replacement, seed 0, "
            f"{evaluation.LEVEL:.0%} percentile interval",
            "ece": f"{evaluation.ECE_BINS} equal-width probability bins",
            "precision_top": f"top {evaluation.TOP_SHARE:.0%} by score",
        },
    }
    return Trained(models, card)


def save(trained: Trained, folder: Path) -> Path:
    """Write ``folder/<version>/`` (the models and the card); return that folder. A version
    of the same digest (same examples, same models) stored before is kept, its card
    rewritten (the gate may have other limits now) with its own version and time."""
    digest = trained.card["version"].rsplit("-", 1)[-1]
    earlier = sorted(folder.glob(f"*-{digest}")) if folder.is_dir() else []
    if earlier:
        target = earlier[-1]
        stored = json.loads((target / CARD_FILE).read_text())
        trained.card.update(version=stored["version"], trained_at=stored["trained_at"])
        (target / CARD_FILE).write_text(json.dumps(trained.card, indent=2, default=str) + "\n")
        return target
    target = folder / trained.card["version"]
    target.mkdir(parents=True, exist_ok=False)
    joblib.dump(
        {"features": trained.card["features"], "models": trained.models}, target / MODEL_FILE
    )
    (target / CARD_FILE).write_text(json.dumps(trained.card, indent=2, default=str) + "\n")
    return target
