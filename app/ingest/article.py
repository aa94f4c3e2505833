"""The article as clients send it (`ArticleCreate`) and as the store takes it (`Prepared…`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from app.ingest.clean import (
    MAX_URL_CHARS,
    clean_text,
    content_hash,
    headline_from_body,
    normalise_url,
)
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
# A date as `parse_partial_date` reads it, surrounding white space aside: a year 0001-9999,
# a month, a day that exists (29 February in leap years only), or a day with a time (seconds,
# a fraction and a zone optional). The one date it matches and the parser refuses is a time
# whose zone takes it past 9999 or before 0001 in UTC, as 9999-12-31T23:00-05:00.
_YEAR = r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = (
    rf"(?:{_YEAR}-{_MONTH}-(?:0[1-9]|1[0-9]|2[0-8])|{_YEAR}-(?:0[13-9]|1[0-2])-(?:29|30)"
    rf"|{_YEAR}-(?:0[13578]|1[02])-31|{_LEAP_YEAR}-02-29)"
)
_TIME = r"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.,][0-9]+)?)?"
_ZONE = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3])(?::?[0-5][0-9])?)"
DATE = rf"^\s*(?:{_YEAR}(?:-{_MONTH})?|{_DAY}(?:{_TIME}{_ZONE}?)?)\s*$"
DATE_HELP = (
    "a year (`2023`), a month (`2023-09`), a day (`2023-09-07`) or an ISO 8601 date and time "
    "(`2023-09-07T10:00:00+02:00`; seconds optional, UTC without a zone)"
)
DATE_EXAMPLES = ["2023-09", "2023", "2023-09-07", "2023-09-07T10:00:00+02:00"]


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
    str,
    Field(max_length=MAX_URL_CHARS, json_schema_extra={"format": "http-url"}),
    AfterValidator(_url),
]
Title = Annotated[
    str, Field(max_length=MAX_TITLE, json_schema_extra={"pattern": VISIBLE}), AfterValidator(_line)
]
Body = Annotated[
    str, Field(max_length=MAX_BODY, json_schema_extra={"pattern": VISIBLE}), AfterValidator(_text)
]
PublishedAt = Annotated[
    str,
    Field(
        max_length=64,
        json_schema_extra={"format": "partial-date", "pattern": DATE, "minLength": 1},
    ),
    AfterValidator(_date),
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


# What each field of an article is, for the OpenAPI document; each model adds what absent and
# null mean there.
_ABOUT = {
    "url": "The article's address, `http` or `https`, at most 2,048 characters (the scheme "
    "and host are stored in lower case, the fragment dropped). It identifies the article: "
    "another write with the same URL updates this article instead of creating a second one.",
    "title": "The headline, on one line (runs of white space become one space), at most 1,000 "
    "characters.",
    "body": "The article's text, paragraphs separated by newlines, at most 1 MiB; not blank. "
    "Control characters other than tab and newline are refused.",
    "published_at": f"When it was published, as precisely as known: {DATE_HELP}.",
    "language": "Its language as a two-letter ISO 639-1 code, in any case (stored in lower "
    "case); it picks the stemming and stop words its words get.",
    "source": "Who published it (the outlet or agency), on one line, at most 300 characters; "
    "`source=` filters match it whole, ignoring case.",
    "author": "Who wrote it, on one line, at most 300 characters.",
    "section": "The section or rubric it appeared in, on one line, at most 300 characters.",
    "photo_credit": "Who took or supplied its photo, on one line, at most 300 characters.",
    "tags": "Labels, at most 100 of at most 100 characters each; blank ones are dropped.",
}
_EXAMPLES: dict[str, list[Any]] = {
    "url": ["https://example.org/2023/09/coree-missile"],
    "title": ["La Corée du Nord tire un missile balistique"],
    "body": [
        "Pyongyang a tiré un missile balistique en mer de l’Est, a annoncé l’état-major "
        "sud-coréen.\n\nC’est le troisième tir depuis le début du mois."
    ],
    "published_at": DATE_EXAMPLES,
    "language": ["fr"],
    "source": ["KBS World"],
    "author": ["Kim Ji-won"],
    "section": ["International"],
    "photo_credit": ["YONHAP News"],
    "tags": [["Corée du Nord", "missiles"]],
}
_BLANK = " Absent, null or blank: none."


def _about(name: str, absent: str = "") -> Any:
    """The field's description (and what absent or null mean) with its examples."""
    return {"description": _ABOUT[name] + absent, "examples": _EXAMPLES[name]}


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

    url: Url | None = Field(
        default=None, **_about("url", " Absent or null: the title and body identify it.")
    )
    title: Title | None = Field(
        default=None,
        **_about("title", " Absent or null: the body's first sentence (at most 200 characters)."),
    )
    body: Body = Field(**_about("body", " Required."))
    published_at: PublishedAt | None = Field(
        default=None, **_about("published_at", " Absent or null: unknown.")
    )
    language: Language | None = Field(
        default=None,
        **_about(
            "language",
            " Absent or null: detected from the title and body (`und` when detection finds "
            "nothing).",
        ),
    )
    source: Meta | None = Field(default=None, **_about("source", _BLANK))
    author: Meta | None = Field(default=None, **_about("author", _BLANK))
    section: Meta | None = Field(default=None, **_about("section", _BLANK))
    photo_credit: Meta | None = Field(default=None, **_about("photo_credit", _BLANK))
    tags: list[Tag] = Field(
        default_factory=list, max_length=100, **_about("tags", " Absent: none.")
    )

    _drop_blank_tags = field_validator("tags")(lambda tags: without_blanks(tags))


_KEPT = " Absent: unchanged."


class ArticlePatch(BaseModel):
    """The fields of an article to change (JSON merge patch): a field given replaces the
    stored one, `null` clears an optional one, and the fields not given stay as they are."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"title": "Kim Jong-un en Russie", "tags": ["Russie"]}]},
    )

    url: Url | None = Field(
        default=None,
        **_about("url", f"{_KEPT} Null: removed, and the title and body identify the article."),
    )
    title: Title | None = Field(
        default=None, **_about("title", f"{_KEPT} Null: the body's first sentence.")
    )
    # Given or not, never cleared: the document says no `null` (the merged article says why).
    body: Body | SkipJsonSchema[None] = Field(
        default=None, **_about("body", f"{_KEPT} Never null: an article has a body.")
    )
    published_at: PublishedAt | None = Field(
        default=None, **_about("published_at", f"{_KEPT} Null: unknown.")
    )
    language: Language | None = Field(
        default=None,
        **_about("language", f"{_KEPT} Null: detected again from the title and body."),
    )
    source: Meta | None = Field(default=None, **_about("source", f"{_KEPT} Null or blank: none."))
    author: Meta | None = Field(default=None, **_about("author", f"{_KEPT} Null or blank: none."))
    section: Meta | None = Field(default=None, **_about("section", f"{_KEPT} Null or blank: none."))
    photo_credit: Meta | None = Field(
        default=None, **_about("photo_credit", f"{_KEPT} Null or blank: none.")
    )
    tags: list[Tag] | None = Field(
        default=None, max_length=100, **_about("tags", f"{_KEPT} Null or `[]`: none.")
    )

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
