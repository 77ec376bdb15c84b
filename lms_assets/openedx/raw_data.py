"""``raw_data``: one row of features and labels per enrolled learner (seed 000).

Computed set-based: one query per input table for all of a run's partitions,
then vectorised pandas, never one query per learner. Everything is "as of the
END of the partition day" and reads only that day's stored snapshots, so
recomputing a past day after later snapshots were loaded gives the same rows.
Missing source data stays NULL, never 0. Column reference: docs/raw_data.md.
"""

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import dagster as dg
import numpy as np
import pandas as pd
import sqlalchemy as sa

from lms_assets import quality, settings
from lms_assets.metadata import markdown_table
from lms_assets.partitions import DAILY_FRESHNESS, CourseDay, course_days, openedx_course_daily
from lms_assets.warehouse import WarehouseResource, partition_filter, rows_from_frame
from lms_assets.warehouse.schema import metadata as schema

KEY = ["course_id", "snapshot_date", "user_id"]
DROPOUT_AFTER_DAYS = 30  # inactive longer than this (and not active): dropout
ACTIVE_WITHIN_DAYS = 7  # active more recently than this: not a dropout
PERCENTILE_BUCKETS = (90, 75, 50, 25)  # else 10

# Input table -> {its column: raw_data column}
_INPUTS: dict[str, dict[str, str]] = {
    "enrollments": {"mode": "mode", "is_active": "is_active", "enrolled_at": "enrolled_at"},
    "mooc_grades": {
        "grade_percentage": "grade_percentage",
        "letter_grade": "letter_grade",
        "is_passed": "is_passed",
    },
    "mooc_progress": {"completion_rate": "completion_rate", "last_activity": "last_activity"},
    "mooc_discussions": {
        "threads_count": "discussion_threads_count",
        "comments_count": "discussion_comments_count",
        "total_interactions": "discussion_total_interactions",
        "questions_count": "discussion_questions_count",
        "total_upvotes": "discussion_total_upvotes",
    },
    "h5p_scores_summary": {
        "total_contents": "h5p_total_contents",
        "completed_contents": "h5p_completed_contents",
        "total_score": "h5p_total_score",
        "total_max_score": "h5p_total_max_score",
        "overall_percentage": "quiz_avg_score",
    },
    "video_progress_summary": {
        "total_videos": "video_total_videos",
        "completed_videos": "video_completed_videos",
        "total_watched_time": "video_total_watched_time",
        "overall_progress": "video_overall_progress",
    },
    "dashboard_summary": {"overall_completion": "overall_completion"},
}
LEARNER_TABLES = tuple(_INPUTS)  # the per-learner snapshot tables raw_data joins
INPUT_TABLES = (*LEARNER_TABLES, "course_stats_benchmarks", "learner_daily_activity")
_BENCHMARKS = {
    "assessment_avg_score": "course_assessment_avg_score",
    "progress_avg_completion": "course_progress_avg_completion",
}


def _read(
    warehouse: WarehouseResource,
    table_name: str,
    columns: dict[str, str],
    key: list[str],
    partitions: Sequence[CourseDay],
) -> pd.DataFrame:
    table = schema.tables[table_name]
    frame = warehouse.read_frame(
        sa.select(
            *(table.c[k] for k in key), *(table.c[c].label(n) for c, n in columns.items())
        ).where(partition_filter(table, partitions))
    )
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    return frame


TRACKING_WINDOW_DAYS = 30
TRACKING_COLUMNS = tuple(
    c.name for c in schema.tables["raw_data"].columns if c.name.startswith("tracking_")
)
_TRACKING_SUMS = {
    "events": "tracking_events",
    "video_plays": "tracking_video_plays",
    "problem_checks": "tracking_problem_checks",
    "problem_correct": "tracking_problem_correct",
}


