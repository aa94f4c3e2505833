"""Searchers reused per thread, refreshed when the index changes (a Searcher is not thread-safe)."""

from __future__ import annotations

import threading

from whoosh.index import FileIndex
from whoosh.searching import Searcher


class SearcherPool:
    """One searcher per thread, refreshed before each use; `close()` closes them all."""

    def __init__(self, ix: FileIndex) -> None:
        self._ix = ix
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[Searcher] = []

    def get(self) -> Searcher:
        """This thread's searcher, on the newest committed generation."""
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self._ix.searcher()
            with self._lock:
                self._all.append(searcher)
        else:
            fresh = searcher.refresh()
            if fresh is not searcher:
                with self._lock:
                    self._all.remove(searcher)
                    self._all.append(fresh)
                searcher = fresh
        self._local.searcher = searcher
        return searcher

    def close(self) -> None:
        """Close every searcher this pool opened."""
        with self._lock:
            for searcher in self._all:
                searcher.close()
            self._all.clear()
