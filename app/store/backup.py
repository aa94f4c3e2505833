"""Online, consistent snapshots of the SQLite store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


def sqlite_path(url: str) -> Path:
    """The file behind a SQLite URL; ValueError for other databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        raise ValueError("backups are taken of SQLite stores; use your database's own tools")
    return Path(parsed.database)


def backup(url: str, target: Path) -> int:
    """Write a snapshot with `VACUUM INTO` while writers go on; returns its size in bytes."""
    source = sqlite_path(url)
    if target.exists():
        raise FileExistsError(f"{target} exists; choose a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(source, isolation_level=None, timeout=30)
    try:
        # One read transaction: the snapshot holds exactly what was committed when it began.
        connection.execute("VACUUM INTO ?", (str(target),))
    finally:
        connection.close()
    return target.stat().st_size
