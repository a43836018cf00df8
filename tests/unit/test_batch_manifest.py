"""The resume manifest and the settings hash that decides what a rerun redoes."""

from __future__ import annotations

import json

import pytest

from imtrans.batch.manifest import Manifest
from imtrans.errors import OutputError
from imtrans.settings import Settings, settings_hash


def test_a_page_is_done_only_with_the_same_input_and_settings_and_no_error(tmp_path):
    m = Manifest(tmp_path / "manifest.json")
    m.record_page("a.png", "in1", "s1", None, 1.0)
    m.record_page("b.png", "in2", "s1", "b.png: corrupt", 0.1)
    assert m.is_done("a.png", "in1", "s1")
    assert not m.is_done("a.png", "in-changed", "s1")
    assert not m.is_done("a.png", "in1", "s-changed")
    assert not m.is_done("b.png", "in2", "s1")  # failed pages are redone
    assert not m.is_done("c.png", "in3", "s1")


def test_the_manifest_round_trips_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "manifest.json"
    m = Manifest(path)
    m.record_page("doc.pdf#page=1", "h", "s", None, 2.5)
    m.record_document("doc.pdf", "assembly")
    m.save()
    back = Manifest.load(path)
    assert back.pages == m.pages and back.documents == m.documents
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_a_manifest_of_another_version_is_ignored_and_garbage_is_refused(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"version": 999, "pages": {"x": 1}}))
    assert Manifest.load(path).pages == {}
    path.write_text("{not json")
    with pytest.raises(OutputError, match="not a readable batch manifest"):
        Manifest.load(path)
    assert Manifest.load(tmp_path / "none.json").pages == {}


def test_the_settings_hash_follows_what_changes_outputs(tmp_path):
    glossary = tmp_path / "g.csv"
    glossary.write_text("서울역,Seoul Station\n")
    base = Settings().with_overrides({"translate.glossary": str(glossary)})
    h = settings_hash(base)
    assert settings_hash(base.with_overrides({"translate.cache_path": str(tmp_path / "c.db")})) == h
    assert settings_hash(base.with_overrides({"translate.cache": False})) == h
    assert settings_hash(base.with_overrides({"translate.target": "ja"})) != h
    assert settings_hash(base.with_overrides({"detect.max_side": 1024})) != h
    glossary.write_text("서울역,Seoul Stn.\n")  # same path, new rows
    assert settings_hash(base) != h
