"""A `postgresql://` URL, as hosting platforms hand it out, runs the store and search."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN, add, ids, make_client, postgres_database, search

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN, reason="needs a PostgreSQL cluster: NEWSDESK_TEST_POSTGRES"
)


def test_a_plain_postgresql_url_runs_store_and_search(tmp_path: Path) -> None:
    url = postgres_database(tmp_path / "data").replace("postgresql+psycopg://", "postgresql://")
    assert url.startswith("postgresql://")
    with make_client(tmp_path, database_url=url, search_backend="postgres") as client:
        article = add(client, title="Corée", body="Le sommet de Vladivostok.", language="fr")
        assert ids(search(client, "coree")) == [article["id"]]
        assert client.get("/health").json()["store"] == {"ok": True, "articles": 1}
