"""Any OpenAI-compatible chat completions API: OpenAI, Ollama, vLLM, llama.cpp's server.

All segments of a call go in ONE request, as a numbered JSON array, so the model sees
the whole page (a sign's lines, a comic's bubbles) as context. The model is asked to
answer with a JSON array of as many translations; the answer is parsed tolerantly
(code fences, text around the array, objects instead of strings) and then checked
for alignment, so a model that merges or drops a segment fails loudly instead of
shifting every translation after it. Temperature is 0.

Environment: ``IMTRANS_OPENAI_BASE_URL`` (default https://api.openai.com/v1),
``OPENAI_API_KEY`` (needed for api.openai.com, optional for local servers),
``IMTRANS_OPENAI_MODEL`` (when no model is given in the settings).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from imtrans.errors import TranslatorError
from imtrans.languages import TARGET_LANGUAGES
from imtrans.translate.base import (
    ServiceSettings,
    Translated,
    check_aligned,
    service_code,
    translate_nonblank,
)
from imtrans.translate.http import ServiceClient, env_value, malformed, require_key

BASE_URL_ENV = "IMTRANS_OPENAI_BASE_URL"
KEY_ENV = "OPENAI_API_KEY"
MODEL_ENV = "IMTRANS_OPENAI_MODEL"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"

_SYSTEM = (
    "You translate text found in images (signs, labels, menus, comics) from {source} to {target}. "
    'The user sends a JSON array of objects {{"id": n, "text": ...}}, one per text region. '
    'Answer with only a JSON array of exactly {count} objects {{"id": n, "translation": ...}}, '
    "same ids, same order. Translate each text on its own; never merge, split, skip or explain. "
    "Keep numbers, proper names and line breaks."
)
_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


class OpenAISettings(ServiceSettings):
    """Options of the OpenAI-compatible translator."""

    model: str | None = Field(None, description=f"Model name (default ${MODEL_ENV}, else {DEFAULT_MODEL}).")


class OpenAITranslator:
    """A chat model behind an OpenAI-compatible ``/chat/completions`` endpoint.

    Args:
        model: Model name; default ``$IMTRANS_OPENAI_MODEL``, else gpt-4o-mini on api.openai.com.
        timeout: Seconds to wait for the answer (local models can be slow: raise it).
    """

    name = "openai"
    packages = ("httpx",)
    Options = OpenAISettings

    @classmethod
    def from_settings(cls, settings: OpenAISettings) -> OpenAITranslator:
        return cls(settings.model, timeout=settings.timeout)

    def __init__(self, model: str | None = None, *, timeout: float = 30.0) -> None:
        base = env_value(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.url = f"{base.rstrip('/')}/chat/completions"
        official = base.rstrip("/") == DEFAULT_BASE_URL
        self._key = require_key(self.name, KEY_ENV) if official else env_value(KEY_ENV)
        chosen = model or env_value(MODEL_ENV) or (DEFAULT_MODEL if official else None)
        if chosen is None:
            raise TranslatorError(
                f"openai: name the model your server at {base} runs: set {MODEL_ENV} or the translate model setting"
            )
        self.model = chosen
        self._http = ServiceClient(self.name, key_env=KEY_ENV, timeout=timeout)

    def check_pair(self, source: str, target: str) -> None:
        """Fail with one line for a language imtrans cannot name in the prompt."""
        service_code(self.name, TARGET_LANGUAGES, source)
        service_code(self.name, TARGET_LANGUAGES, target)

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """All non-blank segments in one request."""
        self.check_pair(source, target)
        out = translate_nonblank(texts, lambda batch: self._request(batch, source, target), self.name)
        return Translated(check_aligned(texts, out, self.name))

    def _request(self, texts: list[str], source: str, target: str) -> list[str]:
        system = _SYSTEM.format(
            source=TARGET_LANGUAGES[source], target=TARGET_LANGUAGES[target], count=len(texts)
        )
        user = json.dumps([{"id": i + 1, "text": t} for i, t in enumerate(texts)], ensure_ascii=False)
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else None
        data = self._http.post_json(
            self.url,
            json_body={
                "model": self.model,
                "temperature": 0,
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            },
            headers=headers,
        )
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise malformed(self.name, "no choices[0].message.content") from None
        if not isinstance(content, str):
            raise malformed(self.name, "message content is not text")
        return check_aligned(texts, parse_translations(content, len(texts)), self.name)


def parse_translations(content: str, count: int) -> list[str]:
    """Read the model's JSON array of translations, forgiving the usual wrapping.

    Accepts an array of strings, or of objects with ``translation`` (or ``text``) and
    optionally ``id`` (then ordered by id), possibly in a code fence, with prose
    around it, or under a single key of an object.

    Raises:
        TranslatorError: No JSON array can be found, or an item has no text.
    """
    value = _first_json_array(content)
    if value is None:
        raise malformed("openai", f"no JSON array in the answer: {' '.join(content.split())[:80]!r}")
    items: list[Any] = value
    if items and all(isinstance(x, dict) for x in items):
        if all(isinstance(x.get("id"), int) for x in items) and sorted(x["id"] for x in items) == list(
            range(1, len(items) + 1)
        ):
            items = sorted(items, key=lambda x: x["id"])
        items = [x.get("translation", x.get("text")) for x in items]
    if not all(isinstance(x, str) for x in items):
        raise malformed("openai", "an item of the answer has no translation text")
    if len(items) != count:
        raise TranslatorError(f"openai returned {len(items)} translations for {count} segments")
    return items


def _first_json_array(content: str) -> list[Any] | None:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    for candidate in (text, text[text.find("[") : text.rfind("]") + 1] if "[" in text else ""):
        if not candidate:
            continue
        try:
            value = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(value, list):
            return value
        if isinstance(value, dict):
            lists = [v for v in value.values() if isinstance(v, list)]
            if len(lists) == 1:
                return lists[0]
    return None
