"""``dropout_training_set``: the point-in-time examples of one course run per partition."""

# No `from __future__ import annotations`: Dagster resolves the config annotation at runtime.

import datetime as dt
from pathlib import Path

import dagster as dg
import pandas as pd
import sqlalchemy as sa

from lms_assets import charts, quality, settings
from lms_assets.dropout import evaluation, model, risk
from lms_assets.dropout.examples import (
    INPUT_TABLES,
    KEY,
    CourseRun,
    build_examples,
    features_at,
    read_inputs,
)
from lms_assets.dropout.schema import metadata as schema
from lms_assets.loading import write_scope
from lms_assets.metadata import markdown_table, table_value
from lms_assets.partitions import openedx_course_daily, openedx_courses, scope_of, today
from lms_assets.tables import publish
from lms_assets.warehouse import WarehouseResource

TABLE = "dropout_training_set"


class CourseRunConfig(dg.Config):
    """The run's calendar, when the stored one (``course_runs``) is missing or wrong."""

    start: str = ""  # ISO date, the run's first day
    end: str = ""  # ISO date, the run's last day


def course_run(
    warehouse: WarehouseResource,
    course_id: str,
    config: CourseRunConfig,
    log: dg.DagsterLogManager | None = None,
) -> CourseRun:
    """The run's calendar: from ``config``; else the newest ``course_runs`` snapshot (the
    API's start and end); else, with a warning, the first and last stored log day."""
    if config.start and config.end:
        start, end = dt.date.fromisoformat(config.start), dt.date.fromisoformat(config.end)
        return CourseRun(course_id, start, end)
    calendars = schema.tables["course_runs"]
    with warehouse.engine.connect() as conn:
        stored = conn.execute(
            sa.select(calendars.c.start_date, calendars.c.end_date)
            .where(
                calendars.c.course_id == course_id,
                calendars.c.start_date.is_not(None),
                calendars.c.end_date.is_not(None),
            )
            .order_by(calendars.c.snapshot_date.desc())
            .limit(1)
        ).first()
    if stored is not None:
        return CourseRun(course_id, pd.Timestamp(stored[0]).date(), pd.Timestamp(stored[1]).date())
    activity = schema.tables["learner_daily_activity"]
    with warehouse.engine.connect() as conn:
        first, last = conn.execute(
            sa.select(
                sa.func.min(activity.c.snapshot_date), sa.func.max(activity.c.snapshot_date)
            ).where(activity.c.course_id == course_id)
        ).one()
    if first is None:
        raise dg.Failure(
            description=f"dropout {course_id}: no calendar in course_runs, no "
            "learner_daily_activity stored and none given (config start/end): nothing to "
            "build examples from."
        )
    if log is not None:
        log.warning(
            f"dropout {course_id}: no calendar in course_runs (materialize it, or give "
            f"config start/end); taking the stored log days {first}..{last} as the run"
        )
    return CourseRun(course_id, pd.Timestamp(first).date(), pd.Timestamp(last).date())


RULES = [
    quality.unique_key(KEY),
    quality.in_range(
        {
            "course_fraction": (0.0, 1.0),
            "days_since_last_activity": (0.0, None),
            "active_days_7d": (0.0, 7.0),
            "grade_at_cutoff": (0.0, 100.0),
        }
    ),
    quality.row_condition(
        "point_in_time",
        "Features read only what was stored by the cutoff (snapshot_used on or before it, "
        "activity no more than active_days), and the cutoff lies before the label window.",
        lambda t: sa.or_(
            t.c.snapshot_used > t.c.snapshot_date,
            t.c.active_days_7d > t.c.active_days,
            t.c.snapshot_date >= t.c.run_end,
        ),
    ),
]


