"""The Alembic configuration of the warehouse, built in code (no alembic.ini)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent


def version_locations() -> list[Path]:
    """The core revisions, then each source package's own ``migrations/`` folder.

    A source adds its tables with revisions in its own folder, on a branch of its own
    (``branch_labels``, ``depends_on`` the core revision it builds on), so a new source
    needs no edit here.
    """
    from lms_assets.definitions import SOURCE_PACKAGES

    folders = [MIGRATIONS_DIR / "versions"]
    for package in SOURCE_PACKAGES:
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            for root in spec.submodule_search_locations:
                if (Path(root) / "migrations").is_dir():
                    folders.append(Path(root) / "migrations")
    return folders


def alembic_config(connection: sa.Connection | None, **attributes: Any) -> Config:
    """A Config whose env.py migrates over ``connection`` (the caller owns its transaction).

    Without a connection it can still read the revision scripts (ScriptDirectory)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(map(str, version_locations())))
    # Revisions are numbered (--rev-id 0003) and named after their message.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    ruff = Path(sys.executable).with_name("ruff")  # a dev dependency, in the venv's bin/
    if ruff.exists():  # generated revisions come out formatted
        config.set_section_option("post_write_hooks", "hooks", "ruff")
        config.set_section_option("post_write_hooks", "ruff.type", "exec")
        config.set_section_option("post_write_hooks", "ruff.executable", str(ruff))
        config.set_section_option(
            "post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME"
        )
    config.attributes["connection"] = connection
    config.attributes.update(attributes)
    return config
