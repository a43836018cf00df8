"""Guards every answer passes through: security headers, and the same-origin check of a server without a token.

- **Headers.** Every response says ``X-Content-Type-Options: nosniff`` (a browser never
  reads a served file as another type than the one declared) and carries a
  Content-Security-Policy: the page's (only its own files), the API docs' (Swagger UI's
  inline start-up script), or, for everything else (JSON, images), none at all.
- **Same origin, without a token.** A server without a bearer token trusts whoever can
  reach it, so a web page elsewhere must not be able to use it through the visitor's
  browser: a request whose ``Origin`` is not the server's own (nor a configured CORS
  origin) is refused, as is one a browser marks ``Sec-Fetch-Site: cross-site``; and the
  ``Host`` must be a literal IP address, ``localhost`` or the configured host, because a
  DNS-rebinding page reaches a local server under its own domain name. With a token,
  browsers cannot send it cross-site on their own, so these checks are not needed.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The web page: its own scripts and styles only.
PAGE_CSP = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
#: Swagger UI (fastapi-offline) starts with an inline script and inline styles.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
#: JSON and images: nothing to run, nothing to load, not to be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

_DOCS_PATHS = ("/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware: ``nosniff`` and a Content-Security-Policy on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        csp = PAGE_CSP if path == "/" else DOCS_CSP if path.startswith(_DOCS_PATHS) else API_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"
                ]
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"content-security-policy", csp.encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SameOrigin:
    """ASGI middleware for a server without a token: refuse cross-site requests and foreign Host names.

    Args:
        app: The app.
        host: The address the server listens on (a name given there is accepted as Host).
        cors_origins: Origins allowed to call the API from their pages.
        enabled: False when the server has a token (the checks are then the token's job).
    """

    def __init__(
        self, app: ASGIApp, host: str, cors_origins: Iterable[str] = (), enabled: bool = True
    ) -> None:
        self.app = app
        self.host = host.strip("[]").lower()
        self.cors_origins = {o.rstrip("/").lower() for o in cors_origins}
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return
        problem = self.problem(scope)
        if problem is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": problem}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 403, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def problem(self, scope: Scope) -> str | None:
        """Why this request is refused, or None."""
        headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get(b"host", "")
        if not self._host_allowed(host):
            return (
                f"Host {host!r} is not this server's; without a token only its address or localhost is served"
            )
        origin = headers.get(b"origin")
        if origin is not None and origin != "null":
            if origin.rstrip("/").lower() in self.cors_origins:
                return None
            if urlsplit(origin).netloc.lower() != host.lower():
                return "cross-site request refused (set a token to serve other sites' pages)"
        elif origin == "null" or headers.get(b"sec-fetch-site") == "cross-site":
            return "cross-site request refused (set a token to serve other sites' pages)"
        return None

    def _host_allowed(self, host: str) -> bool:
        name = urlsplit(f"//{host}").hostname or ""
        if name in ("localhost", self.host):
            return True
        try:
            ipaddress.ip_address(name)
        except ValueError:
            return False
        return True
