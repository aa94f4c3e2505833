"""On PostgreSQL the same migrations create what the models say, plus the full-text objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.store.db import Database, alembic_config
from app.store.models import metadata
from tests.conftest import POSTGRES_ADMIN, postgres_database

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN, reason="needs a PostgreSQL cluster: NEWSDESK_TEST_POSTGRES"
)
FULL_TEXT = {"search", "ix_article_search"}  # migration 0002's, unknown to the models


def _not_full_text(obj: Any, name: str | None, *_: Any) -> bool:
    return name not in FULL_TEXT


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
                " WHERE column_name IN ('id', 'article_id', 'search')"
                " AND table_schema = 'public'"
            ).all()
        )
        assert types == {
            "article.id": "bigint",
            "article.search": "tsvector",
            "index_outbox.id": "bigint",
            "index_outbox.article_id": "bigint",
        }
    with db.write_engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
        command.upgrade(config, "head")
    db.dispose()
