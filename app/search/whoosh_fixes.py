"""Fixes to Whoosh's own code, which this project keeps as frozen code it owns (WHOOSH_NOTES).

`apply()` installs them, once per process, before an index is opened (app/search/index.py).
None changes what a search finds; each only removes wasted work. Segments written with
inlined postings stay readable by plain Whoosh, which has always read them.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import whoosh.codec
from whoosh.codec import whoosh3
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.matching import ListMatcher
from whoosh.util.numeric import byte_to_length

# Posting lists of at most this many documents are kept inside their term's entry instead of
# a compressed block of the postings file of their own (see _finish_postings).
INLINE_LIMIT = 8
_MISSING = object()
_applied = False
_lock = threading.Lock()


def _cached_reader(self: Any, fieldname: str, column: Any) -> Any:
    """W3PerDocReader._cached_reader, remembering a column that does not exist too.

    Whoosh asked the file system again for every posting of a field without a lengths column
    (an ID, a stored-only or a column field): a commit of 800 articles made 99,606 `stat()`
    calls, 0.9 s of its 6 s, while writing postings.
    """
    reader = self._readers.get(fieldname, _MISSING)
    if reader is _MISSING:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
    return reader


def _lengths(reader: Any) -> Any:
    """A lengths column (a byte per document) read whole, as bytes or an array."""
    if getattr(reader, "_typecode", None) == "B" and getattr(reader, "_fixedlen", None) == 1:
        raw = reader._dbfile.get(reader._basepos, reader._count)
        return bytes(raw) + bytes(max(0, reader._doccount - reader._count))
    return reader.load()


def _doc_field_length(self: Any, docnum: int, fieldname: str, default: int = 0) -> int:
    """W3PerDocReader.doc_field_length, reading each field's lengths column once.

    Whoosh read the column again for every posting it wrote (to keep each block's shortest and
    longest document) and for every document it scored: 733,256 reads, 5.5 s of a profiled
    5,000-article load.
    """
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    loaded = self.__dict__.setdefault("_newsdesk_lengths", {})
    lengths = loaded.get(fieldname, _MISSING)
    if lengths is _MISSING:
        reader = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        lengths = loaded[fieldname] = None if reader is None else _lengths(reader)
    if lengths is None or docnum >= len(lengths):
        return default
    code = lengths[docnum]
    return int(byte_to_length(code)) if code else default


def _finish_postings(self: Any) -> Any:
    """W3PostingsWriter.finish_postings, with the inlining of short posting lists that works.

    Whoosh meant to keep a posting list shorter than the codec's `inlinelimit` inside the term's
    entry, but its limit of 1 let no list through, and the method it would then have called is
    misspelt (`set_inline` for `set_inlined`): every term of every segment got a block of its own,
    pickled twice and compressed, most of them for one or two documents. The reader has always
    read inlined postings (W3Codec.postings_reader). Term vectors (`byteids`) are never inlined:
    their reader expects a block.
    """
    terminfo = self._terminfo
    if not self._byteids and not self.written() and len(self) <= self._inlinelimit:
        terminfo.add_block(self)
        terminfo.set_inlined(self._ids, self._weights, self._values)
    else:
        if self._ids:
            self._write_block(last=True)
        start = self._startoffset
        terminfo.set_extent(start, self._postfile.tell() - start)
    self._terminfo = None
    return terminfo


class InlinedPostings(ListMatcher):  # type: ignore[misc]
    """The matcher of a posting list kept in its term's entry.

    Whoosh's ListMatcher was never used for one (no list was ever inlined): without values (an
    Existence field) it gave `""` for bytes and no items at all, and its copies lost the term
    and its statistics, which scoring reads.
    """

    def value(self) -> Any:
        return super().value() if self._values else b""

    def all_items(self) -> Any:
        if self._values:
            return zip(self._ids, self._values, strict=True)
        return ((docnum, b"") for docnum in self._ids)

    def copy(self) -> InlinedPostings:
        return InlinedPostings(
            self._ids,
            self._weights,
            self._values,
            self._format,
            scorer=self._scorer,
            position=self._i,
            all_weights=self._all_weights,
            term=self._term,
            terminfo=self._terminfo,
        )


def _postings_reader(
    self: Any, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
) -> Any:
    """W3Codec.postings_reader, reading an inlined posting list with InlinedPostings."""
    if terminfo.is_inlined():
        ids, weights, values = terminfo.inlined_postings()
        return InlinedPostings(
            ids, weights, values, format_, scorer=scorer, term=term, terminfo=terminfo
        )
    offset, length = terminfo.extent()
    return whoosh3.W3LeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


def _default_codec(*args: Any, **kwargs: Any) -> Any:
    """whoosh.codec.default_codec, inlining posting lists of up to INLINE_LIMIT documents."""
    kwargs.setdefault("inlinelimit", INLINE_LIMIT)
    return whoosh3.W3Codec(*args, **kwargs)


class _PositionedFile(io.FileIO):
    """A file being written that knows its own position instead of asking the kernel.

    A buffered file's `tell()` asks its raw file, and FileIO's asks the kernel (`lseek`): Whoosh
    calls it for every term it writes, twice, and for every key of its hash files.
    """

    def __init__(self, path: str) -> None:
        super().__init__(path, "wb")
        self._position = 0

    def write(self, data: Any, /) -> int:
        written = super().write(data)
        self._position += written
        return written

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._position = super().seek(offset, whence)
        return self._position

    def tell(self) -> int:
        return self._position


_create_file = FileStorage.create_file


def _create_positioned(
    self: Any, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any
) -> Any:
    """FileStorage.create_file, with a file that knows its position (_PositionedFile)."""
    if excl or mode != "wb" or self.readonly:
        return _create_file(self, name, excl=excl, mode=mode, **kwargs)
    return StructFile(io.BufferedWriter(_PositionedFile(self._fpath(name))), name=name, **kwargs)


def apply() -> None:
    """Install the fixes (idempotent)."""
    global _applied
    with _lock:
        if not _applied:
            whoosh3.W3PerDocReader._cached_reader = _cached_reader
            whoosh3.W3PerDocReader.doc_field_length = _doc_field_length
            whoosh3.W3PostingsWriter.finish_postings = _finish_postings
            whoosh3.W3Codec.postings_reader = _postings_reader
            whoosh.codec.default_codec = _default_codec
            FileStorage.create_file = _create_positioned
            _applied = True
