"""Newsdesk's two search backends on the same articles: Whoosh files and PostgreSQL full-text.

    .venv/bin/python -m bench.backends --postgres postgresql://USER@HOST:PORT/postgres \\
        [--sizes 20000] [--clients 8] [--seconds 10] [PATH ...]

`--postgres` names a database whose user may create databases (a throwaway cluster from
`eval "$(bash scripts/postgres.sh start)"` does: use $NEWSDESK_TEST_POSTGRES); each size gets a
new database there, dropped afterwards. The corpus is the bundled sample or the JSON/JSONL files
given, replicated with distinct URLs to each size (as bench.compare does). For each backend a
`newsdesk serve` without the result cache loads the articles through the bulk endpoint, then
the query list of bench.compare is timed one request at a time (p50/p95 per class) and under
concurrent clients. Agreement: for each query, both totals and the share of the first page's ids
that both backends return. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import make_url

from app.config import SAMPLE_DIR
from bench.common import free_port, start_server
from bench.compare import (
    QUERIES,
    Figures,
    Query,
    _stop,
    _wait_http,
    load_corpus,
    load_over_http,
    measure_server,
    newsdesk_params,
    replicate,
)

Pages = dict[str, tuple[int, list[int]]]


def _key(query: Query) -> str:
    return f"{query.q}|{query.sort}|{query.date_from}|{query.date_to}"


def run_backend(
    name: str,
    articles: list[dict[str, Any]],
    data: Path,
    env: dict[str, str],
    options: argparse.Namespace,
) -> tuple[Figures, Pages]:
    """Load, settle, time; and the total and first page of every query."""
    figures = Figures(name)
    port = free_port()
    server = start_server(data, port, env={**env, "NEWSDESK_SEARCH_CACHE_SIZE": "0"})
    url = f"http://127.0.0.1:{port}"
    pages: Pages = {}
    try:
        _wait_http(url, "/health")
        with httpx.Client(base_url=url, timeout=300) as http:
            load_over_http(http, articles, figures)
            idle_since = time.monotonic()  # Whoosh: wait out the idle merges
            while time.monotonic() - idle_since < 15:
                if http.get("/health").json()["index"]["merging"]:
                    idle_since = time.monotonic()
                time.sleep(1)
            for query in QUERIES:
                result = http.get("/v1/search", params=newsdesk_params(query)).json()
                pages[_key(query)] = (result["total"], [h["id"] for h in result["hits"]])
        measure_server(figures, url, "/v1/search", newsdesk_params, options, server.pid)
    finally:
        _stop(server)
    return figures, pages


def report(size: int, whoosh: Figures, postgres: Figures, agree: list[str]) -> None:
    kinds = ["all", *dict.fromkeys(q.kind for q in QUERIES)]
    print(f"\n### {size:,} articles\n")
    print(
        "| query class | Whoosh p50 / p95 ms | PostgreSQL p50 / p95 ms | PostgreSQL / Whoosh p50 |"
    )
    print("| --- | --- | --- | --- |")
    for kind in kinds:
        cells = [f"{f.p(kind, 50):.1f} / {f.p(kind, 95):.1f}" for f in (whoosh, postgres)]
        print(f"| {kind} | {' | '.join(cells)} | {postgres.p(kind, 50) / whoosh.p(kind, 50):.2f} |")
    print("\n| | Whoosh | PostgreSQL |\n| --- | --- | --- |")
    for label, attr in (
        ("acknowledged per s", "ack_per_s"),
        ("searchable per s", "searchable_per_s"),
    ):
        print(f"| {label} | {getattr(whoosh, attr):,.0f} | {getattr(postgres, attr):,.0f} |")
    print(f"| {load_label} req/s | {whoosh.load_rps:,.0f} | {postgres.load_rps:,.0f} |")
    print(
        f"| {load_label} p95 ms | {whoosh.load_p95 * 1000:,.0f} | {postgres.load_p95 * 1000:,.0f} |"
    )
    print("\n| query | Whoosh total | PostgreSQL total | first page in common |")
    print("| --- | --- | --- | --- |")
    for line in agree:
        print(line)


def agreement(whoosh: Pages, postgres: Pages) -> list[str]:
    lines = []
    for query in QUERIES:
        key = _key(query)
        (w_total, w_ids), (p_total, p_ids) = whoosh[key], postgres[key]
        shared = len(set(w_ids) & set(p_ids)) / max(1, min(len(w_ids), len(p_ids)))
        dated = f" ({query.date_from}–{query.date_to})" if query.date_from else ""
        label = f"`{query.q}`{dated}" + (f" {query.sort}" if query.sort != "relevance" else "")
        lines.append(f"| {label} | {w_total:,} | {p_total:,} | {shared:.0%} |")
    return lines


load_label = "8 clients × 10 s"


def main() -> None:
    global load_label
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[SAMPLE_DIR])
    parser.add_argument("--postgres", default=os.environ.get("NEWSDESK_TEST_POSTGRES"))
    parser.add_argument("--sizes", nargs="+", type=int, default=[20_000])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over the queries")
    options = parser.parse_args()
    if not options.postgres:
        parser.error("--postgres URL (or NEWSDESK_TEST_POSTGRES) is required")
    load_label = f"{options.clients} clients × {options.seconds:g} s"
    corpus = load_corpus(options.paths)
    print(
        f"corpus: {len(corpus):,} articles from {', '.join(str(p) for p in options.paths)}; "
        f"{len(QUERIES)} queries; {os.cpu_count()} CPUs, {platform.python_version()}, "
        f"{platform.platform()}; PostgreSQL on {make_url(options.postgres).host}"
    )
    admin = make_url(options.postgres).set(drivername="postgresql")
    for size in options.sizes:
        articles = replicate(corpus, size)
        name = f"newsdesk_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        database = admin.set(drivername="postgresql+psycopg", database=name)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                whoosh, w_pages = run_backend("Whoosh", articles, Path(tmp) / "w", {}, options)
                env = {
                    "NEWSDESK_DATABASE_URL": database.render_as_string(hide_password=False),
                    "NEWSDESK_SEARCH_BACKEND": "postgres",
                }
                postgres, p_pages = run_backend(
                    "PostgreSQL", articles, Path(tmp) / "p", env, options
                )
            report(size, whoosh, postgres, agreement(w_pages, p_pages))
        finally:
            with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
