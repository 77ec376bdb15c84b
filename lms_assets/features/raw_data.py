"""``raw_data``: one row of features and labels per enrolled learner (seed 000), across sources.

Each source contributes a feature frame from its own package (``openedx/features.py``:
the learners and their snapshot figures; ``tracking/features.py``: 30 days of
behaviour) and names the tables it reads, which become raw_data's declared asset
dependencies. This module joins the frames and derives the comparisons and labels.

Computed set-based: one query per input table for all of a run's partitions,
then vectorised pandas, never one query per learner. Everything is "as of the
END of the partition day" and reads only that day's stored snapshots, so
recomputing a past day after later snapshots were loaded gives the same rows.
Missing source data stays NULL, never 0. Column reference: docs/raw_data.md.
"""

from collections.abc import Sequence

import dagster as dg
import numpy as np
import pandas as pd
import sqlalchemy as sa

from lms_assets import charts, quality, settings
from lms_assets.features.automation import when_every_input_is_stored
from lms_assets.features.input_checks import INPUTS_PASS_THEIR_CHECKS, inputs_breaking_checks
from lms_assets.features.schema import metadata as schema
from lms_assets.loading import LoadReport, write_scope
from lms_assets.metadata import table_value
from lms_assets.openedx import features as openedx_features
from lms_assets.openedx.checks import LEARNERS_ENROLLED
from lms_assets.partitions import (
    Partition,
    Scope,
    day_window,
    openedx_course_daily,
    scope_of,
)
from lms_assets.tables import partition_metadata, publish
from lms_assets.tracking import features as tracking_features
from lms_assets.warehouse import WarehouseResource, partition_filter

KEY = ["course_id", "snapshot_date", "user_id"]
INPUT_TABLES = (*openedx_features.FEATURE_DEPS, *tracking_features.FEATURE_DEPS)
DROPOUT_AFTER_DAYS = 30  # inactive longer than this (and not active): dropout
ACTIVE_WITHIN_DAYS = 7  # active more recently than this: not a dropout
PERCENTILE_BUCKETS = (90, 75, 50, 25)  # else 10


def _ratio(part: pd.Series, whole: pd.Series) -> pd.Series:
    """100 * part / whole, rounded to 2; NULL when either is NULL or whole is 0."""
    whole = whole.astype("Float64")
    return (100 * part.astype("Float64") / whole.where(whole > 0)).round(2)


def _nullable_bool(condition: pd.Series, known: pd.Series) -> pd.Series:
    return pd.Series(
        np.where(known, condition.fillna(False).astype(bool), None),
        index=condition.index,
        dtype=object,
    ).where(known, None)


def _percentile_bucket(pct: float) -> int:
    return next((b for b in PERCENTILE_BUCKETS if pct >= b), 10)


