"""/docs (Swagger UI) and /redoc, with every file they load served from here.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, and fonts from Google: blank pages on
a closed network. The files come from the fastapi-offline wheel (Swagger UI 5 and ReDoc 3,
MIT), mounted under /static/docs. ReDoc's bundle still asks Redocly's CDN for the logo of its
"API docs by Redocly" line; the pages' Content-Security-Policy keeps the browser to this
server, so nothing is ever asked elsewhere (the logo is then left out, as ReDoc does when it
fails to load).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_URL = "/static/docs"
FILES = Path(fastapi_offline.__file__).parent / "static"
# Both pages start their viewer from an inline script; ReDoc styles inline and runs its search
# in a worker made from a blob.
POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'"
)


def _file(root: str, name: str) -> str:
    """The address of one of the pages' files, under the app's root path."""
    return f"{root}{STATIC_URL}/{name}"


def _closed(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = POLICY
    return page


def install(app: FastAPI) -> None:
    """Serve the two pages and their files; the app is built with docs_url=redoc_url=None."""
    app.mount(STATIC_URL, StaticFiles(directory=FILES), name="docs-files")
    title, openapi_url = app.title, app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _closed(
            get_swagger_ui_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{title} - Swagger UI",
                oauth2_redirect_url=f"{root}{redirect_url}",
                swagger_js_url=_file(root, "swagger-ui-bundle.js"),
                swagger_css_url=_file(root, "swagger-ui.css"),
                swagger_favicon_url=_file(root, "favicon.png"),
                swagger_ui_parameters=app.swagger_ui_parameters,
            )
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return _closed(get_swagger_ui_oauth2_redirect_html())

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _closed(
            get_redoc_html(
                openapi_url=f"{root}{openapi_url}",
                title=f"{title} - ReDoc",
                redoc_js_url=_file(root, "redoc.standalone.js"),
                redoc_favicon_url=_file(root, "favicon.png"),
                with_google_fonts=False,
            )
        )