def _label_counts(frame: pd.DataFrame) -> list[dict[str, object]]:
    rows = []
    for (week, cutoff), group in frame.groupby(["cutoff_week", "snapshot_date"]):
        rows.append(
            {
                "week": week,
                "cutoff": cutoff,
                "learners": len(group),
                "dropout": int((group["is_dropout"] == True).sum()),  # noqa: E712 - object
                "retained": int((group["is_dropout"] == False).sum()),  # noqa: E712
                "label_unknown": int(group["is_dropout"].isna().sum()),
                "passed": int((group["is_passed"] == True).sum()),  # noqa: E712
            }
        )
    return rows


@dg.asset(
    deps=[*INPUT_TABLES, "course_runs"],
    partitions_def=openedx_courses,  # a course run is an Open edX course id
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="dropout",
    kinds={"sql", "pandas"},
    pool="warehouse",
    check_specs=quality.check_specs(TABLE, RULES, blocking=True),
)
def dropout_training_set(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: CourseRunConfig
) -> dg.MaterializeResult:
    """One example per (learner, course run, weekly cutoff): features known at the cutoff,
    labels from after it (docs/model.md). Reads only stored tables."""
    scope = scope_of(context)
    if len(scope) > 1 and config.start:
        raise dg.Failure(description="a run calendar (config start/end) is for one course run")
    frames = [
        build_examples(
            warehouse,
            course_run(warehouse, p.course_id, config, context.log),
            today(),
            settings.current.dropout_last_fraction,
        )
        for p in scope
        if p.course_id is not None
    ]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    report = write_scope(warehouse, scope, {TABLE: frame}, asset_name=TABLE)
    return publish(
        context,
        warehouse,
        report,
        TABLE,
        RULES,
        extra={"per_cutoff": table_value(_label_counts(frame)[:60], _LABEL_COLUMNS)},
    )


_LABEL_COLUMNS = ["week", "cutoff", "learners", "dropout", "retained", "label_unknown", "passed"]


class DropoutModelConfig(dg.Config):
    """Where versioned models go; default ``$LMS_DATA_DIR/models/dropout``."""

    models_dir: str = ""


EVALUATED = dg.AssetCheckSpec(
    "evaluated_on_later_runs",
    asset="dropout_model",
    description="Both models have a ROC-AUC on the held-out later runs (they hold dropouts "
    "and retained learners). The quality gate of issue 17 (point 4) is quality_gate.",
)
GATE = dg.AssetCheckSpec(
    "quality_gate",
    asset="dropout_model",
    blocking=True,  # dropout_risk does not score with a model that fails it
    description="gradient_boosting's lower 95% confidence bound of ROC-AUC at 50% of the "
    "course (bootstrap by course) is at least LMS_DROPOUT_GATE_MIN_AUC and its expected "
    "calibration error at most LMS_DROPOUT_GATE_MAX_ECE, in the time split and (two courses "
    "or more) leave-one-course-out (docs/model.md).",
)

_FRACTION_COLUMNS = [
    "scheme",
    "model",
    "at",
    "examples",
    "courses",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "pr_auc",
    "pr_auc_low",
    "pr_auc_high",
]
_OVERALL_COLUMNS = ["scheme", "model", "examples", "roc_auc", "brier", "ece", "precision_top10"]


def _evaluation_metadata(schemes: dict) -> dict[str, dg.MetadataValue]:
    """The honest evaluation as two tables and a markdown summary of AUC [95% interval]."""
    by_fraction, overall, summary = [], [], []
    for scheme, result in schemes.items():
        if "not_evaluated" in result:
            summary.append({"scheme": scheme, "model": f"not evaluated: {result['not_evaluated']}"})
            continue
        by_fraction += [{"scheme": scheme, **row} for row in result["by_fraction"]]
        overall += [{"scheme": scheme, **row} for row in result["overall"]]
        for name in dict.fromkeys(r["model"] for r in result["by_fraction"]):
            cells = {"scheme": scheme, "model": name}
            for row in (r for r in result["by_fraction"] if r["model"] == name):
                low, high = row["roc_auc_low"], row["roc_auc_high"]
                interval = "" if low is None else f" [{low:.2f}, {high:.2f}]"
                auc = "NULL" if row["roc_auc"] is None else f"{row['roc_auc']:.2f}"
                cells[f"AUC at {row['at']}"] = auc + interval
            summary.append(cells)
    columns = ["scheme", "model", "AUC at 25%", "AUC at 50%", "AUC at 75%"]
    return {
        "evaluation_by_fraction": table_value(by_fraction, _FRACTION_COLUMNS),
        "evaluation_overall": table_value(overall, _OVERALL_COLUMNS),
        "evaluation_summary": dg.MetadataValue.md(markdown_table(summary, columns)),
        **_auc_chart(by_fraction),
    }


