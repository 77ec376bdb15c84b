"""Process-wide settings read from the environment, in one place.

Only values that must be known when the code location is *loaded* live here
(partition timezone and start date, where the embedded warehouse file goes).
Per-resource settings (URLs, credentials, rate limits) are resource fields
wired with ``dagster.EnvVar`` in ``definitions.py``; see docs/configuration.md.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR = Path(os.environ.get("LMS_DATA_DIR", "data")).resolve()
"""Folder for the embedded SQLite warehouse and other local files."""

TIMEZONE = os.environ.get("LMS_TIMEZONE", "UTC")
"""IANA timezone that defines "a day" for daily partitions and for "today"."""

PARTITIONS_START_DATE = os.environ.get("LMS_PARTITIONS_START_DATE", "2025-01-01")
"""First date of the daily partition dimension (YYYY-MM-DD)."""


def default_warehouse_url() -> str:
    """SQLite file under DATA_DIR: the embedded default when LMS_WAREHOUSE_URL is unset."""
    return f"sqlite:///{DATA_DIR / 'warehouse.sqlite'}"
