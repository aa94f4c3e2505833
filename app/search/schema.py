"""The Whoosh schema, its version, and how an article becomes an index document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from whoosh.fields import DATETIME, ID, NUMERIC, TEXT, FieldType, Schema
from whoosh.formats import Existence

from app.search.analysis import (
    CJK_LANGUAGES,
    STEMMED_LANGUAGES,
    cjk_analyzer,
    folding_analyzer,
    spelling_analyzer,
    stemming_analyzer,
)
from app.store.models import Article

# Bump on any change to the fields or the analysers: a mismatch rebuilds the index at start-up.
SCHEMA_VERSION = 2
TITLE_BOOST = 2.0
FOLD_SUFFIX = "xx"
CJK_SUFFIX = "cjk"
SUFFIXES = (*STEMMED_LANGUAGES, FOLD_SUFFIX, CJK_SUFFIX)
# Sort keys put undated articles last both ways.
_UNDATED_NEWEST = -(2**62)
_UNDATED_OLDEST = 2**62


def suffix_for(language: str) -> str:
    """Which field family analyses text in this language."""
    if language in STEMMED_LANGUAGES:
        return language
    if language in CJK_LANGUAGES:
        return CJK_SUFFIX
    return FOLD_SUFFIX


def build_schema() -> Schema:
    """Per-language title/body fields plus the filter, facet and sort fields."""
    fields: dict[str, Any] = {
        "id": NUMERIC(int, bits=64, signed=False, stored=True, unique=True),
        "lang": ID(stored=True, sortable=True),
        "source_key": ID,
        "source_name": ID(sortable=True),
        "source": TEXT(analyzer=folding_analyzer()),
        "month": ID(sortable=True),
        "date_start": DATETIME,
        "date_end": DATETIME,
        "ts_new": NUMERIC(int, bits=64, signed=True, sortable=True),
        "ts_old": NUMERIC(int, bits=64, signed=True, sortable=True),
        # `title:` and `body:` in a query name these; the parser spreads them over the languages.
        "title": TEXT(analyzer=folding_analyzer()),
        "body": TEXT(analyzer=folding_analyzer()),
        "spell": FieldType(Existence(), analyzer=spelling_analyzer()),
    }
    for suffix in SUFFIXES:
        if suffix == FOLD_SUFFIX:
            analyzer = folding_analyzer()
            multitoken = "default"
        elif suffix == CJK_SUFFIX:
            analyzer = cjk_analyzer()
            multitoken = "phrase"
        else:
            analyzer = stemming_analyzer(suffix)
            multitoken = "default"
        fields[f"title_{suffix}"] = TEXT(
            analyzer=analyzer, field_boost=TITLE_BOOST, multitoken_query=multitoken
        )
        fields[f"body_{suffix}"] = TEXT(analyzer=analyzer, multitoken_query=multitoken)
    return Schema(**fields)


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def to_document(article: Article) -> dict[str, Any]:
    """The index document of an article: only what search, filters, sorting and facets need."""
    assert article.id is not None
    suffix = suffix_for(article.language)
    doc: dict[str, Any] = {
        "id": article.id,
        "lang": article.language,
        f"title_{suffix}": article.title,
        f"body_{suffix}": article.body,
    }
    if article.source:
        doc["source"] = article.source
        doc["source_name"] = article.source
        doc["source_key"] = article.source_key or ""
    if suffix != CJK_SUFFIX:
        doc["spell"] = f"{article.title}\n{article.body}"
    if article.published_start and article.published_end:
        start = _naive(article.published_start)
        doc["date_start"] = start
        doc["date_end"] = _naive(article.published_end)
        doc["month"] = f"{start.year:04d}-{start.month:02d}"
        stamp = int(start.replace(tzinfo=UTC).timestamp())
        doc["ts_new"] = stamp
        doc["ts_old"] = stamp
    else:
        doc["ts_new"] = _UNDATED_NEWEST
        doc["ts_old"] = _UNDATED_OLDEST
    return doc
