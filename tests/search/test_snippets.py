"""Snippets find the matched words wherever they are in an article: late in a long body, after
words that only look like them, in words whose stem is not their start, in Cyrillic names met
by a Latin query, and in overlapping CJK bigrams."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add, make_client, search, whoosh_only

# About 5,000 characters that hold none of the words searched below, nor their starts.
FILLER_FR = "Le conseil municipal a voté le budget de la ville pour l'année qui vient. " * 70
FILLER_RU = "Городской совет утвердил бюджет на следующий год после долгих прений. " * 70
# Words that begin as « Corée » does, each far from the next.
LOOKALIKES = " ".join(
    f"{word} {FILLER_FR[:800]}" for word in ("corps", "correct", "cordon", "corridor", "corde")
)


ARTICLES = {
    "late": (
        "Budget municipal",
        f"{FILLER_FR} Une nouvelle application mobile sera lancée en mars.",
        "fr",
    ),
    "lookalikes": ("Budget municipal", f"{LOOKALIKES} La Corée du Nord a tiré un missile.", "fr"),
    "name": ("Городской бюджет", f"{FILLER_RU} Деньги потребовал Банк развития технологий.", "ru"),
    "bigrams": ("マラソン", "有明の東京都ビッグサイトへ向けて走るマラソンが開催された。", "ja"),
}


@pytest.fixture(scope="module")
def articles(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with make_client(tmp_path_factory.mktemp("snippets")) as client:
        known = {
            name: add(client, title=title, body=body, language=language)["id"]
            for name, (title, body, language) in ARTICLES.items()
        }
        yield client, known


def snippet_of(client: TestClient, query: str, article_id: int) -> str:
    hits = search(client, query)["hits"]
    hit = next(h for h in hits if h["id"] == article_id)
    assert "body" in hit["matched_in"]
    snippet: str = hit["snippet"]
    return snippet


def test_a_word_at_the_end_of_a_long_body_is_marked(
    articles: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = articles
    snippet = snippet_of(client, "application", known["late"])
    assert "<mark>application</mark> mobile" in snippet


def test_words_that_only_look_like_the_term_do_not_hide_it(
    articles: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = articles
    snippet = snippet_of(client, "coree", known["lookalikes"])
    assert "<mark>Corée</mark> du Nord" in snippet
    assert "<mark>corps</mark>" not in snippet


@whoosh_only("snippets do not mark a name met through its Latin spelling")
def test_a_latin_query_marks_the_cyrillic_name_late_in_a_body(
    articles: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = articles
    snippet = snippet_of(client, "bank", known["name"])
    assert "<mark>Банк</mark> развития" in snippet


@whoosh_only("Korean and Japanese inside a run of characters (its parser has no bigrams)")
def test_overlapping_bigrams_make_one_mark(articles: tuple[TestClient, dict[str, int]]) -> None:
    client, known = articles
    snippet = snippet_of(client, "東京都", known["bigrams"])
    assert "<mark>東京都</mark>" in snippet
