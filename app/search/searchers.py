"""Searchers reused per thread, reopened when the index changes (a Searcher is not thread-safe).

`Searcher.refresh()` is not used: in whoosh-reloaded 2.7.5 it hands the new reader the old
reader's segments as well (so documents of segments merged away show up twice) and reuses
segment readers whose deletions changed; on an empty index it raises. Opening a new searcher
after a commit costs about 10 ms once per thread; `up_to_date()` costs microseconds otherwise.
"""

from __future__ import annotations

import threading

from whoosh.index import FileIndex
from whoosh.searching import Searcher


class SearcherPool:
    """One searcher per thread, on the newest committed generation; `close()` closes them all."""

    def __init__(self, ix: FileIndex) -> None:
        self._ix = ix
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: set[Searcher] = set()

    def get(self) -> Searcher:
        """This thread's searcher, reopened if the index committed since it was opened."""
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        if searcher is not None and searcher.up_to_date():
            return searcher
        fresh = self._ix.searcher()
        with self._lock:
            if searcher is not None:
                self._all.discard(searcher)
                searcher.close()
            self._all.add(fresh)
        self._local.searcher = fresh
        return fresh

    def close(self) -> None:
        """Close every searcher this pool opened."""
        with self._lock:
            for searcher in self._all:
                searcher.close()
            self._all.clear()
