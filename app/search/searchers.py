"""Searchers reused per thread, reopened when the index changes (a Searcher is not thread-safe).

`Searcher.refresh()` is not used: in whoosh-reloaded 2.7.5 it hands the new reader the old
reader's segments as well (so documents of segments merged away show up twice) and reuses
segment readers whose deletions changed; on an empty index it raises. Opening a new searcher
after a commit costs about 10 ms once per thread; `up_to_date()` costs microseconds otherwise.
A rebuilt index is published under a new generation name, which each thread notices here.
"""

from __future__ import annotations

import threading
import time

from whoosh.searching import Searcher

from app.search.index import IndexStore

_OPEN_ATTEMPTS = 5


class SearcherPool:
    """One searcher per thread, on the newest commit of the live generation."""

    def __init__(self, indexes: IndexStore) -> None:
        self._indexes = indexes
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: set[Searcher] = set()

    def _open(self) -> tuple[str, Searcher]:
        # A commit deletes the files of the generation it replaces; a searcher opened from the
        # TOC just before that can miss them. Such a race is retried, never shown to a client.
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                name, ix = self._indexes.live()
                return name, ix.searcher()
            except (OSError, KeyError, ValueError):
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")

    def get(self) -> Searcher:
        """This thread's searcher, reopened if the index committed or was swapped since."""
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        name: str | None = getattr(self._local, "name", None)
        live = self._indexes.current_name()
        if searcher is not None and name == live and searcher.up_to_date():
            return searcher
        new_name, fresh = self._open()
        with self._lock:
            if searcher is not None:
                self._all.discard(searcher)
                searcher.close()
            self._all.add(fresh)
        self._local.searcher = fresh
        self._local.name = new_name
        return fresh

    def close(self) -> None:
        """Close every searcher this pool opened."""
        with self._lock:
            for searcher in self._all:
                searcher.close()
            self._all.clear()
