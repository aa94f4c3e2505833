"""The OpenAPI document, completed with what depends on the configuration.

Routes declare the statuses their own code returns. The statuses that middleware, keys and
configured bounds add (413, 429, 401/403, 500, the JSON-nesting 400) and the configured maxima
(page size, paging depth, query length, bulk size) are added here, from the same `Settings` the
app enforces, so the document never promises more or less than the server does.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.api.deps import max_pages
from app.api.limits import RATE_LIMIT_EXEMPT
from app.api.schemas import problem_responses
from app.config import Settings

_BODY_METHODS = {"post", "put", "patch"}


def _declare(operation: dict[str, Any], *statuses: int) -> None:
    responses = operation.setdefault("responses", {})
    for status, spec in problem_responses(*statuses).items():
        responses.setdefault(str(status), spec)


def _set_parameter_bounds(operation: dict[str, Any], bounds: dict[str, dict[str, int]]) -> None:
    for parameter in operation.get("parameters", []):
        extra = bounds.get(parameter.get("name", ""))
        if extra and parameter.get("in") == "query":
            parameter["schema"].update(extra)


def amend(schema: dict[str, Any], settings: Settings) -> None:
    """Add the configured statuses and bounds to a generated OpenAPI document, in place."""
    bounds = {
        "page_size": {"maximum": settings.max_page_size},
        "page": {"maximum": max_pages(settings)},
        "q": {"maxLength": settings.query_max_chars},
    }
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _declare(operation, 500)
            if settings.rate_limit and path not in RATE_LIMIT_EXEMPT:
                _declare(operation, 429)
            _set_parameter_bounds(operation, bounds)
            if not path.startswith("/v1/"):
                continue
            if method in _BODY_METHODS:
                _declare(operation, 400, 413)  # unparseable or too deeply nested; too large
                if settings.api_keys:
                    _declare(operation, 401, 403)
            elif method == "delete" and settings.api_keys:
                _declare(operation, 401, 403)
            elif settings.read_keys:
                _declare(operation, 401)
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body and body["schema"].get("type") == "array":
                body["schema"]["maxItems"] = settings.bulk_max_items


def install(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the amended document (built once, then cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            amend(generate(), settings)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
