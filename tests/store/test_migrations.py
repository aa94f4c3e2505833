"""The Alembic migration, applied to an empty database, creates exactly what the models say."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from app.store.db import Database, alembic_config
from app.store.models import metadata


def test_upgrade_head_matches_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    db.migrate()
    with db.write_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
        assert {"article", "index_outbox", "alembic_version"} <= set(
            inspect(connection).get_table_names()
        )
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert mode == "wal"
    db.migrate()  # idempotent
    db.dispose()


def test_ids_are_never_reused(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'ids.db'}")
    db.migrate()
    with db.write_engine.connect() as connection:
        sql = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'article'"
        ).scalar()
        assert "AUTOINCREMENT" in str(sql)
    db.dispose()


def _migrate(db: Database, action: str, revision: str) -> None:
    with db.write_engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_0003_transliterates_the_articles_stored_before_it(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    _migrate(db, "upgrade", "0002")
    stamp = datetime(2026, 12, 1, tzinfo=UTC)
    insert = text(
        "INSERT INTO article (idem_key, title, body, language, tags, created_at, updated_at)"
        " VALUES (:key, :title, :body, :language, '[]', :stamp, :stamp)"
    )
    with db.write_engine.begin() as connection:
        for key, title, body, language in (
            ("a", "Иван Голунов", "Журналист «Медузы».", "ru"),
            ("b", "Sergueï Choïgou", "à Séoul", "fr"),
        ):
            params = {"key": key, "title": title, "body": body, "language": language}
            connection.execute(insert, {**params, "stamp": stamp})
    _migrate(db, "upgrade", "head")
    with db.write_engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT idem_key, transliteration FROM article")).all())
    assert rows["b"] is None
    assert {"ivan", "golunov"} <= set(rows["a"].split())
    _migrate(db, "downgrade", "0002")
    with db.write_engine.connect() as connection:
        names = {c["name"] for c in inspect(connection).get_columns("article")}
    assert "transliteration" not in names
    db.dispose()
