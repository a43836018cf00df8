"""Edits to a page's translations, and the page as the API shows it."""

from __future__ import annotations

import pytest

from imtrans.serve.service import UnknownBlock, edited_page, public_page
from imtrans.types import Block, Line, Page, Quad, Translation


def sign_page() -> Page:
    def block(i: int, text: str) -> Block:
        quad = Quad.from_rect(10, 10 + 40 * i, 200, 40 + 40 * i)
        return Block(f"b{i}", quad, (Line(f"l{i}", quad, text=text, language="ko"),), language="ko")

    blocks = (block(0, "서울역"), block(1, "출구"))
    translations = {"b0": Translation("b0", "Seoul Station", "ko", "en", "glossary")}
    return Page(
        300,
        100,
        blocks,
        translations,
        target_lang="en",
        settings={"translate": {"glossary": "/srv/imtrans/results/abc/glossary"}},
    )


def test_an_edit_replaces_a_translation_and_marks_it_edited():
    page = edited_page(sign_page(), {"b0": "  Main Station "})
    t = page.translations["b0"]
    assert (t.text, t.translator, t.source_lang, t.target_lang) == ("Main Station", "edited", "ko", "en")


def test_an_edit_can_translate_a_block_that_had_no_translation():
    page = edited_page(sign_page(), {"b1": "Exit"})
    assert page.translations["b1"].text == "Exit" and page.translations["b0"].text == "Seoul Station"


def test_an_empty_edit_removes_the_translation():
    assert "b0" not in edited_page(sign_page(), {"b0": "  "}).translations


def test_an_edit_of_an_unknown_block_is_refused():
    with pytest.raises(UnknownBlock, match="no block 'b7'"):
        edited_page(sign_page(), {"b7": "x"})


def test_the_public_page_names_an_uploaded_glossary_without_its_server_path():
    data = public_page(sign_page())
    assert data["settings"]["translate"]["glossary"] == "glossary"
    assert data["blocks"][0]["translation"]["text"] == "Seoul Station"
