"""A bounded fuzz test (issue 20): mutated PNG, JPEG, WebP, TIFF, AVIF and PDF files through decoding,
the pipeline and the service. Nothing may escape but the project's own errors.

The inputs are made from one small crop of the bundled sign by a seeded generator (byte
flips, truncation, inserted and repeated runs, header fields set to extremes), so every
run sees the same few hundred files.
"""

from __future__ import annotations

import io
import random
import struct
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from imtrans.batch.inputs import expand_inputs, read_page
from imtrans.errors import ImtransError
from imtrans.imageio import load_image
from imtrans.pipeline import Pipeline
from imtrans.serve.app import create_app
from imtrans.settings import ImageSettings, ServeSettings, Settings

ROOT = Path(__file__).resolve().parents[2]
SIGN = ROOT / "examples" / "sign_ko.png"
GLOSSARY = ROOT / "examples" / "glossary.csv"
FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "AVIF", "PDF")
PER_FORMAT = 50  # 300 inputs in all
LIMITS = ImageSettings(max_pixels=4_000_000, max_bytes=5_000_000)

pytestmark = pytest.mark.slow


def seeds() -> dict[str, bytes]:
    """One valid file per format: the sign's first line, 160 x 60."""
    crop = Image.open(SIGN).convert("RGB").crop((40, 40, 520, 220)).resize((160, 60))
    out = {}
    for fmt in FORMATS:
        buf = io.BytesIO()
        crop.save(buf, fmt, **({"resolution": 72.0} if fmt == "PDF" else {}))
        out[fmt] = buf.getvalue()
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One of a few kinds of damage, picked and placed by `rng`."""
    b = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # a few random bytes
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif kind == 1:  # cut short
        del b[rng.randrange(1, len(b)) :]
    elif kind == 2:  # a run of random bytes inserted
        at = rng.randrange(len(b))
        b[at:at] = rng.randbytes(rng.randint(1, 64))
    elif kind == 3:  # a run repeated
        at = rng.randrange(len(b))
        b[at:at] = b[at : at + rng.randint(1, 256)] * rng.randint(2, 20)
    elif kind == 4:  # a 16- or 32-bit field near the start set to an extreme (sizes, offsets, counts)
        at = rng.randrange(0, max(1, min(len(b) - 4, 64)))
        b[at : at + 4] = struct.pack(">I", rng.choice([0, 1, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF]))
    else:  # a block zeroed
        at = rng.randrange(len(b))
        b[at : at + rng.randint(1, 512)] = bytes(min(len(b) - at, 512))
    return bytes(b)


def fuzz_inputs() -> list[tuple[str, bytes]]:
    rng = random.Random(20)
    base = seeds()
    return [(fmt, mutate(base[fmt], rng)) for fmt in FORMATS for _ in range(PER_FORMAT)]


def decode(fmt: str, data: bytes, tmp: Path) -> list[np.ndarray]:
    """The pages of one input as the CLI (images) or the batch (PDFs) reads them."""
    if fmt != "PDF":
        return [load_image(data, LIMITS)]
    path = tmp / "fuzz.pdf"
    path.write_bytes(data)
    (doc,) = expand_inputs([path], dpi=72, limits=LIMITS)
    if doc.error:
        raise ImtransError(doc.error)
    return [read_page(job, LIMITS) for job in doc.jobs[:2]]


def test_mutated_inputs_raise_only_our_errors_through_decoding_and_the_pipeline(tmp_path):
    start = time.monotonic()
    outcomes: Counter[str] = Counter()
    decoded: list[np.ndarray] = []
    for fmt, data in fuzz_inputs():
        try:
            pages = decode(fmt, data, tmp_path)
        except ImtransError as e:
            assert "\n" not in str(e)
            outcomes["refused"] += 1
            continue
        for page in pages:
            assert page.dtype == np.uint8 and page.ndim == 3 and page.shape[2] == 3
        outcomes["decoded"] += 1
        decoded += pages
    assert sum(outcomes.values()) == len(FORMATS) * PER_FORMAT
    assert outcomes["refused"] > 50 and outcomes["decoded"] > 50  # both paths are exercised

    settings = Settings().with_overrides(
        {
            "translate.translator": "glossary",
            "translate.glossary": str(GLOSSARY),
            "translate.target": "en",
            "translate.cache_path": str(tmp_path / "c.db"),
        }
    )
    pipeline = Pipeline(settings)
    rng = random.Random(1)
    for page in rng.sample(decoded, 20):  # damaged pixels through every stage
        try:
            result = pipeline.translate(page)
        except ImtransError:
            continue
        assert result.image.shape == page.shape
    assert time.monotonic() - start < 120


def test_mutated_uploads_are_answered_without_a_500(tmp_path):
    settings = Settings().with_overrides(
        {"image.max_pixels": LIMITS.max_pixels, "translate.cache_path": str(tmp_path / "c.db")}
    )
    serve = ServeSettings(
        db_path=tmp_path / "jobs.sqlite3", workers=1, queue_limit=4, token_env="IMTRANS_FUZZ_NO_TOKEN"
    )
    inputs = fuzz_inputs()[:: len(FORMATS) * PER_FORMAT // 48]  # 48 spread over the formats
    statuses: Counter[int] = Counter()
    with TestClient(
        create_app(settings, serve), base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as c:
        for _fmt, data in inputs:
            r = c.post(
                "/v1/translate",
                params={"wait": "true"},
                files={"image": ("x", data), "glossary": ("g.csv", GLOSSARY.read_bytes())},
                data={"target": "en"},
            )
            statuses[r.status_code] += 1
            assert r.status_code in (200, 400, 413), r.text
            body = r.json()
            if r.status_code == 200:
                assert body["status"] in ("done", "failed")
                assert body["error"] is None or "\n" not in body["error"]
            else:
                assert set(body) == {"error"} and "\n" not in body["error"]
        assert c.get("/healthz").json()["pending"] == 0
    assert statuses[200] > 0 and statuses[400] > 0
