"""A real `newsdesk serve` subprocess on a free loopback port, for tests that kill it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from bench.common import NEWSDESK, free_port


def newsdesk(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a `newsdesk` command on a data directory."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir)}
    env.pop("NEWSDESK_API_KEYS", None)
    return subprocess.run(
        [str(NEWSDESK), *args], capture_output=True, text=True, env=env, timeout=timeout
    )


class Server:
    """`newsdesk serve` on a data directory; `kill()` sends SIGKILL to every process of it."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 1,
        host: str = "127.0.0.1",
        program: Path = NEWSDESK,
        options: Sequence[str] = (),
        **env: str,
    ) -> None:
        self.data_dir = data_dir
        self.program = program  # the `newsdesk` script to run; `options` follow `serve`'s own
        self.options = options
        self.workers = workers
        self.host = host
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # No keys and no rate limit unless a test asks: these tests hammer the server on purpose.
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
        self.env = {
            **inherited,
            "NEWSDESK_DATA_DIR": str(data_dir),
            "NEWSDESK_RATE_LIMIT": "",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"server-{self.port}.log"

    def start(self, timeout: float = 60) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *(str(self.program), "serve", "--host", self.host, "--port", str(self.port)),
                    *("--workers", str(self.workers), *self.options),
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, workers included
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"server did not answer: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group, as a crash would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def wait_drained(self, client: httpx.Client, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            health: dict[str, Any] = client.get("/health").json()
            if health["index"]["pending"] == 0:
                return health
            if time.monotonic() > deadline:
                raise TimeoutError(f"backlog did not drain: {health}")
            time.sleep(0.2)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
