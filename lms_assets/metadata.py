"""Helpers for materialization metadata people actually look at."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg

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


def preview(rows: Sequence[Mapping[str, Any]], limit: int = 10) -> dg.MetadataValue:
    """First ``limit`` rows as a markdown table, personal columns and loaded_at left out."""
    if not rows:
        return dg.MetadataValue.md("_no rows_")
    columns = [c for c in rows[0] if c not in PERSONAL_COLUMNS and c != "loaded_at"]
    return dg.MetadataValue.md(markdown_table(rows[:limit], columns))
