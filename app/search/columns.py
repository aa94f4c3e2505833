"""Column readers opened once per segment reader, and whole date columns as arrays.

Whoosh opens a column reader each time a search sorts or counts facets by a field: for the
three facet columns that cost about 10 ms per search on 20,000 articles (it reads the
column's table of values again each time). A segment never changes once written and a
searcher's refresh keeps the readers of unchanged segments, so `install()` makes
`SegmentReader.column_reader` keep what it opened on the reader, for the reader's lifetime.
Each serving thread has its own searcher, hence its own readers: nothing here is shared
between threads. whoosh-reloaded is pinned (pyproject.toml).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

from whoosh.reading import IndexReader, SegmentReader

_open_column_reader = SegmentReader.column_reader


def _column_reader(
    self: SegmentReader,
    fieldname: str,
    column: Any = None,
    reverse: bool = False,
    translate: bool = True,
) -> Any:
    if column is not None:  # a column other than the schema's: not kept
        return _open_column_reader(self, fieldname, column, reverse, translate)
    opened: dict[tuple[str, bool, bool], Any] = self.__dict__.setdefault("_newsdesk_columns", {})
    key = (fieldname, reverse, translate)
    if key not in opened:
        opened[key] = _open_column_reader(self, fieldname, None, reverse, translate)
    return opened[key]


def install() -> None:
    """Keep column readers on their segment reader (idempotent)."""
    SegmentReader.column_reader = _column_reader


def _column(reader: IndexReader, fieldname: str) -> Iterable[Any]:
    """Every value of a column, raw (an index without segments has no columns at all)."""
    if not reader.doc_count_all():
        return []
    found: Iterable[Any] = reader.column_reader(fieldname, translate=False)
    return found


def values(reader: IndexReader, fieldname: str) -> array[int]:
    """A signed 64-bit column of one segment as an array, loaded once per reader: read value
    by value, a date filter over thousands of matches would cost more than the search."""
    loaded: dict[str, array[int]] = reader.__dict__.setdefault("_newsdesk_arrays", {})
    if fieldname not in loaded:
        loaded[fieldname] = array("q", _column(reader, fieldname))
    return loaded[fieldname]


def labels(reader: IndexReader, fieldname: str) -> tuple[array[int], list[str]]:
    """A text column of one segment as a code per document and the label of each code (""
    for documents without a value), loaded once per reader: facets are counted on codes."""
    loaded: dict[str, tuple[array[int], list[str]]] = reader.__dict__.setdefault(
        "_newsdesk_labels", {}
    )
    if fieldname not in loaded:
        index: dict[bytes, int] = {}
        codes = array(
            "i", (index.setdefault(value, len(index)) for value in _column(reader, fieldname))
        )
        loaded[fieldname] = (codes, [value.decode("utf-8") for value in index])
    return loaded[fieldname]
