"""`did_you_mean` on PostgreSQL search: the words of migration 0003's `search_word`, chosen as
the Whoosh engine chooses them (tests/search has the same examples on Whoosh)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.search import pg_words
from app.store.db import Database
from tests.conftest import POSTGRES_ADMIN, add, make_client, postgres_database, search

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN, reason="needs a PostgreSQL cluster: NEWSDESK_TEST_POSTGRES"
)

ARTICLES = [
    ("Sergueï Choïgou en visite", "Le ministre russe de la Défense est arrivé à Pyongyang.", "fr"),
    ("Escale à Vladivostok", "Le train blindé est arrivé à Vladivostok mardi.", "fr"),
    ("Séoul", "Des manifestations ont eu lieu à Séoul.", "fr"),
    ("Grève", "Les syndicats défendent les retraites.", "fr"),
    ("Sadam", "Tallinn ja Tallinn.", "et"),
    ("Laevad", "Tallinn on pealinn.", "et"),
    ("Praamid", "Tallink sõidab.", "et"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp_path = tmp_path_factory.mktemp("suggestions")
    url = postgres_database(tmp_path / "data")
    with make_client(tmp_path, search_backend="postgres", database_url=url) as c:
        for title, body, language in ARTICLES:
            add(c, title=title, body=body, language=language)
        yield c


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("choigu", "choïgou"),  # « Choïgou », as written
        ("Vladivostock", "vladivostok"),
        ("escale vladivostock", "escale vladivostok"),  # the other words stay as typed
        ("seoul retraites", None),  # nothing found, but both are words of the corpus
        ("séoul", None),
        ("tallinx", "tallinn"),  # tallink is as near, but in one article, tallinn in two
        ("zzzzqqq", None),  # nothing near
    ],
)
def test_did_you_mean(client: TestClient, query: str, suggestion: str | None) -> None:
    assert search(client, query)["did_you_mean"] == suggestion


def test_no_suggestion_once_three_articles_are_found(client: TestClient) -> None:
    result = search(client, "arrive OR seoul OR choigu")  # `arrivé` is in two articles
    assert result["total"] == 3
    assert result["did_you_mean"] is None


def test_no_suggestion_that_finds_no_more(client: TestClient) -> None:
    # `vladivostok` is a word of the corpus, but not of the Estonian articles.
    assert search(client, "vladivostock", language="et")["did_you_mean"] is None


def test_suggest_word_reads_the_dictionary(tmp_path: Path) -> None:
    """The lookup alone, on a migrated database: the dictionary filled by the triggers."""
    with make_client(tmp_path, search_backend="postgres") as c:
        url = postgres_database(tmp_path / "data")
        for title, body, language in ARTICLES:
            add(c, title=title, body=body, language=language)
    db = Database(url)
    with Session(db.write_engine) as session:
        assert pg_words.suggest_word(session, "Choigu", seconds=5) == "choïgou"
        assert pg_words.suggest_word(session, "seoul", seconds=5) is None
        assert pg_words.suggest_word(session, "tallinx", seconds=5) == "tallinn"
        assert pg_words.suggest_word(session, "ab", seconds=5) is None  # too short
        assert pg_words.suggest_word(session, "2019", seconds=5) is None  # no word
        with pytest.raises(pg_words.TimedOut):
            pg_words.suggest_word(session, "choigu", seconds=0)
    db.dispose()
