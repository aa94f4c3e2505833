"""Searchers of request threads that have ended are closed, with the files they held."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from pathlib import Path

from app.search.index import IndexStore
from app.search.searchers import SearcherPool
from tests.conftest import whoosh_only

pytestmark = whoosh_only("the Whoosh index's own machinery (PostgreSQL has none of it)")


def _deleted_files_open() -> int:
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd).endswith(" (deleted)")
    return count


def test_searchers_of_ended_threads_do_not_pile_up(tmp_path: Path) -> None:
    indexes = IndexStore(tmp_path / "index")
    _, ix, _ = indexes.ensure_live()
    pool = SearcherPool(indexes)
    for n in range(120):  # one commit, then a search from a new thread, like a thread pool
        writer = ix.writer()
        writer.update_document(id=n + 1, lang="fr", title_fr=f"dépêche {n}", body_fr="texte")
        writer.commit()
        thread = threading.Thread(target=lambda: pool.get().doc_count())
        thread.start()
        thread.join()
    assert pool.get().doc_count() == 120
    gc.collect()
    assert _deleted_files_open() < 10  # merged-away segments are not held open
    assert pool.open_count() <= 2
    pool.close()
    indexes.close()
