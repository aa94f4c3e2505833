"""Result pages are kept per index version: a repeated search is answered from memory, and
no write ever leaves a stale page behind."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import add, ids, make_client, search


def test_kept_pages_follow_every_write(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        first = add(client, url="https://example.org/1", body="Le typhon Hinnamnor approche.")
        second = add(client, url="https://example.org/2", body="Le typhon a frappé Busan.")
        before = search(client, "typhon")
        again = search(client, "typhon")
        assert {**again, "took_ms": 0} == {**before, "took_ms": 0}
        assert set(ids(before)) == {first["id"], second["id"]}

        changed = client.put(
            f"/v1/articles/{first['id']}",
            params={"refresh": "wait"},
            json={"url": "https://example.org/1", "body": "Le cyclone Hinnamnor approche."},
        )
        assert changed.status_code == 200
        after = search(client, "typhon")
        assert ids(after) == [second["id"]] and after["total"] == 1
        hit = search(client, "hinnamnor")["hits"][0]
        assert hit["snippet"].startswith("Le cyclone <mark>Hinnamnor</mark>")

        third = add(client, url="https://example.org/3", body="Un autre typhon se forme.")
        assert set(ids(search(client, "typhon"))) == {second["id"], third["id"]}

        deleted = client.delete(f"/v1/articles/{second['id']}", params={"refresh": "wait"})
        assert deleted.status_code == 204
        assert ids(search(client, "typhon")) == [third["id"]]


def test_a_deleted_article_leaves_kept_pages_at_once(tmp_path: Path) -> None:
    """Hits are read from the store on every request, so a page kept from before a delete
    does not show the article even before the index has caught up."""
    with make_client(tmp_path) as client:
        gone = add(client, url="https://example.org/g", body="La mousson arrive tôt.")
        kept = add(client, url="https://example.org/k", body="La mousson est forte.")
        assert set(ids(search(client, "mousson"))) == {gone["id"], kept["id"]}
        assert client.delete(f"/v1/articles/{gone['id']}").status_code == 204
        assert ids(search(client, "mousson")) == [kept["id"]]


def test_search_works_with_the_cache_off(tmp_path: Path) -> None:
    with make_client(tmp_path, search_cache_size=0) as client:
        article = add(client, url="https://example.org/x", body="La sécheresse dure.")
        assert ids(search(client, "sécheresse")) == [article["id"]]
        assert ids(search(client, "sécheresse")) == [article["id"]]
        assert client.delete(f"/v1/articles/{article['id']}", params={"refresh": "wait"})
        assert search(client, "sécheresse")["total"] == 0
