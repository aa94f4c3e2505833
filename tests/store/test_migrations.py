"""The Alembic migration, applied to an empty database, creates exactly what the models say."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.store.db import Database
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
