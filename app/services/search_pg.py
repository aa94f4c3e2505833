"""Full-text search on PostgreSQL (NEWSDESK_SEARCH_BACKEND=postgres): the same requests and
pages as the Whoosh service, answered by the store's own index, on the read replica if any."""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from sqlmodel import Session

from app.search import pg_words, postgres
from app.search.analysis import (
    ANALYSIS_LANGUAGES,
    LanguageAnalysis,
    WordToken,
    suffix_for,
    word_tokens,
)
from app.search.engine import SearchOutcome, empty_facets
from app.search.marks import opening
from app.search.query import CheckedQuery, QueryError
from app.search.tsquery import compile_tsqueries, config_name, family_tsquery, pg_family
from app.services.articles import ArticleService
from app.services.errors import BadQuery
from app.services.search import (
    MAX_SUGGESTED_WORDS,
    Hit,
    SearchLimits,
    SearchPage,
    SearchRequest,
    analyses,
    checked_query,
)
from app.store.db import Database


class PostgresSearchService:
    """Checks and translates queries, runs them in PostgreSQL, hydrates the hits.

    Nothing is cached in the process: every replica reads the same, current index.
    `did_you_mean` corrects words against migration 0003's `search_word` (app.search.pg_words).
    """

    def __init__(self, *, db: Database, articles: ArticleService, limits: SearchLimits) -> None:
        self._db = db
        self._articles = articles
        self._limits = limits

    def search(self, request: SearchRequest) -> SearchPage:
        """One page of results for a query."""
        started = time.perf_counter()
        queries: dict[str, str] | None = None  # browsing: every article the filters keep
        sort = request.sort
        if request.q is None:
            sort = "newest" if sort == "relevance" else sort
        else:
            checked = checked_query(request.q, self._limits)
            try:
                queries = compile_tsqueries(checked)
            except QueryError as exc:
                raise BadQuery(exc.message, position=exc.position) from None
        extracts: dict[int, tuple[str | None, str | None]] = {}
        suggestion: str | None = None
        if queries == {}:  # no word in it: nothing can match
            outcome = SearchOutcome(total=0, hits=[], facets=empty_facets())
        else:
            deadline = time.monotonic() + self._limits.time_limit
            with self._db.reading() as session:  # its time limits are the transaction's
                outcome = postgres.run_search(
                    session,
                    queries,
                    filters=request.filters,
                    sort=sort,
                    page=request.page,
                    page_size=request.page_size,
                    seconds=self._limits.time_limit,
                )
                if queries is not None:  # snippets get what is left of the time limit
                    extracts = postgres.snippets(
                        session,
                        queries,
                        [h.id for h in outcome.hits],
                        seconds=deadline - time.monotonic(),
                    )
                if queries and outcome.total < 3 and not outcome.timed_out:
                    suggestion = self._did_you_mean(
                        session, request, checked, outcome.total, deadline
                    )
        found = self._articles.by_ids([h.id for h in outcome.hits])
        hits = []
        for h in outcome.hits:
            article = found.get(h.id)
            if article is None:
                continue
            body, title = extracts.get(h.id, (None, None))
            hits.append(
                Hit(
                    article=article,
                    snippet=body or opening(article.body),
                    score=h.score,
                    title_snippet=title,
                    body_matched=body is not None,
                )
            )
        return SearchPage(
            total=outcome.total,
            hits=hits,
            facets=outcome.facets,
            did_you_mean=suggestion,
            timed_out=outcome.timed_out,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _did_you_mean(
        self,
        session: Session,
        request: SearchRequest,
        checked: CheckedQuery,
        total: int,
        deadline: float,
    ) -> str | None:
        """The query with its misspelt words corrected, if it then finds more than `total`
        articles; None past the deadline (the Whoosh service's rule)."""
        assert request.q is not None
        corrected = request.q
        changed = False
        try:
            for word in list(dict.fromkeys(checked.words))[:MAX_SUGGESTED_WORDS]:
                seconds = deadline - time.monotonic()
                better = pg_words.suggest_word(session, word, seconds=seconds)
                if better:
                    corrected = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", better, corrected)
                    changed = True
        except pg_words.TimedOut:
            return None
        if not changed:
            return None
        found = self._count(session, request, corrected, seconds=deadline - time.monotonic())
        return corrected.strip() if found is not None and found > total else None

    def _count(
        self, session: Session, request: SearchRequest, text: str, *, seconds: float
    ) -> int | None:
        """How many articles the query `text` finds with the request's filters; None if it is
        not a valid query or runs past `seconds`. (The suggestion's one call into the query
        compilation and run_search.)"""
        if seconds <= 0:
            return None
        try:
            queries = compile_tsqueries(checked_query(text, self._limits))
        except (QueryError, BadQuery):
            return None
        if not queries:
            return 0
        outcome = postgres.run_search(
            session,
            queries,
            filters=request.filters,
            sort="relevance",
            page=1,
            page_size=1,
            seconds=seconds,
        )
        return None if outcome.timed_out else outcome.total

    def analyze(self, text: str, languages: Sequence[str]) -> list[LanguageAnalysis]:
        """What `text` becomes for each language's articles, as PostgreSQL indexes it and as
        the tsquery it runs."""
        with self._db.reading() as session:

            def query_for(checked: CheckedQuery, family: str) -> tuple[str | None, bool]:
                config = config_name(pg_family(family))
                tsquery, drop = family_tsquery(checked, pg_family(family))
                if tsquery is None:
                    return None, drop
                return postgres.normalised(session, config, tsquery), drop

            words: dict[str, list[str]] = {}
            for language in dict.fromkeys(languages or ANALYSIS_LANGUAGES):
                family = pg_family(suffix_for(language))
                tokens = word_tokens(text, family, keep_cjk=True)
                words[family] = [t.surface for t in tokens]
            found = {
                family: dict(
                    zip(ws, postgres.lexemes(session, config_name(family), ws), strict=True)
                )
                for family, ws in words.items()
            }

            def terms(token: WordToken, family: str) -> tuple[str, ...]:
                return found[pg_family(family)].get(token.surface, ())

            return analyses(text, languages, self._limits, query_for=query_for, terms=terms)

    def similar(self, article_id: int, *, limit: int) -> list[Hit]:
        """Articles like the given one."""
        self._articles.get(article_id)  # NotFound for an unknown id
        with self._db.reading() as session:
            scored = postgres.similar(session, article_id=article_id, limit=limit)
        found = self._articles.by_ids([s.id for s in scored])
        return [
            Hit(article=found[s.id], snippet=opening(found[s.id].body), score=s.score)
            for s in scored
            if s.id in found
        ]
