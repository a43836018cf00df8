"""DeepL API v2.

``POST {base}/v2/translate`` with ``Authorization: DeepL-Auth-Key KEY`` and a JSON
body ``{"text": [...], "source_lang": "KO", "target_lang": "EN-US"}``; the answer is
``{"translations": [{"text": ...}, ...]}`` in input order. Up to 50 texts go in one
request. Free-plan keys (ending in ``:fx``) use api-free.deepl.com.

Environment: ``DEEPL_AUTH_KEY``; ``IMTRANS_DEEPL_URL`` replaces the base URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imtrans.translate.base import (
    ServiceSettings,
    Translated,
    check_aligned,
    service_code,
    translate_nonblank,
)
from imtrans.translate.http import ServiceClient, env_value, malformed, require_key

KEY_ENV = "DEEPL_AUTH_KEY"
URL_ENV = "IMTRANS_DEEPL_URL"
PRO_URL = "https://api.deepl.com"
FREE_URL = "https://api-free.deepl.com"
#: Most texts DeepL accepts in one request.
MAX_TEXTS = 50

SOURCE_CODES = {
    "ko": "KO", "en": "EN", "ja": "JA", "zh": "ZH", "fr": "FR", "de": "DE", "es": "ES",
    "it": "IT", "pt": "PT", "nl": "NL", "ru": "RU", "id": "ID", "vi": "VI",
}  # fmt: skip
TARGET_CODES = {**SOURCE_CODES, "en": "EN-US", "pt": "PT-PT", "zh": "ZH-HANS"}


class DeepLTranslator:
    """DeepL, batched (up to 50 segments per request).

    Args:
        timeout: Seconds to wait for each request.
    """

    name = "deepl"
    packages = ("httpx",)
    model = "v2"

    Options = ServiceSettings

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> DeepLTranslator:
        return cls(timeout=settings.timeout)

    def __init__(self, *, timeout: float = 30.0) -> None:
        self._key = require_key(self.name, KEY_ENV)
        base = env_value(URL_ENV) or (FREE_URL if self._key.endswith(":fx") else PRO_URL)
        self.url = f"{base.rstrip('/')}/v2/translate"
        self._http = ServiceClient(self.name, key_env=KEY_ENV, timeout=timeout)

    def check_pair(self, source: str, target: str) -> None:
        """Fail with one line when DeepL does not know one of the languages."""
        service_code(self.name, SOURCE_CODES, source)
        service_code(self.name, TARGET_CODES, target)

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """All non-blank segments, in requests of up to 50."""
        self.check_pair(source, target)

        def run(batch: list[str]) -> list[str]:
            out: list[str] = []
            for start in range(0, len(batch), MAX_TEXTS):
                out += self._request(
                    batch[start : start + MAX_TEXTS], SOURCE_CODES[source], TARGET_CODES[target]
                )
            return out

        return Translated(check_aligned(texts, translate_nonblank(texts, run, self.name), self.name))

    def _request(self, texts: list[str], source: str, target: str) -> list[str]:
        data = self._http.post_json(
            self.url,
            json_body={"text": texts, "source_lang": source, "target_lang": target},
            headers={"Authorization": f"DeepL-Auth-Key {self._key}"},
        )
        return check_aligned(texts, _texts(data), self.name)


def _texts(data: Any) -> list[str]:
    try:
        return [item["text"] for item in data["translations"]]
    except (KeyError, TypeError):
        raise malformed("deepl", "no translations[].text") from None
