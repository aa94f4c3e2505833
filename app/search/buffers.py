"""Read compound index segments in place instead of copying each sub-file per reader.

Whoosh opens a file inside a compound segment as `BufferFile(memoryview_of_the_mmap)`, which
wraps it in `BytesIO(buf)`: a copy of the whole sub-file (postings, term index…) for every
reader. Newsdesk keeps a searcher per serving thread, so every thread held its own copy of the
index: the server grew from 170 MB to 800 MB under 8 clients on a 40 MB index. `ViewFile` reads
the mapped memory directly; only the bytes asked for are copied.

Each reader also mapped its compound file anew, and the resident size of a process counts a
file's pages once per mapping: with a searcher per thread, the server's RSS grew by the
touched part of the index once per thread. `SharedCompound` maps each compound file once per
process for every reader of it; a reader's close() leaves it mapped, and the map goes with the
last reader that holds it (readers of merged-away segments included, which is how Whoosh
already kept deleted files readable).

`install()` swaps BufferFile's constructor and Segment.open_compound_file once;
whoosh-reloaded is pinned (pyproject.toml), so the attributes relied on (`_buf`, `file`,
`_name`, `onclose`, `is_real`, `is_closed`, `make_filename`, `COMPOUND_EXT`, `_source`) are
fixed. `tests/search/test_buffers.py` checks that searches and the memory stay as they should.
"""

from __future__ import annotations

import os
import threading
from typing import Any
from weakref import WeakValueDictionary

from whoosh.codec.base import Segment
from whoosh.filedb import structfile
from whoosh.filedb.compound import CompoundStorage


class ViewFile:
    """The part of the BytesIO interface Whoosh's StructFile uses, over a memoryview."""

    __slots__ = ("_pos", "_view")

    def __init__(self, buf: Any) -> None:
        self._view = memoryview(buf)
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start, length = self._pos, len(self._view)
        if start >= length:
            return b""
        end = length if size is None or size < 0 else min(start + size, length)
        self._pos = end
        return self._view[start:end].tobytes()

    def readline(self) -> bytes:
        view, start = self._view, self._pos
        if start >= len(view):
            return b""
        end = start
        while end < len(view) and view[end] != 0x0A:
            end += 1
        self._pos = min(end + 1, len(view))
        return view[start : self._pos].tobytes()

    def seek(self, offset: int, whence: int = 0) -> int:
        base = (0, self._pos, len(self._view))[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._view.release()


def _buffer_file_init(self: Any, buf: Any, name: str | None = None, onclose: Any = None) -> None:
    self._buf = buf
    self._name = name
    self.file = ViewFile(buf)
    self.onclose = onclose
    self.is_real = False
    self.is_closed = False


class SharedCompound(CompoundStorage):  # type: ignore[misc]
    """A compound segment file mapped once for all its readers; closing one reader leaves it
    open for the others (the map is released when the object is)."""

    def close(self) -> None:
        pass


_shared: WeakValueDictionary[tuple[str, str, int, int], SharedCompound] = WeakValueDictionary()
_shared_lock = threading.Lock()
_open_compound_file = Segment.open_compound_file


def _open_shared_compound_file(self: Any, storage: Any) -> Any:
    folder = getattr(storage, "folder", None)
    if folder is None or not storage.supports_mmap:
        return _open_compound_file(self, storage)
    name = self.make_filename(self.COMPOUND_EXT)
    # The file's identity too: a name is random, but a map must never serve another file.
    found = os.stat(os.path.join(folder, name))
    key = (folder, name, found.st_ino, found.st_mtime_ns)
    with _shared_lock:
        compound = _shared.get(key)
        if compound is None:
            compound = SharedCompound(storage.open_file(name), use_mmap=True)
            if compound._source is None:  # not mapped (out of address space): not shared
                CompoundStorage.close(compound)
                return _open_compound_file(self, storage)
            _shared[key] = compound
        return compound


def install() -> None:
    """Make Whoosh read compound segments in place, one map per file (idempotent)."""
    structfile.BufferFile.__init__ = _buffer_file_init
    Segment.open_compound_file = _open_shared_compound_file
