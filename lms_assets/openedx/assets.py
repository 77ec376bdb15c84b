"""Open edX custom API assets (seed 000), course × date partitioned snapshots.

``enrollments`` comes first: every per-learner table is checked against it.
The three course exports share one definition (``_export_asset``);
``course_stats_benchmarks`` reads the stats endpoints and falls back to our
own tables when they fail.
"""

import json
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from lms_assets import quality
from lms_assets.errors import ReasonCode, RecordError, SourceAuthenticationError, SourceError
from lms_assets.loading import CourseLoad, load_per_course
from lms_assets.metadata import markdown_table
from lms_assets.openedx.checks import RULES
from lms_assets.openedx.parsing import (
    MOOC_SOURCE,
    Parsed,
    Parser,
    parse_discussion,
    parse_enrollment,
    parse_grade,
    parse_progress,
    parse_records,
    records_at,
)
from lms_assets.openedx.resources import OpenEdxApiResource, encode_course_id
from lms_assets.openedx.schema import metadata as schema
from lms_assets.partitions import (
    Partition,
    openedx_course_daily,
    require_snapshot_days,
    scope_of,
    to_date,
)
from lms_assets.records import as_float, as_int
from lms_assets.tables import partition_metadata, publish
from lms_assets.warehouse import WarehouseResource, partition_filter

SNAPSHOT_ASSET = {
    "partitions_def": openedx_course_daily,
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "pool": "openedx_api",
    "group_name": "openedx",
    "kinds": {"api", "sql"},
}


