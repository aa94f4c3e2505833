"""Hostile queries against a served, loaded index: the status and time of each; asserts nothing.

    .venv/bin/python -m bench.hostile [--copies N]

Starts `newsdesk serve --sample` on a temporary data directory, loads N renamed copies of the
bundled sample on top (default 2, so about 6,000 articles), waits until all are searchable, then
sends each query of WHOOSH_NOTES's hostile list and a few wide ones, three times, and prints the
status and the slowest time of each. Ends with /health, to show the server stayed up.
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import orjson

from app.config import SAMPLE_DIR
from app.ingest.article import ArticleCreate
from app.ingest.files import find_files, read_file
from bench.common import free_port, start_server

HOSTILE = [
    "x" * 100_000,
    " ".join(["mot"] * 5_000),
    "*?*?*",
    "*",
    "a*",
    "obus~999",
    "(" * 5_000 + "a" + ")" * 5_000,
    "title:(",
    '"unclosed',
    "ab* cd* ef* gh* ij*",
    # Accepted, and as wide as the bounds allow:
    "de* co* pr* la*",
    "présidnet~2 gouvernmeent~2 coree~2 russie~2",
    " ".join(["la", "le", "de", "et", "un", "une", "des", "les"] * 4),
    '"le président de la république"~20',
    "((((((((a OR b) OR c) OR d) OR e) OR f) OR g) OR h)",
]


def _load_copies(client: httpx.Client, copies: int) -> None:
    sample = SAMPLE_DIR
    articles = [
        item.model_dump(exclude_none=True)
        for path in find_files([sample])
        for _where, item in read_file(path)
        if isinstance(item, ArticleCreate)
    ]
    for copy in range(1, copies + 1):
        batch = []
        for n, article in enumerate(articles):
            article = dict(article)
            article["url"] = f"https://copies.example/{copy}/{n}"
            batch.append(article)
        client.post("/v1/articles/bulk", json=batch, timeout=300).raise_for_status()


def _search(port: int, q: str) -> tuple[int, bytes]:
    """GET /v1/search with http.client: httpx refuses URLs over 64 KiB, a hostile client won't."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", "/v1/search?" + urlencode({"q": q}))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=2)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data, port = Path(tmp) / "data", free_port()
        server = start_server(data, port, "--sample")
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                while True:
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                _load_copies(client, options.copies)
                while (health := client.get("/health").json())["index"]["pending"]:
                    time.sleep(0.5)
                print(f"{health['index']['documents']} articles searchable; {os.cpu_count()} CPUs")
                print(f"{'status':>6} {'slowest':>9}  query")
                for q in HOSTILE:
                    slowest, status, body = 0.0, 0, b""
                    for _ in range(3):
                        started = time.perf_counter()
                        status, body = _search(port, q)
                        slowest = max(slowest, time.perf_counter() - started)
                    extra = ""
                    if status == 200:
                        result = orjson.loads(body)
                        extra = f" ({result['total']} hits, timed_out={result['timed_out']})"
                    shown = q if len(q) <= 60 else f"{q[:40]}… ({len(q):,} chars)"
                    print(f"{status:>6} {slowest * 1000:>7.0f}ms  {shown}{extra}")
                print("health after:", client.get("/health").json()["status"])
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
