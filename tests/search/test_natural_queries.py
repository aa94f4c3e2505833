"""Queries as people type them, on either search backend: sentences with stop words in several
languages, names with and without hyphens, stop words alone, phrases, names across scripts,
suggestions, snippets, browsing, and /v1/analyze."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ON_POSTGRES_SEARCH, add, add_kbs, ids, make_client, search

ARTICLES: dict[str, dict[str, Any]] = {
    "nord": {
        "title": "Pyongyang tire un missile",
        "body": "La Corée du Nord a tiré un missile balistique vers la mer de l’Est.",
        "language": "fr",
        "source": "KBS World",
        "published_at": "2023-09",
    },
    "apart": {
        "title": "Relations régionales",
        "body": "La Corée et le Nord de la Chine renforcent leurs échanges. "
        "Un choix seul, et les retraites.",
        "language": "fr",
        "source": "KBS World",
        "published_at": "2023-08",
    },
    "train": {
        "title": "Le train blindé",
        "body": "Le dirigeant a voyagé à bord de son convoi, un choix sûr : seul, "
        "pour les retraites.",
        "language": "fr",
        "published_at": "2023-09-12",
    },
    "sud": {
        "title": "Diplomatie",
        "body": "Le ministère sud-coréen des Affaires étrangères a réagi.",
        "language": "fr",
        "source": "Yonhap",
        "published_at": "2023-09-13",
    },
    "kim_en": {
        "title": "Summit in Vladivostok",
        "body": "Kim Jong Un met the Russian president in the far east of Russia.",
        "language": "en",
        "source": "Wire",
        "published_at": "2023-09-14",
    },
    "hamlet": {
        "title": "A famous line",
        "body": "To be, or not to be, that is the question.",
        "language": "en",
        "published_at": "1603",
    },
    "moscou_ru": {
        "title": "Задержание журналиста",
        "body": "Иван Голунов был задержан полицией в Москве; полиция позже его отпустила.",
        "language": "ru",
        "source": "Meduza",
        "published_at": "2019-06-07",
    },
    "shoigu_ru": {
        "title": "Министр обороны",
        "body": "Сергей Шойгу провёл совещание.",
        "language": "ru",
        "source": "Meduza",
        "published_at": "2023-07-27",
    },
    "golunov_fr": {
        "title": "Un journaliste libéré",
        "body": "Le journaliste Ivan Golunov a été libéré après des manifestations.",
        "language": "fr",
        "published_at": "2019-06-11",
    },
    "es": {
        "title": "El presidente de la república",
        "body": "El presidente de la república visitó la ciudad de Valencia.",
        "language": "es",
        "published_at": "2018-03",
    },
    "de": {
        "title": "Die Regierung und der Kanzler",
        "body": "Der Kanzler und die Regierung beraten über den Haushalt.",
        "language": "de",
        "published_at": "2018-04",
    },
    "title_only": {
        "title": "Séoul accueille les retraites",
        "body": "Un texte sans rapport avec le titre.",
        "language": "fr",
        "published_at": "2020-01",
    },
    "quotes": {
        "title": "L’avis d’O'Brien",
        "body": "« C'est l'heure », dit O'Brien <script>alert(1)</script> à l’aube.",
        "language": "fr",
        "published_at": "2021-02",
    },
    "lions": {
        "title": "At the zoo",
        "body": "Two lions died at the zoo.",
        "language": "en",
        "published_at": "2022-05",
    },
    "ko": {
        "title": "북한 소식",
        "body": "북한 김정은 위원장 이 러시아 를 방문했다.",
        "language": "ko",
        "published_at": "2023-09-15",
    },
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with make_client(tmp_path_factory.mktemp("natural")) as client:
        known = {"kbs": add_kbs(client)}
        for name, article in ARTICLES.items():
            known[name] = add(client, **article)["id"]
        yield client, known


def _names(known: dict[str, int], result: dict[str, Any]) -> set[str]:
    by_id = {v: k for k, v in known.items()}
    return {by_id[i] for i in ids(result)}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # French sentences with stop words
        ("la Corée du Nord", {"nord", "kbs"}),
        ("le train blindé", {"train", "kbs"}),
        ("Kim se rendra en Russie", {"kbs"}),
        # English, Russian, Spanish, German
        ("the president of Russia", {"kim_en"}),
        ("в Москве", {"moscou_ru"}),
        ("Голунов и полиция", {"moscou_ru"}),
        ("el presidente de la república", {"es"}),
        ("der Kanzler und die Regierung", {"de"}),
    ],
)
def test_sentences_with_stop_words_find_their_articles(
    corpus: tuple[TestClient, dict[str, int]], query: str, expected: set[str]
) -> None:
    client, known = corpus
    assert expected <= _names(known, search(client, query))


@pytest.mark.parametrize(
    "query", ["Kim Jong-un", "Kim Jong Un", "kim jong un", "KIM JONG-UN", "Jong-un"]
)
def test_names_match_with_or_without_hyphens(
    corpus: tuple[TestClient, dict[str, int]], query: str
) -> None:
    client, known = corpus
    assert {"kbs", "kim_en"} <= _names(known, search(client, query))


@pytest.mark.parametrize("query", ["sud-coréen", "sud coréen", "sud coreen"])
def test_compound_words_match_with_or_without_hyphens(
    corpus: tuple[TestClient, dict[str, int]], query: str
) -> None:
    client, known = corpus
    assert {"sud", "kbs"} <= _names(known, search(client, query))


def test_a_query_of_stop_words_finds_the_articles_that_hold_them(
    corpus: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = corpus
    assert _names(known, search(client, "to be or not to be")) == {"hamlet"}
    holding_la = _names(known, search(client, "la", page_size=100))
    assert {"nord", "apart", "es", "kbs"} <= holding_la
    assert "train" not in holding_la and "de" not in holding_la


def test_phrases_keep_their_stop_words_in_place(corpus: tuple[TestClient, dict[str, int]]) -> None:
    client, known = corpus
    assert _names(known, search(client, "« la Corée du Nord »")) == {"nord", "kbs"}
    # the words apart, and other words in the stop words' places, are not the phrase
    assert "apart" in _names(known, search(client, "Corée Nord"))
    assert _names(known, search(client, '"Corée et le Nord"')) == {"apart"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("golunov", {"moscou_ru", "golunov_fr"}),  # Latin finds Cyrillic
        ("Голунов", {"moscou_ru", "golunov_fr"}),  # and the reverse
        ("shoigu", {"shoigu_ru"}),
        ("Shoygu", {"shoigu_ru"}),
    ],
)
def test_names_are_found_across_scripts(
    corpus: tuple[TestClient, dict[str, int]], query: str, expected: set[str]
) -> None:
    client, known = corpus
    assert _names(known, search(client, query)) >= expected


def test_operators_keep_their_meaning_per_language(
    corpus: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = corpus
    assert _names(known, search(client, "Corée -missile")) >= {"apart"}
    assert "nord" not in _names(known, search(client, "Corée -missile"))
    assert _names(known, search(client, "Kanzler OR golunov")) >= {"de", "golunov_fr"}
    assert _names(known, search(client, "title:train la")) == {"train"}
    assert _names(known, search(client, "source:meduza полиция")) == {"moscou_ru"}


def test_negations_and_words_a_language_cannot_hold(
    corpus: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = corpus
    everything = search(client, "-missile", page_size=100)
    assert "nord" not in _names(known, everything) and "hamlet" in _names(known, everything)
    assert "nord" not in _names(known, search(client, "Corée ANDNOT missile"))
    assert "apart" in _names(known, search(client, "Corée ANDNOT missile"))
    assert "nord" not in _names(known, search(client, "Kanzler OR -missile", page_size=100))
    # excluding a word no article holds, or one a language cannot hold, excludes nothing
    total = search(client, "-zzzqqq", page_size=100)["total"]
    assert total == len(known) == search(client, "-中国", page_size=100)["total"]
    assert search(client, "Corée -zzzqqq")["total"] == search(client, "Corée")["total"]
    assert search(client, "Corée ANDNOT zzzqqq")["total"] == search(client, "Corée")["total"]
    assert search(client, "zzzqqq OR -missile", page_size=100)["total"] == everything["total"]
    assert search(client, "Corée ANDNOT -zzzqqq")["total"] == 0
    # a Korean word asked with a French one: French articles do not hold it
    assert search(client, "la 북한")["total"] == 0
    assert _names(known, search(client, "북한")) == {"ko"}


def test_latin_words_meet_names_not_other_words(
    corpus: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = corpus
    assert "lions" not in _names(known, search(client, "Lyon"))
    assert "lions" not in _names(known, search(client, "dye"))
    assert _names(known, search(client, "lions")) == {"lions"}


def _folded(text: str | None) -> str | None:
    import unicodedata

    if text is None:
        return None
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [("choigu", "choigou"), ("vladivostock", "vladivostok"), ("seoul retraites", None)],
)
def test_suggestions_are_words_people_would_accept(
    corpus: tuple[TestClient, dict[str, int]], query: str, suggestion: str | None
) -> None:
    client, _ = corpus
    result = search(client, query)
    assert _folded(result["did_you_mean"]) == suggestion
    if suggestion:
        assert search(client, result["did_you_mean"])["total"] > result["total"]


def test_one_escaping_rule_for_every_snippet(corpus: tuple[TestClient, dict[str, int]]) -> None:
    client, known = corpus
    marked = search(client, "heure")["hits"][0]["snippet"]
    lead = search(client, "source:nothing OR avis")["hits"][0]["snippet"]  # title-only: lead
    similar = client.get(f"/v1/articles/{known['quotes']}/similar").json()
    for snippet in (marked, lead):
        assert "O'Brien" in snippet and "&#x27;" not in snippet
        assert "&lt;script&gt;" in snippet and "<script>" not in snippet
    for hit in similar.get("hits", []):
        assert "&#x27;" not in hit["snippet"]


def test_a_title_only_match_says_so(corpus: tuple[TestClient, dict[str, int]]) -> None:
    client, known = corpus
    (hit,) = search(client, "Séoul accueille")["hits"]
    assert hit["id"] == known["title_only"]
    assert hit["matched_in"] == ["title"]
    assert "<mark>" in hit["title_snippet"] and "Séoul" in hit["title_snippet"]
    assert "<mark>" not in hit["snippet"]
    both = search(client, "missile balistique")["hits"][0]
    assert both["matched_in"] == ["title", "body"] or both["matched_in"] == ["body"]


def test_cjk_marks_cover_the_matched_text(corpus: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = corpus
    (hit,) = search(client, "김정은")["hits"]
    assert "<mark>김정은</mark>" in hit["snippet"]


def test_browsing_without_a_query(corpus: tuple[TestClient, dict[str, int]]) -> None:
    client, known = corpus
    response = client.get("/v1/search", params={"page_size": 100})
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["total"] == len(known)
    dated = [h["published_at"] for h in result["hits"] if h["published_at"]]
    assert ids(result)[0] == known["ko"]  # the newest first
    assert len(dated) == len(known)
    sources = result["facets"]["source"]
    assert sum(sources.values()) == result["total"]
    assert sources["(none)"] == sum(1 for a in ARTICLES.values() if "source" not in a)
    narrowed = client.get("/v1/search", params={"language": "ru"}).json()
    assert _names(known, narrowed) == {"moscou_ru", "shoigu_ru"}


def test_analyze_shows_each_stage_per_language(corpus: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = corpus
    response = client.get(
        "/v1/analyze", params={"text": "la Corée du Nord", "language": ["fr", "en", "ko"]}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["backend"] == ("postgres" if ON_POSTGRES_SEARCH else "whoosh")
    fr, en, ko = body["languages"]
    assert [t["token"] for t in fr["tokens"]] == ["la", "Corée", "du", "Nord"]
    assert [t["stop"] for t in fr["tokens"]] == [True, False, True, False]
    assert [t["in_query"] for t in fr["tokens"]] == [False, True, False, True]
    assert fr["tokens"][1]["folded"] == "coree"
    assert all(t["in_query"] for t in en["tokens"])
    assert ko["analysis"] == "cjk"
    kim = client.get("/v1/analyze", params={"text": "Kim Jong-un", "language": "fr"}).json()
    assert [(t["token"], t["stop"]) for t in kim["languages"][0]["tokens"]] == [
        ("Kim", False),
        ("Jong", False),
        ("un", True),
    ]
    russian = client.get("/v1/analyze", params={"text": "Голунов", "language": "ru"}).json()
    assert "golunov" in russian["languages"][0]["tokens"][0]["latin"]
    bad = client.get("/v1/analyze", params={"text": "x", "language": "not a code"})
    assert bad.status_code == 422
