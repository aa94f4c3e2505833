"""Several workers: one elected index writer, every worker reads, no 5xx under load."""

from __future__ import annotations

import os
import random
import re
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import orjson
import pytest

from tests.durability.server import Server, newsdesk

pytestmark = pytest.mark.slow


def _after_the_leader_died(url: str) -> tuple[dict[str, int], dict[str, list[dict[str, int]]]]:
    # Connections held by the dead worker are reset, as for any client of a crashed server:
    # retry on a new connection.
    for _ in range(20):
        try:
            with httpx.Client(base_url=url, timeout=30) as client:
                made = client.post(
                    "/v1/articles",
                    params={"refresh": "wait"},
                    json={"body": "Écrit après la mort du meneur.", "language": "fr"},
                )
                assert made.status_code in (200, 201), made.text
                found = client.get("/v1/search", params={"q": "meneur"}).json()
                return made.json(), found
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("no worker answered after the leader died")


def test_two_workers_under_concurrent_writes_and_searches(tmp_path: Path) -> None:
    data = tmp_path / "data"
    statuses: Counter[int] = Counter()
    acked: dict[str, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def write(name: str) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            n = 0
            while not stop.is_set():
                n += 1
                token = f"ouvrier{name}x{n}"
                wait = {"refresh": "wait"} if n % 5 == 0 else {}
                response = client.post(
                    "/v1/articles",
                    params=wait,
                    json={
                        "title": f"Dépêche {token}",
                        "body": f"Le texte {token} parle de Séoul.",
                        "language": "fr",
                    },
                )
                with lock:
                    statuses[response.status_code] += 1
                    if response.status_code == 201:
                        acked[token] = response.json()["id"]
                if wait:  # read-your-writes through whichever worker answers next
                    found = client.get("/v1/search", params={"q": token}).json()
                    with lock:
                        statuses[-1 if found["total"] != 1 else 0] += 1

    def read(name: str) -> None:
        rnd = random.Random(name)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                q = rnd.choice(["séoul", "texte", "dépêche", "seoul OR corée", "ouvri*"])
                response = client.get("/v1/search", params={"q": q, "sort": "newest"})
                with lock:
                    statuses[response.status_code] += 1

    with Server(data, workers=2) as server:
        threads = [threading.Thread(target=write, args=(f"w{i}",)) for i in range(3)]
        threads += [threading.Thread(target=read, args=(f"r{i}",)) for i in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(8)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        with httpx.Client(base_url=server.url, timeout=30) as client:
            server.wait_drained(client)
            healths = [client.get("/health").json() for _ in range(6)]
            # The elected writer dies: the other worker takes over the index.
            leader = re.search(
                r"this process is the index writer \(pid (\d+)\)", server.log.read_text()
            )
            assert leader is not None
            os.kill(int(leader.group(1)), signal.SIGKILL)
        made, found = _after_the_leader_died(server.url)
        assert made["id"] in [h["id"] for h in found["hits"]]
    assert not [s for s in statuses if s >= 500], statuses
    assert statuses[-1] == 0, "an article written with refresh=wait was not found"
    assert statuses[201] == len(acked) > 20
    for health in healths:  # whichever worker answered
        assert health["store"]["articles"] == health["index"]["documents"] == len(acked)
    report = newsdesk("check", "--json", data_dir=data)
    assert orjson.loads(report.stdout.strip().splitlines()[-1])["clean"], report.stdout
    log = server.log.read_text()
    # the first, then its successor (and, at shutdown, possibly the restarted worker)
    assert log.count("this process is the index writer") >= 2


def test_metrics_sum_every_worker_and_the_indexer_process(tmp_path: Path) -> None:
    """Two workers and the indexer child count into one /metrics: each scrape, whichever worker
    answers it, sees every request and every indexed article; the shared files go at exit."""
    from prometheus_client.parser import text_string_to_metric_families

    def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        text = httpx.get(f"{url}/metrics").text  # a new connection: either worker answers
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    shared = tmp_path / "tmp"  # where `newsdesk serve` makes its metrics directory
    shared.mkdir()
    server = Server(tmp_path / "data", workers=2, TMPDIR=str(shared))
    with server, httpx.Client(base_url=server.url, timeout=30) as client:
        made = client.post(
            "/v1/articles/bulk",
            params={"refresh": "wait"},
            json=[{"body": f"Dépêche numéro {n} de Séoul.", "language": "fr"} for n in range(40)],
        )
        assert made.status_code == 200, made.text
        for _ in range(30):  # new connections: both workers answer some of them
            assert httpx.get(f"{server.url}/v1/search", params={"q": "Séoul"}).status_code == 200
        key = (
            "newsdesk_http_requests_total",
            frozenset({("method", "GET"), ("route", "/v1/search"), ("status", "200")}),
        )
        for _ in range(6):
            samples = scrape(server.url)
            assert samples[key] == 30
            assert samples[("newsdesk_indexed_articles_total", frozenset())] >= 40
            assert samples[("newsdesk_store_articles", frozenset())] == 40
        assert [p.name[:17] for p in shared.iterdir()] == ["newsdesk-metrics-"]
    assert not list(shared.iterdir())
