"""A query parameter the document declares once is refused when it comes twice.

FastAPI keeps the last of `?source=a&source=b` for a single-valued parameter and drops the
others silently; the client meant something the server did not do. The operation's parameters
that take several values (`language` of /v1/analyze, the list filters) are arrays in the
OpenAPI document: those may repeat, the others get 422 naming the parameter. A parameter no
operation declares is ignored, repeated or not.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import Request

from app.services.errors import InvalidInput

_SINGLE = "newsdesk_single_valued_query"


def _is_array(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "array":
        return True
    return any(_is_array(s) for key in ("anyOf", "oneOf", "allOf") for s in schema.get(key, []))


def _single_valued(request: Request) -> dict[tuple[str, str], set[str]]:
    """Per (path template, method), the query parameters that take one value."""
    state = request.app.state
    known: dict[tuple[str, str], set[str]] | None = getattr(state, _SINGLE, None)
    if known is None:
        known = {
            (path, method.upper()): {
                p["name"]
                for p in operation.get("parameters", [])
                if p.get("in") == "query" and not _is_array(p.get("schema"))
            }
            for path, operations in request.app.openapi().get("paths", {}).items()
            for method, operation in operations.items()
        }
        setattr(state, _SINGLE, known)
    return known


async def single_query_values(request: Request) -> None:
    """422 for a single-valued query parameter given more than once (async: no thread hop)."""
    counts = Counter(key for key, _ in request.query_params.multi_items())
    repeated = {key for key, n in counts.items() if n > 1}
    if not repeated:
        return
    route = request.scope.get("route")
    single = _single_valued(request).get((getattr(route, "path", ""), request.method), set())
    refused = sorted(repeated & single)  # parameters nobody declared are ignored, as always
    if refused:
        message = "given more than once; it takes one value"
        errors = [{"loc": ["query", n], "msg": message, "type": "value_error"} for n in refused]
        raise InvalidInput(f"`{refused[0]}` is {message}", errors=errors)
