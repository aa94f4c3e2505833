"""Response shapes of the API, and the problem+json error shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.search.analysis import LanguageAnalysis
from app.store.models import Article

_ARTICLE_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "url": None,
    "title": "Le dirigeant nord-coréen se rendra bientôt en Russie pour discuter de la vente "
    "d’armes à Moscou avec Vladimir Poutine.",
    "body": "Le dirigeant nord-coréen se rendra bientôt en Russie…",
    "published_at": "2023-09",
    "published_precision": "month",
    "language": "fr",
    "source": "KBS World",
    "author": None,
    "section": None,
    "photo_credit": "YONHAP News",
    "tags": [],
    "created_at": "2026-11-27T10:00:00Z",
    "updated_at": "2026-11-27T10:00:00Z",
}


class ArticlePublic(BaseModel):
    """An article as the API returns it."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ARTICLE_EXAMPLE]})

    id: int = Field(
        description="The article's id, set by the server: `/v1/articles/{id}` is its address.",
        examples=[1],
    )
    url: str | None = Field(
        description="Its address as stored (scheme and host in lower case, no fragment); "
        "null when it came without one.",
        examples=["https://example.org/2023/09/coree-missile"],
    )
    title: str = Field(
        description="The headline; the body's first sentence when it came without one.",
        examples=["La Corée du Nord tire un missile balistique"],
    )
    body: str = Field(
        description="The article's text, paragraphs separated by newlines.",
        examples=[
            "Pyongyang a tiré un missile balistique en mer de l’Est, a annoncé l’état-major "
            "sud-coréen.\n\nC’est le troisième tir depuis le début du mois."
        ],
    )
    published_at: str | None = Field(
        description="When it was published, as precise as its source: `2023`, `2023-09`, "
        "`2023-09-07`, or an ISO 8601 date and time with seconds and its zone (`Z` for UTC, "
        "or the offset it was given with); null when unknown.",
        examples=["2023-09", "2016-01-01T14:30:00Z"],
    )
    published_precision: Literal["year", "month", "day", "datetime"] | None = Field(
        description="How precise `published_at` is; null when there is no date.",
        examples=["month"],
    )
    language: str = Field(
        description="Its language as a two-letter ISO 639-1 code, given or detected; `und` "
        "when it was not given and could not be detected.",
        examples=["fr"],
    )
    source: str | None = Field(
        description="Who published it (the outlet or agency); null when unknown.",
        examples=["KBS World"],
    )
    author: str | None = Field(
        description="Who wrote it; null when unknown.", examples=["Kim Ji-won"]
    )
    section: str | None = Field(
        description="The section or rubric it appeared in; null when unknown.",
        examples=["International"],
    )
    photo_credit: str | None = Field(
        description="Who took or supplied its photo; null when unknown.",
        examples=["YONHAP News"],
    )
    tags: list[str] = Field(
        description="Its labels, in the order given; empty when none.",
        examples=[["Corée du Nord", "missiles"]],
    )
    created_at: datetime = Field(
        description="When the server first stored it (ISO 8601, UTC).",
        examples=["2026-11-27T10:00:00.123456Z"],
    )
    updated_at: datetime = Field(
        description="When its content last changed (ISO 8601, UTC); `created_at` until then.",
        examples=["2026-11-27T10:00:00.123456Z"],
    )

    @classmethod
    def of(cls, article: Article) -> ArticlePublic:
        """The public view of a stored article."""
        return cls.model_validate(article, from_attributes=True)


