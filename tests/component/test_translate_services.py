"""Service backends against local HTTP servers that speak each service's wire format.

Every server runs on 127.0.0.1 (port 0) in a thread, records the requests it gets,
and answers with whatever the test tells it. No test needs a network or a real key.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from imtrans.errors import TranslatorError
from imtrans.translate.deepl import DeepLTranslator
from imtrans.translate.google import GoogleTranslator
from imtrans.translate.openai import OpenAITranslator
from imtrans.translate.papago import PapagoTranslator


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


Reply = tuple[int, Any]  # status, and a JSON-able body (a str is sent as text)


@dataclass
class FakeService:
    """A local server; `reply` maps each request to (status, body)."""

    url: str
    reply: Callable[[Request], Reply]
    requests: list[Request] = field(default_factory=list)


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (the timeout test) is expected


@pytest.fixture
def service() -> Iterator[FakeService]:
    fake = FakeService(url="", reply=lambda r: (500, "no reply set"))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = urlsplit(self.path)
            req = Request(
                parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body
            )
            fake.requests.append(req)
            status, payload = fake.reply(req)
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- Papago


@pytest.fixture
def papago_env(monkeypatch: pytest.MonkeyPatch, service: FakeService) -> FakeService:
    monkeypatch.setenv("IMTRANS_PAPAGO_CLIENT_ID", "my-id")
    monkeypatch.setenv("IMTRANS_PAPAGO_CLIENT_SECRET", "my-secret")
    monkeypatch.setenv("IMTRANS_PAPAGO_URL", f"{service.url}/nmt/v1/translation")
    return service


def test_papago_sends_one_form_request_per_segment_with_both_key_headers(papago_env: FakeService) -> None:
    def reply(req: Request) -> Reply:
        text = req.form()["text"]
        return 200, {
            "message": {"result": {"srcLangType": "ko", "tarLangType": "en", "translatedText": f"<{text}>"}}
        }

    papago_env.reply = reply
    out = PapagoTranslator(timeout=5).translate(["출구", "", "비상구"], "ko", "en").texts
    assert out == ["<출구>", "", "<비상구>"]
    assert len(papago_env.requests) == 2
    first = papago_env.requests[0]
    assert first.path == "/nmt/v1/translation"
    assert first.headers["x-ncp-apigw-api-key-id"] == "my-id"
    assert first.headers["x-ncp-apigw-api-key"] == "my-secret"
    assert first.form() == {"source": "ko", "target": "en", "text": "출구"}


def test_papago_maps_chinese_to_zh_cn(papago_env: FakeService) -> None:
    papago_env.reply = lambda req: (200, {"message": {"result": {"translatedText": "出口"}}})
    assert PapagoTranslator(timeout=5).translate(["출구"], "ko", "zh").texts == ["出口"]
    assert papago_env.requests[0].form()["target"] == "zh-CN"


def test_papago_accepts_the_ncp_variable_names(monkeypatch: pytest.MonkeyPatch, service: FakeService) -> None:
    monkeypatch.delenv("IMTRANS_PAPAGO_CLIENT_ID", raising=False)
    monkeypatch.delenv("IMTRANS_PAPAGO_CLIENT_SECRET", raising=False)
    monkeypatch.setenv("NCP_CLIENT_ID", "ncp-id")
    monkeypatch.setenv("NCP_CLIENT_SECRET", "ncp-secret")
    monkeypatch.setenv("IMTRANS_PAPAGO_URL", service.url)
    service.reply = lambda req: (200, {"message": {"result": {"translatedText": "x"}}})
    PapagoTranslator(timeout=5).translate(["a"], "ko", "en")
    assert service.requests[0].headers["x-ncp-apigw-api-key-id"] == "ncp-id"


def test_papago_without_keys_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("IMTRANS_PAPAGO_CLIENT_ID", "NCP_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        TranslatorError,
        match=r"papago needs an API key: set the environment variable IMTRANS_PAPAGO_CLIENT_ID",
    ):
        PapagoTranslator()


def test_papago_401_is_a_wrong_key_message(papago_env: FakeService) -> None:
    papago_env.reply = lambda req: (
        401,
        {
            "error": {
                "errorCode": "200",
                "message": "Authentication Failed",
                "details": "Invalid authentication information.",
            }
        },
    )
    with pytest.raises(TranslatorError) as info:
        PapagoTranslator(timeout=5).translate(["출구"], "ko", "en")
    assert str(info.value) == (
        "papago rejected the API key (HTTP 401: 200 Authentication Failed); "
        "check IMTRANS_PAPAGO_CLIENT_ID and IMTRANS_PAPAGO_CLIENT_SECRET"
    )


def test_papago_malformed_answer(papago_env: FakeService) -> None:
    papago_env.reply = lambda req: (200, {"message": {}})
    with pytest.raises(
        TranslatorError, match=r"papago sent a malformed response: no message\.result\.translatedText"
    ):
        PapagoTranslator(timeout=5).translate(["출구"], "ko", "en")


# ---------------------------------------------------------------- DeepL


@pytest.fixture
def deepl_env(monkeypatch: pytest.MonkeyPatch, service: FakeService) -> FakeService:
    monkeypatch.setenv("DEEPL_AUTH_KEY", "secret-key:fx")
    monkeypatch.setenv("IMTRANS_DEEPL_URL", service.url)
    return service


def test_deepl_sends_one_batch_with_auth_header_and_upper_case_codes(deepl_env: FakeService) -> None:
    deepl_env.reply = lambda req: (
        200,
        {"translations": [{"detected_source_language": "KO", "text": t.upper()} for t in req.json()["text"]]},
    )
    assert DeepLTranslator(timeout=5).translate(["a", " ", "b"], "ko", "en").texts == ["A", " ", "B"]
    [req] = deepl_env.requests
    assert req.path == "/v2/translate"
    assert req.headers["authorization"] == "DeepL-Auth-Key secret-key:fx"
    assert req.json() == {"text": ["a", "b"], "source_lang": "KO", "target_lang": "EN-US"}


def test_deepl_splits_more_than_fifty_texts(deepl_env: FakeService) -> None:
    deepl_env.reply = lambda req: (200, {"translations": [{"text": t} for t in req.json()["text"]]})
    texts = [f"t{i}" for i in range(120)]
    assert DeepLTranslator(timeout=5).translate(texts, "ja", "ko").texts == texts
    assert [len(r.json()["text"]) for r in deepl_env.requests] == [50, 50, 20]


def test_deepl_picks_the_free_host_for_fx_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMTRANS_DEEPL_URL", raising=False)
    monkeypatch.setenv("DEEPL_AUTH_KEY", "abc:fx")
    assert DeepLTranslator().url == "https://api-free.deepl.com/v2/translate"
    monkeypatch.setenv("DEEPL_AUTH_KEY", "abc")
    assert DeepLTranslator().url == "https://api.deepl.com/v2/translate"


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (
            403,
            {"message": "Wrong endpoint"},
            "deepl rejected the API key (HTTP 403: Wrong endpoint); check DEEPL_AUTH_KEY",
        ),
        (456, {"message": "Quota exceeded"}, "deepl: too many requests or quota used up (HTTP 456"),
        (429, {"message": "Too many requests"}, "deepl: too many requests or quota used up (HTTP 429"),
        (500, "Internal error", "deepl had a server error (HTTP 500: Internal error)"),
        (200, {"translations": [{"text": "only one"}]}, "deepl returned 1 translations for 2 segments"),
        (200, {"result": []}, "deepl sent a malformed response"),
        (200, "<html>not json</html>", "deepl sent a malformed response: not JSON"),
    ],
)
def test_deepl_errors_are_one_line(deepl_env: FakeService, status: int, body: Any, fragment: str) -> None:
    deepl_env.reply = lambda req: (status, body)
    with pytest.raises(TranslatorError) as info:
        DeepLTranslator(timeout=5).translate(["a", "b"], "ko", "en")
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_deepl_without_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPL_AUTH_KEY", raising=False)
    with pytest.raises(
        TranslatorError, match="deepl needs an API key: set the environment variable DEEPL_AUTH_KEY"
    ):
        DeepLTranslator()


# ---------------------------------------------------------------- Google


@pytest.fixture
def google_env(monkeypatch: pytest.MonkeyPatch, service: FakeService) -> FakeService:
    monkeypatch.setenv("GOOGLE_TRANSLATE_API_KEY", "g-key")
    monkeypatch.setenv("IMTRANS_GOOGLE_URL", f"{service.url}/language/translate/v2")
    return service


def test_google_sends_key_as_query_and_unescapes_html(google_env: FakeService) -> None:
    google_env.reply = lambda req: (
        200,
        {"data": {"translations": [{"translatedText": "Tom &amp; Jerry&#39;s"}, {"translatedText": "Exit"}]}},
    )
    assert GoogleTranslator(timeout=5).translate(["톰과 제리", "출구"], "ko", "en").texts == [
        "Tom & Jerry's",
        "Exit",
    ]
    [req] = google_env.requests
    assert req.path == "/language/translate/v2"
    assert req.query == {"key": ["g-key"]}
    assert req.json() == {"q": ["톰과 제리", "출구"], "source": "ko", "target": "en", "format": "text"}


def test_google_uses_zh_cn(google_env: FakeService) -> None:
    google_env.reply = lambda req: (200, {"data": {"translations": [{"translatedText": "x"}]}})
    GoogleTranslator(timeout=5).translate(["出口"], "zh", "en")
    assert google_env.requests[0].json()["source"] == "zh-CN"


def test_google_invalid_key_400_is_a_wrong_key_message(google_env: FakeService) -> None:
    google_env.reply = lambda req: (
        400,
        {
            "error": {
                "code": 400,
                "message": "API key not valid. Please pass a valid API key.",
                "status": "INVALID_ARGUMENT",
            }
        },
    )
    with pytest.raises(
        TranslatorError, match=r"google rejected the API key \(HTTP 400: .*\); check GOOGLE_TRANSLATE_API_KEY"
    ):
        GoogleTranslator(timeout=5).translate(["a"], "ko", "en")


# ---------------------------------------------------------------- OpenAI-compatible


@pytest.fixture
def openai_env(monkeypatch: pytest.MonkeyPatch, service: FakeService) -> FakeService:
    monkeypatch.setenv("IMTRANS_OPENAI_BASE_URL", f"{service.url}/v1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("IMTRANS_OPENAI_MODEL", "qwen-test")
    return service


def _chat(content: str) -> dict[str, Any]:
    return {
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ]
    }


def test_openai_sends_the_page_in_one_numbered_request(openai_env: FakeService) -> None:
    def reply(req: Request) -> Reply:
        items = json.loads(req.json()["messages"][1]["content"])
        answer = [{"id": x["id"], "translation": x["text"].upper()} for x in items]
        return 200, _chat("```json\n" + json.dumps(answer) + "\n```")

    openai_env.reply = reply
    out = OpenAITranslator(timeout=5).translate(["exit", "", "push"], "en", "ko").texts
    assert out == ["EXIT", "", "PUSH"]
    [req] = openai_env.requests
    body = req.json()
    assert req.path == "/v1/chat/completions"
    assert "authorization" not in req.headers  # local servers need no key
    assert body["model"] == "qwen-test"
    assert body["temperature"] == 0
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert "from English to Korean" in body["messages"][0]["content"]
    assert json.loads(body["messages"][1]["content"]) == [
        {"id": 1, "text": "exit"},
        {"id": 2, "text": "push"},
    ]


def test_openai_sends_the_key_when_set(openai_env: FakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    openai_env.reply = lambda req: (200, _chat('["a"]'))
    OpenAITranslator("m", timeout=5).translate(["x"], "ko", "en")
    assert openai_env.requests[0].headers["authorization"] == "Bearer sk-test"
    assert openai_env.requests[0].json()["model"] == "m"


def test_openai_merged_segments_fail_alignment(openai_env: FakeService) -> None:
    openai_env.reply = lambda req: (200, _chat('["both texts in one"]'))
    with pytest.raises(TranslatorError, match="openai returned 1 translations for 2 segments"):
        OpenAITranslator(timeout=5).translate(["a", "b"], "ko", "en")


def test_openai_401(openai_env: FakeService) -> None:
    openai_env.reply = lambda req: (
        401,
        {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
    )
    with pytest.raises(
        TranslatorError,
        match=r"openai rejected the API key \(HTTP 401: Incorrect API key provided\); check OPENAI_API_KEY",
    ):
        OpenAITranslator(timeout=5).translate(["a"], "ko", "en")


def test_openai_official_endpoint_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMTRANS_OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(TranslatorError, match="set the environment variable OPENAI_API_KEY"):
        OpenAITranslator()


def test_openai_local_server_needs_a_model_name(
    openai_env: FakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IMTRANS_OPENAI_MODEL", raising=False)
    with pytest.raises(TranslatorError, match="set IMTRANS_OPENAI_MODEL"):
        OpenAITranslator()


# ---------------------------------------------------------------- transport failures


def test_a_service_that_does_not_answer_in_time(deepl_env: FakeService) -> None:
    gate = threading.Event()

    def slow(req: Request) -> Reply:
        gate.wait(5)
        return 200, {"translations": [{"text": "late"}]}

    deepl_env.reply = slow
    try:
        with pytest.raises(TranslatorError, match=r"deepl: no answer from 127\.0\.0\.1:\d+ within 0\.3 s"):
            DeepLTranslator(timeout=0.3).translate(["a"], "ko", "en")
    finally:
        gate.set()


def test_a_service_that_cannot_be_reached(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_TRANSLATE_API_KEY", "k")
    monkeypatch.setenv("IMTRANS_GOOGLE_URL", "http://127.0.0.1:1/v2")
    with pytest.raises(TranslatorError, match=r"^google: cannot reach 127\.0\.0\.1:1: "):
        GoogleTranslator(timeout=5).translate(["a"], "ko", "en")