def compute_raw_data(
    warehouse: WarehouseResource, partitions: Sequence[Partition], timezone: str | None = None
) -> pd.DataFrame:
    """The raw_data rows of ``partitions`` from the stored snapshots of the same days."""
    timezone = timezone or settings.current.timezone
    frame = openedx_features.learner_frame(warehouse, partitions)
    learners = frame[KEY]
    for contribute in (tracking_features.tracking_features,):
        frame = frame.merge(contribute(warehouse, partitions, learners), on=KEY, how="left")
    # "As of" the end of the partition day: the moment after its last second.
    as_of = frame["snapshot_date"].map(lambda d: day_window(d, timezone)[1])
    as_of = pd.to_datetime(as_of)
    frame["enrolled_at"] = pd.to_datetime(frame["enrolled_at"])
    # The latest sign of life: the progress export's, or a later tracking-log event.
    frame["last_activity"] = pd.concat(
        [pd.to_datetime(frame["last_activity"]), pd.to_datetime(frame["tracking_last_event_at"])],
        axis=1,
    ).max(axis=1)
    days_enrolled = np.floor((as_of - frame["enrolled_at"]).dt.total_seconds() / 86400)
    frame["weeks_since_enrollment"] = (days_enrolled / 7).round(2)
    days_inactive = np.floor((as_of - frame["last_activity"]).dt.total_seconds() / 86400)
    frame["days_since_last_activity"] = days_inactive.astype("Int64")

    frame["h5p_completion_rate"] = _ratio(
        frame["h5p_completed_contents"], frame["h5p_total_contents"]
    )
    frame["video_completion_rate"] = _ratio(
        frame["video_completed_videos"], frame["video_total_videos"]
    )

    grade = frame["grade_percentage"].astype("Float64")
    course_avg = frame["course_assessment_avg_score"].astype("Float64")
    frame["relative_to_course_problem_score"] = (grade - course_avg).round(2)
    frame["relative_to_course_completion"] = (
        frame["completion_rate"].astype("Float64")
        - frame["course_progress_avg_completion"].astype("Float64")
    ).round(2)
    frame["is_below_course_average"] = _nullable_bool(
        grade < course_avg, grade.notna() & course_avg.notna()
    )

    # Rank among the course's graded learners: share strictly below, ties share a rank.
    groups = frame.groupby(["course_id", "snapshot_date"])["grade_percentage"]
    below = groups.rank(method="min") - 1
    graded = groups.transform("count")
    pct = 100 * below / graded
    frame["performance_percentile"] = pct.map(
        lambda p: pd.NA if pd.isna(p) else _percentile_bucket(p)
    ).astype("Int64")
    frame["is_top_performer"] = _nullable_bool(pct >= 75, pct.notna())
    frame["is_bottom_performer"] = _nullable_bool(pct < 25, pct.notna())

    active = frame["is_active"]
    active_known = active.notna()
    is_active = active.where(active_known, False).astype(bool)
    days_known = days_inactive.notna()
    dropout = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    not_dropout = (active_known & is_active) | (days_known & (days_inactive < ACTIVE_WITHIN_DAYS))
    is_dropout = (active_known & ~is_active) & days_known & (days_inactive > DROPOUT_AFTER_DAYS)
    dropout[not_dropout] = False
    dropout[is_dropout] = True
    frame["is_dropout"] = dropout

    for column in schema.tables["raw_data"].columns:
        if column.name not in frame:
            continue
        if isinstance(column.type, sa.Integer):
            frame[column.name] = pd.to_numeric(frame[column.name]).round().astype("Int64")
        elif isinstance(column.type, sa.Boolean):
            frame[column.name] = (
                frame[column.name]
                .map(lambda v: None if v is None or pd.isna(v) else bool(v))
                .astype(object)
            )
    ordered = [c.name for c in schema.tables["raw_data"].columns if c.name != "loaded_at"]
    return frame[ordered].sort_values(KEY, ignore_index=True)


def _every_enrollment_has_a_row() -> quality.Rule:
    def query(table: sa.Table, partitions: Sequence[Partition]) -> sa.Select:
        enrollments = schema.tables["enrollments"]
        has_row = sa.exists().where(
            table.c.course_id == enrollments.c.course_id,
            table.c.snapshot_date == enrollments.c.snapshot_date,
            table.c.user_id == enrollments.c.user_id,
        )
        return sa.select(enrollments.c.course_id, enrollments.c.user_id).where(
            partition_filter(enrollments, partitions), ~has_row
        )

    return quality.Rule(
        "every_enrollment_has_a_row", "One raw_data row for every enrolled learner.", query
    )


RAW_DATA_RULES = [
    quality.unique_key(KEY),
    _every_enrollment_has_a_row(),
    LEARNERS_ENROLLED,
    quality.in_range(
        {
            **{
                c: (0.0, 100.0)
                for c in (
                    "h5p_completion_rate",
                    "video_completion_rate",
                    "quiz_avg_score",
                    "grade_percentage",
                    "completion_rate",
                    "overall_completion",
                )
            },
            "days_since_last_activity": (0.0, None),
            "weeks_since_enrollment": (0.0, None),
        }
    ),
    *tracking_features.FEATURE_RULES,
    quality.row_condition(
        "dropout_label_consistent",
        "is_dropout is true only for inactive learners idle for more than 30 days.",
        lambda t: sa.and_(
            t.c.is_dropout.is_(True),
            sa.or_(t.c.is_active.is_(True), t.c.days_since_last_activity <= DROPOUT_AFTER_DAYS),
        ),
    ),
]


def _histogram(values: pd.Series) -> str:
    """Ten-bucket grade histogram as block characters (0-10 ... 90-100)."""
    counts = np.histogram(values.dropna().astype(float), bins=10, range=(0, 100))[0]
    peak = counts.max() or 1
    return "".join(" ▁▂▃▄▅▆▇█"[round(8 * c / peak)] for c in counts)


def _balance(labels: pd.Series) -> dict[str, int]:
    return {
        "true": int((labels == True).sum()),  # noqa: E712 - object dtype with None
        "false": int((labels == False).sum()),  # noqa: E712
        "null": int(labels.isna().sum()),
    }


