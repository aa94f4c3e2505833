"""The one index writer: a thread that drains the outbox into Whoosh in batches.

Each batch is at-least-once: the index commits first, then the outbox rows go. A crash between
the two replays the batch, and `update_document` on the unique id makes the replay harmless.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import OperationalError
from whoosh.reading import SegmentReader

from app import memory
from app.metrics import Metrics
from app.search.index import IndexStore
from app.search.schema import to_document
from app.store import articles as store
from app.store.db import Database, is_unavailable, log_failure

log = logging.getLogger("newsdesk.indexer")

# Whoosh merges inside commit(), holding the write lock, so a merge delays every article
# waiting behind it; its cost follows the bytes merged, not the number of documents. While
# articles flow, only segments of one size tier are merged, once the tier has TIER_WIDTH of
# them, and never into more than BUSY_MERGE_BYTES: Whoosh's default policy merged the sample's
# large segments with small new ones under load and held new articles back for ~25 s. After
# IDLE_SECONDS without work, commits merge any two or more segments of a tier, up to
# IDLE_MERGE_BYTES, until no tier has two or an article arrives; `newsdesk reindex` writes a
# single segment again.
TIER_WIDTH = 8
BUSY_MERGE_BYTES = 4 * 1024 * 1024
IDLE_MERGE_BYTES = 512 * 1024 * 1024
IDLE_SECONDS = 5.0


def segment_bytes(storage: Any, segment: Any) -> int:
    """The size of a segment's files on disk."""
    return sum(storage.file_length(name) for name in segment.list_files(storage))


