"""Writing and reading articles: one code path per write, each with its outbox row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.ingest.article import UNDETERMINED, ArticleCreate, PreparedArticle, prepare, source_key
from app.ingest.dates import PartialDate
from app.search.indexer import IndexerProcess
from app.search.writer import IndexWriterThread
from app.services.errors import Conflict, InvalidInput, NotFound, Overloaded
from app.store import articles as store
from app.store.db import Database, is_retryable
from app.store.models import Article

Status = Literal["created", "updated", "unchanged"]
_ATTEMPTS = 3


class _RacedAway(Exception):
    """A key that another transaction created, then deleted, while this one wrote."""


@dataclass(frozen=True)
class WriteResult:
    """What one write did."""

    status: Status
    article: Article
    # With refresh=wait: whether the index reflected the write before the wait ran out.
    indexed: bool | None = None


@dataclass(frozen=True)
class ItemResult:
    """One item of a bulk request: a write, or the validation error that stopped it."""

    index: int
    result: WriteResult | None
    error: ValidationError | ValueError | None


def span_filters(
    *,
    start: PartialDate | None,
    end: PartialDate | None,
    languages: Sequence[str],
    sources: Sequence[str],
) -> store.ListFilters:
    """Filters from validated parameters: `from` counts from its first instant, `to` to its last."""
    return store.ListFilters(
        start=start.start if start else None,
        end=end.end if end else None,
        languages=tuple(dict.fromkeys(lang.strip().lower() for lang in languages)),
        source_keys=tuple(dict.fromkeys(key for key in map(source_key, sources) if key)),
    )


class ArticleService:
    """Creates, updates, deletes and reads articles; wakes the indexer after each write."""

    def __init__(
        self,
        *,
        db: Database,
        writer: IndexWriterThread | IndexerProcess | None,
        refresh_timeout: float,
        max_pending: int | None = None,
        outbox: bool = True,
    ) -> None:
        self._db = db
        self._writer = writer
        # False on PostgreSQL search: the store indexes an article in its own transaction.
        self._outbox = outbox
        self._refresh_timeout = refresh_timeout
        self._max_pending = max_pending

    def _admit(self) -> None:
        """Refuse writes while the indexer's backlog is past its bound, rather than grow it."""
        if self._max_pending is None or not self._outbox:
            return
        with self._db.reading(primary=True) as session:
            pending = store.count_pending(session=session)
        if pending > self._max_pending:
            raise Overloaded(
                f"{pending} articles wait for the indexer (the bound is {self._max_pending}); "
                "retry shortly",
                retry_after=5,
            )

    def _settle(self, outbox_ids: list[int], *, wait: bool) -> bool | None:
        """Wake the indexer, and with `wait` wait for it: whether search reflects the write
        before the wait ran out (None without `wait`)."""
        if not self._outbox:  # searchable on the primary at commit; on a replica once replayed
            return self._db.wait_for_replica(self._refresh_timeout) if wait else None
        if self._writer is None:  # loading the store alone; the server's writer drains it later
            return None
        self._writer.wake()
        if not wait:
            return None
        return self._writer.wait_for(outbox_ids, self._refresh_timeout) if outbox_ids else True

    def _upsert_prepared(
        self, prepared: Sequence[PreparedArticle | None]
    ) -> tuple[list[WriteResult | None], list[int]]:
        """Write the valid items in one transaction; their results and the outbox ids written.

        A transaction that lost to a concurrent one (a deadlock, a key deleted meanwhile) runs
        again, up to three times, then the request gets 503 with Retry-After."""
        self._admit()
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                return self._upsert_once(prepared)
            except (_RacedAway, DBAPIError) as exc:
                if isinstance(exc, DBAPIError) and not is_retryable(exc):
                    raise
                if attempt == _ATTEMPTS:
                    raise Overloaded(
                        "concurrent writes to the same articles kept colliding; retry shortly",
                        retry_after=1,
                    ) from None
        raise AssertionError("unreachable")

    def _upsert_once(
        self, prepared: Sequence[PreparedArticle | None]
    ) -> tuple[list[WriteResult | None], list[int]]:
        """One transaction of `_upsert_prepared`. New articles are inserted together at the end;
        an item whose key an earlier item of the same request introduced updates (or leaves
        unchanged) that pending article."""
        keys = [p.idem_key for p in prepared if p is not None]
        outcome: list[tuple[Status, str] | None] = []
        with self._db.writing() as session:
            existing = store.find_by_keys(session=session, keys=keys, for_update=True)
            new: dict[str, PreparedArticle] = {}
            changed: dict[str, Article] = {}
            for item in prepared:
                if item is None:
                    outcome.append(None)
                    continue
                key = item.idem_key
                article = existing.get(key)
                if article is not None:
                    status: Status = "unchanged"
                    if not store.same_content(article, item):
                        store.update_article(session=session, article=article, prepared=item)
                        status, changed[key] = "updated", article
                elif key in new:
                    status = "unchanged" if new[key].content() == item.content() else "updated"
                    new[key] = item
                else:
                    status, new[key] = "created", item
                outcome.append((status, key))
            inserted = store.insert_articles(session=session, prepared=list(new.values()))
            existing.update(inserted)
            raced = [key for key in new if key not in inserted]
            if raced:  # another writer committed these keys since we looked: ours update them
                settled = self._settle_raced(session, {key: new[key] for key in raced})
                existing.update({key: article for key, (_, article) in settled.items()})
                changed.update({k: a for k, (st, a) in settled.items() if st == "updated"})
                outcome = [
                    (settled[o[1]][0], o[1]) if o and o[0] == "created" and o[1] in settled else o
                    for o in outcome
                ]
            to_index = [a.id for a in [*inserted.values(), *changed.values()] if a.id is not None]
            outbox_ids = self._enqueue(session, to_index)
        results = [None if o is None else WriteResult(o[0], existing[o[1]]) for o in outcome]
        return results, outbox_ids

    @staticmethod
    def _settle_raced(
        session: Session, items: dict[str, PreparedArticle]
    ) -> dict[str, tuple[Status, Article]]:
        """Apply items whose key appeared in the store after it was read: each updates (or
        leaves unchanged) the article that another request created."""
        found = store.find_by_keys(session=session, keys=list(items), for_update=True)
        settled: dict[str, tuple[Status, Article]] = {}
        for key, item in items.items():
            article = found.get(key)
            if article is None:  # created and deleted again since: run the whole write again
                raise _RacedAway(key)
            if store.same_content(article, item):
                settled[key] = ("unchanged", article)
            else:
                store.update_article(session=session, article=article, prepared=item)
                settled[key] = ("updated", article)
        return settled

    def _enqueue(self, session: Session, article_ids: list[int]) -> list[int]:
        """The outbox rows that ask the index to follow these articles (none without one)."""
        if not self._outbox:
            return []
        return store.enqueue(session=session, article_ids=article_ids)

    def upsert(self, article: ArticleCreate, *, wait: bool = False) -> WriteResult:
        """Create the article, or update/keep the one with the same idempotency key."""
        results, outbox_ids = self._upsert_prepared([prepare(article)])
        result = results[0]
        assert result is not None
        return replace(result, indexed=self._settle(outbox_ids, wait=wait))

    def upsert_many(
        self, items: Sequence[ArticleCreate | ValidationError | ValueError], *, wait: bool = False
    ) -> list[ItemResult]:
        """Upsert valid items in one transaction; invalid ones are reported, never block others."""
        prepared: list[PreparedArticle | None] = []
        errors: list[ValidationError | ValueError | None] = []
        for item in items:
            if isinstance(item, ArticleCreate):
                try:
                    prepared.append(prepare(item))
                    errors.append(None)
                except ValueError as exc:
                    prepared.append(None)
                    errors.append(exc)
            else:
                prepared.append(None)
                errors.append(item)
        written: list[WriteResult | None] = [None] * len(prepared)
        if any(prepared):
            written, outbox_ids = self._upsert_prepared(prepared)
            indexed = self._settle(outbox_ids, wait=wait)
            written = [w and replace(w, indexed=indexed) for w in written]
        return [ItemResult(i, written[i], errors[i]) for i in range(len(items))]

    def replace(
        self, article_id: int, article: ArticleCreate, *, wait: bool = False
    ) -> WriteResult:
        """Replace the content of an existing article: `updated`, or `unchanged`."""
        prepared = prepare(article)
        self._admit()
        with self._db.writing() as session:
            current = store.get_article(session=session, article_id=article_id)
            if current is None:
                raise NotFound(f"no article has id {article_id}")
            other = store.find_by_keys(session=session, keys=[prepared.idem_key]).get(
                prepared.idem_key
            )
            if other is not None and other.id != article_id:
                raise Conflict(
                    f"article {other.id} already has this "
                    + ("URL" if prepared.url else "title and body"),
                    existing_id=other.id,
                )
            outbox_ids = []
            status: Status = "unchanged"
            if not store.same_content(current, prepared):
                store.update_article(session=session, article=current, prepared=prepared)
                outbox_ids = self._enqueue(session, [article_id])
                status = "updated"
        return WriteResult(status, current, self._settle(outbox_ids, wait=wait))

    def patch(
        self, article_id: int, changes: Mapping[str, Any], *, wait: bool = False
    ) -> WriteResult:
        """Change the given fields of an article and keep the others (`updated`, or
        `unchanged`); the result must still be a valid article."""
        current = self.get(article_id)
        merged = {name: getattr(current, name) for name in ArticleCreate.model_fields}
        if merged["language"] == UNDETERMINED:  # what detection stored: detect again
            merged["language"] = None
        merged.update(changes)
        if merged.get("tags") is None:
            merged["tags"] = []
        try:
            article = ArticleCreate.model_validate(merged)
        except ValidationError as exc:
            errors = [
                {"loc": ["body", *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
                for e in exc.errors()
            ]
            fields = ", ".join(str(e["loc"][-1]) for e in errors)
            raise InvalidInput(f"the article would be invalid: {fields}", errors=errors) from None
        return self.replace(article_id, article, wait=wait)

    def delete(self, article_id: int, *, wait: bool = False) -> bool | None:
        """Delete an article; the index follows (with `wait`: whether it did in time)."""
        with self._db.writing() as session:
            current = store.get_article(session=session, article_id=article_id)
            if current is None:
                raise NotFound(f"no article has id {article_id}")
            store.delete_article(session=session, article=current)
            outbox_ids = self._enqueue(session, [article_id])
        return self._settle(outbox_ids, wait=wait)

    def get(self, article_id: int) -> Article:
        """One article, or NotFound."""
        with self._db.reading() as session:
            article = store.get_article(session=session, article_id=article_id)
        if article is None:
            raise NotFound(f"no article has id {article_id}")
        return article

    def list(
        self, *, filters: store.ListFilters, newest_first: bool, page: int, page_size: int
    ) -> tuple[int, list[Article]]:
        """A page of articles by date."""
        with self._db.reading() as session:
            return store.list_articles(
                session=session,
                filters=filters,
                newest_first=newest_first,
                offset=(page - 1) * page_size,
                limit=page_size,
            )

    def by_ids(self, ids: Sequence[int]) -> dict[int, Article]:
        """Articles by id, for hydrating search hits."""
        with self._db.reading() as session:
            return store.get_articles(session=session, ids=ids)
