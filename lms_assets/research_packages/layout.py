"""What a research data package looks like: its files' names, its courses, its date.

A package is a folder, a ``.zip`` or a ``.tar.gz`` whose name carries the export date
(``MITx-2014-01-05.zip``). Inside, each course's files share a prefix
``{org}-{course}-{run}``::

    {prefix}-{table}-{site}-analytics.sql   older exports   (site: prod or edge)
    {prefix}-{table}-{site}.sql             newer exports
    {prefix}-course_structure-{site}.json   the course's blocks
    {prefix}-{site}.mongo                   the forum, one JSON document per line
    {prefix}-course-{site}.xml.tar.gz, {org}-email_opt_in-{site}-analytics.csv  (not read)

Table names never contain ``-``, so the prefix is everything before the last
``-{table}-{site}``, whatever dashes the org, course or run hold.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_SQL = re.compile(
    r"^(?P<prefix>.+)-(?P<table>[A-Za-z0-9_]+)-(?P<site>prod|edge)(-analytics)?\.sql$"
)
_STRUCTURE = re.compile(r"^(?P<prefix>.+)-course_structure-(?P<site>prod|edge)(-analytics)?\.json$")
_MONGO = re.compile(r"^(?P<prefix>.+)-(?P<site>prod|edge)\.mongo$")
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz")
STRUCTURE = "course_structure"
FORUM = "forum"


@dataclass(frozen=True)
class PackageFile:
    """One file of a package: its course prefix, what it holds, its site, its path inside."""

    member: str  # path inside the package (folder-relative or archive member name)
    prefix: str
    table: str  # auth_user, ..., "course_structure" or "forum"
    site: str

    @property
    def name(self) -> str:
        return self.member.rsplit("/", 1)[-1]


def classify(member: str) -> PackageFile | None:
    """The PackageFile of a member name, or None for a file we do not read."""
    name = member.rsplit("/", 1)[-1]
    for pattern, table in ((_STRUCTURE, STRUCTURE), (_MONGO, FORUM), (_SQL, None)):
        match = pattern.match(name)
        if match:
            return PackageFile(
                member, match["prefix"], table or match["table"].lower(), match["site"]
            )
    return None


def export_date(path: Path) -> dt.date | None:
    """The export date in a package's name (the last YYYY-MM-DD in it)."""
    found = None
    for match in _DATE_IN_NAME.finditer(path.name):
        with contextlib.suppress(ValueError):
            found = dt.date(int(match[1]), int(match[2]), int(match[3]))
    return found


def is_package(path: Path) -> bool:
    return path.is_dir() or (path.is_file() and path.name.lower().endswith(ARCHIVE_SUFFIXES))


@dataclass
class Package:
    """An opened package: its members by course prefix; opens one member as a byte stream."""

    path: Path
    day: dt.date
    files: dict[str, dict[str, PackageFile]] = field(default_factory=dict)  # prefix -> table
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def scan(cls, path: Path, day: dt.date) -> Package:
        package = cls(path, day)
        for member in package._members():
            found = classify(member)
            if found is None:
                package.ignored.append(member)
                continue
            tables = package.files.setdefault(found.prefix, {})
            # One site per table: a prod file wins over an edge one of the same course.
            if found.table not in tables or found.site == "prod":
                tables[found.table] = found
        return package

    def _members(self) -> list[str]:
        name = self.path.name.lower()
        if self.path.is_dir():
            return sorted(
                str(p.relative_to(self.path)) for p in self.path.rglob("*") if p.is_file()
            )
        if name.endswith(".zip"):
            with zipfile.ZipFile(self.path) as archive:
                return sorted(i.filename for i in archive.infolist() if not i.is_dir())
        with tarfile.open(self.path, "r:gz") as archive:
            return sorted(m.name for m in archive.getmembers() if m.isfile())

    @contextlib.contextmanager
    def open(self, member: str) -> Iterator[IO[bytes]]:
        """``member`` as a binary stream, read from the archive without extracting it."""
        name = self.path.name.lower()
        if self.path.is_dir():
            with open(self.path / member, "rb") as stream:
                yield stream
        elif name.endswith(".zip"):
            with zipfile.ZipFile(self.path) as archive, archive.open(member) as stream:
                yield io.BufferedReader(stream, 1 << 20)
        else:
            with tarfile.open(self.path, "r:gz") as archive:
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise FileNotFoundError(f"{self.path}: {member} is not a file")
                with extracted as stream:
                    yield stream