def tiered_merges(max_bytes: int, width: int = TIER_WIDTH) -> Any:
    """A Whoosh merge policy: merge the smallest segments of the first size tier holding at
    least `width` of them, never more than `max_bytes` in all."""

    def merge(writer: Any, segments: list[Any]) -> list[Any]:
        sizes = {id(s): max(1, segment_bytes(writer.storage, s)) for s in segments}
        tiers: dict[int, list[Any]] = {}
        for segment in segments:  # tiers by powers of 4 of their bytes
            tiers.setdefault(sizes[id(segment)].bit_length() // 2, []).append(segment)
        for _, members in sorted(tiers.items()):
            if len(members) < width:
                continue
            chosen: list[Any] = []
            total = 0
            for segment in sorted(members, key=lambda s: sizes[id(s)]):
                if total + sizes[id(segment)] > max_bytes:
                    break
                chosen.append(segment)
                total += sizes[id(segment)]
            if len(chosen) < 2:
                continue
            for segment in chosen:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
            return [s for s in segments if s not in chosen]
        return segments

    return merge


def wait_until_indexed(db: Database, outbox_ids: list[int], timeout: float) -> bool:
    """Poll the outbox until these rows are gone (True) or the timeout passes (False).

    The store is asked, not the writer, so this works from any process.
    """
    deadline = time.monotonic() + timeout
    while True:
        failure: OperationalError | None = None
        try:
            with db.reading(primary=True) as session:
                if not store.outbox_contains(session=session, ids=outbox_ids):
                    return True
        except OperationalError as exc:  # the rows are committed: wait for PostgreSQL too
            if not is_unavailable(exc):
                raise
            failure = exc
        if time.monotonic() > deadline:
            if failure is not None:
                log_failure(log, "waiting for the index", failure)
            return False
        time.sleep(0.1 if failure else 0.02)


class IndexWriterThread:
    """Owns the Whoosh writer; `wake()` after a write, `wait_for()` to read one's own writes."""

    def __init__(
        self,
        *,
        db: Database,
        indexes: IndexStore,
        lock_path: Path,
        batch_size: int,
        poll_seconds: float,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._lock_path = lock_path
        self._lock_file: BinaryIO | None = None
        self._indexes = indexes
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newsdesk-indexer", daemon=True)
        self.last_error: str | None = None
        self.merging = False  # an idle merge round is under way

    def start(self) -> None:
        """Start draining (once this process holds the writer lock)."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch under way, stop, and give up the writer lock."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _lead(self) -> bool:
        handle = self._lock_path.open("a+b")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lock_file = handle
        log.info("this process is the index writer (pid %d)", os.getpid())
        return True

    @property
    def leading(self) -> bool:
        """Whether this process is the one that writes the index."""
        return self._lock_file is not None

    @property
    def alive(self) -> bool:
        """Whether the thread runs."""
        return self._thread.is_alive()

    def wake(self) -> None:
        """Tell the writer that the outbox has new rows."""
        self._wake.set()

    def wait_for(self, outbox_ids: list[int], timeout: float) -> bool:
        """Block until these outbox rows are indexed (True) or the timeout passes (False)."""
        self.wake()
        return wait_until_indexed(self._db, outbox_ids, timeout)

    def drain(self) -> int:
        """Index one batch from the outbox; returns how many outbox rows it settled."""
        with self._db.reading(primary=True) as session:
            if not store.fetch_outbox(session=session, limit=1):
                return 0
        # Take Whoosh's lock before reading the batch, so that no other writer can commit an
        # older copy of these articles after ours.
        name, ix = self._indexes.live()
        writer = ix.writer(timeout=30.0)
        if self._indexes.current_name() != name:
            # A rebuild published a new generation while we waited for the old one's lock.
            writer.cancel()
            self._wake.set()
            return 0
        started = time.monotonic()
        try:
            with self._db.reading(primary=True) as session:
                rows = store.fetch_outbox(session=session, limit=self._batch_size)
                article_ids = sorted({row.article_id for row in rows})
                found = store.get_articles(session=session, ids=article_ids)
                documents = [to_document(found[i]) for i in article_ids if i in found]
            for document in documents:
                writer.update_document(**document)
            for article_id in article_ids:
                if article_id not in found:
                    writer.delete_by_term("id", article_id)
        except BaseException:
            writer.cancel()
            raise
        # A batch of documents adds a segment; one of deletions only adds none.
        expected = len(ix._segments()) + (1 if documents else 0)
        writer.commit(mergetype=tiered_merges(BUSY_MERGE_BYTES))
        elapsed = time.monotonic() - started
        merged = len(ix._segments()) < expected
        with self._db.writing() as session:
            store.remove_outbox(session=session, ids=[row.id for row in rows if row.id is not None])
            left = store.count_pending(session=session) if elapsed > 1.0 else 0
        if self._metrics is not None:  # once the batch is settled: a replay is not counted
            self._metrics.indexed.inc(len(article_ids))
            self._metrics.commit_seconds.observe(elapsed)
            if merged:
                self._metrics.merges.labels("busy").inc()
        if elapsed > 1.0:  # a backlog being worked through, or a merge: say how far it is
            log.info("indexed %d articles in %.1f s; %d waiting", len(documents), elapsed, left)
        return len(rows)

    def consolidate(self) -> None:
        """Merge segments, a size tier per commit, while no article waits (run when idle).

        Each segment costs every search a matcher per field family, so an archive at rest is
        best kept in few segments; each round is a commit of its own, so an article arriving
        meanwhile waits for one round at most.
        """
        self.merging = True
        try:
            self._consolidate()
        finally:
            self.merging = False

    def _consolidate(self) -> None:
        started = time.monotonic()
        name, ix = self._indexes.live()
        before = len(ix._segments())
        while not self._stopping.is_set():
            with self._db.reading(primary=True) as session:
                if store.count_pending(session=session):
                    break
            writer = ix.writer(timeout=30.0)
            if self._indexes.current_name() != name:
                writer.cancel()
                return
            count = len(ix._segments())
            round_started = time.monotonic()
            writer.commit(mergetype=tiered_merges(IDLE_MERGE_BYTES, width=2))
            if len(ix._segments()) >= count:
                break
            if self._metrics is not None:
                self._metrics.merges.labels("idle").inc()
                self._metrics.merge_seconds.observe(time.monotonic() - round_started)
        after = len(ix._segments())
        if after < before:
            log.info(
                "idle merge: %d segments into %d in %.1f s",
                before,
                after,
                time.monotonic() - started,
            )

    def _run(self) -> None:
        # One writer per data directory, across processes: whoever holds the lock file drains
        # the outbox; the others wait and take over if it dies (the kernel drops its lock).
        while not self._stopping.is_set() and not self._lead():
            self._stopping.wait(1.0)
        last_work, merged = time.monotonic(), False
        while not self._stopping.is_set():
            try:
                settled = self.drain()
                self.last_error = None
            except Exception as exc:  # keep the thread alive; the rows stay in the outbox
                log_failure(log, "indexing batch failed; retrying", exc)
                self.last_error = type(exc).__name__
                settled = 0
                self._stopping.wait(1.0)
            if settled:
                last_work, merged = time.monotonic(), False
            elif not merged and time.monotonic() - last_work > IDLE_SECONDS:
                merged = True
                try:
                    self.consolidate()
                except Exception as exc:
                    log_failure(log, "idle merge failed", exc)
                    if is_unavailable(exc):  # again once PostgreSQL is back and all is idle
                        last_work, merged = time.monotonic(), False
                memory.release()  # the batches and merges are done: give their memory back
            if settled == 0:
                self._wake.wait(self._poll)
                self._wake.clear()
