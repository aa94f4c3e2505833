"""Korean, Japanese, Russian and English articles are searchable; language is detected."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import ON_POSTGRES_SEARCH, add, ids, search, whoosh_only


@whoosh_only("Korean and Japanese inside a run of characters (its parser has no bigrams)")
def test_korean_and_japanese_substrings_are_found(client: TestClient) -> None:
    ko = add(
        client,
        title="북한 미사일 발사",
        body="북한이 동해상으로 탄도미사일을 발사했다고 합동참모본부가 밝혔다.",
    )
    ja = add(
        client, title="宮城県沖で地震", body="日本の宮城県沖を震源とする大規模な地震があった。"
    )
    assert ko["language"] == "ko" and ja["language"] == "ja"
    assert ko["id"] in ids(search(client, "북한"))
    assert ko["id"] in ids(search(client, "탄도미사일"))
    assert ja["id"] in ids(search(client, "宮城県"))
    assert ja["id"] in ids(search(client, "地震"))
    assert ja["id"] not in ids(search(client, "北朝鮮"))
    assert ko["id"] not in ids(search(client, "宮城県"))


def test_russian_is_stemmed_and_english_detected(client: TestClient) -> None:
    ru = add(
        client,
        title="Липы за 200 тысяч",
        body="В начале ноября на Тверской улице в Москве высадили липы.",
    )
    en = add(
        client,
        title="Cocoa review",
        body="Showers continued throughout the week in the Bahia cocoa zone.",
    )
    assert ru["language"] == "ru" and en["language"] == "en"
    assert ru["id"] in ids(search(client, "москва"))  # Москве
    assert en["id"] in ids(search(client, "shower"))  # Showers
    assert ids(search(client, "cocoa", language="ru")) == []
    assert ids(search(client, "cocoa", language=["ru", "en"])) == [en["id"]]


def test_korean_words_are_found_whole(client: TestClient) -> None:
    """On both backends a Korean word between spaces is found; PostgreSQL finds no part of one
    (`탄도미사일` inside `탄도미사일을`), which the Whoosh backend does through bigrams."""
    ko = add(client, title="북한 미사일 발사", body="합동참모본부가 밝혔다 탄도미사일을 발사했다.")
    assert ko["id"] in ids(search(client, "북한"))
    assert ko["id"] in ids(search(client, "합동참모본부가"))
    assert (ko["id"] in ids(search(client, "탄도미사일"))) is not ON_POSTGRES_SEARCH
