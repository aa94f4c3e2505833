"""Partial dates: stored with their precision, filtered by overlap, undated left out of filters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add, ids, make_client, search


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with make_client(tmp_path_factory.mktemp("dates")) as client:
        body = "Le sommet de Vladivostok réunit les deux dirigeants."
        known = {
            "month": add(
                client, title="Sommet (mois)", body=body, published_at="2023-09", language="fr"
            )["id"],
            "day": add(
                client, title="Sommet (jour)", body=body, published_at="2023-09-30", language="fr"
            )["id"],
            "late": add(
                client,
                title="Sommet (octobre)",
                body=body,
                published_at="2023-10-01T00:30:00+02:00",
                language="fr",
            )["id"],
            "year": add(
                client, title="Sommet (année)", body=body, published_at="2022", language="fr"
            )["id"],
            "undated": add(client, title="Sommet (sans date)", body=body, language="fr")["id"],
        }
        yield client, known


def test_precision_is_stored_and_returned(dated: tuple[TestClient, dict[str, int]]) -> None:
    client, known = dated
    shown = {
        name: (
            client.get(f"/v1/articles/{i}").json()["published_at"],
            client.get(f"/v1/articles/{i}").json()["published_precision"],
        )
        for name, i in known.items()
    }
    assert shown["month"] == ("2023-09", "month")
    assert shown["day"] == ("2023-09-30", "day")
    assert shown["year"] == ("2022", "year")
    assert shown["late"] == ("2023-10-01T00:30:00+02:00", "datetime")
    assert shown["undated"] == (None, None)


def test_to_month_is_inclusive_and_compares_in_utc(
    dated: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = dated
    found = set(ids(search(client, "sommet", to="2023-09", page_size=50)))
    # 2023-10-01T00:30+02:00 is 2023-09-30T22:30Z: inside September in UTC.
    assert found == {known["month"], known["day"], known["late"], known["year"]}


def test_month_precision_overlaps_a_narrower_filter(
    dated: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = dated
    found = set(ids(search(client, "sommet", **{"from": "2023-09-10", "to": "2023-09-12"})))
    assert found == {known["month"]}


def test_undated_articles_are_left_out_of_date_filters(
    dated: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = dated
    assert known["undated"] in ids(search(client, "sommet"))
    assert known["undated"] not in ids(search(client, "sommet", **{"from": "1900"}))
    listed = client.get("/v1/articles", params={"from": "1900", "page_size": 100}).json()
    assert known["undated"] not in ids(listed)
    assert listed["total"] == 4


def test_date_filters_hold_before_1970_and_with_one_bound(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        body = "Les premiers pas sur la Lune sont retransmis en direct."
        moon, later, undated = (
            add(client, url=f"https://example.org/{n}", body=body, language="fr", **date)["id"]
            for n, date in enumerate(
                [{"published_at": "1969-07-21T02:56:00Z"}, {"published_at": "1970-01-01"}, {}]
            )
        )
        assert set(ids(search(client, "lune"))) == {moon, later, undated}
        assert ids(search(client, "lune", to="1969")) == [moon]
        assert ids(search(client, "lune", **{"from": "1969-07-21", "to": "1969-07-21"})) == [moon]
        assert ids(search(client, "lune", **{"from": "1969-07-22"})) == [later]
        assert set(ids(search(client, "lune", to="2100"))) == {moon, later}
        assert ids(search(client, "lune", sort="oldest")) == [moon, later, undated]


def test_sorting_puts_undated_last_both_ways(dated: tuple[TestClient, dict[str, int]]) -> None:
    client, known = dated
    newest = ids(search(client, "sommet", sort="newest"))
    oldest = ids(search(client, "sommet", sort="oldest"))
    assert newest == [known["late"], known["day"], known["month"], known["year"], known["undated"]]
    assert oldest == [known["year"], known["month"], known["day"], known["late"], known["undated"]]
    listed = client.get("/v1/articles", params={"sort": "oldest"}).json()
    assert ids(listed) == oldest


def test_from_after_to_is_a_400(dated: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = dated
    response = client.get("/v1/search", params={"q": "sommet", "from": "2024", "to": "2023-09"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("bad", ["2023-13", "2023-02-30", "0000-00", "10000", "yesterday"])
def test_bad_filter_dates_are_422(dated: tuple[TestClient, dict[str, int]], bad: str) -> None:
    client, _ = dated
    response = client.get("/v1/search", params={"q": "sommet", "to": bad})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "to"]


@pytest.mark.parametrize("bad", ["2023-13", "2023-02-30", "0000-00", "10000-01", "yesterday"])
def test_bad_article_dates_are_422_and_store_nothing(
    tmp_path_factory: pytest.TempPathFactory, bad: str
) -> None:
    with make_client(tmp_path_factory.mktemp("bad")) as client:
        response = client.post("/v1/articles", json={"body": "Texte.", "published_at": bad})
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "published_at"]
        assert client.get("/v1/articles").json()["total"] == 0
