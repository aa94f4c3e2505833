"""GET /: what this server is and where to go, as a small page or as JSON."""

from __future__ import annotations

from html import escape
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app import __version__

router = APIRouter(include_in_schema=False)

LINKS = {
    "docs": ("/docs", "Interactive API documentation (Swagger UI): try every operation"),
    "redoc": ("/redoc", "Reference documentation (ReDoc)"),
    "openapi": ("/openapi.json", "The OpenAPI document, for clients and code generators"),
    "health": ("/health", "Health of the store and the index, and how much is left to index"),
    "search": ("/v1/search?q=cor%C3%A9e", "A search, as JSON"),
}

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Newsdesk</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto;
       padding: 0 1rem; color: #1a1a1a; }}
h1 {{ margin-bottom: 0; }} p.version {{ margin-top: 0; color: #555; }}
dt {{ margin-top: 0.8rem; }} dd {{ margin-left: 0; color: #444; }}
code {{ background: #f2f2f2; padding: 0 0.2rem; }}
</style>
</head>
<body>
<h1>Newsdesk</h1>
<p class="version">version {version}</p>
<p>A search service for news archives: ingest articles, fetch them by id, list them by date,
and search them in full text, accent-insensitive and stemmed per language.</p>
<dl>
{links}
</dl>
<p>From a script: <code>curl '{origin}/v1/search?q=cor%C3%A9e'</code></p>
</body>
</html>
"""


def wants_json(request: Request) -> bool:
    """Whether the client asks for JSON rather than a page: `application/json` listed, and
    before `text/html` if both are (a browser asks for HTML first)."""
    accept = request.headers.get("accept", "").lower()
    json_at, html_at = accept.find("application/json"), accept.find("text/html")
    return json_at >= 0 and (html_at < 0 or json_at < html_at)


@router.get("/")
def home(request: Request) -> Response:
    if wants_json(request):
        return JSONResponse(
            {
                "name": "Newsdesk",
                "version": __version__,
                "links": {
                    name: {"href": href, "title": title} for name, (href, title) in LINKS.items()
                },
            }
        )
    links = "\n".join(
        f'<dt><a href="{escape(href)}">{escape(unquote(href))}</a></dt><dd>{escape(title)}</dd>'
        for href, title in LINKS.values()
    )
    origin = escape(str(request.base_url).rstrip("/"))
    return HTMLResponse(_PAGE.format(version=escape(__version__), links=links, origin=origin))
