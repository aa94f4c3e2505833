"""The app factory. `app.main:app` is the ASGI app, configured from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import __version__
from app.api import (
    analyze,
    articles,
    docs,
    errors,
    health,
    home,
    limits,
    metrics,
    openapi,
    search,
)
from app.api.deps import KeyRequired
from app.api.head import HeadAsGet
from app.api.keys import KeyGuard
from app.api.limits import BodySizeLimit, JsonDepthLimit, RateLimit
from app.api.repeats import single_query_values
from app.config import Settings
from app.metrics import Metrics
from app.services.runtime import Runtime


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its lifespan opens the store and the index and runs the index writer."""
    settings = settings or Settings()
    counters = limits.counters(settings.rate_limit_storage) if settings.rate_limit else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in this many threads (anyio's default is 40): each thread keeps a
        # searcher with its own readers and caches, so threads cost memory, not only CPU.
        to_thread.current_default_thread_limiter().total_tokens = settings.threads
        runtime = Runtime.start(settings, app.state.metrics)
        app.state.runtime = runtime
        try:
            yield
        finally:
            runtime.stop()
            if counters is not None:
                await limits.close_counters(counters)

    app = FastAPI(
        title="Newsdesk",
        version=__version__,
        description=openapi.description(settings),
        lifespan=lifespan,
        docs_url=None,  # app/api/docs.py serves both pages without a CDN
        redoc_url=None,
        dependencies=[Depends(single_query_values)],
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    errors.install(app)
    # Security is declared where it is enforced: with no keys configured, operations carry none.
    app.include_router(articles.writes, dependencies=[KeyRequired] if settings.api_keys else [])
    reads = [KeyRequired] if settings.read_keys else []
    app.include_router(articles.reads, dependencies=reads)
    app.include_router(search.reads, dependencies=reads)
    app.include_router(analyze.reads, dependencies=reads)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(home.router)
    docs.install(app)
    openapi.install(app, settings)
    # The last added runs first: CORS, HEAD as GET, the request metrics, the rate limit, the
    # keys, the body bounds.
    app.add_middleware(JsonDepthLimit, max_depth=settings.max_json_depth)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(KeyGuard, settings=settings)  # before any byte of a body is read
    if counters is not None:
        app.add_middleware(
            RateLimit,
            limit=settings.rate_limit,
            storage=counters,
            keys=[*settings.api_keys, *settings.read_keys],
            exempt=settings.rate_limit_exempt,
        )
    # Outside the limits, so that a 429, a 401 or a 413 is counted and timed like any answer;
    # inside HeadAsGet, whose GET carries the route matched (a HEAD is counted as its GET).
    app.add_middleware(metrics.RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(HeadAsGet)  # outside the rest: HEAD is a GET to every one of them
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Location", "Newsdesk-Refresh", "Newsdesk-Result", "Retry-After"],
        )
    return app


app = create_app()
