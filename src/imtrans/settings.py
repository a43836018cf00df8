"""One settings model, a section per stage. The CLI, the Python API and the JSON output read it.

Keys and tokens never live here: backends read them from environment variables, so a
saved settings file can be shared without leaking them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from imtrans.errors import ConfigError
from imtrans.languages import source_language, target_language
from imtrans.registry import REGISTRIES, settings_backend


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ImageSettings(_Section):
    max_pixels: int = Field(40_000_000, ge=1, description="Refuse images with more pixels than this.")
    max_bytes: int = Field(200_000_000, ge=1, description="Refuse image files larger than this.")


class DetectSettings(_Section):
    """The detect section: what every detector shares. A backend's options extend it (registry.py)."""

    backend: str = Field("ppocr", description="Detector backend (see `imtrans config --backends`).")
    orientation: Literal["auto", "off"] = Field(
        "auto",
        description="Find pages turned by 90, 180 or 270 degrees (tried only when the text reads poorly).",
    )


class RecognizeSettings(_Section):
    """The recognize section: what every recogniser shares."""

    backend: str = Field("auto", description="Recogniser backend; auto picks an engine per line by script.")
    source: str = Field("auto", description="Source language: ko, en, ja, zh or auto (per line by script).")
    min_confidence: float = Field(0.3, ge=0, le=1, description="Lines read with less confidence are dropped.")
    grid_columns: bool = Field(
        True,
        description="Rows of Han glyphs closer together than their glyphs (short columns set side by "
        "side, a menu's items) are read again down the columns, and erased as the rows.",
    )

    @field_validator("source")
    @classmethod
    def _known_source(cls, v: str) -> str:
        return source_language(v)


class GroupSettings(_Section):
    max_line_gap: float = Field(
        0.6, ge=0, description="Largest gap between lines of a block, in line heights."
    )
    max_height_ratio: float = Field(1.3, ge=1, description="Largest ratio of line heights inside a block.")
    same_row_gap: float = Field(
        1.0, ge=0, description="Largest gap between pieces of one line on a row, in line heights."
    )
    separate_items: bool = Field(
        True,
        description="Keep apart what geometry would join: numbers from words, menu items from each "
        "other, lines across a divider or on different background colours.",
    )


class TranslateSettings(_Section):
    """The translate section: what every translator shares (target, glossary in front, cache)."""

    target: str = Field("en", description="Target language.")
    translator: str | None = Field(
        None, description="Backend; default: glossary when a glossary is given, else local."
    )
    glossary: Path | None = Field(None, description="CSV or JSON of fixed translations, used first.")
    fuzzy_threshold: float = Field(90.0, ge=0, le=100, description="Glossary fuzzy-match score (0-100).")
    cache: bool = Field(True, description="Cache translations in an SQLite file in the user cache.")
    cache_path: Path | None = Field(None, description="Cache file (default: user cache dir).")

    @field_validator("target")
    @classmethod
    def _known_target(cls, v: str) -> str:
        return target_language(v)

    @property
    def resolved_translator(self) -> str:
        return settings_backend("translate", self)


class EraseSettings(_Section):
    """The erase section: the text mask every eraser fills (its options extend this)."""

    backend: str = Field("telea", description="Eraser backend: telea, ns, gan, or a registered one.")
    dilate: int = Field(2, ge=0, le=20, description="Pixels to grow the text mask by.")


class RenderSettings(_Section):
    min_font_px: int = Field(
        10, ge=4, description="Smallest legible font size; text that needs less is reported."
    )
    max_font_px: int = Field(
        1000,
        ge=8,
        description="Largest font size drawn (a translation is also kept within 1.2x its source's size).",
    )
    vertical_for_cjk: bool = Field(
        True, description="Draw ja/zh translations vertically when the source was vertical."
    )
    font_path: Path | None = Field(None, description="Use this font file for every language.")


class CheckSettings(_Section):
    """The check section: what imtrans checks of its own output, and what it repairs (`imtrans.check`)."""

    mode: Literal["off", "report", "repair"] = Field(
        "repair",
        description="Check each block after rendering (residue, legibility, fit, contrast, damage): "
        "off; report (quality in the JSON); repair (mend what fails, then report).",
    )
    budget: float = Field(
        0.3, ge=0, le=10, description="Time repairs may take, as a share of the page's time before them."
    )
    read_back: Literal["suspicious", "all"] = Field(
        "suspicious",
        description="Read the drawn text back only for blocks the cheap checks find suspicious, or for all.",
    )


#: `check.mode`'s choices, as the CLI's `--check` and the API's `check` field offer them.
CHECK_MODES: tuple[str, ...] = get_args(CheckSettings.model_fields["mode"].annotation)