def grade_charts(frame: pd.DataFrame) -> dict[str, dg.MetadataValue]:
    """The run's grade distribution, learners per 10-point bucket, as UI charts."""
    grades = frame["grade_percentage"].dropna().astype(float) if len(frame) else pd.Series()
    if grades.empty:
        return {"chart": dg.MetadataValue.md("_no grades: no chart_")}
    counts = np.histogram(grades, bins=10, range=(0, 100))[0]
    labels = [str(10 * i) for i in range(10)]  # each bucket's lower bound
    title = f"grade_percentage of {len(grades)} learners, per 10 points"
    return charts.chart_metadata(labels, [int(c) for c in counts], title)


def label_summary(frame: pd.DataFrame) -> list[dict[str, object]]:
    rows = []
    for (course_id, day), group in frame.groupby(["course_id", "snapshot_date"]):
        rows.append(
            {
                "course": course_id,
                "date": day,
                "learners": len(group),
                "passed": int((group["is_passed"] == True).sum()),  # noqa: E712 - object dtype
                "failed": int((group["is_passed"] == False).sum()),  # noqa: E712
                "pass_unknown": int(group["is_passed"].isna().sum()),
                "dropout": int((group["is_dropout"] == True).sum()),  # noqa: E712
                "retained": int((group["is_dropout"] == False).sum()),  # noqa: E712
                "dropout_unknown": int(group["is_dropout"].isna().sum()),
                "mean_grade": round(float(group["grade_percentage"].astype(float).mean()), 1)
                if group["grade_percentage"].notna().any()
                else None,
                "grades_0_to_100": _histogram(group["grade_percentage"]),
            }
        )
    return rows


@dg.asset(
    deps=list(INPUT_TABLES),  # every table a contributing source's feature frame reads
    partitions_def=openedx_course_daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="features",
    kinds={"sql", "pandas"},
    pool="warehouse",
    automation_condition=when_every_input_is_stored(),
    check_specs=quality.check_specs(
        "raw_data", [*RAW_DATA_RULES, INPUTS_PASS_THEIR_CHECKS], blocking=False
    ),
)
def raw_data(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Per-learner features and pass/dropout labels, as of the end of the partition day.

    Reads only stored tables: materialize it alone to recompute features
    without calling any API (the old script's --aggregate-only), for today or any
    past day whose snapshots were stored.
    """
    scope = scope_of(context)
    held = inputs_breaking_checks(warehouse, scope)
    for partition, checks in held.items():
        context.log.warning(
            f"raw_data {partition}: inputs break {', '.join(checks)}; not rebuilt, its "
            "previous rows stay"
        )
    partitions = Scope(p for p in scope if p not in held)
    frame = (
        compute_raw_data(warehouse, partitions)
        if partitions
        else pd.DataFrame(columns=[c.name for c in schema.tables["raw_data"].columns])
    )
    missing = sorted(
        {str(p) for p in partitions}
        - {
            str(Partition(c, d))
            for c, d in frame[["course_id", "snapshot_date"]]
            .drop_duplicates()
            .itertuples(index=False)
        }
    )
    if missing:
        context.log.warning(
            f"No enrollments stored for {len(missing)} partition(s) ({', '.join(missing[:5])}): "
            "their raw_data is empty."
        )
    report = (
        write_scope(warehouse, partitions, {"raw_data": frame}, asset_name="raw_data")
        if partitions
        else LoadReport()
    )
    report.held = held
    summary = label_summary(frame)
    shown = [
        "course",
        "date",
        "learners",
        "passed",
        "failed",
        "pass_unknown",
        "dropout",
        "retained",
        "dropout_unknown",
        "mean_grade",
        "grades_0_to_100",
    ]
    preview_columns = [
        "course_id",
        "user_id",
        "grade_percentage",
        "completion_rate",
        "days_since_last_activity",
        "performance_percentile",
        "is_passed",
        "is_dropout",
    ]
    partition_metadata(
        context,
        "raw_data",
        {
            Partition(course_id, day): {
                "label_balance": {
                    label: _balance(group[label]) for label in ("is_passed", "is_dropout")
                }
            }
            for (course_id, day), group in frame.groupby(["course_id", "snapshot_date"])
        },
    )
    return publish(
        context,
        warehouse,
        report,
        "raw_data",
        [*RAW_DATA_RULES, INPUTS_PASS_THEIR_CHECKS],
        extra={
            **grade_charts(frame),
            "per_course": table_value(summary[:50], shown),
            "preview": table_value(frame.head(10).to_dict("records"), preview_columns),
        },
    )
