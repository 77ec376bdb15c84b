"""raw_data never reads a partition whose stored inputs break one of their blocking checks.

A check measured after a write (``values_in_range``, ``summary_matches_detail``, ...) fails
only once the rows are stored; Dagster then skips raw_data in that run, but a later
raw_data-only run (seed 000's --aggregate-only) would read them. So before computing,
raw_data measures its inputs' SQL rules again, for its own partitions, in one query per
rule, and leaves the partitions that break one as they are. The rules that measure the
load itself (the ratio gates) need no second look: a fetch that fails them is never written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

from lms_assets import quality
from lms_assets.features.schema import metadata as schema
from lms_assets.openedx.checks import RULES
from lms_assets.openedx.features import FEATURE_DEPS
from lms_assets.partitions import Partition, to_date
from lms_assets.warehouse import WarehouseResource


def inputs_breaking_checks(
    warehouse: WarehouseResource, partitions: Sequence[Partition]
) -> dict[Partition, list[str]]:
    """{partition: ["table.check", ...]} of the partitions whose inputs break a check now."""
    broken: dict[Partition, list[str]] = defaultdict(list)
    for table_name in FEATURE_DEPS:
        table = schema.tables[table_name]
        for rule in RULES.get(table_name, []):
            # A rule that compares with a table raw_data does not read (the H5P details
            # behind summary_matches_detail) is judged when that table is loaded, not here.
            if rule.violations is None or not set(rule.reads) <= set(FEATURE_DEPS):
                continue
            violating = rule.violations(table, partitions).subquery()
            found = warehouse.read_frame(
                sa.select(violating.c.course_id, violating.c.snapshot_date).distinct()
            )
            for course_id, day in found.itertuples(index=False):
                broken[Partition(course_id, to_date(day))].append(f"{table_name}.{rule.name}")
    return dict(broken)


INPUTS_PASS_THEIR_CHECKS = quality.Rule(
    "inputs_pass_their_checks",
    "raw_data was rebuilt only from inputs that pass their checks; a partition whose inputs "
    "break one keeps its previous raw_data rows and is listed here.",
    load_violations=lambda _w, _t, partitions, load: [
        {"partition": str(p), "broken_checks": ", ".join(load.held[p])}
        for p in partitions
        if p in load.held
    ],
)
