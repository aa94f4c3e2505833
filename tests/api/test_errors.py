"""Every error is problem+json; bad input and bad queries are 4xx, never 500."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add, make_client

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    assert "Traceback" not in response.text
    return body


def test_404_for_missing_article_and_unknown_path(client: TestClient) -> None:
    assert "42" in assert_problem(client.get("/v1/articles/42"), 404)["detail"]
    assert_problem(client.get("/v1/nowhere"), 404)
    assert_problem(client.delete("/v1/articles/42"), 404)


def test_405_carries_allow(client: TestClient) -> None:
    response = client.delete("/v1/search")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_422_names_each_bad_field(client: TestClient) -> None:
    response = client.post(
        "/v1/articles",
        json={"body": "", "url": "javascript:alert(1)", "id": 5, "created_at": "2020-01-01"},
    )
    errors = assert_problem(response, 422)["errors"]
    locs = {tuple(e["loc"]) for e in errors}
    assert {("body", "body"), ("body", "url"), ("body", "id"), ("body", "created_at")} <= locs
    assert all(set(e) == {"loc", "msg", "type"} for e in errors)


@pytest.mark.parametrize(
    "article",
    [
        {"body": "Texte\u0000nul."},
        {"body": "Texte.", "url": "file:///etc/passwd"},
        {"body": "Texte.", "url": "https://example.org/" + "a" * 2100},
        {"body": "Texte.", "title": "   "},
        {"body": "Texte.", "title": "x" * 1001},
        {"body": "Texte.", "language": "french"},
        {"body": 5},
        {"body": "Texte.", "tags": "not a list"},
    ],
    ids=["nul", "file-url", "long-url", "blank-title", "long-title", "language", "type", "tags"],
)
def test_bad_articles_store_nothing(client: TestClient, article: dict[str, Any]) -> None:
    assert_problem(client.post("/v1/articles", json=article), 422)
    assert client.get("/v1/articles").json()["total"] == 0


def test_invalid_json_body(client: TestClient) -> None:
    assert_problem(
        client.post(
            "/v1/articles", content=b'{"body": ', headers={"content-type": "application/json"}
        ),
        422,
    )
    assert_problem(
        client.post(
            "/v1/articles/bulk", content=b"[{", headers={"content-type": "application/json"}
        ),
        422,
    )
    assert_problem(
        client.post("/v1/articles/bulk", content=b"x", headers={"content-type": "text/csv"}), 415
    )


@pytest.mark.parametrize(
    ("query", "position"),
    [
        ('"unclosed phrase', 0),
        ("title:(", 6),
        ("a)", 1),
        ("*", 0),
        ("*?*?*", 0),
        ("a*", 1),
        ("ob*us", 2),
        ("obus~999", 4),
        ("a~2/3", 1),
        ("obus~/2", 4),
        ("(" * 9 + "a" + ")" * 9, 8),
    ],
)
def test_malformed_queries_are_400_with_position(
    client: TestClient, query: str, position: int
) -> None:
    body = assert_problem(client.get("/v1/search", params={"q": query}), 400)
    assert body["position"] == position


@pytest.mark.parametrize(
    "query", ["x" * 501, " ".join(["mot"] * 33), "(" * 5000 + "a" + ")" * 5000]
)
def test_oversized_queries_are_400(client: TestClient, query: str) -> None:
    assert_problem(client.get("/v1/search", params={"q": query}), 400)


@pytest.mark.parametrize(
    "params",
    [{"q": ""}, {"q": "a", "page": 0}, {"q": "a", "page_size": 101}, {"q": "a", "sort": "best"}],
)
def test_bad_search_parameters_are_422(client: TestClient, params: dict[str, Any]) -> None:
    assert_problem(client.get("/v1/search", params=params), 422)


def test_deep_paging_is_422_with_a_hint(client: TestClient) -> None:
    body = assert_problem(
        client.get("/v1/search", params={"q": "a", "page": 101, "page_size": 100}), 422
    )
    assert "narrow" in body["detail"]


def test_snippets_escape_html(client: TestClient) -> None:
    add(
        client,
        title="Script",
        body="Attention <script>alert('x')</script> injection ici.",
        language="fr",
    )
    snippet = client.get("/v1/search", params={"q": "injection"}).json()["hits"][0]["snippet"]
    assert "<script>" not in snippet
    assert "&lt;script&gt;" in snippet
    assert "<mark>injection</mark>" in snippet


def test_writes_need_a_key_when_keys_are_set(tmp_path: Any) -> None:
    with make_client(tmp_path, api_keys=["s3cret"]) as client:
        article = {"body": "Texte protégé."}
        assert_problem(client.post("/v1/articles", json=article), 401)
        wrong = client.post("/v1/articles", json=article, headers={"Authorization": "Bearer no"})
        assert_problem(wrong, 401)
        ok = client.post("/v1/articles", json=article, headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 201
        assert client.get("/v1/articles").status_code == 200  # reads stay public


def test_body_larger_than_the_limit_is_413(tmp_path: Any) -> None:
    with make_client(tmp_path, max_body_bytes=1000) as client:
        response = client.post("/v1/articles", json={"body": "x" * 2000})
        assert_problem(response, 413)

        def chunks() -> Any:
            for _ in range(10):
                yield b"x" * 200

        chunked = client.post(
            "/v1/articles/bulk", content=chunks(), headers={"content-type": "application/x-ndjson"}
        )
        assert_problem(chunked, 413)
        assert client.get("/v1/articles").json()["total"] == 0


@pytest.mark.parametrize(
    "query",
    ['spell:"corée russie"', "ts_end:2023", "id:1", "lang:fr", "ts_new:5", "x OR (month:2023)"],
)
def test_only_documented_fields_can_be_queried(client: TestClient, query: str) -> None:
    body = assert_problem(client.get("/v1/search", params={"q": query}), 400)
    assert "unknown field" in body["detail"]


def test_expensive_terms_are_bounded(client: TestClient) -> None:
    assert client.get("/v1/search", params={"q": "bala~2 bele~2 bibo~2 bubu~"}).status_code == 200
    assert_problem(client.get("/v1/search", params={"q": "ba* be* bi* bo* bu*"}), 400)
    assert_problem(client.get("/v1/search", params={"q": "ab~2"}), 400)
    # fuzzy distances do not count as terms
    sixteen = " ".join(["mot~"] * 4 + ["mot"] * 28)
    assert client.get("/v1/search", params={"q": sixteen}).status_code == 200


def test_extreme_dates_are_accepted_or_refused_but_never_crash(client: TestClient) -> None:
    made = client.post(
        "/v1/articles", json={"body": "Fin des temps.", "published_at": "9999-12-31"}
    )
    assert made.status_code == 201
    first = client.post("/v1/articles", json={"body": "Début.", "published_at": "0001-01-01"})
    assert first.status_code == 201
    assert client.get("/v1/articles", params={"to": "9999-12-31"}).json()["total"] == 2
    assert client.get("/v1/search", params={"q": "fin", "from": "9999-12-31"}).status_code == 200
    late = client.post("/v1/articles", json={"body": "x", "published_at": "9999-12-31T23:00-05:00"})
    assert_problem(late, 422)
