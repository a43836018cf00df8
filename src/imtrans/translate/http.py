"""The one place that talks HTTP to translation services and turns every failure into one line.

Each service backend builds a `ServiceClient` once (connections are reused across
pages) and calls `post_json`; whatever goes wrong (no network, timeout, wrong key,
rate limit, server error, a body that is not JSON) comes back as a one-line
`TranslatorError` that names the service and, for key problems, the environment
variable to check.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import urlsplit

import httpx

from imtrans.errors import TranslatorError

_DETAIL_CHARS = 200


def env_value(*names: str) -> str | None:
    """The value of the first of these environment variables that is set and not blank."""
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def require_key(service: str, *names: str) -> str:
    """The first set environment variable of `names`, or a one-line error naming the first.

    Args:
        service: Service name for the message.
        names: Accepted variable names, preferred first.

    Raises:
        TranslatorError: None of them is set.
    """
    value = env_value(*names)
    if value is None:
        also = f" (or {', '.join(names[1:])})" if len(names) > 1 else ""
        raise TranslatorError(f"{service} needs an API key: set the environment variable {names[0]}{also}")
    return value


def malformed(service: str, what: str) -> TranslatorError:
    """The error for a response that parsed but does not have the expected shape."""
    return TranslatorError(f"{service} sent a malformed response: {what}")


class ServiceClient:
    """An HTTP client for one translation service, with errors mapped to one line each.

    Args:
        service: Name used in every message (``papago``, ``deepl``...).
        key_env: The environment variable holding the key, named in wrong-key messages.
        timeout: Seconds to wait for the service (connect and each read).
    """

    def __init__(self, service: str, *, key_env: str, timeout: float) -> None:
        self.service = service
        self.key_env = key_env
        self.timeout = timeout
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post_json(
        self,
        url: str,
        *,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        """POST and return the decoded JSON answer.

        Args:
            url: Full endpoint URL.
            json_body: Body sent as JSON (exclusive with `form`).
            form: Body sent as application/x-www-form-urlencoded.
            params: Query parameters.
            headers: Extra headers (keys, content negotiation).

        Returns:
            The parsed JSON value.

        Raises:
            TranslatorError: On any transport, HTTP or decoding failure.
        """
        host = urlsplit(url).netloc or url
        try:
            response = self._client.post(url, json=json_body, data=form, params=params, headers=headers)
        except httpx.TimeoutException:
            raise TranslatorError(
                f"{self.service}: no answer from {host} within {self.timeout:g} s (raise translate.timeout?)"
            ) from None
        except httpx.HTTPError as e:
            raise TranslatorError(
                f"{self.service}: cannot reach {host}: {_one_line(str(e)) or type(e).__name__}"
            ) from None
        error = status_error(self.service, self.key_env, response)
        if error is not None:
            raise error
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise malformed(self.service, f"not JSON: {_one_line(response.text)[:80]!r}") from None

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()


def status_error(service: str, key_env: str, response: httpx.Response) -> TranslatorError | None:
    """The one-line error for a failed HTTP status, or None for a success.

    401 and 403 mean a wrong key, and so does a 400 whose message mentions the API key
    (Google answers an invalid key that way). 429 and DeepL's 456 mean too many requests
    or a used-up quota. 5xx is the service's own trouble.
    """
    code = response.status_code
    if code < 400:
        return None
    detail = service_detail(response)
    suffix = f": {detail}" if detail else ""
    if code in (401, 403) or (code == 400 and "api key" in detail.lower()):
        return TranslatorError(f"{service} rejected the API key (HTTP {code}{suffix}); check {key_env}")
    if code in (429, 456):
        return TranslatorError(
            f"{service}: too many requests or quota used up (HTTP {code}{suffix}); wait, or check your plan"
        )
    if code >= 500:
        return TranslatorError(f"{service} had a server error (HTTP {code}{suffix}); try again later")
    return TranslatorError(f"{service} refused the request (HTTP {code}{suffix})")


def service_detail(response: httpx.Response) -> str:
    """A short message from an error body: JSON ``message``/``error`` fields, else the text."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return _one_line(response.text)[:_DETAIL_CHARS]
    return _one_line(_find_message(body))[:_DETAIL_CHARS]


def _find_message(body: Any) -> str:
    if isinstance(body, str):
        return body
    if not isinstance(body, dict):
        return ""
    parts = []
    for key in ("errorCode", "code"):
        if isinstance(body.get(key), str):
            parts.append(body[key])
    for key in ("message", "detail", "error_description"):
        if isinstance(body.get(key), str):
            parts.append(body[key])
            break
    else:
        if "error" in body:
            return _find_message(body["error"])
    return " ".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())
