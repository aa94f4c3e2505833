"""Text cleaning, URL normalisation and the content hash that make ingestion idempotent."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit, urlunsplit

# Soft hyphen, zero-width space/joiners, word joiner, BOM: invisible and they split words.
# (A regular expression: str.translate with a dict looks up every character in Python.)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
# Control characters other than tab, newline and carriage return are refused, not silently dropped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"\s+")

MAX_URL_CHARS = 2048


def clean_text(value: str, *, multiline: bool) -> str:
    """NFC, without invisible characters, trimmed; raises ValueError on control characters."""
    match = _CONTROL.search(value)
    if match:
        raise ValueError(
            f"control character U+{ord(match.group()):04X} at position {match.start()} "
            "is not allowed"
        )
    value = unicodedata.normalize("NFC", _INVISIBLE.sub("", value))
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value.strip()
    return _SPACES.sub(" ", value).strip()


def normalise_url(value: str) -> str:
    """Lower-case scheme and host, drop the fragment; raises ValueError for anything not http(s)."""
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("URL must not contain whitespace or control characters")
    if len(value) > MAX_URL_CHARS:
        raise ValueError(f"URL is longer than {MAX_URL_CHARS} characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("URL scheme must be http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("URL has no host")
    if parts.username or parts.password:
        raise ValueError("URL must not carry credentials")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc = f"{netloc}:{port}"
    normalised = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    if len(normalised) > MAX_URL_CHARS:
        raise ValueError(f"URL is longer than {MAX_URL_CHARS} characters once normalised")
    return normalised


def content_hash(title: str, body: str) -> str:
    """The idempotency key of an article without URL: a hash of its normalised title and body."""
    canonical = (
        _SPACES.sub(" ", title.casefold()).strip() + "\n" + _SPACES.sub(" ", body.casefold())
    )
    return "sha256:" + hashlib.sha256(canonical.strip().encode("utf-8")).hexdigest()


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s|(?<=[a-zà-ÿ»)][.!?])(?=[A-ZÀ-Ý«])|\n")


def headline_from_body(body: str, *, limit: int = 200) -> str:
    """A title for an article that has none: the body's first sentence, cut at a word."""
    first = _SENTENCE_END.split(body.strip(), maxsplit=1)[0].strip()
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
