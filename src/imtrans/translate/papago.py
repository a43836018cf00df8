"""NAVER Cloud Papago Text Translation (NMT) API.

One request per segment (the API takes one text): ``POST {url}`` with the headers
``X-NCP-APIGW-API-KEY-ID`` / ``X-NCP-APIGW-API-KEY`` and a form body
``source, target, text``; the answer is
``{"message": {"result": {"translatedText": ...}}}``.

Environment: ``IMTRANS_PAPAGO_CLIENT_ID`` and ``IMTRANS_PAPAGO_CLIENT_SECRET`` (or
``NCP_CLIENT_ID`` / ``NCP_CLIENT_SECRET``); ``IMTRANS_PAPAGO_URL`` replaces the endpoint.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imtrans.errors import TranslatorError
from imtrans.translate.base import (
    ServiceSettings,
    Translated,
    check_aligned,
    service_code,
    translate_nonblank,
)
from imtrans.translate.http import ServiceClient, env_value, malformed, require_key

DEFAULT_URL = "https://papago.apigw.ntruss.com/nmt/v1/translation"
ID_ENV = ("IMTRANS_PAPAGO_CLIENT_ID", "NCP_CLIENT_ID")
SECRET_ENV = ("IMTRANS_PAPAGO_CLIENT_SECRET", "NCP_CLIENT_SECRET")
URL_ENV = "IMTRANS_PAPAGO_URL"

#: Our codes -> Papago's, for the languages imtrans knows that Papago translates.
CODES = {
    "ko": "ko", "en": "en", "ja": "ja", "zh": "zh-CN", "vi": "vi", "id": "id",
    "fr": "fr", "es": "es", "ru": "ru", "de": "de", "it": "it",
}  # fmt: skip

# Papago translates only these pairs (both directions), per NAVER Cloud's guide.
_PAIRS = (
    {frozenset(("ko", x)) for x in ("en", "ja", "zh-CN", "vi", "id", "fr", "es", "ru", "de", "it")}
    | {frozenset(("en", x)) for x in ("ja", "zh-CN", "vi", "id", "fr", "es", "ru", "de")}
    | {frozenset(("ja", x)) for x in ("zh-CN", "vi", "id", "fr")}
)


class PapagoTranslator:
    """Papago NMT through NAVER Cloud's API gateway.

    Args:
        timeout: Seconds to wait for each request.
    """

    name = "papago"
    packages = ("httpx",)
    model = "nmt-v1"

    Options = ServiceSettings

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> PapagoTranslator:
        return cls(timeout=settings.timeout)

    def __init__(self, *, timeout: float = 30.0) -> None:
        self._client_id = require_key(self.name, *ID_ENV)
        self._secret = require_key(self.name, *SECRET_ENV)
        self.url = env_value(URL_ENV) or DEFAULT_URL
        self._http = ServiceClient(self.name, key_env=f"{ID_ENV[0]} and {SECRET_ENV[0]}", timeout=timeout)

    def check_pair(self, source: str, target: str) -> None:
        """Fail with one line when Papago does not translate this pair."""
        src, tgt = service_code(self.name, CODES, source), service_code(self.name, CODES, target)
        if frozenset((src, tgt)) not in _PAIRS:
            raise TranslatorError(f"papago does not translate {source}->{target}")

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """One request per non-blank segment."""
        self.check_pair(source, target)
        src, tgt = CODES[source], CODES[target]
        out = translate_nonblank(texts, lambda batch: [self._one(t, src, tgt) for t in batch], self.name)
        return Translated(check_aligned(texts, out, self.name))

    def _one(self, text: str, source: str, target: str) -> str:
        headers = {"X-NCP-APIGW-API-KEY-ID": self._client_id, "X-NCP-APIGW-API-KEY": self._secret}
        data = self._http.post_json(
            self.url, form={"source": source, "target": target, "text": text}, headers=headers
        )
        return _translated_text(data)


def _translated_text(data: Any) -> str:
    try:
        text = data["message"]["result"]["translatedText"]
    except (KeyError, TypeError):
        raise malformed("papago", "no message.result.translatedText") from None
    if not isinstance(text, str):
        raise malformed("papago", "translatedText is not a string")
    return text
