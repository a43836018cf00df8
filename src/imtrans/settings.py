"""One settings model, a section per stage. The CLI, the Python API and the JSON output read it.

Keys and tokens never live here: backends read them from environment variables, so a
saved settings file can be shared without leaking them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from imtrans.errors import ConfigError
from imtrans.languages import source_language, target_language


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ImageSettings(_Section):
    max_pixels: int = Field(40_000_000, ge=1, description="Refuse images with more pixels than this.")
    max_bytes: int = Field(200_000_000, ge=1, description="Refuse image files larger than this.")


class DetectSettings(_Section):
    backend: Literal["ppocr"] = "ppocr"
    precision: Literal["int8", "fp32"] = Field(
        "int8", description="Detector weights: int8 (shipped, about 3x faster on CPU) or the fp32 original."
    )
    max_side: int = Field(
        2048, ge=256, description="Longest side the detector sees; larger images are scaled down."
    )
    box_threshold: float = Field(0.5, ge=0, le=1, description="Minimum mean score inside a detected box.")
    pixel_threshold: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="Text probability above which a pixel belongs to a line (DB's binarisation; "
        "higher keeps close lines and columns apart).",
    )
    extra_scales: list[float] = Field(
        default_factory=lambda: [0.5],
        description="Extra detection passes at these scales, merged in (finds large, widely spaced glyphs).",
    )
    orientation: Literal["auto", "off"] = Field(
        "auto",
        description="Find pages turned by 90, 180 or 270 degrees (tried only when the text reads poorly).",
    )
    merge_glyphs: bool = Field(
        True,
        description="Chain glyph- and word-sized boxes on one baseline into lines (large, widely "
        "spaced lettering); never across a divider or a change of background colour.",
    )


class RecognizeSettings(_Section):
    source: str = Field("auto", description="Source language: ko, en, ja, zh or auto (per line by script).")
    min_confidence: float = Field(0.3, ge=0, le=1, description="Lines read with less confidence are dropped.")

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


TranslatorName = Literal["local", "glossary", "papago", "deepl", "google", "openai"]


class TranslateSettings(_Section):
    target: str = Field("en", description="Target language.")
    translator: TranslatorName | None = Field(
        None, description="Backend; default: glossary when a glossary is given, else local."
    )
    glossary: Path | None = Field(None, description="CSV or JSON of fixed translations, used first.")
    fuzzy_threshold: float = Field(90.0, ge=0, le=100, description="Glossary fuzzy-match score (0-100).")
    model: str | None = Field(
        None, description="Model name for local/openai/... backends (default per pair)."
    )
    model_dir: Path | None = Field(None, description="A local model directory for the local backend.")
    cache: bool = Field(True, description="Cache translations in an SQLite file in the user cache.")
    cache_path: Path | None = Field(None, description="Cache file (default: user cache dir).")
    timeout: float = Field(30.0, gt=0, description="Seconds to wait for a translation service.")

    @field_validator("target")
    @classmethod
    def _known_target(cls, v: str) -> str:
        return target_language(v)

    @property
    def resolved_translator(self) -> str:
        if self.translator:
            return self.translator
        return "glossary" if self.glossary else "local"


class EraseSettings(_Section):
    backend: Literal["telea", "ns", "gan"] = "telea"
    dilate: int = Field(2, ge=0, le=20, description="Pixels to grow the text mask by.")
    inpaint_radius: int = Field(3, ge=1, le=20)
    flat_tolerance: float | None = Field(
        None,
        ge=0,
        description="Max background std-dev (0-255) for the flat-fill fast path (0: off); "
        "default per backend: 12 for telea and ns, 4 for gan.",
    )


class RenderSettings(_Section):
    min_font_px: int = Field(
        10, ge=4, description="Smallest legible font size; text that needs less is reported."
    )
    max_font_px: int = Field(200, ge=8)
    vertical_for_cjk: bool = Field(
        True, description="Draw ja/zh translations vertically when the source was vertical."
    )
    font_path: Path | None = Field(None, description="Use this font file for every language.")


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


class Settings(_Section):
    """Everything that decides what imtrans does to an image."""

    image: ImageSettings = Field(default_factory=ImageSettings)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    recognize: RecognizeSettings = Field(default_factory=RecognizeSettings)
    group: GroupSettings = Field(default_factory=GroupSettings)
    translate: TranslateSettings = Field(default_factory=TranslateSettings)
    erase: EraseSettings = Field(default_factory=EraseSettings)
    render: RenderSettings = Field(default_factory=RenderSettings)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def load(cls, path: Path) -> Settings:
        """Read settings from a JSON file: a settings object, or a result JSON that records one."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("settings"), dict) and "blocks" in data:
                data = data["settings"]
            return cls.model_validate(data)
        except (OSError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot read settings file {path}: {e}") from None
        except ValidationError as e:
            raise ConfigError(f"invalid settings in {path}: {_first_error(e)}") from None

    def with_overrides(self, overrides: dict[str, Any]) -> Settings:
        """A copy with dotted keys replaced, e.g. {"detect.max_side": 1024}; validated."""
        data = self.to_dict()
        for key, value in overrides.items():
            node = data
            parts = key.split(".")
            for p in parts[:-1]:
                if not isinstance(node.get(p), dict):
                    raise ConfigError(f"unknown setting {key!r}")
                node = node[p]
            if parts[-1] not in node:
                raise ConfigError(f"unknown setting {key!r}")
            node[parts[-1]] = value
        return build(data)


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
