"""Queries on articles and on the index outbox. Every article write also writes an outbox row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal, nulls_last, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select
from sqlmodel.sql.sqltypes import UTCDateTime

from app.ingest.article import PreparedArticle, source_key
from app.search.analysis import latin_spellings
from app.store.models import Article, IndexOutbox

_CHUNK = 500


def now_utc() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class ListFilters:
    """Filters shared by listing and search: a UTC span, languages and sources."""

    start: datetime | None = None
    end: datetime | None = None
    languages: tuple[str, ...] = ()
    source_keys: tuple[str, ...] = ()


def _enqueue(session: Session, article_ids: Iterable[int]) -> list[int]:
    """Record that these articles must be (re)indexed; returns the outbox ids written.

    One statement per thousand rows: SQLAlchemy batches an INSERT … RETURNING on SQLite only
    when the rows may come back in any order (in order, it inserts them one by one).
    """
    stamp = now_utc()
    rows = [{"article_id": article_id, "created_at": stamp} for article_id in article_ids]
    if not rows:
        return []
    written = session.scalars(insert(IndexOutbox).returning(col(IndexOutbox.id)), rows)
    return [i for i in written if i is not None]


def find_by_keys(
    *, session: Session, keys: Sequence[str], for_update: bool = False
) -> dict[str, Article]:
    """Existing articles by idempotency key; `for_update` locks their rows in key order (on
    PostgreSQL: two writers of the same articles then queue instead of deadlocking)."""
    found: dict[str, Article] = {}
    unique = sorted(set(keys)) if for_update else list(dict.fromkeys(keys))
    for i in range(0, len(unique), _CHUNK):
        chunk = unique[i : i + _CHUNK]
        query = select(Article).where(col(Article.idem_key).in_(chunk))
        if for_update:
            query = query.order_by(col(Article.idem_key)).with_for_update()
        for article in session.exec(query):
            found[article.idem_key] = article
    return found


def transliteration(*, title: str, body: str, language: str) -> str | None:
    """The Latin spellings of an article's Cyrillic and Greek words (`Article.transliteration`),
    or None without any."""
    return latin_spellings(f"{title}\n{body}", language)


def columns(prepared: PreparedArticle) -> dict[str, Any]:
    """The stored columns of a prepared article: every insert and update writes these."""
    return {
        "idem_key": prepared.idem_key,
        **prepared.content(),
        "published_precision": prepared.published_precision,
        "published_start": prepared.published_start,
        "published_end": prepared.published_end,
        "source_key": source_key(prepared.source) if prepared.source else None,
        "transliteration": transliteration(
            title=prepared.title, body=prepared.body, language=prepared.language
        ),
    }


_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('article', 'id')) FROM generate_series(1, :n)"
)


def insert_articles(*, session: Session, prepared: Sequence[PreparedArticle]) -> dict[str, Article]:
    """New articles, by idempotency key (the batched INSERT … RETURNING gives the rows back in
    any order, and the key is unique).

    A key that another transaction committed meanwhile is skipped (ON CONFLICT DO NOTHING)
    and missing from the result: on PostgreSQL two writers can both find a URL new.
    """
    if not prepared:
        return {}
    stamp = now_utc()
    rows = [{**columns(p), "created_at": stamp, "updated_at": stamp} for p in prepared]
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # Ids in the order the articles came, taken from the sequence first; rows go in key
        # order, so that two transactions inserting the same keys lock them in the same order.
        ids = session.scalars(_NEXT_IDS, {"n": len(rows)}).all()
        for row, article_id in zip(rows, sorted(ids), strict=True):
            row["id"] = article_id
        rows.sort(key=lambda row: row["idem_key"])
    # SQLite has one writer at a time: rows go in the order they came, and so do their ids.
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(Article)
    statement = statement.on_conflict_do_nothing(index_elements=["idem_key"])
    # Every row names every column, NULLs included: the ORM's bulk INSERT otherwise leaves a
    # row's NULL columns out and writes one statement per set of columns, each of them new to
    # the driver's statement cache (on SQLite, 3.6 MB of prepared statements kept per 1,000
    # articles loaded).
    found = session.scalars(
        statement.returning(Article), rows, execution_options={"render_nulls": True}
    )
    return {a.idem_key: a for a in found}


def update_article(*, session: Session, article: Article, prepared: PreparedArticle) -> None:
    """Replace an article's content."""
    for name, value in columns(prepared).items():
        setattr(article, name, value)
    article.updated_at = now_utc()
    session.add(article)
    session.flush()


