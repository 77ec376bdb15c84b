"""Every ``bash`` block of README.md and docs/*.md runs as written, on a fresh checkout's
layout, against the sandbox: a new user copying a command gets what the docs say.

The blocks are read from the docs (never copied here). Commands run in order, one shell
each, with the block's ``export`` lines before them; a server (``make ui``, the sandbox)
is started in the background, must answer on its port, and is stopped at the block's end.
Only the suite itself (``make test``) is not run from inside the suite, and ``make demo``
runs short (``RUN_INSTEAD``): test_demo.py runs the whole of it.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
NOT_RUN_HERE = {"make test": "the suite itself"}
# test_demo.py runs the whole `make demo` from the same layout and checks what it stored;
# here a short one (two courses, the last three days of logs) gives the later blocks the
# data they are about, in a fraction of the time.
RUN_INSTEAD = {"make demo": 'make demo DEMO_ARGS="--courses 2 --days 3"'}
SERVERS = {"make ui": 3000, ".venv/bin/lms-assets sandbox": 8765}  # command prefix -> port


def bash_blocks() -> list[tuple[str, list[str]]]:
    """(where, commands) per ```bash block; continuation lines joined, comments dropped."""
    blocks = []
    for path in DOCS:
        text = path.read_text()
        for match in re.finditer(r"```bash\n(.*?)```", text, re.S):
            joined = match.group(1).replace("\\\n", " ")
            commands = [
                line.split("  #")[0].strip()
                for line in joined.splitlines()
                if line.strip() and not line.strip().startswith("#")
            ]
            line_number = text[: match.start()].count("\n") + 1
            blocks.append((f"{path.relative_to(REPO)}:{line_number}", commands))
    return blocks


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def fresh_environment() -> dict[str, str]:
    """The environment of a new user's shell: none of the product's settings."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LMS_", "DAGSTER_")) or name.startswith("LMS_TEST_")
    }


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A directory laid out like the repository, with its installed venv."""
    root = tmp_path_factory.mktemp("checkout")
    # This suite runs from that venv, so it is installed: make need not reinstall it (which,
    # from here, would point its editable install at this temporary directory).
    (REPO / ".venv" / "bin" / ".installed").touch()
    for name in (".venv", "Makefile", "pyproject.toml", "workspace.yaml", "lms_assets"):
        (root / name).symlink_to(REPO / name)
    return root


def test_the_docs_have_runnable_blocks() -> None:
    commands = [c for _, block in bash_blocks() for c in block]
    assert "make demo" in commands
    assert any(c.startswith(".venv/bin/lms-assets materialize") for c in commands)


@pytest.mark.parametrize("where, commands", bash_blocks(), ids=lambda v: str(v)[:40])
def test_every_documented_command_runs_as_written(checkout, where, commands) -> None:
    exports: list[str] = []
    servers: list[subprocess.Popen] = []
    try:
        for command in commands:
            if command in NOT_RUN_HERE:
                continue
            script = "; ".join([*exports, RUN_INSTEAD.get(command, command)])
            if command.startswith("export "):
                exports.append(command)
                continue
            port = next((p for prefix, p in SERVERS.items() if command.startswith(prefix)), None)
            if port is not None:
                assert not answers(port), f"{where}: port {port} is taken before {command!r}"
                log = checkout / f"server-{port}.log"
                with log.open("w") as output:
                    server = subprocess.Popen(
                        ["bash", "-c", script],
                        cwd=checkout,
                        env=fresh_environment(),
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                servers.append(server)
                deadline = time.monotonic() + 180
                while not answers(port):
                    assert server.poll() is None, f"{where}: {command!r} exited:\n{log.read_text()}"
                    assert time.monotonic() < deadline, f"{where}: {command!r} never answered"
                    time.sleep(0.2)  # polling the port, not waiting for a guess
                continue
            result = subprocess.run(
                ["bash", "-c", script],
                cwd=checkout,
                env=fresh_environment(),
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert result.returncode == 0, f"{where}: {command!r}\n{result.stdout}{result.stderr}"
    finally:
        for server in servers:
            stop(server)


def stop(server: subprocess.Popen) -> None:
    """Ctrl-C to the server's process group, as a user stops ``make ui`` (dagster dev then
    stops its webserver, daemon and code servers); whatever is left after a minute is killed."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        server.wait(timeout=60)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)  # grandchildren a graceful stop left behind
    server.wait(timeout=60)
