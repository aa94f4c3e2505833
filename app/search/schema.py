"""The Whoosh schema, its version, and how an article becomes an index document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, NUMERIC, TEXT, FieldType, Schema
from whoosh.formats import Existence

from app.search.analysis import (
    CJK_SUFFIX,
    FOLD_SUFFIX,
    SUFFIXES,
    family_analyzer,
    language_analyzer,
    spelling_analyzer,
    suffix_for,
)
from app.store.models import Article

# Bump on any change to the fields or the analysers: a mismatch rebuilds the index at start-up.
SCHEMA_VERSION = 4
TITLE_BOOST = 2.0
# Dates are microseconds since the epoch in sortable columns. Sort keys put undated articles
# last both ways; UNDATED is also their span, which no date filter overlaps.
UNDATED = -(2**62)
_UNDATED_OLDEST = 2**62
_EPOCH = datetime(1970, 1, 1)


def microseconds(moment: datetime) -> int:
    """A naive UTC datetime as whole microseconds since the epoch (exact, no float)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _column() -> COLUMN:
    """A signed 64-bit value per document, stored as a column and not indexed."""
    return COLUMN(NumericColumn("q"))


def build_schema() -> Schema:
    """Per-language title/body fields plus the filter, facet and sort fields."""
    fields: dict[str, Any] = {
        "id": NUMERIC(int, bits=64, signed=False, stored=True, unique=True),
        "lang": ID(stored=True, sortable=True),
        # The field family of the article's language: what a negation is relative to.
        "family": ID,
        "source_key": ID,
        "source_name": ID(sortable=True),
        "source": TEXT(analyzer=language_analyzer(FOLD_SUFFIX)),
        "month": ID(sortable=True),
        # Columns only (not indexed): sorting reads ts_new/ts_old, date filters ts_new/ts_end.
        "ts_new": _column(),
        "ts_old": _column(),
        "ts_end": _column(),
        "spell": FieldType(Existence(), analyzer=spelling_analyzer()),
    }
    for suffix in SUFFIXES:
        analyzer = family_analyzer(suffix)
        multitoken = "phrase" if suffix == CJK_SUFFIX else "default"
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
        "family": suffix,
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
