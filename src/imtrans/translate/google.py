"""Google Cloud Translation API, basic edition (v2 REST).

``POST {url}?key=KEY`` with a JSON body
``{"q": [...], "source": "ko", "target": "en", "format": "text"}``; the answer is
``{"data": {"translations": [{"translatedText": ...}, ...]}}`` in input order (HTML
entities are unescaped, in case a text was treated as HTML). Up to 128 texts go in
one request.

Environment: ``GOOGLE_TRANSLATE_API_KEY``; ``IMTRANS_GOOGLE_URL`` replaces the endpoint.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from imtrans.languages import TARGET_LANGUAGES
from imtrans.translate.base import (
    ServiceSettings,
    Translated,
    check_aligned,
    service_code,
    translate_nonblank,
)
from imtrans.translate.http import ServiceClient, env_value, malformed, require_key

KEY_ENV = "GOOGLE_TRANSLATE_API_KEY"
URL_ENV = "IMTRANS_GOOGLE_URL"
DEFAULT_URL = "https://translation.googleapis.com/language/translate/v2"
#: Most texts one v2 request may carry.
MAX_TEXTS = 128

#: Google uses ISO 639-1 codes, with zh-CN for simplified Chinese.
CODES = {**{code: code for code in TARGET_LANGUAGES}, "zh": "zh-CN"}


class GoogleTranslator:
    """Google Cloud Translation v2, batched (up to 128 segments per request).

    Args:
        timeout: Seconds to wait for each request.
    """

    name = "google"
    packages = ("httpx",)
    model = "v2"

    Options = ServiceSettings

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> GoogleTranslator:
        return cls(timeout=settings.timeout)

    def __init__(self, *, timeout: float = 30.0) -> None:
        self._key = require_key(self.name, KEY_ENV)
        self.url = env_value(URL_ENV) or DEFAULT_URL
        self._http = ServiceClient(self.name, key_env=KEY_ENV, timeout=timeout)

    def check_pair(self, source: str, target: str) -> None:
        """Fail with one line when one of the languages has no Google code here."""
        service_code(self.name, CODES, source)
        service_code(self.name, CODES, target)

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """All non-blank segments, in requests of up to 128."""
        self.check_pair(source, target)

        def run(batch: list[str]) -> list[str]:
            out: list[str] = []
            for start in range(0, len(batch), MAX_TEXTS):
                out += self._request(batch[start : start + MAX_TEXTS], CODES[source], CODES[target])
            return out

        return Translated(check_aligned(texts, translate_nonblank(texts, run, self.name), self.name))

    def _request(self, texts: list[str], source: str, target: str) -> list[str]:
        data = self._http.post_json(
            self.url,
            params={"key": self._key},
            json_body={"q": texts, "source": source, "target": target, "format": "text"},
        )
        return check_aligned(texts, _texts(data), self.name)


def _texts(data: Any) -> list[str]:
    try:
        items = data["data"]["translations"]
        return [html.unescape(item["translatedText"]) for item in items]
    except (KeyError, TypeError):
        raise malformed("google", "no data.translations[].translatedText") from None
