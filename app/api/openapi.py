"""The OpenAPI document, completed with what depends on the configuration.

Routes declare the statuses their own code returns. The statuses that middleware, keys and
configured bounds add (413, 429, 401/403, 500, the JSON-nesting 400) and the configured maxima
(page size, paging depth, query length, bulk size) are added here, from the same `Settings` the
app enforces, so the document never promises more or less than the server does. So is the
description (which keys this server wants, the query syntax and its bounds), and each
operation's 422 example is an error of its own input.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api.deps import max_pages
from app.api.limits import RATE_LIMIT_EXEMPT
from app.api.schemas import problem_responses
from app.config import Settings

_BODY_METHODS = {"post", "put", "patch"}
# A heading of the description, and the address ReDoc gives it (`section/`, words joined by
# `-`): absolute, so that the link works from /docs as from /redoc.
QUERY_SYNTAX = "Query syntax"
QUERY_SYNTAX_LINK = "/redoc#section/" + "-".join(QUERY_SYNTAX.split())

_INTRO = """
Search API for news archives: ingest articles (JSON, NDJSON, raw text), fetch them by id, list
them by date, and search them in full text — accent-insensitive and stemmed per language, so
`coree` finds « Corée ».
"""

_AUTHORIZE = (
    "On [/docs](/docs), click **Authorize** and paste it; other clients send "
    "`Authorization: Bearer KEY`."
)

_SYNTAX = """
## {heading}

The `q` of `GET /v1/search`:

| Query | Finds the articles with |
|---|---|
| `corée russie` | both words: terms are ANDed (`AND` may be written too) |
| `"train blindé"`, `« train blindé »`, `“train blindé”` | the exact phrase |
| `corée OR japon` | either word (`OR` in capitals: `or` is a word) |
| `japon NOT séisme`, `japon -séisme` | the first word and not the second |
| `(kim OR poutine) vladivostok` | groups, in parentheses |
| `nucl*` | a word that starts with `nucl` (at least two letters before the `*`) |
| `vladivostock~`, `choigu~2` | a word within one (or two) edits of it, of three letters or more |
| `title:missile`, `body:obus`, `source:kbs` | the word in that field only |

- **Accents and case** are ignored: `coree` and `CORÉE` find « Corée ».
- **Words are stemmed** as each article's language reads them: `missiles` finds « missile ».
- **Stop words** (`la`, `du`, `the`, `в`…) are dropped for the articles of their language,
  unless the query holds nothing else; a phrase keeps them: `« la Corée du Nord »` is that
  phrase.
- **Hyphens and apostrophes** split words: `Kim Jong-un` finds « Kim Jong Un ».
- **Bounds**: at most {chars} characters, {terms} terms and {expansions} prefix or fuzzy terms. A
  query past them, or one that cannot be parsed (an unclosed quote…), gets `400` saying what is
  wrong and at which `position`. A search stops after {seconds:g} s and returns what it found,
  marked `"timed_out": true`.

