"""Hardening of the service that needs no pipeline (issue 20): read deadlines, start-up errors, guards."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from imtrans.errors import ConfigError
from imtrans.serve.guards import API_CSP, PAGE_CSP, SameOrigin, SecurityHeaders
from imtrans.serve.jobs import JobStore
from imtrans.serve.server import bind, make_server

IMTRANS = Path(sys.executable).parent / "imtrans"


async def _echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"bytes": len(body)})


def _app() -> Starlette:
    return Starlette(routes=[Route("/", _echo, methods=["GET", "POST"])])


@pytest.fixture
def server() -> Iterator[int]:
    """A real uvicorn on a free port with short read deadlines (0.5 s headers, 1.5 s body)."""
    sock = bind("127.0.0.1", 0)
    srv = make_server(_app(), header_timeout=0.5, body_timeout=1.5, log_level="warning")
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.02)
    yield sock.getsockname()[1]
    srv.should_exit = True
    thread.join(10)


def _closed_within(conn: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `conn` (reading EOF), or None if it stayed open."""
    conn.settimeout(seconds)
    start = time.monotonic()
    try:
        while conn.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


# -- item 11: slow requests are cut off -----------------------------------------------------------
def test_a_request_whose_headers_trickle_in_is_closed_after_the_header_deadline(server):
    with socket.create_connection(("127.0.0.1", server)) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        assert _closed_within(conn, 5) is not None


def test_a_body_that_stops_arriving_is_closed_after_the_body_deadline(server):
    with socket.create_connection(("127.0.0.1", server)) as conn:
        conn.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        took = _closed_within(conn, 6)
        assert took is not None and took >= 1.0


def test_prompt_requests_and_keep_alive_are_not_cut_off(server):
    with socket.create_connection(("127.0.0.1", server)) as conn:
        for _ in range(2):  # the second request on the same connection after the first's deadline
            conn.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")
            conn.settimeout(5)
            answer = b""
            while b'{"bytes":5}' not in answer:
                chunk = conn.recv(4096)
                assert chunk, f"closed after {answer!r}"
                answer += chunk
            time.sleep(0.8)


def test_many_slow_connections_are_all_closed(server):
    conns = [socket.create_connection(("127.0.0.1", server)) for _ in range(40)]
    try:
        for c in conns:
            c.sendall(b"GET / HTTP/1.1\r\n")
        assert all(_closed_within(c, 5) is not None for c in conns)
    finally:
        for c in conns:
            c.close()


# -- item 13: start-up errors are one line --------------------------------------------------------
def test_a_busy_port_is_a_config_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(ConfigError, match="cannot listen on 127.0.0.1"):
            bind("127.0.0.1", busy.getsockname()[1])


def test_a_corrupt_job_database_is_a_config_error(tmp_path):
    db = tmp_path / "jobs.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigError, match="not a usable job database"):
        JobStore(db)


@pytest.mark.parametrize("problem", ["corrupt-db", "busy-port"])
def test_serve_start_up_errors_are_one_line_without_a_traceback(tmp_path, problem):
    db = tmp_path / "jobs.sqlite3"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        if problem == "corrupt-db":
            db.write_bytes(b"garbage" * 200)
            port = 0
        proc = subprocess.run(
            [str(IMTRANS), "serve", "--port", str(port), "--db", str(db), "--workers", "1"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("imtrans: error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert ("not a usable job database" if problem == "corrupt-db" else "cannot listen on") in lines[0]


# -- item 14: headers and the same-origin guard (on a bare app; component/test_hardening_serve.py covers the real one) --
def _guarded(enabled: bool = True) -> TestClient:
    app = SecurityHeaders(
        SameOrigin(_app(), host="127.0.0.1", cors_origins=["https://ok.example"], enabled=enabled)
    )
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_every_answer_says_nosniff_and_has_a_csp():
    r = _guarded().get("/")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-security-policy"] == PAGE_CSP
    assert _guarded().post("/", content=b"x").headers["content-security-policy"] == PAGE_CSP
    assert API_CSP.startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 200),
        ({"Origin": "http://127.0.0.1:8000"}, 200),  # the server's own page
        ({"Origin": "https://ok.example"}, 200),  # a configured CORS origin
        ({"Origin": "https://evil.example"}, 403),  # a cross-site form post
        ({"Origin": "null"}, 403),  # a sandboxed frame or a data: page
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Host": "evil.example:8000"}, 403),  # DNS rebinding
        ({"Host": "localhost:8000"}, 200),
        ({"Host": "192.168.1.20:8000"}, 200),  # by address, from the LAN
    ],
)
def test_without_a_token_cross_site_requests_and_foreign_hosts_are_refused(headers, status):
    r = _guarded().post("/", content=b"x", headers=headers)
    assert r.status_code == status
    if status == 403:
        assert set(r.json()) == {"error"} and r.headers["x-content-type-options"] == "nosniff"
    assert _guarded(enabled=False).post("/", content=b"x", headers=headers).status_code == 200
