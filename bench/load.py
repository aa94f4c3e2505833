"""Mixed load on loopback: writes, searches and fetches from concurrent clients; prints figures.

    .venv/bin/python -m bench.load [--clients 16] [--seconds 60] [--workers 1] [--url URL]

Without --url it starts `newsdesk serve` on a temporary data directory, loads the bundled
sample, and stops it at the end. A quarter of the requests write one article, half search,
a quarter fetch by id. Every fourth write's unique word is searched for (by one probe, every 100 ms)
until found: the time from the 2xx to searchable. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from bench.common import check, free_port, start_server

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "coree",
    "russie",
    "nucleaire",
    "« train blindé »",
    "election OR vote",
    "presid*",
    "attentat -paris",
    "title:france",
    "대통령",
    "москва",
    "coree nord",
    "sommet",
]


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Load:
    def __init__(self, url: str, seconds: float, clients: int) -> None:
        self.url = url
        self.seconds = seconds
        self.clients = clients
        self.lock = threading.Lock()
        self.statuses: dict[str, Counter[int | str]] = defaultdict(Counter)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.acked: dict[str, int] = {}
        self.to_searchable: list[float] = []
        self.not_searchable = 0
        self.ids: list[int] = []
        self.waiting: dict[str, float] = {}
        self.timed_out = 0
        self.probe_timeouts = 0

    def prober(self, stop: threading.Event) -> None:
        """One thread searches for the newest unseen words (OR of up to 20) every 100 ms."""
        with httpx.Client(base_url=self.url, timeout=30) as client:
            while not (stop.is_set() and not self.waiting):
                with self.lock:
                    batch = dict(list(self.waiting.items())[:20])
                if batch:
                    q = " OR ".join(batch)
                    hits = client.get("/v1/search", params={"q": q, "page_size": 100}).json()
                    if hits.get("timed_out"):  # partial results prove nothing; ask again
                        with self.lock:
                            self.probe_timeouts += 1
                        time.sleep(0.1)
                        continue
                    found = {self.acked[t] for t in batch} & {h["id"] for h in hits["hits"]}
                    now = time.monotonic()
                    with self.lock:
                        for token, acked_at in batch.items():
                            if self.acked[token] in found:
                                self.to_searchable.append(now - acked_at)
                                del self.waiting[token]
                            elif now - acked_at > 30:
                                self.not_searchable += 1
                                del self.waiting[token]
                time.sleep(0.1)

    def client(self, name: str, deadline: float) -> None:
        rnd = random.Random(name)
        n = 0
        with httpx.Client(base_url=self.url, timeout=60) as client:
            while time.monotonic() < deadline:
                roll = rnd.random()
                started = time.monotonic()
                try:
                    if roll < 0.25:
                        kind = "write"
                        n += 1
                        token = f"charge{name}x{n}"
                        response = client.post(
                            "/v1/articles",
                            json={
                                "title": f"Dépêche {token}",
                                "language": "fr",
                                "body": f"Le texte {token} parle de la Corée et de la Russie.",
                            },
                        )
                        if response.status_code in (200, 201):
                            acked_at = time.monotonic()
                            with self.lock:
                                self.acked[token] = response.json()["id"]
                                self.ids.append(response.json()["id"])
                            if n % 4 == 0:
                                with self.lock:
                                    self.waiting[token] = acked_at
                    elif roll < 0.75:
                        kind = "search"
                        response = client.get("/v1/search", params={"q": rnd.choice(QUERIES)})
                        if response.status_code == 200 and response.json().get("timed_out"):
                            with self.lock:
                                self.timed_out += 1
                    else:
                        kind = "fetch"
                        with self.lock:
                            article_id = rnd.choice(self.ids) if self.ids else 1
                        response = client.get(f"/v1/articles/{article_id}")
                    status: int | str = response.status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                elapsed = (time.monotonic() - started) * 1000
                with self.lock:
                    self.statuses[kind][status] += 1
                    self.latency[kind].append(elapsed)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as client:
            listing = client.get("/v1/articles", params={"page_size": 100}).json()
            self.ids = [item["id"] for item in listing["items"]] or [1]
        deadline = time.monotonic() + self.seconds
        threads = [
            threading.Thread(target=self.client, args=(f"c{i}", deadline))
            for i in range(self.clients)
        ]
        stop = threading.Event()
        prober = threading.Thread(target=self.prober, args=(stop,))
        prober.start()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stop.set()
        prober.join()

    def report(self) -> None:
        print(f"{'kind':8} {'requests':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  statuses")
        for kind in ("write", "search", "fetch"):
            values = self.latency[kind]
            statuses = dict(sorted(self.statuses[kind].items(), key=str))
            print(
                f"{kind:8} {len(values):>9} {percentile(values, 50):>8.1f} "
                f"{percentile(values, 95):>8.1f} {percentile(values, 99):>8.1f}  {statuses}"
            )
        server_errors = sum(
            n
            for c in self.statuses.values()
            for s, n in c.items()
            if not isinstance(s, int) or s >= 500
        )
        print(f"5xx or transport errors: {server_errors}")
        print(
            f"searches cut short by the time limit (timed_out): {self.timed_out} "
            f"(and {self.probe_timeouts} probe searches)"
        )
        print(f"acknowledged writes: {len(self.acked)}")
        t = self.to_searchable
        print(
            f"ack to searchable: n={len(t)} p50={percentile(t, 50):.2f} s "
            f"p95={percentile(t, 95):.2f} s max={max(t, default=float('nan')):.2f} s; "
            f"not searchable within 30 s: {self.not_searchable}"
        )
        with httpx.Client(base_url=self.url, timeout=60) as client:
            started = time.monotonic()
            while client.get("/health").json()["index"]["pending"]:
                time.sleep(0.2)
            drained = time.monotonic() - started
            lost = sum(
                client.get(f"/v1/articles/{article_id}").status_code != 200
                for article_id in self.acked.values()
            )
            health = client.get("/health").json()
        print(f"lost (acknowledged, not fetchable): {lost}")
        print(
            f"backlog drained {drained:.1f} s after the load; final store "
            f"{health['store']['articles']} articles, index {health['index']['documents']} "
            f"documents"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.url:
        load = Load(args.url, args.seconds, args.clients)
        load.run()
        load.report()
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        port = free_port()
        server = start_server(data, port, "--workers", str(args.workers), "--sample")
        url = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=url, timeout=5) as client:
                while True:
                    try:
                        health = client.get("/health").json()
                        if health["index"]["pending"] == 0:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.5)
            print(
                f"server: {args.workers} worker(s), sample loaded "
                f"({health['store']['articles']} articles); {args.clients} clients for "
                f"{args.seconds:.0f} s"
            )
            load = Load(url, args.seconds, args.clients)
            load.run()
            load.report()
            report = check(data)
            print(
                f"newsdesk check: clean={report['clean']} articles={report['articles']} "
                f"documents={report['documents']}"
            )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
