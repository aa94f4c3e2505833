"""Every error as application/problem+json (RFC 9457); no stack trace ever reaches a client."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.services.errors import ServiceError
from app.store.db import is_retryable, is_unavailable, unavailable_reason

log = logging.getLogger("newsdesk.api")
PROBLEM = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM)


def error_list(exc: ValidationError | RequestValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as `{"loc", "msg", "type"}`, without echoing the input back."""
    return [
        {
            "loc": [p if isinstance(p, int) else str(p) for p in err.get("loc", ())],
            "msg": str(err.get("msg", "")).removeprefix("Value error, "),
            "type": str(err.get("type", "")),
        }
        for err in exc.errors()
    ]


def json_position(body: bytes, offset: object) -> str:
    """`line 2, column 10` of a character offset into a body (FastAPI's JSON error names the
    offset only, as `body.24`)."""
    if not isinstance(offset, int):
        return "an unknown place"
    before = body.decode("utf-8", errors="replace")[:offset]
    line = before.count("\n") + 1
    column = offset - (before.rfind("\n") + 1) + 1
    return f"line {line}, column {column}"


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(ServiceError)
    async def _service(_request: Request, exc: ServiceError) -> JSONResponse:
        extra = dict(exc.extra)
        retry_after = extra.pop("retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
        return problem(exc.status, exc.detail, headers=headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = error_list(exc)
        for raw, error in zip(exc.errors(), errors, strict=True):
            if error["type"] == "json_invalid" and len(error["loc"]) == 2:
                where = json_position(await request.body(), error["loc"][1])
                reason = str((raw.get("ctx") or {}).get("error") or "it does not parse")
                error["msg"] = f"{reason} at {where}"
                return problem(422, f"the body is not valid JSON: {error['msg']}", errors=[error])
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
        return problem(422, f"invalid request: {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "no such resource"
        if exc.status_code == 405:
            if detail == "Method Not Allowed":
                detail = "this method is not allowed on this resource"
            # Starlette names only the first route matching the path; a path may have several.
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem(exc.status_code, detail, headers=headers)

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if is_retryable(exc):  # lost to a concurrent transaction, or to a standby's recovery
            log.warning("transaction to retry: %s", type(exc.orig).__name__)
            return problem(
                503,
                "the database cancelled this request in favour of another; retry it",
                headers={"Retry-After": "1"},
            )
        if is_unavailable(exc):  # PostgreSQL restarting, a replica down, connections spent
            log.warning("database unavailable: %s", unavailable_reason(exc))
            return problem(
                503,
                "the database cannot be reached right now; retry shortly",
                headers={"Retry-After": "5"},
            )
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        correlation = uuid.uuid4().hex
        log.error("unexpected error %s", correlation, exc_info=exc)
        return problem(
            500,
            "an unexpected error occurred; quote the correlation id",
            correlation_id=correlation,
        )
