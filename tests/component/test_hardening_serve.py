"""Hardening of the service on the real pipeline (issue 20), through the in-process client, no token.

The client speaks to the app as the browser on the same machine does (Host 127.0.0.1), so the
same-origin guard of a token-less server is in force throughout.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from imtrans.serve import service as service_module
from imtrans.serve.app import create_app
from imtrans.serve.guards import API_CSP, DOCS_CSP, PAGE_CSP
from imtrans.serve.service import MAX_EDIT_CHARS
from imtrans.settings import ServeSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
SIGN = ROOT / "examples" / "sign_ko.png"
GLOSSARY = (ROOT / "examples" / "glossary.csv").read_bytes()
TOKEN_ENV = "IMTRANS_TEST_HARDENING_TOKEN"  # never set: this server has no token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    folder = tmp_path_factory.mktemp("serve-hardening")
    settings = Settings().with_overrides(
        {"image.max_pixels": 2_000_000, "translate.cache_path": str(folder / "c.db")}
    )
    serve = ServeSettings(db_path=folder / "jobs.sqlite3", workers=1, queue_limit=6, token_env=TOKEN_ENV)
    app = create_app(settings, serve)
    with TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as c:
        yield c


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt, **params)
    return buf.getvalue()


def post(client: TestClient, image: bytes, glossary: bytes | None = GLOSSARY, wait: bool = True):
    files = {"image": ("x", image)}
    if glossary is not None:
        files["glossary"] = ("g.csv", glossary)
    return client.post(
        "/v1/translate", params={"wait": str(wait).lower()}, files=files, data={"target": "en"}
    )


def one_line_error(r, status: int) -> str:
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error"} and "\n" not in r.json()["error"]
    return r.json()["error"]


@pytest.fixture(scope="module")
def grey16_job(client: TestClient) -> dict:
    """The issue's 16-bit grey PNG of the sign, translated."""
    import cv2

    grey = np.asarray(Image.open(SIGN).convert("L")).astype(np.uint16) * 257
    ok, png = cv2.imencode(".png", grey)
    assert ok
    r = post(client, png.tobytes())
    assert r.status_code == 200, r.text
    return r.json()


# -- item 5: a 16-bit grey PNG is translated, not a white page -------------------------------------
def test_result_files_have_the_mode_the_umask_gives(client, grey16_job):
    import stat

    from imtrans.imageio import current_umask

    folder = client.app.state.service.store.job_dir(grey16_job["id"])
    modes = {stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if p.is_file()}
    assert modes == {0o666 & ~current_umask()}


def test_a_16_bit_grey_png_is_read_and_translated(grey16_job):
    assert grey16_job["status"] == "done"
    texts = {b["text"]: (b["translation"] or {}).get("text") for b in grey16_job["page"]["blocks"]}
    assert texts.get("서울역") == "Seoul Station"


# -- item 2: the queue and the declared size before any decoding; decoding bounded ---------------
def test_a_full_queue_answers_503_without_decoding_the_upload(client, monkeypatch):
    decoded = []
    real = service_module.load_image
    monkeypatch.setattr(service_module, "load_image", lambda *a, **k: decoded.append(1) or real(*a, **k))
    pool = client.app.state.service.pool
    release = threading.Event()
    held = [pool.submit(lambda _w: release.wait(60)) for _ in range(pool.size + pool.queue_limit)]
    try:
        r = post(client, encode(Image.new("RGB", (1200, 1200), "white"), "JPEG"), wait=False)
        assert "try again later" in one_line_error(r, 503)
    finally:
        release.set()
    assert all(f.result(timeout=60) for f in held)
    assert decoded == []


def test_an_image_over_the_pixel_limit_is_refused_from_its_header(client, monkeypatch):
    decoded = []
    real = service_module.load_image
    monkeypatch.setattr(service_module, "load_image", lambda *a, **k: decoded.append(1) or real(*a, **k))
    big = encode(Image.new("L", (3000, 3000), 255), "PNG")  # 9 MP against the 2 MP limit, a few kB
    assert "over the limit" in one_line_error(post(client, big), 400)
    assert decoded == [] and client.get("/healthz").json()["pending"] == 0


