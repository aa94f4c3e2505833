"""Every configurable bound, set low, refused with its 4xx; the OpenAPI document follows it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ON_POSTGRES_SEARCH, add, make_client, whoosh_only

J = {"content-type": "application/json"}


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _total(client: TestClient) -> int:
    total: int = client.get("/v1/articles").json()["total"]
    return total


def _operation(client: TestClient, method: str, path: str) -> dict[str, Any]:
    operation: dict[str, Any] = client.get("/openapi.json").json()["paths"][path][method]
    return operation


def _parameter(client: TestClient, path: str, name: str) -> dict[str, Any]:
    for parameter in _operation(client, "get", path)["parameters"]:
        if parameter["name"] == name:
            schema: dict[str, Any] = parameter["schema"]
            return schema
    raise AssertionError(name)


def test_body_size_for_declared_and_chunked_bodies(tmp_path: Path) -> None:
    with make_client(tmp_path, max_body_bytes=2000) as client:
        big = {"body": "x" * 3000}
        _problem(client.post("/v1/articles", json=big), 413)

        def chunked() -> Iterator[bytes]:
            yield b'{"body": "'
            for _ in range(30):
                yield b"x" * 100
            yield b'"}'

        _problem(client.post("/v1/articles", content=chunked(), headers=J), 413)
        assert client.post("/v1/articles", json={"body": "x" * 1500}).status_code == 201
        assert _total(client) == 1


def test_items_per_bulk(tmp_path: Path) -> None:
    with make_client(tmp_path, bulk_max_items=3) as client:
        items = [{"body": f"Article {i}."} for i in range(4)]
        _problem(client.post("/v1/articles/bulk", json=items), 422)
        ndjson = "".join(json.dumps(item) + "\n" for item in items).encode()
        headers = {"content-type": "application/x-ndjson"}
        _problem(client.post("/v1/articles/bulk", content=ndjson, headers=headers), 422)
        assert _total(client) == 0
        assert client.post("/v1/articles/bulk", json=items[:3]).json()["created"] == 3
        body = _operation(client, "post", "/v1/articles/bulk")["requestBody"]
        assert body["content"]["application/json"]["schema"]["maxItems"] == 3


def _nested(depth: int) -> bytes:
    """An array of one article whose `tags` nests to `depth` levels in all."""
    tags = "[" * (depth - 2) + "]" * (depth - 2)
    return f'[{{"body": "Profond [[[[ {{{{ dans le texte.", "tags": {tags}}}]'.encode()


def test_json_nesting_depth(tmp_path: Path) -> None:
    with make_client(tmp_path, max_json_depth=5) as client:
        problem = _problem(client.post("/v1/articles/bulk", content=_nested(6), headers=J), 400)
        assert "5 levels" in problem["detail"]
        assert _total(client) == 0
        # Brackets inside strings do not count; five levels pass the bound (the item then
        # fails validation on its own: tags are strings).
        accepted = client.post("/v1/articles/bulk", content=_nested(5), headers=J)
        assert accepted.status_code == 200
        assert accepted.json()["results"][0]["error"]["errors"][0]["loc"][0] == "tags"
        escaped = b'[{"body": "Des guillemets \\" puis [[[[[[[[ et \\\\"}]'
        assert client.post("/v1/articles/bulk", content=escaped, headers=J).status_code == 200
        # Bodies without a content type are parsed as JSON, so they are scanned too; so are
        # UTF-16 ones, whose NUL bytes no UTF-8 JSON text has.
        before = _total(client)
        for path in ("/v1/articles", "/v1/articles/bulk"):
            _problem(client.post(path, content=_nested(6)), 400)
        utf16 = '{"body": "Texte", "tags": [[[[[["x"]]]]]]}'.encode("utf-16")
        _problem(client.post("/v1/articles", content=utf16, headers=J), 400)
        assert _total(client) == before


def test_query_length_terms_and_expansions(tmp_path: Path) -> None:
    limits = {"query_max_chars": 30, "query_max_terms": 3, "query_max_expansions": 1}
    with make_client(tmp_path, **limits) as client:
        add(client, title="Corée", body="La Corée du Nord et la Russie.", language="fr")
        assert client.get("/v1/search", params={"q": "corée russie nord"}).status_code == 200
        too_long = _problem(client.get("/v1/search", params={"q": "a" * 31}), 400)
        assert "the limit is 30" in too_long["detail"]
        _problem(client.get("/v1/search", params={"q": "corée russie nord sud"}), 400)
        assert client.get("/v1/search", params={"q": "cor*"}).json()["total"] == 1
        _problem(client.get("/v1/search", params={"q": "cor* rus*"}), 400)
        _problem(client.get("/v1/search", params={"q": "corée~3"}), 400)
        assert _parameter(client, "/v1/search", "q")["maxLength"] == 30


def test_page_size_and_depth(tmp_path: Path) -> None:
    with make_client(tmp_path, max_page_size=5, max_result_depth=20) as client:
        for path, params in (("/v1/search", {"q": "a"}), ("/v1/articles", {})):
            _problem(client.get(path, params={**params, "page_size": 6}), 422)
            assert client.get(path, params={**params, "page_size": 5, "page": 4}).status_code == 200
            deep = {**params, "page_size": 5, "page": 5}
            hint = _problem(client.get(path, params=deep), 422)["detail"]
            assert "narrow" in hint
            assert _parameter(client, path, "page_size")["maximum"] == 5
            assert _parameter(client, path, "page")["maximum"] == 4


@whoosh_only("partial results at the time limit (it cancels the whole statement)")
def test_a_search_out_of_time_returns_partial_results_marked(tmp_path: Path) -> None:
    with make_client(tmp_path, search_time_limit=0) as client:
        for i in range(3):
            add(client, title=f"Dépêche {i}", body="Le président a parlé.", language="fr")
        result = client.get("/v1/search", params={"q": "président"})
        assert result.status_code == 200
        assert result.json()["timed_out"] is True
        assert result.json()["total"] < 3
        # Expanding prefix and fuzzy terms over the dictionary obeys the deadline too (the
        # other word is in another article: no match is ever collected).
        add(client, title="Ailleurs", body="Rien ici.", language="fr")
        for q in ("prés* ailleurs", "présidnet~2 ailleurs"):
            assert client.get("/v1/search", params={"q": q}).json()["timed_out"] is True
    with make_client(tmp_path, search_time_limit=30) as client:  # room on a slow machine
        for q in ("président", "prés*", "présidnet~2"):
            result = client.get("/v1/search", params={"q": q}).json()
            assert result["timed_out"] is False and result["total"] == 3


def test_spelling_suggestions_obey_the_time_limit(tmp_path: Path) -> None:
    for limit, expected in ((30, "président"), (0, None)):
        with make_client(tmp_path / str(limit), search_time_limit=limit) as client:
            add(client, title="Le président", body="Le président a parlé.", language="fr")
            result = client.get("/v1/search", params={"q": "présidnet"}).json()
            assert result["total"] == 0
            # Whoosh finds nothing before the limit; PostgreSQL cancels the statement itself
            assert result["timed_out"] is (ON_POSTGRES_SEARCH and limit == 0)
            assert result["did_you_mean"] == expected


def test_rate_limit_per_client_and_per_key(tmp_path: Path) -> None:
    counted = {"rate_limit": "3/minute", "rate_limit_exempt": [], "api_keys": ["k1", "k2"]}
    with make_client(tmp_path, **counted) as client:
        assert "429" in client.app.openapi()["paths"]["/v1/search"]["get"]["responses"]
        for _ in range(3):
            assert client.get("/v1/articles").status_code == 200
        limited = client.get("/v1/articles")
        _problem(limited, 429)
        assert int(limited.headers["retry-after"]) >= 1
        # Unknown keys do not open new buckets: they count against the client's address.
        _problem(client.get("/v1/articles", headers={"Authorization": "Bearer made-up"}), 429)
        # Each valid key has its own bucket.
        for key in ("k1", "k2"):
            headers = {"Authorization": f"Bearer {key}"}
            for _ in range(3):
                assert client.get("/v1/articles", headers=headers).status_code == 200
            _problem(client.get("/v1/articles", headers=headers), 429)
        assert client.get("/health").status_code == 200  # health checks are never throttled


@pytest.mark.parametrize(
    ("address", "key", "limited"),
    [
        ("127.0.0.1", None, False),  # a loop of curl on the server's own machine
        ("::1", None, False),
        ("203.0.113.7", "k1", False),  # a keyed client, from anywhere
        ("203.0.113.7", None, True),  # anonymous and remote: counted
        ("203.0.113.7", "made-up", True),  # an unknown key is no key
        ("10.0.2.2", None, True),  # a container's gateway is not loopback
    ],
)
def test_rate_limit_leaves_loopback_and_keyed_clients_alone_by_default(
    tmp_path: Path, address: str, key: str | None, limited: bool
) -> None:
    with make_client(
        tmp_path, rate_limit="3/minute", api_keys=["k1"], client_address=(address, 50000)
    ) as client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        statuses = {client.get("/v1/articles", headers=headers).status_code for _ in range(25)}
        assert statuses == ({200, 429} if limited else {200})


def test_rate_limit_exemptions_can_be_dropped(tmp_path: Path) -> None:
    with make_client(
        tmp_path, rate_limit="3/minute", rate_limit_exempt=[], client_address=("127.0.0.1", 1)
    ) as client:
        assert {client.get("/v1/articles").status_code for _ in range(5)} == {200, 429}
    with pytest.raises(ValueError, match="loopback"):
        make_client(tmp_path, rate_limit_exempt="loopback,everyone")


def test_rate_limit_can_be_turned_off(tmp_path: Path) -> None:
    with make_client(tmp_path, rate_limit="") as client:
        assert all(client.get("/v1/articles").status_code == 200 for _ in range(50))
        assert "429" not in _operation(client, "get", "/v1/search")["responses"]


def test_cors_is_off_unless_configured(tmp_path: Path) -> None:
    origin = {"Origin": "https://newsroom.example"}
    preflight = {**origin, "Access-Control-Request-Method": "POST"}
    with make_client(tmp_path) as client:
        assert (
            "access-control-allow-origin" not in client.get("/v1/articles", headers=origin).headers
        )
        assert (
            "access-control-allow-origin"
            not in client.options("/v1/articles", headers=preflight).headers
        )
    with make_client(tmp_path, cors_origins=["https://newsroom.example"]) as client:
        response = client.get("/v1/articles", headers=origin)
        assert response.headers["access-control-allow-origin"] == "https://newsroom.example"
        assert client.options("/v1/articles", headers=preflight).status_code == 200
        other = client.get("/v1/articles", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_an_unexpected_error_is_a_generic_500(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with make_client(tmp_path) as client:
        add(client, body="Un article avant la panne.")
        # Break the real store under the running app, as a damaged file would.
        with client.app.state.runtime.db.write_engine.begin() as connection:  # type: ignore[attr-defined]
            connection.exec_driver_sql("ALTER TABLE article RENAME TO article_gone")
        with caplog.at_level(logging.ERROR, logger="newsdesk.api"):
            response = client.get("/v1/articles")
        problem = _problem(response, 500)
        correlation = problem["correlation_id"]
        assert set(problem) == {"type", "title", "status", "detail", "correlation_id"}
        for leak in (
            "Traceback",
            "sqlite",
            "psycopg",
            "SELECT",
            "article_gone",
            str(tmp_path),
            ".py",
        ):
            assert leak.lower() not in response.text.lower()
        assert correlation in caplog.text
        assert "OperationalError" in caplog.text or "ProgrammingError" in caplog.text
