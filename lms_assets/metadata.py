"""Helpers for materialization metadata people actually look at."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg
import pandas as pd
import sqlalchemy as sa

# Personal data stays out of the Dagster UI: previews drop these columns.
PERSONAL_COLUMNS = frozenset({"email", "full_name", "username", "student_code"})


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = str(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= 40 else text[:37] + "..."


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Iterable[str]) -> str:
    columns = list(columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def _plain(value: Any) -> str | int | float | bool | None:
    """A cell the UI's table shows as it is: NULL for missing (None, NaN, pandas NA)."""
    if value is None:
        return None
    if isinstance(value, bool | int | str):
        return value if not isinstance(value, str) or len(value) <= 60 else value[:57] + "..."
    if isinstance(value, float):
        return None if math.isnan(value) else value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def preview(rows: Sequence[Mapping[str, Any]], limit: int = 10) -> dg.MetadataValue:
    """First ``limit`` rows as a table the UI shows inline; personal columns and loaded_at
    left out, every missing value NULL (never a mix of nan, NaT and None)."""
    if not rows:
        return dg.MetadataValue.md("_no rows_")
    columns = [c for c in rows[0] if c not in PERSONAL_COLUMNS and c != "loaded_at"]
    return table_value(rows[:limit], columns)


def table_value(rows: Sequence[Mapping[str, Any]], columns: Iterable[str]) -> dg.MetadataValue:
    """Rows as Dagster's table metadata (rendered as a table, not behind "Show Markdown")."""
    columns = list(columns)
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: _plain(row.get(c)) for c in columns}) for row in rows],
        schema=dg.TableSchema(columns=[dg.TableColumn(c) for c in columns]),
    )


def counts_table(values: Mapping[str, int], label: str = "partition", limit: int = 50):
    """Labelled counts, largest first, as a table (a text bar chart was cut off by the UI's
    column width); past ``limit`` rows, one line says how many more."""
    if not values:
        return dg.MetadataValue.md("_nothing written_")
    shown = sorted(values.items(), key=lambda item: (-item[1], item[0]))[:limit]
    rows = [{label: name, "rows": n} for name, n in shown]
    if len(values) > limit:
        rows.append({label: f"... {len(values) - limit} more", "rows": None})
    return table_value(rows, [label, "rows"])


# The columns every partitioned table has, described once.
SHARED_COLUMNS = {
    "course_id": "the course (Open edX course key, Moodle course id) of the partition",
    "snapshot_date": "the partition's day (LMS_TIMEZONE)",
    "user_id": "the learner's user id in the LMS",
    "loaded_at": "when the row was written (UTC)",
}


def column_schema(table: sa.Table) -> dg.TableSchema:
    """The table's columns as the UI shows them: type, comment, key and nullability."""
    key = {c.name for c in table.primary_key.columns}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=str(column.type),
                description=column.comment
                or column.info.get("description")
                or SHARED_COLUMNS.get(column.name),
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable,
                    unique=False,
                    other=["primary key"] if column.name in key else [],
                ),
            )
            for column in table.columns
        ]
    )