def test_uploads_are_decoded_at_most_one_per_worker_at_once(client, monkeypatch):
    active, most = [0], [0]
    lock = threading.Lock()
    real = service_module.load_image

    def slow_decode(*args: object, **kwargs: object):
        if threading.current_thread().name.startswith("imtrans-worker"):
            return real(*args, **kwargs)  # a job's own decoding, on its worker
        with lock:
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.3)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(service_module, "load_image", slow_decode)
    blank = encode(Image.new("RGB", (64, 64), "white"), "PNG")
    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(post(client, blank, wait=False).status_code))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [202] * 5
    assert most[0] == client.app.state.service.pool.size == 1


# -- item 6: a corrupt AVIF is a 400 --------------------------------------------------------------
def test_any_decoder_failure_is_a_400_not_a_500(client):
    import random

    data = encode(Image.open(SIGN).convert("RGB").resize((64, 48)), "AVIF")
    rng = random.Random(0)
    statuses = set()
    for _ in range(12):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        r = post(client, bytes(mutated), wait=False)
        statuses.add(r.status_code)
        if r.status_code != 202:
            one_line_error(r, 400)
    assert 500 not in statuses


# -- item 9: a multi-page upload says that only its first page was translated -----------------------
def test_a_multi_page_tiff_upload_says_only_the_first_page_was_translated(client):
    pages = [Image.new("RGB", (64, 48), c) for c in ("white", "grey")]
    r = post(client, encode(pages[0], "TIFF", save_all=True, append_images=pages[1:]))
    assert r.status_code == 200, r.text
    codes = [d["code"] for d in r.json()["page"]["diagnostics"]]
    assert "extra_frames" in codes


# -- item 7: re-render has a bound on the translation's length ---------------------------------------
def test_a_huge_edited_translation_is_refused_at_once(client, grey16_job):
    start = time.monotonic()
    r = client.post(f"/v1/jobs/{grey16_job['id']}/render", json={"translations": {"b0": "x" * 1_000_000}})
    assert "over the limit" in one_line_error(r, 422)
    assert time.monotonic() - start < 5


def test_an_edit_at_the_limit_is_drawn_in_bounded_time(client, grey16_job):
    start = time.monotonic()
    words = ("Seoul Station " * (MAX_EDIT_CHARS // 14 + 1))[:MAX_EDIT_CHARS]
    r = client.post(f"/v1/jobs/{grey16_job['id']}/render", json={"translations": {"b0": words}})
    assert r.status_code == 200, r.text
    assert time.monotonic() - start < 60


# -- item 10: nested JSON ---------------------------------------------------------------------------
def test_a_deeply_nested_glossary_or_body_is_a_one_line_error(client, grey16_job):
    nested = ("[" * 100_000 + "]" * 100_000).encode()
    r = client.post(
        "/v1/translate",
        files={"image": ("x", SIGN.read_bytes()), "glossary": ("g.json", nested)},
        data={"target": "en"},
    )
    assert "nested too deeply" in one_line_error(r, 422)
    r = client.post(
        f"/v1/jobs/{grey16_job['id']}/render",
        content=b'{"translations": ' + nested + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422) and "\n" not in r.json()["error"]


def test_an_empty_uploaded_glossary_is_refused(client):
    r = post(client, SIGN.read_bytes(), glossary=b"source,target\n")
    assert "has no entries" in one_line_error(r, 422)


# -- item 14: headers, cross-site requests, foreign Host names ------------------------------------
def test_every_response_says_nosniff_with_a_csp_fit_for_it(client):
    for path, csp in (
        ("/", PAGE_CSP),
        ("/docs", DOCS_CSP),
        ("/v1/options", API_CSP),
        ("/v1/jobs/x", API_CSP),
    ):
        r = client.get(path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["content-security-policy"] == csp, path


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Host": "rebound.evil.example"}],
)
def test_without_a_token_cross_site_posts_and_foreign_hosts_are_refused(client, headers):
    r = client.post(
        "/v1/translate", files={"image": ("x", SIGN.read_bytes())}, data={"target": "en"}, headers=headers
    )
    one_line_error(r, 403)
    assert client.get("/v1/options", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 200
