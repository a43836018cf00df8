"""Load on `imtrans serve`: concurrent clients on localhost, each sending translation requests.

Starts the real server (`imtrans serve`, its own job database in a temporary folder), makes one
warm-up request, then runs CLIENTS threads that each send REQUESTS translations of an image
(examples/sign_ko.png with its glossary by default) with `?wait=true` and wait for each answer.
Among them, each client also sends BAD hostile or broken uploads (an image over the pixel limit,
a body over the byte limit, a truncated PNG, random bytes, a corrupt AVIF, a deeply nested JSON
glossary), each of which must be answered with a one-line 4xx. Prints throughput, median and
95th-percentile latency, errors and the server's peak memory; then checks that every good
request has its job, done, in the database, and that SQLite finds the database intact after
the server has stopped.

    python bench/service.py [--clients 8] [--requests 20] [--bad 3] [--workers 0] [--image FILE]
                            [--token TOKEN] [--port PORT] [--max-rss-gb 1.5]
"""

from __future__ import annotations

import argparse
import io
import itertools
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Outcome:
    seconds: float
    status: int
    job_id: str | None
    job_status: str | None
    retries: int
    kind: str = "good"
    error: str | None = None


def bad_uploads(max_upload_bytes: int = 20_000_000) -> list[tuple[str, bytes, bytes | None]]:
    """(name, image, glossary) of uploads the service must refuse with a 4xx, cheaply."""
    import random

    from PIL import Image

    def encode(im: Image.Image, fmt: str) -> bytes:
        buf = io.BytesIO()
        im.save(buf, fmt)
        return buf.getvalue()

    sign = (ROOT / "examples" / "sign_ko.png").read_bytes()
    avif = bytearray(
        encode(Image.open(ROOT / "examples" / "sign_ko.png").convert("RGB").resize((64, 48)), "AVIF")
    )
    del avif[len(avif) // 2 :]
    rng = random.Random(0)
    return [
        ("over-pixel-limit", encode(Image.new("L", (12_000, 4_000), 255), "JPEG"), None),  # 48 MP, 0.3 MB
        ("over-byte-limit", sign + rng.randbytes(max_upload_bytes), None),
        ("truncated-png", sign[: len(sign) // 3], None),
        ("random-bytes", rng.randbytes(50_000), None),
        ("corrupt-avif", bytes(avif), None),
        ("nested-glossary", sign, ("[" * 100_000 + "]" * 100_000).encode()),
    ]


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, port: int, workers: int, token: str | None) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "imtrans"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "imtrans.cli"]
    cmd += [
        "serve",
        "--port",
        str(port),
        "--db",
        str(folder / "jobs.sqlite3"),
        "--workers",
        str(workers),
        "--set",
        "translate.cache=false",
    ]
    log = (folder / "server.log").open("w")
    env = {k: v for k, v in os.environ.items() if k != "IMTRANS_API_TOKEN"}
    if token:
        env["IMTRANS_API_TOKEN"] = token
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the server stopped: see {folder / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.3)
    proc.terminate()
    sys.exit("the server did not start in 180 s")


def one_request(client: httpx.Client, image: bytes, glossary: bytes | None, kind: str = "good") -> Outcome:
    """POST and wait for the job; a 503 is retried after its Retry-After (and counted)."""
    files = {"image": ("image.png", image)}
    if glossary is not None:
        files["glossary"] = ("glossary.json" if glossary[:1] == b"[" else "glossary.csv", glossary)
    start = time.perf_counter()
    retries = 0
    while True:
        r = client.post("/v1/translate", params={"wait": "true"}, files=files, data={"target": "en"})
        if r.status_code != 503:
            break
        retries += 1
        time.sleep(float(r.headers.get("retry-after", "1")))
    seconds = time.perf_counter() - start
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    return Outcome(
        seconds, r.status_code, body.get("id"), body.get("status"), retries, kind, body.get("error")
    )


def run_clients(
    url: str,
    clients: int,
    requests: int,
    image: bytes,
    glossary: bytes | None,
    bad: int = 0,
    headers: dict[str, str] | None = None,
) -> list[Outcome]:
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    hostile = itertools.cycle(bad_uploads()) if bad else None

    def client_loop() -> None:
        # Each client's bad uploads are spread among its good ones.
        todo: list[tuple[str, bytes, bytes | None]] = [("good", image, glossary)] * requests
        for i in range(bad):
            assert hostile is not None
            with lock:
                item = next(hostile)
            todo.insert((i + 1) * len(todo) // (bad + 1), item)
        with httpx.Client(base_url=url, timeout=600, headers=headers) as client:
            for kind, data, gloss in todo:
                try:
                    outcome = one_request(client, data, gloss, kind)
                except httpx.HTTPError as e:
                    print(f"  transport error ({kind}): {e}", file=sys.stderr)
                    outcome = Outcome(0.0, 0, None, None, 0, kind)
                with lock:
                    outcomes.append(outcome)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def check_database(db_path: Path, job_ids: set[str]) -> tuple[str, int, dict[str, int]]:
    """Integrity, how many of the bench's jobs are done, and jobs per status (server stopped)."""
    with sqlite3.connect(db_path) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        done = {row[0] for row in db.execute("SELECT id FROM jobs WHERE status = 'done'")}
        by_status = dict(db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall())
    return integrity, len(job_ids & done), by_status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=20, help="per client")
    parser.add_argument("--workers", type=int, default=0, help="server workers (0: one per core)")
    parser.add_argument("--image", type=Path, default=ROOT / "examples" / "sign_ko.png")
    parser.add_argument("--glossary", type=Path, default=ROOT / "examples" / "glossary.csv")
    parser.add_argument("--bad", type=int, default=3, help="hostile or broken uploads per client")
    parser.add_argument("--token", help="run the server with this bearer token (IMTRANS_API_TOKEN)")
    parser.add_argument("--port", type=int, default=0, help="server port (0: a free one)")
    parser.add_argument(
        "--max-rss-gb", type=float, default=1.5, help="fail if the server's peak memory is over"
    )
    args = parser.parse_args()

    image = args.image.read_bytes()
    glossary = args.glossary.read_bytes() if args.glossary else None
    with tempfile.TemporaryDirectory(prefix="imtrans-bench-") as tmp:
        folder = Path(tmp)
        port = args.port or free_port()
        url = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
        server = start_server(folder, port, args.workers, args.token)
        try:
            health = httpx.get(f"{url}/healthz").json()
            with httpx.Client(base_url=url, timeout=600, headers=headers) as client:
                warm = one_request(client, image, glossary)
            assert warm.job_status == "done", f"warm-up failed: {warm}"
            rss_warm = peak_rss(server.pid)
            load_before = os.getloadavg()[0]
            start = time.perf_counter()
            outcomes = run_clients(url, args.clients, args.requests, image, glossary, args.bad, headers)
            wall = time.perf_counter() - start
            load_after = os.getloadavg()[0]
            rss_peak = peak_rss(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=60)
        job_ids = {o.job_id for o in outcomes if o.job_id}
        integrity, done, by_status = check_database(folder / "jobs.sqlite3", job_ids | {warm.job_id})

    sent = args.clients * args.requests
    refused = [o for o in outcomes if o.kind != "good"]
    wrong = [o for o in refused if not (400 <= o.status < 500 and o.error and "\n" not in o.error)]
    outcomes = [o for o in outcomes if o.kind == "good"]
    ok = [o for o in outcomes if o.status == 200 and o.job_status == "done"]
    latencies = sorted(o.seconds for o in ok)
    p95 = statistics.quantiles(latencies, n=20)[-1] if len(latencies) >= 2 else float("nan")
    print(
        f"imtrans serve: {health['workers']} worker(s), {args.clients} clients x {args.requests} requests, "
        f"image {args.image.name}; load average {load_before:.1f} before, {load_after:.1f} after"
    )
    print(f"  throughput     {len(ok) / wall:.2f} requests/s ({len(ok)} in {wall:.1f} s)")
    print(
        f"  latency        p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s (request to finished job)"
    )
    print(f"  errors         {sent - len(ok)} of {sent}; 503 retries {sum(o.retries for o in outcomes)}")
    print(
        f"  jobs           {len(job_ids)} distinct ids for {sent} requests; {done - 1} of them done in the "
        f"database after the server stopped; by status {by_status}"
    )
    print(f"  database       PRAGMA integrity_check: {integrity}")
    kinds = sorted({(o.kind, o.status) for o in refused})
    print(
        f"  bad uploads    {len(refused)} sent, {len(refused) - len(wrong)} refused with a one-line 4xx: {kinds}"
    )
    print(f"  server memory  peak {rss_peak / 1e9:.2f} GB (after the warm-up {rss_warm / 1e9:.2f} GB)")
    lost = sent - (done - 1)
    if lost or integrity != "ok" or len(ok) != sent or wrong or rss_peak > args.max_rss_gb * 1e9:
        sys.exit(
            f"FAILED: {lost} request(s) without a done job, integrity {integrity}, {len(wrong)} bad upload(s) "
            f"not refused, peak memory {rss_peak / 1e9:.2f} GB (limit {args.max_rss_gb} GB)"
        )


if __name__ == "__main__":
    main()
