"""Stage registries, backend options as settings sections, settings resolution, import graph."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

import imtrans
from imtrans.detect.ppocr import PPOCRDetectSettings
from imtrans.erase.gan import GanSettings
from imtrans.erase.telea import TeleaSettings
from imtrans.errors import ConfigError
from imtrans.registry import DETECTORS, ERASERS, RECOGNIZERS, REGISTRIES, TRANSLATORS
from imtrans.settings import (
    CONFIG_ENV,
    DetectSettings,
    EraseSettings,
    RecognizeSettings,
    Settings,
    TranslateSettings,
    resolve_settings,
    stage_settings,
)
from imtrans.translate.base import ServiceSettings
from imtrans.translate.local import LocalSettings

SRC = Path(imtrans.__file__).resolve().parent
_SECTIONS = {
    "detect": DetectSettings,
    "recognize": RecognizeSettings,
    "translate": TranslateSettings,
    "erase": EraseSettings,
}


def test_every_builtin_backend_imports_and_declares_its_options() -> None:
    for registry in REGISTRIES.values():
        assert registry.default in registry.names()
        for name in registry.names():
            backend = registry.backend(name)
            assert callable(backend.from_settings), name
            # An options model extends its stage's section, so it can stand for the section.
            assert issubclass(backend.Options, _SECTIONS[registry.stage]), name


def test_the_default_sections_are_the_default_backends_options() -> None:
    s = Settings()
    assert isinstance(s.detect, PPOCRDetectSettings)
    assert isinstance(s.erase, TeleaSettings)
    assert isinstance(s.translate, LocalSettings)
    assert s.recognize.korean == "korean-ctc"


def test_naming_another_backend_leaves_the_old_ones_options_behind() -> None:
    s = Settings().with_overrides(
        {"erase.backend": "gan", "translate.translator": "deepl", "translate.timeout": 5}
    )
    assert isinstance(s.erase, GanSettings) and "inpaint_radius" not in s.to_dict()["erase"]
    assert isinstance(s.translate, ServiceSettings) and s.translate.timeout == 5
    assert "model_dir" not in s.to_dict()["translate"]
    # Options the named backend does not have are an error, not silently dropped.
    with pytest.raises(ConfigError, match="'erase.inpaint_radius' for erase backend 'gan'"):
        Settings().with_overrides({"erase.backend": "gan", "erase.inpaint_radius": 5})
    with pytest.raises(ConfigError, match="'translate.timeout' for translate backend 'local'"):
        Settings().with_overrides({"translate.timeout": 5})


def test_an_unknown_backend_names_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="unknown erase backend 'lama'; known: telea, ns, gan"):
        Settings().with_overrides({"erase.backend": "lama"})
    with pytest.raises(ConfigError, match="unknown detect backend"):
        stage_settings("detect", backend="east")


def test_a_saved_file_with_another_backends_options_still_loads(tmp_path: Path) -> None:
    data = Settings().to_dict()
    data["erase"]["backend"] = "gan"  # inpaint_radius of telea is still there
    data["translate"].update(translator="openai", timeout=60)  # model_dir of local too
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    s = Settings.load(path)
    assert isinstance(s.erase, GanSettings) and s.translate.timeout == 60
    data["erase"]["inpaint_radus"] = 3  # a typo no eraser has
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="inpaint_radus"):
        Settings.load(path)


def test_settings_come_from_the_file_then_set_then_named_options(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"detect": {"max_side": 1024}, "translate": {"target": "ja"}}))
    monkeypatch.setenv(CONFIG_ENV, str(path))
    s = resolve_settings(
        None, ["translate.target=zh", "detect.extra_scales=[]"], **{"translate.target": None}
    )
    assert (s.detect.max_side, s.detect.extra_scales, s.translate.target) == (1024, [], "zh")
    s = resolve_settings(None, ["translate.target=zh"], **{"translate.target": "ko"})
    assert s.translate.target == "ko"
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        resolve_settings(None, ["translate.target"])


def test_a_backend_registered_at_run_time_is_named_like_the_others() -> None:
    class Flat:
        Options = TeleaSettings

        @classmethod
        def from_settings(cls, settings: TeleaSettings) -> Flat:
            return cls()

    ERASERS.register("flat", Flat)
    try:
        assert "flat" in ERASERS.names()
        s = Settings().with_overrides({"erase.backend": "flat", "erase.inpaint_radius": 4})
        assert isinstance(ERASERS.build(s.erase), Flat)
    finally:
        ERASERS.unregister("flat")
    assert "flat" not in ERASERS.names()
    with pytest.raises(TypeError, match="Options"):
        DETECTORS.register("bare", object)


def test_registries_are_the_lists_users_see() -> None:
    from imtrans.serve.app import TranslatorName

    assert [t.value for t in TranslatorName] == list(TRANSLATORS.names())
    assert RECOGNIZERS.names()[:4] == ("auto", "ppocr", "tesseract", "korean-ctc")


def _imports(path: Path, module: str) -> set[str]:
    """Modules of imtrans that `module` imports anywhere (also inside functions), TYPE_CHECKING aside."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.update(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module:
                base = child.module
                if child.level:
                    base = ".".join(module.split(".")[: -child.level] + [child.module])
                found.add(base)
                found.update(f"{base}.{a.name}" for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return found


def test_no_module_of_imtrans_imports_itself_through_others() -> None:
    modules = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(("imtrans", *path.relative_to(SRC).with_suffix("").parts)).removesuffix(".__init__")
        modules[name] = path
    graph = {m: {d for d in _imports(p, m) if d in modules and d != m} for m, p in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            walk(m, [m])
    assert cycles == [], " -> ".join(cycles[0])


def test_the_diagnostics_table_names_every_code_and_no_other() -> None:
    from imtrans.types import STAGE_OF_CODES

    table = (SRC.parents[1] / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    rows = {
        (cells[1], cells[2].strip("`"))
        for line in table.splitlines()
        if line.startswith("| ") and len(cells := [c.strip() for c in line.split("|")]) > 3
    } - {("stage", "code")}
    codes = {(stage, str(code)) for enum, stage in STAGE_OF_CODES.items() for code in enum}
    assert rows == codes


def test_results_record_the_versions_of_what_the_named_backends_run_on() -> None:
    from imtrans.pipeline import Pipeline

    local = Pipeline().versions
    service = Pipeline(Settings().with_overrides({"translate.translator": "deepl"})).versions
    assert {"imtrans", "rapidocr", "onnxruntime", "tesserocr"} <= set(local)
    assert "torch" in local and "torch" not in service and "httpx" in service


def test_a_stage_section_of_the_base_model_builds_with_the_backends_defaults() -> None:
    from imtrans.recognize import make_recognizer
    from imtrans.recognize.route import RoutingRecognizer

    router = make_recognizer(RecognizeSettings(min_confidence=0.5))
    assert isinstance(router, RoutingRecognizer)
    assert (router.settings.korean, router.settings.min_confidence) == ("korean-ctc", 0.5)


def test_a_deeply_nested_settings_file_is_one_config_error(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        Settings.load(path)