Without `q`, a search lists every article the filters keep, newest first, with facets.
`GET /v1/analyze` shows what each word of a query becomes in each language.
"""


def _keys(settings: Settings) -> str:
    if settings.read_keys:
        return (
            "Every `/v1/` request needs a key: reads a read key (`NEWSDESK_READ_KEYS`) or a "
            "write key, writes a write key (`NEWSDESK_API_KEYS`); a read key that writes gets "
            f"`403`. {_AUTHORIZE}"
        )
    if settings.api_keys:
        return (
            "Writes (`POST`, `PUT`, `PATCH`, `DELETE`) need a key from `NEWSDESK_API_KEYS`. "
            f"{_AUTHORIZE} Reads are open to all."
        )
    return (
        "This server has no API keys configured: anyone who can reach it may write, which the "
        "server allows on a loopback address only (`NEWSDESK_API_KEYS` sets keys)."
    )


def description(settings: Settings) -> str:
    """The document's introduction, as this configuration serves it: what the API does, what
    keys it needs, its errors and the query syntax."""
    errors = (
        "Every error is `application/problem+json` (RFC 9457); when fields are invalid, "
        "`errors` names each one (`loc`) and what is wrong with it."
    )
    if settings.rate_limit:
        errors += " Too many requests get `429` with `Retry-After`."
    syntax = _SYNTAX.format(
        heading=QUERY_SYNTAX,
        chars=settings.query_max_chars,
        terms=settings.query_max_terms,
        expansions=settings.query_max_expansions,
        seconds=settings.search_time_limit,
    )
    return f"{_INTRO}\n{_keys(settings)}\n\n{errors}\n{syntax}"


def _declare(operation: dict[str, Any], *statuses: int) -> None:
    responses = operation.setdefault("responses", {})
    for status, spec in problem_responses(*statuses).items():
        responses.setdefault(str(status), spec)


def _invalid(detail: str, loc: list[str], msg: str, kind: str) -> dict[str, Any]:
    error = {"loc": loc, "msg": msg, "type": kind}
    return {
        "type": "about:blank",
        "title": "Validation failed",
        "status": 422,
        "detail": detail,
        "errors": [error],
    }


_NOT_A_DATE = (
    "expected an ISO 8601 date: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][±HH:MM]"
)
# The 422 an operation shows is the first of these whose input it has (`body`: a JSON object
# body, `body[]`: a JSON array body, else a parameter as `in.name`): each is what the server
# answers to a bad value there (tests/api/test_openapi_document.py sends each one).
INVALID_EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    (
        "body",
        _invalid(
            "invalid request: body.published_at",
            ["body", "published_at"],
            _NOT_A_DATE,
            "value_error",
        ),
    ),
    (
        "body[]",
        {
            "type": "about:blank",
            "title": "Validation failed",
            "status": 422,
            "detail": "the body must be a JSON array of articles",
        },
    ),
    (
        "query.from",
        _invalid(f"invalid from: {_NOT_A_DATE}", ["query", "from"], _NOT_A_DATE, "value_error"),
    ),
    (
        "query.published_at",
        _invalid(
            "invalid request: query.published_at",
            ["query", "published_at"],
            _NOT_A_DATE,
            "value_error",
        ),
    ),
    (
        "query.text",
        _invalid("invalid request: query.text", ["query", "text"], "Field required", "missing"),
    ),
    (
        "path.article_id",
        _invalid(
            "invalid request: path.article_id",
            ["path", "article_id"],
            "Input should be greater than or equal to 1",
            "greater_than_equal",
        ),
    ),
]


def _inputs(operation: dict[str, Any]) -> set[str]:
    """What a request to the operation carries, as INVALID_EXAMPLES names it."""
    found = {f"{p['in']}.{p['name']}" for p in operation.get("parameters", [])}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body:
        found.add("body[]" if body["schema"].get("type") == "array" else "body")
    return found


def _show_invalid_input(operation: dict[str, Any]) -> None:
    """Make the operation's 422 example an error of its own input."""
    content = operation.get("responses", {}).get("422", {}).get("content", {})
    problem = content.get("application/problem+json")
    if problem is None:
        return
    inputs = _inputs(operation)
    for name, example in INVALID_EXAMPLES:
        if name in inputs:
            problem["example"] = example
            return


def _set_parameter_bounds(operation: dict[str, Any], bounds: dict[str, dict[str, int]]) -> None:
    for parameter in operation.get("parameters", []):
        extra = bounds.get(parameter.get("name", ""))
        if extra and parameter.get("in") == "query":
            parameter["schema"].update(extra)


def amend(schema: dict[str, Any], settings: Settings) -> None:
    """Add the configured statuses and bounds to a generated OpenAPI document, in place."""
    bounds = {
        "page_size": {"maximum": settings.max_page_size},
        "page": {"maximum": max_pages(settings)},
        "q": {"maxLength": settings.query_max_chars},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _declare(operation, 500)
            if settings.rate_limit and path not in RATE_LIMIT_EXEMPT:
                _declare(operation, 429)
            _set_parameter_bounds(operation, bounds)
            _show_invalid_input(operation)
            if not path.startswith("/v1/"):
                continue
            if method in _BODY_METHODS:
                _declare(operation, 400, 413)  # unparseable or too deeply nested; too large
                if settings.api_keys:
                    _declare(operation, 401, 403)
            elif method == "delete" and settings.api_keys:
                _declare(operation, 401, 403)
            elif settings.read_keys:
                _declare(operation, 401)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and body["schema"].get("type") == "array":
                body["schema"]["maxItems"] = settings.bulk_max_items


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the amended document (built once, then cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            amend(generate(), settings)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
