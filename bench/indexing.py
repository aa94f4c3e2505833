"""Indexing pace: articles made searchable per second by Newsdesk's own index writer.

    .venv/bin/python -m bench.indexing [--size 5000] [--batch 500] [--runs 3] [--without-fixes]
        [--default-writer] [PATH ...]

The corpus is the bundled sample or the JSON/JSONL files given, replicated with distinct URLs
to `--size` (as bench.compare does). Each run stores them in a fresh SQLite store (not timed),
then times the writer draining the whole outbox into a fresh Whoosh index, in batches of
`--batch`, merges inside the commits included: the path of a bulk load, without HTTP.
`--without-fixes` leaves app/search/whoosh_fixes.py out, for a before/after in one checkout.
`--default-writer` times the baseline issue 14 measures against instead: the same documents
(`to_document`, the same schema and analysers) added by a default `ix.writer()` of plain
Whoosh and committed once. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

from whoosh import index as whoosh_index

from app.config import SAMPLE_DIR
from app.ingest.language import warm_up
from app.ingest.payloads import to_item
from app.search import whoosh_fixes
from app.search.index import IndexStore
from app.search.schema import build_schema, to_document
from app.search.writer import IndexWriterThread
from app.services.articles import ArticleService
from app.store import articles as store
from app.store.db import Database
from bench.compare import load_corpus, replicate


def _filled(data: Path, articles: list[dict[str, object]]) -> Database:
    db = Database(f"sqlite:///{data / 'newsdesk.db'}")
    db.migrate()
    service = ArticleService(db=db, writer=None, refresh_timeout=0)
    for start in range(0, len(articles), 1000):
        service.upsert_many([to_item(a) for a in articles[start : start + 1000]])
    return db


def run_default_writer(articles: list[dict[str, object]]) -> float:
    """Seconds for plain Whoosh's default writer to index the same documents in one commit."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        db = _filled(data, articles)
        with db.reading() as session:
            stored = store.get_articles(session=session, ids=range(1, len(articles) + 1))
            documents = [to_document(article) for article in stored.values()]
        (data / "index").mkdir()
        started = time.perf_counter()
        ix = whoosh_index.create_in(str(data / "index"), build_schema())
        writer = ix.writer()
        for document in documents:
            writer.add_document(**document)
        writer.commit()
        elapsed = time.perf_counter() - started
        ix.close()
        db.dispose()
        return elapsed


def run(articles: list[dict[str, object]], batch: int) -> float:
    """Seconds for the writer to make every article searchable."""
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        db = _filled(data, articles)
        indexes = IndexStore(data / "index")
        indexes.ensure_live()
        writer = IndexWriterThread(
            db=db,
            indexes=indexes,
            lock_path=data / "indexer.lock",
            batch_size=batch,
            poll_seconds=0.25,
        )
        started = time.perf_counter()
        while True:  # the writer's own loop, merges started meanwhile included
            writer.step()
            with db.reading() as session:
                if not store.count_pending(session=session):
                    break
        elapsed = time.perf_counter() - started
        writer.close()
        indexes.close()
        db.dispose()
        return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--without-fixes", action="store_true")
    parser.add_argument("--default-writer", action="store_true")
    args = parser.parse_args()
    if args.without_fixes:
        whoosh_fixes.apply = lambda: None
    warm_up()
    articles = replicate(load_corpus(args.paths or [SAMPLE_DIR]), args.size)
    if args.default_writer:
        times = [run_default_writer(articles) for _ in range(args.runs)]
        what = "a default Whoosh writer, one commit"
    else:
        times = [run(articles, args.batch) for _ in range(args.runs)]
        fixes = "without" if args.without_fixes else "with"
        what = f"Newsdesk's writer, batches of {args.batch}, {fixes} Whoosh fixes"
    rates = sorted(args.size / t for t in times)
    print(
        f"{args.size} articles, {what}, "
        f"{platform.python_version()} on {platform.machine()}: "
        f"median {statistics.median(rates):.0f} searchable/s "
        f"(runs: {', '.join(f'{r:.0f}' for r in rates)})"
    )


if __name__ == "__main__":
    main()
