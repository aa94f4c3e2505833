"""HEAD wherever GET: FastAPI's routes answer GET only, and HEAD got 405.

A HEAD request runs as its GET would, through every middleware and route, and the response's
status and headers (Content-Length included, as the GET would send) go out without the body.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        finished = False

        async def headless_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.body":
                if finished:
                    return
                finished = not message.get("more_body", False)
                if not finished:
                    return  # the rest of a streamed body is dropped as it comes
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headless_send)
