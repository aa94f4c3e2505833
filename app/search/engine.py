"""Running queries: filters, sorting, paging, facets, the time limit, the words to mark and
spelling (the snippets themselves are app.search.snippets)."""

from __future__ import annotations

import time
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from whoosh import query, sorting
from whoosh.collectors import (
    Collector,
    SortingCollector,
    TimeLimit,
    TopCollector,
    WrappingCollector,
)
from whoosh.searching import Searcher

from app.search import columns
from app.search.analysis import SPELLING_SEPARATOR, SUFFIXES, fold, suffix_for
from app.search.expansion import closest_word, deadline_at
from app.search.schema import UNDATED, microseconds
from app.store.articles import ListFilters


@dataclass(frozen=True)
class DateSpan:
    """A date filter in microseconds since the epoch: the articles whose span overlaps it."""

    start: int
    end: int


def date_span(filters: ListFilters) -> DateSpan | None:
    """The date part of the filters; undated articles (span UNDATED) never overlap it."""
    if filters.start is None and filters.end is None:
        return None
    return DateSpan(
        start=microseconds(_naive(filters.start)) if filters.start else UNDATED + 1,
        end=microseconds(_naive(filters.end)) if filters.end else 2**63 - 1,
    )


class GateCollector(WrappingCollector):  # type: ignore[misc]
    """Passes matches to its child until `deadline` (time.monotonic()), only those whose date
    span overlaps `span` when there is one, and counts them: in all, and by the value of each
    facet column.

    Whoosh's TimeLimitCollector starts a timer thread per search (or uses SIGALRM, which only
    the main thread may handle); reading the monotonic clock between matches costs less, and
    a limit of 0 times out at the first match, which makes the behaviour testable. Dates are
    checked in columns rather than by range queries, which expand into hundreds of terms.
    Whoosh's own facets decode each match's value and keep every match to sort them all;
    here a page's worth is kept and the facets are counted on column codes.
    """

    def __init__(
        self,
        child: Collector,
        deadline: float,
        span: DateSpan | None,
        facets: dict[str, str],
    ) -> None:
        self.child = child
        self.deadline = deadline
        self.span = span
        self.facets = facets  # name: column
        self.total = 0
        self.counts: dict[str, Counter[str]] = {name: Counter() for name in facets}
        self._starts: array[int] | None = None
        self._ends: array[int] | None = None
        self._labels: dict[str, tuple[array[int], list[str]]] = {}

    def set_subsearcher(self, subsearcher: Searcher, offset: int) -> None:
        super().set_subsearcher(subsearcher, offset)
        reader = subsearcher.reader()
        if self.span is not None:
            self._starts = columns.values(reader, "ts_new")
            self._ends = columns.values(reader, "ts_end")
        self._labels = {name: columns.labels(reader, col) for name, col in self.facets.items()}

    def collect_matches(self) -> None:
        kept: list[int] = []
        try:
            self._collect_into(kept)
        finally:  # a search stopped by its deadline still counts what it kept
            self.total += len(kept)
            for name, (codes, labels) in self._labels.items():
                counts = self.counts[name]
                for code, n in Counter(map(codes.__getitem__, kept)).items():
                    counts[labels[code]] += n

    def _collect_into(self, kept: list[int]) -> None:
        collect = self.child.collect
        keep = kept.append
        deadline = self.deadline
        clock = time.monotonic
        matches: Iterator[int] = self.child.matches()
        if self.span is None or self._starts is None or self._ends is None:
            for docnum in matches:
                if clock() >= deadline:
                    raise TimeLimit
                collect(docnum)
                keep(docnum)
            return
        starts, ends = self._starts, self._ends
        first, last = self.span.start, self.span.end
        for docnum in matches:
            if clock() >= deadline:
                raise TimeLimit
            if starts[docnum] <= last and ends[docnum] >= first:
                collect(docnum)
                keep(docnum)


class SearchFailed(ValueError):
    """Whoosh refused to run a query that parsed."""


@dataclass(frozen=True)
class Scored:
    """One hit: the article id and its score."""

    id: int
    score: float | None


@dataclass
class SearchOutcome:
    """A page of hits, the total, the facets over all matches, and whether time ran out."""

    total: int
    hits: list[Scored]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    timed_out: bool = False


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def filter_query(filters: ListFilters) -> query.Query | None:
    """The language and source filters as a Whoosh query (dates are checked by GateCollector)."""
    parts: list[query.Query] = []
    if filters.languages:
        parts.append(query.Or([query.Term("lang", lang) for lang in filters.languages]))
    if filters.source_keys:
        parts.append(query.Or([query.Term("source_key", key) for key in filters.source_keys]))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else query.And(parts)


def suffixes_in_use(searcher: Searcher) -> tuple[str, ...]:
    """The language field families that hold documents (all of them on an empty index)."""
    languages = [term.decode("utf-8") for term in searcher.lexicon("lang")]
    used = {suffix_for(lang) for lang in languages}
    return tuple(s for s in SUFFIXES if s in used) or SUFFIXES


