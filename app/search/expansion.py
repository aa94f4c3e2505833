"""Prefix and fuzzy terms whose expansion over the term dictionary obeys the search's deadline.

Whoosh expands `presid*` and `presidnet~2` into the matching terms of every field family while
it builds the matchers, before any collector sees a match, so a time limit on collection alone
lets a few fuzzy terms run for over a second on a few thousand articles. These classes check the
deadline of the search running in this context while they enumerate, and measure edit distance
with rapidfuzz (C++) instead of Whoosh's pure-Python loop; so does the spelling suggestion.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from cachetools import LRUCache
from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh import query
from whoosh.collectors import TimeLimit
from whoosh.reading import IndexReader

# When the search running in this context must stop (time.monotonic()); none outside searches.
DEADLINE: ContextVar[float] = ContextVar("newsdesk_search_deadline", default=math.inf)
_CHECK_EVERY = 64


@contextmanager
def deadline_at(moment: float) -> Iterator[None]:
    """Expansions inside this block raise TimeLimit once time.monotonic() reaches `moment`."""
    token = DEADLINE.set(moment)
    try:
        yield
    finally:
        DEADLINE.reset(token)


def _checked(terms: Iterator[bytes]) -> Iterator[bytes]:
    deadline = DEADLINE.get()
    for n, term in enumerate(terms):
        if not n % _CHECK_EVERY and time.monotonic() >= deadline:
            raise TimeLimit
        yield term


class BoundedPrefix(query.Prefix):  # type: ignore[misc]
    """`text*`, expanded until the deadline."""

    def _btexts(self, ixreader: IndexReader) -> Iterator[bytes]:
        return _checked(ixreader.expand_prefix(self.fieldname, self.text))


class BoundedFuzzyTerm(query.FuzzyTerm):  # type: ignore[misc]
    """`text~N`: terms within N edits (optimal string alignment, as Whoosh counts them)."""

    def _btexts(self, ixreader: IndexReader) -> Iterator[str]:
        text, limit = self.text, self.maxdist
        field = ixreader.schema[self.fieldname]
        candidates = _checked(ixreader.expand_prefix(self.fieldname, text[: self.prefixlength]))
        for btext in candidates:
            word = field.from_bytes(btext)
            if OSA.distance(word, text, score_cutoff=limit) <= limit:
                yield word


@dataclass(frozen=True)
class _Spellings:
    """The words of one segment's spelling dictionary that begin with one prefix: each folded
    word once, with its terms (`folded␟written`)."""

    folded: list[str]
    terms: list[list[bytes]]


# Read once per segment (a segment never changes) for every serving thread, whose readers are
# its own; a segment's whole dictionary is about 12 MB at 20,000 articles.
_SPELLINGS: LRUCache[tuple[str, str, str], _Spellings] = LRUCache(maxsize=256)
_SPELLINGS_LOCK = threading.Lock()


def _read_spellings(reader: IndexReader, fieldname: str, start: str, separator: str) -> _Spellings:
    field = reader.schema[fieldname]
    by_folded: dict[str, list[bytes]] = {}
    for btext in _checked(reader.expand_prefix(fieldname, start)):
        folded = field.from_bytes(btext).partition(separator)[0]
        by_folded.setdefault(folded, []).append(btext)
    return _Spellings(list(by_folded), list(by_folded.values()))


def _spellings(reader: IndexReader, fieldname: str, start: str, separator: str) -> _Spellings:
    """A segment's words beginning with `start`; read again after a deadline cut them short."""
    segment = reader.segment()
    if segment is None:  # an empty index
        return _read_spellings(reader, fieldname, start, separator)
    key = (segment.segment_id(), fieldname, start)
    with _SPELLINGS_LOCK:
        found = _SPELLINGS.get(key)
    if found is None:
        found = _read_spellings(reader, fieldname, start, separator)
        with _SPELLINGS_LOCK:
            _SPELLINGS[key] = found
    return found


def closest_word(
    reader: IndexReader, fieldname: str, word: str, *, maxdist: int, prefix: int, separator: str
) -> str | None:
    """The word of a spelling dictionary (terms `folded␟written`) nearest to the folded `word`,
    then the most frequent, as written; None when `word` is in it or nothing is near.

    Each segment's words of the prefix are compared in one call of rapidfuzz's `process`
    (C++), not one Python call per word.
    """
    if any(True for _ in reader.expand_prefix(fieldname, word + separator)):
        return None  # a word of the corpus is never corrected
    field = reader.schema[fieldname]
    nearest: dict[str, tuple[int, Counter[str]]] = {}
    for segment, _offset in reader.leaf_readers():
        spellings = _spellings(segment, fieldname, word[:prefix], separator)
        near = process.extract(
            word, spellings.folded, scorer=OSA.distance, score_cutoff=maxdist, limit=None
        )
        for folded, distance, index in near:
            entry = nearest.setdefault(folded, (int(distance), Counter()))
            for btext in spellings.terms[index]:
                written = field.from_bytes(btext).partition(separator)[2]
                entry[1][written] += segment.doc_frequency(fieldname, btext)
    if not nearest:
        return None
    _, _, best = min(
        (distance, -sum(spellings.values()), folded)
        for folded, (distance, spellings) in nearest.items()
    )
    counts = nearest[best][1]
    return min(counts, key=lambda written: (-counts[written], written))


def bounded(node: query.Query) -> query.Query:
    """The same query with its prefix and fuzzy terms replaced by the bounded ones."""
    if type(node) is query.FuzzyTerm:
        return BoundedFuzzyTerm(
            node.fieldname,
            node.text,
            boost=node.boost,
            maxdist=node.maxdist,
            prefixlength=node.prefixlength,
            constantscore=node.constantscore,
        )
    if type(node) is query.Prefix:
        return BoundedPrefix(node.fieldname, node.text, boost=node.boost)
    return node
