"""GET /health: is the store reachable, is the index open, how much work is pending."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response

from app.api.deps import RuntimeDep
from app.api.schemas import HealthResponse, IndexHealth, StoreHealth
from app.store import articles as store
from app.store.db import log_failure

router = APIRouter(tags=["health"])
log = logging.getLogger("newsdesk.health")


@router.get(
    "/health",
    summary="Health of the store and the index",
    description="200 when `status` is `ok`; 503, with the same body, when it is `degraded` (the "
    "store cannot be reached, or the index is not open or its writer has failed), so that a "
    "load balancer or an orchestrator that reads only the status code takes the node out.",
    responses={503: {"model": HealthResponse, "description": "Degraded"}},
)
def health(runtime: RuntimeDep, response: Response) -> HealthResponse:
    answer = report(runtime)
    if answer.status != "ok":
        response.status_code = 503
    return answer


def report(runtime: RuntimeDep) -> HealthResponse:
    """The health of the store and the index, read now (also what /metrics reports)."""
    articles = pending = documents = segments = None
    try:
        with runtime.db.reading() as session:
            articles = store.count_articles(session=session)
            pending = store.count_pending(session=session)
    except Exception as exc:
        log_failure(log, "store health check failed", exc)
    writer, searchers = runtime.writer, runtime.searchers
    if writer is None or searchers is None:  # PostgreSQL search: the store is the index
        return HealthResponse(
            status="ok" if articles is not None else "degraded",
            store=StoreHealth(ok=articles is not None, articles=articles),
            index=IndexHealth(ok=articles is not None, documents=articles, pending=0),
        )
    try:
        searcher = searchers.get()
        documents = int(searcher.doc_count())
        segments = len(searcher.reader().leaf_readers())
    except Exception:
        log.exception("index health check failed")
    index_ok = documents is not None and writer.alive and writer.last_error is None
    ok = articles is not None and index_ok
    return HealthResponse(
        status="ok" if ok else "degraded",
        store=StoreHealth(ok=articles is not None, articles=articles),
        index=IndexHealth(
            ok=index_ok,
            documents=documents,
            pending=pending,
            segments=segments,
            merging=writer.merging,
        ),
    )
