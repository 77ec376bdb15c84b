"""The sandbox's semester: its calendar, and the one rule that says how likely a learner is
to be active on a day.

Every log source (tracking logs, Moodle's log, LTI attempts) asks :func:`active_chance`
for a learner and a day and throws its own dice, so the three show the same weekly rhythm
(busy before Friday's deadline, quiet weekends), the same fading of weak learners and the
same dropouts: no source has an event of a learner after their last active day. The
generative rule, latent engagement and planned dropout week included, is documented in
docs/sandbox.md ("The semester").
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lms_assets.sandbox.university import Learner

# The running term started on the Monday ELAPSED_WEEKS weeks before the as-of week: the
# as-of day falls in week ELAPSED_WEEKS + 1, so weeks 1-10 are complete history.
ELAPSED_WEEKS = 10
TERM_WEEKS = (12, 15)  # each course's running run lasts this many weeks (by seed)
# The previous term, whose finished run of each course code lasts as long as its running
# one: it started this many weeks before the running term, so even a 15-week run ended
# two weeks before the running term began (a break without course activity).
PREVIOUS_TERM_WEEKS_BEFORE = TERM_WEEKS[1] + 2
DEADLINE_WEEKDAY = 4  # Friday: each week's exercises are due at 23:59
# Monday..Sunday: rising to the deadline, quiet weekends.
WEEKDAY_FACTOR = (1.0, 1.0, 1.1, 1.3, 1.5, 0.5, 0.4)
FADE_PER_WEEK = 0.06  # a learner of engagement 0 is 6% less likely to come each week


def semester_start(today: dt.date) -> dt.date:
    """The first day (a Monday) of the running term as of ``today``."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday - dt.timedelta(weeks=ELAPSED_WEEKS)


def history_start(today: dt.date) -> dt.date:
    """The first day (a Monday) of the previous term: the sandbox's first day of logs."""
    return semester_start(today) - dt.timedelta(weeks=PREVIOUS_TERM_WEEKS_BEFORE)


def week_of(start: dt.date, day: dt.date) -> int:
    """The term week (1-based) ``day`` falls in; 0 or less before the term."""
    return (day - start).days // 7 + 1


def active_chance(learner: Learner, day: dt.date, start: dt.date) -> float:
    """The chance that ``learner`` does anything in the course on ``day``.

    0 before the enrolment or the term and after the last active day (a dropout's last
    day lies in their dropout week); 1 on that last day, so every source's last event of
    the learner falls on it; otherwise ``(0.1 + 0.6 * engagement)`` faded by
    ``(1 - FADE_PER_WEEK * (1 - engagement)) ** (week - 1)`` and scaled by the weekday.
    """
    last = learner.last_activity
    if last is None or day > last.date() or day < max(learner.enrolled_at.date(), start):
        return 0.0
    if day == last.date():
        return 1.0
    engagement = learner.engagement
    fade = (1 - FADE_PER_WEEK * (1 - engagement)) ** (week_of(start, day) - 1)
    return min(0.95, (0.1 + 0.6 * engagement) * fade * WEEKDAY_FACTOR[day.weekday()])


def released_share(start: dt.date, end: dt.date, day: dt.date) -> float:
    """The share of a course's content released by ``day``: one more week's worth each
    Monday, so problems and videos appear in the logs week after week."""
    weeks = max(1, week_of(start, end))
    return min(1.0, max(1, week_of(start, day)) / weeks)