def _auc_chart(by_fraction: list[dict]) -> dict[str, dg.MetadataValue]:
    """ROC-AUC along the course, one line per scheme and model (models and baselines)."""
    series: dict[str, list[float]] = {}
    for row in by_fraction:
        if row["roc_auc"] is not None:
            series.setdefault(f"{row['scheme']}: {row['model']}", []).append(row["roc_auc"])
    fractions = list(dict.fromkeys(r["at"] for r in by_fraction))
    series = {name: auc for name, auc in series.items() if len(auc) == len(fractions)}
    if not series:
        return {}
    image = charts.lines(fractions, series, "ROC-AUC at 25/50/75% of the course", size=(5.6, 3))
    out = {"evaluation_chart": charts.metadata_image(image, "ROC-AUC along the course")}
    # At a glance, in place on the asset's page: each scorer's AUC at 50% of the course,
    # leave-one-course-out when evaluated (every course tested), else the time split.
    for scheme in ("leave_one_course_out", "time_split"):
        half = [
            r
            for r in by_fraction
            if r["scheme"] == scheme and r["at"] == "50%" and r["roc_auc"] is not None
        ]
        if half:
            glance = charts.chart_metadata(
                [_SHORT_NAMES.get(r["model"], r["model"]) for r in half],
                [r["roc_auc"] for r in half],
                f"ROC-AUC at 50% of the course ({scheme})",
            )
            return {**glance, **out}
    return out


_SHORT_NAMES = {
    "gradient_boosting": "boosting",
    "logistic_regression": "logistic",
    "days_since_last_activity": "idle days",
    "seven_day_rule": "7-day rule",
}


@dg.asset(
    deps=[dropout_training_set],
    group_name="dropout",
    kinds={"scikitlearn", "pandas"},
    pool="warehouse",
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[EVALUATED, GATE],
)
def dropout_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: DropoutModelConfig
) -> dg.MaterializeResult:
    """Gradient boosting and a logistic-regression baseline, trained on the finished runs'
    examples, evaluated on the later runs, stored as a versioned folder with a model card."""
    table = schema.tables[TABLE]
    frame = warehouse.read_frame(sa.select(table).where(table.c.is_dropout.is_not(None)))
    try:
        trained = model.train(
            frame,
            dt.datetime.now(dt.UTC).replace(microsecond=0),
            settings.current.dropout_bootstrap_samples,
        )
    except model.NotEnoughHistory as exc:
        raise dg.Failure(description=str(exc)) from None
    schemes = trained.card["honest_evaluation"]["schemes"]
    min_auc, max_ece = settings.current.dropout_gate_min_auc, settings.current.dropout_gate_max_ece
    passed, reasons = evaluation.gate(schemes, min_auc, max_ece)
    trained.card["gate"] = {
        "model": evaluation.SERVED,
        "min_auc_lower_bound_at_50": min_auc,
        "max_ece": max_ece,
        "passed": passed,
        "reasons": reasons,
    }
    folder = Path(config.models_dir or settings.current.data_dir / "models" / "dropout")
    target = model.save(trained, folder)
    card = trained.card
    metrics = [{"model": name, **values} for name, values in card["evaluation"]["metrics"].items()]
    context.log.info(f"dropout_model {card['version']} stored in {target}")
    unscored = [m["model"] for m in metrics if m["roc_auc"] is None]
    return dg.MaterializeResult(
        metadata={
            "version": card["version"],
            "path": dg.MetadataValue.path(str(target)),
            "dagster/row_count": card["data_window"]["examples"],
            "train_runs": ", ".join(card["evaluation"]["train_runs"]),
            "test_runs": ", ".join(card["evaluation"]["test_runs"]),
            "evaluation": table_value(metrics, ["model", "roc_auc", "pr_auc", "brier"]),
            **_evaluation_metadata(schemes),
            "model_card": dg.MetadataValue.json(card),
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=EVALUATED.name,
                passed=not unscored,
                metadata={
                    "test_runs": ", ".join(card["evaluation"]["test_runs"]),
                    "without_auc": ", ".join(unscored) or "none",
                },
            ),
            dg.AssetCheckResult(
                check_name=GATE.name,
                passed=passed,
                description="; ".join(reasons) or "passed",
                metadata={
                    "model": evaluation.SERVED,
                    "min_auc_lower_bound_at_50": min_auc,
                    "max_ece": max_ece,
                    "failed_because": "; ".join(reasons) or "none",
                },
            ),
        ],
    )


