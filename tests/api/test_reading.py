"""Listing, paging, filters, facets, similar articles and the documented contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ON_POSTGRES_SEARCH, ids, make_client, search

ARTICLES = [
    {
        "title": "Vladivostok accueille le forum",
        "body": "Le forum économique oriental s’ouvre à Vladivostok, en Russie.",
        "published_at": "2023-09-10",
        "language": "fr",
        "source": "KBS World",
    },
    {
        "title": "Forum à Vladivostok",
        "body": "Les dirigeants arrivent à Vladivostok pour le forum économique.",
        "published_at": "2023-09-11",
        "language": "fr",
        "source": "kbs world",
    },
    {
        "title": "Économie française",
        "body": "Le forum des entreprises s’est tenu à Lyon.",
        "published_at": "2022-05",
        "language": "fr",
        "source": "Wikinews",
    },
    {
        "title": "Vladivostok forum",
        "body": "The Eastern Economic Forum opens in Vladivostok.",
        "published_at": "2023-09-12",
        "language": "en",
        "source": "Wire",
    },
]


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list[int]]]:
    with make_client(tmp_path_factory.mktemp("reading")) as client:
        response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=ARTICLES)
        assert response.json()["created"] == 4
        yield client, [r["id"] for r in response.json()["results"]]


def test_list_pages_and_filters(reader: tuple[TestClient, list[int]]) -> None:
    client, known = reader
    first = client.get("/v1/articles", params={"page_size": 2}).json()
    second = client.get("/v1/articles", params={"page_size": 2, "page": 2}).json()
    assert (first["total"], first["page"], first["page_size"]) == (4, 1, 2)
    assert ids(first) + ids(second) == [known[3], known[1], known[0], known[2]]
    by_source = client.get("/v1/articles", params={"source": "KBS WORLD"}).json()
    assert sorted(ids(by_source)) == sorted(known[:2])
    several = client.get("/v1/articles", params={"source": ["wire", "wikinews"]}).json()
    assert sorted(ids(several)) == sorted([known[2], known[3]])
    english = client.get("/v1/articles", params={"language": "en"}).json()
    assert ids(english) == [known[3]]


def test_search_filters_by_source_ignoring_case(reader: tuple[TestClient, list[int]]) -> None:
    client, known = reader
    assert sorted(ids(search(client, "forum", source="Kbs World"))) == sorted(known[:2])
    assert ids(search(client, "forum", source="KBS")) == []  # the whole name, not a part


def test_facets_count_every_match(reader: tuple[TestClient, list[int]]) -> None:
    client, _ = reader
    result = search(client, "forum", page_size=1)
    assert result["total"] == 4 and len(result["hits"]) == 1
    assert result["facets"]["language"] == {"fr": 3, "en": 1}
    assert result["facets"]["month"] == {"2023-09": 3, "2022-05": 1}
    assert result["facets"]["source"] == {"KBS World": 1, "kbs world": 1, "Wikinews": 1, "Wire": 1}


def test_operators_and_fields(reader: tuple[TestClient, list[int]]) -> None:
    client, known = reader
    assert ids(search(client, "forum -vladivostok")) == [known[2]]
    assert ids(search(client, "forum NOT vladivostok")) == [known[2]]
    assert sorted(ids(search(client, "lyon OR eastern"))) == sorted([known[2], known[3]])
    assert sorted(ids(search(client, "title:vladivostok"))) == sorted(
        [known[0], known[1], known[3]]
    )
    assert ids(search(client, "body:lyon")) == [known[2]]
    assert sorted(ids(search(client, "source:wire"))) == [known[3]]
    assert sorted(ids(search(client, "source:kbs"))) == sorted(known[:2])
    assert ids(search(client, "source:wikinews")) == [known[2]]
    assert sorted(ids(search(client, "vladi*"))) == sorted([known[0], known[1], known[3]])
    # PostgreSQL has no fuzzy lexemes: there `term~` matches the term exactly.
    fuzzy = [] if ON_POSTGRES_SEARCH else [known[2]]
    assert ids(search(client, "lyomn~")) == fuzzy
    assert ids(search(client, "lyomm~2")) == fuzzy
    assert ids(search(client, "lyon~")) == [known[2]]


def test_sort_by_date(reader: tuple[TestClient, list[int]]) -> None:
    client, known = reader
    assert ids(search(client, "forum", sort="newest")) == [known[3], known[1], known[0], known[2]]
    hit = search(client, "forum", sort="newest")["hits"][0]
    assert hit["score"] is None
    assert set(hit) == {
        "id",
        "title",
        "snippet",
        "title_snippet",
        "matched_in",
        "published_at",
        "language",
        "source",
        "url",
        "score",
    }


def test_similar_articles(reader: tuple[TestClient, list[int]]) -> None:
    client, known = reader
    response = client.get(f"/v1/articles/{known[0]}/similar")
    assert response.status_code == 200
    similar = ids(response.json())
    assert similar and similar[0] == known[1] and known[0] not in similar
    assert client.get("/v1/articles/999/similar").status_code == 404


def test_docs_page_and_contract(reader: tuple[TestClient, list[int]]) -> None:
    client, _ = reader
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if path in ("/health", "/metrics"):  # take no input: no 4xx of their own
                continue
            errors = [s for s in operation["responses"] if s.startswith("4")]
            assert errors, (method, path)
            for status in errors:
                content = operation["responses"][status]["content"]
                assert list(content) == ["application/problem+json"], (method, path, status)


def test_source_filter_is_cleaned_like_stored_sources(reader: tuple[TestClient, list[int]]) -> None:
    client, known = reader
    assert sorted(ids(search(client, "forum", source=" KBS  World "))) == sorted(known[:2])
    assert ids(search(client, "forum", language=" EN ")) == [known[3]]


def test_facets_keep_their_keys_when_nothing_can_match(
    reader: tuple[TestClient, list[int]],
) -> None:
    client, _ = reader
    result = search(client, '"a b"~2')
    assert result["total"] == 0
    assert result["facets"] == {"language": {}, "source": {}, "month": {}}


def test_month_facet_pads_early_years(tmp_path_factory: pytest.TempPathFactory) -> None:
    with make_client(tmp_path_factory.mktemp("early")) as client:
        client.post(
            "/v1/articles",
            params={"refresh": "wait"},
            json={"body": "Chronique ancienne.", "published_at": "0987-03"},
        )
        assert search(client, "chronique")["facets"]["month"] == {"0987-03": 1}


def test_totals_and_facets_count_every_match_of_a_long_posting_list(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Postings are stored in blocks of 128 documents; ten articles naming the glacier often
    fill a one-hit page, and the 290 naming it once are counted all the same, by relevance,
    by date and under a date filter."""
    many = " ".join(["glacier"] * 30)
    articles = [
        {
            "url": f"https://example.org/g{i}",
            "body": many if i < 10 else f"Article {i} : le glacier recule encore. " + "x" * 400,
            "language": "fr",
            "source": "Alpes" if i % 2 else "Andes",
            "published_at": "2024-02" if i < 150 else "2024-03",
        }
        for i in range(300)
    ]
    with make_client(tmp_path_factory.mktemp("blocks")) as client:
        response = client.post("/v1/articles/bulk", params={"refresh": "wait"}, json=articles)
        assert response.json()["created"] == 300
        for sort in ("relevance", "newest"):
            result = search(client, "glacier", page_size=1, sort=sort)
            assert result["total"] == 300
            assert result["facets"]["source"] == {"Alpes": 150, "Andes": 150}
            assert result["facets"]["month"] == {"2024-02": 150, "2024-03": 150}
        assert search(client, "glacier", **{"from": "2024-03"})["total"] == 150


def test_totals_count_weak_matches_beside_strong_ones(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Forty articles name the word in their title, three hundred once deep in a long body: a
    full page of strong matches must not make the search skip the weak ones when counting."""
    filler = " ".join(f"mot{i}" for i in range(150))
    strong = [
        {"title": f"Zorglub {i}", "body": "Rien à signaler.", "language": "fr"} for i in range(40)
    ]
    weak = [
        {
            "title": f"Chronique {i}",
            "body": f"{filler} zorglub {filler}",
            "language": "fr",
            "published_at": "2020-01",
        }
        for i in range(300)
    ]
    with make_client(tmp_path_factory.mktemp("weak")) as client:
        response = client.post(
            "/v1/articles/bulk", params={"refresh": "wait"}, json=weak[:20] + strong + weak[20:]
        )
        assert response.json()["created"] == 340
        # Whoosh's scored collector narrows a union to its strong side once strong matches
        # fill the page (the weak ones after them were neither counted nor reachable).
        for q in ("zorglub", "title:zorglub OR body:zorglub"):
            result = search(client, q, page_size=10)
            assert result["total"] == 340, q
            assert result["facets"]["month"] == {"2020-01": 300}, q
            assert len(search(client, q, page_size=10, page=34)["hits"]) == 10, q
