"""The rules every backend shares: alignment, blank segments, notes, and HTTP error lines."""

from __future__ import annotations

import httpx
import pytest

from imtrans.errors import TranslatorError
from imtrans.translate.base import SegmentNote, check_aligned, notes_to_diagnostics, translate_nonblank
from imtrans.translate.http import require_key, status_error
from imtrans.translate.openai import parse_translations
from imtrans.types import Severity, TranslateCode


def test_check_aligned_passes_equal_counts() -> None:
    assert check_aligned(["a", "b"], ("x", "y"), "b") == ["x", "y"]


@pytest.mark.parametrize("out", [["x"], ["x", "y", "z"], []])
def test_check_aligned_rejects_other_counts_in_one_line(out: list[str]) -> None:
    with pytest.raises(TranslatorError, match=rf"^svc returned {len(out)} translations for 2 segments$"):
        check_aligned(["a", "b"], out, "svc")


def test_check_aligned_rejects_non_strings() -> None:
    with pytest.raises(TranslatorError, match="not a string"):
        check_aligned(["a"], [None], "svc")  # type: ignore[list-item]


def test_translate_nonblank_sends_only_visible_text_once() -> None:
    calls = []

    def fake(batch: list[str]) -> list[str]:
        calls.append(batch)
        return [t + "!" for t in batch]

    assert translate_nonblank(["a", "", "  ", "b"], fake, "x") == ["a!", "", "  ", "b!"]
    assert calls == [["a", "b"]]
    assert translate_nonblank(["", " "], fake, "x") == ["", " "]
    assert len(calls) == 1


def test_translate_nonblank_reports_a_short_answer() -> None:
    with pytest.raises(TranslatorError, match="x returned 1 translations for 2 segments"):
        translate_nonblank(["a", "b"], lambda batch: ["only one"], "x")


def test_notes_become_diagnostics_with_block_ids() -> None:
    notes = [
        SegmentNote(1, TranslateCode.GLOSSARY_MISS, "m"),
        SegmentNote(0, TranslateCode.GLOSSARY_FUZZY, "f", Severity.INFO),
    ]
    diags = notes_to_diagnostics(notes, ["b0", "b1"])
    assert [(d.stage, d.code, d.block_id, d.severity) for d in diags] == [
        ("translate", "glossary_miss", "b1", Severity.WARNING),
        ("translate", "glossary_fuzzy", "b0", Severity.INFO),
    ]


def _response(code: int, body: object = None, text: str = "") -> httpx.Response:
    if body is not None:
        return httpx.Response(code, json=body)
    return httpx.Response(code, text=text)


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (_response(200, {}), None),
        (
            _response(401, {"message": "Wrong key"}),
            "svc rejected the API key (HTTP 401: Wrong key); check KEY_ENV",
        ),
        (_response(403, text="Forbidden"), "svc rejected the API key (HTTP 403: Forbidden); check KEY_ENV"),
        (
            _response(
                400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key."}}
            ),
            "svc rejected the API key (HTTP 400: API key not valid. Please pass a valid API key.); check KEY_ENV",
        ),
        (
            _response(429, {"error": {"errorCode": "N2MT09", "message": "Quota Exceeded"}}),
            "svc: too many requests or quota used up (HTTP 429: N2MT09 Quota Exceeded); wait, or check your plan",
        ),
        (
            _response(456, {"message": "Quota exceeded"}),
            "svc: too many requests or quota used up (HTTP 456: Quota exceeded); wait, or check your plan",
        ),
        (
            _response(503, text="<html>\n<b>down</b>\n</html>"),
            "svc had a server error (HTTP 503: <html> <b>down</b> </html>); try again later",
        ),
        (_response(400, {"detail": "bad lang"}), "svc refused the request (HTTP 400: bad lang)"),
        (_response(404, text=""), "svc refused the request (HTTP 404)"),
    ],
)
def test_status_error_golden_table(response: httpx.Response, expected: str | None) -> None:
    error = status_error("svc", "KEY_ENV", response)
    assert (str(error) if error else None) == expected


def test_require_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("A_KEY", raising=False)
    monkeypatch.setenv("B_KEY", "  ")
    with pytest.raises(
        TranslatorError, match=r"^svc needs an API key: set the environment variable A_KEY \(or B_KEY\)$"
    ):
        require_key("svc", "A_KEY", "B_KEY")
    monkeypatch.setenv("B_KEY", "k2")
    assert require_key("svc", "A_KEY", "B_KEY") == "k2"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('["a", "b"]', ["a", "b"]),
        ('```json\n["a", "b"]\n```', ["a", "b"]),
        ('Here you go:\n[{"id": 2, "translation": "b"}, {"id": 1, "translation": "a"}]\nDone.', ["a", "b"]),
        ('{"translations": ["a", "b"]}', ["a", "b"]),
        ('[{"id": 1, "text": "a"}, {"id": 2, "text": "b"}]', ["a", "b"]),
        ('["a [1]", "b"]', ["a [1]", "b"]),
    ],
)
def test_parse_translations_forgives_common_wrapping(content: str, expected: list[str]) -> None:
    assert parse_translations(content, 2) == expected


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("I cannot translate that.", "no JSON array"),
        ('["a"]', "returned 1 translations for 2 segments"),
        ('[{"id": 1}, {"id": 2}]', "has no translation text"),
    ],
)
def test_parse_translations_rejects_unusable_answers(content: str, fragment: str) -> None:
    with pytest.raises(TranslatorError, match=fragment):
        parse_translations(content, 2)
