"""H5P per-learner tables (seed 000): scores, video progress and combined progress.

One step fetches all three endpoints per learner and writes the five tables in
one transaction per course, because they describe the same learners at the
same moment and share one politeness budget. Learners are fetched
concurrently (``H5PApiResource.max_concurrency``) under the resource's rate
limit; a learner whose calls still fail after retries is recorded and skipped.
"""

import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from pydantic import Field

from lms_assets import quality
from lms_assets.errors import ReasonCode, RecordError, SourceAuthenticationError, SourceError
from lms_assets.loading import CourseLoad, load_per_course
from lms_assets.metadata import markdown_table
from lms_assets.openedx.checks import RULES
from lms_assets.openedx.parsing import (
    H5P_SOURCE,
    Parsed,
    parse_dashboard,
    parse_h5p_scores,
    parse_video_progress,
)
from lms_assets.openedx.resources import H5PApiResource
from lms_assets.openedx.schema import metadata as schema
from lms_assets.partitions import (
    Partition,
    openedx_course_daily,
    require_snapshot_days,
    scope_of,
    to_date,
)
from lms_assets.tables import publish
from lms_assets.warehouse import RejectedRecord, WarehouseResource

H5P_TABLES = (
    "h5p_scores",
    "h5p_scores_summary",
    "video_progress",
    "video_progress_summary",
    "dashboard_summary",
)
FAILURE_CHECK = "learner_failure_ratio"


def failure_rule(max_failure_ratio: float) -> quality.Rule:
    """Share of a course's learners whose H5P calls failed after retries, at most the limit."""
    return quality.ratio_at_most(
        FAILURE_CHECK,
        "Share of learners whose H5P calls failed after retries is at most max_failure_ratio "
        "(default 2%) in every course.",
        numerator="failed_count",
        denominator="learners",
        max_ratio=max_failure_ratio,
    )


class LearnerFetchConfig(dg.Config):
    """Run options of the per-learner fetch (seed 000's --max-users, failure tolerance)."""

    max_users: int | None = Field(
        default=None,
        gt=0,
        description="Fetch only the first N enrolled learners (lowest user_id) of each course, "
        "for trial runs. Unset: every learner.",
    )
    max_failure_ratio: float = Field(
        default=0.02,
        ge=0,
        le=1,
        description="The learner_failure_ratio check fails (and blocks raw_data) when more than "
        "this share of a course's learners could not be fetched.",
    )


@dataclass
class LearnerOutcome:
    user_id: int
    parsed: dict[str, Parsed] = field(
        default_factory=lambda: {table: Parsed() for table in H5P_TABLES}
    )
    errors: list[str] = field(default_factory=list)
    answered_by: str | None = None


def fetch_learner(api: H5PApiResource, partition: Partition, user_id: int) -> LearnerOutcome:
    """All H5P data of one learner. A 404 means "no data" (NULL later), not a failure."""
    outcome = LearnerOutcome(user_id)
    course = partition.course_id

    def attempt(endpoint: str, use: Any) -> bool:
        try:
            body = api.learner_data(endpoint, user_id, course)
            if body is not None:
                use(body)
            return True
        except SourceAuthenticationError:
            raise
        except (SourceError, RecordError) as exc:
            outcome.errors.append(f"{endpoint}: {exc}")
            return False

    def scores(body: dict[str, Any]) -> None:
        summary, details = parse_h5p_scores(body, partition, user_id)
        outcome.parsed["h5p_scores_summary"].add(summary)
        outcome.parsed["h5p_scores"].add(details)

    def videos(body: dict[str, Any]) -> None:
        summary, details = parse_video_progress(body, partition, user_id)
        outcome.parsed["video_progress_summary"].add(summary)
        outcome.parsed["video_progress"].add(details)

    def dashboard(answered_by: str) -> Any:
        def use(body: dict[str, Any]) -> None:
            outcome.parsed["dashboard_summary"].add(
                parse_dashboard(body, partition, user_id, answered_by)
            )
            outcome.answered_by = answered_by

        return use

    attempt("scores", scores)
    attempt("video-progress", videos)
    # The seed's rule: combined-progress first, the older dashboard endpoint when it fails.
    combined_ok = attempt("combined-progress", dashboard("combined-progress"))
    if not combined_ok and attempt("dashboard", dashboard("dashboard")):
        outcome.errors.pop()  # the fallback answered: not a failure of the learner
    return outcome


def _enrolled_learners(
    warehouse: WarehouseResource, partitions: list[Partition]
) -> dict[Partition, list[int]]:
    columns = ["course_id", "snapshot_date", "user_id"]
    frame = warehouse.read_partitions("enrollments", partitions, columns).sort_values(columns)
    learners: dict[Partition, list[int]] = {p: [] for p in partitions}
    for course_id, day, user_id in frame.itertuples(index=False):
        learners[Partition(course_id, to_date(day))].append(int(user_id))
    return learners