class ArticlePage(BaseModel):
    """A page of articles."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"total": 1, "page": 1, "page_size": 10, "items": [_ARTICLE_EXAMPLE]}]
        }
    )

    total: int = Field(
        description="How many articles the filters keep, on all pages.", examples=[1]
    )
    page: int = Field(description="This page's number, from 1.", examples=[1])
    page_size: int = Field(description="Articles per page, as asked.", examples=[10])
    items: list[ArticlePublic] = Field(
        description="This page's articles, in the order asked.", examples=[[_ARTICLE_EXAMPLE]]
    )


class ProblemError(BaseModel):
    """One invalid field of a request."""

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "about:blank",
                    "title": "Not found",
                    "status": 404,
                    "detail": "no article has id 42",
                }
            ]
        },
    )

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[ProblemError] | None = None


class BulkItem(BaseModel):
    """The outcome of one item of a bulk request."""

    index: int = Field(description="the item's position in the request, from 0")
    status: Literal["created", "updated", "unchanged", "error"]
    id: int | None
    error: Problem | None
    line: int | None = Field(
        default=None, description="NDJSON bodies: the item's line, from 1 (blank lines count)"
    )


class BulkResponse(BaseModel):
    """Counts and per-item results of a bulk request, in request order."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "created": 1,
                    "updated": 0,
                    "unchanged": 1,
                    "errors": 1,
                    "results": [
                        {"index": 0, "status": "created", "id": 12, "error": None},
                        {"index": 1, "status": "unchanged", "id": 3, "error": None},
                        {
                            "index": 2,
                            "status": "error",
                            "id": None,
                            "error": {
                                "type": "about:blank",
                                "title": "Validation failed",
                                "status": 422,
                                "detail": "invalid: body",
                                "errors": [
                                    {
                                        "loc": ["body"],
                                        "msg": "must not be empty or only whitespace",
                                        "type": "value_error",
                                    }
                                ],
                            },
                        },
                    ],
                }
            ]
        }
    )

    created: int
    updated: int
    unchanged: int
    errors: int
    results: list[BulkItem]


_SNIPPET = (
    "elle aura lieu après le 9 septembre, le jour anniversaire de la fondation de la "
    "<mark>Corée</mark> du <mark>Nord</mark>, plus précisément en marge du Forum économique "
    "oriental, qui s’ouvrira le lendemain à Vladivostok … niveau ».Adrienne Watson a alors "
    "évoqué le fait que lors de son déplacement au <mark>Nord</mark> en juillet, le ministre "
    "russe de la Défense Sergueï Choïgou a persuadé le royaume ermite d’exporter"
)
_TITLE_SNIPPET = (
    "Le dirigeant <mark>nord</mark>-coréen se rendra bientôt en Russie pour discuter de la "
    "vente d’armes à Moscou avec Vladimir Poutine."
)

_HIT_EXAMPLE: dict[str, Any] = {
    "id": 1,
    "title": _ARTICLE_EXAMPLE["title"],
    "snippet": _SNIPPET,
    "title_snippet": _TITLE_SNIPPET,
    "matched_in": ["title", "body"],
    "published_at": "2023-09",
    "language": "fr",
    "source": "KBS World",
    "url": None,
    "score": 1.2412,
}
_FACETS_EXAMPLE: dict[str, Any] = {
    "language": {"fr": 1},
    "source": {"KBS World": 1},
    "month": {"2023-09": 1},
}


class SearchHit(BaseModel):
    """One search hit; `snippet` and `title_snippet` are HTML with matches in `<mark>`."""

    id: int = Field(
        description="The article's id: `/v1/articles/{id}` has the whole article.", examples=[1]
    )
    title: str = Field(description="The article's title.", examples=[_ARTICLE_EXAMPLE["title"]])
    snippet: str = Field(
        description="HTML-escaped extract of the body with the matched words in `<mark>`, "
        "passages joined by ` … `; the body's opening when nothing in the body matched",
        examples=[_SNIPPET],
    )
    title_snippet: str | None = Field(
        default=None,
        description="the HTML-escaped title with its matched words in `<mark>`, "
        "or null when no word of the title matched",
        examples=[_TITLE_SNIPPET],
    )
    matched_in: list[Literal["title", "body"]] = Field(
        default_factory=list,
        description="where the query's words were found (empty when browsing without `q`)",
        examples=[["title", "body"]],
    )
    published_at: str | None = Field(
        description="When it was published, as in the article (`2023`, `2023-09`, "
        "`2023-09-07` or an ISO 8601 date and time); null when unknown.",
        examples=["2023-09"],
    )
    language: str = Field(
        description="The article's ISO 639-1 language code (`und`: undetermined).",
        examples=["fr"],
    )
    source: str | None = Field(
        description="Who published it; null when unknown.", examples=["KBS World"]
    )
    url: str | None = Field(
        description="The article's address; null when it has none.",
        examples=["https://example.org/2023/09/coree-missile"],
    )
    score: float | None = Field(
        description="How well it matches, higher is better, rounded to 4 decimals; it ranks "
        "the hits of one search and means nothing across searches. Null when the hits are in "
        "date order (`sort=newest` or `oldest`, or browsing without `q`).",
        examples=[1.2412],
    )


