"""GET /metrics: the Prometheus text, parsed with prometheus-client's own parser."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import SEARCH_BACKEND, add, make_client, search


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, by name and labels."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_searches_and_the_index_are_counted(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        for title in ("La Corée du Nord tire un missile", "Kim Jong Un à Moscou", "В Москве"):
            add(client, title=title, body=f"{title}. Une dépêche.", language="fr")
        search(client, "la Corée du Nord")
        search(client, "la Corée du Nord")  # the second is a cache hit on Whoosh
        assert client.get("/v1/search", params={"language": "fr"}).status_code == 200
        assert client.get("/v1/search", params={"from": "someday"}).status_code == 422
        assert client.get("/nowhere/at/all").status_code == 404
        assert client.get("/v1/articles/999999").status_code == 404
        assert client.head("/metrics").status_code == 200
        samples = scrape(client)

    requests = "newsdesk_http_requests_total"
    assert value(samples, requests, method="GET", route="/v1/search", status="200") == 3
    assert value(samples, requests, method="GET", route="/v1/search", status="422") == 1
    assert value(samples, requests, method="POST", route="/v1/articles", status="201") == 3
    # a route template, never the path asked: one series for every id, one for every typo
    assert (
        value(samples, requests, method="GET", route="/v1/articles/{article_id}", status="404") == 1
    )
    assert value(samples, requests, method="GET", route="(unmatched)", status="404") == 1
    assert not any("nowhere" in dict(labels).get("route", "") for _, labels in samples)
    assert (
        value(samples, requests, method="GET", route="/metrics", status="200") == 1
    )  # HEAD is its GET
    latency = "newsdesk_http_request_duration_seconds_count"
    assert value(samples, latency, method="GET", route="/v1/search") == 4
    assert (
        value(
            samples,
            "newsdesk_http_request_duration_seconds_bucket",
            method="GET",
            route="/v1/search",
            le="+Inf",
        )
        == 4
    )

    searches = "newsdesk_search_duration_seconds_count"
    assert value(samples, searches, kind="query") == 2
    assert value(samples, searches, kind="browse") == 1

    assert value(samples, "newsdesk_store_articles") == 3
    assert value(samples, "newsdesk_index_documents") == 3
    assert value(samples, "newsdesk_index_pending") == 0
    assert value(samples, "newsdesk_up") == 1
    if SEARCH_BACKEND == "whoosh":
        assert value(samples, "newsdesk_search_cache_lookups_total", result="hit") == 1
        assert value(samples, "newsdesk_search_cache_lookups_total", result="miss") == 2
        assert value(samples, "newsdesk_indexed_articles_total") >= 3
        assert value(samples, "newsdesk_index_commit_duration_seconds_count") >= 1
        assert value(samples, "newsdesk_index_segments") >= 1
        assert ("newsdesk_index_merges_total", frozenset({("kind", "idle")})) in samples


def test_metrics_need_no_key_and_no_rate_allowance(tmp_path: Path) -> None:
    """Like /health, a scraper reads /metrics without a key and is never refused with 429."""
    with make_client(
        tmp_path,
        api_keys=["write-key"],
        read_keys=["read-key"],
        rate_limit="2/minute",
        client_address=("203.0.113.7", 50000),
    ) as client:
        assert client.get("/v1/search", params={"q": "corée"}).status_code == 401
        for _ in range(5):
            assert client.get("/metrics").status_code == 200
        samples = scrape(client)
    assert (
        value(samples, "newsdesk_http_requests_total", method="GET", route="/metrics", status="200")
        == 5
    )


def test_what_a_client_chooses_neither_breaks_nor_multiplies_the_metrics(tmp_path: Path) -> None:
    """An Accept version the library cannot read gets the default format, not a 500; an
    invented HTTP method is counted as OTHER, not as a series of its own."""
    with make_client(tmp_path) as client:
        for accept in ("text/plain; version=foo", "application/openmetrics-text; version=abc"):
            odd = client.get("/metrics", headers={"accept": accept})
            assert odd.status_code == 200, (accept, odd.text)
            assert odd.headers["content-type"].startswith("text/plain; version=0.0.4")
        for method in ("BREW", "PROPFIND", "X-ANYTHING"):
            assert client.request(method, "/v1/search").status_code == 405
        samples = scrape(client)
    methods = {dict(labels).get("method") for _, labels in samples} - {None}
    assert methods == {"GET", "OTHER"}, methods
    other = "newsdesk_http_requests_total"
    assert value(samples, other, method="OTHER", route="/v1/search", status="405") == 3
