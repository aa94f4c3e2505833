"""The Whoosh schema, its version, and how an article becomes an index document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, NUMERIC, TEXT, FieldType, Schema
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
SCHEMA_VERSION = 3
TITLE_BOOST = 2.0
FOLD_SUFFIX = "xx"
CJK_SUFFIX = "cjk"
SUFFIXES = (*STEMMED_LANGUAGES, FOLD_SUFFIX, CJK_SUFFIX)
# Dates are microseconds since the epoch in sortable columns. Sort keys put undated articles
# last both ways; UNDATED is also their span, which no date filter overlaps.
UNDATED = -(2**62)
_UNDATED_OLDEST = 2**62
_EPOCH = datetime(1970, 1, 1)


def microseconds(moment: datetime) -> int:
    """A naive UTC datetime as whole microseconds since the epoch (exact, no float)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def suffix_for(language: str) -> str:
    """Which field family analyses text in this language."""
    if language in STEMMED_LANGUAGES:
        return language
    if language in CJK_LANGUAGES:
        return CJK_SUFFIX
    return FOLD_SUFFIX


def _column() -> COLUMN:
    """A signed 64-bit value per document, stored as a column and not indexed."""
    return COLUMN(NumericColumn("q"))


def build_schema() -> Schema:
    """Per-language title/body fields plus the filter, facet and sort fields."""
    fields: dict[str, Any] = {
        "id": NUMERIC(int, bits=64, signed=False, stored=True, unique=True),
        "lang": ID(stored=True, sortable=True),
        "source_key": ID,
        "source_name": ID(sortable=True),
        "source": TEXT(analyzer=folding_analyzer()),
        "month": ID(sortable=True),
        # Columns only (not indexed): sorting reads ts_new/ts_old, date filters ts_new/ts_end.
        "ts_new": _column(),
        "ts_old": _column(),
        "ts_end": _column(),
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
        doc["month"] = f"{start.year:04d}-{start.month:02d}"
        doc["ts_new"] = doc["ts_old"] = microseconds(start)
        doc["ts_end"] = microseconds(_naive(article.published_end))
    else:
        doc["ts_new"] = doc["ts_end"] = UNDATED
        doc["ts_old"] = _UNDATED_OLDEST
    return doc