class SearchFacets(BaseModel):
    """Counts of every matching article (not only this page's), most first."""

    language: dict[str, int] = Field(
        description="Matching articles per language code.", examples=[{"fr": 18, "ko": 2}]
    )
    source: dict[str, int] = Field(
        description="Matching articles per source; those without one under `(none)`, so the "
        "counts add up to `total`.",
        examples=[{"KBS World": 12, "(none)": 8}],
    )
    month: dict[str, int] = Field(
        description="Matching articles per month of publication (`YYYY-MM`, in UTC; one dated "
        "only by its year counts under January); undated articles are not counted.",
        examples=[{"2023-09": 12, "2024-06": 5}],
    )


class SearchResponse(BaseModel):
    """A page of search results with facets over every match."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "la Corée du Nord",
                    "total": 1,
                    "page": 1,
                    "page_size": 10,
                    "took_ms": 11.07,
                    "timed_out": False,
                    "hits": [_HIT_EXAMPLE],
                    "facets": _FACETS_EXAMPLE,
                    "did_you_mean": None,
                }
            ]
        }
    )

    query: str | None = Field(
        description="The `q` searched for, as sent; null when browsing without `q`.",
        examples=["la Corée du Nord"],
    )
    total: int = Field(
        description="How many articles match, on all pages (a lower bound when `timed_out`).",
        examples=[20],
    )
    page: int = Field(description="This page's number, from 1.", examples=[1])
    page_size: int = Field(description="Hits per page, as asked.", examples=[10])
    took_ms: float = Field(
        description="Milliseconds the server spent on the search.", examples=[11.07]
    )
    timed_out: bool = Field(
        default=False,
        description="Whether the search ran out of its time limit (half a second by default) "
        "and returns what it found by then: `total`, `hits` and `facets` are then partial.",
        examples=[False],
    )
    hits: list[SearchHit] = Field(
        description="This page's hits, best first (newest or oldest first with `sort`).",
        examples=[[_HIT_EXAMPLE]],
    )
    facets: SearchFacets = Field(
        description="Counts of all matching articles by language, source and month.",
        examples=[_FACETS_EXAMPLE],
    )
    did_you_mean: str | None = Field(
        description="A corrected query that finds more articles, offered when this one finds "
        "fewer than three; null otherwise.",
        examples=["coree russe"],
    )


class SimilarResponse(BaseModel):
    """Articles like a given one."""

    id: int = Field(description="The id of the article they are like.", examples=[1])
    hits: list[SearchHit] = Field(
        description="The most similar articles, most similar first.", examples=[[_HIT_EXAMPLE]]
    )


class StoreHealth(BaseModel):
    ok: bool
    articles: int | None


class IndexHealth(BaseModel):
    ok: bool
    documents: int | None
    pending: int | None
    # Each segment costs every search some work; the indexer merges them when idle.
    segments: int | None = None
    merging: bool = False


class HealthResponse(BaseModel):
    """Whether the store and the index answer, and how far behind the index is."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ok",
                    "store": {"ok": True, "articles": 1992},
                    "index": {"ok": True, "documents": 1992, "pending": 0, "segments": 1},
                }
            ]
        }
    )

    status: Literal["ok", "degraded"]
    store: StoreHealth
    index: IndexHealth


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem+json responses an operation can return."""
    titles = {
        400: "Invalid query or parameters",
        401: "Missing or wrong API key",
        403: "This key may not do that",
        404: "Not found",
        409: "Conflict with another article",
        413: "Request body too large",
        415: "Unsupported content type",
        422: "Validation failed",
        429: "Too many requests: retry after `Retry-After` seconds",
        500: "Unexpected error (the log has the details under its correlation id)",
        503: "The indexer's backlog is full: retry after `Retry-After` seconds",
    }
    return {
        status: {
            "description": titles.get(status, "Error"),
            "content": {
                "application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "example": {
                        "type": "about:blank",
                        "title": titles.get(status, "Error"),
                        "status": status,
                        "detail": _PROBLEM_DETAILS.get(status, "see the detail of the response"),
                    },
                }
            },
        }
        for status in statuses
    }


_PROBLEM_DETAILS = {
    400: "unclosed quote: a phrase opened here is never closed",
    401: "a valid API key is required: send `Authorization: Bearer KEY`",
    403: "this key may only read; writes need a key from NEWSDESK_API_KEYS",
    404: "no article has id 42",
    409: "article 7 already has this URL",
    413: "the request body is larger than 52428800 bytes",
    415: "send application/json (an array) or application/x-ndjson (one article per line)",
    422: "invalid request: body.published_at",
    429: "more than 20 per 1 second requests; retry in 1 s",
    500: "an unexpected error occurred; quote the correlation id",
    503: "100001 articles wait for the indexer (the bound is 100000); retry shortly",
}


class TokenAnalysisOut(BaseModel):
    """One word of the text at each stage of a language's analysis."""

    token: str = Field(description="the word as written", examples=["Corée"])
    lowercase: str = Field(description="in lower case", examples=["corée"])
    stop: bool = Field(description="on this language's stop list", examples=[False])
    in_query: bool = Field(
        description="kept when the text is a query: stop words are dropped unless the query "
        "holds nothing else, and kept inside phrases",
        examples=[True],
    )
    folded: str = Field(description="lower case without accents", examples=["coree"])
    terms: list[str] = Field(
        description="what the engine indexes and matches: stems, CJK bigrams, Latin forms",
        examples=[["core"]],
    )
    latin: list[str] = Field(
        description="Latin spellings indexed beside a Cyrillic or Greek word", examples=[[]]
    )


