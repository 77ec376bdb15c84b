"""The dropout model's honest evaluation (issue 17 point 3): pure functions over examples.

Never a random row split. Two schemes, each scoring every test example with a model that
never saw its run (time split) or its course (leave-one-course-out):

- ``time_split``: the runs ordered by end date; the later third (at least one) is the test.
- ``leave_one_course_out``: a course is the course code of a run id
  (``course-v1:ORG+CODE+RUN`` -> ``ORG+CODE``); each course is scored by models trained on
  the other courses. Needs two courses.

Per scheme and scorer: ROC-AUC and PR-AUC (average precision) on the examples nearest 25%,
50% and 75% of the course, with 95% percentile intervals from a bootstrap that resamples
*courses* with replacement (seeded), since a course's learners are not independent; and over
all test examples the Brier score, the expected calibration error (``ECE_BINS`` equal-width
bins of the probability; the bins' gaps |observed dropout rate - mean probability|, weighted
by their share of examples) and the precision among the top ``TOP_SHARE`` by score.

The baselines are scorers too: ``days_since_last_activity`` alone (a ranking, no
probability: no Brier or ECE) and the 7-day rule (flagged = 1 when no activity in the last 7
days, a 0/1 forecast, so its Brier and ECE are those of that forecast).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from lms_assets.partitions import course_code

FRACTIONS = (0.25, 0.5, 0.75)
ECE_BINS = 10
TOP_SHARE = 0.10
LEVEL = 0.95
SERVED = "gradient_boosting"  # the model the gate judges
NOT_PROBABILITIES = frozenset({"days_since_last_activity"})

# (training examples, test examples) -> one score per test example, higher = more at risk.
Scorer = Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]


class NotEnoughHistory(ValueError):
    """Too few finished runs (or one class only) to train and evaluate honestly."""


def days_idle(frame: pd.DataFrame) -> np.ndarray:
    """days_since_last_activity; a never-active learner is idle since the run's first day."""
    since_start = (
        pd.to_datetime(frame["snapshot_date"]) - pd.to_datetime(frame["run_start"])
    ).dt.days + 1
    idle = pd.to_numeric(frame["days_since_last_activity"]).astype("float64")
    return idle.fillna(since_start.astype("float64")).to_numpy()


def seven_day_rule(frame: pd.DataFrame) -> np.ndarray:
    """1.0 when the learner had no activity in the 7 days up to the cutoff (Aspects' rule)."""
    return (days_idle(frame) >= 7).astype("float64")


BASELINES: dict[str, Scorer] = {
    "days_since_last_activity": lambda _fit, test: days_idle(test),
    "seven_day_rule": lambda _fit, test: seven_day_rule(test),
}


# --- metrics -------------------------------------------------------------------------


