"""The app factory. `app.main:app` is the ASGI app, configured from the environment."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app import __version__
from app.api import articles, errors, health, search
from app.api.limits import BodySizeLimit
from app.config import Settings
from app.services.runtime import Runtime

DESCRIPTION = """
Search API for news archives: ingest articles (JSON, NDJSON, raw text), fetch them by id, list
them by date, and search them in full text — accent-insensitive and stemmed per language, so
`coree` finds « Corée ».

Writes need `Authorization: Bearer KEY` when keys are configured (the **Authorize** button).
Every error is `application/problem+json`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; its lifespan opens the store and the index and runs the index writer."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(
        title="Newsdesk",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    errors.install(app)
    app.include_router(articles.router)
    app.include_router(search.router)
    app.include_router(health.router)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    return app


app = create_app()
