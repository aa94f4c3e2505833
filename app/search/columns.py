"""Column readers opened once per segment reader, and whole date columns as arrays.

Whoosh opens a column reader each time a search sorts or counts facets by a field: for the
three facet columns that cost about 10 ms per search on 20,000 articles (it reads the
column's table of values again each time). A segment never changes once written and a
searcher's refresh keeps the readers of unchanged segments, so `install()` makes
`SegmentReader.column_reader` keep what it opened on the reader, for the reader's lifetime
(each serving thread has its own searcher, hence its own readers and column readers).

The arrays of `values()` and `labels()` are the same for every reader of a segment, so they
are shared by all the threads of the process, keyed by the segment's random id: a segment is
loaded once, not once per serving thread. whoosh-reloaded is pinned (pyproject.toml).
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from cachetools import LRUCache
from whoosh.reading import IndexReader, SegmentReader

T = TypeVar("T")
# (segment id, column, kind): five columns of a few dozen segments at most in use at once.
_SHARED: LRUCache[tuple[str, str, str], Any] = LRUCache(maxsize=512)
_LOCK = threading.Lock()

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


def _shared(reader: IndexReader, fieldname: str, kind: str, load: Callable[[], T]) -> T:
    """What `load` makes of a column of the reader's segment, made once per process."""
    segment_id = getattr(reader, "_segid", None)
    if segment_id is None:  # not a segment's reader (an empty index): nothing to share
        return load()
    key = (segment_id, fieldname, kind)
    with _LOCK:
        found: T | None = _SHARED.get(key)
    if found is None:
        found = load()  # outside the lock: two threads may both load a new segment once
        with _LOCK:
            _SHARED[key] = found
    return found


def values(reader: IndexReader, fieldname: str) -> array[int]:
    """A signed 64-bit column of one segment as an array, loaded once per segment: read value
    by value, a date filter over thousands of matches would cost more than the search."""
    return _shared(reader, fieldname, "values", lambda: array("q", _column(reader, fieldname)))


def labels(reader: IndexReader, fieldname: str) -> tuple[array[int], list[str]]:
    """A text column of one segment as a code per document and the label of each code (""
    for documents without a value), loaded once per segment: facets are counted on codes."""

    def load() -> tuple[array[int], list[str]]:
        index: dict[bytes, int] = {}
        codes = array(
            "i", (index.setdefault(value, len(index)) for value in _column(reader, fieldname))
        )
        return codes, [value.decode("utf-8") for value in index]

    return _shared(reader, fieldname, "labels", load)
