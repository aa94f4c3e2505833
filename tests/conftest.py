"""Each test gets its own data directory and an app built from the factory, lifespan running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app

FIXTURES = Path(__file__).parent / "fixtures"
KBS_RAW = FIXTURES / "kbs_fr_2023-09_kim_russie.txt"


def make_client(tmp_path: Path, **overrides: Any) -> TestClient:
    """A TestClient on a fresh app whose data lives under tmp_path.

    The index writer runs as a thread here (a child process per app costs a second of start-up);
    tests/search/test_writer.py and the subprocess tests in tests/durability/ run the default,
    a writer process. Rate limiting is off unless a test turns it on: tests send requests
    faster than any client should.
    """
    defaults = {"data_dir": tmp_path / "data", "indexer": "thread", "rate_limit": ""}
    settings = Settings(**{**defaults, **overrides})
    return TestClient(create_app(settings), raise_server_exceptions=False)


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


def search(client: TestClient, q: str, **params: Any) -> dict[str, Any]:
    """Run a search that must succeed."""
    response = client.get("/v1/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ids(result: dict[str, Any]) -> list[int]:
    """The ids of a search result's hits, or of a listing's items."""
    return [h["id"] for h in result.get("hits", result.get("items", []))]
