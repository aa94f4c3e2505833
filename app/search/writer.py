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
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy.exc import OperationalError
from whoosh.reading import SegmentReader

from app import memory
from app.metrics import Metrics
from app.search.builder import (
    BuilderFailed,
    Built,
    SegmentBuilder,
    Stale,
    build_segment,
    clear_builds,
    installing,
)
from app.search.index import IndexStore
from app.search.schema import to_document
from app.store import articles as store
from app.store.db import Database, is_unavailable, log_failure

log = logging.getLogger("newsdesk.indexer")

# Segments are merged by the segment builder, away from the write lock (app/search/builder.py),
# so no article waits for a merge. While articles flow, the smallest segments of a size tier
# are merged once the tier has TIER_WIDTH of them, up to BUSY_MERGE_BYTES; after IDLE_SECONDS
# without work, any two or more of a tier, up to IDLE_MERGE_BYTES, round after round. Without
# a builder (it failed), merges run inside the commits as Whoosh does, busy ones kept small:
# Whoosh's default policy merged the sample's large segments with small new ones under load
# and held new articles back for ~25 s.
TIER_WIDTH = 8
BUSY_MERGE_BYTES = 64 * 1024 * 1024
LOCKED_MERGE_BYTES = 4 * 1024 * 1024
IDLE_MERGE_BYTES = 512 * 1024 * 1024
IDLE_SECONDS = 5.0
# While a backlog is written the builder builds half of it, and merges only past this many
# segments: a merge then would leave the writer building alone.
BACKLOG_SEGMENTS = 24
# A batch the builder has not built in this long is built here (a batch takes seconds).
BUILD_SECONDS = 300.0
# From this many waiting rows a batch is built by the second helper rather than in this
# process (a trickle of single writes is not worth a trip to another process).
BESIDE_BATCH = 32
# After a failed merge (a full disk, the helper killed), none is started for this long.
MERGE_BACKOFF_SECONDS = 60.0


def segment_bytes(storage: Any, segment: Any) -> int:
    """The size of a segment's files on disk."""
    return sum(storage.file_length(name) for name in segment.list_files(storage))


def choose_merge(storage: Any, segments: list[Any], max_bytes: int, width: int) -> list[Any]:
    """The smallest segments of the first size tier holding at least `width` of them, never
    more than `max_bytes` in all (none when no tier qualifies)."""
    sizes = {id(s): max(1, segment_bytes(storage, s)) for s in segments}
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
        if len(chosen) >= 2:
            return [s for s in segments if any(s is c for c in chosen)]  # in index order
    return []


def tiered_merges(max_bytes: int, width: int = TIER_WIDTH) -> Any:
    """A Whoosh merge policy merging, inside the commit, what `choose_merge` chooses."""

    def merge(writer: Any, segments: list[Any]) -> list[Any]:
        chosen = choose_merge(writer.storage, segments, max_bytes, width)
        for segment in chosen:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
        return [s for s in segments if all(s is not c for c in chosen)]

    return merge


def no_merges(writer: Any, segments: list[Any]) -> list[Any]:
    """A Whoosh merge policy that leaves the segments as they are."""
    return segments


@dataclass
class _Batch:
    """Outbox rows read together, and what the index is to hold for their articles."""

    rows: list[Any]
    article_ids: list[int]
    documents: list[dict[str, Any]]

    @property
    def last_row(self) -> int:
        return max(int(row.id) for row in self.rows)


