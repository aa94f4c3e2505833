"""Creating, updating and deleting: idempotency, bulk, raw text, ids never reused."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import KBS_RAW, ON_POSTGRES_SEARCH, add, ids, make_client, search


def test_create_returns_201_with_location(client: TestClient) -> None:
    response = client.post("/v1/articles", json={"body": "Un texte.", "title": "Titre"})
    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"].endswith(f"/v1/articles/{created['id']}")
    assert client.get(response.headers["location"]).json() == created


def test_same_url_twice_is_one_article(client: TestClient) -> None:
    first = client.post(
        "/v1/articles", json={"url": "HTTPS://Example.ORG/a?x=1#top", "body": "Premier texte."}
    )
    assert first.status_code == 201
    assert first.json()["url"] == "https://example.org/a?x=1"
    again = client.post(
        "/v1/articles", json={"url": "https://example.org/a?x=1", "body": "Premier texte."}
    )
    assert again.status_code == 200 and again.headers["newsdesk-result"] == "unchanged"
    assert again.json()["id"] == first.json()["id"]
    changed = client.post(
        "/v1/articles", json={"url": "https://example.org/a?x=1#other", "body": "Texte corrigé."}
    )
    assert changed.status_code == 200 and changed.headers["newsdesk-result"] == "updated"
    assert changed.json()["body"] == "Texte corrigé."
    assert client.get("/v1/articles").json()["total"] == 1


def test_same_text_twice_without_url_is_one_article(client: TestClient) -> None:
    article = {"title": "Séisme", "body": "Un séisme a frappé la région."}
    first = client.post("/v1/articles", json=article)
    second = client.post(
        "/v1/articles", json={**article, "body": "Un séisme a frappé  la région. "}
    )
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert client.get("/v1/articles").json()["total"] == 1


def test_bulk_with_one_bad_item_keeps_the_others(client: TestClient) -> None:
    items = [
        {"title": "Un", "body": "Premier article du lot.", "language": "fr"},
        {"title": "Deux", "body": "   "},
        {"title": "Trois", "body": "Troisième article du lot.", "language": "fr"},
        {"title": "Un", "body": "Premier article du lot.", "language": "fr"},
        {"title": "Cinq", "body": "Texte.", "colour": "red"},
    ]
    response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=items)
    assert response.status_code == 200
    result = response.json()
    assert (result["created"], result["unchanged"], result["errors"]) == (2, 1, 2)
    statuses = [r["status"] for r in result["results"]]
    assert statuses == ["created", "error", "created", "unchanged", "error"]
    error = result["results"][1]["error"]
    assert error["status"] == 422 and error["errors"][0]["loc"] == ["body"]
    assert result["results"][3]["id"] == result["results"][0]["id"]
    assert search(client, "article lot")["total"] == 2


def test_bulk_repeating_a_url_keeps_its_last_content(client: TestClient) -> None:
    """New articles are written together at the end of a bulk request: an item repeating an
    earlier item's URL updates that pending article, and an existing article is updated."""
    old = add(client, url="https://example.org/old", body="Texte ancien.", language="fr")
    items = [
        {"url": "https://example.org/a", "body": "Première version.", "language": "fr"},
        {"url": "https://example.org/old", "body": "Texte révisé.", "language": "fr"},
        {"url": "https://example.org/a", "body": "Première version.", "language": "fr"},
        {"url": "https://example.org/a#x", "body": "Seconde version.", "language": "fr"},
        {"url": "https://example.org/b", "body": "Autre article.", "language": "fr"},
    ]
    response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=items)
    result = response.json()
    statuses = [r["status"] for r in result["results"]]
    assert statuses == ["created", "updated", "unchanged", "updated", "created"]
    a, updated, a_again, a_changed, b = (r["id"] for r in result["results"])
    assert a == a_again == a_changed and updated == old["id"] and len({a, b, old["id"]}) == 3
    assert client.get(f"/v1/articles/{a}").json()["body"] == "Seconde version."
    assert ids(search(client, "seconde version")) == [a]
    assert search(client, "première")["total"] == 0
    assert ids(search(client, "révisé")) == [old["id"]]
    assert client.get("/v1/articles").json()["total"] == 3


def test_bulk_ndjson(client: TestClient) -> None:
    lines = (
        b'{"title": "A", "body": "Article en NDJSON.", "language": "fr"}\n\n'
        b'{"title": "B", "body": "Second article en NDJSON.", "language": "fr"}\n'
        b'{"title": "C", "body": ""}\n'
    )
    response = client.post(
        "/v1/articles/bulk", content=lines, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "created", "error"]


