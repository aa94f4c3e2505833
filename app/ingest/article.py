"""The article as clients send it (`ArticleCreate`) and as the store takes it (`Prepared…`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.ingest.clean import clean_text, content_hash, headline_from_body, normalise_url
from app.ingest.dates import parse_partial_date
from app.ingest.language import detect_language

MAX_TITLE = 1000
MAX_BODY = 1024 * 1024
MAX_META = 300
UNDETERMINED = "und"  # ISO 639-2 "undetermined", when detection finds nothing


# What the validators below accept, as JSON Schema patterns for the OpenAPI document (declared,
# not enforced by pydantic: the validators give the clearer messages). No control characters but
# tab, newline and carriage return; a title or body also needs one visible character.
_ALLOWED = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
NO_CONTROL = rf"^{_ALLOWED}*$"
VISIBLE = rf"^{_ALLOWED}*[^\s\x00-\x1f\x7f\u00ad\u200b-\u200d\u2060\ufeff]{_ALLOWED}*$"
LANGUAGE = r"^\s*[A-Za-z]{2}\s*$"


def _line(value: str) -> str:
    value = clean_text(value, multiline=False)
    if not value:
        raise ValueError("must not be empty or only whitespace")
    return value


def _text(value: str) -> str:
    value = clean_text(value, multiline=True)
    if not value:
        raise ValueError("must not be empty or only whitespace")
    return value


def _optional_line(value: str) -> str | None:
    return clean_text(value, multiline=False) or None


def _url(value: str) -> str:
    return normalise_url(value.strip())


def _date(value: str) -> str:
    return parse_partial_date(value).text


def _language(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"[A-Za-z]{2}", value):
        raise ValueError("must be a two-letter ISO 639-1 code such as 'fr'")
    return value.lower()


# Each field: its bound, what the OpenAPI document says of it (declared, not enforced by
# pydantic: the validator gives the clearer message), and its validator.
Url = Annotated[
    str, Field(max_length=4096, json_schema_extra={"format": "http-url"}), AfterValidator(_url)
]
Title = Annotated[
    str, Field(max_length=MAX_TITLE, json_schema_extra={"pattern": VISIBLE}), AfterValidator(_line)
]
Body = Annotated[
    str, Field(max_length=MAX_BODY, json_schema_extra={"pattern": VISIBLE}), AfterValidator(_text)
]
PublishedAt = Annotated[
    str, Field(max_length=64, json_schema_extra={"format": "partial-date"}), AfterValidator(_date)
]
Language = Annotated[str, Field(json_schema_extra={"pattern": LANGUAGE}), AfterValidator(_language)]
# Metadata and tags: blank means absent.
Meta = Annotated[
    str,
    Field(max_length=MAX_META, json_schema_extra={"pattern": NO_CONTROL}),
    AfterValidator(_optional_line),
]
Tag = Annotated[
    str,
    Field(max_length=100, json_schema_extra={"pattern": NO_CONTROL}),
    AfterValidator(_optional_line),
]


def without_blanks(tags: list[str | None] | None) -> list[str] | None:
    """The tags without the blank ones (a blank tag validates as None); None stays None."""
    return None if tags is None else [tag for tag in tags if tag]


class ArticleCreate(BaseModel):
    """An article as a client sends it; the server sets `id`, `created_at` and `updated_at`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://example.org/2023/09/kim-russie",
                    "title": "Kim Jong-un se rendra bientôt en Russie",
                    "body": "Le dirigeant nord-coréen se rendra bientôt en Russie…",
                    "published_at": "2023-09",
                    "language": "fr",
                    "source": "KBS World",
                    "photo_credit": "YONHAP News",
                    "tags": ["Corée du Nord", "Russie"],
                }
            ]
        },
    )

    url: Url | None = None
    title: Title | None = None
    body: Body
    published_at: PublishedAt | None = None
    language: Language | None = None
    source: Meta | None = None
    author: Meta | None = None
    section: Meta | None = None
    photo_credit: Meta | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=100)

    _drop_blank_tags = field_validator("tags")(lambda tags: without_blanks(tags))


class ArticlePatch(BaseModel):
    """The fields of an article to change (JSON merge patch): a field given replaces the
    stored one, `null` clears an optional one, and the fields not given stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Kim Jong-un en Russie", "tags": ["Russie"]}]},
    )

    url: Url | None = None
    title: Title | None = None
    # Given or not, never cleared: the document says no `null` (the merged article says why).
    body: Body | SkipJsonSchema[None] = None
    published_at: PublishedAt | None = None
    language: Language | None = None
    source: Meta | None = None
    author: Meta | None = None
    section: Meta | None = None
    photo_credit: Meta | None = None
    tags: list[Tag] | None = Field(default=None, max_length=100)

    _drop_blank_tags = field_validator("tags")(lambda tags: without_blanks(tags))


def source_key(source: str) -> str:
    """How sources compare: cleaned like stored text, then case-folded."""
    try:
        return clean_text(source, multiline=False).casefold()
    except ValueError:
        return ""


@dataclass(frozen=True)
class PreparedArticle:
    """A validated article with everything the store needs: key, date span, language."""

    idem_key: str
    url: str | None
    title: str
    body: str
    published_at: str | None
    published_precision: str | None
    published_start: datetime | None
    published_end: datetime | None
    language: str
    source: str | None
    author: str | None
    section: str | None
    photo_credit: str | None
    tags: list[str]

    def content(self) -> dict[str, object]:
        """The fields a client controls, to tell `updated` from `unchanged`."""
        return {
            "url": self.url,
            "title": self.title,
            "body": self.body,
            "published_at": self.published_at,
            "language": self.language,
            "source": self.source,
            "author": self.author,
            "section": self.section,
            "photo_credit": self.photo_credit,
            "tags": list(self.tags),
        }


def prepare(article: ArticleCreate) -> PreparedArticle:
    """Derive the title, the date span, the language and the idempotency key."""
    title = article.title or headline_from_body(article.body)
    date = parse_partial_date(article.published_at) if article.published_at else None
    language = article.language or detect_language(f"{title}\n{article.body}") or UNDETERMINED
    key = article.url or content_hash(title, article.body)
    return PreparedArticle(
        idem_key=key,
        url=article.url,
        title=title,
        body=article.body,
        published_at=date.text if date else None,
        published_precision=date.precision if date else None,
        published_start=date.start if date else None,
        published_end=date.end if date else None,
        language=language,
        source=article.source,
        author=article.author,
        section=article.section,
        photo_credit=article.photo_credit,
        tags=list(article.tags),
    )
