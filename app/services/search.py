"""Full-text search: check and parse the query, run it, hydrate hits from the store, suggest."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cachetools import LRUCache
from whoosh import query as wq
from whoosh.collectors import TimeLimit
from whoosh.searching import Searcher

from app.metrics import Metrics
from app.search import engine, marks, snippets
from app.search.analysis import (
    ANALYSIS_LANGUAGES,
    LanguageAnalysis,
    WordToken,
    analyse,
    suffix_for,
)
from app.search.expansion import deadline_at
from app.search.query import CheckedQuery, QueryCompiler, QueryError, check_query, family_query
from app.search.searchers import SearcherPool
from app.services.articles import ArticleService
from app.services.errors import BadQuery, NotFound
from app.store.articles import ListFilters
from app.store.models import Article

MAX_SUGGESTED_WORDS = 8
# Expanding a query's prefix and fuzzy terms to mark them in snippets, per language of the page.
HIGHLIGHT_SECONDS = 0.1


@dataclass(frozen=True)
class SearchRequest:
    """Validated search parameters; without `q`, every article the filters keep (browsing)."""

    q: str | None
    filters: ListFilters
    sort: str
    page: int
    page_size: int


@dataclass(frozen=True)
class Hit:
    """A search hit with its article and snippets: the body's (its opening when nothing in it
    matched) and the title's when its words matched."""

    article: Article
    snippet: str
    score: float | None
    title_snippet: str | None = None
    body_matched: bool = False

    @property
    def matched_in(self) -> list[str]:
        """Where the query's words were found: `title`, `body`, both, or neither (browsing)."""
        return [
            name
            for name, hit in (("title", self.title_snippet), ("body", self.body_matched))
            if hit
        ]


@dataclass(frozen=True)
class SearchPage:
    """Everything a search response carries."""

    total: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]]
    did_you_mean: str | None
    timed_out: bool
    took_ms: float


@dataclass(frozen=True)
class SearchLimits:
    """The bounds of a search."""

    max_chars: int
    max_terms: int
    max_expansions: int
    time_limit: float


# The longest text /v1/analyze takes.
MAX_ANALYZED_CHARS = 10_000


def analyses(
    text: str,
    languages: Sequence[str],
    limits: SearchLimits,
    *,
    query_for: Callable[[CheckedQuery, str], tuple[str | None, bool]],
    terms: Callable[[WordToken, str], tuple[str, ...]] | None = None,
) -> list[LanguageAnalysis]:
    """`text` as each language's articles are analysed, and the query it makes for them when
    it is a valid query (`query_for` gives an engine's query of a family and whether it drops
    stop words)."""
    try:
        checked: CheckedQuery | None = check_query(
            text,
            max_chars=limits.max_chars,
            max_terms=limits.max_terms,
            max_expansions=limits.max_expansions,
        )
    except QueryError:
        checked = None
    out = []
    for language in dict.fromkeys(languages or ANALYSIS_LANGUAGES):
        family = suffix_for(language)
        try:
            query, drop = query_for(checked, family) if checked else (None, False)
        except QueryError:
            query, drop = None, False
        out.append(analyse(text, language, drop_stops=drop, terms=terms, query=query))
    return out


def checked_query(text: str, limits: SearchLimits) -> CheckedQuery:
    """The query string within the limits, or BadQuery saying what is wrong and where."""
    try:
        return check_query(
            text,
            max_chars=limits.max_chars,
            max_terms=limits.max_terms,
            max_expansions=limits.max_expansions,
        )
    except QueryError as exc:
        raise BadQuery(exc.message, position=exc.position) from None


# An article version and the words to mark in its body and title.
_SnippetKey = tuple[int | None, datetime, frozenset[str], frozenset[str]]


class _Ranked:
    """A query run on one version of the index: what a later identical request can reuse.

    It keeps no searcher (each belongs to one thread): a request that reuses it expands the
    words to mark with its own searcher, which reads the same version of the index.
    """

    def __init__(
        self, outcome: engine.SearchOutcome, suggestion: str | None, parsed: wq.Query
    ) -> None:
        self.outcome = outcome
        self.suggestion = suggestion
        self.parsed = parsed
        self.terms: dict[tuple[str, str], frozenset[str]] = {}  # per language and field
        # Something was cut short by the time limit (the suggestion): the page is not kept.
        self.degraded = outcome.timed_out


