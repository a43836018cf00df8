"""The REST service through FastAPI's in-process client, on the real pipeline and a real job database."""

from __future__ import annotations

import io
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from psd_tools import PSDImage

from imtrans.export.svg import INKSCAPE_NS, SVG_NS
from imtrans.serve.app import create_app
from imtrans.serve.jobs import INTERRUPTED, JobStore
from imtrans.settings import ServeSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
SIGN = (ROOT / "examples" / "sign_ko.png").read_bytes()
GLOSSARY = (ROOT / "examples" / "glossary.csv").read_bytes()
TOKEN = "test-token-5f2c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TOKEN_ENV = "IMTRANS_TEST_API_TOKEN"

pytestmark = pytest.mark.slow


def serve_settings(folder: Path) -> ServeSettings:
    return ServeSettings(
        db_path=folder / "jobs.sqlite3",
        workers=1,
        queue_limit=1,
        max_upload_bytes=2_000_000,
        token_env=TOKEN_ENV,
    )


def pipeline_settings(folder: Path) -> Settings:
    return Settings().with_overrides(
        {"image.max_pixels": 1_000_000, "translate.cache_path": str(folder / "c.db")}
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("serve-api")


@pytest.fixture(scope="module")
def client(folder: Path) -> TestClient:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_ENV, TOKEN)
        app = create_app(pipeline_settings(folder), serve_settings(folder))
    with TestClient(app, headers=AUTH, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def done_job(client: TestClient) -> dict:
    r = client.post(
        "/v1/translate?wait=true",
        files={"image": ("sign.png", SIGN), "glossary": ("glossary.csv", GLOSSARY)},
        data={"target": "en"},
    )
    assert r.status_code == 200, r.text
    return r.json()


def translate(client: TestClient, image: bytes, **data: str) -> dict:
    return client.post("/v1/translate", files={"image": ("x.png", image)}, data=data)


def done_job_id(client: TestClient) -> str:
    """A job marked done straight in the store (no pipeline run)."""
    store: JobStore = client.app.state.service.store
    job_id = store.create({})
    store.finish(job_id, {"blocks": []})
    return job_id


def png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buf, "PNG")
    return buf.getvalue()


def one_line_error(r, status: int) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    return body["error"]


# -- the happy path ----------------------------------------------------------------------------
def test_a_translated_job_holds_the_page_and_links_to_its_files(done_job):
    assert done_job["status"] == "done"
    assert done_job["options"] == {
        "source": "auto",
        "target": "en",
        "translator": "glossary",
        "glossary": "uploaded",
        "width": 900,
        "height": 600,
        "check": "repair",
    }
    texts = {b["text"]: b["translation"]["text"] for b in done_job["page"]["blocks"] if b["translation"]}
    assert texts["서울역"] == "Seoul Station"
    # Each drawn block carries its checks' verdict, the page their summary.
    assert all(b["quality"]["passed"] for b in done_job["page"]["blocks"])
    assert done_job["page"]["check"]["passed"] == 3
    # The page records the settings it ran with, but not where the server keeps the upload.
    assert done_job["page"]["settings"]["translate"]["glossary"] == "glossary"
    assert set(done_job["files"]) == {
        "translated_png",
        "translated_webp",
        "erased_png",
        "original_png",
        "page_json",
    }
    assert set(done_job["layers"]) == {"svg", "psd"}