def _fetch_course(
    context: dg.AssetExecutionContext,
    api: H5PApiResource,
    partition: Partition,
    user_ids: list[int],
) -> CourseLoad:
    load = CourseLoad(rows={table: [] for table in H5P_TABLES})
    failed: dict[int, str] = {}
    answered_by: Counter[str] = Counter()
    outcomes: dict[int, LearnerOutcome] = {}
    done = 0
    lock = threading.Lock()
    step = max(1, len(user_ids) // 10)
    with ThreadPoolExecutor(max_workers=api.max_concurrency, thread_name_prefix="h5p") as pool:
        futures: dict[Future[LearnerOutcome], int] = {
            pool.submit(fetch_learner, api, partition, uid): uid for uid in user_ids
        }
        try:
            for future in as_completed(futures):
                outcome = future.result()
                with lock:
                    done += 1
                    if done % step == 0 or done == len(user_ids):
                        context.log.info(
                            f"{partition}: {done}/{len(user_ids)} learners fetched, "
                            f"{len(failed)} failed"
                        )
                if outcome.errors:
                    failed[outcome.user_id] = "; ".join(outcome.errors)
                if outcome.answered_by:
                    answered_by[outcome.answered_by] += 1
                outcomes[outcome.user_id] = outcome
        except SourceAuthenticationError:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    # In user_id order, so rows and rejected_records do not depend on completion order.
    for user_id in sorted(outcomes):
        for table, parsed in outcomes[user_id].parsed.items():
            parsed.into(load, table)
    for user_id, reason in sorted(failed.items()):
        context.log.warning(f"{partition}: learner {user_id} failed: {reason}")
        load.rejected.append(
            RejectedRecord(
                partition=partition,
                source=H5P_SOURCE,
                reason=f"learner {user_id}: {reason}",
                record_key=str(user_id),
                code=ReasonCode.FETCH_FAILED,
                field="user_id",
            )
        )
    load.reasons[f"{ReasonCode.FETCH_FAILED} learner"] = len(failed)
    load.info = {
        "learners": len(user_ids),
        "failed": sorted(failed),
        "failed_count": len(failed),
        "answered_by": answered_by,
    }
    return load


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            table,
            deps=["enrollments"],
            group_name="h5p",
            kinds={"api", "sql"},
            description=schema.tables[table].comment,
        )
        for table in H5P_TABLES
    ],
    check_specs=[
        *(
            spec
            for table in H5P_TABLES
            for spec in quality.check_specs(table, RULES[table], blocking=True)
        ),
        *quality.check_specs("h5p_scores_summary", [failure_rule(0.02)], blocking=True),
    ],
    partitions_def=openedx_course_daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="h5p_api",
)
def h5p_learner_progress(
    context: dg.AssetExecutionContext,
    config: LearnerFetchConfig,
    h5p_api: H5PApiResource,
    warehouse: WarehouseResource,
):
    """Fetch every enrolled learner's H5P scores, video progress and combined progress."""
    http_start = h5p_api.stats.copy()
    partitions = scope_of(context)
    require_snapshot_days(partitions, H5P_SOURCE)
    learners = _enrolled_learners(warehouse, partitions)
    empty = [str(p) for p, ids in learners.items() if not ids]
    if empty:
        raise dg.Failure(
            description="No enrollments stored for "
            + ", ".join(empty[:10])
            + ": materialize `enrollments` for these partitions first (the H5P API is asked "
            "about enrolled learners only)."
        )

    def fetch(partition: Partition) -> CourseLoad:
        user_ids = (
            learners[partition][: config.max_users] if config.max_users else learners[partition]
        )
        return _fetch_course(context, h5p_api, partition, user_ids)

    rules = {
        table: RULES[table]
        + ([failure_rule(config.max_failure_ratio)] if table == "h5p_scores_summary" else [])
        for table in H5P_TABLES
    }
    # The five tables of a course are written together or, when a gate fails, not at all.
    report = load_per_course(context, partitions, warehouse, "h5p_learner_progress", fetch, rules)
    ratios = [
        {
            "partition": str(partition),
            "learners": info["learners"],
            "failed": info["failed_count"],
            "ratio": round(info["failed_count"] / info["learners"], 4) if info["learners"] else 0.0,
            "failed_user_ids": ", ".join(map(str, info["failed"][:20])) or "-",
            "answered_by": dict(info["answered_by"]),
        }
        for partition, info in ((p, report.info[p]) for p in report.checked)
    ]
    failures_table = markdown_table(
        ratios[:50], ["partition", "learners", "failed", "ratio", "failed_user_ids", "answered_by"]
    )
    extra = {
        "learner_failures": dg.MetadataValue.md(failures_table),
        **h5p_api.stats.since(http_start).as_metadata("run_http"),
    }
    for table in H5P_TABLES:
        yield publish(context, warehouse, report, table, rules[table], extra=extra)
