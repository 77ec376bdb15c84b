"""Debian's headless Chromium for the tests that look at a page as a person would.

Installed with apt-get when missing (the test set-up does it, here and in CI), so a
machine without it fails loudly instead of skipping the browser checks.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    if os.geteuid() != 0:
        pytest.fail("chromium is missing: sudo apt-get install -y chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-q"],
        ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "chromium"],
    ):
        subprocess.run(command, check=True, env=env, capture_output=True, timeout=900)
    found = shutil.which("chromium")
    if not found:
        pytest.fail("apt-get install chromium did not provide a chromium command")
    return found


def dump_dom(url: str, timeout: float = 120) -> tuple[str, str]:
    """The page's DOM after its scripts ran, and Chromium's log (console messages included)."""
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return result.stdout, result.stderr
