"""Rebuild while serving, repair drift, and back up while writing."""

from __future__ import annotations

import fcntl
import shutil
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest

from tests.durability.server import Server, newsdesk

pytestmark = pytest.mark.slow


def _articles(prefix: str, count: int) -> list[dict[str, str]]:
    return [
        {
            "title": f"Dépêche {prefix}{n}",
            "body": f"Le texte {prefix}x{n} parle de Pyongyang.",
            "language": "fr",
        }
        for n in range(count)
    ]


def test_reindex_while_serving_loses_no_write_and_no_search(tmp_path: Path) -> None:
    data = tmp_path / "data"
    statuses: Counter[int] = Counter()
    acked: dict[str, int] = {}
    stop = threading.Event()
    with Server(data) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        loaded = client.post("/v1/articles/bulk", json=_articles("avant", 600))
        assert loaded.json()["created"] == 600
        server.wait_drained(client)

        def write() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                n = 0
                while not stop.is_set():
                    n += 1
                    token = f"pendant{n}"
                    r = c.post(
                        "/v1/articles", json={"body": f"Le texte {token} arrive.", "language": "fr"}
                    )
                    statuses[r.status_code] += 1
                    if r.status_code == 201:
                        acked[token] = r.json()["id"]
                    if n % 7 == 0:  # deletes during the rebuild must not come back
                        gone = c.delete(f"/v1/articles/{n}")
                        statuses[gone.status_code] += 1

        def read() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                while not stop.is_set():
                    r = c.get("/v1/search", params={"q": "pyongyang"})
                    statuses[r.status_code] += 1
                    if r.status_code == 200 and r.json()["total"] < 400:
                        statuses[-1] += 1  # the index looked empty or partial during the swap

        threads = [threading.Thread(target=write), threading.Thread(target=read)]
        for thread in threads:
            thread.start()
        result = newsdesk("reindex", data_dir=data)
        time.sleep(0.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert result.returncode == 0, result.stderr
        assert "published" in result.stdout
        server.wait_drained(client)
        assert not [s for s in statuses if s >= 500], statuses
        assert statuses[-1] == 0
        assert len(acked) > 5
        for token, article_id in acked.items():
            hits = client.get("/v1/search", params={"q": token}).json()["hits"]
            assert [h["id"] for h in hits] == [article_id]
        health = client.get("/health").json()
        assert health["store"]["articles"] == health["index"]["documents"]
    report = newsdesk("check", "--json", data_dir=data)
    assert report.returncode == 0, report.stdout
    generations = [p for p in (data / "index").iterdir() if p.is_dir()]
    assert len(generations) <= 2


def test_check_reports_and_repairs_drift(tmp_path: Path) -> None:
    data = tmp_path / "data"
    corpus = tmp_path / "a.json"
    corpus.write_bytes(orjson.dumps(_articles("x", 20)))
    assert newsdesk("ingest", str(corpus), data_dir=data).returncode == 0
    connection = sqlite3.connect(data / "newsdesk.db")
    connection.execute("DELETE FROM article WHERE id IN (3, 4)")  # behind the outbox's back
    connection.commit()
    connection.close()
    drift = newsdesk("check", "--json", data_dir=data)
    assert drift.returncode == 1
    report = orjson.loads(drift.stdout.strip().splitlines()[-1])
    assert report["orphans"] == [3, 4] and report["missing"] == [] and not report["clean"]
    repaired = newsdesk("check", "--repair", data_dir=data)
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "clean" in repaired.stdout


def test_backup_while_writing_restores_everything_acknowledged_before(tmp_path: Path) -> None:
    data, restored = tmp_path / "data", tmp_path / "restored"
    before: dict[str, int] = {}
    stop = threading.Event()
    with Server(data) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        for n, article in enumerate(_articles("sauve", 300)):
            before[f"sauvex{n}"] = client.post("/v1/articles", json=article).json()["id"]

        def write() -> None:
            with httpx.Client(base_url=server.url, timeout=60) as c:
                n = 0
                while not stop.is_set():
                    n += 1
                    c.post("/v1/articles", json={"body": f"Écrit pendant la sauvegarde {n}."})

        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(0.3)
        snapshot = tmp_path / "snapshot.db"
        result = newsdesk("backup", str(snapshot), data_dir=data)
        stop.set()
        thread.join(timeout=60)
        assert result.returncode == 0, result.stderr
    restored.mkdir()
    shutil.copy(snapshot, restored / "newsdesk.db")
    with Server(restored) as server, httpx.Client(base_url=server.url, timeout=60) as client:
        health = server.wait_drained(client)
        assert health["index"]["documents"] == health["store"]["articles"] >= 300
        for token, article_id in before.items():
            hits = client.get("/v1/search", params={"q": token}).json()["hits"]
            assert [h["id"] for h in hits] == [article_id], token


def test_one_reindex_at_a_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    corpus = tmp_path / "a.json"
    corpus.write_bytes(orjson.dumps(_articles("y", 5)))
    assert newsdesk("ingest", str(corpus), data_dir=data).returncode == 0
    with (data / "index" / "reindex.lock").open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a rebuild is under way
        refused = newsdesk("reindex", data_dir=data)
    assert refused.returncode != 0
    assert "another `newsdesk reindex` is running" in refused.stderr
    assert newsdesk("reindex", data_dir=data).returncode == 0
