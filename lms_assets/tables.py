"""The table-asset factory: what an asset extracted becomes a write, metadata and checks.

An asset body only extracts: rows, a DataFrame or Arrow for its whole scope
(:func:`write_scope`), or one load per partition (:func:`load_per_course`). Both
give a ``LoadReport``; :func:`publish` turns it into the MaterializeResult every
table shows the same way:

- per partition (``context.add_asset_metadata``): ``dagster/row_count``,
  ``rejected_records`` and ``rows_with_fields_stored_null`` of THAT partition. A batched
  run materializes many partitions at once and Dagster copies a result's metadata onto
  each of them, so run-wide figures are never put there under a per-partition name;
- run-wide, named ``run_*``: partitions written, rows, rejection reasons; the charts the
  asset drew (``chart``, ``chart_large``: charts.py); a preview (personal columns left
  out), a table of rows per partition, and the column schema taken from the table's
  definition;
- the check results of the table's rules over the partitions written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg

from lms_assets import quality
from lms_assets.loading import LoadReport
from lms_assets.metadata import column_schema, counts_table, preview
from lms_assets.warehouse.schema import metadata as schema

# add_asset_metadata checks each key against the run's whole partition range, so its
# cost grows with the square of the partitions (18 ms a call at 315 course-days, 29 s of
# the demo's 100 s backfill of the finished runs); past this many, per-partition figures
# are left out (the warehouse has them) rather than slowing a backfill down. A day's run
# of up to LMS_COURSES_PER_RUN (100) courses keeps them.
PER_PARTITION_METADATA_LIMIT = 150


def partition_metadata(
    context: dg.AssetExecutionContext,
    asset: str,
    figures: Mapping[Any, Mapping[str, Any]],
) -> bool:
    """Attach ``figures`` (partition -> metadata) to each partition's materialization."""
    if len(figures) > PER_PARTITION_METADATA_LIMIT:
        context.log.info(
            f"{asset}: {len(figures)} partitions in one run; per-partition figures are in the "
            "warehouse, not in the materialization metadata"
        )
        return False
    for partition, values in figures.items():
        context.add_asset_metadata(
            dict(values), asset_key=asset, partition_key=partition.partition_key
        )
    return True


def publish(
    context: dg.AssetExecutionContext,
    warehouse: Any,
    report: LoadReport,
    table: str,
    rules: Sequence[quality.Rule] = (),
    *,
    asset: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dg.MaterializeResult:
    """The MaterializeResult of ``table`` (asset ``asset``, default the table's name)."""
    asset = asset or table
    counts = report.rows.get(table, {})
    partition_metadata(
        context,
        asset,
        {
            p: {
                "dagster/row_count": counts.get(p, 0),
                "rejected_records": report.rejected[p],
                "rows_with_fields_stored_null": report.nulled_rows.get(table, {}).get(p, 0),
            }
            for p in report.written
        }
        | {
            # Dagster records a materialization for every partition of the run; these say
            # that nothing was replaced.
            p: {"held_previous_rows": "; ".join(failed)}
            for p, failed in report.held.items()
        },
    )
    extra = dict(extra or {})
    # The charts (charts.py) come right after the run's figures, above the long previews.
    charts = {key: extra.pop(key) for key in ("chart", "chart_large") if key in extra}
    return dg.MaterializeResult(
        asset_key=asset,
        metadata={
            "run_partitions_written": len(report.written),
            "run_partitions_held": len(report.held),
            "run_rows": report.rows_of(table),
            "run_rejected_records": sum(report.rejected.values()),
            "run_rejection_reasons": dict(report.reasons) or "none",
            # Problems of records kept with NULL in the field, apart from refused records.
            "run_fields_stored_null": sum(report.fields_nulled.values()),
            "run_fields_stored_null_reasons": dict(report.null_reasons) or "none",
            **charts,
            "preview": preview(report.samples.get(table, [])),
            "rows_per_partition": counts_table({str(p): counts.get(p, 0) for p in report.written}),
            "dagster/column_schema": column_schema(schema.tables[table]),
            **extra,
        },
        check_results=quality.evaluate(
            warehouse, table, rules, report.checked, asset=asset, load=report
        ),
    )
