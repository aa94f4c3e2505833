"""Crash with a backlog, restart, and time the recovery; prints figures, asserts nothing.

    .venv/bin/python -m bench.recovery [--backlog 5000] [--limit N] [PATH ...]

Starts `newsdesk serve` on a temporary data directory, bulk-loads the corpus (default: the
bundled sample) twice over (the second pass must answer `unchanged`), then enough renamed copies
to leave --backlog articles waiting for the indexer, and kills the server with SIGKILL the moment
the last bulk is acknowledged. It then restarts it and reports how long until /health, a fetch
and a search answer, how long the backlog takes to drain, and whether anything was lost or
duplicated.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from app.config import SAMPLE_DIR
from app.ingest.article import ArticleCreate
from app.ingest.files import find_files, read_file
from bench.common import check, free_port, start_server


def until(url: str, path: str, params: dict[str, Any] | None = None) -> float:
    started = time.monotonic()
    while True:
        try:
            if httpx.get(url + path, params=params, timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--backlog", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=0, help="use the first N articles only")
    args = parser.parse_args()
    files = find_files(args.paths or [SAMPLE_DIR])
    corpus = [
        item.model_dump(exclude_none=True)
        for path in files
        for _, item in read_file(path)
        if isinstance(item, ArticleCreate)
    ]
    if args.limit:
        corpus = corpus[: args.limit]
    copies = []
    n = 0
    while len(copies) < args.backlog:
        for item in corpus:
            if len(copies) == args.backlog:
                break
            n += 1
            copy = dict(item)
            copy["url"] = f"https://copies.example/{n}"
            copy["title"] = f"{item.get('title') or 'Copie'} (copie {n})"
            copies.append(copy)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(data, port)
        until(url, "/health")
        with httpx.Client(base_url=url, timeout=300) as client:
            first = client.post("/v1/articles/bulk", json=corpus).json()
            second = client.post("/v1/articles/bulk", json=corpus).json()
            while client.get("/health").json()["index"]["pending"]:
                time.sleep(0.2)
            acked: list[int] = []
            for i in range(0, len(copies), 1000):
                results = client.post("/v1/articles/bulk", json=copies[i : i + 1000]).json()
                acked += [r["id"] for r in results["results"] if r["status"] == "created"]
            pending = client.get("/health").json()["index"]["pending"]
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        print(
            f"corpus {len(corpus)} articles: first load created {first['created']}, "
            f"second load unchanged {second['unchanged']} (created {second['created']})"
        )
        print(f"then {len(acked)} more acknowledged; killed with {pending} waiting for the indexer")

        restarted = time.monotonic()
        server = start_server(data, port)
        try:
            health = until(url, "/health")
            fetch = until(url, f"/v1/articles/{acked[-1]}")
            search = until(url, "/v1/search", {"q": "coree"})
            with httpx.Client(base_url=url, timeout=60) as client:
                backlog = client.get("/health").json()["index"]["pending"]
                while True:
                    state = client.get("/health").json()
                    if state["index"]["pending"] == 0:
                        break
                    time.sleep(0.2)
                drained = time.monotonic() - restarted
                lost = sum(client.get(f"/v1/articles/{i}").status_code != 200 for i in acked[-200:])
            print(
                f"after restart: /health in {health:.2f} s, a fetch in {fetch:.2f} s, "
                f"a search in {search:.2f} s (backlog then {backlog})"
            )
            print(
                f"backlog drained {drained:.1f} s after the restart "
                f"({backlog / max(drained - health, 0.001):.0f} articles/s)"
            )
            print(f"/health: {orjson.dumps(state).decode()}")
            print(f"lost among the last 200 acknowledged: {lost}")
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
        report = check(data)
        print(
            f"newsdesk check: clean={report['clean']} articles={report['articles']} "
            f"documents={report['documents']} duplicated={len(report['duplicated'])}"
        )


if __name__ == "__main__":
    main()