class SearchService:
    """Runs searches on this thread's searcher and hydrates the hits from the store."""

    def __init__(
        self,
        *,
        searchers: SearcherPool,
        compiler: QueryCompiler,
        articles: ArticleService,
        limits: SearchLimits,
        cache_size: int = 0,
        metrics: Metrics | None = None,
    ) -> None:
        self._searchers = searchers
        self._metrics = metrics
        self._compiler = compiler
        self._articles = articles
        self._limits = limits
        # Pages by index version and request: a commit makes a new version, so a kept page is
        # the page the index would give. Articles are read from the store on every request.
        self._pages: LRUCache[tuple[tuple[str, int], SearchRequest], _Ranked] = LRUCache(
            max(1, cache_size)
        )
        self._snippets: LRUCache[_SnippetKey, tuple[str | None, str | None]] = LRUCache(
            max(1, cache_size * 8)
        )
        self._lock = threading.Lock()
        self._caching = cache_size > 0

    def _check(self, text: str) -> CheckedQuery:
        return checked_query(text, self._limits)

    def search(self, request: SearchRequest) -> SearchPage:
        """One page of results for a query."""
        started = time.perf_counter()
        checked = None if request.q is None else self._check(request.q)
        version, searcher = self._searchers.get_versioned()
        with self._lock:
            ranked = self._pages.get((version, request))
        if self._caching and self._metrics is not None:
            self._metrics.cache_lookup(hit=ranked is not None)
        if ranked is None:
            ranked = self._rank(request, checked, searcher)
            if self._caching and not ranked.degraded:  # a partial page is not kept
                with self._lock:
                    self._pages[(version, request)] = ranked
        outcome = ranked.outcome
        found = self._articles.by_ids([h.id for h in outcome.hits])
        hits = []
        for h in outcome.hits:
            article = found.get(h.id)
            if article is None:  # deleted since the index last committed
                continue
            hits.append(self._hit(ranked, article, searcher, h.score))
        return SearchPage(
            total=outcome.total,
            hits=hits,
            facets=outcome.facets,
            did_you_mean=ranked.suggestion,
            timed_out=outcome.timed_out,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _rank(
        self, request: SearchRequest, checked: CheckedQuery | None, searcher: Searcher
    ) -> _Ranked:
        """Run the query: the page of ids, the facets, the suggestion."""
        deadline = time.monotonic() + self._limits.time_limit
        suffixes = engine.suffixes_in_use(searcher)
        filters = request.filters
        if checked is None:  # browsing: every article the filters keep, newest first
            outcome = self._run(searcher, wq.Every(), request, deadline, browsing=True)
            return _Ranked(outcome, None, wq.NullQuery)
        try:
            parsed = self._compiler.compile(checked, suffixes=suffixes, reader=searcher.reader())
        except QueryError as exc:
            raise BadQuery(exc.message, position=exc.position) from None
        if parsed is wq.NullQuery:
            outcome = engine.SearchOutcome(total=0, hits=[], facets=engine.empty_facets())
        else:
            outcome = self._run(searcher, parsed, request, deadline)
        suggestion = None
        if outcome.total < 3 and not outcome.timed_out and request.q is not None:
            try:
                with deadline_at(deadline):  # what is left of the search's time
                    suggestion = self._did_you_mean(
                        request.q, checked, searcher, suffixes, filters, outcome.total, deadline
                    )
            except TimeLimit:
                suggestion = None
        ranked = _Ranked(outcome, suggestion, parsed)
        # A suggestion abandoned at the deadline may exist: ask again next time.
        ranked.degraded = ranked.degraded or time.monotonic() >= deadline
        return ranked

    def _run(
        self,
        searcher: Searcher,
        q: wq.Query,
        request: SearchRequest,
        deadline: float,
        *,
        browsing: bool = False,
    ) -> engine.SearchOutcome:
        try:
            return engine.run_search(
                searcher,
                q,
                filters=request.filters,
                sort="newest" if browsing and request.sort == "relevance" else request.sort,
                page=request.page,
                page_size=request.page_size,
                deadline=deadline,
            )
        except engine.SearchFailed as exc:
            raise BadQuery(str(exc)) from None

    def _hit(
        self, ranked: _Ranked, article: Article, searcher: Searcher, score: float | None
    ) -> Hit:
        """The hit of an article, its snippets kept while neither the article nor the words to
        mark change."""
        body_terms = self._terms(ranked, searcher, article.language, "body")
        title_terms = self._terms(ranked, searcher, article.language, "title")
        key = (article.id, article.updated_at, body_terms, title_terms)
        with self._lock:
            found = self._snippets.get(key)
        if found is None:
            language = article.language
            found = (
                snippets.snippet(body_terms, body=article.body, language=language),
                snippets.marked_title(title_terms, title=article.title, language=language),
            )
            if self._caching:
                with self._lock:
                    self._snippets[key] = found
        body, title = found
        return Hit(
            article=article,
            snippet=body or marks.opening(article.body),
            score=score,
            title_snippet=title,
            body_matched=body is not None,
        )

    def _terms(
        self, ranked: _Ranked, searcher: Searcher, language: str, field: str
    ) -> frozenset[str]:
        """The words to mark in a field of this language, expanded once per ranked page; none
        when expanding them takes too long (expanded again next time)."""
        terms = ranked.terms.get((language, field))
        if terms is None:
            if ranked.parsed is wq.NullQuery:
                return frozenset()
            try:
                with deadline_at(time.monotonic() + HIGHLIGHT_SECONDS):
                    terms = engine.highlight_terms(
                        searcher, ranked.parsed, language=language, field=field
                    )
            except TimeLimit:
                return frozenset()
            ranked.terms[(language, field)] = terms
        return terms

    def _did_you_mean(
        self,
        original: str,
        checked: CheckedQuery,
        searcher: Searcher,
        suffixes: tuple[str, ...],
        filters: ListFilters,
        total: int,
        deadline: float,
    ) -> str | None:
        corrected = original
        changed = False
        for word in list(dict.fromkeys(checked.words))[:MAX_SUGGESTED_WORDS]:
            better = engine.spelling_suggestion(searcher, word)
            if better:
                corrected = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", better, corrected)
                changed = True
        if not changed:
            return None
        try:
            parsed = self._compiler.compile(
                self._check(corrected), suffixes=suffixes, reader=searcher.reader()
            )
        except (QueryError, BadQuery):
            return None
        try:
            outcome = engine.run_search(
                searcher,
                parsed,
                filters=filters,
                sort="relevance",
                page=1,
                page_size=1,
                deadline=deadline,
                facets=False,
            )
        except engine.SearchFailed:
            return None
        if outcome.timed_out:
            return None
        return corrected.strip() if outcome.total > total else None

    def analyze(self, text: str, languages: Sequence[str]) -> list[LanguageAnalysis]:
        """What `text` becomes for each language's articles, as a text and as a query."""

        def query_for(checked: CheckedQuery, family: str) -> tuple[str | None, bool]:
            compiled, drop = family_query(checked, family)
            return (None if compiled is None else str(compiled)), drop

        return analyses(text, languages, self._limits, query_for=query_for)

    def similar(self, article_id: int, *, limit: int) -> list[Hit]:
        """Articles like the given one."""
        article = self._articles.get(article_id)
        searcher = self._searchers.get()
        scored = engine.similar(
            searcher,
            article_id=article_id,
            body=article.body,
            language=article.language,
            limit=limit,
        )
        if not scored and searcher.document_number(id=article_id) is None:
            raise NotFound(f"article {article_id} is not indexed yet; try again shortly")
        found = self._articles.by_ids([s.id for s in scored])
        return [
            Hit(article=found[s.id], snippet=marks.opening(found[s.id].body), score=s.score)
            for s in scored
            if s.id in found
        ]
