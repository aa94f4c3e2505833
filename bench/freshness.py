"""Freshness: how long a single write waits to be searchable while the index is busy.

    .venv/bin/python -m bench.freshness [--size 20000] [--writes N] [--code DIR] [PATH ...]

Starts `newsdesk serve` (its indexer in a process of its own, as in production) on a temporary
data directory and bulk-loads `--size` articles of the corpus (default: the bundled sample,
replicated with distinct URLs as bench.compare does), 1,000 a request, without waiting. Then,
in two states, it writes one article a second (a plain POST, no `refresh=wait`) and times from
the acknowledgement until a search for a word only that article holds finds it:

  bulk load     right after the load is acknowledged, while the backlog is indexed
  idle merge    once the backlog is indexed and the idle merge has begun, while it runs
  reindex       while `newsdesk reindex` rebuilds the index beside the live one

Each state is written to for as long as it lasts (at most `--writes` writes, when given).
`--code` serves another checkout's `app` (a `git worktree` of an older revision), for a before.
Prints ack-to-searchable p50, p95 and max per state, and how long each state lasted. Figures
only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from app.config import SAMPLE_DIR
from bench.common import NEWSDESK, environment, free_port, start_server
from bench.compare import load_corpus, replicate

_POLL = 0.02


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


class Trickle:
    """Writes one article a second, each findable by a word of its own; times each one."""

    def __init__(self, client: httpx.Client) -> None:
        self._client = client
        self._n = 0

    def write_one(self) -> float:
        self._n += 1
        word = f"fraicheur{self._n}x{os.getpid()}"
        article = {
            "title": f"Brève {word}",
            "body": f"Une brève écrite pendant le travail de l'index : {word}.",
            "language": "fr",
            "url": f"https://freshness.example/{self._n}",
        }
        response = self._client.post("/v1/articles", json=article)
        response.raise_for_status()
        acked = time.monotonic()
        while True:
            found = self._client.get("/v1/search", params={"q": word})
            if found.status_code == 200 and found.json()["total"] >= 1:
                return time.monotonic() - acked
            time.sleep(_POLL)

    def during(self, still: Callable[[], bool], writes: int) -> tuple[list[float], float]:
        """Timed writes, one a second, while `still()` holds (at most `writes`, unless 0)."""
        started = time.monotonic()
        times: list[float] = []
        while (not writes or len(times) < writes) and still():
            began = time.monotonic()
            times.append(self.write_one())
            time.sleep(max(0.0, 1.0 - (time.monotonic() - began)))
        return times, time.monotonic() - started


def _report(state: str, times: list[float], lasted: float, note: str) -> None:
    if not times:
        print(f"| {state} | 0 | — | — | — | {note} |")
        return
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(
        f"| {state} | {len(times)} | {statistics.median(ordered):.2f} | {p95:.2f} | "
        f"{ordered[-1]:.2f} | {note} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--writes", type=int, default=0, help="at most N writes per state")
    parser.add_argument("--code", type=Path)
    args = parser.parse_args()
    articles = replicate(load_corpus(args.paths or [SAMPLE_DIR]), args.size)
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "data"
        data.mkdir()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(data, port, code=args.code)
        try:
            _wait_up(url)
            with httpx.Client(base_url=url, timeout=300) as client:

                def index() -> dict[str, object]:
                    state: dict[str, object] = client.get("/health").json()["index"]
                    return state

                print(
                    f"{args.size} articles, one write a second, ack to searchable in seconds; "
                    f"{platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores"
                )
                print("| state | writes | p50 | p95 | max | the state |")
                print("| --- | --- | --- | --- | --- | --- |")
                for start in range(0, len(articles), 1000):
                    chunk = articles[start : start + 1000]
                    client.post("/v1/articles/bulk", json=chunk).raise_for_status()
                loaded = time.monotonic()
                trickle = Trickle(client)
                times, lasted = trickle.during(lambda: bool(index()["pending"]), args.writes)
                while index()["pending"]:
                    time.sleep(0.2)
                indexed = time.monotonic() - loaded
                _report(
                    "bulk load",
                    times,
                    lasted,
                    f"backlog indexed {indexed:.0f} s after the load "
                    f"({args.size / indexed:.0f} articles/s)",
                )
                segments = index()["segments"]
                deadline = time.monotonic() + 30
                while not index()["merging"] and time.monotonic() < deadline:
                    time.sleep(0.1)
                began = time.monotonic()
                times, lasted = trickle.during(lambda: bool(index()["merging"]), args.writes)
                while index()["merging"]:
                    time.sleep(0.2)
                _report(
                    "idle merge",
                    times,
                    lasted,
                    f"{segments} segments into {index()['segments']} "
                    f"in {time.monotonic() - began:.0f} s",
                )
                command, env = [str(NEWSDESK)], environment(data)
                if args.code is not None:  # the other checkout's command
                    command = [sys.executable, "-m", "app.cli"]
                    env["PYTHONPATH"] = str(args.code)
                reindex = subprocess.Popen(
                    [*command, "reindex"],
                    env=env,
                    cwd=args.code,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                began = time.monotonic()
                times, lasted = trickle.during(lambda: reindex.poll() is None, args.writes)
                reindex.wait()
                _report(
                    "reindex",
                    times,
                    lasted,
                    f"`newsdesk reindex` took {time.monotonic() - began:.0f} s "
                    f"(exit {reindex.returncode})",
                )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
