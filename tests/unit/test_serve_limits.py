"""The request body cap: refused by its declared length, or cut off while it streams."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from imtrans.serve.limits import BodyLimit


async def echo_length(request: Request) -> JSONResponse:
    return JSONResponse({"received": len(await request.body())})


def client(limit: int) -> TestClient:
    app = Starlette(routes=[Route("/", echo_length, methods=["POST"])])
    return TestClient(BodyLimit(app, max_bytes=limit))


def test_a_body_within_the_limit_goes_through():
    r = client(100).post("/", content=b"x" * 100)
    assert r.status_code == 200 and r.json() == {"received": 100}


def test_a_declared_length_over_the_limit_is_refused_before_reading():
    r = client(100).post("/", content=b"x" * 101)
    assert r.status_code == 413
    assert r.json() == {"error": "request body is 101 bytes, over the limit of 100"}


def test_a_streamed_body_is_cut_off_at_the_limit():
    def chunks():
        for _ in range(10):
            yield b"x" * 50

    r = client(120).post("/", content=chunks())  # no Content-Length: chunked
    assert r.status_code == 413
    assert r.json() == {"error": "request body is over the limit of 120 bytes"}