def delete_article(*, session: Session, article: Article) -> None:
    """Delete an article (the caller enqueues its removal from the index)."""
    session.delete(article)
    session.flush()


def same_content(article: Article, prepared: PreparedArticle) -> bool:
    """Whether storing `prepared` over `article` would change nothing a client sees."""
    return all(getattr(article, name) == value for name, value in prepared.content().items())


def get_article(*, session: Session, article_id: int) -> Article | None:
    """One article by id."""
    return session.get(Article, article_id)


def get_articles(*, session: Session, ids: Sequence[int]) -> dict[int, Article]:
    """Articles by id, in one query per chunk; missing ids are left out."""
    found: dict[int, Article] = {}
    for i in range(0, len(ids), _CHUNK):
        chunk = list(ids[i : i + _CHUNK])
        for article in session.exec(select(Article).where(col(Article.id).in_(chunk))):
            assert article.id is not None
            found[article.id] = article
    return found


def list_articles(
    *, session: Session, filters: ListFilters, newest_first: bool, offset: int, limit: int
) -> tuple[int, list[Article]]:
    """A page of articles by publication date (undated last), with the total that match."""
    query = select(Article)
    if filters.start is not None or filters.end is not None:
        query = query.where(col(Article.published_start).is_not(None))
    if filters.end is not None:
        query = query.where(col(Article.published_start) <= filters.end)
    if filters.start is not None:
        query = query.where(col(Article.published_end) >= filters.start)
    if filters.languages:
        query = query.where(col(Article.language).in_(filters.languages))
    if filters.source_keys:
        query = query.where(col(Article.source_key).in_(filters.source_keys))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    date = col(Article.published_start)
    order = (
        (nulls_last(date.desc()), col(Article.id).desc())
        if newest_first
        else (nulls_last(date.asc()), col(Article.id).asc())
    )
    items = session.exec(query.order_by(*order).offset(offset).limit(limit)).all()
    return int(total), list(items)


def article_ids(*, session: Session) -> set[int]:
    """Every stored article's id."""
    return {int(i) for i in session.exec(select(col(Article.id))).all() if i is not None}


def updated_since(*, session: Session, moment: datetime) -> list[int]:
    """Ids of articles created or changed at or after `moment`."""
    query = select(col(Article.id)).where(col(Article.updated_at) >= moment)
    return [int(i) for i in session.exec(query).all() if i is not None]


def enqueue(*, session: Session, article_ids: Iterable[int]) -> list[int]:
    """Ask the indexer to look at these articles again (index or remove them); returns the
    outbox ids written."""
    return _enqueue(session, article_ids)


def count_articles(*, session: Session) -> int:
    """How many articles the store holds."""
    return int(session.exec(select(func.count()).select_from(Article)).one())


def count_pending(*, session: Session) -> int:
    """How many outbox rows wait for the indexer."""
    return int(session.exec(select(func.count()).select_from(IndexOutbox)).one())


def fetch_outbox(*, session: Session, limit: int, after: int = 0) -> list[IndexOutbox]:
    """The oldest outbox rows (after the row `after`, when given)."""
    query = select(IndexOutbox).where(col(IndexOutbox.id) > after)
    return list(session.exec(query.order_by(col(IndexOutbox.id)).limit(limit)).all())


def remove_outbox(*, session: Session, ids: Sequence[int]) -> None:
    """Forget outbox rows the indexer has committed."""
    for i in range(0, len(ids), _CHUNK):
        session.exec(delete(IndexOutbox).where(col(IndexOutbox.id).in_(ids[i : i + _CHUNK])))


def outbox_contains(*, session: Session, ids: Sequence[int]) -> bool:
    """Whether any of these outbox rows still waits."""
    if not ids:
        return False
    query = select(func.count()).select_from(IndexOutbox).where(col(IndexOutbox.id).in_(ids))
    return int(session.exec(query).one()) > 0


def enqueue_all(*, session: Session) -> int:
    """Replace the outbox by one row per stored article (the index is to be filled anew)."""
    session.exec(delete(IndexOutbox))
    stamp = now_utc()
    source = select(col(Article.id), literal(stamp, type_=UTCDateTime()))
    session.exec(insert(IndexOutbox).from_select(["article_id", "created_at"], source))
    return count_pending(session=session)
