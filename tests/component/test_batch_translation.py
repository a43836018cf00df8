"""Consistency across a batch: one translator request per page, and one cache for every worker.

The translator is the `openai` backend talking to a local server that speaks the OpenAI
chat wire format (it upper-cases each segment), so requests can be counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from batch_inputs import glossary_settings, image_folder

from imtrans.batch import BatchOptions, run_batch

pytestmark = pytest.mark.slow


@pytest.fixture
def chat_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[str]]]:
    """A local OpenAI-compatible server; yields the segments of every request it got."""
    requests: list[list[str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            items = json.loads(body["messages"][1]["content"])
            requests.append([x["text"] for x in items])
            answer = [{"id": x["id"], "translation": x["text"].upper()} for x in items]
            content = json.dumps(
                {"choices": [{"message": {"role": "assistant", "content": json.dumps(answer)}}]}
            )
            data = content.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    # The workers are new processes: they read the server's address from the environment they inherit.
    monkeypatch.setenv("IMTRANS_OPENAI_BASE_URL", f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("IMTRANS_OPENAI_MODEL", "local-test")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    try:
        yield requests
    finally:
        server.shutdown()
        server.server_close()


def _blocks(path: Path) -> list[str]:
    return [b["text"] for b in json.loads(path.read_text())["blocks"]]


def test_each_page_is_one_request_and_workers_share_the_cache(tmp_path, chat_server):
    image_folder(tmp_path / "in")
    settings = glossary_settings(tmp_path, **{"translate.translator": "openai", "translate.glossary": None})
    first = run_batch([tmp_path / "in"], settings, BatchOptions(tmp_path / "out1", workers=2))
    assert first.translated == 2
    pages = [tmp_path / "out1/in/sign_0.png.json", tmp_path / "out1/in/notices/notice_0.png.json"]
    # every block of a page went in the page's one request, in reading order
    assert sorted(chat_server) == sorted(_blocks(p) for p in pages)
    assert any(len(request) > 1 for request in chat_server)
    sign = json.loads(pages[0].read_text())
    assert [b["translation"]["text"] for b in sign["blocks"]] == [b["text"].upper() for b in sign["blocks"]]

    # Another batch into another folder, two new worker processes: every segment comes from the cache.
    asked = len(chat_server)
    second = run_batch([tmp_path / "in"], settings, BatchOptions(tmp_path / "out2", workers=2))
    assert second.translated == 2 and len(chat_server) == asked
    assert (tmp_path / "out2/in/sign_0.png").read_bytes() == (tmp_path / "out1/in/sign_0.png").read_bytes()
