"""Newsdesk beside Datasette (SQLite FTS5) and bare Whoosh, on the same articles and queries.

    .venv/bin/pip install -e '.[bench]'       # Datasette and sqlite-utils, bench-only
    .venv/bin/python -m bench.compare [--sizes 20000] [--clients 8] [--seconds 10] [PATH ...]

The corpus is the bundled sample, or the JSON/JSONL files given (for example
../shared/corpus/reuters21578_en.jsonl, read in place, never copied), replicated with distinct
URLs to each size. For each size it loads the same articles into

  (a) Newsdesk, `newsdesk serve` over HTTP through the bulk endpoint;
  (b) Datasette, a SQLite table with an FTS5 index built by sqlite-utils
      (unicode61 tokenizer, diacritics removed), served by `datasette serve`;
  (c) a bare Whoosh index with Newsdesk's schema and analysers, written in-process by a default
      Whoosh writer, searched in-process through Newsdesk's query compiler and engine;

then runs the same query list against each after a warm-up (p50/p95 per class), 8 clients for
10 seconds against each server, and reports ingest rates, server RSS and bytes on disk.
Newsdesk is timed twice: as served, where a repeated query is answered from its result cache
(the timed passes repeat the warm-up's queries), and restarted on the same data with
NEWSDESK_SEARCH_CACHE_SIZE=0, where every query runs; the ratios use the second.
Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.config import SAMPLE_DIR
from app.ingest.article import ArticleCreate, prepare
from app.ingest.dates import parse_partial_date
from app.ingest.files import find_files, read_file
from app.search.engine import run_search, suffixes_in_use
from app.search.query import QueryCompiler, check_query
from app.search.schema import build_schema, to_document
from app.services.articles import span_filters
from app.store.articles import columns
from app.store.models import Article
from bench.common import environment, free_port, start_server


@dataclass(frozen=True)
class Query:
    """One benchmark query: its class, the Newsdesk text, and the same in FTS5 syntax."""

    kind: str
    q: str
    fts: str
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "relevance"


def _q(kind: str, q: str, fts: str | None = None, **extra: Any) -> Query:
    return Query(kind, q, fts if fts is not None else q, **extra)


QUERIES = [
    # single terms, French and English
    *(_q("single", w) for w in ("coree", "russie", "président", "gouvernement", "élection")),
    *(_q("single", w) for w in ("guerre", "football", "oil", "trade", "bank", "dollar")),
    # two- and three-term AND
    *(_q("and2", w) for w in ("coree nord", "président république", "union européenne")),
    *(_q("and2", w) for w in ("crude oil", "interest rates", "bank loans")),
    *(_q("and3", w) for w in ("coree nord missile", "premier ministre démission")),
    *(_q("and3", w) for w in ("oil prices opec", "trade deficit japan", "wheat export grain")),
    # phrases
    *(_q("phrase", f'"{w}"') for w in ("coupe du monde", "premier ministre", "nations unies")),
    *(_q("phrase", f'"{w}"') for w in ("stock exchange", "central bank", "united states")),
    # prefixes
    *(_q("prefix", w) for w in ("presid*", "gouvern*", "europ*", "econom*", "petrol*")),
    *(_q("prefix", w) for w in ("bank*", "export*")),
    # date-filtered
    *(
        _q("dated", w, date_from="2005", date_to="2015")
        for w in ("président", "guerre", "oil", "football")
    ),
    # date-sorted
    *(_q("sorted", w, sort="newest") for w in ("président", "élection", "trade", "bank")),
]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def load_corpus(paths: list[Path]) -> list[dict[str, Any]]:
    """Every article of the files as a JSON-ready dict (fields Newsdesk accepts)."""
    articles = []
    for path in find_files(paths):
        for _where, item in read_file(path):
            if isinstance(item, ArticleCreate):
                articles.append(item.model_dump(exclude_none=True))
    return articles


def replicate(articles: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """`size` articles cycling through the corpus, each with a URL of its own."""
    out = []
    for i in range(size):
        article = dict(articles[i % len(articles)])
        article["url"] = f"https://bench.example/{i}"
        out.append(article)
    return out


def rss_bytes(pgid: int) -> tuple[int, int]:
    """Resident memory of every process in a process group (server, workers, indexer), and of
    the group's leader (the serving process) alone."""
    total = leader = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # fields[2] is the process group id
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    size = int(line.split()[1]) * 1024
                    total += size
                    leader += size if int(entry.name) == pgid else 0
        except (OSError, IndexError, ValueError):
            continue
    return total, leader


def disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


@dataclass
class Figures:
    """What one system measured at one size."""

    name: str
    ack_per_s: float = float("nan")
    searchable_per_s: float = float("nan")
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    load_rps: float = float("nan")
    load_p95: float = float("nan")
    rss: int = 0
    rss_leader: int = 0
    settled_s: float = float("nan")
    segments: int = 1
    store_bytes: int = 0
    index_bytes: int = 0

    def p(self, kind: str, pct: float) -> float:
        values = (
            [v for vs in self.latency.values() for v in vs] if kind == "all" else self.latency[kind]
        )
        return percentile(values, pct) * 1000


def time_queries(run: Callable[[Query], None], repeats: int) -> dict[str, list[float]]:
    for query in QUERIES:  # warm-up
        run(query)
    latency: dict[str, list[float]] = defaultdict(list)
    for _ in range(repeats):
        for query in QUERIES:
            started = time.perf_counter()
            run(query)
            latency[query.kind].append(time.perf_counter() - started)
    return latency


def load(
    run: Callable[[httpx.Client, Query], None], url: str, clients: int, seconds: float
) -> tuple[float, float]:
    """`clients` threads cycling through the queries for `seconds`: requests/s and p95 (s)."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        mine = []
        with httpx.Client(base_url=url, timeout=30) as http:
            i = offset
            while time.monotonic() < stop:
                started = time.perf_counter()
                run(http, QUERIES[i % len(QUERIES)])
                mine.append(time.perf_counter() - started)
                i += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n * 5,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies) / seconds, percentile(latencies, 95)


def measure_server(
    figures: Figures,
    url: str,
    path: str,
    params_of: Callable[[Query], dict[str, Any]],
    options: argparse.Namespace,
    pid: int,
) -> None:
    """Query latencies one at a time, then the concurrent load, then the server's memory."""

    def ask(http: httpx.Client, query: Query) -> None:
        http.get(path, params=params_of(query)).raise_for_status()

    with httpx.Client(base_url=url, timeout=300) as http:
        figures.latency = time_queries(lambda query: ask(http, query), options.repeats)
    figures.load_rps, figures.load_p95 = load(ask, url, options.clients, options.seconds)
    figures.rss, figures.rss_leader = rss_bytes(pid)


def _wait_http(url: str, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + path, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url + path)


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


# --- (a) Newsdesk -------------------------------------------------------------------------


def newsdesk_params(query: Query) -> dict[str, Any]:
    params: dict[str, Any] = {"q": query.q, "sort": query.sort}
    if query.date_from:
        params["from"], params["to"] = query.date_from, query.date_to
    return params


def load_over_http(http: httpx.Client, articles: list[dict[str, Any]], figures: Figures) -> float:
    """Bulk-load the articles, 1,000 a request, and wait until none is pending; records the
    acknowledged and searchable rates and returns when the load started (perf_counter)."""
    started = time.perf_counter()
    for i in range(0, len(articles), 1000):
        http.post("/v1/articles/bulk", json=articles[i : i + 1000]).raise_for_status()
    acked = time.perf_counter() - started
    while http.get("/health").json()["index"]["pending"]:
        time.sleep(0.1)
    figures.ack_per_s = len(articles) / acked
    figures.searchable_per_s = len(articles) / (time.perf_counter() - started)
    return started


def settle(http: httpx.Client, longest: float) -> int:
    """Wait for the index at rest, as an archive is between ingest runs: until the idle merges
    are done (they start 5 s after the last batch), or `longest` seconds; the segments left."""
    give_up, idle_since = time.monotonic() + longest, time.monotonic()
    while time.monotonic() < give_up and time.monotonic() - idle_since < 15:
        if http.get("/health").json()["index"]["merging"]:
            idle_since = time.monotonic()
        time.sleep(1)
    segments: int = http.get("/health").json()["index"]["segments"]
    return segments


