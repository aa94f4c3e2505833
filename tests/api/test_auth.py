"""Keys over every operation of the app, enumerated from its own OpenAPI document.

A route added without a request in REQUESTS below fails `test_every_operation_is_covered`, so
no operation escapes the key checks.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import make_client

WRITE, READ = "write-key-0123", "read-key-4567"
J = {"content-type": "application/json"}
ARTICLE = {"title": "Clés", "body": "Un article derrière une clé.", "language": "fr"}

# A valid request per operation, `{id}` standing for an existing article.
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/articles"): {"json": ARTICLE},
    ("post", "/v1/articles/bulk"): {"json": [ARTICLE]},
    ("post", "/v1/articles/raw"): {
        "content": b"date 2023-09\n\nUn texte brut.",
        "headers": {"content-type": "text/plain"},
    },
    ("get", "/v1/articles"): {},
    ("get", "/v1/articles/{article_id}"): {},
    ("put", "/v1/articles/{article_id}"): {"json": ARTICLE},
    ("patch", "/v1/articles/{article_id}"): {"json": {"title": "Clés, encore"}},
    ("delete", "/v1/articles/{article_id}"): {},
    ("get", "/v1/articles/{article_id}/similar"): {},
    ("get", "/v1/search"): {"params": {"q": "article"}},
    ("get", "/v1/analyze"): {"params": {"text": "la Corée du Nord"}},
    ("get", "/health"): {},
    ("get", "/metrics"): {},
}
PUBLIC = {("get", "/health"), ("get", "/metrics")}  # for probes and scrapers
# Served beside the API, outside the OpenAPI document, and public by design.
# Public pages that hold no article: the docs, their files, and the front door.
DOC_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/static/docs", "/"}


def _operations(settings: Settings) -> list[tuple[str, str]]:
    spec = create_app(settings).openapi()
    return [(method, path) for path, ops in spec["paths"].items() for method in ops]


OPERATIONS = _operations(Settings(data_dir=Path("unused"), api_keys=[WRITE], read_keys=[READ]))


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with make_client(tmp_path_factory.mktemp("auth"), api_keys=[WRITE], read_keys=[READ]) as c:
        yield c


def _call(client: TestClient, operation: tuple[str, str], key: str | None) -> Any:
    method, path = operation
    if "{article_id}" in path:
        # refresh=wait: `similar` answers 404 for an article the index does not hold yet
        created = client.post(
            "/v1/articles", params={"refresh": "wait"}, json=ARTICLE, headers=_auth(WRITE)
        )
        path = path.replace("{article_id}", str(created.json()["id"]))
    kwargs = {k: (dict(v) if isinstance(v, dict) else v) for k, v in REQUESTS[operation].items()}
    kwargs["headers"] = {**kwargs.get("headers", {}), **_auth(key)}
    return client.request(method.upper(), path, **kwargs)


def _auth(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


def test_every_operation_is_covered() -> None:
    assert set(OPERATIONS) == set(REQUESTS)
    app = create_app(Settings(data_dir=Path("unused")))
    plain = {getattr(route, "path", None) for route in app.router.routes} - {None}
    assert plain <= DOC_ROUTES, "a route outside the OpenAPI document escapes the key checks"


@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_no_key_or_a_wrong_key_is_401(keyed: TestClient, operation: tuple[str, str]) -> None:
    for key in (None, "not-a-key", WRITE + "x"):
        response = _call(keyed, operation, key)
        if operation in PUBLIC:
            assert response.status_code == 200
            continue
        assert response.status_code == 401, (key, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("operation", OPERATIONS, ids=" ".join)
def test_read_keys_read_and_write_keys_do_everything(
    keyed: TestClient, operation: tuple[str, str]
) -> None:
    writes = operation[0] != "get"
    with_read = _call(keyed, operation, READ)
    assert with_read.status_code == (403 if writes else 200), with_read.text
    with_write = _call(keyed, operation, WRITE)
    assert with_write.status_code in (200, 201, 204, 207), with_write.text


def test_security_is_declared_exactly_where_it_is_enforced() -> None:
    def declared(settings: Settings) -> set[tuple[str, str]]:
        spec = create_app(settings).openapi()
        return {
            (method, path)
            for path, ops in spec["paths"].items()
            for method, op in ops.items()
            if op.get("security") == [{"HTTPBearer": []}]
        }

    data = Path("unused")
    everything = set(OPERATIONS) - PUBLIC
    writes = {op for op in everything if op[0] != "get"}
    assert declared(Settings(data_dir=data, api_keys=[WRITE], read_keys=[READ])) == everything
    assert declared(Settings(data_dir=data, api_keys=[WRITE])) == writes
    assert declared(Settings(data_dir=data)) == set()


def test_without_read_keys_reads_are_public(tmp_path: Path) -> None:
    with make_client(tmp_path, api_keys=[WRITE]) as client:
        assert client.post("/v1/articles", json=ARTICLE).status_code == 401
        assert client.post("/v1/articles", json=ARTICLE, headers=_auth(WRITE)).status_code == 201
        assert client.get("/v1/articles").json()["total"] == 1
        assert client.get("/v1/search", params={"q": "clé"}).status_code == 200


def test_a_refused_write_stores_nothing(keyed: TestClient) -> None:
    before = keyed.get("/v1/articles", headers=_auth(READ)).json()["total"]
    for key in (None, READ, "nope"):
        response = keyed.post("/v1/articles", json={"body": "Jamais stocké."}, headers=_auth(key))
        assert response.status_code in (401, 403)
    assert keyed.get("/v1/articles", headers=_auth(READ)).json()["total"] == before


def test_keys_are_checked_before_a_body_is_read(keyed: TestClient) -> None:
    """A client without a key cannot make the server parse anything: 401, not 400 or 422."""
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/v1/articles", "/v1/articles/bulk", "/v1/articles/1"):
        method = "PUT" if path.endswith("/1") else "POST"
        for body in (b'{"body": ', deep):
            response = keyed.request(method, path, content=body, headers=J)
            assert response.status_code == 401, (path, response.text)
    assert keyed.patch("/v1/articles/1", json=ARTICLE).status_code == 401


def test_read_keys_without_write_keys_refuse_to_start() -> None:
    with pytest.raises(ValueError, match="NEWSDESK_API_KEYS"):
        Settings(data_dir=Path("unused"), read_keys=[READ])
