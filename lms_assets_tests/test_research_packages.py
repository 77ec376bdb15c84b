"""edX research data packages (seed 004): a hand-made package holding every quirk.

lms_assets_tests/fixtures/research_package/HarvardX-2026-03-02/ was written by hand (see
the figures below): a course whose file names use both forms (-analytics.sql and .sql),
course ids in both forms, i4x:// and block-v1: ids, raw CRs in profile free text,
escaped \\t \\\\ and a literal \\r\\n, a NUL byte, a BOM on the structure JSON, and an
edge course whose files are header-only. Every figure asserted here was counted by hand.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tarfile
import zipfile
from pathlib import Path

import dagster as dg
import pytest

from lms_assets import quality
from lms_assets.partitions import Partition
from lms_assets.research_packages.assets import (
    person_course,
    research_package_courses,
    research_package_tables,
)
from lms_assets.research_packages.checks import RULES
from lms_assets.research_packages.pseudonyms import ripemd160_hex
from lms_assets.research_packages.readers import read_tsv, unescape
from lms_assets.research_packages.resources import ResearchPackageFolderResource
from lms_assets.research_packages.schema import PACKAGE_TABLES

FIXTURE = Path(__file__).parent / "fixtures" / "research_package" / "HarvardX-2026-03-02"
COURSE = "course-v1:HarvardX+QK-101+2026_T1"
EMPTY_COURSE = "course-v1:HarvardX+EMPTY+2026"
DAY = dt.date(2026, 3, 2)

# Per table: rows stored (records in the file minus refused).
STORED = {
    "package_users": 5,  # 8 lines: x7 (not an integer), a second id 2, a 3-field line refused
    "package_enrollments": 5,  # 7: another course's row and one without user_id refused
    "package_certificates": 3,  # grade 1.7 is out of range: stored NULL, the row kept
    "package_course_grades": 4,
    "courseware_modules": 8,  # 10: a second (3, p1) and "not-an-id" refused
    "course_blocks": 14,  # 15 blocks: the orphan refused
    "course_videos": 1,
    "forum_posts": 3,  # 5 lines: a truncated one and a Subscription refused
}
REJECTED = {
    ("not_an_integer", "id"): 1,
    ("duplicate_key", "user_id"): 1,
    ("wrong_shape", None): 2,  # the 3-field auth_user line, the truncated forum line
    ("inconsistent", "user_id"): 1,  # the profile of user 99, who is in no auth_user
    ("inconsistent", "course_id"): 1,
    ("missing", "user_id"): 1,
    ("duplicate_key", "user_id/module_id"): 1,
    ("wrong_shape", "module_id"): 1,
    ("inconsistent", "parent"): 1,
    ("wrong_shape", "_type"): 1,
}
STORED_NULL = {  # records kept with the unusable field stored NULL
    ("not_an_integer", "year_of_birth"): 1,
    ("out_of_range", "grade"): 1,
    ("not_a_number", "grade"): 1,
}


def test_a_raw_cr_is_text_and_only_lf_ends_a_record() -> None:
    import io

    data = b"id\tbio\n1\tone\rtwo\\tthree\n2\tNULL\n\n3\tC:\\\\x \\r\\n end\n"
    assert list(read_tsv(io.BytesIO(data), "f.sql")) == [
        (2, {"id": "1", "bio": "one\rtwo\tthree"}),
        (3, {"id": "2", "bio": None}),
        (5, {"id": "3", "bio": "C:\\x \r\n end"}),
    ]
    assert unescape("a\\0b\\qc") == "abqc"  # \0 was a NUL (removed); an unknown escape is the char
    # A file converted to CRLF loses that CR on every line, not a field's CR.
    crlf = b"\xef\xbb\xbfid\tbio\r\n1\ta\rb\r\n"
    assert list(read_tsv(io.BytesIO(crlf), "f.sql")) == [(2, {"id": "1", "bio": "a\rb"})]


def _materialize(folder: Path, warehouse, instance, courses_days, assets=None, resource=None):
    instance.add_dynamic_partitions(
        research_package_courses.name,
        sorted(
            {c for c, _ in courses_days}
            - set(instance.get_dynamic_partitions("research_package_courses"))
        ),
    )
    results = []
    for course, day in courses_days:
        results.append(
            dg.materialize(
                assets or [research_package_tables, person_course],
                instance=instance,
                partition_key=Partition(course, day).partition_key,
                resources={
                    "research_packages": resource
                    or ResearchPackageFolderResource(path=str(folder)),
                    "warehouse": warehouse,
                },
                raise_on_error=False,
            )
        )
    return results


def _counts(warehouse, day: dt.date = DAY, course: str = COURSE) -> dict[str, int]:
    return {
        table: len(warehouse.read_partitions(table, [Partition(course, day)]))
        for table in (*PACKAGE_TABLES, "person_course")
    }


def _rejected(warehouse) -> dict[tuple, int]:
    frame = warehouse.read_frame(
        "SELECT reason_code, field, COUNT(*) AS n FROM rejected_records "
        "WHERE course_id = :c GROUP BY reason_code, field",
        c=COURSE,
    )
    return {(r.reason_code, r.field): int(r.n) for r in frame.itertuples()}


@pytest.fixture
def packages(tmp_path) -> Path:
    folder = tmp_path / "packages"
    folder.mkdir()
    shutil.copytree(FIXTURE, folder / FIXTURE.name)
    return folder


def test_the_quirky_package_loads_with_exact_counts_and_reasons(packages, warehouse, instance):
    [main, empty] = _materialize(
        packages, warehouse, instance, [(COURSE, DAY), (EMPTY_COURSE, DAY)]
    )
    assert main.success and empty.success
    checks = {
        (e.asset_key.path[-1], e.check_name): e.passed for e in main.get_asset_check_evaluations()
    }
    assert checks and all(checks.values()), [k for k, v in checks.items() if not v]
    assert len(checks) == 24 + 4  # the 8 package tables' rules, person_course's
    assert _counts(warehouse) == {**STORED, "person_course": 5}
    assert _rejected(warehouse) == {**REJECTED, **STORED_NULL}
    # The header-only edge course: nothing but its course block.
    assert _counts(warehouse, course=EMPTY_COURSE) == {
        **dict.fromkeys(STORED, 0),
        "course_blocks": 1,
        "person_course": 0,
    }
    where = warehouse.read_frame(
        "SELECT record_key, reason FROM rejected_records WHERE reason_code = 'wrong_shape' "
        "AND field IS NULL ORDER BY record_key"
    )
    assert where["record_key"].tolist() == [
        "HarvardX-QK-101-2026_T1-auth_user-prod-analytics.sql:9",
        "HarvardX-QK-101-2026_T1-prod.mongo:3",
    ]
    assert where["reason"][0].endswith("line 9: 3 fields, the header has 11")
    # The SQL rules over a scope of two partitions (one grouped SELECT per partition).
    both = [Partition(COURSE, DAY), Partition(EMPTY_COURSE, DAY)]
    for table, rules in RULES.items():
        sql_rules = [rule for rule in rules if rule.violations is not None]
        results = quality.evaluate(warehouse, table, sql_rules, both)
        assert all(r.passed and r.metadata["partitions_checked"].value == 2 for r in results)


def test_raw_crs_lose_no_row_and_users_join_profiles_by_id(packages, warehouse, instance):
    _materialize(packages, warehouse, instance, [(COURSE, DAY)], [research_package_tables])
    users = warehouse.read_partitions("package_users", [Partition(COURSE, DAY)]).set_index(
        "user_id"
    )
    assert users.loc[:, ["gender", "year_of_birth", "level_of_education", "country"]].astype(
        object
    ).where(users.notna(), None).values.tolist() == [
        ["f", 1990, "b", "US"],  # its bio holds a raw CR, and the next profile still follows
        ["m", None, "hs", "VN"],
        [None, None, "p", "FR"],  # 19x0 is no year: stored NULL; its goals hold a raw CR
        ["o", 1985, "m", "FR"],
        [None, None, None, None],  # no profile
    ]
    assert users.loc[1, "username_hash"] == ripemd160_hex("alice")
    assert users.loc[3, "username_hash"] == ripemd160_hex("chloé")
    assert users.loc[1, "name_hash"] == ripemd160_hex("Alice Martin")
    assert users.loc[4, "name_hash"] is None  # the name is the literal NULL
    assert all(len(h) == 40 for h in users["username_hash"])
    # Nothing personal in clear anywhere in the warehouse.
    dumped = " ".join(
        warehouse.read_frame(f"SELECT * FROM {t}").astype(str).to_string()
        for t in (*PACKAGE_TABLES, "rejected_records")
    )
    for secret in ("alice@", "Alice Martin", "Main St", "line one", "Hello", "mallory", "Ghost"):
        assert secret not in dumped


def test_blocks_modules_videos_and_forum_rows(packages, warehouse, instance):
    _materialize(packages, warehouse, instance, [(COURSE, DAY)], [research_package_tables])
    partition = [Partition(COURSE, DAY)]
    blocks = warehouse.read_partitions("course_blocks", partition).set_index("block_id")
    b = "block-v1:HarvardX+QK-101+2026_T1+type@"
    assert blocks.loc[
        f"{b}video+block@v1", ["parent_id", "position", "depth", "chapter_id"]
    ].tolist() == [f"{b}vertical+block@vert1", 1, 4, f"{b}chapter+block@ch1"]
    assert blocks.loc[f"{b}chapter+block@ch1", "display_name"] == "Chapitre un – intro"
    videos = warehouse.read_partitions("course_videos", partition)
    assert videos[["youtube_id", "edx_video_id", "duration_seconds"]].values.tolist() == [
        ["abc123XYZ_0", None, 62.5]
    ]
    modules = warehouse.read_partitions("courseware_modules", partition)
    assert sorted(modules["module_id"].str[:4].tolist()) == ["bloc"] * 6 + ["i4x:"] * 2
    video_state = modules[modules["module_type"] == "video"]["state_bytes"].tolist()
    assert video_state == [len('{"saved_video_position": "00:01:02", "note": "a\\b\nc"}')]
    posts = warehouse.read_partitions("forum_posts", partition).sort_values("post_id")
    assert posts[
        ["post_type", "author_id", "body_length", "up_votes", "vote_score"]
    ].values.tolist() == [
        ["thread", 1, 12, 2, 1],
        ["response", 2, 7, 0, -1],
        ["comment", 1, 2, 1, 1],
    ]
    assert posts["author_hash"].tolist() == [ripemd160_hex(n) for n in ("alice", "bob", "alice")]
    assert str(posts["created_at"].tolist()[1])[:19] == "2026-02-01 10:00:00"  # $date in ms


def test_reloading_changes_nothing_and_a_newer_export_is_a_new_date(packages, warehouse, instance):
    _materialize(packages, warehouse, instance, [(COURSE, DAY)])
    before = {
        t: warehouse.read_partitions(t, [Partition(COURSE, DAY)]).drop(columns="loaded_at")
        for t in (*PACKAGE_TABLES, "person_course")
    }
    rejected_before = _rejected(warehouse)
    _materialize(packages, warehouse, instance, [(COURSE, DAY)])
    for table, frame in before.items():
        again = warehouse.read_partitions(table, [Partition(COURSE, DAY)]).drop(columns="loaded_at")
        key = [c for c in frame.columns if c not in ("loaded_at",)][:4]
        assert (
            again.sort_values(key)
            .reset_index(drop=True)
            .equals(frame.sort_values(key).reset_index(drop=True))
        ), table
    assert _rejected(warehouse) == rejected_before
    # A newer export of the course, as a zip with one learner fewer in the enrollments.
    newer = packages / "HarvardX-2026-03-09.zip"
    with zipfile.ZipFile(newer, "w") as archive:
        for path in FIXTURE.iterdir():
            data = path.read_bytes()
            if "student_courseenrollment-prod" in path.name:
                data = b"\n".join(line for line in data.split(b"\n") if not line.startswith(b"5\t"))
            archive.writestr(f"HarvardX-2026-03-09/{path.name}", data)
    later = dt.date(2026, 3, 9)
    assert all(r.success for r in _materialize(packages, warehouse, instance, [(COURSE, later)]))
    assert _counts(warehouse, later)["package_enrollments"] == 4
    assert _counts(warehouse, DAY) == {**STORED, "person_course": 5}  # the older date is kept


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_archives_read_like_the_folder(tmp_path, kind, sqlite_warehouse, instance) -> None:
    folder = tmp_path / "archives"
    folder.mkdir()
    if kind == "zip":
        with zipfile.ZipFile(folder / f"{FIXTURE.name}.zip", "w") as archive:
            for path in FIXTURE.iterdir():
                archive.write(path, f"{FIXTURE.name}/{path.name}")
    else:
        with tarfile.open(folder / f"{FIXTURE.name}.tar.gz", "w:gz") as archive:
            archive.add(FIXTURE, arcname=FIXTURE.name)
    [result] = _materialize(folder, sqlite_warehouse, instance, [(COURSE, DAY)])
    assert result.success
    assert _counts(sqlite_warehouse) == {**STORED, "person_course": 5}
    assert _rejected(sqlite_warehouse) == {**REJECTED, **STORED_NULL}


def test_batches_of_one_record_load_the_same_counts_and_reasons(
    packages, warehouse, instance, monkeypatch
) -> None:
    """Every streamed table in batches of one row: the duplicate (3, p1) of line 9 meets
    line 7 in an earlier batch, and is refused all the same."""
    from lms_assets.research_packages import columnar

    monkeypatch.setattr(columnar, "ARROW_CHUNK", 1)
    monkeypatch.setattr(columnar, "BATCH_ROWS", 1)
    [result] = _materialize(packages, warehouse, instance, [(COURSE, DAY)])
    assert result.success
    assert all(e.passed for e in result.get_asset_check_evaluations())
    assert _counts(warehouse) == {**STORED, "person_course": 5}
    assert _rejected(warehouse) == {**REJECTED, **STORED_NULL}
    duplicate = warehouse.read_frame(
        "SELECT record_key FROM rejected_records WHERE field = 'user_id/module_id'"
    )
    assert duplicate["record_key"].tolist() == [
        "HarvardX-QK-101-2026_T1-courseware_studentmodule-prod-analytics.sql:9"
    ]


def test_seen_keys_refuse_repeats_across_batches() -> None:
    import pyarrow as pa

    from lms_assets.research_packages.columnar import SeenKeys

    seen = SeenKeys(("user_id", "module_id"))
    wide = 2**40  # too wide to pack: compared as a tuple

    def batch(*keys: tuple[int, str]) -> list[bool]:
        data = pa.table({"user_id": [k[0] for k in keys], "module_id": [k[1] for k in keys]})
        return seen.refuse_repeats(data).tolist()

    assert batch((1, "a"), (1, "b"), (1, "a"), (wide, "a")) == [False, False, True, False]
    assert batch((2, "a"), (1, "b"), (wide, "a"), (wide, "b"), (2, "a")) == [
        False,
        True,
        True,
        False,
        True,
    ]
    assert batch() == []
    assert len(seen.packed) == 3 and seen.wide == {(wide, 0), (wide, 1)}
