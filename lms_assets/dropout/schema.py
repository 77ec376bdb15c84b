"""``dropout_training_set``: point-in-time examples for the dropout model (docs/model.md).

One row per (course run, weekly cutoff, learner). ``snapshot_date`` is the cutoff: the last
day whose data the features read. The label columns come only from after it.
"""

from __future__ import annotations

import sqlalchemy as sa

from lms_assets.warehouse.schema import Real, partitioned_table, user_id_column
from lms_assets.warehouse.schema import metadata as metadata  # the shared MetaData, re-exported


def _described(name: str, kind: sa.types.TypeEngine | type, description: str) -> sa.Column:
    return sa.Column(name, kind, info={"description": description})


# The model's inputs, in this order; all known at the end of the cutoff day.
FEATURE_COLUMNS = (
    "course_fraction",
    "days_enrolled",
    "is_active",
    "active_days",
    "active_days_7d",
    "events",
    "events_7d",
    "events_prev_7d",
    "active_minutes",
    "video_plays",
    "problem_checks",
    "problem_correct",
    "forum_posts",
    "days_since_last_activity",
    "grade_at_cutoff",
)

dropout_training_set = partitioned_table(
    "dropout_training_set",
    user_id_column(),
    _described("run_start", sa.Date, "first day of the course run"),
    _described("run_end", sa.Date, "last day of the course run"),
    _described("cutoff_week", sa.Integer, "the cutoff is the last day of this run week (1-based)"),
    _described("course_fraction", Real, "share of the run's days elapsed at the cutoff, 0-1"),
    _described(
        "snapshot_used",
        sa.Date,
        "day of the latest enrollments snapshot stored on or before the cutoff; NULL: none",
    ),
    _described("days_enrolled", sa.Integer, "days from enrolment to the cutoff; NULL: unknown"),
    _described("is_active", sa.Boolean, "enrolment active in snapshot_used; NULL: no snapshot"),
    _described("active_days", sa.Integer, "days with tracking activity up to the cutoff"),
    _described("active_days_7d", sa.Integer, "days with activity in the 7 days to the cutoff"),
    _described("events", sa.Integer, "tracking events up to the cutoff"),
    _described("events_7d", sa.Integer, "events in the 7 days to the cutoff"),
    _described("events_prev_7d", sa.Integer, "events in the 7 days before those"),
    _described("active_minutes", Real, "active minutes up to the cutoff"),
    _described("video_plays", sa.Integer, "video plays up to the cutoff"),
    _described("problem_checks", sa.Integer, "problem checks up to the cutoff"),
    _described("problem_correct", sa.Integer, "correct problem checks up to the cutoff"),
    _described("forum_posts", sa.Integer, "forum posts up to the cutoff"),
    _described(
        "days_since_last_activity",
        sa.Integer,
        "days from the last active day to the cutoff day; NULL: never active",
    ),
    _described(
        "grade_at_cutoff",
        Real,
        "grade (%) in the latest grades snapshot stored on or before the cutoff; NULL: none",
    ),
    _described(
        "is_dropout",
        sa.Boolean,
        "label: no activity in the run's last quarter (LMS_DROPOUT_LAST_FRACTION); "
        "NULL while the run is not over",
    ),
    _described(
        "is_passed",
        sa.Boolean,
        "label: is_passed of the first grades snapshot stored on or after the run's end; "
        "NULL without one",
    ),
    comment="Point-in-time dropout examples: features as of each weekly cutoff, labels from "
    "after it (docs/model.md)",
)

dropout_risk = partitioned_table(
    "dropout_risk",
    user_id_column(),
    _described("model_version", sa.String(64), "the dropout_model version that scored"),
    _described("course_fraction", Real, "share of the run's days elapsed on the day, 0-1"),
    _described(
        "probability",
        Real,
        "gradient_boosting's probability of dropping out, 0-1 (the gated model)",
    ),
    _described("risk_band", sa.String(8), "low (< 0.3), medium (< 0.6) or high"),
    *(
        _described(
            f"reason_{k}",
            sa.String(64),
            f"the feature with the {('largest', 'second', 'third')[k - 1]} push up on the logistic "
            "model's log-odds (coefficient x standardized value); NULL: fewer pushed it up",
        )
        for k in (1, 2, 3)
    ),
    *(_described(f"push_{k}", Real, f"reason_{k}'s push on the log-odds") for k in (1, 2, 3)),
    comment="Dropout risk of each active learner on a day: probability, band and the three "
    "features that pushed it most (docs/model.md)",
)