_FACETS = {"language": "lang", "source": "source_name", "month": "month"}
# The source facet's key for articles without a source, so that its counts add up to the total.
NO_SOURCE = "(none)"


def sorted_facet(name: str, found: dict[str, int]) -> dict[str, int]:
    """A facet's counts, most first; articles without a source under NO_SOURCE, undated ones
    left out of the months."""
    if name == "source" and "" in found:
        found = {**found, "": 0, NO_SOURCE: found.get(NO_SOURCE, 0) + found[""]}
    return {label: n for label, n in sorted(found.items(), key=lambda kv: (-kv[1], kv[0])) if label}


def empty_facets() -> dict[str, dict[str, int]]:
    """The facets of a search that matched nothing."""
    return {name: {} for name in _FACETS}


def run_search(
    searcher: Searcher,
    q: query.Query,
    *,
    filters: ListFilters,
    sort: str,
    page: int,
    page_size: int,
    deadline: float,
    facets: bool = True,
) -> SearchOutcome:
    """Run `q` with filters, sorting and paging until `deadline` (time.monotonic()); partial
    results, marked `timed_out`, when it passes."""
    limit = page * page_size
    # Every match goes through the gate to be counted: no collector that skips documents
    # which cannot reach the page. Whoosh's scored collector does it twice: block quality
    # (usequality) and, every `replace` matches, narrowing a union to its strong side once
    # the page is full (replace=0 turns that off; totals and facets undercounted with it).
    child: Collector
    if sort == "newest":
        child = SortingCollector(sorting.FieldFacet("ts_new", reverse=True), limit=limit)
    elif sort == "oldest":
        child = SortingCollector(sorting.FieldFacet("ts_old"), limit=limit)
    else:
        child = TopCollector(limit, usequality=False, replace=0)
    flt = filter_query(filters)
    if flt is not None:
        q = query.And([q, flt])
    gate = GateCollector(child, deadline, date_span(filters), _FACETS if facets else {})
    timed_out = False
    try:
        with deadline_at(deadline):  # prefix and fuzzy expansion stop at it too
            searcher.search_with_collector(q, gate)
    except TimeLimit:
        timed_out = True
    except Exception as exc:  # Whoosh raises on some well-formed queries (QueryError, TimeError…)
        raise SearchFailed(f"the query cannot be run ({type(exc).__name__}: {exc})") from None
    results = gate.results()
    start = (page - 1) * page_size
    hits = [
        Scored(
            id=int(hit["id"]),
            score=round(float(hit.score), 4) if sort == "relevance" else None,
        )
        for hit in results[start : start + page_size]
    ]
    counts = {name: sorted_facet(name, found) for name, found in gate.counts.items()}
    return SearchOutcome(total=gate.total, hits=hits, facets=counts, timed_out=timed_out)


MAX_HIGHLIGHT_TERMS = 200


def highlight_terms(
    searcher: Searcher, q: query.Query, *, language: str, field: str = "body"
) -> frozenset[str]:
    """The indexed terms of `q` in the `field` (body or title) of `language`, prefixes and
    fuzzy terms expanded."""
    fieldname = f"{field}_{suffix_for(language)}"
    # Query.existing_terms() stops at the first field it meets (its loop variable shadows its
    # `fieldname` argument), so the leaves are walked here.
    terms: set[str] = set()
    reader = searcher.reader()
    for leaf in q.leaves():
        if leaf.field() != fieldname:
            continue
        for fname, text in leaf.expanded_terms(reader, phrases=True):
            if fname == fieldname:
                terms.add(text.decode("utf-8") if isinstance(text, bytes) else text)
            if len(terms) >= MAX_HIGHLIGHT_TERMS:
                return frozenset(terms)
    return frozenset(terms)


def similar(
    searcher: Searcher, *, article_id: int, body: str, language: str, limit: int
) -> list[Scored]:
    """Articles whose key terms resemble this one's."""
    docnum = searcher.document_number(id=article_id)
    if docnum is None:
        return []
    results = searcher.more_like(
        docnum, f"body_{suffix_for(language)}", text=body, top=limit, numterms=12
    )
    return [Scored(id=int(hit["id"]), score=round(float(hit.score), 4)) for hit in results]


def spelling_suggestion(searcher: Searcher, word: str) -> str | None:
    """A real word close to `word` (accents aside) from the index's dictionary, the most
    frequent among the nearest; None when `word` is a word of the corpus."""
    folded = fold(word)
    if len(folded) < 3 or not folded.isalpha():
        return None  # numbers, codes and identifiers are not misspellings
    # Raises TimeLimit past the deadline set by the caller (`expansion.deadline_at`).
    return closest_word(
        searcher.reader(), "spell", folded, maxdist=2, prefix=1, separator=SPELLING_SEPARATOR
    )