class LanguageAnalysisOut(BaseModel):
    """The text as articles in one language are analysed."""

    language: str = Field(description="the language asked for", examples=["fr"])
    analysis: str = Field(
        description="the analysis its articles get: the language's own (`fr`), `xx` (folded, "
        "not stemmed) or `cjk` (bigrams)",
        examples=["fr"],
    )
    tokens: list[TokenAnalysisOut]
    query: str | None = Field(
        description="the query the engine runs for these articles when the text is a query "
        "(null: nothing of it can match there, or it is not a valid query)",
        examples=["((title_fr:core OR body_fr:core) AND (title_fr:nord OR body_fr:nord))"],
    )

    @classmethod
    def of(cls, found: LanguageAnalysis) -> LanguageAnalysisOut:
        """The public view of an analysis."""
        return cls(
            language=found.language,
            analysis=found.family,
            tokens=[TokenAnalysisOut(**vars(t)) for t in found.tokens],
            query=found.query,
        )


class AnalyzeResponse(BaseModel):
    """A text as each language's analysis reads it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "la Corée du Nord",
                    "backend": "whoosh",
                    "languages": [
                        {
                            "language": "fr",
                            "analysis": "fr",
                            "tokens": [
                                {
                                    "token": "la",
                                    "lowercase": "la",
                                    "stop": True,
                                    "in_query": False,
                                    "folded": "la",
                                    "terms": ["la"],
                                    "latin": [],
                                },
                                {
                                    "token": "Corée",
                                    "lowercase": "corée",
                                    "stop": False,
                                    "in_query": True,
                                    "folded": "coree",
                                    "terms": ["core"],
                                    "latin": [],
                                },
                            ],
                            "query": "((title_fr:core OR body_fr:core) AND "
                            "(title_fr:nord OR body_fr:nord))",
                        }
                    ],
                }
            ]
        }
    )

    text: str
    backend: Literal["whoosh", "postgres"]
    languages: list[LanguageAnalysisOut]
