"""Request bodies and files into articles: JSON arrays, NDJSON, and raw text."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError

from app.ingest.article import ArticleCreate
from app.ingest.raw import decode_raw, parse_raw

Item = ArticleCreate | ValidationError | ValueError


class PayloadError(ValueError):
    """A body that cannot be read at all (as opposed to one bad item in it)."""


def to_item(obj: Any) -> Item:
    """A decoded JSON value as a validated article, or the error that makes it one."""
    if not isinstance(obj, dict):
        return ValueError("each item must be a JSON object")
    try:
        return ArticleCreate.model_validate(obj)
    except ValidationError as exc:
        return exc


def parse_json_array(data: bytes, *, max_items: int) -> list[Item]:
    """A JSON array of articles."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, list):
        raise PayloadError("the body must be a JSON array of articles")
    if len(value) > max_items:
        raise PayloadError(f"{len(value)} items; a bulk request takes at most {max_items}")
    if not value:
        raise PayloadError("the array holds no articles")
    for index, obj in enumerate(value):
        if not isinstance(obj, dict):
            raise PayloadError(f"item {index} is not a JSON object")
    return [to_item(obj) for obj in value]


def parse_ndjson(data: bytes, *, max_items: int) -> tuple[list[Item], list[int]]:
    """One JSON object per line, blank lines skipped, and the line of each (from 1).

    Each line is an item of its own: one that is not JSON, or not an object, or no article, is
    a bad item whose error names its line, and the other lines go in. A body without a single
    JSON object is no NDJSON of articles: refused whole.
    """
    items: list[Item] = []
    lines: list[int] = []
    objects = 0
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        if len(items) >= max_items:
            raise PayloadError(f"more than {max_items} items; a bulk request takes at most that")
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            items.append(ValueError(f"line {number} is not valid JSON: {exc}"))
        else:
            if isinstance(obj, dict):
                items.append(to_item(obj))
                objects += 1
            else:
                items.append(ValueError(f"line {number} is not a JSON object"))
        lines.append(number)
    if not items:
        raise PayloadError("the body holds no articles: send one JSON object per line")
    if not objects:
        raise PayloadError(f"no line holds a JSON object; {items[0]}")
    return items, lines


def raw_article(
    data: bytes,
    *,
    language: str | None = None,
    source: str | None = None,
    url: str | None = None,
    published_at: str | None = None,
    require_date: bool = False,
) -> Item:
    """A raw text article (header line, then body) with the request's extra fields."""
    try:
        raw = parse_raw(decode_raw(data))
    except ValueError as exc:
        return exc
    date = raw.published_at or published_at
    if require_date and not date:
        return ValueError(
            "the text has no `date YYYY-MM` header and no published_at parameter was given"
        )
    fields: dict[str, Any] = {
        "body": raw.body,
        "published_at": date,
        "photo_credit": raw.photo_credit,
        "language": language,
        "source": source,
        "url": url,
    }
    return to_item({k: v for k, v in fields.items() if v is not None})
