"""Korean, Japanese, Russian and English articles are searchable; language is detected."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import add, ids, search


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


def test_korean_words_whole_and_inside_runs(client: TestClient) -> None:
    """A Korean word between spaces is found, and so is any part of a run of Hangul, alone, in a
    phrase, in a field or as a prefix; a part that straddles two runs is not."""
    ko = add(client, title="북한 미사일 발사", body="합동참모본부가 밝혔다 탄도미사일을 발사했다.")
    other = add(client, title="태풍 힌남노", body="태풍이 부산에 상륙했다.")
    assert ids(search(client, "북한")) == [ko["id"]]
    assert ids(search(client, "합동참모본부가")) == [ko["id"]]
    assert ids(search(client, "탄도미사일")) == [ko["id"]]  # inside 탄도미사일을
    assert ids(search(client, "참모")) == [ko["id"]]
    assert ids(search(client, '"밝혔다 탄도"')) == [ko["id"]]
    assert ids(search(client, "title:미사일")) == [ko["id"]]
    assert ids(search(client, "title:참모")) == []  # only in the body
    assert ids(search(client, "부산")) == [other["id"]]  # 부산에
    assert ids(search(client, "탄도 -부산")) == [ko["id"]]
    assert ids(search(client, "다탄")) == []  # 밝혔다 | 탄도미사일을: two runs
