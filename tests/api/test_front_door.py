"""The way in: `/`, the docs pages' files served from here, and HEAD wherever GET."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import add


def test_the_front_door_is_a_page_for_browsers_and_json_for_clients(client: TestClient) -> None:
    page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    hrefs = set(re.findall(r'href="([^"]+)"', page.text))
    assert {"/docs", "/redoc", "/health", "/openapi.json"} <= hrefs
    for accept in ("application/json", "application/json, text/html;q=0.5"):
        answer = client.get("/", headers={"Accept": accept})
        assert answer.headers["content-type"] == "application/json"
        links = answer.json()["links"]
        assert {links[name]["href"] for name in ("docs", "redoc", "health", "openapi")} == {
            "/docs",
            "/redoc",
            "/health",
            "/openapi.json",
        }
    assert (
        client.get("/", headers={"Accept": "*/*"}).headers["content-type"].startswith("text/html")
    )


def test_the_docs_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    for path in ("/docs", "/redoc"):
        page = client.get(path)
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets and all(a.startswith("/static/docs/") for a in assets), assets
        assert not re.search(r"https?://", page.text)
        for asset in assets:
            assert client.get(asset).status_code == 200


def test_head_answers_wherever_get_does(client: TestClient) -> None:
    article = add(client, title="Dépêche", body="Le président a parlé.", language="fr")
    for path in ("/", "/health", "/docs", f"/v1/articles/{article['id']}", "/v1/search?q=parlé"):
        got, head = client.get(path), client.head(path)
        assert head.status_code == got.status_code == 200, path
        assert head.content == b""
        if "search" not in path:  # a search's took_ms varies from one request to the next
            assert head.headers["content-length"] == got.headers["content-length"]
        assert head.headers["content-type"] == got.headers["content-type"]
    assert client.head("/v1/articles/999999").status_code == 404
