"""Everything the app owns while it runs: store, index, writer thread, searchers and services."""

from __future__ import annotations

import fcntl
import logging
from dataclasses import dataclass

from app.config import Settings
from app.metrics import Metrics
from app.search.index import IndexStore
from app.search.indexer import IndexerProcess
from app.search.query import QueryCompiler
from app.search.schema import build_schema
from app.search.searchers import SearcherPool
from app.search.writer import IndexWriterThread
from app.services.articles import ArticleService
from app.services.search import SearchLimits, SearchService
from app.services.search_pg import PostgresSearchService
from app.store import articles as store
from app.store.db import Database

log = logging.getLogger("newsdesk")


def prepare_index(settings: Settings, db: Database) -> IndexStore:
    """Open the live index; queue every article when it is new, of another schema, or short."""
    indexes = IndexStore(settings.index_dir)
    _, ix, fresh = indexes.ensure_live()
    with db.writing() as session:
        stored = store.count_articles(session=session)
        pending = store.count_pending(session=session)
        if fresh and stored:
            log.info("indexing %d articles in the background (a new index)", stored)
            store.enqueue_all(session=session)
        elif not pending and stored != ix.doc_count():
            log.warning(
                "index holds %d documents, store %d articles: re-indexing",
                ix.doc_count(),
                stored,
            )
            store.enqueue_all(session=session)
    return indexes


def _limits(settings: Settings) -> SearchLimits:
    return SearchLimits(
        max_chars=settings.query_max_chars,
        max_terms=settings.query_max_terms,
        max_expansions=settings.query_max_expansions,
        time_limit=settings.search_time_limit,
    )


@dataclass
class Runtime:
    """The resources of one running app, started and stopped by its lifespan.

    With the Whoosh backend it owns the index, its writer and the searchers; with the
    PostgreSQL backend (`indexes`, `writer` and `searchers` None) the store is the index.
    """

    settings: Settings
    db: Database
    indexes: IndexStore | None
    writer: IndexWriterThread | IndexerProcess | None
    searchers: SearcherPool | None
    articles: ArticleService
    search: SearchService | PostgresSearchService

    @classmethod
    def start(cls, settings: Settings, metrics: Metrics | None = None) -> Runtime:
        """Migrate the store, open (or start refilling) the index, start the writer."""
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url, read_url=settings.database_read_url)
        if settings.search_backend == "postgres":
            return cls._start_postgres(settings, db)
        # Workers start together: one at a time migrates and opens (or recreates) the index.
        with (settings.data_dir / "setup.lock").open("a+b") as setup_lock:
            fcntl.flock(setup_lock, fcntl.LOCK_EX)
            db.migrate(wait=settings.database_wait_seconds)
            indexes = prepare_index(settings, db)
        writer: IndexWriterThread | IndexerProcess
        if settings.indexer == "process":
            writer = IndexerProcess(
                db=db,
                index_dir=settings.index_dir,
                lock_path=settings.data_dir / "indexer.lock",
                batch_size=settings.index_batch_size,
            )
        else:
            writer = IndexWriterThread(
                db=db,
                indexes=indexes,
                lock_path=settings.data_dir / "indexer.lock",
                batch_size=settings.index_batch_size,
                poll_seconds=settings.index_poll_seconds,
                metrics=metrics,
            )
        searchers = SearcherPool(indexes)
        articles = ArticleService(
            db=db,
            writer=writer,
            refresh_timeout=settings.refresh_wait_seconds,
            max_pending=settings.max_pending,
        )
        search = SearchService(
            searchers=searchers,
            compiler=QueryCompiler(build_schema()),
            articles=articles,
            limits=_limits(settings),
            cache_size=settings.search_cache_size,
            metrics=metrics,
        )
        writer.start()
        return cls(settings, db, indexes, writer, searchers, articles, search)

    @classmethod
    def _start_postgres(cls, settings: Settings, db: Database) -> Runtime:
        """PostgreSQL search: no index files, no writer; the migration (under an advisory lock,
        for replicas starting together) creates the full-text columns and index."""
        db.migrate(wait=settings.database_wait_seconds)
        articles = ArticleService(
            db=db, writer=None, refresh_timeout=settings.refresh_wait_seconds, outbox=False
        )
        search = PostgresSearchService(db=db, articles=articles, limits=_limits(settings))
        return cls(settings, db, None, None, None, articles, search)

    def stop(self) -> None:
        """Stop the writer, close searchers and indexes, dispose of the engines."""
        if self.writer is not None:
            self.writer.stop()
        if self.searchers is not None:
            self.searchers.close()
        if self.indexes is not None:
            self.indexes.close()
        self.db.dispose()