def test_a_job_is_answered_at_once_with_202_and_polled_until_done(client):
    r = client.post("/v1/translate", files={"image": ("s.png", SIGN), "glossary": ("g.csv", GLOSSARY)})
    assert r.status_code == 202
    job = r.json()
    assert job["status"] in ("queued", "running", "done")
    assert r.headers["location"] == f"/v1/jobs/{job['id']}"
    deadline = time.monotonic() + 120
    while job["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
        job = client.get(f"/v1/jobs/{job['id']}").json()
    assert job["status"] == "done"
    assert job["page"]["target_lang"] == "en"


def test_result_files_are_the_images_and_the_json(client, done_job):
    source = np.asarray(Image.open(io.BytesIO(SIGN)).convert("RGB"))
    kinds = {
        "translated_png": "image/png",
        "translated_webp": "image/webp",
        "erased_png": "image/png",
        "original_png": "image/png",
    }
    images = {}
    for key, content_type in kinds.items():
        r = client.get(done_job["files"][key])
        assert r.status_code == 200 and r.headers["content-type"] == content_type
        images[key] = np.asarray(Image.open(io.BytesIO(r.content)).convert("RGB"))
        assert images[key].shape == source.shape
    assert np.array_equal(images["original_png"], source)
    assert not np.array_equal(images["translated_png"], source)
    page = client.get(done_job["files"]["page_json"]).json()
    assert page["blocks"] == done_job["page"]["blocks"]


def test_rerender_draws_edited_translations_without_reading_again(client, done_job):
    before = client.get(done_job["files"]["translated_png"]).content
    r = client.post(
        f"/v1/jobs/{done_job['id']}/render", json={"translations": {"b0": "Main Station", "b2": ""}}
    )
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["revision"] == done_job["revision"] + 1
    blocks = {b["id"]: b for b in job["page"]["blocks"]}
    assert blocks["b0"]["translation"]["text"] == "Main Station"
    assert blocks["b0"]["translation"]["translator"] == "edited"
    assert blocks["b2"]["translation"] is None  # an empty edit keeps the original lettering
    assert "detect" not in job["page"]["timings"] and "recognize" not in job["page"]["timings"]
    after = client.get(job["files"]["translated_png"]).content
    assert after != before
    # b2's original lettering is back: its box in the result equals the original image there.
    x0, y0, x1, y1 = (int(v) for v in _bbox(blocks["b2"]["quad"]))
    result = np.asarray(Image.open(io.BytesIO(after)).convert("RGB"))
    source = np.asarray(Image.open(io.BytesIO(SIGN)).convert("RGB"))
    assert np.array_equal(result[y0:y1, x0:x1], source[y0:y1, x0:x1])


# -- layers ------------------------------------------------------------------------------------
def test_a_done_job_downloads_as_svg_and_psd_layers_that_reopen(client, done_job):
    job = client.get(f"/v1/jobs/{done_job['id']}").json()  # the latest revision
    drawn = [b for b in job["page"]["blocks"] if b["translation"]]
    names = [f"{b['id']}: {b['translation']['text']}" for b in drawn]
    assert set(job["layers"]) == {"svg", "psd"}

    r = client.get(job["layers"]["svg"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/svg+xml"
    assert r.headers["content-disposition"] == f'attachment; filename="{job["id"][:8]}.layers.svg"'
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in r.headers["content-security-policy"]  # nothing in it may run
    root = ET.fromstring(r.content)
    layers = {g.get(f"{{{INKSCAPE_NS}}}label"): g for g in root.findall(f"{{{SVG_NS}}}g")}
    assert list(layers) == ["original", "erased", *names]
    for b, name in zip(drawn, names, strict=True):
        text = layers[name].find(f"{{{SVG_NS}}}text")
        assert " ".join(s.text for s in text) == b["translation"]["text"]

    r = client.get(job["layers"]["psd"])
    assert r.status_code == 200 and r.headers["content-type"] == "image/vnd.adobe.photoshop"
    psd = PSDImage.open(io.BytesIO(r.content))
    assert [layer.name for layer in psd] == ["original", "erased", *names]
    assert np.array_equal(
        np.asarray(psd[0].topil().convert("RGB")), np.asarray(Image.open(io.BytesIO(SIGN)).convert("RGB"))
    )
    png = np.asarray(
        Image.open(io.BytesIO(client.get(job["files"]["translated_png"]).content)).convert("RGB")
    )
    assert np.abs(np.asarray(psd.composite().convert("RGB")).astype(int) - png).max() <= 2


def test_layers_follow_the_latest_re_render(client, done_job):
    r = client.post(f"/v1/jobs/{done_job['id']}/render", json={"translations": {"b0": "Layered Station"}})
    assert r.status_code == 200, r.text
    job = r.json()
    assert job["layers"]["svg"].endswith(f"?rev={job['revision']}")
    svg = client.get(job["layers"]["svg"]).text
    assert "Layered Station" in svg
    names = [layer.name for layer in PSDImage.open(io.BytesIO(client.get(job["layers"]["psd"]).content))]
    assert "b0: Layered Station" in names


def test_layers_of_an_unknown_job_format_or_token_are_refused_in_one_line(client, done_job):
    one_line_error(client.get("/v1/jobs/8c1f4f8e-2b4c-4a43-9d6e-0c35c8f3c111/layers.svg"), 404)
    assert "psd" in one_line_error(client.get(f"/v1/jobs/{done_job['id']}/layers.pdf"), 422)
    one_line_error(client.get(f"/v1/jobs/{done_job['id']}/layers.svg", headers={"Authorization": ""}), 401)
    paths = client.get("/openapi.json").json()["paths"]
    assert "image/svg+xml" in paths["/v1/jobs/{job_id}/layers.{fmt}"]["get"]["responses"]["200"]["content"]


def _bbox(quad: list[list[float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return min(xs), min(ys), max(xs), max(ys)


def test_health_options_page_and_offline_docs(client):
    health = client.get("/healthz", headers={"Authorization": ""}).json()
    assert health["status"] == "ok" and health["workers"] == 1 and health["queue_limit"] == 1
    options = client.get("/v1/options").json()
    assert options["targets"]["ko"] == "Korean" and "glossary" in options["translators"]
    assert options["token_required"] is True
    page = client.get("/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/static/app.js").status_code == 200
    docs = client.get("/docs").text
    assert "/docs-assets/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/translate", "/v1/jobs/{job_id}", "/v1/jobs/{job_id}/render", "/healthz"} <= set(paths)


def test_a_request_may_turn_the_check_off_and_the_options_say_the_default(client):
    assert client.get("/v1/options").json()["defaults"]["check"] == "repair"
    r = client.post(
        "/v1/translate?wait=true",
        files={"image": ("sign.png", SIGN), "glossary": ("glossary.csv", GLOSSARY)},
        data={"target": "en", "check": "off"},
    )
    job = r.json()
    assert r.status_code == 200 and job["options"]["check"] == "off"
    assert "check" not in job["page"] and all("quality" not in b for b in job["page"]["blocks"])


def test_cors_is_off_by_default(client):
    r = client.get("/v1/options", headers={"Origin": "https://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers


# -- bad input ---------------------------------------------------------------------------------
def test_a_wrong_or_missing_token_is_refused(client):
    r = client.get("/v1/options", headers={"Authorization": "Bearer nope"})
    assert one_line_error(r, 401) == "missing or wrong bearer token"
    assert r.headers["www-authenticate"] == "Bearer"
    r = client.post("/v1/translate", files={"image": ("x.png", SIGN)}, headers={"Authorization": ""})
    one_line_error(r, 401)


def test_not_an_image_is_refused_by_its_content_not_its_name(client):
    error = one_line_error(translate(client, b"%PDF-1.4 not an image"), 400)
    assert "not an image" in error
    # A real PNG under a misleading name and type is still read.
    r = client.post("/v1/translate", files={"image": ("notes.txt", png(64, 64), "text/plain")})
    assert r.status_code == 202


def test_too_large_uploads_are_refused(client):
    error = one_line_error(translate(client, b"\x89PNG" + bytes(2_100_000)), 413)
    assert "over the limit of 2000000" in error
    error = one_line_error(translate(client, png(1200, 1000)), 400)
    assert "1.2 MP, over the limit of 1.0 MP" in error


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"target": "xx"}, "unknown language code 'xx'"),
        ({"source": "klingon"}, "unknown language code 'klingon'"),
        ({"translator": "babelfish"}, "translator: Input should be"),
        ({"translator": "glossary"}, "the glossary translator needs a glossary file"),
        ({"check": "maybe"}, "check: Input should be 'off', 'report' or 'repair'"),
    ],
)
def test_unknown_languages_and_translators_are_refused(client, data, expected):
    assert expected in one_line_error(translate(client, SIGN, **data), 422)


def test_a_malformed_glossary_is_refused_without_naming_server_paths(client):
    r = client.post(
        "/v1/translate", files={"image": ("s.png", SIGN), "glossary": ("g.csv", b"from,to\nA,B\n")}
    )
    error = one_line_error(r, 422)
    assert "uploaded glossary" in error and "/" not in error


def test_unknown_jobs_files_and_blocks(client, done_job):
    assert "no job" in one_line_error(client.get("/v1/jobs/8c1f4f8e-2b4c-4a43-9d6e-0c35c8f3c111"), 404)
    one_line_error(client.get("/v1/jobs/not-a-uuid"), 404)
    one_line_error(client.get("/v1/jobs/..%2F..%2Fjobs.sqlite3/files/page.json"), 404)
    one_line_error(client.get(f"/v1/jobs/{done_job['id']}/files/..%2F..%2Fjobs.sqlite3"), 404)
    one_line_error(client.get(f"/v1/jobs/{done_job['id']}/files/glossary"), 422)
    r = client.post(f"/v1/jobs/{done_job['id']}/render", json={"translations": {"b99": "x"}})
    assert "no block 'b99'" in one_line_error(r, 422)
    r = client.post("/v1/jobs/8c1f4f8e-2b4c-4a43-9d6e-0c35c8f3c111/render", json={"translations": {}})
    one_line_error(r, 404)
    one_line_error(client.post(f"/v1/jobs/{done_job['id']}/render", json={"edits": 1}), 422)


def test_a_job_that_fails_says_why_in_one_line(client, monkeypatch):
    monkeypatch.delenv("IMTRANS_PAPAGO_CLIENT_ID", raising=False)
    monkeypatch.delenv("IMTRANS_PAPAGO_CLIENT_SECRET", raising=False)
    r = client.post(
        "/v1/translate?wait=true", files={"image": ("s.png", SIGN)}, data={"translator": "papago"}
    )
    assert r.status_code == 200
    job = r.json()
    assert job["status"] == "failed" and job["files"] == {} and job["page"] is None
    assert "IMTRANS_PAPAGO_CLIENT_ID" in job["error"] and "\n" not in job["error"]
    one_line_error(client.get(f"/v1/jobs/{job['id']}/files/translated.png"), 409)
    one_line_error(client.get(f"/v1/jobs/{job['id']}/layers.svg"), 409)
    assert job["layers"] == {}
    one_line_error(client.post(f"/v1/jobs/{job['id']}/render", json={"translations": {}}), 409)


def test_without_a_translator_the_job_is_done_read_and_erased_and_can_be_rendered(
    client, monkeypatch, tmp_path
):
    # The default local translator with no model installed and no hub to download one from.
    monkeypatch.setenv("IMTRANS_HUB_URL", "http://127.0.0.1:9/hub/")
    monkeypatch.setenv("IMTRANS_CACHE_DIR", str(tmp_path))
    r = client.post("/v1/translate?wait=true", files={"image": ("s.png", SIGN)}, data={"target": "en"})
    job = r.json()
    assert r.status_code == 200 and job["status"] == "done", job
    assert not job["waiting_for_worker"]
    page = job["page"]
    assert [b["text"] for b in page["blocks"]][:1] == ["서울역"]
    assert all(b["translation"] is None for b in page["blocks"])
    codes = [d["code"] for d in page["diagnostics"]]
    assert codes.count("no_translator") == 1
    assert "no ko->en translation model here" in page["diagnostics"][codes.index("no_translator")]["message"]
    # The lettering is erased (the translated image is the erased one), and styles were read.
    source = np.asarray(Image.open(io.BytesIO(SIGN)).convert("RGB"))
    erased = np.asarray(Image.open(io.BytesIO(client.get(job["files"]["erased_png"]).content)).convert("RGB"))
    shown = np.asarray(
        Image.open(io.BytesIO(client.get(job["files"]["translated_png"]).content)).convert("RGB")
    )
    assert np.array_equal(erased, shown) and not np.array_equal(erased, source)
    assert all(b["style"] for b in page["blocks"])
    # A translation typed in by the user is drawn.
    r = client.post(f"/v1/jobs/{job['id']}/render", json={"translations": {"b0": "Seoul Station"}})
    assert r.status_code == 200, r.text
    blocks = {b["id"]: b for b in r.json()["page"]["blocks"]}
    assert blocks["b0"]["translation"]["text"] == "Seoul Station"
    assert (
        client.get(r.json()["files"]["translated_png"]).content
        != client.get(job["files"]["erased_png"]).content
    )


def test_a_queued_job_says_whether_it_waits_for_a_worker(client):
    pool = client.app.state.service.pool
    started, release = threading.Event(), threading.Event()

    def hold(_worker) -> None:
        started.set()
        release.wait(30)

    assert not pool.all_busy
    future = pool.submit(hold)
    try:
        assert started.wait(30)
        assert not pool.all_busy  # one task, one worker: nothing waits
        second = pool.submit(lambda _worker: None)
        assert pool.all_busy  # the one worker is busy: the second task waits for it
    finally:
        release.set()
        future.result(30)
    second.result(30)
    assert not pool.all_busy


def test_past_the_queue_limit_the_answer_is_503_with_retry_after(client):
    pool = client.app.state.service.pool
    release = threading.Event()
    # Occupy the one worker and the one queue place with tasks that wait for the test.
    held = [pool.submit(lambda _worker: release.wait(60)) for _ in range(pool.size + pool.queue_limit)]
    try:
        r = translate(client, SIGN)
        assert "try again later" in one_line_error(r, 503)
        assert r.headers["retry-after"] == "5"
        assert client.get("/healthz").json()["pending"] == 2
    finally:
        release.set()
    assert all(f.result(timeout=60) for f in held)


def test_a_finished_job_can_be_deleted_and_a_running_one_cannot(client, monkeypatch):
    monkeypatch.delenv("IMTRANS_PAPAGO_CLIENT_ID", raising=False)
    r = client.post(
        "/v1/translate?wait=true", files={"image": ("s.png", SIGN)}, data={"translator": "papago"}
    )
    job_id = r.json()["id"]
    r = client.delete(f"/v1/jobs/{job_id}")
    assert r.status_code == 204 and r.content == b""
    one_line_error(client.get(f"/v1/jobs/{job_id}"), 404)
    one_line_error(client.delete(f"/v1/jobs/{job_id}"), 404)
    store: JobStore = client.app.state.service.store
    running = store.create({"target": "en"})
    store.mark_running(running)
    assert "only a finished job" in one_line_error(client.delete(f"/v1/jobs/{running}"), 409)
    store.fail(running, "test over")
    one_line_error(
        client.delete(f"/v1/jobs/{done_job_id(client)}", headers={"Authorization": "Bearer x"}), 401
    )


def test_jobs_older_than_keep_hours_are_deleted_when_the_service_starts(client, folder):
    store: JobStore = client.app.state.service.store
    old, fresh = done_job_id(client), done_job_id(client)
    with sqlite3.connect(store.db_path) as db:
        db.execute("UPDATE jobs SET finished = ? WHERE id = ?", (time.time() - 3 * 3600, old))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_ENV, TOKEN)
        kept = serve_settings(folder).model_copy(update={"keep_hours": 2.0})
        restarted = create_app(pipeline_settings(folder), kept)
    with TestClient(restarted, headers=AUTH) as again:
        one_line_error(again.get(f"/v1/jobs/{old}"), 404)
        assert again.get(f"/v1/jobs/{fresh}").json()["status"] == "done"
    assert not store.job_dir(old).exists()


# -- restart -----------------------------------------------------------------------------------
def test_a_restart_keeps_finished_jobs_and_fails_unfinished_ones(client, done_job, folder):
    store: JobStore = client.app.state.service.store
    stuck = store.create({"target": "en"})
    store.mark_running(stuck)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TOKEN_ENV, TOKEN)
        restarted = create_app(pipeline_settings(folder), serve_settings(folder))
    with TestClient(restarted, headers=AUTH) as again:
        job = again.get(f"/v1/jobs/{done_job['id']}").json()
        assert job["status"] == "done" and job["page"]["blocks"]
        assert again.get(job["files"]["translated_png"]).status_code == 200
        failed = again.get(f"/v1/jobs/{stuck}").json()
        assert failed["status"] == "failed" and failed["error"] == INTERRUPTED
        assert restarted.state.service.store.integrity_check() == "ok"
