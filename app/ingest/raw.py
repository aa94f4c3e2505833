"""Raw text articles: a header line (`date 2023-09 Photo : YONHAP News`), then the body."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER = re.compile(
    r"^\s*date\s*:?\s*(?P<date>\d{4}-\d{2}(?:-\d{2})?)\b(?P<rest>.*)$", re.IGNORECASE
)
_PHOTO = re.compile(r"photo\s*:\s*(?P<credit>.+)$", re.IGNORECASE)
_NBSP = dict.fromkeys(map(ord, "\u00a0\u202f\u2007"), " ")


@dataclass(frozen=True)
class RawArticle:
    """What a raw text file says: its body, and the date and photo credit of its header."""

    body: str
    published_at: str | None
    photo_credit: str | None


def decode_raw(data: bytes) -> str:
    """UTF-8 text, with or without a BOM; raises ValueError naming the first bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(f"the text is not valid UTF-8 (byte {exc.start})") from None


def parse_raw(text: str) -> RawArticle:
    """Split a raw text article into header facts and body; tolerant of BOM, CRLF and NBSP."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    lines = text.split("\n")
    while lines and not lines[0].translate(_NBSP).strip():
        lines.pop(0)
    published_at = photo_credit = None
    if lines:
        header = _HEADER.match(lines[0].translate(_NBSP))
        if header:
            lines.pop(0)
            published_at = header["date"]
            photo = _PHOTO.search(header["rest"])
            if photo:
                photo_credit = photo["credit"].strip() or None
    body = "\n".join(lines).strip()
    return RawArticle(body=body, published_at=published_at, photo_credit=photo_credit)
