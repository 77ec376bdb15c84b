"""Every research-package table's checks, declared once as ``quality.Rule`` s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from lms_assets import quality
from lms_assets.partitions import Partition
from lms_assets.warehouse import WarehouseResource

PARTITION = ("course_id", "snapshot_date")
_HEX = "0123456789abcdef"


def hash_format(*columns: str) -> quality.Rule:
    """Pseudonyms are 40 lowercase hex characters (never truncated, never clear text)."""

    def bad(table: sa.Table) -> Any:
        problems = []
        for name in columns:
            column = table.c[name]
            stripped: Any = column
            for digit in _HEX:  # what is left after removing every lowercase hex digit
                stripped = sa.func.replace(stripped, digit, "")
            problems.append(
                sa.and_(column.is_not(None), sa.or_(sa.func.length(column) != 40, stripped != ""))
            )
        return sa.or_(*problems)

    return quality.row_condition(
        "hash_format", f"{', '.join(columns)}: 40 lowercase hex characters (RIPEMD160).", bad
    )


def counts_match_file(table: str) -> quality.Rule:
    """Rows stored = records in the package's file - records refused, per partition."""

    def measure(
        warehouse: WarehouseResource, table_name: str, partitions: Sequence[Partition], load: Any
    ) -> list[dict]:
        stored = quality.row_counts(warehouse, table_name, partitions)
        found = []
        for p in partitions:
            records = load.info.get(p, {}).get(f"{table}:records", 0)
            refused = load.refused.get(table, {}).get(p, 0)
            if stored[p] != records - refused:
                found.append(
                    {
                        "partition": str(p),
                        "stored": stored[p],
                        "records": records,
                        "refused": refused,
                    }
                )
        return found

    return quality.Rule(
        "counts_match_file",
        "Rows stored equal the file's records minus those refused (kept in rejected_records).",
        load_violations=measure,
    )


def _parent_missing(table: sa.Table) -> Any:
    parent = table.alias("parent")
    present = sa.exists().where(
        parent.c.course_id == table.c.course_id,
        parent.c.snapshot_date == table.c.snapshot_date,
        parent.c.block_id == table.c.parent_id,
    )
    return sa.and_(table.c.category != "course", sa.or_(table.c.parent_id.is_(None), ~present))


def _users_present(name: str = "users_present") -> quality.Rule:
    return quality.references(
        "package_users",
        [*PARTITION, "user_id"],
        name,
        "Every row's learner is in package_users (same course and export).",
    )


RULES: dict[str, list[quality.Rule]] = {
    "package_users": [
        quality.unique_in_each_partition(["user_id"]),
        hash_format("username_hash", "name_hash"),
        quality.not_null("username_hash"),
        counts_match_file("package_users"),
    ],
    "package_enrollments": [
        quality.unique_in_each_partition(["user_id"]),
        _users_present("enrollment_users_present"),
        counts_match_file("package_enrollments"),
    ],
    "package_certificates": [
        quality.unique_in_each_partition(["user_id"]),
        quality.in_range({"grade": (0.0, 1.0)}),
        counts_match_file("package_certificates"),
    ],
    "package_course_grades": [
        quality.unique_in_each_partition(["user_id"]),
        quality.in_range({"percent_grade": (0.0, 1.0)}),
        counts_match_file("package_course_grades"),
    ],
    "courseware_modules": [
        quality.unique_in_each_partition(["user_id", "module_id"]),
        quality.row_condition(
            "grades_in_range",
            "0 <= grade <= max_grade.",
            lambda t: sa.or_(t.c.grade < 0, t.c.grade > t.c.max_grade),
        ),
        counts_match_file("courseware_modules"),
    ],
    "course_blocks": [
        quality.unique_in_each_partition(["block_id"]),
        quality.row_condition(
            "parents_present",
            "Every block but the course block has its parent in the same structure.",
            _parent_missing,
        ),
        counts_match_file("course_blocks"),
    ],
    "course_videos": [
        quality.unique_in_each_partition(["block_id"]),
        quality.references(
            "course_blocks",
            [*PARTITION, "block_id"],
            "video_blocks_present",
            "Every video is a block of the course structure.",
        ),
    ],
    "forum_posts": [
        quality.unique_in_each_partition(["post_id"]),
        hash_format("author_hash"),
        counts_match_file("forum_posts"),
    ],
}

PERSON_COURSE_RULES = [
    quality.unique_in_each_partition(["user_id"]),
    quality.in_range({"grade": (0.0, 1.0), "nchapters": (0, None)}),
    hash_format("username_hash"),
    quality.row_condition(
        "flags_consistent",
        "explored implies viewed; viewed and certified imply registered.",
        lambda t: sa.or_(
            sa.and_(t.c.explored == sa.true(), t.c.viewed == sa.false()),
            sa.and_(
                sa.or_(t.c.viewed == sa.true(), t.c.certified == sa.true()),
                t.c.registered == sa.false(),
            ),
        ),
    ),
]
