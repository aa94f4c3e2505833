"""Each test gets its own data directory and an app built from the factory, lifespan running."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import make_url

from app.config import Settings
from app.main import create_app

FIXTURES = Path(__file__).parent / "fixtures"
KBS_RAW = FIXTURES / "kbs_fr_2023-09_kim_russie.txt"

# The suite runs on SQLite and Whoosh by default. scripts/test.sh runs the API and search tests
# a second time with NEWSDESK_TEST_POSTGRES (a superuser URL of a throwaway cluster): each app
# then gets a new database there, and NEWSDESK_TEST_SEARCH_BACKEND picks the search backend.
POSTGRES_ADMIN = os.environ.get("NEWSDESK_TEST_POSTGRES", "")
SEARCH_BACKEND = os.environ.get("NEWSDESK_TEST_SEARCH_BACKEND", "whoosh")
ON_POSTGRES_SEARCH = SEARCH_BACKEND == "postgres"


def whoosh_only(reason: str) -> pytest.MarkDecorator:
    """Skip a test on PostgreSQL search, saying which part of the contract does not hold there
    (the README's PostgreSQL section lists the same)."""
    return pytest.mark.skipif(ON_POSTGRES_SEARCH, reason=f"not on PostgreSQL search: {reason}")


_DATABASES: dict[Path, str] = {}


def postgres_database(data_dir: Path) -> str:
    """The test cluster's database of a data directory (apps on one directory share one),
    created empty the first time; its SQLAlchemy URL."""
    if data_dir in _DATABASES:
        return _DATABASES[data_dir]
    name = f"newsdesk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN).set(drivername="postgresql+psycopg", database=name)
    _DATABASES[data_dir] = url.render_as_string(hide_password=False)
    return _DATABASES[data_dir]


def make_client(tmp_path: Path, **overrides: Any) -> TestClient:
    """A TestClient on a fresh app whose data lives under tmp_path.

    The index writer runs as a thread here (a child process per app costs a second of start-up);
    tests/search/test_writer.py and the subprocess tests in tests/durability/ run the default,
    a writer process. Rate limiting is off unless a test turns it on: tests send requests
    faster than any client should. `client_address=("203.0.113.7", 50000)` says where the
    requests come from (the default is `testclient`, which is no IP address).
    """
    address = overrides.pop("client_address", ("testclient", 50000))
    defaults: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "indexer": "thread",
        "rate_limit": "",
    }
    if POSTGRES_ADMIN and "database_url" not in overrides:
        defaults["database_url"] = postgres_database(defaults["data_dir"])
        defaults["search_backend"] = SEARCH_BACKEND
    settings = Settings(**{**defaults, **overrides})
    return TestClient(create_app(settings), raise_server_exceptions=False, client=address)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with make_client(tmp_path) as c:
        yield c


def add(client: TestClient, **article: Any) -> dict[str, Any]:
    """Create an article and wait until it is searchable."""
    response = client.post("/v1/articles", params={"refresh": "wait"}, json=article)
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def add_kbs(client: TestClient) -> int:
    """Post the KBS dispatch as raw text (source KBS World), wait until it is searchable; its id."""
    raw = client.post(
        "/v1/articles/raw",
        params={"source": "KBS World", "refresh": "wait"},
        content=KBS_RAW.read_bytes(),
        headers={"content-type": "text/plain"},
    )
    assert raw.status_code == 201, raw.text
    article_id: int = raw.json()["id"]
    return article_id


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    """Run a search that must succeed."""
    response = client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(result: dict[str, Any]) -> list[int]:
    """The ids of a search result's hits, or of a listing's items."""
    return [h["id"] for h in result.get("hits", result.get("items", []))]
