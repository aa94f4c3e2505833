"""Dependencies shared by the routes, as `Annotated` aliases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.security import HTTPBearer

from app.config import Settings
from app.ingest.article import DATE, DATE_HELP, VISIBLE, source_key
from app.ingest.dates import PartialDate, parse_partial_date
from app.services.articles import ArticleService, span_filters
from app.services.errors import BadQuery, InvalidInput
from app.services.runtime import Runtime
from app.services.search import SearchService
from app.services.search_pg import PostgresSearchService
from app.store.articles import ListFilters

_bearer = HTTPBearer(
    auto_error=False,
    description="A key from NEWSDESK_API_KEYS (read and write) or NEWSDESK_READ_KEYS (read)",
)


# The dependencies are `async def`: they only read the app's state and parse parameters, and
# FastAPI would run a plain `def` one in the thread pool, a hop between threads per dependency
# per request.


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _the_runtime(request: Request) -> Runtime:
    return _runtime(request)


async def _articles(request: Request) -> ArticleService:
    return _runtime(request).articles


async def _search(request: Request) -> SearchService | PostgresSearchService:
    return _runtime(request).search


# A date as `parse_partial_date` takes it (the pattern says so to any JSON Schema client, the
# format names it for tests/contract/hooks.py); `from` must not be after `to`.
PARTIAL_DATE: dict[str, Any] = {"format": "partial-date", "pattern": DATE, "minLength": 1}


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


async def _filters(
    from_: Annotated[
        str | None,
        Query(
            alias="from",
            description=f"Only articles published from this date on, inclusive: {DATE_HELP}. "
            "`2023-09` counts from 1 September 2023, 00:00 UTC; an article dated less "
            "precisely is kept when its span reaches that far (`2023` does), an undated one "
            "never.",
            examples=["2023-09"],
            json_schema_extra=PARTIAL_DATE,
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            description=f"Only articles published up to this date, inclusive at its "
            f"precision: {DATE_HELP}. `2023-09` counts to the end of 30 September 2023 (UTC). "
            "Not before `from` (`400`).",
            examples=["2023-09"],
            json_schema_extra=PARTIAL_DATE,
        ),
    ] = None,
    language: Annotated[
        list[str],
        Query(
            description="ISO 639-1 code; repeat for several",
            json_schema_extra={"items": {"type": "string", "pattern": VISIBLE}},
        ),
    ] = [],  # noqa: B006  (FastAPI copies defaults)
    source: Annotated[
        list[str],
        Query(
            description="source name, whole and ignoring case; repeat for several",
            json_schema_extra={"items": {"type": "string", "pattern": VISIBLE}},
        ),
    ] = [],  # noqa: B006
) -> ListFilters:
    start, end = _date("from", from_), _date("to", to)
    for name, values in (("source", source), ("language", language)):
        for value in values:
            if not source_key(value):  # cleaned like stored text: empty if it cannot be stored
                message = f"a {name} to filter by must hold visible characters and no control ones"
                raise InvalidInput(
                    message,
                    errors=[{"loc": ["query", name], "msg": message, "type": "value_error"}],
                )
    if start and end and start.start > end.end:
        raise BadQuery(f"`from` ({start.text}) is after `to` ({end.text})")
    return span_filters(start=start, end=end, languages=language, sources=source)


@dataclass(frozen=True)
class Paging:
    """A page of results: 1-based `page`, `page_size` per page."""

    page: int
    page_size: int


def max_pages(settings: Settings) -> int:
    """The last page served: pages of the largest size reach at most `max_result_depth`."""
    return max(1, settings.max_result_depth // settings.max_page_size)


def _too_big(name: str, limit: int, hint: str = "") -> InvalidInput:
    message = f"{name} is at most {limit}{hint}"
    return InvalidInput(
        message, errors=[{"loc": ["query", name], "msg": message, "type": "less_than_equal"}]
    )


async def _paging(
    request: Request,
    page: Annotated[int, Query(ge=1, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, description="results per page (NEWSDESK_MAX_PAGE_SIZE, 100 by default)")
    ] = 10,
) -> Paging:
    settings = _runtime(request).settings
    if page_size > settings.max_page_size:
        raise _too_big("page_size", settings.max_page_size)
    last = max_pages(settings)
    if page > last:
        raise _too_big(
            "page",
            last,
            f": results deeper than {settings.max_result_depth} are not served; narrow the "
            "query with filters (from, to, language, source) instead of paging",
        )
    return Paging(page, page_size)


ArticlesDep = Annotated[ArticleService, Depends(_articles)]
SearchDep = Annotated[SearchService | PostgresSearchService, Depends(_search)]
RuntimeDep = Annotated[Runtime, Depends(_the_runtime)]
# Keys are enforced by `keys.KeyGuard` before the body is read; on the routers this only
# declares the bearer scheme in the OpenAPI document (the Authorize button of /docs).
KeyRequired = Depends(_bearer)
FiltersDep = Annotated[ListFilters, Depends(_filters)]
PagingDep = Annotated[Paging, Depends(_paging)]
Refresh = Annotated[
    Literal["false", "wait"],
    Query(
        description="`wait`: return once the write is searchable, or after "
        "NEWSDESK_REFRESH_WAIT_SECONDS with `Newsdesk-Refresh: timed-out` (the write is stored "
        "and becomes searchable shortly; `done` otherwise); `false`: at once"
    ),
]
