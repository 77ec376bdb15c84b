"""Scoring a day with the stored dropout model: probability, risk band and three reasons.

The probability is ``gradient_boosting``'s, the model the gate judges. The reasons are the
logistic-regression model's: its log-odds is a sum over features of coefficient x
standardized value (a feature's missing-value indicator counted with its feature), so the
three largest positive terms are the features that pushed this learner's risk up most.
Gradient boosting has no such additive reading; the two models rank alike on the
evaluation (docs/model.md), and the reasons are labelled as the logistic model's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from lms_assets.dropout.evaluation import SERVED
from lms_assets.dropout.model import CARD_FILE, MODEL_FILE

BANDS = ((0.3, "low"), (0.6, "medium"), (1.01, "high"))  # upper bound (exclusive), band
REASONS = 3


def latest_passed(folder: Path) -> Path | None:
    """The newest stored version whose card says it passed the gate (names start with the
    UTC training time, so they sort): a model that failed it is never scored with, even
    by a run that did not train it."""
    for version in sorted(folder.glob("*"), reverse=True):
        card = version / CARD_FILE
        if (
            (version / MODEL_FILE).exists()
            and card.exists()
            and json.loads(card.read_text()).get("gate", {}).get("passed") is True
        ):
            return version
    return None


def band(probability: float) -> str:
    return next(name for upper, name in BANDS if probability < upper)


def pushes(logistic: Pipeline, x: np.ndarray, features: list[str]) -> np.ndarray:
    """Per row and feature, the logistic model's coefficient x standardized value, with the
    term of the feature's missing-value indicator (if the imputer made one) added in."""
    imputer, scaler, regression = (step for _, step in logistic.steps)
    terms = scaler.transform(imputer.transform(x)) * regression.coef_[0]
    out = terms[:, : len(features)].copy()
    indicator = getattr(imputer, "indicator_", None)
    if indicator is not None:
        for k, feature_index in enumerate(indicator.features_):
            out[:, feature_index] += terms[:, len(features) + k]
    return out


def score(stored: dict[str, Any], frame: pd.DataFrame) -> pd.DataFrame:
    """``frame``: features of the learners of a day; returns probability, band, reasons."""
    features = stored["features"]
    x = frame[features].astype("float64").to_numpy(na_value=np.nan)
    probability = stored["models"][SERVED].predict_proba(x)[:, 1]
    push = pushes(stored["models"]["logistic_regression"], x, features)
    out = pd.DataFrame({"probability": probability.round(4)}, index=frame.index)
    out["risk_band"] = [band(p) for p in probability]
    order = np.argsort(-push, axis=1, kind="stable")[:, :REASONS]
    for k in range(REASONS):
        value = push[np.arange(len(push)), order[:, k]]
        up = value > 0  # only a feature that pushed the risk up is a reason
        out[f"reason_{k + 1}"] = np.where(up, np.array(features, dtype=object)[order[:, k]], None)
        out[f"push_{k + 1}"] = np.where(up, value.round(4), np.nan)
    return out


def load(folder: Path) -> tuple[str, dict[str, Any]]:
    """(version, stored models) of the newest version in ``folder`` that passed the gate."""
    target = latest_passed(folder)
    if target is None:
        raise FileNotFoundError(f"no dropout model that passed the gate is stored under {folder}")
    return target.name, joblib.load(target / MODEL_FILE)
