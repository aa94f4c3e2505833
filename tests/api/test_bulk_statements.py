"""A bulk load writes its articles with one INSERT whatever fields each article leaves out.

The ORM's bulk INSERT used to leave a row's NULL columns out of the statement and write one
statement per set of columns: every batch brought new statements, and SQLite's driver kept
each prepared (3.6 MB per 1,000 articles loaded, for as long as the server ran).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event

from tests.conftest import make_client

OPTIONAL = ("author", "section", "photo_credit", "source", "published_at")


def _articles(batch: int, count: int) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        article: dict[str, Any] = {
            "url": f"https://example.org/{batch}/{i}",
            "title": f"Dépêche {batch}-{i}",
            "body": f"La Corée du Nord, dépêche numéro {i} du lot {batch}.",
            "language": "fr",
        }
        # Each article leaves out a different set of the optional fields, and so does each
        # batch: the sets of columns differ from row to row.
        for n, name in enumerate(OPTIONAL):
            if (i + batch) >> n & 1:
                article[name] = "2023-09" if name == "published_at" else f"{name} {i}"
        out.append(article)
    return out


def test_a_bulk_load_uses_one_insert_statement_whatever_fields_are_missing(
    tmp_path: Path,
) -> None:
    with make_client(tmp_path) as client:
        inserts: list[str] = []

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("INSERT INTO ARTICLE "):
                inserts.append(statement)

        engine = client.app.state.runtime.db.write_engine  # type: ignore[attr-defined]
        event.listen(engine, "before_cursor_execute", seen)
        sent = [_articles(batch, 32) for batch in range(3)]
        created: list[tuple[int, dict[str, Any]]] = []
        for articles in sent:
            response = client.post("/v1/articles/bulk", json=articles)
            assert response.status_code == 200, response.text
            assert response.json()["created"] == 32
            results = response.json()["results"]
            created += [(r["id"], a) for r, a in zip(results, articles, strict=True)]
        event.remove(engine, "before_cursor_execute", seen)

        assert len(inserts) == 3  # one statement a batch, the same one each time
        assert len(set(inserts)) == 1

        # Fields given are stored, fields left out are null.
        for article_id, article in created:
            stored = client.get(f"/v1/articles/{article_id}").json()
            assert stored["url"] == article["url"]
            for name in OPTIONAL:
                assert stored[name] == article.get(name), (name, article)