class ServeSettings(_Section):
    """How `imtrans serve` runs. Not a section of `Settings`: it decides nothing about an image,
    so it stays out of every result's recorded settings (`--set serve.KEY=VALUE` sets it)."""

    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8000, ge=0, le=65535, description="Port to listen on (0: any free port).")
    db_path: Path | None = Field(
        None, description="Job database (default: jobs.sqlite3 in the user data dir)."
    )
    workers: int = Field(0, ge=0, description="Pipelines working at once (0: one per CPU core).")
    queue_limit: int = Field(16, ge=0, description="Jobs that may wait for a worker; past it, 503.")
    retry_after: int = Field(5, ge=1, description="Seconds a 503 answer asks the client to wait.")
    max_upload_bytes: int = Field(20_000_000, ge=1, description="Largest request body (image and glossary).")
    max_glossary_bytes: int = Field(1_000_000, ge=1, description="Largest uploaded glossary file.")
    token_env: str = Field(
        "IMTRANS_API_TOKEN", description="Env var with the bearer token (unset: no token)."
    )
    cors_origins: list[str] = Field(default_factory=list, description="Origins allowed by CORS (none: off).")
    keep_hours: float = Field(
        0, ge=0, description="Delete finished jobs and their files this many hours after they end (0: keep)."
    )


def _default(stage: str) -> Any:
    return lambda: REGISTRIES[stage].options(REGISTRIES[stage].default)()


class Settings(_Section):
    """Everything that decides what imtrans does to an image.

    The detect, recognize, translate and erase sections are each the options model of the
    backend they name (`registry.py`): `--set erase.backend=gan` makes `erase` a `GanSettings`.
    """

    image: ImageSettings = Field(default_factory=ImageSettings)
    detect: SerializeAsAny[DetectSettings] = Field(default_factory=_default("detect"))
    recognize: SerializeAsAny[RecognizeSettings] = Field(default_factory=_default("recognize"))
    group: GroupSettings = Field(default_factory=GroupSettings)
    translate: SerializeAsAny[TranslateSettings] = Field(default_factory=_default("translate"))
    erase: SerializeAsAny[EraseSettings] = Field(default_factory=_default("erase"))
    render: RenderSettings = Field(default_factory=RenderSettings)
    check: CheckSettings = Field(default_factory=CheckSettings)

    @field_validator("detect", "recognize", "translate", "erase", mode="before")
    @classmethod
    def _backend_options(cls, value: Any, info: ValidationInfo) -> Any:
        """Validate a stage's section with the options model of the backend it names."""
        stage = str(info.field_name)
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if not isinstance(value, dict):
            return value
        try:
            options = REGISTRIES[stage].options(settings_backend(stage, value))
        except ConfigError as e:
            raise ValueError(str(e)) from None
        return options.model_validate(value)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings from a JSON file: a settings object, or a result JSON that records one.

        A section may carry options of another backend of its stage (a file saved before the
        backend was switched, or by an older version): those are left out. Keys that no
        backend of the stage knows are an error.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("settings"), dict) and "blocks" in data:
                data = data["settings"]
            if isinstance(data, dict):
                for stage in REGISTRIES:
                    if isinstance(data.get(stage), dict):
                        data[stage] = _fit_backend(stage, data[stage], _unknown_keys(stage, data[stage]))
            return cls.model_validate(data)
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot read settings file {path}: {e}") from None
        except RecursionError:
            raise ConfigError(f"cannot read settings file {path}: JSON nested too deeply") from None
        except ValidationError as e:
            raise ConfigError(f"invalid settings in {path}: {_first_error(e)}") from None
        except ConfigError as e:
            raise ConfigError(f"invalid settings in {path}: {e}") from None

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """A copy with dotted keys replaced, e.g. {"detect.max_side": 1024}; validated.

        Naming another backend (``erase.backend``, ``translate.translator``) leaves the old
        backend's options behind; an option the named backend does not have is an error.
        """
        data = self.to_dict()
        given: dict[str, set[str]] = {stage: set() for stage in REGISTRIES}
        for key, value in overrides.items():
            node = data
            parts = key.split(".")
            for p in parts[:-1]:
                if not isinstance(node.get(p), dict):
                    raise ConfigError(f"unknown setting {key!r}")
                node = node[p]
            # A stage's section may gain keys: they may be options of the backend being named.
            if parts[-1] not in node and not (len(parts) == 2 and parts[0] in REGISTRIES):
                raise ConfigError(f"unknown setting {key!r}")
            node[parts[-1]] = value
            if len(parts) == 2 and parts[0] in REGISTRIES:
                given[parts[0]].add(parts[1])
        for stage, keys in given.items():
            data[stage] = _fit_backend(stage, data[stage], keys)
        return build(data)


