"""Searching with PostgreSQL's full-text engine: the matches, their total and facets, a page,
snippets and similar articles, each in one round trip (NEWSDESK_SEARCH_BACKEND=postgres).

The vectors live in `article.search` (migrations 0002 and 0003): built with the configuration
of each article's language, title weighted A, body B, source C, in a GIN index. The language of
a query is unknown, so it comes as one tsquery text per configuration (app.search.tsquery),
whose union finds candidates in the index: an article matches when the query, read as its own
language reads it, does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from app.search import marks
from app.search.engine import NO_SOURCE, Scored, SearchOutcome, empty_facets, sorted_facet
from app.search.tsquery import FAMILIES, config_name
from app.store.articles import ListFilters

# Configurations of migration 0002 (its STEMMERS, and `simple` for every other language).
CONFIGS = tuple(config_name(family) for family in FAMILIES)

HEADLINE_CHARS = 20_000
# The query as the article's own language reads it, named `own.query` for filter, rank, headline
# (NULL, which matches nothing, where nothing of the query can match in that language).
_OWN = (
    "CROSS JOIN LATERAL (SELECT to_tsquery(newsdesk_ts_config(a.language), "
    "CAST(:queries AS jsonb) ->> CAST(newsdesk_ts_config(a.language) AS text)) AS query) own"
)


def _union(queries: dict[str, str]) -> str:
    """The tsquery of every configuration joined: candidates for the GIN index."""
    return " || ".join(
        f"to_tsquery('{name}'::regconfig, CAST(:queries AS jsonb) ->> '{name}')"
        for name in CONFIGS
        if name in queries
    )


# Marks put in by ts_headline, escaped with the text, then turned into HTML: private-use
# characters, so no article text can forge a tag.
_OPEN, _CLOSE, _GAP = "\ue000", "\ue001", "\ue002"
# ts_headline drops whatever looks like an HTML tag: `<` and `>` go in disguised.
_LT, _GT = "\ue003", "\ue004"
_HEADLINE = (
    f"StartSel={_OPEN}, StopSel={_CLOSE}, FragmentDelimiter={_GAP}, "
    "MaxFragments=2, MaxWords=30, MinWords=12, ShortWord=0"
)
_TITLE_HEADLINE = f"StartSel={_OPEN}, StopSel={_CLOSE}, HighlightAll=true"


def _where(filters: ListFilters, params: dict[str, Any], *, searching: bool) -> str:
    # The union over every configuration finds candidates in the GIN index; each article is
    # then matched against the query as its own language reads it (another language's stop
    # words and stems would otherwise let `missile -nord` through: Hungarian stems nord `nor`).
    clauses = ["a.search @@ q.query", "a.search @@ own.query"] if searching else ["TRUE"]
    if filters.start is not None or filters.end is not None:
        clauses.append("a.published_start IS NOT NULL")
    if filters.end is not None:
        clauses.append("a.published_start <= :end")
        params["end"] = filters.end
    if filters.start is not None:
        clauses.append("a.published_end >= :start")
        params["start"] = filters.start
    if filters.languages:
        clauses.append("a.language = ANY(:languages)")
        params["languages"] = list(filters.languages)
    if filters.source_keys:
        clauses.append("a.source_key = ANY(:sources)")
        params["sources"] = list(filters.source_keys)
    return " AND ".join(clauses)


_ORDER = {
    "relevance": "rank DESC, id ASC",
    "newest": "published_start DESC NULLS LAST, id DESC",
    "oldest": "published_start ASC NULLS LAST, id ASC",
}


def _within(
    session: Session, seconds: float, sql: str, params: dict[str, Any]
) -> Sequence[Any] | None:
    """The rows of `sql`, or None when PostgreSQL cancels it past `seconds` (it counts 0 as no
    limit: at least a millisecond is set). The limit holds for the rest of the transaction."""
    session.execute(text(f"SET LOCAL statement_timeout = {max(1, int(seconds * 1000))}"))
    try:
        return session.execute(text(sql), params).all()
    except OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) == "57014":  # query_canceled
            session.rollback()
            return None
        raise


def run_search(
    session: Session,
    queries: dict[str, str] | None,
    *,
    filters: ListFilters,
    sort: str,
    page: int,
    page_size: int,
    seconds: float,
) -> SearchOutcome:
    """Total, facets and one page of ids for the tsquery texts of each configuration (not
    empty), or of every article the filters keep without them (browsing); `timed_out` with
    nothing found when PostgreSQL stops it at the time limit (it has no partial results)."""
    params: dict[str, Any] = {
        "limit": page_size,
        "offset": (page - 1) * page_size,
        "no_source": NO_SOURCE,
    }
    if queries is None:
        matches = f"""
            SELECT a.id, a.language, a.source, a.published_start, 0.0 AS rank
            FROM article a WHERE {_where(filters, params, searching=False)}
        """
    else:
        params["queries"] = json.dumps(queries)
        matches = f"""
            WITH q AS (SELECT {_union(queries)} AS query)
            SELECT a.id, a.language, a.source, a.published_start,
                   ts_rank(a.search, own.query) AS rank
            FROM article a CROSS JOIN q {_OWN} WHERE {_where(filters, params, searching=True)}
        """
    sql = f"""
        WITH m AS MATERIALIZED ({matches})
        SELECT
            (SELECT count(*) FROM m),
            (SELECT json_agg(json_build_array(id, rank))
               FROM (SELECT id, rank FROM m ORDER BY {_ORDER[sort]}
                     LIMIT :limit OFFSET :offset) p),
            (SELECT json_object_agg(language, n)
               FROM (SELECT language, count(*) AS n FROM m GROUP BY language) f),
            (SELECT json_object_agg(source, n)
               FROM (SELECT coalesce(source, :no_source) AS source, count(*) AS n FROM m
                     GROUP BY 1) f),
            (SELECT json_object_agg(month, n)
               FROM (SELECT to_char(published_start AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
                            count(*) AS n
                     FROM m WHERE published_start IS NOT NULL GROUP BY 1) f)
    """
    rows = _within(session, seconds, sql, params)
    if rows is None:
        return SearchOutcome(total=0, hits=[], facets=empty_facets(), timed_out=True)
    ((total, page_rows, languages, sources, months),) = rows
    hits = [
        Scored(id=int(i), score=round(float(rank), 4) if sort == "relevance" else None)
        for i, rank in page_rows or []
    ]
    facets = {
        name: sorted_facet(name, found or {})
        for name, found in (("language", languages), ("source", sources), ("month", months))
    }
    return SearchOutcome(total=int(total), hits=hits, facets=facets)


def snippets(
    session: Session, queries: dict[str, str], ids: list[int], *, seconds: float
) -> dict[int, tuple[str | None, str | None]]:
    """Escaped extracts of these articles' bodies, and their titles, with the matched words in
    `<mark>` (None for a part where nothing matched); none at all (the caller shows openings)
    if they take more than `seconds`. ts_headline parses the whole text it is given, so it
    gets the body's first HEADLINE_CHARS characters."""
    if not ids or seconds <= 0:
        return {}
    sql = f"""
        SELECT a.id,
               ts_headline(newsdesk_ts_config(a.language),
                           translate(left(a.body, {HEADLINE_CHARS}), '<>', :brackets),
                           own.query, :options),
               ts_headline(newsdesk_ts_config(a.language), translate(a.title, '<>', :brackets),
                           own.query, :title_options)
        FROM article a {_OWN} WHERE a.id = ANY(:ids)
    """
    params = {
        "queries": json.dumps(queries),
        "ids": ids,
        "options": _HEADLINE,
        "title_options": _TITLE_HEADLINE,
        "brackets": _LT + _GT,
    }
    rows = _within(session, seconds, sql, params)
    return {int(i): (_marked(body), _marked(title)) for i, body, title in rows or []}


def _marked(extract: str) -> str | None:
    if _OPEN not in extract:
        return None
    escaped = marks.escape(extract.replace(_LT, "<").replace(_GT, ">"))
    for mark, tag in ((_OPEN, marks.MARK), (_CLOSE, marks.UNMARK), (_GAP, " … ")):
        escaped = escaped.replace(mark, tag)
    return escaped.strip()


def similar(session: Session, *, article_id: int, limit: int, words: int = 12) -> list[Scored]:
    """Articles of the same language family that share the most of this one's frequent words
    (its title and body lexemes, the most repeated first), best first."""
    sql = """
        WITH me AS (SELECT search, newsdesk_ts_config(language) AS config
                    FROM article WHERE id = :id),
        words AS (
            SELECT w.lexeme FROM me, unnest(me.search) w
            WHERE char_length(w.lexeme) > 2 AND w.weights && ARRAY['A', 'B']::text[]
            ORDER BY array_length(w.positions, 1) DESC, w.lexeme LIMIT :words
        ),
        q AS (SELECT string_agg(quote_literal(lexeme) || :weights, ' | ')::tsquery AS query
              FROM words)
        SELECT a.id, ts_rank(a.search, q.query) AS rank
        FROM article a, q, me
        WHERE q.query IS NOT NULL AND a.search @@ q.query AND a.id <> :id
          AND newsdesk_ts_config(a.language) = me.config
        ORDER BY rank DESC, a.id ASC LIMIT :limit
    """
    rows = session.execute(
        text(sql), {"id": article_id, "limit": limit, "words": words, "weights": ":AB"}
    )
    return [Scored(id=int(i), score=round(float(rank), 4)) for i, rank in rows]


def lexemes(session: Session, config: str, words: list[str]) -> list[tuple[str, ...]]:
    """What PostgreSQL indexes for each word under a configuration, in order."""
    if not words:
        return []
    rows = session.execute(
        text(
            "SELECT array(SELECT unnest(tsvector_to_array(to_tsvector(CAST(:config AS regconfig), "
            "w.word)))) FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS w(word, n) "
            "ORDER BY w.n"
        ),
        {"config": config, "words": words},
    )
    return [tuple(found) for (found,) in rows]


def normalised(session: Session, config: str, tsquery: str) -> str:
    """A tsquery text as PostgreSQL reads it under a configuration."""
    found = session.execute(
        text("SELECT CAST(to_tsquery(CAST(:config AS regconfig), :q) AS text)"),
        {"config": config, "q": tsquery},
    ).scalar_one()
    return str(found)
