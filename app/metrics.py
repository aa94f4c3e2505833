"""What Newsdesk counts for Prometheus, and the text `GET /metrics` answers.

Counters and histograms live in `Metrics`, one per app (tests build many apps in a process).
The state of the store and the index (articles, pending, segments) is read at each scrape by a
collector instead of being kept in gauges, so it is right whichever process answers.

Several processes (Uvicorn workers, the indexer child) count for one server: `newsdesk serve`
points PROMETHEUS_MULTIPROC_DIR at a fresh directory before any of them imports
prometheus_client, each process writes its values to files there, and a scrape sums them
(prometheus-client's multiprocess mode). Without that variable, a process counts alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

# Request latencies, in seconds: searches answer in 5-50 ms, a bulk write in seconds.
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Commits and merges take from tens of milliseconds to minutes.
_INDEX_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


def multiprocess() -> bool:
    """Whether this process counts into files shared with the server's other processes."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


@dataclass
class Metrics:
    """The counters and histograms of one app, and of its indexer process."""

    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )

    def __post_init__(self) -> None:
        # In multiprocess mode the values go to files and a scrape reads those: the metrics
        # are registered nowhere, or the process's own values would be counted twice.
        registry = None if multiprocess() else self.registry
        self.requests = Counter(
            "newsdesk_http_requests",
            "HTTP requests answered, by method, route template and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "newsdesk_http_request_duration_seconds",
            "Time from a request's arrival to its response's last byte, by method and route",
            ["method", "route"],
            buckets=_REQUEST_BUCKETS,
            registry=registry,
        )
        self.search_seconds = Histogram(
            "newsdesk_search_duration_seconds",
            "Time to answer a search, by kind: query (with q), browse (filters only), similar",
            ["kind"],
            buckets=_REQUEST_BUCKETS,
            registry=registry,
        )
        self.cache = Counter(
            "newsdesk_search_cache_lookups",
            "Searches looked up in the result cache, by result: hit or miss",
            ["result"],
            registry=registry,
        )
        self.indexed = Counter(
            "newsdesk_indexed_articles",
            "Articles written to or deleted from the index; its rate is the indexing rate",
            registry=registry,
        )
        self.commit_seconds = Histogram(
            "newsdesk_index_commit_duration_seconds",
            "Time to index and commit one batch of articles, from reading it to its commit",
            buckets=_INDEX_BUCKETS,
            registry=registry,
        )
        self.merges = Counter(
            "newsdesk_index_merges",
            "Index merges that folded segments together, by kind: busy (while articles flow) "
            "or idle (while no article waits)",
            ["kind"],
            registry=registry,
        )
        self.merge_seconds = Histogram(
            "newsdesk_index_idle_merge_duration_seconds",
            "Time of one idle merge round",
            buckets=_INDEX_BUCKETS,
            registry=registry,
        )
        for result in ("hit", "miss"):  # series exist from the start, at 0
            self.cache.labels(result)
        for kind in ("busy", "idle"):
            self.merges.labels(kind)

    def cache_lookup(self, hit: bool) -> None:
        """Count a lookup in the search result cache."""
        self.cache.labels("hit" if hit else "miss").inc()

    def exposition(
        self, state: Callable[[], dict[str, float | None]], accept: str
    ) -> tuple[bytes, str]:
        """Every process's counters and the state read now, in the format `accept` asks for
        (the Prometheus text format by default, OpenMetrics if asked), and its media type."""
        registry = CollectorRegistry()
        if multiprocess():
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry.register(self.registry)  # a registry collects like any collector
        registry.register(_State(state))
        try:
            encode, media_type = choose_encoder(accept)
        except (TypeError, ValueError):  # `version=foo`: the library cannot compare it
            encode, media_type = choose_encoder("")
        return bytes(encode(registry)), media_type


# The state gauges: name, help. A value of None (the store cannot be reached) is left out.
STATE = {
    "newsdesk_store_articles": "Articles in the store",
    "newsdesk_index_documents": "Articles in the search index",
    "newsdesk_index_pending": "Articles written but not yet searchable (the outbox)",
    "newsdesk_index_segments": "Segments of the Whoosh index (each costs every search a little)",
    "newsdesk_index_merging": "1 while segments are being merged",
    "newsdesk_up": "1 when /health would answer ok",
}


class _State(Collector):
    """Gauges read at scrape time from the store and the index."""

    def __init__(self, state: Callable[[], dict[str, float | None]]) -> None:
        self._state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        values = self._state()
        for name, help_text in STATE.items():
            value = values.get(name)
            if value is not None:
                yield GaugeMetricFamily(name, help_text, value=value)
