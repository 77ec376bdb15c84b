"""The folder of research data packages, and which course and date each package holds.

A package is identified by course and export date: the course id its files carry,
the date its name carries. The partition (course x date) of a package's rows is
exactly that, so loading a package again replaces the same partition with the same
rows, and a newer export of the course lands under its own (newer) date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import dagster as dg
from pydantic import Field

from lms_assets.errors import SourceError
from lms_assets.partitions import Partition
from lms_assets.research_packages import readers
from lms_assets.research_packages.layout import STRUCTURE, Package, export_date, is_package
from lms_assets.research_packages.pseudonyms import Pseudonymizer

# Files whose records carry the course id, in the order we look for it.
_COURSE_ID_FILES = (
    "student_courseenrollment",
    "certificates_generatedcertificate",
    "grades_persistentcoursegrade",
    "courseware_studentmodule",
)


def course_id_of(package: Package, prefix: str) -> str | None:
    """The course id of a prefix's files: the first record's, or the course block's."""
    files = package.files.get(prefix, {})
    for table in _COURSE_ID_FILES:
        if table not in files:
            continue
        with package.open(files[table].member) as stream:
            for item in readers.read_tsv(stream, files[table].name):
                if isinstance(item, tuple) and item[1].get("course_id"):
                    return item[1]["course_id"]
    if STRUCTURE in files:
        with package.open(files[STRUCTURE].member) as stream:
            try:
                document = readers.read_json_document(stream, files[STRUCTURE].name)
            except ValueError:
                document = {}
        for block_id, block in (document if isinstance(document, dict) else {}).items():
            if isinstance(block, dict) and block.get("category") == "course":
                return readers.course_of_block(block_id)
    return None


class ResearchPackageFolderResource(dg.ConfigurableResource):
    """A folder of edX research data packages (``LMS_RESEARCH_PACKAGES_DIR``).

    Each package is a sub-folder, a ``.zip`` or a ``.tar.gz`` named with its export
    date (``MITx-2014-01-05.zip``), holding one or more courses' files. When two
    packages hold the same course on the same date (a folder and its zip), the one
    modified last is read.
    """

    path: str = Field(description="The folder holding the research data packages.")
    pseudonym_key: str | None = Field(
        default=None,
        description="Key of the keyed pseudonyms (HMAC-RIPEMD160); unset: plain RIPEMD160, "
        "bit-exact with seed 004 and MOOCdb. From LMS_PSEUDONYM_KEY (a secret).",
    )

    def packages(self) -> list[tuple[Path, dt.date | None]]:
        root = Path(self.path)
        if not root.is_dir():
            raise SourceError(f"research-package folder {root} does not exist")
        return [(p, export_date(p)) for p in sorted(root.iterdir()) if is_package(p)]

    @staticmethod
    def signature(path: Path) -> str:
        """Size and modification time of the package (of every file, for a folder)."""
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        text = ";".join(f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in files)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def courses_of(self, path: Path, day: dt.date) -> tuple[Package, dict[str, str]]:
        """The package opened, and {course id: file prefix} of the courses it holds."""
        package = Package.scan(path, day)
        courses = {}
        for prefix in package.files:
            course_id = course_id_of(package, prefix)
            if course_id is not None:
                courses.setdefault(course_id, prefix)
        return package, courses

    def find(self, partition: Partition) -> tuple[Package, str]:
        """The package and prefix holding ``partition``'s course on its date."""
        found = []
        for path, day in self.packages():
            if day != partition.day:
                continue
            package, courses = self.courses_of(path, day)
            for course_id, prefix in courses.items():
                if readers.same_course(course_id, partition.course_id or ""):
                    found.append((path.stat().st_mtime_ns, path.name, package, prefix))
        if not found:
            raise SourceError(
                f"research packages in {self.path}: no package of {partition.day} holds "
                f"course {partition.course_id!r}"
            )
        _, _, package, prefix = max(found, key=lambda item: item[:2])
        return package, prefix

    def pseudonymizer(self) -> Pseudonymizer:
        return Pseudonymizer(self.pseudonym_key)
