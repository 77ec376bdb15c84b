"""Moodle's XMLDB install files as SQLAlchemy tables (with a site's table prefix).

XMLDB types: ``int`` LENGTH 10 is BIGINT (shorter lengths map to smaller
integers), ``char`` is VARCHAR(LENGTH), ``text`` is TEXT, ``number`` is
DECIMAL(LENGTH, DECIMALS), ``float`` is FLOAT, ``binary`` is a BLOB.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import sqlalchemy as sa

SCHEMA_DIR = Path(__file__).parent / "schema"
SCHEMA_FILES = ("core_tables_install.xml", "logstore_standard_log_install.xml")


def _column_type(field: ET.Element) -> sa.types.TypeEngine:
    kind = field.get("TYPE")
    length = int(field.get("LENGTH") or 0)
    if kind == "int":
        if length >= 10:
            return sa.BigInteger()
        if length > 4:
            return sa.Integer()
        return sa.SmallInteger()
    if kind == "char":
        return sa.String(length or 255)
    if kind == "text":
        return sa.Text()
    if kind == "number":
        return sa.Numeric(length or 10, int(field.get("DECIMALS") or 0))
    if kind == "float":
        return sa.Float()
    if kind == "binary":
        return sa.LargeBinary()
    raise ValueError(f"unknown XMLDB type {kind!r} for field {field.get('NAME')}")


def _default(field: ET.Element) -> sa.TextClause | None:
    value = field.get("DEFAULT")
    if value is None:
        return None
    if field.get("TYPE") in ("int", "number", "float"):
        return sa.text(value)
    return sa.text("'" + value.replace("'", "''") + "'")


@cache
def moodle_metadata(prefix: str = "mdl_") -> sa.MetaData:
    """Every table of the shipped XMLDB files, named ``prefix + name``."""
    metadata = sa.MetaData()
    for file_name in SCHEMA_FILES:
        root = ET.parse(SCHEMA_DIR / file_name).getroot()
        for table in root.iter("TABLE"):
            name = prefix + table.get("NAME", "")
            primary = {
                f.strip()
                for key in table.iter("KEY")
                if key.get("TYPE") == "primary"
                for f in key.get("FIELDS", "").split(",")
            }
            columns = [
                sa.Column(
                    field.get("NAME"),
                    _column_type(field),
                    primary_key=field.get("NAME") in primary,
                    nullable=field.get("NOTNULL") != "true",
                    autoincrement=field.get("SEQUENCE") == "true",
                    server_default=_default(field),
                )
                for field in table.iter("FIELD")
            ]
            indexes = [
                sa.Index(
                    f"{name}_{index.get('NAME', '').replace('-', '_')}"[:64],
                    *(f.strip() for f in index.get("FIELDS", "").split(",")),
                    unique=index.get("UNIQUE") == "true",
                )
                for index in table.iter("INDEX")
            ]
            sa.Table(name, metadata, *columns, *indexes, mysql_charset="utf8mb4")
    return metadata


def moodle_table(name: str, prefix: str = "mdl_") -> sa.Table:
    return moodle_metadata(prefix).tables[prefix + name]