RISK_TABLE = "dropout_risk"
RISK_RULES = [
    quality.unique_key(KEY),
    quality.in_range({"probability": (0.0, 1.0), "course_fraction": (0.0, 1.0)}),
]
_RISK_COLUMNS = [
    "course_id",
    "snapshot_date",
    "user_id",
    "model_version",
    "course_fraction",
    "probability",
    "risk_band",
    *(f"{kind}_{k}" for k in (1, 2, 3) for kind in ("reason", "push")),
]


class DropoutRiskConfig(CourseRunConfig):
    """The run's calendar (as for dropout_training_set) and where the models are."""

    models_dir: str = ""


@dg.asset(
    deps=[dropout_model, *INPUT_TABLES, "course_runs"],
    partitions_def=openedx_course_daily,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="dropout",
    kinds={"scikitlearn", "pandas", "sql"},
    pool="warehouse",
    check_specs=quality.check_specs(RISK_TABLE, RISK_RULES, blocking=True),
)
def dropout_risk(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, config: DropoutRiskConfig
) -> dg.MaterializeResult:
    """Each active learner's dropout probability on the day (gradient boosting, the gated
    model: the newest stored version that passed quality_gate), a risk band and the three
    features that pushed the risk up most (the logistic model's coefficient x standardized
    value). A learner is active when known by the day and not unenrolled in the snapshot."""
    folder = Path(config.models_dir or settings.current.data_dir / "models" / "dropout")
    try:
        version, stored = risk.load(folder)
    except FileNotFoundError as exc:
        raise dg.Failure(description=f"dropout_risk: {exc}") from None
    scope = scope_of(context)
    frames = []
    for partition in scope:
        run = course_run(warehouse, partition.course_id, config, context.log)
        frame = features_at(run, partition.day, *read_inputs(warehouse, partition.course_id))
        if frame is None:
            continue
        frame = frame[frame["is_active"].map(lambda v: v is None or pd.isna(v) or bool(v))]
        frame = frame.assign(
            course_fraction=frame["course_fraction"].clip(0.0, 1.0), model_version=version
        )
        frames.append(frame.join(risk.score(stored, frame))[_RISK_COLUMNS])
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_RISK_COLUMNS)
    report = write_scope(warehouse, scope, {RISK_TABLE: out}, asset_name=RISK_TABLE)
    bands = out["risk_band"].value_counts().to_dict() if len(out) else {}
    return publish(
        context,
        warehouse,
        report,
        RISK_TABLE,
        RISK_RULES,
        extra={
            "model_version": version,
            "risk_bands": table_value(
                [{"band": b, "learners": int(bands.get(b, 0))} for _, b in risk.BANDS],
                ["band", "learners"],
            ),
            "highest_risk": table_value(
                out.sort_values("probability", ascending=False).head(10).to_dict("records"),
                ["course_id", "snapshot_date", "user_id", "probability", "risk_band", "reason_1"],
            ),
        },
    )
