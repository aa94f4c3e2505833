"""Routes of /v1/articles: create, bulk, raw, list, fetch, replace, delete, similar."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from app import memory
from app.api.deps import (
    PARTIAL_DATE,
    ArticlesDep,
    FiltersDep,
    PagingDep,
    Refresh,
    RuntimeDep,
    SearchDep,
)
from app.api.errors import error_list
from app.api.limits import media_type
from app.api.schemas import (
    ArticlePage,
    ArticlePublic,
    BulkItem,
    BulkResponse,
    Problem,
    SearchHit,
    SimilarResponse,
    problem_responses,
)
from app.ingest.article import LANGUAGE, NO_CONTROL, ArticleCreate, ArticlePatch
from app.ingest.payloads import Item, PayloadError, parse_json_array, parse_ndjson, raw_article
from app.services.articles import ItemResult, WriteResult
from app.services.errors import InvalidInput, ServiceError

# Two routers, so that the app factory can put each behind the key it needs.
reads = APIRouter(prefix="/v1/articles", tags=["articles"])
# Bodies this large leave heap worth returning to the system; smaller ones are not worth the
# milliseconds of a trim on every request.
_TRIM_AFTER_BYTES = 1 << 20

writes = APIRouter(prefix="/v1/articles", tags=["articles"])
ArticleId = Annotated[int, Path(ge=1, le=2**62, description="the article's id")]
BY_ID = "/{article_id:int}"  # not an integer: 404, and `/bulk` never reads as an id


# Set with refresh=wait: `done`, or `timed-out` when the write is stored but not yet searchable.
REFRESH_HEADER = "Newsdesk-Refresh"


class UnsupportedMediaType(ServiceError):
    status = 415
    title = "Unsupported media type"


def _refreshed(response: Response, indexed: bool | None) -> None:
    """With refresh=wait, say whether search reflects the write (`done`) or the wait ran out
    first (`timed-out`: the write is stored and will be searchable shortly)."""
    if indexed is not None:
        response.headers[REFRESH_HEADER] = "done" if indexed else "timed-out"


def _write_response(result: WriteResult, response: Response, request: Request) -> ArticlePublic:
    response.headers["Newsdesk-Result"] = result.status
    _refreshed(response, result.indexed)
    response.status_code = status.HTTP_200_OK
    if result.status == "created":
        response.status_code = status.HTTP_201_CREATED
        response.headers["Location"] = str(
            request.url_for("get_article", article_id=result.article.id)
        )
    return ArticlePublic.of(result.article)


def _item_problem(error: ValidationError | ValueError) -> Problem:
    if isinstance(error, ValidationError):
        errors = error_list(error)
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "item" for e in errors)
        return Problem.model_validate(
            {
                "title": "Validation failed",
                "status": 422,
                "detail": f"invalid: {fields}",
                "errors": errors,
            }
        )
    return Problem(title="Validation failed", status=422, detail=str(error))


def _bulk_response(
    results: list[ItemResult], response: Response, lines: list[int] | None = None
) -> BulkResponse:
    """Counts and per-item results; `lines`, each item's line in an NDJSON body."""
    _refreshed(response, next((r.result.indexed for r in results if r.result), None))
    items: list[BulkItem] = []
    for r in results:
        line = lines[r.index] if lines else None
        if r.result is not None:
            status, article_id = r.result.status, r.result.article.id
            items.append(
                BulkItem(index=r.index, status=status, id=article_id, error=None, line=line)
            )
        else:
            assert r.error is not None
            error = _item_problem(r.error)
            items.append(BulkItem(index=r.index, status="error", id=None, error=error, line=line))
    counts = {
        s: sum(1 for i in items if i.status == s) for s in ("created", "updated", "unchanged")
    }
    return BulkResponse(
        **counts, errors=sum(1 for i in items if i.status == "error"), results=items
    )


_WRITE_ERRORS = problem_responses(422, 503)

_created: dict[int | str, dict[str, Any]] = {
    201: {"description": "Created; `Location` names the new article", "model": ArticlePublic},
    200: {
        "description": "An article with this URL (or title and body) existed: returned, "
        "updated if its content changed (`Newsdesk-Result` says which)",
        "model": ArticlePublic,
    },
}


