"""The known truth of the sandbox's dropouts: the best score any model of the logs can give.

A finished run's learners follow the generative rule of docs/sandbox.md ("The semester"):
a latent engagement, maybe a planned dropout week, and a chance to be active each day
(``semester.active_chance``). Given what the logs show of a learner up to a cutoff (the
days they were active) and their enrolment, Bayes' rule over that model gives the
probability of the label the product trains on (no activity in the run's last quarter).
No model of the same observations ranks learners better on average: its ROC-AUC on the
examples is the best achievable, which the dropout model is measured against
(``lms_assets_tests/test_demo.py``; docs/model.md). The oracle knows the rule and each
learner's enrolment time, nothing drawn for the learner.

The posterior sums over an engagement grid and every possible last active day: the
observations up to the cutoff are independent Bernoulli days before the last day, a
certain activity on it and none after it, so cumulative log-likelihoods give each
hypothesis in one step.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from scipy.stats import beta

from lms_assets.sandbox import semester
from lms_assets.sandbox.university import (
    ENGAGEMENT_BETA,
    MEAN_DROPOUT_WEEK,
    NEVER_ACTIVE_SHARE,
    Course,
    Learner,
    dropout_chance,
)

GRID = 200  # engagement grid points (midpoints of equal-width bins of 0-1)


def _daily_chance(engagement: np.ndarray, course: Course, first: dt.date, days: int) -> np.ndarray:
    """[grid, day] chance of activity on each day from ``first``, before the last day."""
    out = np.empty((len(engagement), days))
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        week = semester.week_of(course.start, day)
        fade = (1 - semester.FADE_PER_WEEK * (1 - engagement)) ** (week - 1)
        weekday = semester.WEEKDAY_FACTOR[day.weekday()]
        out[:, offset] = np.minimum(0.95, (0.1 + 0.6 * engagement) * fade * weekday)
    return out


def _planned_week(week: int) -> float:
    """P(planned dropout week == week): 1 + floor(Exp(mean MEAN_DROPOUT_WEEK))."""
    rate = 1 / MEAN_DROPOUT_WEEK
    return math.exp(-rate * (week - 1)) - math.exp(-rate * week)


def _last_day_given_dropped(
    course: Course, learner: Learner, first: dt.date, days: int
) -> np.ndarray:
    """P(last active day == first + offset | the learner dropped out and came at all)."""
    weeks = semester.week_of(course.start, course.end)
    enrolled_week = semester.week_of(course.start, learner.enrolled_at.date())
    as_of = course.end + dt.timedelta(days=1)
    probability = np.zeros(days)
    below = sum(_planned_week(w) for w in range(1, max(1, enrolled_week) + 1))
    for week in range(max(1, enrolled_week), weeks + 1):
        chance = below if week == max(1, enrolled_week) else _planned_week(week)
        monday = course.start + dt.timedelta(weeks=week - 1)
        for weekday in range(7):
            day = min(max(monday + dt.timedelta(days=weekday), learner.enrolled_at.date()), as_of)
            day = min(day, as_of - dt.timedelta(days=1))
            offset = (day - first).days
            if 0 <= offset < days:
                probability[offset] += chance / 7
    return probability  # sums to P(planned week within the run)


def dropout_posterior(
    course: Course,
    learner: Learner,
    active_days: set[dt.date],
    cutoff: dt.date,
    label_start: dt.date,
) -> float:
    """P(no activity from ``label_start`` to the run's end | the active days up to
    ``cutoff``), under the generative rule; ``course`` is a finished run."""
    grid = (np.arange(GRID) + 0.5) / GRID
    prior = beta.pdf(grid, *ENGAGEMENT_BETA)
    prior /= prior.sum()
    first = max(course.start, learner.enrolled_at.date())
    days = (course.end - first).days + 1
    observed = (cutoff - first).days + 1  # days seen, from ``first`` to the cutoff
    active = np.array(
        [first + dt.timedelta(days=n) in active_days for n in range(max(0, observed))], bool
    )
    chance = _daily_chance(grid, course, first, days)
    log_day = np.where(
        active, np.log(chance[:, : len(active)]), np.log1p(-chance[:, : len(active)])
    )
    before = np.concatenate([np.zeros((GRID, 1)), np.cumsum(log_day, axis=1)], axis=1)
    last_dist = _last_day_given_dropped(course, learner, first, days)
    q = dropout_chance(grid) * (1 - NEVER_ACTIVE_SHARE)  # dropped and came at all
    stays = 1 - dropout_chance(grid) * last_dist.sum()  # planned beyond the run, or none
    label_offset = (label_start - first).days
    # Hypotheses with the last day on or before the cutoff: active on it, none after.
    seen_last = np.zeros(GRID)
    seen_last_dropout = np.zeros(GRID)
    active_after = np.concatenate([np.cumsum(active[::-1])[::-1][1:], [0]]) if len(active) else []
    for offset in range(len(active)):
        if not active[offset] or active_after[offset]:
            continue
        weight = q * last_dist[offset] * np.exp(before[:, offset])
        seen_last += weight
        if offset < label_offset:
            seen_last_dropout += weight
    # Hypotheses with the last day after the cutoff: every seen day is a Bernoulli draw.
    later = np.exp(before[:, len(active)])
    later_dropout = q * last_dist[len(active) : max(len(active), label_offset)].sum() * later
    later_all = (q * last_dist[len(active) :].sum() + stays) * later
    numerator = (prior * (seen_last_dropout + later_dropout)).sum()
    denominator = (prior * (seen_last + later_all)).sum()
    return float(numerator / denominator) if denominator > 0 else float("nan")
