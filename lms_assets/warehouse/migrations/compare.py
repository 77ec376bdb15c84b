"""Differences between a database and a MetaData, worded for the operator who must fix them.

Built on ``alembic.autogenerate.compare_metadata`` (types compared), plus primary keys,
which autogenerate does not compare but every partition replace depends on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lms_assets.warehouse.schema import is_view


@dataclass(frozen=True)
class Difference:
    """One way the database differs from the expected schema."""

    kind: str  # missing table, missing column, extra column, type, nullable, comment, ...
    table: str
    column: str | None = None
    database: Any = None  # what the database has
    expected: Any = None  # what the schema says
    required: bool = False  # a missing column that is NOT NULL

    @property
    def where(self) -> str:
        return self.table if self.column is None else f"{self.table}.{self.column}"

    def describe(self, expected_by: str = "the code") -> str:
        if self.kind == "missing table":
            return f"{self.where}: table missing from the database"
        if self.kind == "missing column":
            return f"{self.where}: column missing from the database ({expected_by}: " + (
                f"{self.expected}{' NOT NULL' if self.required else ''})"
            )
        if self.kind == "extra column":
            return f"{self.where}: column {self.database} in the database, not in {expected_by}"
        return (
            f"{self.where}: {self.kind} {self.database} in the database, "
            f"{self.expected} in {expected_by}"
        )


def differences(connection: sa.Connection, metadata: sa.MetaData) -> list[Difference]:
    """How the database differs from ``metadata``, for ``metadata``'s tables only.

    Tables the metadata does not know are left out: the warehouse database may hold other
    tools' tables, which this code neither reads nor writes. alembic_version is alembic's.
    MariaDB 10.11 and SQLite reflect every type of schema.py back as an equal type (no
    alias noise), so nothing else is filtered.
    """
    ours = {name for name, table in metadata.tables.items() if not is_view(table)}

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        return type_ != "table" or name in ours

    def include_object(item: Any, name: str | None, type_: str, *_: Any) -> bool:
        return not (type_ == "table" and is_view(item))  # views: created by their migration

    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "include_name": include_name,
            "include_object": include_object,
        },
    )
    dialect = connection.dialect
    found: list[Difference] = []
    for diff in compare_metadata(context, metadata):
        for step in diff if isinstance(diff, list) else [diff]:
            found.append(_describe(step, dialect))
    inspector = sa.inspect(connection)
    present = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        keys = list(inspector.get_pk_constraint(table.name)["constrained_columns"])
        expected = [c.name for c in table.primary_key.columns]
        if keys != expected:
            pk = Difference("primary key", table.name, None, _names(keys), _names(expected))
            found.append(pk)
    return sorted(found, key=lambda d: (d.table, d.column or "", d.kind))


def _names(names: Any) -> str:
    return f"({', '.join(names)})"


def _type(type_: sa.types.TypeEngine, dialect: sa.Dialect) -> str:
    try:
        return type_.compile(dialect=dialect)
    except sa.exc.CompileError:
        return repr(type_)


def _describe(step: tuple, dialect: sa.Dialect) -> Difference:
    kind = step[0]
    if kind == "add_table":
        return Difference("missing table", step[1].name)
    if kind == "add_column":
        column = step[3]
        return Difference(
            "missing column",
            step[2],
            column.name,
            expected=_type(column.type, dialect),
            required=not column.nullable,
        )
    if kind == "remove_column":
        column = step[3]
        return Difference("extra column", step[2], column.name, _type(column.type, dialect))
    if kind in ("modify_type", "modify_nullable", "modify_comment", "modify_default"):
        _, _, table, column, _info, old, new = step
        if kind == "modify_type":
            return Difference("type", table, column, _type(old, dialect), _type(new, dialect))
        if kind == "modify_nullable":
            words = {True: "NULL", False: "NOT NULL"}
            return Difference("nullability", table, column, words[old], words[new])
        if kind == "modify_comment":
            return Difference("comment", table, column, repr(old), repr(new))
        return Difference("server default", table, column, repr(old), repr(new))
    if kind == "add_table_comment":  # (kind, table with the expected comment, existing)
        return Difference("table comment", step[1].name, None, repr(step[2]), repr(step[1].comment))
    if kind == "remove_table_comment":  # the database has a comment, the schema none
        return Difference("table comment", step[1].name, None, "a comment", "None")
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        item = step[1]  # an Index or a UniqueConstraint
        what = "index" if "index" in kind else "unique constraint"
        name = f"{item.name} {_names(c.name for c in item.columns)}"
        in_database = kind.startswith("remove")  # alembic's verb is what would make them equal
        pair = (name, "none") if in_database else ("none", name)
        return Difference(what, item.table.name, None, *pair)
    if kind in ("add_fk", "remove_fk"):
        fk = step[1]
        name = f"{fk.name} {_names(fk.column_keys)}"
        in_database = kind == "remove_fk"
        pair = (name, "none") if in_database else ("none", name)
        return Difference("foreign key", fk.parent.name, None, *pair)
    return Difference(kind, "?", None, repr(step[1:]), None)  # a kind added by a newer alembic
