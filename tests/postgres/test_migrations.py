"""On PostgreSQL the same migrations create what the models say, plus the full-text objects."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text

from app.store.db import Database, alembic_config
from app.store.models import metadata
from tests.conftest import POSTGRES_ADMIN, postgres_database

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN, reason="needs a PostgreSQL cluster: NEWSDESK_TEST_POSTGRES"
)
# Migrations 0002's and 0003's, unknown to the models.
FULL_TEXT = {"search", "ix_article_search", "search_word", "ix_search_word_trigram"}


def _not_full_text(obj: Any, name: str | None, *_: Any) -> bool:
    return name not in FULL_TEXT


def _migrate(db: Database, action: str, revision: str) -> None:
    with db.write_engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _vector(connection: Connection, config: str, words: str) -> str:
    return str(
        connection.execute(text(f"SELECT to_tsvector('{config}', :w)"), {"w": words}).scalar()
    )


def _article(connection: Connection, key: str, title: str, body: str, language: str) -> int:
    stamp = datetime(2026, 12, 1, tzinfo=UTC)
    sql = text(
        "INSERT INTO article (idem_key, title, body, language, tags, created_at, updated_at)"
        " VALUES (:key, :title, :body, :language, '[]', :stamp, :stamp) RETURNING id"
    )
    params = {"key": key, "title": title, "body": body, "language": language, "stamp": stamp}
    return int(connection.execute(sql, params).scalar_one())


def _words(connection: Connection) -> set[str]:
    return set(connection.execute(text("SELECT word FROM search_word")).scalars())


def test_upgrade_head_matches_the_models_and_downgrades(tmp_path: Path) -> None:
    db = Database(postgres_database(tmp_path / "data"))
    db.migrate()
    db.migrate()  # idempotent, and the advisory lock is released each time
    with db.write_engine.connect() as connection:
        options = {"compare_type": True, "include_object": _not_full_text}
        context = MigrationContext.configure(connection, opts=options)
        assert compare_metadata(context, metadata) == []
        types = dict(
            connection.exec_driver_sql(
                "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns"
                " WHERE column_name IN ('id', 'article_id', 'search', 'transliteration', 'word')"
                " AND table_schema = 'public'"
            ).all()
        )
        assert types == {
            "article.id": "bigint",
            "article.search": "tsvector",
            "article.transliteration": "text",
            "index_outbox.id": "bigint",
            "index_outbox.article_id": "bigint",
            "search_word.word": "text",
        }
    for step in ("0002", "head", "0001", "head"):
        _migrate(db, "downgrade" if step != "head" else "upgrade", step)
    db.dispose()


def test_stop_words_are_indexed_and_0002_drops_them_again(tmp_path: Path) -> None:
    db = Database(postgres_database(tmp_path / "data"))
    db.migrate()
    with db.write_engine.connect() as connection:
        vector = _vector(connection, "newsdesk_fr", "la Corée du Nord")
        assert vector == "'core':2 'du':3 'la':1 'nord':4"
        assert _vector(connection, "newsdesk_en", "to be or not to be") == (
            "'be':2,6 'not':4 'or':3 'to':1,5"
        )
    _migrate(db, "downgrade", "0002")
    with db.write_engine.connect() as connection:
        assert _vector(connection, "newsdesk_fr", "la Corée du Nord") == "'core':2 'nord':4"
    db.dispose()


def test_0003_fills_what_0002_articles_lack(tmp_path: Path) -> None:
    """Articles stored before 0003 get their transliteration, vector and dictionary words."""
    db = Database(postgres_database(tmp_path / "data"))
    _migrate(db, "upgrade", "0002")
    with db.write_engine.begin() as connection:
        russian = _article(connection, "a", "Иван Голунов", "Журналист «Медузы».", "ru")
        french = _article(connection, "b", "Sergueï Choïgou", "à Séoul, en 2019 (Jong-un)", "fr")
    _migrate(db, "upgrade", "head")
    with db.write_engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT id, transliteration FROM article")).all())
        assert rows[french] is None
        assert "golunov" in rows[russian].split()
        found = connection.execute(
            text("SELECT id FROM article WHERE search @@ to_tsquery('newsdesk_ru', 'golunov')")
        ).scalars()
        assert list(found) == [russian]
        words = _words(connection)
        assert {"голунов", "медузы", "serguei", "choigou", "seoul", "jong"} <= words
        assert not {"2019", "jong-un", "un", "en"} & words  # letters only, three or more
    db.dispose()


def test_triggers_add_the_words_of_new_and_changed_articles(tmp_path: Path) -> None:
    db = Database(postgres_database(tmp_path / "data"))
    db.migrate()
    with db.write_engine.begin() as connection:
        first = _article(connection, "a", "Vladivostok", "Le port de Vladivostok.", "fr")
        assert _words(connection) == {"vladivostok", "port"}
        connection.execute(
            text("UPDATE article SET body = 'Ὀδυσσεύς à Ithaque' WHERE id = :id"), {"id": first}
        )
        assert _words(connection) == {"vladivostok", "port", "οδυσσευς", "ithaque"}
        connection.execute(text("DELETE FROM article"))
        assert len(_words(connection)) == 4  # never removed: a stale word is harmless
    db.dispose()