def tracking_features(
    warehouse: WarehouseResource, partitions: Sequence[CourseDay]
) -> pd.DataFrame:
    """Behaviour from learner_daily_activity over the 30 days ending each partition day.

    Only days up to the partition day are read, so later logs never change a past
    day's features. A course with no tracking data in the window gets no rows
    (its features stay NULL); a learner of a course with data but no events, 0.
    """
    columns = list(TRACKING_COLUMNS)
    table = schema.tables["learner_daily_activity"]
    first = min(p.day for p in partitions) - dt.timedelta(days=TRACKING_WINDOW_DAYS - 1)
    daily = warehouse.read_frame(
        sa.select(table).where(
            table.c.course_id.in_(sorted({p.course_id for p in partitions})),
            table.c.snapshot_date.between(first, max(p.day for p in partitions)),
        )
    )
    if daily.empty:
        return pd.DataFrame(columns=[*KEY, *columns])
    daily["activity_date"] = pd.to_datetime(daily["snapshot_date"]).dt.date
    learners = _read(warehouse, "enrollments", {}, KEY, partitions)
    pieces = []
    for (course_id, day), group in learners.groupby(["course_id", "snapshot_date"]):
        window = daily[
            (daily["course_id"] == course_id)
            & (daily["activity_date"] <= day)
            & (daily["activity_date"] > day - dt.timedelta(days=TRACKING_WINDOW_DAYS))
        ]
        if window.empty:
            continue  # no tracking data for this course: NULL, not 0
        by_user = window.groupby("user_id")
        last_week = window[window["activity_date"] > day - dt.timedelta(days=7)]
        features = pd.DataFrame(
            {
                "tracking_active_days_30d": by_user.size(),
                "tracking_events_7d": last_week.groupby("user_id")["events"].sum(),
                "tracking_last_event_at": by_user["last_event_at"].max(),
                **{f"{name}_30d": by_user[source].sum() for source, name in _TRACKING_SUMS.items()},
            }
        )
        merged = group[KEY].merge(features, left_on="user_id", right_index=True, how="left")
        counts = [c for c in columns if c != "tracking_last_event_at"]
        merged[counts] = merged[counts].fillna(0)
        pieces.append(merged)
    return (
        pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=[*KEY, *columns])
    )


def end_of_day_utc(day: dt.date, timezone: str) -> dt.datetime:
    """Midnight after ``day`` in ``timezone``, as naive UTC: the moment raw_data is "as of"."""
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(timezone))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


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
    warehouse: WarehouseResource, partitions: Sequence[CourseDay], timezone: str | None = None
) -> pd.DataFrame:
    """The raw_data rows of ``partitions`` from the stored snapshots of the same days."""
    timezone = timezone or settings.TIMEZONE
    frame = _read(warehouse, "enrollments", _INPUTS["enrollments"], KEY, partitions)
    for table_name, columns in _INPUTS.items():
        if table_name != "enrollments":
            frame = frame.merge(
                _read(warehouse, table_name, columns, KEY, partitions), on=KEY, how="left"
            )
    benchmarks = _read(
        warehouse,
        "course_stats_benchmarks",
        _BENCHMARKS,
        ["course_id", "snapshot_date"],
        partitions,
    )
    frame = frame.merge(benchmarks, on=["course_id", "snapshot_date"], how="left")

    frame = frame.merge(tracking_features(warehouse, partitions), on=KEY, how="left")
    as_of = frame["snapshot_date"].map(lambda d: end_of_day_utc(d, timezone))
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
    def query(table: sa.Table, partitions: Sequence[CourseDay]) -> sa.Select:
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
    quality.learners_enrolled(),
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
    deps=list(INPUT_TABLES),
    partitions_def=openedx_course_daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="features",
    kinds={"sql", "pandas"},
    pool="warehouse",
    freshness_policy=DAILY_FRESHNESS,
    check_specs=quality.check_specs("raw_data", RAW_DATA_RULES, blocking=False),
)
def raw_data(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Per-learner features and pass/dropout labels, as of the end of the partition day.

    Reads only stored tables: materialize it alone to recompute features
    without calling any API (seed 000's --aggregate-only), for today or any
    past day whose snapshots were stored.
    """
    partitions = course_days(context)
    frame = compute_raw_data(warehouse, partitions)
    missing = sorted(
        {str(p) for p in partitions}
        - {
            str(CourseDay(c, d))
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
    warehouse.write(partitions, {"raw_data": rows_from_frame(frame)}, asset_name="raw_data")
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
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(frame),
            "partitions_written": len(partitions),
            "label_balance": {
                label: _balance(frame[label]) for label in ("is_passed", "is_dropout")
            },
            "per_course": dg.MetadataValue.md(markdown_table(summary[:50], shown)),
            "preview": dg.MetadataValue.md(
                markdown_table(frame.head(10).to_dict("records"), preview_columns)
            ),
        },
        check_results=quality.evaluate(warehouse, "raw_data", RAW_DATA_RULES, partitions),
    )
