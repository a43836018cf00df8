"""Load on `imtrans serve`: concurrent clients on localhost, each sending translation requests.

Starts the real server (`imtrans serve`, its own job database in a temporary folder), makes one
warm-up request, then runs CLIENTS threads that each send REQUESTS translations of an image
(examples/sign_ko.png with its glossary by default) with `?wait=true` and wait for each answer.
Prints throughput, median and 95th-percentile latency and errors; then checks that every
request has its job, done, in the database, and that SQLite finds the database intact after
the server has stopped.

    python bench/service.py [--clients 8] [--requests 20] [--workers 0] [--image FILE]
"""

from __future__ import annotations

import argparse
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(folder: Path, port: int, workers: int) -> subprocess.Popen:
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


def one_request(client: httpx.Client, image: bytes, glossary: bytes | None) -> Outcome:
    """POST and wait for the job; a 503 is retried after its Retry-After (and counted)."""
    files = {"image": ("image.png", image)}
    if glossary is not None:
        files["glossary"] = ("glossary.csv", glossary)
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
    return Outcome(seconds, r.status_code, body.get("id"), body.get("status"), retries)


def run_clients(url: str, clients: int, requests: int, image: bytes, glossary: bytes | None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def client_loop() -> None:
        with httpx.Client(base_url=url, timeout=600) as client:
            for _ in range(requests):
                try:
                    outcome = one_request(client, image, glossary)
                except httpx.HTTPError as e:
                    print(f"  transport error: {e}", file=sys.stderr)
                    outcome = Outcome(0.0, 0, None, None, 0)
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
    args = parser.parse_args()

    image = args.image.read_bytes()
    glossary = args.glossary.read_bytes() if args.glossary else None
    with tempfile.TemporaryDirectory(prefix="imtrans-bench-") as tmp:
        folder = Path(tmp)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = start_server(folder, port, args.workers)
        try:
            health = httpx.get(f"{url}/healthz").json()
            with httpx.Client(base_url=url, timeout=600) as client:
                warm = one_request(client, image, glossary)
            assert warm.job_status == "done", f"warm-up failed: {warm}"
            load_before = os.getloadavg()[0]
            start = time.perf_counter()
            outcomes = run_clients(url, args.clients, args.requests, image, glossary)
            wall = time.perf_counter() - start
            load_after = os.getloadavg()[0]
        finally:
            server.terminate()
            server.wait(timeout=60)
        job_ids = {o.job_id for o in outcomes if o.job_id}
        integrity, done, by_status = check_database(folder / "jobs.sqlite3", job_ids | {warm.job_id})

    sent = args.clients * args.requests
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
    lost = sent - (done - 1)
    if lost or integrity != "ok" or len(ok) != sent:
        sys.exit(f"FAILED: {lost} request(s) without a done job, integrity {integrity}")


if __name__ == "__main__":
    main()
