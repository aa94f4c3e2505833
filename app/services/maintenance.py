"""Keeping the derived index true to the store: rebuild with an atomic swap, check and repair."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from app.search.index import IndexStore, document_ids
from app.search.schema import to_document
from app.store import articles as store
from app.store.db import Database

log = logging.getLogger("newsdesk.maintenance")
_CHUNK = 1000
# Generous: clocks of the rebuilding process and the writers are the same machine's.
_CLOCK_MARGIN = timedelta(seconds=2)


@dataclass(frozen=True)
class Drift:
    """How the index differs from the store."""

    articles: int
    documents: int
    missing: list[int] = field(default_factory=list)  # stored, not indexed
    orphans: list[int] = field(default_factory=list)  # indexed, not stored
    duplicated: list[int] = field(default_factory=list)  # indexed more than once
    pending: int = 0

    @property
    def clean(self) -> bool:
        """Whether store and index hold the same ids, once each."""
        return not (self.missing or self.orphans or self.duplicated)


def check(*, db: Database, indexes: IndexStore) -> Drift:
    """Compare the id sets of the store and the live index."""
    _, ix = indexes.live()
    with db.reading() as session:
        pending = store.count_pending(session=session)
        stored = store.article_ids(session=session)
    indexed = document_ids(ix)
    return Drift(
        articles=len(stored),
        documents=sum(indexed.values()),
        missing=sorted(stored - indexed.keys()),
        orphans=sorted(indexed.keys() - stored),
        duplicated=sorted(i for i, n in indexed.items() if n > 1),
        pending=pending,
    )


def repair(*, db: Database, drift: Drift) -> int:
    """Queue every drifted id; the writer re-indexes or removes each. Returns how many."""
    ids = sorted(set(drift.missing) | set(drift.orphans) | set(drift.duplicated))
    with db.writing() as session:
        store.enqueue(session=session, article_ids=ids)
    return len(ids)


def _index_ids(writer: Any, db: Database, ids: list[int], *, fresh: bool) -> None:
    for i in range(0, len(ids), _CHUNK):
        chunk = ids[i : i + _CHUNK]
        with db.reading() as session:
            found = store.get_articles(session=session, ids=chunk)
        for article_id in chunk:
            if article_id in found:
                document = to_document(found[article_id])
                if fresh:
                    writer.add_document(**document)
                else:
                    writer.update_document(**document)
            elif not fresh:
                writer.delete_by_term("id", article_id)


class RebuildRunning(RuntimeError):
    """Another rebuild holds the reindex lock."""


def rebuild(
    *, db: Database, indexes: IndexStore, progress: Callable[[int], None] | None = None
) -> tuple[str, int]:
    """Build a new generation from the store and publish it; returns its name and size.

    Writes keep flowing meanwhile: the live writer indexes them into the old generation, and
    the catch-up below, run while holding the old generation's write lock, copies every article
    changed since the build began, and every id that differs, into the new one before the swap.
    One rebuild at a time (a lock file), or two could publish over each other and prune the
    other's generation.
    """
    indexes.root.mkdir(parents=True, exist_ok=True)
    with (indexes.root / "reindex.lock").open("a+b") as guard:
        try:
            fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RebuildRunning("another `newsdesk reindex` is running") from None
        return _rebuild(db=db, indexes=indexes, progress=progress)


def _live_write_lock(indexes: IndexStore) -> tuple[str | None, Any]:
    """The live generation's name and a writer holding its lock, the name checked under it."""
    while True:
        live_name = indexes.current_name()
        if live_name is None:
            return None, None
        lock = indexes.open(live_name).writer(timeout=120.0)
        if indexes.current_name() == live_name:
            return live_name, lock
        lock.cancel()  # published over while we waited: lock the new live generation instead


def _rebuild(
    *, db: Database, indexes: IndexStore, progress: Callable[[int], None] | None
) -> tuple[str, int]:
    with db.reading() as session:
        started = store.now_utc() - _CLOCK_MARGIN
        ids = sorted(store.article_ids(session=session))
    name, ix = indexes.create()
    writer = ix.writer(limitmb=256)
    try:
        for i in range(0, len(ids), _CHUNK):
            _index_ids(writer, db, ids[i : i + _CHUNK], fresh=True)
            if progress:
                progress(min(_CHUNK, len(ids) - i))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    live_name, live_lock = _live_write_lock(indexes)
    try:
        with db.reading() as session:
            changed = store.updated_since(session=session, moment=started)
            stored = store.article_ids(session=session)
        indexed = document_ids(ix)
        catch_up = sorted(set(changed) | (stored - indexed.keys()) | (indexed.keys() - stored))
        writer = ix.writer(timeout=30.0)
        _index_ids(writer, db, catch_up, fresh=False)
        writer.commit()
        indexes.publish(name)
        log.info("published index %s (%d articles, %d caught up)", name, len(stored), len(catch_up))
    finally:
        if live_lock is not None:
            live_lock.cancel()
    indexes.prune(keep={name, live_name} if live_name else {name})
    return name, len(stored)
