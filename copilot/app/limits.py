"""Byte caps on request bodies, counted on the stream: a chunked body is held to the same limit as one with a
Content-Length, and is refused with 413 as soon as it passes the limit (it is never read to the end)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import CopilotError, PayloadTooLargeError


class BodyLimit:
    """ASGI middleware: ``limit_for(path)`` gives the cap in bytes (None: no body expected to be capped)."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None],
                 respond: Callable[[CopilotError], Response]) -> None:
        self.app = app
        self.limit_for = limit_for
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await self._refuse(scope, receive, send, CopilotError(
                    "Content-Length 不合法", message_en="invalid Content-Length", code="bad_request", status=400))
                return
            if declared > limit:
                await self._refuse(scope, receive, send, _too_large(limit))
                return
        body = bytearray()
        while True:  # read the body as it arrives, counting bytes whatever the framing
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(scope, receive, send, _too_large(limit))
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: CopilotError) -> None:
        response = self.respond(exc)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)


def _too_large(limit: int) -> PayloadTooLargeError:
    size = f"{limit // 1024 // 1024} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return PayloadTooLargeError(f"请求体过大，上限 {size}", message_en=f"request body too large (max {size})",
                                hint="分块传输（chunked）的请求体同样计入上限")


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then whatever the client sends next (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class Gate:
    """Pure ASGI: ``check`` may answer a request before the app does (no key: 401, too many: 429); every reply,
    refused or not, carries ``headers``. One plain function call per request instead of the two
    ``BaseHTTPMiddleware`` layers (a task and a memory stream each) it replaces."""

    def __init__(self, app: ASGIApp, check: Callable[[Request], Response | None], headers: dict[str, str]) -> None:
        self.app = app
        self.check = check
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        refusal = self.check(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
