"""The dropout evaluation's pure functions: hand-computed metrics, the course-clustered
bootstrap, the selection at 25/50/75% of the course, the schemes, the gate, and a planted
signal the models find better than both baselines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from lms_assets.dropout import evaluation as ev
from lms_assets.dropout.model import scorers
from lms_assets.dropout.schema import FEATURE_COLUMNS
from lms_assets.partitions import course_code


def test_course_code_of_a_run_id() -> None:
    assert course_code("course-v1:UNI+M101+2025_T1") == "UNI+M101"
    assert course_code("course-v1:UNI+M101+2025_T2") == "UNI+M101"
    assert course_code("42") == "42"  # not an Open edX run id: its own course


def test_hand_computed_metrics() -> None:
    y = np.array([1, 0, 1, 0, 0])
    s = np.array([0.9, 0.8, 0.3, 0.3, 0.1])
    # Pairs (positive, negative): 0.9 beats all 3; 0.3 beats 0.1, ties 0.3 (half), loses 0.8.
    assert ev.roc_auc(y, s) == pytest.approx((3 + 1.5) / 6)
    # Steps: 0.9 -> P 1, R 1/2; 0.8 -> no new positive; 0.3 -> P 2/4, R 1: 1/2 + 1/2 x 1/2.
    assert ev.average_precision(y, s) == pytest.approx(0.75)
    assert ev.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert ev.average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    assert ev.roc_auc(np.array([1, 1]), np.array([0.2, 0.3])) is None
    assert ev.brier(y, s) == pytest.approx((0.01 + 0.64 + 0.49 + 0.09 + 0.01) / 5)


def test_expected_calibration_error_by_hand() -> None:
    # Bin [0, 0.1): two at 0.05, one dropout: |0.5 - 0.05| x 2/5 = 0.18;
    # bin [0.9, 1]: two at 0.95, both dropouts: |1 - 0.95| x 2/5 = 0.02 (1.0 falls in it too);
    # bin [0.4, 0.5): one at 0.45, retained: |0 - 0.45| x 1/5 = 0.09. Sum 0.29.
    y = np.array([0, 1, 1, 1, 0])
    p = np.array([0.05, 0.05, 0.95, 0.95, 0.45])
    assert ev.expected_calibration_error(y, p) == pytest.approx(0.29)
    assert ev.expected_calibration_error(np.array([1]), np.array([1.0])) == 0.0


def test_precision_among_the_top_ten_percent() -> None:
    # 20 examples: the top 10% is 2; the highest score is a dropout, the second is not.
    y = np.zeros(20)
    y[[0, 5]] = 1
    s = np.linspace(0.0, 0.5, 20)
    s[0], s[7], s[5] = 0.99, 0.98, 0.97
    assert ev.precision_at_top(y, s) == 0.5
    assert ev.precision_at_top(y[:11], s[:11]) == 0.5  # ceil(1.1) = 2 flagged
    assert ev.precision_at_top(y[:10], s[:10]) == 1.0  # 1 flagged


def test_the_bootstrap_resamples_courses_not_rows() -> None:
    """Course A ranks its dropout first (AUC 1), course B last (AUC 0), pooled 3/4. A course
    resample is AA, BB, AB or BA: AUC 1, 0 or 3/4 only. A row resample also gives others."""
    y = np.array([1, 0, 1, 0])
    s = np.array([0.9, 0.1, 0.2, 0.8])
    courses = np.array(["A", "A", "B", "B"])
    seen: dict[str, list[float]] = {"course": [], "row": []}

    def recorder(kind: str):
        def metric(yy: np.ndarray, ss: np.ndarray) -> float | None:
            value = ev.roc_auc(yy, ss)
            if value is not None:
                seen[kind].append(value)
            return value

        return metric

    low, high = ev.clustered_interval(y, s, courses, recorder("course"), 400, seed=1)
    ev.clustered_interval(y, s, np.arange(4), recorder("row"), 400, seed=1)
    assert set(seen["course"]) == {0.0, 0.75, 1.0}
    assert (low, high) == (0.0, 1.0)
    assert set(seen["row"]) - {0.0, 0.75, 1.0}  # e.g. 0.5: both negatives drawn as 0.8
    # One course: no interval can be drawn by course.
    assert ev.clustered_interval(y, s, np.array(["A"] * 4), ev.roc_auc, 50) == (None, None)


def test_examples_nearest_each_share_of_the_course() -> None:
    frame = pd.DataFrame(
        {
            "course_id": ["r1"] * 4 + ["r2"] * 2,
            "course_fraction": [0.2, 0.4, 0.6, 0.6, 0.45, 0.55],
        }
    )
    # r1: 0.4 and 0.6 are equally near 0.5; the earlier cutoff wins. r2: 0.45 and 0.55 tie.
    assert ev.nearest_fraction(frame, 0.5).tolist() == [False, True, False, False, True, False]
    assert ev.nearest_fraction(frame, 0.75).tolist() == [False, False, True, True, False, True]


def test_the_baselines_read_idle_days() -> None:
    frame = pd.DataFrame(
        {
            "snapshot_date": [dt.date(2025, 1, 12)] * 3,
            "run_start": [dt.date(2025, 1, 6)] * 3,
            "days_since_last_activity": [2, 7, None],
        }
    )
    # Never active: idle since the run's first day, 7 days by the cutoff.
    assert ev.days_idle(frame).tolist() == [2.0, 7.0, 7.0]
    assert ev.seven_day_rule(frame).tolist() == [0.0, 1.0, 1.0]


COURSES = ["UNI+A", "UNI+B", "UNI+C", "UNI+D"]


def planted(seed: int = 0, learners: int = 60) -> pd.DataFrame:
    """4 courses x 2 runs of 12 weeks, cutoffs at weeks 3, 6, 9 (25/50/75%). Dropout
    follows logit = -1 - 2.5 a - 2.5 b with two independent engagement traits: idle days
    reflect a only, correct problem checks reflect b only; noise on top."""
    rng = np.random.default_rng(seed)
    rows = []
    for c, course in enumerate(COURSES):
        for r, term in enumerate(("2024_T1", "2025_T1")):
            start = dt.date(2024 + r, 1, 1) + dt.timedelta(days=7 * c)
            end = start + dt.timedelta(days=83)
            a, b = rng.normal(size=learners), rng.normal(size=learners)
            dropout = rng.random(learners) < 1 / (1 + np.exp(1 + 2.5 * a + 2.5 * b))
            for week in (3, 6, 9):
                idle = np.clip(np.round(4 - 3 * a + rng.normal(0, 1, learners)), 0, 20)
                correct = np.clip(np.round(week * (3 + 2 * b) + rng.normal(0, 1, learners)), 0, 99)
                for u in range(learners):
                    row = dict.fromkeys(FEATURE_COLUMNS, 1)
                    row.update(
                        course_id=f"course-v1:{course}+{term}",
                        user_id=u,
                        snapshot_date=start + dt.timedelta(days=7 * week - 1),
                        run_start=start,
                        run_end=end,
                        course_fraction=round(7 * week / 84, 4),
                        days_since_last_activity=float(idle[u]),
                        problem_correct=float(correct[u]),
                        days_enrolled=np.nan,
                        is_active=np.nan,
                        grade_at_cutoff=np.nan,
                        is_dropout=bool(dropout[u]),
                    )
                    rows.append(row)
    return pd.DataFrame(rows)


def test_the_models_beat_both_baselines_on_a_planted_signal() -> None:
    frame = planted()
    result = ev.evaluate(frame, scorers(), samples=200)
    split = result["time_split"]
    # 8 runs: the later third (2) by end date is the test: the 2025 runs of C and D.
    assert split["courses"] == ["UNI+C", "UNI+D"]
    assert split["test_examples"] == 2 * 60 * 3
    loco = result["leave_one_course_out"]
    assert loco["courses"] == COURSES and loco["test_examples"] == len(frame)
    for scheme in (split, loco):
        half = {r["model"]: r for r in scheme["by_fraction"] if r["at"] == "50%"}
        assert {r["examples"] for r in half.values()} == {scheme["test_examples"] // 3}
        for model in ("gradient_boosting", "logistic_regression"):
            for baseline in ("days_since_last_activity", "seven_day_rule"):
                assert half[model]["roc_auc"] > half[baseline]["roc_auc"] + 0.05
            assert half[model]["roc_auc_low"] <= half[model]["roc_auc"]
            assert half[model]["roc_auc"] <= half[model]["roc_auc_high"]
        overall = {r["model"]: r for r in scheme["overall"]}
        assert overall["days_since_last_activity"]["ece"] is None  # a ranking, no probability
        assert overall["logistic_regression"]["brier"] < overall["seven_day_rule"]["brier"]
    # Leave-one-course-out: the logistic model (the right form here) is well calibrated.
    loco_overall = {r["model"]: r for r in loco["overall"]}
    assert loco_overall["logistic_regression"]["ece"] < 0.05


def test_one_course_has_no_leave_one_course_out() -> None:
    frame = planted()
    frame = frame[frame["course_id"].str.contains("UNI\\+A")]
    result = ev.evaluate(frame, ev.BASELINES, samples=20)
    assert result["leave_one_course_out"] == {"not_evaluated": "needs 2 courses, the history has 1"}
    assert result["time_split"]["courses"] == ["UNI+A"]


def _evaluation(low: float | None, ece: float) -> dict:
    scheme = {
        "by_fraction": [
            {"model": "gradient_boosting", "at": "50%", "roc_auc_low": low, "courses": 1}
        ],
        "overall": [{"model": "gradient_boosting", "ece": ece}],
    }
    return {"time_split": scheme, "leave_one_course_out": {"not_evaluated": "1 course"}}


def test_the_gate_says_which_figure_fails() -> None:
    assert ev.gate(_evaluation(0.71, 0.05), 0.70, 0.05) == (True, [])
    assert ev.gate(_evaluation(0.69, 0.01), 0.70, 0.05) == (
        False,
        ["time_split: AUC at 50% of the course, lower confidence bound 0.690 < 0.70"],
    )
    assert ev.gate(_evaluation(0.90, 0.051), 0.70, 0.05) == (
        False,
        ["time_split: calibration error (ECE) 0.051 > 0.05"],
    )
    passed, reasons = ev.gate(_evaluation(None, 0.2), 0.70, 0.05)
    assert not passed and len(reasons) == 2
    assert reasons[0].startswith("time_split: AUC at 50% of the course has no confidence bound")


def test_a_time_split_of_one_later_course_is_judged_on_its_auc_when_loco_has_a_bound() -> None:
    def scheme(auc: float, low: float | None) -> dict:
        return {
            "by_fraction": [
                {
                    "model": "gradient_boosting",
                    "at": "50%",
                    "roc_auc": auc,
                    "roc_auc_low": low,
                    "courses": 1 if low is None else 3,
                }
            ],
            "overall": [{"model": "gradient_boosting", "ece": 0.02}],
        }

    history = {"time_split": scheme(0.91, None), "leave_one_course_out": scheme(0.93, 0.92)}
    assert ev.gate(history, 0.70, 0.05) == (True, [])
    history["time_split"] = scheme(0.65, None)
    assert ev.gate(history, 0.70, 0.05) == (
        False,
        [
            "time_split: AUC at 50% of the course 0.650 < 0.70 (one later course: no interval "
            "by course; judged on the AUC itself)"
        ],
    )
    history["leave_one_course_out"] = scheme(0.93, 0.68)  # LOCO's bound is judged as ever
    passed, reasons = ev.gate(history, 0.70, 0.05)
    assert not passed and reasons[1] == (
        "leave_one_course_out: AUC at 50% of the course, lower confidence bound 0.680 < 0.70"
    )