@writes.post(
    "",
    status_code=201,
    responses={**_created, **_WRITE_ERRORS},
    summary="Create an article (idempotent by URL, or by title and body)",
)
def create_article(
    article: ArticleCreate,
    service: ArticlesDep,
    request: Request,
    response: Response,
    refresh: Refresh = "false",
) -> ArticlePublic:
    result = service.upsert(article, wait=refresh == "wait")
    return _write_response(result, response, request)


_BULK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "minItems": 1,  # maxItems: NEWSDESK_BULK_MAX_ITEMS, set by app/api/openapi.py
                    # Any objects: each is validated as an ArticleCreate on its own, and one that
                    # fails gets an error in its result while the others go in (200).
                    "items": {
                        "type": "object",
                        "description": "an ArticleCreate (see POST /v1/articles)",
                    },
                },
            },
            "application/x-ndjson": {
                "schema": {
                    "type": "string",
                    "format": "ndjson-articles",
                    "description": "one ArticleCreate JSON per line",
                },
            },
        },
    }
}


@writes.post(
    "/bulk",
    openapi_extra=_BULK_BODY,
    responses=problem_responses(400, 415, 422, 503),
    summary="Create or update up to 10,000 articles (JSON array or NDJSON)",
)
async def bulk_articles(
    request: Request,
    service: ArticlesDep,
    runtime: RuntimeDep,
    after: BackgroundTasks,
    response: Response,
    refresh: Refresh = "false",
) -> BulkResponse:
    content_type = media_type(request.headers.get("content-type", ""))
    data = await request.body()
    limit = runtime.settings.bulk_max_items
    try:
        if content_type in ("application/x-ndjson", "application/jsonl", "application/ndjson"):
            items, lines = parse_ndjson(data, max_items=limit)
        elif content_type in ("application/json", ""):
            items, lines = parse_json_array(data, max_items=limit), None
        else:
            raise UnsupportedMediaType(
                "send application/json (an array) or application/x-ndjson (one article per line)"
            )
    except PayloadError as exc:
        raise InvalidInput(str(exc)) from None
    results = await run_in_threadpool(service.upsert_many, items, wait=refresh == "wait")
    if len(data) >= _TRIM_AFTER_BYTES:  # once the body and its items are freed
        after.add_task(memory.release, collect=False)
    return _bulk_response(results, response, lines)


_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/plain": {
                # A first line `date YYYY-MM[-DD]` (optionally `Photo : credit`), then the text.
                "schema": {"type": "string", "format": "raw-article"},
                "example": "date 2023-09 Photo : YONHAP News\n\nLe dirigeant nord-coréen…",
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"type": "string", "format": "binary"},
                        }
                    },
                }
            },
        },
    }
}


def _check_raw_options(**given: str | None) -> None:
    """The query options of a raw upload are the request's: invalid ones refuse it whole (422),
    before any file is read, rather than failing every file in turn."""
    fields = {name: value for name, value in given.items() if value is not None}
    try:
        ArticleCreate.model_validate({"body": "-", **fields})
    except ValidationError as exc:
        errors = [{**e, "loc": ["query", *e["loc"]]} for e in error_list(exc)]
        names = ", ".join(".".join(map(str, e["loc"])) for e in errors)
        raise InvalidInput(f"invalid request: {names}", errors=errors) from None


@writes.post(
    "/raw",
    openapi_extra=_RAW_BODY,
    responses={
        **_created,
        207: {"description": "multipart: one result per file", "model": BulkResponse},
        **problem_responses(400, 415, 422, 503),
    },
    summary="Ingest raw text: one article as text/plain, or several .txt files as multipart",
)
async def raw_articles(
    request: Request,
    response: Response,
    service: ArticlesDep,
    language: Annotated[
        str | None,
        Query(description="ISO 639-1; detected if absent", json_schema_extra={"pattern": LANGUAGE}),
    ] = None,
    source: Annotated[
        str | None, Query(max_length=300, json_schema_extra={"pattern": NO_CONTROL})
    ] = None,
    url: Annotated[
        str | None,
        Query(
            max_length=4096, description="text/plain only", json_schema_extra={"format": "http-url"}
        ),
    ] = None,
    published_at: Annotated[
        str | None,
        Query(
            max_length=64,
            description="used when the text has no date header",
            json_schema_extra=PARTIAL_DATE,
        ),
    ] = None,
    require_date: Annotated[bool, Query(description="refuse texts without any date")] = False,
    refresh: Refresh = "false",
) -> Any:
    content_type = media_type(request.headers.get("content-type", ""))
    _check_raw_options(language=language, source=source, url=url, published_at=published_at)
    options = {
        "language": language,
        "source": source,
        "published_at": published_at,
        "require_date": require_date,
    }
    wait = refresh == "wait"
    if content_type == "text/plain":
        item = raw_article(await request.body(), url=url, **options)  # type: ignore[arg-type]
        if not isinstance(item, ArticleCreate):
            problem = _item_problem(item)
            raise InvalidInput(
                problem.detail or "invalid raw text",
                errors=[e.model_dump() for e in problem.errors or []] or None,
            )
        result = await run_in_threadpool(service.upsert, item, wait=wait)
        return _write_response(result, response, request)
    if content_type == "multipart/form-data":
        form = await request.form()
        items: list[Item] = []
        for _name, value in form.multi_items():
            if isinstance(value, str):
                continue
            items.append(raw_article(await value.read(), **options))  # type: ignore[arg-type]
        await form.close()
        if not items:
            raise InvalidInput("the form holds no files; attach .txt files")
        results = await run_in_threadpool(service.upsert_many, items, wait=wait)
        response.status_code = 207
        return _bulk_response(results, response)
    raise UnsupportedMediaType("send text/plain (one article) or multipart/form-data (.txt files)")


