"""A new source is one folder and one line: a toy gradebook added to a copy of the package.

The toy (lms_assets_tests/fixtures/toy_source/: resource, schema and its migration, one
asset, one check)
is copied to lms_assets/toy/ in a copy of the package, ``"lms_assets.toy",`` is added
to definitions.py's SOURCE_PACKAGES, and nothing else changes. A fresh process then loads
the code location from the copy and materializes the toy asset into a SQLite warehouse.
"""

from __future__ import annotations

import difflib
import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lms_assets

PACKAGE = Path(lms_assets.__file__).parent
TOY = Path(__file__).parent / "fixtures" / "toy_source"

SCRIPT = """
import json, dagster as dg
import lms_assets
from lms_assets.definitions import defs
from lms_assets.partitions import Partition, today
from lms_assets.toy.assets import toy_grades

graph = defs.resolve_asset_graph()
key = dg.AssetKey("toy_grades")
with dg.DagsterInstance.ephemeral() as instance:
    instance.add_dynamic_partitions("toy_courses", ["T1", "T2"])
    result = dg.materialize(
        [toy_grades],
        instance=instance,
        resources=defs.resources,
        tags={
            "dagster/asset_partition_range_start": f"T1|{today()}",
            "dagster/asset_partition_range_end": f"T2|{today()}",
        },
    )
warehouse = defs.resources["warehouse"]
stored = warehouse.read_frame("SELECT course_id, user_id, grade FROM toy_grades ORDER BY user_id")
print(json.dumps({
    "package": lms_assets.__file__,
    "in_graph": key in graph.get_all_asset_keys(),
    "checks": sorted(c.name for c in graph.asset_check_keys if c.asset_key == key),
    "fresh_daily": graph.get(key).freshness_policy is not None,
    "success": result.success,
    "check_results": {e.check_name: e.passed for e in result.get_asset_check_evaluations()},
    "row_counts": {
        str(m.partition): m.metadata["dagster/row_count"].value
        for m in result.asset_materializations_for_node("toy_grades")
    },
    "stored": stored.values.tolist(),
    "revisions": warehouse.read_frame(
        "SELECT version_num FROM alembic_version ORDER BY version_num"
    )["version_num"].tolist(),
}))
"""


def _changed_files(original: Path, copy: Path) -> list[str]:
    """Files that differ or exist on one side only, relative to the package root."""
    changed: list[str] = []

    def walk(cmp: filecmp.dircmp, prefix: str) -> None:
        changed.extend(prefix + name for name in cmp.diff_files + cmp.left_only + cmp.right_only)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(filecmp.dircmp(original, copy, ignore=["__pycache__"]), "")
    return sorted(changed)


def test_a_toy_source_needs_its_folder_and_one_line_in_definitions(tmp_path) -> None:
    copy = tmp_path / "src" / "lms_assets"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(TOY, copy / "toy", ignore=shutil.ignore_patterns("__pycache__"))
    definitions = copy / "definitions.py"
    before = definitions.read_text()
    after = before.replace(
        '    "lms_assets.features",\n', '    "lms_assets.features",\n    "lms_assets.toy",\n'
    )
    definitions.write_text(after)

    edits = [
        line
        for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert edits == ['+    "lms_assets.toy",']
    assert _changed_files(PACKAGE, copy) == ["definitions.py", "toy"]

    env = {
        **os.environ,
        "PYTHONPATH": str(copy.parent),
        "LMS_DATA_DIR": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "home"),
    }
    env.pop("LMS_WAREHOUSE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["package"].startswith(str(copy))  # the copy was loaded, not the repo
    assert report["in_graph"] and report["fresh_daily"]  # shared policy applied to it too
    assert report["checks"] == ["values_in_range"]
    assert report["success"] and report["check_results"] == {"values_in_range": True}
    day = __import__("lms_assets.partitions").partitions.today().isoformat()
    assert report["row_counts"] == {f"T1|{day}": 2, f"T2|{day}": 1}
    assert report["stored"] == [["T1", 1, 90.0], ["T1", 2, 45.5], ["T2", 3, 100.0]]
    # Its table came from its own migrations/ folder, a branch beside the core revisions
    # (toy_0001 was written against the core's 0002; 0003 came later on the core branch;
    # tracking_0002 (on tracking_0001) and research_0001, the tracking and research_packages
    # branches, depend on 0003 and so stand for it; lti_0001, the LTI branch, builds on the
    # baseline).
    assert report["revisions"] == [
        "dropout_0002",
        "lti_0001",
        "openedx_0001",
        "research_0001",
        "toy_0001",
        "tracking_0002",
    ]
