"""ASGI middleware bounding what a client can make the server do: body size, JSON nesting, rate.

Each answers with problem+json before the request reaches a route. Body size and nesting are
checked while the body streams in, so chunked bodies without a length are bounded too.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Collection

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import StorageTypes, storage_from_string
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.addresses import is_loopback
from app.api.errors import problem
from app.api.keys import bearer_token, key_matches

log = logging.getLogger("newsdesk.api")

# Health checks of load balancers and orchestrators are never throttled.
RATE_LIMIT_EXEMPT = frozenset({"/health", "/metrics"})  # probes and scrapers
_CLOSE = {"Connection": "close"}  # the rest of a refused body is not read


class BodyRejected(HTTPException):
    """Raised from `receive`: FastAPI lets HTTPExceptions through its body parsing untouched."""


class _Guarded:
    """Runs the app with a checking `receive`; answers the rejection if nothing was sent yet."""

    app: ASGIApp

    async def run(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except BodyRejected as exc:
            if started:
                raise
            await problem(exc.status_code, exc.detail, headers=_CLOSE)(scope, receive, send)


class BodySizeLimit(_Guarded):
    """413 once a body passes `max_bytes`, whether declared by Content-Length or chunked."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _too_large(self) -> BodyRejected:
        return BodyRejected(413, f"the request body is larger than {self.max_bytes} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                detail = self._too_large().detail
                await problem(413, detail, headers=_CLOSE)(scope, receive, send)
                return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._too_large()
            return message

        await self.run(scope, limited_receive, send)


class _NestingScanner:
    """Tracks how deep `[`/`{` nest in a JSON text fed in chunks, skipping strings."""

    _OUTSIDE = re.compile(rb'[\[\]{}"]')
    _INSIDE = re.compile(rb'[\\"]')

    def __init__(self) -> None:
        self.depth = 0
        self.deepest = 0
        self._in_string = False
        self._escaped = False

    def feed(self, chunk: bytes) -> int:
        """Scan one chunk; returns the deepest nesting seen so far."""
        pos, end = 0, len(chunk)
        while pos < end:
            if self._escaped:
                self._escaped = False
                pos += 1
                continue
            if self._in_string:
                match = self._INSIDE.search(chunk, pos)
                if match is None:
                    break
                self._escaped = match.group() == b"\\"
                self._in_string = self._escaped
                pos = match.end()
                continue
            match = self._OUTSIDE.search(chunk, pos)
            if match is None:
                break
            token, pos = match.group(), match.end()
            if token == b'"':
                self._in_string = True
            elif token in (b"[", b"{"):
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
            else:
                self.depth = max(0, self.depth - 1)
        return self.deepest


def media_type(content_type: str) -> str:
    """`application/json` of `Application/JSON; charset=utf-8`, as all of the app reads it."""
    return content_type.split(";")[0].strip().lower()


def _scanned(scope: Scope) -> bool:
    """Every body is scanned but text and multipart ones: FastAPI parses some untyped ones."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = media_type(value.decode("latin-1"))
            return not (media == "text/plain" or media.startswith("multipart/"))
    return True


class JsonDepthLimit(_Guarded):
    """400 for a JSON (or NDJSON) body nesting arrays and objects deeper than `max_depth`.

    Parsers recurse on nesting; refusing deep bodies before parsing keeps them cheap. The scan
    reads UTF-8 bytes, so a body with a NUL byte (UTF-16 or UTF-32 text, which Python's JSON
    parser would take) is refused too: no JSON text in UTF-8 has one.
    """

    def __init__(self, app: ASGIApp, max_depth: int) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _scanned(scope):
            await self.app(scope, receive, send)
            return
        scanner = _NestingScanner()

        async def scanning_receive() -> Message:
            message = await receive()
            chunk = message.get("body", b"") if message["type"] == "http.request" else b""
            if b"\x00" in chunk:
                raise BodyRejected(400, "the body is not UTF-8 JSON (it holds a NUL byte)")
            if scanner.feed(chunk) > self.max_depth:
                raise BodyRejected(400, f"the JSON body nests deeper than {self.max_depth} levels")
            return message

        await self.run(scope, scanning_receive, send)


def counters(storage: str) -> StorageTypes:
    """The async storage of the counters named by a URI: `memory://`, or `redis://…` through
    redis-py (a dependency; limits' default async Redis client, coredis, is not installed)."""
    uri = storage if storage.startswith("async+") else f"async+{storage}"
    if uri.startswith("async+redis"):  # redis://, rediss://, redis+sentinel://…
        return storage_from_string(uri, implementation="redispy")
    return storage_from_string(uri)


async def close_counters(storage: StorageTypes) -> None:
    """Close the connections of a Redis storage (memory has none)."""
    client = getattr(getattr(storage, "bridge", None), "storage", None)
    if client is not None and hasattr(client, "aclose"):
        await client.aclose()


class RateLimit:
    """429 with Retry-After past `limit` requests per API key, or per client address without one.

    Counting is the `limits` library's moving window; with `memory://` each server process counts
    on its own, with a shared storage (`redis://…`) all of them count together.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: str,
        storage: StorageTypes,
        keys: list[str],
        exempt: Collection[str] = (),
    ) -> None:
        self.app = app
        self.items: list[RateLimitItem] = parse_many(limit)
        self.limiter = MovingWindowRateLimiter(storage)
        self.keys = keys
        self.exempt_loopback = "loopback" in exempt
        self.exempt_keys = "keys" in exempt

    def _identity(self, scope: Scope) -> str | None:
        """The bucket a request counts in; None when it is not counted."""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                token = bearer_token(value.decode("latin-1"))
                if token and key_matches(token, self.keys):
                    if self.exempt_keys:
                        return None
                    # The key itself is never kept, only a digest naming its bucket.
                    return "key:" + hashlib.sha256(token.encode()).hexdigest()[:24]
        client = scope.get("client")
        address = client[0] if client else "unknown"
        if self.exempt_loopback and is_loopback(address):
            return None
        return "addr:" + address

    async def _retry_after(self, item: RateLimitItem, who: str) -> int:
        stats = await self.limiter.get_window_stats(item, who)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in RATE_LIMIT_EXEMPT:
            await self.app(scope, receive, send)
            return
        who = self._identity(scope)
        if who is None:
            await self.app(scope, receive, send)
            return
        try:
            for item in self.items:
                if not await self.limiter.hit(item, who):
                    retry = await self._retry_after(item, who)
                    detail = f"more than {item} requests; retry in {retry} s"
                    headers = {"Retry-After": str(retry)}
                    await problem(429, detail, headers=headers)(scope, receive, send)
                    return
        except Exception:  # the counters' storage is down: serve rather than refuse everyone
            log.exception("rate limiting skipped: its storage failed")
        await self.app(scope, receive, send)