def roc_auc(y: np.ndarray, score: np.ndarray) -> float | None:
    """Mann-Whitney ROC-AUC (ties count half); None with one class."""
    y = np.asarray(y, dtype=bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if not positives or not negatives:
        return None
    ranks = rankdata(score)
    return float((ranks[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def average_precision(y: np.ndarray, score: np.ndarray) -> float | None:
    """PR-AUC as scikit-learn's average precision (a step per distinct score); None without
    a positive or a negative."""
    y = np.asarray(y, dtype=bool)
    if y.all() or not y.any():
        return None
    order = np.argsort(-np.asarray(score, dtype="float64"), kind="stable")
    s, hits = np.asarray(score, dtype="float64")[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each distinct score
    tps = np.cumsum(hits)[last]
    precision, recall = tps / (last + 1), tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((np.asarray(p, dtype="float64") - np.asarray(y, dtype="float64")) ** 2))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = ECE_BINS) -> float:
    """Sum over equal-width bins [0, 0.1), ..., [0.9, 1.0] of (share of examples) x
    |observed rate - mean probability|."""
    y, p = np.asarray(y, dtype="float64"), np.asarray(p, dtype="float64")
    index = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(index):
        inside = index == b
        total += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def precision_at_top(y: np.ndarray, score: np.ndarray, share: float = TOP_SHARE) -> float:
    """Dropout rate among the ceil(share x n) highest scores (ties: the earlier row first)."""
    y = np.asarray(y, dtype="float64")
    k = max(1, math.ceil(share * len(y) - 1e-9))
    return float(y[np.argsort(-np.asarray(score, dtype="float64"), kind="stable")[:k]].mean())


def clustered_interval(
    y: np.ndarray,
    score: np.ndarray,
    clusters: np.ndarray,
    metric: Callable[[np.ndarray, np.ndarray], float | None],
    samples: int,
    seed: int = 0,
    level: float = LEVEL,
) -> tuple[float | None, float | None]:
    """Percentile interval of ``metric`` over ``samples`` resamples of the *clusters* with
    replacement (all rows of a drawn cluster, as often as drawn). Resamples where the metric
    is undefined (one class) are skipped; None, None with fewer than two clusters."""
    groups = [np.flatnonzero(clusters == c) for c in pd.unique(clusters)]
    if len(groups) < 2:
        return None, None
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(samples):
        rows = np.concatenate([groups[i] for i in rng.integers(0, len(groups), len(groups))])
        value = metric(y[rows], score[rows])
        if value is not None:
            values.append(value)
    if not values:
        return None, None
    low, high = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(low), float(high)


# --- selection and schemes -------------------------------------------------------------


def nearest_fraction(frame: pd.DataFrame, target: float) -> pd.Series:
    """Per run, the examples of the cutoff whose course_fraction is nearest ``target``
    (a tie goes to the earlier cutoff)."""
    fraction = frame["course_fraction"].astype("float64")
    gap = (fraction - target).abs().round(9)
    best = gap == gap.groupby(frame["course_id"]).transform("min")
    earliest = fraction.where(best).groupby(frame["course_id"]).transform("min")
    return best & (fraction == earliest)


def split_runs(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    """(training runs, test runs): the later third of the runs by end date is the test."""
    ends = frame.groupby("course_id")["run_end"].max()
    runs = sorted(ends.index, key=lambda r: (ends[r], r))
    if len(runs) < 2:
        raise NotEnoughHistory(
            f"dropout_model needs at least 2 finished course runs with labels, has {len(runs)}"
        )
    held = max(1, len(runs) // 3)
    return runs[:-held], runs[-held:]


def folds(frame: pd.DataFrame, scheme: str) -> list[tuple[pd.Series, pd.Series]]:
    """(training mask, test mask) per fold; no fold for leave-one-course-out on one course."""
    if scheme == "time_split":
        train_runs, test_runs = split_runs(frame)
        return [(frame["course_id"].isin(train_runs), frame["course_id"].isin(test_runs))]
    courses = frame["course_id"].map(course_code)
    if courses.nunique() < 2:
        return []
    return [(courses != c, courses == c) for c in sorted(courses.unique())]


SCHEMES = ("time_split", "leave_one_course_out")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def evaluate(
    frame: pd.DataFrame, scorers: Mapping[str, Scorer], samples: int, seed: int = 0
) -> dict[str, Any]:
    """Both schemes for every scorer (models and baselines). ``frame``: labelled examples.
    Returns {scheme: {"courses", "test_examples", "skipped_folds", "by_fraction": rows,
    "overall": rows}}; a scheme without folds has ``"not_evaluated"`` saying why."""
    frame = frame.reset_index(drop=True)
    y_all = frame["is_dropout"].astype(bool).to_numpy()
    out: dict[str, Any] = {}
    for scheme in SCHEMES:
        scheme_folds = folds(frame, scheme)
        if not scheme_folds:
            out[scheme] = {"not_evaluated": "needs 2 courses, the history has 1"}
            continue
        scores = {name: np.full(len(frame), np.nan) for name in scorers}
        tested = np.zeros(len(frame), dtype=bool)
        skipped = []
        for fit_mask, test_mask in scheme_folds:
            fit, test = frame[fit_mask], frame[test_mask]
            if fit["is_dropout"].astype(bool).nunique() < 2:
                skipped.append(", ".join(sorted(set(test["course_id"]))))
                continue
            for name, scorer in scorers.items():
                scores[name][test_mask.to_numpy()] = scorer(fit, test)
            tested |= test_mask.to_numpy()
        if not tested.any():
            out[scheme] = {"not_evaluated": "every fold's training part has one label only"}
            continue
        clusters = frame["course_id"].map(course_code).to_numpy()
        by_fraction, overall = [], []
        for name in scorers:
            s = scores[name]
            for target in FRACTIONS:
                rows = tested & nearest_fraction(frame, target).to_numpy()
                y, sc, cl = y_all[rows], s[rows], clusters[rows]
                auc_low, auc_high = clustered_interval(y, sc, cl, roc_auc, samples, seed)
                pr_low, pr_high = clustered_interval(y, sc, cl, average_precision, samples, seed)
                by_fraction.append(
                    {
                        "model": name,
                        "at": f"{target:.0%}",
                        "examples": int(rows.sum()),
                        "courses": len(set(cl)),
                        "roc_auc": _round(roc_auc(y, sc)),
                        "roc_auc_low": _round(auc_low),
                        "roc_auc_high": _round(auc_high),
                        "pr_auc": _round(average_precision(y, sc)),
                        "pr_auc_low": _round(pr_low),
                        "pr_auc_high": _round(pr_high),
                    }
                )
            y, sc = y_all[tested], s[tested]
            probability = name not in NOT_PROBABILITIES
            overall.append(
                {
                    "model": name,
                    "examples": int(tested.sum()),
                    "roc_auc": _round(roc_auc(y, sc)),
                    "brier": _round(brier(y, sc)) if probability else None,
                    "ece": _round(expected_calibration_error(y, sc)) if probability else None,
                    "precision_top10": _round(precision_at_top(y, sc)),
                }
            )
        out[scheme] = {
            "courses": sorted(set(clusters[tested])),
            "test_examples": int(tested.sum()),
            "skipped_folds": skipped,
            "by_fraction": by_fraction,
            "overall": overall,
        }
    return out


def gate(
    evaluation: Mapping[str, Any], min_auc: float, max_ece: float, model: str = SERVED
) -> tuple[bool, list[str]]:
    """(passed, reasons): ``model``'s lower bound of ROC-AUC at 50% of the course and its
    ECE, in the time split and, when the history has two courses, leave-one-course-out.

    The bound resamples courses, so a time split whose later runs are of one course has
    none; when leave-one-course-out has one (every course tested), that bound stands for
    the history and the time split must reach ``min_auc`` with its AUC itself. With no
    bound in either scheme the gate fails: a single course cannot show the model carries
    over to another."""
    reasons = []
    loco = evaluation.get("leave_one_course_out", {})
    loco_bound = "not_evaluated" not in loco and any(
        r["model"] == model and r["at"] == "50%" and r["roc_auc_low"] is not None
        for r in loco.get("by_fraction", [])
    )
    for scheme in SCHEMES:
        result = evaluation.get(scheme, {})
        if "not_evaluated" in result:
            if scheme == "time_split":
                reasons.append(f"{scheme}: not evaluated ({result['not_evaluated']})")
            continue
        [half] = [r for r in result["by_fraction"] if r["model"] == model and r["at"] == "50%"]
        [whole] = [r for r in result["overall"] if r["model"] == model]
        low = half["roc_auc_low"]
        if low is None and scheme == "time_split" and loco_bound:
            auc = half["roc_auc"]
            if auc is None or auc < min_auc:
                shown = "none" if auc is None else f"{auc:.3f}"
                reasons.append(
                    f"{scheme}: AUC at 50% of the course {shown} < {min_auc:.2f} (one later "
                    "course: no interval by course; judged on the AUC itself)"
                )
        elif low is None:
            reasons.append(
                f"{scheme}: AUC at 50% of the course has no confidence bound "
                f"({half['courses']} course(s) with both labels; the interval resamples courses)"
            )
        elif low < min_auc:
            reasons.append(
                f"{scheme}: AUC at 50% of the course, lower confidence bound {low:.3f} "
                f"< {min_auc:.2f}"
            )
        if whole["ece"] > max_ece:
            reasons.append(f"{scheme}: calibration error (ECE) {whole['ece']:.3f} > {max_ece:.2f}")
    return not reasons, reasons
