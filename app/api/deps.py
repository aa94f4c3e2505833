"""Dependencies shared by the routes, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.ingest.dates import PartialDate, parse_partial_date
from app.services.articles import ArticleService, span_filters
from app.services.errors import BadQuery, InvalidInput, ServiceError
from app.services.runtime import Runtime
from app.services.search import SearchService
from app.store.articles import ListFilters

_bearer = HTTPBearer(auto_error=False, description="An API key from NEWSDESK_API_KEYS")


class Unauthorized(ServiceError):
    status = 401
    title = "Unauthorized"


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _articles(request: Request) -> ArticleService:
    return _runtime(request).articles


def _search(request: Request) -> SearchService:
    return _runtime(request).search


def _write_auth(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    keys = _runtime(request).settings.api_keys
    if not keys:
        return
    given = credentials.credentials.encode() if credentials else b""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode())
    if not matched:
        raise Unauthorized("a valid API key is required: send `Authorization: Bearer KEY`")


def _date(name: str, value: str | None) -> PartialDate | None:
    if value is None:
        return None
    try:
        return parse_partial_date(value)
    except ValueError as exc:
        raise InvalidInput(
            f"invalid {name}: {exc}",
            errors=[{"loc": ["query", name], "msg": str(exc), "type": "value_error"}],
        ) from None


def _filters(
    from_: Annotated[
        str | None,
        Query(alias="from", description="from this date on (inclusive): 2023, 2023-09, 2023-09-07"),
    ] = None,
    to: Annotated[
        str | None, Query(description="up to this date (inclusive at its precision): 2023-09")
    ] = None,
    language: Annotated[list[str], Query(description="ISO 639-1 code; repeat for several")] = [],  # noqa: B006  (FastAPI copies defaults)
    source: Annotated[
        list[str], Query(description="source name, whole and ignoring case; repeat for several")
    ] = [],  # noqa: B006
) -> ListFilters:
    start, end = _date("from", from_), _date("to", to)
    if start and end and start.start > end.end:
        raise BadQuery(f"`from` ({start.text}) is after `to` ({end.text})")
    return span_filters(start=start, end=end, languages=language, sources=source)


ArticlesDep = Annotated[ArticleService, Depends(_articles)]
SearchDep = Annotated[SearchService, Depends(_search)]
RuntimeDep = Annotated[Runtime, Depends(_runtime)]
WriteAuth = Depends(_write_auth)
FiltersDep = Annotated[ListFilters, Depends(_filters)]
Page = Annotated[int, Query(ge=1, le=10_000, description="1-based page number")]
PageSize = Annotated[int, Query(ge=1, le=100, description="results per page, at most 100")]
Refresh = Annotated[
    str | None,
    Query(pattern="^wait$", description="`wait`: return once the write is searchable"),
]
