"""Store and index agree through many commits, updates, deletes and merges, while searching."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import add, ids, search


def test_no_duplicates_or_ghosts_across_commits_and_merges(client: TestClient) -> None:
    created = []
    for n in range(15):  # one commit each: enough segments for Whoosh to merge
        created.append(add(client, title=f"Dépêche {n}", body=f"Brève numéro {n} sur Lyon.")["id"])
        assert sorted(ids(search(client, "lyon", page_size=100))) == created
    for n, article_id in enumerate(created[:10]):
        replaced = client.put(
            f"/v1/articles/{article_id}",
            params={"refresh": "wait"},
            json={"title": f"Dépêche {n}", "body": f"Brève numéro {n} sur Nantes."},
        )
        assert replaced.status_code == 200
        assert search(client, "lyon", page_size=100)["total"] == 14 - n
    for article_id in created[10:12]:
        assert (
            client.delete(f"/v1/articles/{article_id}", params={"refresh": "wait"}).status_code
            == 204
        )
    lyon = ids(search(client, "lyon", page_size=100))
    nantes = ids(search(client, "nantes", page_size=100))
    assert sorted(lyon) == created[12:]
    assert sorted(nantes) == created[:10]
    health = client.get("/health").json()
    assert health["store"]["articles"] == health["index"]["documents"] == 13
