"""Newsdesk at two revisions on the same articles and queries, timed in turn.

    git worktree add ../before <commit>          # the revision to compare against
    .venv/bin/python -m bench.revisions --baseline ../before [--sizes 20000] [--repeats 25]

Two servers without the result cache, one serving this checkout and one serving the baseline's
`app` with this environment's packages, each load the same articles (the bundled sample or the
JSON/JSONL files given, replicated as bench.compare does) through the bulk endpoint and settle.
Then each of bench.compare's queries is asked of one server and at once of the other, the order
swapped every pass, so that a machine whose speed drifts during the run (a shared 2-core
machine does, by 20% from one minute to the next) slows both alike. Prints p50 per query class
and per query, before and after, and the ratio. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

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
    newsdesk_params,
    percentile,
    replicate,
    settle,
)

SIDES = ("before", "after")


def _key(query: Query) -> str:
    extra = f" ({query.date_from}–{query.date_to})" if query.date_from else ""
    return f"{query.kind}: {query.q}{extra}"


def timed_in_turn(urls: dict[str, str], repeats: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per side and key (a class, `all`, or a query), each query asked of both sides
    back to back, the first side swapped every pass."""
    times: dict[str, dict[str, list[float]]] = {side: defaultdict(list) for side in urls}
    clients = {side: httpx.Client(base_url=url, timeout=300) for side, url in urls.items()}
    try:
        for query in QUERIES * 2:  # warm-up
            for http in clients.values():
                http.get("/v1/search", params=newsdesk_params(query)).raise_for_status()
        order = list(urls)
        for n in range(repeats):
            for query in QUERIES:
                for side in order if n % 2 == 0 else order[::-1]:
                    started = time.perf_counter()
                    response = clients[side].get("/v1/search", params=newsdesk_params(query))
                    took = time.perf_counter() - started
                    response.raise_for_status()
                    for key in ("all", query.kind, _key(query)):
                        times[side][key].append(took)
    finally:
        for http in clients.values():
            http.close()
    return times


def report(size: int, times: dict[str, dict[str, list[float]]]) -> None:
    before, after = times["before"], times["after"]

    def row(key: str) -> str:
        b, a = percentile(before[key], 50) * 1000, percentile(after[key], 50) * 1000
        return f"| {key} | {b:.1f} | {a:.1f} | {a / b:.2f} |"

    print(f"\n### {size:,} articles, p50 ms without the result cache\n")
    print("| query class | before | after | after ÷ before |")
    print("| --- | --- | --- | --- |")
    for kind in ["all", *dict.fromkeys(q.kind for q in QUERIES)]:
        print(row(kind))
    print("\n| query | before | after | after ÷ before |")
    print("| --- | --- | --- | --- |")
    for query in QUERIES:
        print(row(_key(query)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[SAMPLE_DIR])
    parser.add_argument(
        "--baseline", type=Path, required=True, help="a checkout of the revision to compare"
    )
    parser.add_argument("--sizes", nargs="+", type=int, default=[20_000])
    parser.add_argument("--repeats", type=int, default=25, help="timed passes over the queries")
    parser.add_argument(
        "--settle", type=float, default=1200, help="longest wait for idle merges, in seconds"
    )
    options = parser.parse_args()
    baseline = options.baseline.resolve()
    if not (baseline / "app" / "cli.py").is_file():
        parser.error(f"{baseline} is not a Newsdesk checkout (no app/cli.py)")
    corpus = load_corpus(options.paths)
    print(
        f"corpus: {len(corpus):,} articles from {', '.join(str(p) for p in options.paths)}; "
        f"{len(QUERIES)} queries × {options.repeats} passes; baseline {baseline}; "
        f"{os.cpu_count()} CPUs, {platform.python_version()}, {platform.platform()}"
    )
    for size in options.sizes:
        articles = replicate(corpus, size)
        with tempfile.TemporaryDirectory() as tmp:
            servers, urls = {}, {}
            try:
                for side in SIDES:
                    data, port = Path(tmp) / side / "data", free_port()
                    data.parent.mkdir()
                    servers[side] = start_server(
                        data,
                        port,
                        env={"NEWSDESK_SEARCH_CACHE_SIZE": "0"},
                        code=baseline if side == "before" else None,
                    )
                    urls[side] = f"http://127.0.0.1:{port}"
                    _wait_http(urls[side], "/health")
                    with httpx.Client(base_url=urls[side], timeout=300) as http:
                        figures = Figures(side)
                        load_over_http(http, articles, figures)
                        segments = settle(http, options.settle)
                    print(
                        f"  {side}: {figures.searchable_per_s:,.0f} searchable/s, "
                        f"{segments} segment(s)",
                        flush=True,
                    )
                report(size, timed_in_turn(urls, options.repeats))
            finally:
                for server in servers.values():
                    _stop(server)


if __name__ == "__main__":
    main()
