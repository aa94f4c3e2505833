"""Rate-limit counters in a real Redis server are shared by every app (worker or replica)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_client

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("redis-server") is None and not os.environ.get("CI"),
        reason="needs redis-server (Debian's redis-server package; .ci/run installs it)",
    ),
]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_two_apps_count_one_client_together(tmp_path: Path, redis_url: str) -> None:
    settings = {"rate_limit": "4/minute", "rate_limit_storage": redis_url}
    with (
        make_client(tmp_path / "one", **settings) as one,
        make_client(tmp_path / "two", **settings) as two,
    ):
        statuses = [(one if n % 2 else two).get("/v1/articles").status_code for n in range(6)]
        assert statuses == [200, 200, 200, 200, 429, 429]
        refused = one.get("/v1/articles")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
