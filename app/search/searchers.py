"""Searchers reused per thread, renewed when the index changes (a Searcher is not thread-safe).

`Searcher.refresh()` is not used: in whoosh-reloaded 2.7.5 it hands the new reader the old
reader's segments as well (so documents of segments merged away show up twice) and reuses
segment readers whose deletions changed; on an empty index it raises. `_renew` does what it
should: after a commit, a thread's new reader reuses its segment readers whose segment and
deletions are unchanged and opens only the others (opening every segment cost 10-20 ms per
thread per commit, most of the CPU under a steady trickle of writes). A rebuilt index is
published under a new generation name, which each thread notices here.
"""

from __future__ import annotations

import threading
import time

from whoosh.index import FileIndex
from whoosh.reading import EmptyReader, IndexReader, MultiReader, SegmentReader
from whoosh.searching import Searcher

from app.search.index import IndexStore

_OPEN_ATTEMPTS = 5


def _renew(ix: FileIndex, old: IndexReader | None) -> IndexReader:
    """A reader on the newest commit, reusing `old`'s unchanged segment readers."""
    toc = ix._read_toc()
    reusable: dict[tuple[str, int], IndexReader] = {}
    if old is not None:
        for reader, _ in old.leaf_readers():
            segment = reader.segment()
            if segment is not None:
                reusable[(segment.segment_id(), segment.deleted_count())] = reader
    readers: list[IndexReader] = []
    opened: list[IndexReader] = []
    try:
        for segment in toc.segments:
            reader = reusable.pop((segment.segment_id(), segment.deleted_count()), None)
            if reader is None:
                reader = SegmentReader(ix.storage, toc.schema, segment, generation=toc.generation)
                opened.append(reader)
            readers.append(reader)
    except BaseException:
        for reader in opened:  # only what this attempt opened: the old searcher keeps the rest
            reader.close()
        raise
    for leftover in reusable.values():
        leftover.close()
    if not readers:
        return EmptyReader(toc.schema)
    # Always a MultiReader: it carries the new generation even when a reused reader is alone.
    return MultiReader(readers, generation=toc.generation)


def _version(name: str, searcher: Searcher) -> tuple[str, int]:
    generation = searcher.reader().generation()  # None for an index without segments
    return name, -1 if generation is None else int(generation)


class SearcherPool:
    """One searcher per thread, on the newest commit of the live generation.

    Request threads come and go (the server's thread pool retires idle ones), so each renewal
    also closes the searchers of threads that have ended: left open, they held the files of
    merged-away segments for good.
    """

    def __init__(self, indexes: IndexStore) -> None:
        self._indexes = indexes
        self._lock = threading.Lock()
        self._by_thread: dict[threading.Thread, tuple[str, Searcher]] = {}

    def _open(self, old: Searcher | None, same_generation: bool) -> tuple[str, Searcher]:
        # A commit deletes the files of the generation it replaces; a searcher opened from the
        # TOC just before that can miss them. Such a race is retried, never shown to a client.
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                name, ix = self._indexes.live()
                reuse = old is not None and same_generation and not old.is_closed
                previous = old.reader() if old is not None and reuse else None
                return name, Searcher(_renew(ix, previous), fromindex=ix)
            except (OSError, KeyError, ValueError):
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def get(self) -> Searcher:
        """This thread's searcher, renewed if the index committed or was swapped since."""
        return self.get_versioned()[1]

    def get_versioned(self) -> tuple[tuple[str, int], Searcher]:
        """This thread's searcher and the version of the index it reads: the generation's name
        and its commit number (a rebuilt index counts its commits anew under a new name)."""
        me = threading.current_thread()
        with self._lock:
            name, searcher = self._by_thread.get(me, (None, None))
        live = self._indexes.current_name()
        if searcher is not None and name is not None and name == live and searcher.up_to_date():
            return _version(name, searcher), searcher
        new_name, fresh = self._open(searcher, same_generation=name == live)
        if searcher is not None and name != live:
            searcher.close()
        # else: its unchanged segment readers live on in `fresh`; _renew closed the rest
        with self._lock:
            self._by_thread[me] = (new_name, fresh)
            ended = [t for t in self._by_thread if not t.is_alive()]
            retired = [self._by_thread.pop(t)[1] for t in ended]
        for old in retired:
            old.close()
        return _version(new_name, fresh), fresh

    def open_count(self) -> int:
        """How many searchers are open (one per live thread that searched)."""
        with self._lock:
            return len(self._by_thread)

    def close(self) -> None:
        """Close every searcher this pool opened."""
        with self._lock:
            for _, searcher in self._by_thread.values():
                searcher.close()
            self._by_thread.clear()