def test_ndjson_gives_one_result_per_line(client: TestClient) -> None:
    content = (
        b'{"title": "Bon", "body": "Bon."}\n{not json\n\n["x"]\n'
        b'{"title": "Vide", "body": ""}\n{"title": "Autre", "body": "Autre."}\n'
    )
    response = client.post(
        "/v1/articles/bulk", content=content, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["line"], r["status"]) for r in results] == [
        (1, "created"),
        (2, "error"),
        (4, "error"),
        (5, "error"),
        (6, "created"),
    ]
    assert "line 2 is not valid JSON" in results[1]["error"]["detail"]
    assert "line 4 is not a JSON object" in results[2]["error"]["detail"]
    assert response.json()["created"] == 2 and response.json()["errors"] == 3
    assert client.get("/v1/articles").json()["total"] == 2
    assert all(
        r["line"] is None
        for r in client.post("/v1/articles/bulk", json=[{"body": "X."}]).json()["results"]
    )


def test_ndjson_without_articles_is_refused(client: TestClient) -> None:
    response = client.post(
        "/v1/articles/bulk", content=b"\n \n", headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 422 and "no articles" in response.json()["detail"]
    assert client.get("/v1/articles").json()["total"] == 0


@pytest.mark.parametrize(
    ("items", "where"), [([{"body": "Bon."}, "x"], "item 1"), ([], "no articles")]
)
def test_json_arrays_must_hold_objects(client: TestClient, items: list[object], where: str) -> None:
    response = client.post("/v1/articles/bulk", json=items)
    assert response.status_code == 422 and where in response.json()["detail"]
    assert client.get("/v1/articles").json()["total"] == 0


def test_bulk_refuses_more_than_the_limit(client: TestClient) -> None:
    items = [{"body": f"Article {i}."} for i in range(10_001)]
    response = client.post("/v1/articles/bulk", json=items)
    assert response.status_code == 422
    assert client.get("/v1/articles").json()["total"] == 0


def test_raw_sample_article(client: TestClient) -> None:
    response = client.post(
        "/v1/articles/raw",
        params={"source": "KBS World"},
        content=KBS_RAW.read_bytes(),
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 201, response.text
    article = response.json()
    assert article["published_at"] == "2023-09"
    assert article["published_precision"] == "month"
    assert "YONHAP" in article["photo_credit"]
    assert article["language"] == "fr"
    assert article["title"].startswith("Le dirigeant nord-coréen se rendra bientôt en Russie")
    assert article["title"].endswith("Vladimir Poutine.")


def test_raw_multipart_several_files(client: TestClient) -> None:
    files = [
        ("files", ("a.txt", b"date 2023-09-07\nPremier texte brut.", "text/plain")),
        (
            "files",
            ("b.txt", "\ufeffdate 2023-08\r\n\r\nSecond texte brut.\r\n".encode(), "text/plain"),
        ),
        ("files", ("c.txt", b"\xff\xfe bad bytes", "text/plain")),
    ]
    response = client.post("/v1/articles/raw", params={"language": "fr"}, files=files)
    assert response.status_code == 207
    result = response.json()
    assert [r["status"] for r in result["results"]] == ["created", "created", "error"]
    assert "UTF-8" in result["results"][2]["error"]["detail"]
    dates = sorted(a["published_at"] for a in client.get("/v1/articles").json()["items"])
    assert dates == ["2023-08", "2023-09-07"]


def test_raw_without_header_takes_the_request_date_or_refuses(client: TestClient) -> None:
    text = "Un texte sans en-tête de date.".encode()
    plain = {"content-type": "text/plain"}
    refused = client.post(
        "/v1/articles/raw", params={"require_date": "true"}, content=text, headers=plain
    )
    assert refused.status_code == 422
    assert "date" in refused.json()["detail"]
    dated = client.post(
        "/v1/articles/raw", params={"published_at": "2024-01"}, content=text, headers=plain
    )
    assert dated.status_code == 201 and dated.json()["published_at"] == "2024-01"


def test_put_replaces_and_delete_removes_without_reusing_ids(client: TestClient) -> None:
    first = add(client, title="Ancien", body="Le texte ancien parle de Lyon.", language="fr")
    put = client.put(
        f"/v1/articles/{first['id']}",
        params={"refresh": "wait"},
        json={"title": "Nouveau", "body": "Le texte nouveau parle de Nantes.", "language": "fr"},
    )
    assert put.status_code == 200 and put.json()["title"] == "Nouveau"
    assert ids(search(client, "nantes")) == [first["id"]]
    assert ids(search(client, "lyon")) == []
    gone = client.delete(f"/v1/articles/{first['id']}", params={"refresh": "wait"})
    assert gone.status_code == 204
    assert client.get(f"/v1/articles/{first['id']}").status_code == 404
    assert ids(search(client, "nantes")) == []
    again = add(client, title="Nouveau", body="Le texte nouveau parle de Nantes.", language="fr")
    assert again["id"] > first["id"]


def test_put_conflicting_url_is_409(client: TestClient) -> None:
    a = add(client, url="https://example.org/a", body="A.")
    b = add(client, url="https://example.org/b", body="B.")
    response = client.put(
        f"/v1/articles/{b['id']}", json={"url": "https://example.org/a", "body": "B."}
    )
    assert response.status_code == 409
    assert response.json()["existing_id"] == a["id"]


def test_health_counts_store_and_index(client: TestClient) -> None:
    add(client, body="Un article pour la santé du service.")
    health = client.get("/health").json()
    assert health == {
        "status": "ok",
        "store": {"ok": True, "articles": 1},
        # PostgreSQL search: the store is the index, with no segments of its own.
        "index": {
            "ok": True,
            "documents": 1,
            "pending": 0,
            "segments": None if ON_POSTGRES_SEARCH else 1,
            "merging": False,
        },
    }


def test_ipv6_hosts_keep_their_brackets(client: TestClient) -> None:
    one = client.post("/v1/articles", json={"url": "http://[::1:8080]/a", "body": "Un."})
    two = client.post("/v1/articles", json={"url": "http://[::1]:8080/a", "body": "Deux."})
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["url"] == "http://[::1:8080]/a"
    assert two.json()["url"] == "http://[::1]:8080/a"
    again = client.put(
        f"/v1/articles/{one.json()['id']}", json={"url": one.json()["url"], "body": "Un."}
    )
    assert again.status_code == 200


def test_concurrent_bulk_requests_with_the_same_new_urls(client: TestClient) -> None:
    """Two requests that both find the same URLs new: one creates each article, the other
    updates or keeps it, and neither fails (on PostgreSQL both may pass the lookup)."""
    barrier = threading.Barrier(4)

    def send(n: int) -> list[str]:
        items = [
            {"url": f"https://example.org/race/{i}", "body": f"Course {i}, version {n % 2}."}
            for i in range(150)
        ]
        barrier.wait()
        response = client.post("/v1/articles/bulk", json=items)
        assert response.status_code == 200, response.text
        return [r["status"] for r in response.json()["results"]]

    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(send, range(4)))
    for i in range(150):
        column = [statuses[n][i] for n in range(4)]
        assert column.count("created") == 1, column
    assert client.get("/v1/articles").json()["total"] == 150


def test_concurrent_updates_of_the_same_articles_in_opposite_orders(client: TestClient) -> None:
    """Two requests updating the same articles, one in reverse order: on PostgreSQL their row
    locks could deadlock; both must succeed."""
    urls = [f"https://example.org/order/{i}" for i in range(200)]
    first = [{"url": u, "body": "Version 0."} for u in urls]
    assert client.post("/v1/articles/bulk", json=first).status_code == 200

    def send(barrier: threading.Barrier, version: int, reverse: bool) -> int:
        body = f"Version {version}, {'inverse' if reverse else 'directe'}."
        items = [{"url": u, "body": body} for u in (reversed(urls) if reverse else urls)]
        barrier.wait()
        return client.post("/v1/articles/bulk", json=items).status_code

    for version in range(1, 4):
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(2) as pool:
            sent = [pool.submit(send, barrier, version, reverse) for reverse in (False, True)]
            assert [future.result() for future in sent] == [200, 200]
    assert client.get("/v1/articles").json()["total"] == 200


def test_a_long_body_of_distinct_words_is_stored_and_found(client: TestClient) -> None:
    """A body at the size limit made of distinct words (PostgreSQL's tsvector holds 1 MiB)."""
    body = " ".join(f"mot{i}" for i in range(110_000))[:1_000_000]
    made = client.post(
        "/v1/articles", params={"refresh": "wait"}, json={"body": body, "language": "fr"}
    )
    assert made.status_code == 201, made.text[:300]
    # Analysing 110,000 distinct words takes the indexer seconds, which on a loaded machine is
    # longer than `refresh=wait` waits: the response says so, and then the index is waited for.
    refreshed = made.headers["Newsdesk-Refresh"]
    assert refreshed in ("done", "timed-out")
    deadline = time.monotonic() + 120
    while client.get("/health").json()["index"]["pending"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [h["id"] for h in search(client, "mot12345")["hits"]] == [made.json()["id"]]


def test_a_wait_that_runs_out_says_the_write_is_not_yet_searchable(tmp_path: Path) -> None:
    # PostgreSQL search holds a write when it commits; Whoosh's indexer takes a while over
    # 30,000 distinct words, so a wait of no time at all always runs out first.
    expected = "done" if ON_POSTGRES_SEARCH else "timed-out"
    body = " ".join(f"mot{i}" for i in range(30_000))
    article = {"title": "Dépêche", "body": body, "language": "fr"}
    with make_client(tmp_path, refresh_wait_seconds=0) as client:
        made = client.post("/v1/articles", params={"refresh": "wait"}, json=article)
        assert made.status_code == 201
        assert made.headers["Newsdesk-Refresh"] == expected
        assert client.get(f"/v1/articles/{made.json()['id']}").status_code == 200  # stored
        bulk = client.post(
            "/v1/articles/bulk", params={"refresh": "wait"}, json=[{**article, "title": "Autre"}]
        )
        assert bulk.headers["Newsdesk-Refresh"] == expected
        assert "Newsdesk-Refresh" not in client.post("/v1/articles", json=article).headers
    article["body"] = "Le président a parlé."
    with make_client(tmp_path, refresh_wait_seconds=30) as client:  # room on a slow machine
        again = {**article, "title": "Encore"}
        made = client.post("/v1/articles", params={"refresh": "wait"}, json=again)
        assert made.headers["Newsdesk-Refresh"] == "done"
        assert search(client, "encore")["total"] == 1
        replaced = client.put(
            f"/v1/articles/{made.json()['id']}",
            params={"refresh": "wait"},
            json={**again, "body": "Le ministre a parlé."},
        )
        assert replaced.headers["Newsdesk-Refresh"] == "done"
        assert replaced.headers["Newsdesk-Result"] == "updated"
        gone = client.delete(f"/v1/articles/{made.json()['id']}", params={"refresh": "wait"})
        assert gone.status_code == 204 and gone.headers["Newsdesk-Refresh"] == "done"
        assert search(client, "encore")["total"] == 0


def test_bulk_ids_follow_the_input_order(client: TestClient) -> None:
    # URLs whose order is not the order they came in, nor the order of their keys
    urls = [f"https://example.org/{name}" for name in ("zulu", "alpha", "mike", "bravo", "echo")]
    items = [{"title": f"N° {i}", "body": "Texte.", "url": url} for i, url in enumerate(urls)]
    made = client.post("/v1/articles/bulk", json=items)
    assert made.status_code == 200, made.text
    created = [r["id"] for r in made.json()["results"]]
    assert created == sorted(created)
    ndjson = "\n".join(json.dumps({**item, "url": item["url"] + "/2"}) for item in items)
    made = client.post(
        "/v1/articles/bulk", content=ndjson, headers={"Content-Type": "application/x-ndjson"}
    )
    assert [r["id"] for r in made.json()["results"]] == sorted(
        r["id"] for r in made.json()["results"]
    )
    assert min(r["id"] for r in made.json()["results"]) > max(created)


def test_patch_changes_the_given_fields_only(client: TestClient) -> None:
    made = add(
        client,
        title="Kim se rendra en Russie",
        body="Le dirigeant nord-coréen se rendra bientôt en Russie.",
        published_at="2023-09",
        language="fr",
        source="KBS World",
        tags=["Corée du Nord"],
    )
    path = f"/v1/articles/{made['id']}"
    patched = client.patch(
        path, params={"refresh": "wait"}, json={"title": "Kim Jong-un à Vladivostok"}
    )
    assert patched.status_code == 200, patched.text
    assert patched.headers["Newsdesk-Result"] == "updated"
    after = client.get(path).json()
    assert after["title"] == "Kim Jong-un à Vladivostok"
    for kept in ("body", "published_at", "published_precision", "language", "source", "tags"):
        assert after[kept] == made[kept], kept
    assert ids(search(client, "vladivostok")) == [made["id"]]
    again = client.patch(path, json={"title": "Kim Jong-un à Vladivostok"})
    assert again.headers["Newsdesk-Result"] == "unchanged"
    cleared = client.patch(path, json={"source": None, "tags": None}).json()
    assert cleared["source"] is None and cleared["tags"] == [] and cleared["body"] == made["body"]
    for bad in ({"body": None}, {"body": ""}, {"colour": "red"}, {"published_at": "demain"}):
        refused = client.patch(path, json=bad)
        assert refused.status_code == 422, (bad, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert client.get(path).json()["title"] == "Kim Jong-un à Vladivostok"
    assert client.patch("/v1/articles/999999", json={"title": "x"}).status_code == 404
    # an article whose language was not found (stored `und`) takes a patch too
    unknown = add(client, title="12345", body="67890 12345")
    assert unknown["language"] == "und"
    assert client.patch(f"/v1/articles/{unknown['id']}", json={}).status_code == 200