def run_newsdesk(
    articles: list[dict[str, Any]], work: Path, options: argparse.Namespace
) -> list[Figures]:
    """Load over HTTP, wait for the index to settle, then time the queries twice: as served
    (repeated queries answered from the result cache) and on a server without the cache."""
    figures = Figures("Newsdesk (cache hits)")
    data, port = work / "newsdesk", free_port()
    server = start_server(data, port)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url, "/health")
        with httpx.Client(base_url=url, timeout=300) as http:
            started = load_over_http(http, articles, figures)
            figures.segments = settle(http, options.settle)
            figures.settled_s = time.perf_counter() - started
        measure_server(figures, url, "/v1/search", newsdesk_params, options, server.pid)
    finally:
        _stop(server)
    uncached = Figures("Newsdesk, no result cache", segments=figures.segments)
    server = start_server(data, port, env={"NEWSDESK_SEARCH_CACHE_SIZE": "0"})
    try:
        _wait_http(url, "/health")
        measure_server(uncached, url, "/v1/search", newsdesk_params, options, server.pid)
    finally:
        _stop(server)
    figures.store_bytes = sum(disk_bytes(p) for p in data.glob("newsdesk.db*"))
    figures.index_bytes = disk_bytes(data / "index")
    return [figures, uncached]


# --- (b) Datasette + FTS5 -----------------------------------------------------------------


def datasette_params(query: Query) -> dict[str, Any]:
    params: dict[str, Any] = {
        "_search": query.fts,
        "_searchmode": "raw",
        "_size": 10,
        "_shape": "objects",
    }
    if query.date_from:
        params["published_start__gte"] = parse_partial_date(query.date_from).start.isoformat()
        params["published_start__lte"] = parse_partial_date(query.date_to or "").end.isoformat()
    if query.sort == "newest":
        params["_sort_desc"] = "published_start"
    return params


