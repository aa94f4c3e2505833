"""Failures that services report and the API turns into problem+json responses."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A failure with an HTTP status, a short title and a detail for the client."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"


class Overloaded(ServiceError):
    status = 503
    title = "Service unavailable"


class BadQuery(ServiceError):
    status = 400
    title = "Invalid query"


class InvalidInput(ServiceError):
    status = 422
    title = "Validation failed"
