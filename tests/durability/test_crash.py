"""kill -9 at any moment loses no acknowledged article: store and index agree after restart."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.durability.server import Server, newsdesk

pytestmark = pytest.mark.slow

CYCLES = 5


def _writer(url: str, name: str, stop: threading.Event, acked: dict[str, int]) -> None:
    rnd = random.Random(name)
    n = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        while not stop.is_set():
            n += 1
            batch = 1 if rnd.random() < 0.6 else rnd.randint(2, 40)
            tokens = [f"jeton{name}x{n}x{k}" for k in range(batch)]
            items = [
                {
                    "url": f"https://example.org/{token}",
                    "title": f"Dépêche {token}",
                    "body": f"Le texte numéro {token} parle de la Corée.",
                    "language": "fr",
                }
                for token in tokens
            ]
            try:
                if batch == 1:
                    response = client.post("/v1/articles", json=items[0])
                    if response.status_code in (200, 201):
                        acked[tokens[0]] = response.json()["id"]
                else:
                    response = client.post("/v1/articles/bulk", json=items)
                    if response.status_code == 200:
                        for token, result in zip(tokens, response.json()["results"], strict=True):
                            acked[token] = result["id"]
            except httpx.HTTPError:
                return  # the server died under us: what was not acknowledged may be lost


def test_kill_dash_nine_loses_nothing_acknowledged(tmp_path: Path) -> None:
    data = tmp_path / "data"
    acked: dict[str, int] = {}
    rnd = random.Random(7)
    for cycle in range(CYCLES):
        server = Server(data).start()
        stop = threading.Event()
        threads = [
            threading.Thread(target=_writer, args=(server.url, f"c{cycle}w{w}", stop, acked))
            for w in range(4)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rnd.uniform(0.8, 2.5))
        server.kill()
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert len(acked) > 50

    with Server(data) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        assert client.get("/health").status_code == 200
        health = server.wait_drained(client)
        assert len(set(acked.values())) == len(acked)
        # A write may commit and die before its answer: the store may hold a few unacknowledged.
        assert len(acked) <= health["store"]["articles"] <= len(acked) + 4 * 40 * CYCLES
        assert health["index"]["documents"] == health["store"]["articles"]
        for token, article_id in acked.items():
            fetched = client.get(f"/v1/articles/{article_id}")
            assert fetched.status_code == 200 and token in fetched.json()["body"]
        sample = random.Random(1).sample(sorted(acked), min(150, len(acked)))
        for token in sample:
            found = client.get("/v1/search", params={"q": token}).json()
            assert [h["id"] for h in found["hits"]] == [acked[token]], token

    report = newsdesk("check", "--json", data_dir=data)
    assert report.returncode == 0, report.stdout + report.stderr
    drift = orjson.loads(report.stdout.strip().splitlines()[-1])
    assert drift["clean"] and drift["documents"] == drift["articles"] >= len(acked)
    connection = sqlite3.connect(data / "newsdesk.db")
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