def _fit_backend(stage: str, section: dict[str, Any], keep: set[str]) -> dict[str, Any]:
    """A stage's section with only the options of the backend it names, and the keys in ``keep``.

    Raises:
        ConfigError: A key of ``keep`` is not an option of that backend, or no backend has its name.
    """
    name = settings_backend(stage, section)
    fields = REGISTRIES[stage].options(name).model_fields
    for key in sorted(keep - set(fields)):
        raise ConfigError(f"unknown setting '{stage}.{key}' for {stage} backend {name!r}")
    return {k: v for k, v in section.items() if k in fields or k in keep}


def _unknown_keys(stage: str, section: dict[str, Any]) -> set[str]:
    """Keys of a section that no backend of the stage has as an option."""
    registry = REGISTRIES[stage]
    known: set[str] = set()
    for name in registry.names():
        known |= set(registry.options(name).model_fields)
    return set(section) - known


#: A settings file used when a command is given no --config (an environment's own defaults).
CONFIG_ENV = "IMTRANS_CONFIG"


def parse_assignments(items: list[str] | None, prefix: str = "") -> dict[str, Any]:
    """``KEY=VALUE`` strings (``--set``) as a dict; a value is JSON where it parses, else a string.

    Raises:
        ConfigError: An item without ``=``.
    """
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects KEY=VALUE, got {prefix}{item!r}")
        try:
            out[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[key.strip()] = raw
    return out


def resolve_settings(config: Path | None, sets: list[str] | None, **named: Any) -> Settings:
    """The settings of one command: the file (``--config``, else ``$IMTRANS_CONFIG``, else the
    defaults), then ``--set`` overrides, then the command's named options that were given.

    Every command line (translate, ocr, erase, batch, serve, eval) resolves its settings here.
    """
    path = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    settings = Settings.load(path) if path else Settings()
    overrides = parse_assignments(sets)
    overrides.update({k: v for k, v in named.items() if v is not None})
    return settings.with_overrides(overrides) if overrides else settings


def translation_settings(
    config: Path | None,
    sets: list[str] | None,
    to: str | None,
    source: str | None,
    translator: str | None,
    glossary: Path | None,
    model: str | None,
    model_dir: Path | None,
    check: str | None = None,
) -> Settings:
    """`resolve_settings` with the options that `translate` and `batch` share."""
    return resolve_settings(
        config,
        sets,
        **{
            "translate.target": to,
            "recognize.source": source,
            "translate.translator": translator,
            "translate.glossary": str(glossary) if glossary else None,
            "translate.model": model,
            "translate.model_dir": str(model_dir) if model_dir else None,
            "check.mode": check,
        },
    )


#: Settings that change how a run goes, never what it draws: left out of `settings_hash`.
_NOT_IN_HASH = {"translate": ("cache", "cache_path", "timeout")}


def settings_hash(settings: Settings) -> str:
    """sha256 (hex) of everything that decides a page's output: the settings and the glossary's content.

    The glossary is named by path in the settings; its rows are hashed too, so editing the
    glossary changes the hash (batch redoes the pages it may change; eval's signature differs).
    """
    data = settings.to_dict()
    for section, keys in _NOT_IN_HASH.items():
        for key in keys:
            data[section].pop(key, None)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode())
    glossary = settings.translate.glossary
    if glossary is not None:
        try:
            digest.update(Path(glossary).read_bytes())
        except OSError:
            digest.update(b"<unreadable glossary>")  # the pipeline reports it; the hash just must differ
    return digest.hexdigest()


def stage_settings(stage: str, **values: Any) -> Any:
    """One stage's settings section, as the options model of the backend ``values`` name.

    ``stage_settings("erase", backend="gan", flat_tolerance=0)`` is a validated `GanSettings`.

    Raises:
        ConfigError: An unknown backend, or a value its options model refuses.
    """
    return getattr(build({stage: values}), stage)


def build(data: dict[str, Any]) -> Settings:
    """Validate a settings dict, turning pydantic's report into one line."""
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"invalid settings: {_first_error(e)}") from None


def _first_error(e: ValidationError) -> str:
    err = e.errors()[0]
    loc = ".".join(str(x) for x in err["loc"])
    msg = str(err["msg"])
    # Our own validators raise LanguageError inside pydantic; keep just its message.
    return f"{loc}: {msg.removeprefix('Value error, ')}"