def _rows(articles: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for i, article in enumerate(articles, start=1):
        date = parse_partial_date(article["published_at"]) if article.get("published_at") else None
        yield {
            "id": i,
            "url": article["url"],
            "title": article.get("title") or "",
            "body": article["body"],
            "published_at": article.get("published_at"),
            "published_start": date.start.isoformat() if date else None,
            "language": article.get("language"),
            "source": article.get("source"),
        }


def run_datasette(
    articles: list[dict[str, Any]], work: Path, options: argparse.Namespace
) -> Figures:
    import sqlite_utils

    figures = Figures("Datasette")
    path = work / "bench.db"
    started = time.perf_counter()
    db = sqlite_utils.Database(path)
    table = db["articles"]
    table.insert_all(_rows(articles), pk="id", batch_size=1000)  # type: ignore[union-attr]
    table.create_index(["published_start"])  # type: ignore[union-attr]
    table.enable_fts(  # type: ignore[union-attr]
        ["title", "body"], fts_version="FTS5", tokenize="unicode61 remove_diacritics 2"
    )
    db.close()
    figures.ack_per_s = figures.searchable_per_s = len(articles) / (time.perf_counter() - started)
    port = free_port()
    datasette = shutil.which("datasette", path=str(Path(sys.executable).parent))
    assert datasette, "install the bench extra: pip install -e '.[bench]'"
    log = (work / "datasette.log").open("ab")
    server = subprocess.Popen(
        [
            datasette,
            "serve",
            str(path),
            "--port",
            str(port),
            "--setting",
            "sql_time_limit_ms",
            "5000",
        ],
        env=environment(work),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url, "/bench.json")
        route = "/bench/articles.json"
        measure_server(figures, url, route, datasette_params, options, server.pid)
    finally:
        _stop(server)
    figures.store_bytes = figures.index_bytes = disk_bytes(path)
    return figures


# --- (c) bare Whoosh ----------------------------------------------------------------------


def _stored(i: int, article: dict[str, Any]) -> Article:
    prepared = prepare(ArticleCreate.model_validate(article))
    stamp = datetime.now(UTC)
    return Article(id=i, **columns(prepared), created_at=stamp, updated_at=stamp)


def run_whoosh(articles: list[dict[str, Any]], work: Path, options: argparse.Namespace) -> Figures:
    from whoosh import index

    figures = Figures("bare Whoosh")
    stored = [_stored(i, a) for i, a in enumerate(articles, start=1)]  # validation not timed
    path = work / "whoosh"
    path.mkdir()
    ix = index.create_in(str(path), build_schema())
    started = time.perf_counter()
    writer = ix.writer()
    for article in stored:
        writer.add_document(**to_document(article))
    writer.commit()
    figures.ack_per_s = figures.searchable_per_s = len(articles) / (time.perf_counter() - started)
    compiler = QueryCompiler(build_schema())
    with ix.searcher() as searcher:
        suffixes = suffixes_in_use(searcher)

        def one(query: Query) -> None:
            checked = check_query(query.q, max_chars=500, max_terms=32)
            compiled = compiler.compile(checked, suffixes=suffixes, reader=searcher.reader())
            filters = span_filters(
                start=parse_partial_date(query.date_from) if query.date_from else None,
                end=parse_partial_date(query.date_to) if query.date_to else None,
                languages=(),
                sources=(),
            )
            run_search(
                searcher,
                compiled,
                filters=filters,
                sort=query.sort,
                page=1,
                page_size=10,
                deadline=time.monotonic() + 5.0,
            )

        figures.latency = time_queries(one, options.repeats)
    ix.close()
    figures.index_bytes = disk_bytes(path)
    return figures


# --- report -------------------------------------------------------------------------------


def report(size: int, results: list[Figures]) -> None:
    nd, cold, ds, wh = results
    kinds = ["all", *dict.fromkeys(q.kind for q in QUERIES)]
    print(f"\n### {size:,} articles\n")
    print(
        "| query class | Newsdesk (cache hits) p50 / p95 ms | Newsdesk, no result cache "
        "| Datasette | bare Whoosh | no cache / Datasette p50 | no cache / Whoosh p50 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for kind in kinds:
        cells = [f"{f.p(kind, 50):.1f} / {f.p(kind, 95):.1f}" for f in results]
        print(
            f"| {kind} | {' | '.join(cells)} | {cold.p(kind, 50) / ds.p(kind, 50):.2f} | "
            f"{cold.p(kind, 50) / wh.p(kind, 50):.2f} |"
        )
    mb = 2**20
    print()
    print("| | Newsdesk (cache hits) | Newsdesk, no result cache | Datasette | bare Whoosh |")
    print("| --- | --- | --- | --- | --- |")
    acks = f"{nd.ack_per_s:,.0f} | — | {ds.ack_per_s:,.0f} (insert + FTS) | —"
    print(f"| acknowledged per s | {acks} |")
    rates = (
        f"{nd.searchable_per_s:,.0f} | — | {ds.searchable_per_s:,.0f} | {wh.searchable_per_s:,.0f}"
    )
    print(f"| searchable per s | {rates} |")
    segments = f"{nd.segments} segment" + ("s" if nd.segments != 1 else "")
    rest = f"{nd.settled_s:,.0f} ({segments}) | — | — | ({wh.segments} segment)"
    print(f"| index settled after s | {rest} |")
    served = (nd, cold, ds)
    print(f"| {load_label} req/s | " + " | ".join(f"{f.load_rps:,.0f}" for f in served) + " | — |")
    p95s = " | ".join(f"{f.load_p95 * 1000:,.0f}" for f in served)
    print(f"| {load_label} p95 ms | {p95s} | — |")
    memory = " | ".join(
        f"{f.rss / mb:,.0f} (serving process {f.rss_leader / mb:,.0f})" for f in (nd, cold)
    )
    print(f"| RSS after load MB | {memory} | {ds.rss / mb:,.0f} | — |")
    stores = f"{nd.store_bytes / mb:,.1f} | — | {ds.store_bytes / mb:,.1f} (FTS in it)"
    print(f"| store on disk MB | {stores} | — |")
    print(f"| index on disk MB | {nd.index_bytes / mb:,.1f} | — | — | {wh.index_bytes / mb:,.1f} |")
    sys.stdout.flush()


load_label = "8 clients × 10 s"


def main() -> None:
    global load_label
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[SAMPLE_DIR])
    parser.add_argument("--sizes", nargs="+", type=int, default=[20_000])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes over the queries")
    parser.add_argument(
        "--settle", type=float, default=1200, help="longest wait for idle merges, in seconds"
    )
    options = parser.parse_args()
    load_label = f"{options.clients} clients × {options.seconds:g} s"
    corpus = load_corpus(options.paths)
    print(
        f"corpus: {len(corpus):,} articles from {', '.join(str(p) for p in options.paths)}; "
        f"{len(QUERIES)} queries; {os.cpu_count()} CPUs, {platform.python_version()}, "
        f"{platform.platform()}"
    )
    for size in options.sizes:
        articles = replicate(corpus, size)
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            results: list[Figures] = []
            for run in (run_newsdesk, run_datasette, run_whoosh):
                started = time.perf_counter()
                ran = run(articles, work, options)
                results.extend(ran if isinstance(ran, list) else [ran])
                print(f"  {results[-1].name}: {time.perf_counter() - started:.0f} s", flush=True)
            report(size, results)


if __name__ == "__main__":
    main()
