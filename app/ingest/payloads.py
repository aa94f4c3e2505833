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
    """A JSON array of articles (a single object is taken as a list of one)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise PayloadError("the body must be a JSON array of articles")
    if len(value) > max_items:
        raise PayloadError(f"{len(value)} items; a bulk request takes at most {max_items}")
    return [to_item(obj) for obj in value]


def parse_ndjson(data: bytes, *, max_items: int) -> list[Item]:
    """One JSON article per line; blank lines are skipped, a bad line is a bad item."""
    items: list[Item] = []
    for line in data.splitlines():
        if not line.strip():
            continue
        if len(items) >= max_items:
            raise PayloadError(f"more than {max_items} items; a bulk request takes at most that")
        try:
            items.append(to_item(orjson.loads(line)))
        except orjson.JSONDecodeError as exc:
            items.append(ValueError(f"line is not valid JSON: {exc}"))
    return items


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
