"""Ingest a corpus into a temporary Newsdesk and print store, index and search figures.

    .venv/bin/python -m bench.sample [PATH ...]     (default: the bundled data/sample/)

Figures only, no assertions. The app runs in-process through TestClient (HTTP routing,
validation and serialisation included, no sockets).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import SAMPLE_DIR, Settings
from app.ingest.article import ArticleCreate
from app.ingest.files import find_files, read_file
from app.main import create_app

QUERIES = [
    "coree",
    "nucleaire",
    "russie",
    "« train blindé »",
    "coree nord",
    "election OR vote",
    "presid*",
    "attentat -paris",
    "title:france",
    "北朝鮮",
    "대통령",
    "москва",
    "artilerie",
]


def main(paths: list[Path]) -> None:
    files = find_files(paths or [SAMPLE_DIR])
    items = [
        item.model_dump(exclude_none=True)
        for path in files
        for _, item in read_file(path)
        if isinstance(item, ArticleCreate)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        with TestClient(create_app(Settings(data_dir=Path(tmp), rate_limit=""))) as client:
            started = time.perf_counter()
            for i in range(0, len(items), 1000):
                response = client.post("/v1/articles/bulk", json=items[i : i + 1000])
                response.raise_for_status()
            acked = time.perf_counter() - started
            while client.get("/health").json()["index"]["pending"]:
                time.sleep(0.1)
            searchable = time.perf_counter() - started
            print(f"articles              {len(items)}")
            print(f"acknowledged          {acked:.1f} s  ({len(items) / acked:.0f} articles/s)")
            print(
                f"searchable            {searchable:.1f} s  "
                f"({len(items) / searchable:.0f} articles/s)"
            )
            for q in QUERIES:
                client.get("/v1/search", params={"q": q})  # warm-up
            print(f"{'query':24} {'hits':>6} {'p50 ms':>8} {'max ms':>8}")
            for q in QUERIES:
                times = []
                for _ in range(20):
                    t = time.perf_counter()
                    body = client.get("/v1/search", params={"q": q}).json()
                    times.append((time.perf_counter() - t) * 1000)
                print(
                    f"{q:24} {body['total']:>6} {statistics.median(times):>8.1f} {max(times):>8.1f}"
                )
        sizes = {
            p.name: sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
            if p.is_dir()
            else p.stat().st_size
            for p in Path(tmp).iterdir()
        }
        print(
            "on disk               " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items())
        )


if __name__ == "__main__":
    main([Path(a) for a in sys.argv[1:]])
