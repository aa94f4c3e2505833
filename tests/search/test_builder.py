"""Segments built and merged away from the write lock: nothing lost, nothing doubled, nothing
waiting for a merge."""

from __future__ import annotations

import fcntl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from whoosh.query import Term

from app.ingest.article import ArticleCreate
from app.search.index import IndexStore, document_ids
from app.search.writer import IndexWriterThread
from app.services.articles import ArticleService
from app.store.db import Database
from tests.conftest import ids, make_client, search, whoosh_only

pytestmark = whoosh_only("the Whoosh index's own machinery (PostgreSQL has none of it)")


class Archive:
    """A store, its index and their writer, driven a step at a time as the writer's loop does."""

    def __init__(self, data: Path) -> None:
        data.mkdir()
        self.db = Database(f"sqlite:///{data / 'newsdesk.db'}")
        self.db.migrate()
        self.indexes = IndexStore(data / "index")
        self.indexes.ensure_live()
        self.writer = IndexWriterThread(
            db=self.db,
            indexes=self.indexes,
            lock_path=data / "indexer.lock",
            batch_size=10,
            poll_seconds=0.05,
        )
        self.articles = ArticleService(db=self.db, writer=None, refresh_timeout=0)

    def add(self, *bodies: str) -> list[int]:
        results = self.articles.upsert_many(
            [ArticleCreate(title=f"Dépêche {b[:24]}", body=b, language="fr") for b in bodies]
        )
        return [r.result.article.id for r in results if r.result and r.result.article.id]

    def drain(self) -> None:
        while self.writer.drain():
            pass

    def segments(self) -> int:
        return len(self.indexes.live()[1]._segments())

    def find(self, word: str) -> list[int]:
        _, ix = self.indexes.live()
        with ix.searcher() as searcher:
            (term,) = ix.schema["body_fr"].process_text(word, mode="query")
            hits = searcher.search(Term("body_fr", term), limit=None)
            return sorted(int(hit["id"]) for hit in hits)

    def close(self) -> None:
        self.writer.close()
        self.indexes.close()
        self.db.dispose()


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    made = Archive(tmp_path / "data")
    yield made
    made.close()


def test_what_changes_during_a_merge_is_kept_when_the_merge_is_installed(
    archive: Archive,
) -> None:
    first = archive.add(*[f"Lyon, brève {n} du matin." for n in range(10)])
    archive.drain()
    second = archive.add(*[f"Lyon, brève {n} du soir." for n in range(10)])
    archive.drain()
    third = archive.add(*[f"Lyon, brève {n} de la nuit." for n in range(10)])
    archive.drain()
    assert archive.segments() == 3
    archive.articles.delete(second[0])  # deleted before the merge: left out of the new segment
    archive.drain()
    assert archive.writer.start_merge(idle=True)  # all three, as they are now
    assert archive.writer.merging
    # Meanwhile: articles of the merged segments are updated and deleted, others arrive.
    moved = [first[2], second[5], third[9]]
    for article_id in moved:
        body = "Nantes, brève corrigée."
        correction = ArticleCreate(title=f"Dépêche {article_id}", body=body, language="fr")
        archive.articles.replace(article_id, correction)
    gone = [first[0], third[3]]
    for article_id in gone:
        archive.articles.delete(article_id)
    late = archive.add(*[f"Lyon, brève {n} tardive." for n in range(3)])
    archive.drain()
    archive.writer.finish_merge(wait=True)
    assert not archive.writer.merging
    assert archive.segments() == 2  # the merged one; the batch written meanwhile
    kept = sorted(set(first + second + third + late) - set(moved) - set(gone) - {second[0]})
    assert archive.find("lyon") == kept
    assert archive.find("nantes") == sorted(moved)
    counts = document_ids(archive.indexes.live()[1])
    assert sorted(counts) == sorted(kept + moved)
    assert set(counts.values()) == {1}


def test_a_merge_whose_segments_left_meanwhile_is_dropped(archive: Archive) -> None:
    for n in range(3):
        archive.add(*[f"Brest, brève {n}-{i}." for i in range(10)])
        archive.drain()
    assert archive.writer.start_merge(idle=True)
    # A rebuild published a new generation while the builder merged the old one's segments.
    name, fresh = archive.indexes.create()
    archive.indexes.publish(name)
    archive.writer.finish_merge(wait=True)
    assert not archive.writer.merging
    assert len(fresh._segments()) == 0


def test_a_backlog_is_indexed_two_batches_at_a_time_with_the_latest_copy(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with (data / "indexer.lock").open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no writer yet: a backlog builds up
        with make_client(tmp_path, index_batch_size=5, max_pending=1000) as client:
            bulk = [
                {"title": f"Dépêche {n}", "body": f"Rennes, brève numéro {n}.", "language": "fr"}
                for n in range(43)
            ]
            made = client.post("/v1/articles/bulk", json=bulk)
            assert made.status_code == 200, made.text
            created = [item["id"] for item in made.json()["results"]]
            corrected = created[7]
            body = {"title": "Dépêche 7", "body": "Quimper, brève corrigée.", "language": "fr"}
            assert client.put(f"/v1/articles/{corrected}", json=body).status_code == 200
            assert client.delete(f"/v1/articles/{created[30]}").status_code == 204
            assert client.get("/health").json()["index"]["pending"] == 45
            fcntl.flock(held, fcntl.LOCK_UN)  # the writer leads and finds 45 rows waiting
            deadline = time.monotonic() + 60
            while client.get("/health").json()["index"]["pending"]:
                assert time.monotonic() < deadline
                time.sleep(0.1)
            rennes = sorted(set(created) - {corrected, created[30]})
            assert sorted(ids(search(client, "rennes", page_size=100))) == rennes
            assert ids(search(client, "quimper")) == [corrected]
            assert client.get("/health").json()["index"]["documents"] == 42
    assert "segment builder" not in caplog.text  # it ran, and never failed


def test_an_article_written_while_a_merge_runs_is_searchable_before_it_ends(
    archive: Archive,
) -> None:
    for n in range(3):
        archive.add(*[f"Lille, brève {n}-{i}." for i in range(10)])
        archive.drain()
    assert archive.writer.start_merge(idle=True)
    (written,) = archive.add("Arras, brève écrite pendant la fusion.")
    archive.drain()  # installs this article's batch; the merge is not waited for
    assert archive.writer.merging
    assert archive.find("arras") == [written]
    archive.writer.finish_merge(wait=True)
    assert archive.find("arras") == [written]
    assert len(archive.find("lille")) == 30


def test_batches_are_analysed_by_the_helpers_and_not_in_the_writers_process(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process that analysed batches keeps their memory; the helpers give theirs back when
    # they end. Only the writer's process runs this module's patched copy.
    def in_the_writer(*_: object) -> None:
        raise AssertionError("a batch was built in the writer's process")

    monkeypatch.setattr("app.search.writer.build_segment", in_the_writer)
    written = archive.add(*[f"Brest, brève {i}." for i in range(45)])  # a backlog: two at once
    archive.drain()
    assert archive.find("brest") == sorted(written)
    for n in range(3):  # large batches while the first helper merges: the second builds them
        archive.add(*[f"Vannes, brève {n}-{i}." for i in range(40)])
        if not archive.writer.merging:
            assert archive.writer.start_merge(idle=True)
        archive.drain()
    archive.writer.finish_merge(wait=True)
    assert len(archive.find("vannes")) == 120
    assert len(archive.find("brest")) == 45