@dataclass
class _Merge:
    """A merge under way in the builder."""

    generation: str
    idle: bool
    started: float = field(default_factory=time.monotonic)


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
    """Owns the Whoosh writer; `wake()` after a write, `wait_for()` to read one's own writes.

    With segment builders (the default), merges run in the first builder's process, a backlog
    is written two batches at a time, one by each builder, and a large batch while the first
    merges by the second; the lock is held only to install them.
    """

    def __init__(
        self,
        *,
        db: Database,
        indexes: IndexStore,
        lock_path: Path,
        batch_size: int,
        poll_seconds: float,
        metrics: Metrics | None = None,
        builder: bool = True,
    ) -> None:
        self._db = db
        self._metrics = metrics
        self._lock_path = lock_path
        self._lock_file: BinaryIO | None = None
        self._indexes = indexes
        self._batch_size = batch_size
        self._poll = poll_seconds
        self._builder = SegmentBuilder() if builder else None
        # A second helper builds a backlog's other batch, and a large batch while the first
        # merges: a process that analyses batches keeps their memory (freed, but too scattered
        # to be given back), and a helper's goes when it ends, once the index is idle.
        self._second = SegmentBuilder() if builder else None
        self._merge: _Merge | None = None  # the builder's merge under way
        self._backlog = False  # more than a batch waited at the last drain
        self._merge_failed = -MERGE_BACKOFF_SECONDS  # when a merge last failed
        self._idle_merge_started: float | None = None
        self._idle_merge_before = 0
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="newsdesk-indexer", daemon=True)
        self.last_error: str | None = None

    @property
    def merging(self) -> bool:
        """Whether segments are being merged."""
        return self._merge is not None

    def start(self) -> None:
        """Start draining (once this process holds the writer lock)."""
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch under way, stop, and give up the writer lock."""
        self._stopping.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            # Still in a batch: keep the lock, or another writer could lead and commit a newer
            # copy of an article that this batch would then replace with its older one.
            log.warning("the index writer did not stop in %.0f s; keeping its lock", timeout)
            return
        self.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def close(self) -> None:
        """End the segment builders (a merge under way is abandoned; its sources stay)."""
        for helper in (self._builder, self._second):
            if helper is not None:
                helper.close()
        self._merge = None

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

    # Batches

    def _read_batch(self, after: int = 0, limit: int | None = None) -> _Batch | None:
        with self._db.reading(primary=True) as session:
            limit = limit or self._batch_size
            rows = store.fetch_outbox(session=session, limit=limit, after=after)
            if not rows:
                return None
            article_ids = sorted({row.article_id for row in rows})
            found = store.get_articles(session=session, ids=article_ids)
        documents = [to_document(found[i]) for i in article_ids if i in found]
        return _Batch(rows=rows, article_ids=article_ids, documents=documents)

    def _settle(self, batch: _Batch, started: float, *, merged: bool = False) -> int:
        elapsed = time.monotonic() - started
        with self._db.writing() as session:
            ids = [row.id for row in batch.rows if row.id is not None]
            store.remove_outbox(session=session, ids=ids)
            left = store.count_pending(session=session) if elapsed > 1.0 else 0
        if self._metrics is not None:  # once the batch is settled: a replay is not counted
            self._metrics.indexed.inc(len(batch.article_ids))
            self._metrics.commit_seconds.observe(elapsed)
            if merged:
                self._metrics.merges.labels("busy").inc()
        if elapsed > 1.0:  # a backlog being worked through: say how far it is
            count = len(batch.documents)
            log.info("indexed %d articles in %.1f s; %d waiting", count, elapsed, left)
        return len(batch.rows)

    def drain(self) -> int:
        """Index one batch from the outbox (two, from a backlog, when the builder is free);
        returns how many outbox rows it settled."""
        self._backlog = False
        with self._db.reading(primary=True) as session:
            if not store.fetch_outbox(session=session, limit=1):
                return 0
            pending = store.count_pending(session=session)
        self._backlog = pending > self._batch_size
        if pending > self._batch_size and self._builder is not None and not self._builder.busy:
            # A long backlog goes in batches twice as large: fewer, larger segments cost less
            # per article (20,000 articles: 235 searchable/s in batches of 500, 261 of 1,000).
            return self._drain_two(2 * self._batch_size if pending > 8 * self._batch_size else None)
        if pending >= BESIDE_BATCH and self._builder is not None and self._second is not None:
            return self._drain_beside()
        return self._drain_one()

    def _drain_one(self) -> int:
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
            batch = self._read_batch()
            if batch is None:
                writer.cancel()
                return 0
            for document in batch.documents:
                writer.update_document(**document)
            found = {document["id"] for document in batch.documents}
            for article_id in batch.article_ids:
                if article_id not in found:
                    writer.delete_by_term("id", article_id)
        except BaseException:
            writer.cancel()
            raise
        # A batch of documents adds a segment; one of deletions only adds none.
        expected = len(ix._segments()) + (1 if batch.documents else 0)
        if self._builder is not None:
            writer.commit(mergetype=no_merges)
        else:
            writer.commit(mergetype=tiered_merges(LOCKED_MERGE_BYTES))
        return self._settle(batch, started, merged=len(ix._segments()) < expected)

    def _drain_two(self, limit: int | None = None) -> int:
        """Two batches of a backlog: the first built by the builder, the second here, at once."""
        assert self._builder is not None
        started = time.monotonic()
        name, ix = self._indexes.live()
        generation, schema = ix.storage.folder, ix.schema
        first = self._read_batch(limit=limit)
        if first is None:
            return 0
        try:
            self._builder.submit("build", generation, schema, first.documents)
        except BuilderFailed as exc:
            self._without_builder(exc)
            return self._drain_one()
        here: Built | None = None
        second: _Batch | None = None
        try:
            second = self._read_batch(after=first.last_row, limit=limit)
            beside = second is not None and self._submit_second(generation, schema, second)
            if second is not None and not beside:
                here = build_segment(generation, schema, second.documents)
            try:
                there = self._builder.result(timeout=BUILD_SECONDS)
            except BuilderFailed as exc:
                log_failure(log, "the segment builder failed; building here", exc)
                there = build_segment(generation, schema, first.documents)
            if second is not None and beside:
                here = self._second_result(generation, schema, second)
        except BaseException:
            if here is not None:
                here.discard()
            self._builder.close()
            if self._second is not None:
                self._second.close()
            raise
        settled = 0
        pending = [(first, there), (second, here)]
        try:
            while pending:  # in the order they were read: a later copy of an article wins
                batch, built = pending.pop(0)
                if batch is None:
                    continue
                if not self._install(name, ix, built, batch.article_ids):
                    break
                settled += self._settle(batch, started)
        finally:
            for _, built in pending:
                if built is not None:
                    built.discard()
        return settled

    def _drain_beside(self) -> int:
        """A large batch built by the second helper (the first one merging), then installed."""
        started = time.monotonic()
        name, ix = self._indexes.live()
        generation, schema = ix.storage.folder, ix.schema
        batch = self._read_batch()
        if batch is None:
            return 0
        if self._submit_second(generation, schema, batch):
            built = self._second_result(generation, schema, batch)
        else:
            built = build_segment(generation, schema, batch.documents)
        if not self._install(name, ix, built, batch.article_ids):
            return 0
        return self._settle(batch, started)

    def _submit_second(self, generation: str, schema: Any, batch: _Batch) -> bool:
        """Give a batch to the second helper; False (built here instead) if it cannot start."""
        assert self._second is not None
        try:
            self._second.submit("build", generation, schema, batch.documents)
        except BuilderFailed as exc:
            log_failure(log, "the second segment builder cannot run; building here", exc)
            return False
        return True

    def _second_result(self, generation: str, schema: Any, batch: _Batch) -> Built | None:
        """The second helper's segment of a batch, or the batch built here if it failed."""
        assert self._second is not None
        try:
            return self._second.result(timeout=BUILD_SECONDS)
        except BuilderFailed as exc:
            log_failure(log, "the second segment builder failed; building here", exc)
            return build_segment(generation, schema, batch.documents)

    def _install(
        self, name: str, ix: Any, built: Built | None, replaced_ids: Sequence[int] = ()
    ) -> bool:
        """Install a built segment under the lock, deleting the older copies of `replaced_ids`
        first; False (and the segment discarded) when the live generation changed."""
        try:
            writer = ix.writer(timeout=30.0)
            if self._indexes.current_name() != name or self._stopping.is_set():
                writer.cancel()  # a new generation, or stopping: the rows stay in the outbox
                self._wake.set()
                return False
            try:
                for article_id in replaced_ids:
                    writer.delete_by_term("id", article_id)
                writer.commit(mergetype=installing(ix.storage, built))
            except BaseException:
                writer.cancel()
                raise
            return True
        finally:
            if built is not None:
                built.discard()

    # Merges

    def start_merge(self, *, idle: bool, most: int = 0) -> bool:
        """Give the builder a merge when a tier calls for one (and, with `most`, only once the
        index has more segments than that); whether it did."""
        if self._builder is None or self._builder.busy or self._stopping.is_set():
            return False
        if time.monotonic() - self._merge_failed < MERGE_BACKOFF_SECONDS:
            return False
        name, ix = self._indexes.live()
        segments = ix._segments()
        if most and len(segments) <= most:
            return False
        if idle:
            chosen = choose_merge(ix.storage, segments, IDLE_MERGE_BYTES, width=2)
        else:
            chosen = choose_merge(ix.storage, segments, BUSY_MERGE_BYTES, width=TIER_WIDTH)
        if not chosen:
            return False
        try:
            self._builder.submit("merge", ix.storage.folder, ix.schema, chosen)
        except BuilderFailed as exc:
            self._without_builder(exc)
            return False
        self._merge = _Merge(generation=name, idle=idle)
        return True

    def _without_builder(self, failure: Exception) -> None:
        """Go on as plain Whoosh does (merges inside commits) when the builder cannot run."""
        log_failure(log, "the segment builder cannot run; merging inside commits", failure)
        for helper in (self._builder, self._second):
            if helper is not None:
                helper.close()
        self._builder = self._second = None

    def finish_merge(self, *, wait: bool = False) -> None:
        """Install the builder's merge if it has finished (with `wait`, once it has)."""
        merge = self._merge
        if merge is None or self._builder is None:
            return
        if not wait and not self._builder.ready():
            return
        self._merge = None
        try:
            built = self._builder.result()
        except BuilderFailed as exc:
            log_failure(log, "merge failed", exc)
            self._merge_failed = time.monotonic()
            return
        name, ix = self._indexes.live()
        if name != merge.generation:
            if built is not None:
                built.discard()
            return
        try:
            installed = self._install(name, ix, built)
        except Stale:
            return
        if installed and self._metrics is not None:
            self._metrics.merges.labels("idle" if merge.idle else "busy").inc()
            if merge.idle:
                self._metrics.merge_seconds.observe(time.monotonic() - merge.started)

    def _log_idle_merge(self, before: int, started: float) -> None:
        _, ix = self._indexes.live()
        after = len(ix._segments())
        if after < before:
            took = time.monotonic() - started
            log.info("idle merge: %d segments into %d in %.1f s", before, after, took)

    def step(self) -> int:
        """One turn of the writer's loop: install a finished merge, index a batch (or two),
        start a merge a size tier calls for; returns how many outbox rows it settled."""
        self.finish_merge()
        settled = self.drain()
        if self._merge is None:
            self.start_merge(idle=False, most=BACKLOG_SEGMENTS if self._backlog else 0)
        return settled

    def _run(self) -> None:
        # One writer per data directory, across processes: whoever holds the lock file drains
        # the outbox; the others wait and take over if it dies (the kernel drops its lock).
        while not self._stopping.is_set() and not self._lead():
            self._stopping.wait(1.0)
        with suppress(FileNotFoundError):
            clear_builds(Path(self._indexes.live()[1].storage.folder))
        last_work, rested = time.monotonic(), False
        while not self._stopping.is_set():
            try:
                settled = self.step()
                self.last_error = None
            except Exception as exc:  # keep the thread alive; the rows stay in the outbox
                log_failure(log, "indexing batch failed; retrying", exc)
                self.last_error = type(exc).__name__
                settled = 0
                self._stopping.wait(1.0)
            if settled:
                last_work, rested = time.monotonic(), False
                self._idle_merge_started = None  # interrupted: the next idle spell counts anew
                continue
            if self._merge is None and not rested and time.monotonic() - last_work > IDLE_SECONDS:
                outcome = self._idle()
                if outcome == "done":
                    rested = True
                elif outcome == "failed":  # again once all is idle
                    last_work = time.monotonic()
            self._wake.wait(self._poll)
            self._wake.clear()

    def _idle(self) -> str:
        """Start the next idle merge round ("merging"), or, with none left, give memory back
        ("done"); "failed" if it could not."""
        if self._builder is None:
            return self._idle_in_commits()
        if self._second is not None:
            self._second.close()  # no batch to build until the next write: its memory goes
        _, ix = self._indexes.live()
        if self._idle_merge_started is None:
            self._idle_merge_started = time.monotonic()
            self._idle_merge_before = len(ix._segments())
        try:
            if self.start_merge(idle=True):
                return "merging"  # step() installs the round, then the loop comes back here
        except Exception as exc:
            log_failure(log, "idle merge failed", exc)
            return "failed"
        self._log_idle_merge(self._idle_merge_before, self._idle_merge_started)
        self._idle_merge_started = None
        self._builder.close()  # nothing left to merge: its process and memory go
        memory.release()  # the batches and merges are done: give their memory back
        return "done"

    def _idle_in_commits(self) -> str:
        started = time.monotonic()
        name, ix = self._indexes.live()
        before = len(ix._segments())
        try:
            while not self._stopping.is_set():
                with self._db.reading(primary=True) as session:
                    if store.count_pending(session=session):
                        break
                writer = ix.writer(timeout=30.0)
                if self._indexes.current_name() != name:
                    writer.cancel()
                    return "done"
                count = len(ix._segments())
                writer.commit(mergetype=tiered_merges(IDLE_MERGE_BYTES, width=2))
                if len(ix._segments()) >= count:
                    break
        except Exception as exc:
            log_failure(log, "idle merge failed", exc)
            return "failed" if is_unavailable(exc) else "done"
        self._log_idle_merge(before, started)
        memory.release()
        return "done"
