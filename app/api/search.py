"""GET /v1/search: full-text search."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.openapi.models import Example
from starlette.concurrency import run_in_threadpool

from app.api.deps import FiltersDep, PagingDep, SearchDep
from app.api.openapi import QUERY_SYNTAX_LINK
from app.api.schemas import SearchFacets, SearchHit, SearchResponse, problem_responses
from app.ingest.article import NO_CONTROL
from app.services.errors import InvalidInput
from app.services.search import SearchRequest

reads = APIRouter(prefix="/v1", tags=["search"])

_Q_HELP = (
    'The words to search for. Terms are ANDed; `"exact phrase"` (or « … »), `OR`, '
    "`NOT`/`-term`, `prefix*`, `term~` fuzzy and `title:`/`body:`/`source:` fields are the "
    f"[query syntax]({QUERY_SYNTAX_LINK}). Accents and case are ignored and words are "
    "stemmed per language: `coree` finds « Corée ». Without `q`, every article the filters "
    "keep, newest first, with facets."
)
_Q_EXAMPLES: dict[str, Example] = {
    "words": {"summary": "Words, in any order", "value": "la Corée du Nord"},
    "phrase": {"summary": "An exact phrase", "value": "« train blindé »"},
    "operators": {"summary": "OR, a field, a prefix", "value": "(kim OR poutine) title:vladi*"},
    "fuzzy": {"summary": "A misspelt name, fuzzy", "value": "vladivostock~"},
}


@reads.get(
    "/search",
    responses=problem_responses(400, 422),
    summary="Full-text search with filters, facets and snippets",
)
async def search(
    service: SearchDep,
    filters: FiltersDep,
    paging: PagingDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            description=_Q_HELP,
            openapi_examples=_Q_EXAMPLES,
            json_schema_extra={"format": "search-query", "pattern": NO_CONTROL},
        ),
    ] = None,
    sort: Annotated[
        Literal["relevance", "newest", "oldest"],
        Query(description="`relevance` (newest first without `q`), `newest` or `oldest`"),
    ] = "relevance",
) -> SearchResponse:
    if q is not None and not re.fullmatch(
        NO_CONTROL, q
    ):  # PostgreSQL refuses NUL in text: refused for both
        message = "the query must not hold control characters (tab and newline aside)"
        raise InvalidInput(
            message, errors=[{"loc": ["query", "q"], "msg": message, "type": "value_error"}]
        )
    page, page_size = paging.page, paging.page_size
    # Searched in a worker thread; the response is built and checked here, in the event loop
    # (a plain-def route would have FastAPI check it in a second trip to the thread pool).
    result = await run_in_threadpool(
        service.search,
        SearchRequest(q=q, filters=filters, sort=sort, page=page, page_size=page_size),
    )
    return SearchResponse(
        query=q,
        total=result.total,
        page=page,
        page_size=page_size,
        took_ms=result.took_ms,
        timed_out=result.timed_out,
        hits=[
            SearchHit(
                id=h.article.id or 0,
                title=h.article.title,
                snippet=h.snippet,
                title_snippet=h.title_snippet,
                matched_in=h.matched_in,
                published_at=h.article.published_at,
                language=h.article.language,
                source=h.article.source,
                url=h.article.url,
                score=h.score,
            )
            for h in result.hits
        ],
        facets=SearchFacets.model_validate(result.facets),
        did_you_mean=result.did_you_mean,
    )
