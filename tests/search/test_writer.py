"""One index writer per data directory: election by lock file, takeover, back-pressure."""

from __future__ import annotations

import fcntl
import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import ids, make_client, search, whoosh_only

pytestmark = whoosh_only("the Whoosh index's own machinery (PostgreSQL has none of it)")

MODES = pytest.mark.parametrize("indexer", ["process", "thread"])


@MODES
def test_backlog_past_its_bound_gets_503_then_drains(tmp_path: Path, indexer: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with (data / "indexer.lock").open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another process is "the writer"
        with make_client(tmp_path, max_pending=2, indexer=indexer) as client:
            for n in range(3):
                made = client.post("/v1/articles", json={"body": f"Dépêche numéro {n}."})
                assert made.status_code == 201
            refused = client.post("/v1/articles", json={"body": "Une de trop."})
            assert refused.status_code == 503
            assert refused.headers["retry-after"] == "5"
            assert refused.headers["content-type"] == "application/problem+json"
            assert client.get("/health").json()["index"]["pending"] == 3
            fcntl.flock(held, fcntl.LOCK_UN)  # the other writer died: this one takes over
            deadline = time.monotonic() + 10
            while client.get("/health").json()["index"]["pending"] and time.monotonic() < deadline:
                time.sleep(0.1)
            assert search(client, "dépêche")["total"] == 3
            assert client.post("/v1/articles", json={"body": "Enfin."}).status_code == 201
    with make_client(tmp_path) as client:
        assert client.get("/v1/articles").json()["total"] == 4


@MODES
def test_two_apps_on_one_directory_share_one_writer(tmp_path: Path, indexer: str) -> None:
    with (
        make_client(tmp_path, indexer=indexer) as first,
        make_client(tmp_path, indexer=indexer) as second,
    ):
        leaders = [c.app.state.runtime.writer.leading for c in (first, second)]
        deadline = time.monotonic() + 5
        while not any(leaders) and time.monotonic() < deadline:
            time.sleep(0.05)
            leaders = [c.app.state.runtime.writer.leading for c in (first, second)]
        assert sorted(leaders) == [False, True]
        follower = second if leaders[0] else first
        made = follower.post(
            "/v1/articles",
            params={"refresh": "wait"},
            json={"body": "Écrit par le suiveur, indexé par le meneur."},
        )
        assert made.status_code == 201
        # both see it: the follower's searcher reopens on the leader's commit
        assert ids(search(follower, "suiveur")) == [made.json()["id"]]
        leader = first if leaders[0] else second
        assert ids(search(leader, "suiveur")) == [made.json()["id"]]


@MODES
def test_a_schema_version_change_rebuilds_the_index_at_start(tmp_path: Path, indexer: str) -> None:
    with make_client(tmp_path, indexer=indexer) as client:
        made = client.post(
            "/v1/articles",
            params={"refresh": "wait"},
            json={"body": "Analysé avec l'ancien schéma.", "language": "fr"},
        )
        old = (tmp_path / "data" / "index" / "CURRENT").read_text().strip()
    (tmp_path / "data" / "index" / old / "newsdesk_schema_version").write_text("0\n")
    with make_client(tmp_path, indexer=indexer) as client:
        new = (tmp_path / "data" / "index" / "CURRENT").read_text().strip()
        assert new != old
        deadline = time.monotonic() + 10
        while client.get("/health").json()["index"]["pending"] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ids(search(client, "ancien")) == [made.json()["id"]]
        assert client.get("/health").json()["index"]["documents"] == 1


def test_a_killed_indexer_process_is_replaced(tmp_path: Path) -> None:
    with make_client(tmp_path, indexer="process") as client:
        writer = client.app.state.runtime.writer
        first = writer.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        made = client.post(
            "/v1/articles",
            params={"refresh": "wait"},
            json={"body": "Indexé par le remplaçant.", "language": "fr"},
        )
        assert made.status_code == 201
        assert ids(search(client, "remplaçant")) == [made.json()["id"]]
        assert writer.pid != first and writer.alive
        assert client.get("/health").json()["status"] == "ok"


def test_an_idle_index_is_merged_into_few_segments(tmp_path: Path) -> None:
    """Each write batch commits a segment; once no article waits, idle merges fold them."""
    with make_client(tmp_path) as client:
        for n in range(6):
            batch = [{"body": f"Lot {n}, article {i}.", "language": "fr"} for i in range(5)]
            response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=batch)
            assert response.status_code == 200
        assert client.get("/health").json()["index"]["segments"] >= 2
        deadline = time.monotonic() + 60
        # `merging` says whether a round is under way; it ends once nothing is left to merge.
        while (index := client.get("/health").json()["index"])["segments"] > 1 or index["merging"]:
            assert time.monotonic() < deadline, index
            time.sleep(0.5)
        assert index["documents"] == 30
        assert client.get("/v1/search", params={"q": "lot"}).json()["total"] == 30
