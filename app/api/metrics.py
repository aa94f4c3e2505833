"""GET /metrics, and the middleware that times every request for it."""

from __future__ import annotations

import re
import time

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.deps import RuntimeDep
from app.api.health import report
from app.metrics import Metrics

router = APIRouter(tags=["health"])

_UNMATCHED = "(unmatched)"  # a 404's path is not a label: every typo would be a new series
_CONVERTER = re.compile(r":\w+}")  # /v1/articles/{article_id:int} reads {article_id}
# HTTP lets a client invent methods; each would be a series of its own
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    description="The Prometheus text format: requests by route and status with latency "
    "histograms, search latency by kind, result-cache lookups, articles in the store and the "
    "index, pending articles, indexed articles (their rate is the indexing rate), commits and "
    "merges. Summed over every process of the server.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(runtime: RuntimeDep, request: Request) -> Response:
    health = report(runtime)

    def state() -> dict[str, float | None]:
        return {
            "newsdesk_store_articles": health.store.articles,
            "newsdesk_index_documents": health.index.documents,
            "newsdesk_index_pending": health.index.pending,
            "newsdesk_index_segments": health.index.segments,
            "newsdesk_index_merging": health.index.merging,
            "newsdesk_up": health.status == "ok",
        }

    counted: Metrics = request.app.state.metrics
    body, media_type = counted.exposition(state, request.headers.get("accept", ""))
    return Response(body, media_type=media_type)


def _search_kind(scope: Scope, route: str) -> str | None:
    if route == "/v1/search":
        query = scope.get("query_string", b"")
        return "query" if any(p.startswith(b"q=") for p in query.split(b"&")) else "browse"
    if route == "/v1/articles/{article_id}/similar":
        return "similar"
    return None


class RequestMetrics:
    """Counts every response by method, route template and status, and times it."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        status = 500  # what the server answers if the app raises before its response starts

        async def counting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            elapsed = time.perf_counter() - started
            matched = scope.get("route")
            route = _CONVERTER.sub("}", getattr(matched, "path", None) or _UNMATCHED)
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.request_seconds.labels(method, route).observe(elapsed)
            kind = _search_kind(scope, route)
            if kind is not None and status == 200:
                self.metrics.search_seconds.labels(kind).observe(elapsed)
