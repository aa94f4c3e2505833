"""API keys: who may read and write, decided once, before any body is read.

`KeyGuard` answers 401/403 from the request line and headers alone, so a client without a key
cannot make the server read or parse a body. The route dependencies in `deps` apply the same
decision again (and declare the security scheme in the OpenAPI document).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.errors import problem
from app.config import Settings

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def key_matches(given: str, keys: list[str]) -> bool:
    """Whether `given` is one of `keys`, in time that does not depend on where they differ."""
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer TOKEN` header, or ""."""
    scheme, _, token = (authorization or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def refusal(settings: Settings, *, write: bool, token: str) -> Refusal | None:
    """Why this token may not read (or write), or None when it may."""
    if write:
        if not settings.api_keys or key_matches(token, settings.api_keys):
            return None  # no keys: open writes, which `newsdesk serve` allows on loopback only
        if token and key_matches(token, settings.read_keys):
            return Refusal(403, "this key may only read; writes need a key from NEWSDESK_API_KEYS")
        return Refusal(401, "a valid API key is required: send `Authorization: Bearer KEY`")
    if not settings.read_keys:
        return None
    if key_matches(token, settings.read_keys) or key_matches(token, settings.api_keys):
        return None
    return Refusal(401, "reads need an API key here: send `Authorization: Bearer KEY`")


class KeyGuard:
    """Refuses requests under /v1/ without the key their method needs, before the body is read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not (path == "/v1" or path.startswith("/v1/")):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin-1")
        write = scope["method"] not in READ_METHODS
        refused = refusal(self.settings, write=write, token=bearer_token(authorization))
        if refused is None:
            await self.app(scope, receive, send)
            return
        headers = CHALLENGE if refused.status == 401 else None
        await problem(refused.status, refused.detail, headers=headers)(scope, receive, send)
