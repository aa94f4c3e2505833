"""Compound index segments are read in place: a new searcher does not copy the index."""

from __future__ import annotations

import io
import random
import threading
import tracemalloc
from pathlib import Path

from whoosh import query

from app.search import columns
from app.search.buffers import ViewFile
from tests.conftest import make_client, search, whoosh_only

pytestmark = whoosh_only("the Whoosh index's own machinery (PostgreSQL has none of it)")


def test_view_file_reads_like_bytes_io() -> None:
    data = bytes(random.Random(7).randrange(256) for _ in range(5000)) + b"\nlast line\n"
    view, reference = ViewFile(memoryview(data)), io.BytesIO(data)
    rng = random.Random(11)
    for _ in range(2000):
        action = rng.choice(["read", "seek", "seek_cur", "seek_end", "readline", "read_all"])
        if action == "read":
            n = rng.randrange(0, 64)
            assert view.read(n) == reference.read(n)
        elif action == "seek":
            where = rng.randrange(0, len(data) + 10)
            assert view.seek(where) == reference.seek(where)
        elif action == "seek_cur":
            step = rng.randrange(0, 40)
            assert view.seek(step, 1) == reference.seek(step, 1)
        elif action == "seek_end":
            back = -rng.randrange(0, 40)
            assert view.seek(back, 2) == reference.seek(back, 2)
        elif action == "readline":
            assert view.readline() == reference.readline()
        else:
            assert view.read() == reference.read()
        assert view.tell() == reference.tell()


def test_a_searcher_in_a_new_thread_does_not_copy_the_index(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        words = [f"mot{i}" for i in range(4000)]
        rng = random.Random(3)
        articles = [
            {"title": f"Article {n}", "body": " ".join(rng.choices(words, k=400)), "language": "fr"}
            for n in range(300)
        ]
        response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=articles)
        assert response.status_code == 200
        index_bytes = sum(
            f.stat().st_size for f in (tmp_path / "data" / "index").rglob("*") if f.is_file()
        )
        assert search(client, "mot7")["total"] > 0
        pool = client.app.state.runtime.searchers  # type: ignore[attr-defined]

        def open_and_search() -> None:  # a new thread opens a searcher of its own
            searcher = pool.get()
            for word in ("mot1", "mot2", "mot3"):
                assert len(searcher.search(query.Term("body_fr", word))) > 0

        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        thread = threading.Thread(target=open_and_search)
        thread.start()
        thread.join()
        grown = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert index_bytes > 1_000_000
        assert grown < index_bytes / 4, (grown, index_bytes)


def _maps_of(folder: Path) -> list[str]:
    """The compound segment files of `folder` mapped into this process, once per mapping."""
    return [
        line.split()[-1]
        for line in Path("/proc/self/maps").read_text().splitlines()
        if line.endswith(".seg") and str(folder) in line
    ]


def test_searchers_of_all_threads_share_one_map_per_segment(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        articles = [
            {"body": f"Le pont numéro {n} est rouvert.", "language": "fr"} for n in range(50)
        ]
        response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=articles)
        assert response.status_code == 200
        pool = client.app.state.runtime.searchers  # type: ignore[attr-defined]
        folder = tmp_path / "data" / "index"
        release = threading.Event()
        opened = threading.Barrier(5)

        def search_then_wait() -> None:  # each thread opens a searcher of its own
            assert len(pool.get().search(query.Term("body_fr", "pont"))) == 50
            opened.wait()
            release.wait()

        threads = [threading.Thread(target=search_then_wait) for _ in range(4)]
        for thread in threads:
            thread.start()
        try:
            opened.wait()
            mapped = _maps_of(folder)
        finally:
            release.set()
            for thread in threads:
                thread.join()
        assert mapped and len(mapped) == len(set(mapped)), mapped
        pool.get()  # renewing closes the searchers of the ended threads
        assert search(client, "pont")["total"] == 50  # the map outlives the readers closed


def test_threads_share_the_column_arrays_of_a_segment(tmp_path: Path) -> None:
    """Date and facet columns are loaded once per segment, not once per serving thread."""
    with make_client(tmp_path) as client:
        articles = [
            {"body": f"Le col numéro {n}.", "language": "fr", "published_at": "2023-09"}
            for n in range(30)
        ]
        response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=articles)
        assert response.status_code == 200
        pool = client.app.state.runtime.searchers  # type: ignore[attr-defined]
        loaded: list[tuple[object, object, object]] = []

        def load() -> None:  # each thread has a searcher, and readers, of its own
            searcher = pool.get()
            (reader,) = [r for r, _ in searcher.reader().leaf_readers()]
            loaded.append(
                (reader, columns.values(reader, "ts_new"), columns.labels(reader, "month"))
            )

        threads = [threading.Thread(target=load) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        readers = {id(reader) for reader, _, _ in loaded}
        assert len(readers) == 3  # three readers of one segment…
        assert len({id(dates) for _, dates, _ in loaded}) == 1  # …one array of its dates
        assert len({id(months) for _, _, months in loaded}) == 1
        assert loaded[0][2][1] == ["2023-09"]
        assert search(client, "col", **{"from": "2023-09", "to": "2023-09"})["total"] == 30
