"""Files and folders of articles for `newsdesk ingest`: .json, .jsonl/.ndjson and raw .txt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from app.ingest.article import ArticleCreate
from app.ingest.payloads import Item, raw_article, to_item

SUFFIXES = {".json", ".jsonl", ".ndjson", ".txt"}
_FIELDS = set(ArticleCreate.model_fields)
# A raw .txt file's fields that its text cannot carry, in `<stem>.meta.json` beside it, e.g.
# {"source": "KBS World", "url": "https://…"}: a sidecar, never an article of its own.
SIDECAR = ".meta.json"
SIDECAR_FIELDS = ("language", "source", "url", "published_at")


def sidecar(path: Path) -> Path:
    """Where a raw text file's sidecar is: `dispatch.txt` → `dispatch.meta.json`."""
    return path.with_name(path.stem + SIDECAR)


def _raw_options(path: Path, options: dict[str, Any]) -> dict[str, Any] | ValueError:
    """The options of a raw file: its sidecar's fields over the command's (more specific)."""
    meta = sidecar(path)
    if not meta.is_file():
        return options
    try:
        fields = orjson.loads(meta.read_bytes())
    except orjson.JSONDecodeError as exc:
        return ValueError(f"{meta.name} is not valid JSON: {exc}")
    if not isinstance(fields, dict):
        return ValueError(f"{meta.name} must hold a JSON object")
    unknown = sorted(set(fields) - set(SIDECAR_FIELDS))
    if unknown:
        return ValueError(
            f"{meta.name}: unknown field(s) {', '.join(unknown)}; "
            f"a sidecar may set {', '.join(SIDECAR_FIELDS)}"
        )
    if any(value is not None and not isinstance(value, str) for value in fields.values()):
        return ValueError(f"{meta.name}: every field must be a string")
    return {**options, **{k: v for k, v in fields.items() if v is not None}}


def find_files(paths: list[Path]) -> list[Path]:
    """The ingestible files under the given files and folders, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.endswith(SIDECAR)
                )
            )
        elif path.is_file():
            if not path.name.endswith(SIDECAR):  # `ingest raw/*`: read with its .txt
                found.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    return found


def _lenient(obj: Any) -> Item:
    # Files from elsewhere carry their own ids and licences; only the article's fields are kept.
    if isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if k in _FIELDS}
    return to_item(obj)


def read_file(path: Path, **raw_options: Any) -> Iterator[tuple[str, Item]]:
    """(location, item) pairs from one file; a bad record is an item, not an exception."""
    suffix = path.suffix.lower()
    if suffix == ".txt":
        options = _raw_options(path, raw_options)
        if isinstance(options, ValueError):
            yield str(path), options
        else:
            yield str(path), raw_article(path.read_bytes(), **options)
    elif suffix in (".jsonl", ".ndjson"):
        with path.open("rb") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield f"{path}:{number}", _lenient(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    yield f"{path}:{number}", ValueError(f"not valid JSON: {exc}")
    elif suffix == ".json":
        try:
            value = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError as exc:
            yield str(path), ValueError(f"not valid JSON: {exc}")
            return
        records = value if isinstance(value, list) else [value]
        for number, record in enumerate(records):
            yield f"{path}[{number}]", _lenient(record)
    else:
        yield str(path), ValueError(f"unsupported file type {suffix!r}")
