"""Index generations: `index/<name>/` holds a Whoosh index, `index/CURRENT` names the live one.

A rebuild fills a new generation beside the live one and publishes it by replacing `CURRENT`
atomically; readers and the writer notice the new name and move over. A generation built with
another schema version is never opened: a new empty one replaces it and the store refills it.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import FileIndex

from app.search import buffers, columns, whoosh_fixes
from app.search.schema import SCHEMA_VERSION, build_schema

buffers.install()  # compound segments are read in place, not copied per reader
columns.install()  # column readers are opened once per segment reader

_VERSION_FILE = "newsdesk_schema_version"
_CURRENT = "CURRENT"


class IndexStore:
    """The index folder: its generations, the live one, and opened indexes by name."""

    def __init__(self, root: Path) -> None:
        whoosh_fixes.apply()
        self.root = root
        self._opened: dict[str, FileIndex] = {}
        self._lock = threading.Lock()

    def current_name(self) -> str | None:
        """The live generation's name, or None before the first one."""
        try:
            return (self.root / _CURRENT).read_text().strip() or None
        except FileNotFoundError:
            return None

    def _version_of(self, name: str) -> int | None:
        try:
            return int((self.root / name / _VERSION_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    def open(self, name: str) -> FileIndex:
        """The index of a generation, opened once per process."""
        with self._lock:
            ix = self._opened.get(name)
            if ix is None:
                ix = whoosh_index.open_dir(str(self.root / name))
                self._opened[name] = ix
            return ix

    def live(self) -> tuple[str, FileIndex]:
        """The live generation's name and index."""
        name = self.current_name()
        if name is None:
            raise FileNotFoundError(f"no index generation is published in {self.root}")
        return name, self.open(name)

    def create(self) -> tuple[str, FileIndex]:
        """A new, empty generation (not yet published)."""
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        path = self.root / name
        path.mkdir()
        ix = whoosh_index.create_in(str(path), build_schema())
        (path / _VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")
        with self._lock:
            self._opened[name] = ix
        return name, ix

    def publish(self, name: str) -> None:
        """Make `name` the live generation, atomically."""
        temporary = self.root / f"{_CURRENT}.{os.getpid()}.tmp"
        temporary.write_text(f"{name}\n")
        os.replace(temporary, self.root / _CURRENT)

    def ensure_live(self) -> tuple[str, FileIndex, bool]:
        """The live generation, or a new empty one when there is none or its schema differs.

        The flag says whether the index is new and so must be filled from the store.
        """
        name = self.current_name()
        if name is not None and self._version_of(name) == SCHEMA_VERSION:
            try:
                return name, self.open(name), False
            except (OSError, whoosh_index.EmptyIndexError):
                pass
        name, ix = self.create()
        self.publish(name)
        return name, ix, True

    def prune(self, keep: set[str]) -> list[str]:
        """Remove generations other than `keep` and the live one; returns their names."""
        live = self.current_name()
        removed = []
        for path in self.root.iterdir() if self.root.exists() else []:
            if path.is_dir() and path.name not in keep and path.name != live:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def close(self) -> None:
        """Close every index opened here."""
        with self._lock:
            for ix in self._opened.values():
                ix.close()
            self._opened.clear()


def document_ids(ix: FileIndex) -> Counter[int]:
    """How many live documents the index holds for each article id (more than 1 is a duplicate)."""
    with ix.searcher() as searcher:
        return Counter(int(fields["id"]) for fields in searcher.reader().all_stored_fields())
