"""The HTTP server around the app: uvicorn, a socket bound before the pipelines load, and read deadlines.

- **Bind first.** The listening socket is opened before the pipelines load, so a busy port
  is one line at once, not a traceback after a minute of loading models.
- **Read deadlines.** uvicorn closes idle keep-alive connections but waits for ever on a
  request that arrives slowly (a client sending a header line every few seconds holds a
  connection and its memory for as long as it likes). `TimedH11Protocol` gives each
  request `header_timeout` seconds for its request line and headers and `body_timeout`
  seconds, from its first byte, for its whole body; past them the connection is closed.
  The response is not timed: a `?wait=true` request may wait for its job as long as it takes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from imtrans.errors import ConfigError

log = logging.getLogger(__name__)

#: Seconds a request may take to send its request line and headers.
HEADER_TIMEOUT = 10.0
#: Seconds a request may take, from its first byte, to send its whole body (20 MB at 170 kB/s).
BODY_TIMEOUT = 120.0


def timed_protocol(
    header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT
) -> type[H11Protocol]:
    """uvicorn's h11 protocol with read deadlines of these lengths (a class: uvicorn builds one per connection)."""

    class TimedH11Protocol(H11Protocol):
        _deadline: asyncio.TimerHandle | None = None
        _after: Any = None  # the cycle (request) before the one being timed; None for the first
        _started = 0.0

        def data_received(self, data: bytes) -> None:
            if self._deadline is None or (
                self.cycle is not None and self.cycle.response_complete and self.cycle is not self._after
            ):
                self._arm(self.cycle, time.monotonic(), header_timeout)
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None
            super().connection_lost(exc)

        def _arm(self, after: Any, started: float, delay: float) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._after, self._started = after, started
            self._deadline = self.loop.call_later(delay, self._check)

        def _check(self) -> None:
            self._deadline = None
            cycle = self.cycle
            if self.transport.is_closing():
                return
            if cycle is None or cycle is self._after:
                self._close("its headers")
            elif cycle.more_body:
                left = self._started + body_timeout - time.monotonic()
                if left > 0:
                    self._arm(self._after, self._started, left)  # headers in time; the body has until then
                else:
                    self._close("its body")

        def _close(self, what: str) -> None:
            client = f"{self.client[0]}:{self.client[1]}" if self.client else "a client"
            log.info("closing the connection of %s: it did not send %s in time", client, what)
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True
                self.cycle.message_event.set()
            self.transport.close()

    return TimedH11Protocol


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv6 where the host is an IPv6 address).

    Raises:
        ConfigError: the address cannot be used (the port is taken, the host is not this machine's).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(2048)
    except OSError as e:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.set_inheritable(True)
    return sock


def make_server(
    app: Any, header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT, **config: Any
) -> uvicorn.Server:
    """A uvicorn server for `app` with the read deadlines (extra keywords go to `uvicorn.Config`)."""
    settings = {"log_level": "info", "timeout_keep_alive": 5, **config}
    return uvicorn.Server(uvicorn.Config(app, http=timed_protocol(header_timeout, body_timeout), **settings))