@reads.get(
    "",
    summary="List articles by date, with filters and paging",
    responses=problem_responses(400, 422),
)
def list_articles(
    service: ArticlesDep,
    filters: FiltersDep,
    paging: PagingDep,
    sort: Annotated[Literal["newest", "oldest"], Query()] = "newest",
) -> ArticlePage:
    total, items = service.list(
        filters=filters,
        newest_first=sort == "newest",
        page=paging.page,
        page_size=paging.page_size,
    )
    return ArticlePage(
        total=total,
        page=paging.page,
        page_size=paging.page_size,
        items=[ArticlePublic.of(a) for a in items],
    )


@reads.get(
    BY_ID,
    name="get_article",
    responses=problem_responses(404, 422),
    summary="Fetch an article by id",
)
def get_article(article_id: ArticleId, service: ArticlesDep) -> ArticlePublic:
    return ArticlePublic.of(service.get(article_id))


@writes.put(
    BY_ID,
    responses=problem_responses(404, 409, 422, 503),
    summary="Replace an article",
)
def replace_article(
    article_id: ArticleId,
    article: ArticleCreate,
    service: ArticlesDep,
    response: Response,
    refresh: Refresh = "false",
) -> ArticlePublic:
    result = service.replace(article_id, article, wait=refresh == "wait")
    response.headers["Newsdesk-Result"] = result.status
    _refreshed(response, result.indexed)
    return ArticlePublic.of(result.article)


@writes.patch(
    BY_ID,
    responses=problem_responses(404, 409, 422, 503),
    summary="Change some fields of an article",
    description="A JSON merge patch: the fields given replace the stored ones, `null` clears "
    "an optional one, the others stay. `Newsdesk-Result` says `updated` or `unchanged`.",
)
def patch_article(
    article_id: ArticleId,
    changes: ArticlePatch,
    service: ArticlesDep,
    response: Response,
    refresh: Refresh = "false",
) -> ArticlePublic:
    result = service.patch(
        article_id, changes.model_dump(exclude_unset=True), wait=refresh == "wait"
    )
    response.headers["Newsdesk-Result"] = result.status
    _refreshed(response, result.indexed)
    return ArticlePublic.of(result.article)


@writes.delete(
    BY_ID,
    status_code=204,
    responses=problem_responses(404, 422),
    summary="Delete an article",
)
def delete_article(
    article_id: ArticleId, service: ArticlesDep, refresh: Refresh = "false"
) -> Response:
    done = Response(status_code=204)
    _refreshed(done, service.delete(article_id, wait=refresh == "wait"))
    return done


@reads.get(
    BY_ID + "/similar", responses=problem_responses(404, 422), summary="Articles like this one"
)
def similar_articles(
    article_id: ArticleId,
    search: SearchDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SimilarResponse:
    hits = search.similar(article_id, limit=limit)
    return SimilarResponse(
        id=article_id,
        hits=[
            SearchHit(
                id=h.article.id or 0,
                title=h.article.title,
                snippet=h.snippet,
                published_at=h.article.published_at,
                language=h.article.language,
                source=h.article.source,
                url=h.article.url,
                score=h.score,
            )
            for h in hits
        ],
    )