@dg.asset(
    check_specs=quality.check_specs("enrollments", RULES["enrollments"], blocking=True),
    **SNAPSHOT_ASSET,
)
def enrollments(
    context: dg.AssetExecutionContext,
    openedx_api: OpenEdxApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Learners enrolled in each course run, as the API reports them today.

    All pages (limit/offset) are fetched before the course's partition is
    replaced, so a failed fetch never leaves half a course behind.
    """
    http_start = openedx_api.stats.copy()
    partitions = scope_of(context)
    require_snapshot_days(partitions, f"{MOOC_SOURCE} (course-enrollments-attributes)")

    def fetch(partition: Partition) -> CourseLoad:
        parsed, total, served = Parsed(), 0, 0
        for page in openedx_api.iter_enrollment_pages(partition.course_id):
            total = page.reported_total
            served += len(page.records)
            parse_records(
                page.records,
                parse_enrollment,
                partition,
                source=MOOC_SOURCE,
                first_index=page.offset,
                parsed=parsed,
            )
        # Both totals, because either can be wrong: the API's count, and what its pages served.
        info = {"api_total": total, "records_served": served}
        return parsed.into(CourseLoad({}, info=info), "enrollments")

    report = load_per_course(
        context, partitions, warehouse, "enrollments", fetch, {"enrollments": RULES["enrollments"]}
    )
    partition_metadata(
        context,
        "enrollments",
        {
            p: {
                "api_reported_total": report.info[p]["api_total"],
                "api_records_served": report.info[p]["records_served"],
            }
            for p in report.written
        },
    )
    return publish(
        context,
        warehouse,
        report,
        "enrollments",
        RULES["enrollments"],
        extra={
            "warehouse": warehouse.display_url,
            **openedx_api.stats.since(http_start).as_metadata("run_http"),
        },
    )


def _export_asset(
    name: str, endpoint: str, path: tuple[str, ...], parser: Parser, description: str
) -> dg.AssetsDefinition:
    """A course-level export (one GET per course, a list of learner records) as a table."""

    @dg.asset(
        name=name,
        deps=["enrollments"],
        description=description,
        check_specs=quality.check_specs(name, RULES[name], blocking=True),
        **SNAPSHOT_ASSET,
    )
    def export(
        context: dg.AssetExecutionContext,
        openedx_api: OpenEdxApiResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        http_start = openedx_api.stats.copy()
        partitions = scope_of(context)
        require_snapshot_days(partitions, f"{MOOC_SOURCE} (export/{endpoint})")

        def fetch(partition: Partition) -> CourseLoad:
            what = f"{MOOC_SOURCE} export/{endpoint} for {partition.course_id}"
            body = openedx_api.get_json(
                f"export/{endpoint}/{encode_course_id(partition.course_id)}/"
            )
            parsed = parse_records(
                records_at(body, path, what), parser, partition, source=MOOC_SOURCE
            )
            return parsed.into(CourseLoad({}), name)

        report = load_per_course(context, partitions, warehouse, name, fetch, {name: RULES[name]})
        return publish(
            context,
            warehouse,
            report,
            name,
            RULES[name],
            extra=openedx_api.stats.since(http_start).as_metadata("run_http"),
        )

    return export


mooc_grades = _export_asset(
    "mooc_grades",
    "student-grades",
    ("grade_data", "grade_table"),
    parse_grade,
    "Each learner's course grade (export/student-grades): grade_percentage, letter, passed.",
)
mooc_progress = _export_asset(
    "mooc_progress",
    "student-progress",
    ("progress_data", "students"),
    parse_progress,
    "Where each learner is in the course and when they were last active (export/student-progress).",
)
mooc_discussions = _export_asset(
    "mooc_discussions",
    "student-discussions",
    ("discussion_data", "students"),
    parse_discussion,
    "Each learner's forum activity (export/student-discussions).",
)


# -- course_stats_benchmarks --------------------------------------------------------------------
_PERCENTILES = (10, 25, 50, 75, 90)
_STATS = {
    # figure: (endpoint, where the figure sits in its body)
    "activity_avg_score": ("activity", ("summary", "avg_activity_score")),
    "assessment_avg_score": ("assessment", ("summary", "avg_score")),
    "progress_avg_completion": ("progress", ("summary", "avg_completion")),
}


def _own_figures(
    warehouse: WarehouseResource, partitions: list[Partition]
) -> dict[Partition, dict]:
    """Course averages, student counts and grade percentiles computed from our own tables."""
    figures: dict[Partition, dict[str, Any]] = {p: {} for p in partitions}

    def per_partition(table_name: str, label: str, aggregate: Any) -> None:
        table = schema.tables[table_name]
        frame = warehouse.read_frame(
            sa.select(table.c.course_id, table.c.snapshot_date, aggregate(table).label(label))
            .where(partition_filter(table, partitions))
            .group_by(table.c.course_id, table.c.snapshot_date)
        )
        for course_id, day, value in frame.itertuples(index=False):
            key = Partition(course_id, to_date(day))
            figures[key][label] = None if pd.isna(value) else round(float(value), 2)

    per_partition(
        "h5p_scores_summary", "activity_avg_score", lambda t: sa.func.avg(t.c.overall_percentage)
    )
    per_partition(
        "mooc_grades", "assessment_avg_score", lambda t: sa.func.avg(t.c.grade_percentage)
    )
    per_partition(
        "mooc_progress", "progress_avg_completion", lambda t: sa.func.avg(t.c.completion_rate)
    )
    per_partition("enrollments", "total_students", lambda t: sa.func.count())

    grades_table = schema.tables["mooc_grades"]
    grades = warehouse.read_frame(
        sa.select(
            grades_table.c.course_id, grades_table.c.snapshot_date, grades_table.c.grade_percentage
        ).where(
            partition_filter(grades_table, partitions), grades_table.c.grade_percentage.is_not(None)
        )
    )
    for (course_id, day), group in grades.groupby(["course_id", "snapshot_date"]):
        values = group["grade_percentage"].astype(float)
        key = Partition(course_id, to_date(day))
        for q in _PERCENTILES:
            figures[key][f"grade_p{q}"] = round(float(values.quantile(q / 100)), 2)
        buckets = [0] * 10
        for value in values:
            buckets[min(int(value // 10), 9)] += 1
        figures[key]["grade_distribution"] = [
            {"range": f"{10 * i}-{10 * i + 10}", "count": n} for i, n in enumerate(buckets)
        ]
    return figures


def _figure(body: Any, path: tuple[str, ...]) -> float | None:
    node = body
    for step in path[:-1]:
        if not isinstance(node, dict):
            raise RecordError(ReasonCode.WRONG_SHAPE, step, f"'{step}' is missing")
        node = node.get(step)
    if not isinstance(node, dict):
        raise RecordError(ReasonCode.WRONG_SHAPE, path[-2], f"'{path[-2]}' is missing")
    return as_float(node, path[-1], minimum=0, maximum=100)


@dg.asset(
    deps=["enrollments", "mooc_grades", "mooc_progress", "h5p_scores_summary"],
    check_specs=quality.check_specs(
        "course_stats_benchmarks", RULES["course_stats_benchmarks"], blocking=True
    ),
    **SNAPSHOT_ASSET,
)
def course_stats_benchmarks(
    context: dg.AssetExecutionContext,
    openedx_api: OpenEdxApiResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Course averages for comparing each learner with the course.

    From the stats endpoints (activity ``days=90&group_by=day``, assessment,
    progress); when one fails, its figure is computed from our own tables of the
    same day and the ``*_source`` column says ``computed``. Grade percentiles
    always come from ``mooc_grades``.
    """
    http_start = openedx_api.stats.copy()
    partitions = scope_of(context)
    require_snapshot_days(partitions, f"{MOOC_SOURCE} (stats)")
    own = _own_figures(warehouse, partitions)

    def fetch(partition: Partition) -> CourseLoad:
        course = encode_course_id(partition.course_id)
        computed = own[partition]
        row: dict[str, Any] = {
            "course_id": partition.course_id,
            "snapshot_date": partition.day,
            "total_students": computed.get("total_students", 0),
            **{f"grade_p{q}": computed.get(f"grade_p{q}") for q in _PERCENTILES},
        }
        distribution = computed.get("grade_distribution")
        for figure, (endpoint, path) in _STATS.items():
            source = figure.split("_")[0] + "_source"
            params = {"days": 90, "group_by": "day"} if endpoint == "activity" else None
            try:
                body = openedx_api.get_json(f"stats/{endpoint}/{course}/", params=params)
                row[figure], row[source] = _figure(body, path), "api"
                if endpoint == "assessment" and isinstance(body.get("grade_distribution"), list):
                    distribution = body["grade_distribution"]
                if endpoint == "activity":
                    total = as_int(body.get("summary") or {}, "total_students")
                    row["total_students"] = total if total is not None else row["total_students"]
            except SourceAuthenticationError:
                raise
            except (SourceError, RecordError) as exc:
                context.log.warning(
                    f"{partition}: stats/{endpoint} unusable ({exc}); {figure} computed from "
                    "our own tables instead"
                )
                row[figure], row[source] = computed.get(figure), "computed"
        row["grade_distribution"] = None if distribution is None else json.dumps(distribution)
        return CourseLoad({"course_stats_benchmarks": [row]})

    report = load_per_course(context, partitions, warehouse, "course_stats_benchmarks", fetch)
    stored = warehouse.read_partitions("course_stats_benchmarks", report.written)
    shown = [
        "course_id",
        "activity_avg_score",
        "activity_source",
        "assessment_avg_score",
        "assessment_source",
        "progress_avg_completion",
        "progress_source",
        "total_students",
    ]
    sources = [c for c in shown if c.endswith("_source")]
    computed = (stored[sources] == "computed").sum(axis=1)
    partition_metadata(
        context,
        "course_stats_benchmarks",
        {
            Partition(row.course_id, to_date(row.snapshot_date)): {"computed_figures": int(n)}
            for row, n in zip(stored.itertuples(index=False), computed, strict=True)
        },
    )
    return publish(
        context,
        warehouse,
        report,
        "course_stats_benchmarks",
        RULES["course_stats_benchmarks"],
        extra={
            "benchmarks": dg.MetadataValue.md(
                markdown_table(stored[shown].head(50).to_dict("records"), shown)
            ),
            **openedx_api.stats.since(http_start).as_metadata("run_http"),
        },
    )
