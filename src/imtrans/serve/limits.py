"""A cap on request bodies, enforced while they arrive, before anything is parsed or spooled."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: answer 413 to a request whose body is over `max_bytes`.

    A declared Content-Length over the limit is refused at once; a body that grows past the
    limit while streaming (chunked, or a lying header) is cut off there, and whatever the app
    answers to the cut-off body is replaced by the 413.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(
                send, f"request body is {int(declared)} bytes, over the limit of {self.max_bytes}"
            )
            return
        received = 0
        refused = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal refused
            if received <= self.max_bytes:
                await send(message)
            elif not refused and message["type"] == "http.response.start":
                refused = True
                await self._refuse(send, f"request body is over the limit of {self.max_bytes} bytes")

        try:
            await self.app(scope, counting_receive, guarded_send)
        except _TooLarge:
            if not refused:
                await self._refuse(send, f"request body is over the limit of {self.max_bytes} bytes")

    @staticmethod
    async def _refuse(send: Send, message: str) -> None:
        body = json.dumps({"error": message}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
