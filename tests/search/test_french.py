"""French analysis through the API: accents, apostrophes, guillemets, stemming, soft hyphens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import add, add_kbs, ids, make_client, search


@pytest.fixture(scope="module")
def fr(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, int]]]:
    with make_client(tmp_path_factory.mktemp("fr")) as client:
        known = {"kbs": add_kbs(client)}
        known["hyphen"] = add(
            client,
            title="Lancement réussi",
            body="Suite à la défaillance d'une valve dans un des moteurs du pre\u00admier étage.",
            language="fr",
        )["id"]
        known["other"] = add(
            client,
            title="Élections municipales",
            body="Les électeurs votent dimanche dans toute la France.",
            language="fr",
        )["id"]
        known["blinde_train"] = add(
            client,
            title="Un convoi",
            body="Un wagon blindé suivait le train de marchandises.",
            language="fr",
        )["id"]
        yield client, known


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("coree", "kbs"),  # Corée
        ("Corée", "kbs"),
        ("nucleaire", "kbs"),  # nucléaire
        ("artillerie", "kbs"),  # d’artillerie with U+2019
        ("d’artillerie", "kbs"),
        ("d'artillerie", "kbs"),
        ("choigou", "kbs"),  # Choïgou
        ("russe", "kbs"),
        ("Russie", "kbs"),
        ("premier", "hyphen"),  # pre\u00admier
        ("electeurs", "other"),
    ],
)
def test_accent_and_stem_insensitive_matches(
    fr: tuple[TestClient, dict[str, int]], query: str, expected: str
) -> None:
    client, known = fr
    assert known[expected] in ids(search(client, query))


def test_russe_and_russie_meet_on_one_stem(fr: tuple[TestClient, dict[str, int]]) -> None:
    client, _known = fr
    assert ids(search(client, "russe")) == ids(search(client, "Russie"))


@pytest.mark.parametrize("phrase", ["« train blindé »", "«train blindé»", "“train blindé”"])
def test_guillemets_make_a_phrase(fr: tuple[TestClient, dict[str, int]], phrase: str) -> None:
    client, known = fr
    found = ids(search(client, phrase))
    assert known["kbs"] in found
    # "blindé suivait le train" holds both words, but not as the phrase.
    assert known["blinde_train"] not in found
    assert known["blinde_train"] in ids(search(client, "train blindé"))


def test_unrelated_words_do_not_match(fr: tuple[TestClient, dict[str, int]]) -> None:
    client, known = fr
    assert known["kbs"] not in ids(search(client, "électeurs"))
    assert search(client, "zzzqqq")["total"] == 0


def test_snippet_marks_accented_word_for_unaccented_query(
    fr: tuple[TestClient, dict[str, int]],
) -> None:
    client, known = fr
    hit = next(h for h in search(client, "coree")["hits"] if h["id"] == known["kbs"])
    assert "<mark>Corée</mark>" in hit["snippet"]


def test_soft_hyphen_is_removed_from_stored_text(fr: tuple[TestClient, dict[str, int]]) -> None:
    client, known = fr
    body = client.get(f"/v1/articles/{known['hyphen']}").json()["body"]
    assert "premier" in body and "\u00ad" not in body


def test_did_you_mean_offers_real_words(fr: tuple[TestClient, dict[str, int]]) -> None:
    client, _ = fr
    result = search(client, "artilerie")
    assert result["total"] == 0
    assert result["did_you_mean"] == "artillerie"
    assert search(client, "artillerie")["did_you_mean"] is None


def test_did_you_mean_learns_the_words_written_since(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        add(client, title="Météo", body="Un orage a frappé la côte.", language="fr")
        assert search(client, "tornnade")["did_you_mean"] is None  # the words of `t` are read
        add(client, title="Alerte", body="Une tornade a touché la ville.", language="fr")
        assert search(client, "tornnade")["did_you_mean"] == "tornade"
        add(client, title="Bilan", body="Les tornades ont fait trois morts.", language="fr")
        assert search(client, "tornnades")["did_you_mean"] == "tornades"


def test_title_weighs_more_than_body(tmp_path: Path) -> None:
    with make_client(tmp_path) as client:
        in_body = add(
            client,
            title="Actualité",
            body="Le port de Marseille accueille un navire.",
            language="fr",
        )["id"]
        in_title = add(
            client, title="Marseille", body="Le port accueille un navire géant.", language="fr"
        )["id"]
        assert ids(search(client, "marseille"))[:2] == [in_title, in_body]


def test_a_negated_word_is_read_in_the_articles_language(client: TestClient) -> None:
    """`-nord` excludes a French article that says « nord », even though another language
    stems the word differently (Hungarian makes it `nor`)."""
    north = add(client, body="Un missile tiré depuis le nord du pays.", language="fr")
    other = add(client, body="Un missile tiré depuis la côte.", language="fr")
    assert sorted(ids(search(client, "missile"))) == sorted([north["id"], other["id"]])
    assert ids(search(client, "missile -nord")) == [other["id"]]
    assert ids(search(client, "missile NOT nord")) == [other["id"]]


def test_source_words_are_read_like_the_query(client: TestClient) -> None:
    """`source:` finds a source by any of its words, whichever way the article's language
    stems them (« Le Monde » by `monde`, Reuters by `reuters`)."""
    monde = add(client, body="Un article.", language="fr", source="Le Monde")
    reuters = add(client, body="A news story.", language="en", source="Reuters")
    assert ids(search(client, "source:monde")) == [monde["id"]]
    assert ids(search(client, 'source:"le monde"')) == [monde["id"]]
    assert ids(search(client, "source:reuters")) == [reuters["id"]]
