"""What the benchmark scripts share: the `newsdesk` command, a free port, a server, `check`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

NEWSDESK = Path(sys.executable).parent / "newsdesk"


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def environment(data: Path) -> dict[str, str]:
    """The environment of a `newsdesk` process on a data directory: open writes, no rate limit
    (a benchmark's clients all come from one address and ask as fast as they can)."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data), "NEWSDESK_RATE_LIMIT": ""}
    env.pop("NEWSDESK_API_KEYS", None)
    env.pop("NEWSDESK_READ_KEYS", None)
    return env


def start_server(
    data: Path,
    port: int,
    *args: str,
    env: dict[str, str] | None = None,
    code: Path | None = None,
) -> subprocess.Popen[bytes]:
    """`newsdesk serve` in its own process group, logging to server.log beside `data`; `env`
    adds settings. `code` serves another checkout's `app` (a `git worktree` of an older
    revision) with this environment's packages."""
    log = (data.parent / "server.log").open("ab")
    command = [str(NEWSDESK)] if code is None else [sys.executable, "-m", "app.cli"]
    extra = {} if code is None else {"PYTHONPATH": str(code)}
    return subprocess.Popen(
        [*command, "serve", "--port", str(port), *args],
        env={**environment(data), **extra, **(env or {})},
        cwd=code,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def check(data: Path) -> dict[str, Any]:
    """`newsdesk check --json` on a data directory."""
    done = subprocess.run(
        [str(NEWSDESK), "check", "--json"], env=environment(data), capture_output=True, text=True
    )
    report: dict[str, Any] = orjson.loads(done.stdout.strip().splitlines()[-1])
    return report
