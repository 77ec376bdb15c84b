"""What Open edX and H5P contribute to ``raw_data``: the learners and their snapshot figures.

Every enrolled learner of a partition is a row of raw_data; the per-learner
snapshot tables of the SAME day add their figures (NULL where a table has no row),
and the course benchmarks add the course averages the comparisons need.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import sqlalchemy as sa

from lms_assets.openedx.schema import metadata as schema
from lms_assets.partitions import Partition
from lms_assets.warehouse import WarehouseResource, partition_filter

KEY = ["course_id", "snapshot_date", "user_id"]

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
FEATURE_DEPS = (*LEARNER_TABLES, "course_stats_benchmarks")  # what raw_data reads from here
_BENCHMARKS = {
    "assessment_avg_score": "course_assessment_avg_score",
    "progress_avg_completion": "course_progress_avg_completion",
}


def read_columns(
    warehouse: WarehouseResource,
    table_name: str,
    columns: dict[str, str],
    key: list[str],
    partitions: Sequence[Partition],
) -> pd.DataFrame:
    """``key`` and ``columns`` (renamed) of a table's partitions, snapshot_date as dates."""
    table = schema.tables[table_name]
    frame = warehouse.read_frame(
        sa.select(
            *(table.c[k] for k in key), *(table.c[c].label(n) for c, n in columns.items())
        ).where(partition_filter(table, partitions))
    )
    frame["snapshot_date"] = pd.to_datetime(frame["snapshot_date"]).dt.date
    return frame


def learner_frame(warehouse: WarehouseResource, partitions: Sequence[Partition]) -> pd.DataFrame:
    """One row per enrolled learner with the snapshot figures of the same day."""
    frame = read_columns(warehouse, "enrollments", _INPUTS["enrollments"], KEY, partitions)
    for table_name, columns in _INPUTS.items():
        if table_name != "enrollments":
            frame = frame.merge(
                read_columns(warehouse, table_name, columns, KEY, partitions), on=KEY, how="left"
            )
    benchmarks = read_columns(
        warehouse,
        "course_stats_benchmarks",
        _BENCHMARKS,
        ["course_id", "snapshot_date"],
        partitions,
    )
    return frame.merge(benchmarks, on=["course_id", "snapshot_date"], how="left")
