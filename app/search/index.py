"""Opening the index directory, and rebuilding it when its schema version is not ours."""

from __future__ import annotations

import shutil
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import FileIndex

from app.search.schema import SCHEMA_VERSION, build_schema

_VERSION_FILE = "newsdesk_schema_version"


def _version_of(path: Path) -> int | None:
    try:
        return int((path / _VERSION_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def open_index(path: Path) -> tuple[FileIndex, bool]:
    """The index at `path`, and whether it was (re)created empty and so needs filling."""
    if path.exists() and whoosh_index.exists_in(str(path)) and _version_of(path) == SCHEMA_VERSION:
        return whoosh_index.open_dir(str(path)), False
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    ix = whoosh_index.create_in(str(path), build_schema())
    (path / _VERSION_FILE).write_text(f"{SCHEMA_VERSION}\n")
    return ix, True
