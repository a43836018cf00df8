"""The typed hierarchy passed between stages: Page > Block > Line.

Coordinates: pixels of the input image, origin at the top-left corner, x to the
right, y down. Every text region is a quadrilateral (`Quad`) of four points in
reading order of its own glyphs: top-left, top-right, bottom-right, bottom-left
*as the text is read*, so a line rotated by 30 degrees keeps its exact outline
and its angle is the angle of the first edge. Vertical CJK columns use the same
convention with the column's own axes (the first edge runs across the column).

Each concern is its own record: a `Block` holds what was read; its `Translation`
and `Style` are attached by block id on the `Page`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum
from typing import Any

Point = tuple[float, float]


class Direction(str, Enum):
    """Writing direction of a line or block."""

    HORIZONTAL = "horizontal"
    VERTICAL = "vertical"


@dataclass(frozen=True)
class Quad:
    """Four points, clockwise, starting at the text's own top-left corner."""

    points: tuple[Point, Point, Point, Point]

    @classmethod
    def from_rect(cls, x0: float, y0: float, x1: float, y1: float) -> Quad:
        """An axis-aligned rectangle."""
        return cls(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))

    @classmethod
    def from_list(cls, points: Any) -> Quad:
        """From any 4x2 sequence (list, tuple or numpy array)."""
        pts = [(float(p[0]), float(p[1])) for p in points]
        if len(pts) != 4:
            raise ValueError(f"a quad needs 4 points, got {len(pts)}")
        return cls((pts[0], pts[1], pts[2], pts[3]))

    def to_list(self) -> list[list[float]]:
        return [[round(x, 2), round(y, 2)] for x, y in self.points]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounds (x0, y0, x1, y1)."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs), max(ys)

    @property
    def width(self) -> float:
        """Length along the text's own x axis (mean of top and bottom edges)."""
        (a, b, c, d) = self.points
        return (_dist(a, b) + _dist(d, c)) / 2

    @property
    def height(self) -> float:
        """Length along the text's own y axis (mean of left and right edges)."""
        (a, b, c, d) = self.points
        return (_dist(a, d) + _dist(b, c)) / 2

    @property
    def angle(self) -> float:
        """Angle of the top edge in degrees, counter-clockwise positive (image y is down)."""
        (a, b, _, _) = self.points
        return -math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))

    @property
    def centre(self) -> Point:
        return (sum(p[0] for p in self.points) / 4, sum(p[1] for p in self.points) / 4)

    @property
    def area(self) -> float:
        """Shoelace area."""
        pts = self.points
        s = 0.0
        for i in range(4):
            x0, y0 = pts[i]
            x1, y1 = pts[(i + 1) % 4]
            s += x0 * y1 - x1 * y0
        return abs(s) / 2


def _dist(p: Point, q: Point) -> float:
    return math.hypot(q[0] - p[0], q[1] - p[1])


RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Line:
    """One detected text line: where it is and, after recognition, what it says."""

    id: str
    quad: Quad
    direction: Direction = Direction.HORIZONTAL
    det_score: float = 0.0
    text: str = ""
    language: str = ""
    confidence: float = 0.0
    recognizer: str = ""
    #: A line set along an arc (`detect.curves`): quads along it, in reading order, each from
    #: the glyphs' top-left; read straightened. Empty for a straight line, whose `quad` is all.
    curve: tuple[Quad, ...] = ()
    #: A column of a grid of short columns (`recognize.grid`): the grid's rows, top to bottom,
    #: as the detector found them. Its lettering is masked by those rows, whose margins lie
    #: clear of other glyphs (a column's margin holds its neighbours). Empty for other lines.
    grid_rows: tuple[Quad, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "quad": self.quad.to_list(),
            "direction": self.direction.value,
            "det_score": round(self.det_score, 4),
            "text": self.text,
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "recognizer": self.recognizer,
        }
        if self.curve:
            out["curve"] = [q.to_list() for q in self.curve]
        if self.grid_rows:
            out["grid_rows"] = [q.to_list() for q in self.grid_rows]
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Line:
        return cls(
            id=d["id"],
            quad=Quad.from_list(d["quad"]),
            direction=Direction(d.get("direction", "horizontal")),
            det_score=float(d.get("det_score", 0.0)),
            text=d.get("text", ""),
            language=d.get("language", ""),
            confidence=float(d.get("confidence", 0.0)),
            recognizer=d.get("recognizer", ""),
            curve=tuple(Quad.from_list(q) for q in d.get("curve", ())),
            grid_rows=tuple(Quad.from_list(q) for q in d.get("grid_rows", ())),
        )


class Alignment(str, Enum):
    """How a block's lines sit in its region; the renderer follows it."""

    LEFT = "left"
    CENTRE = "centre"
    RIGHT = "right"


@dataclass(frozen=True)
class Block:
    """Lines read together (a paragraph, a speech bubble, a sign panel), in reading order."""

    id: str
    quad: Quad
    lines: tuple[Line, ...]
    direction: Direction = Direction.HORIZONTAL
    alignment: Alignment = Alignment.LEFT
    language: str = ""

    @property
    def text(self) -> str:
        """The block's text: lines joined by a space, or directly for CJK scripts without spaces."""
        return join_lines([ln.text for ln in self.lines], self.language)

    @property
    def confidence(self) -> float:
        if not self.lines:
            return 0.0
        return sum(ln.confidence for ln in self.lines) / len(self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "quad": self.quad.to_list(),
            "direction": self.direction.value,
            "alignment": self.alignment.value,
            "language": self.language,
            "text": self.text,
            "confidence": round(self.confidence, 4),
            "lines": [ln.to_dict() for ln in self.lines],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Block:
        return cls(
            id=d["id"],
            quad=Quad.from_list(d["quad"]),
            lines=tuple(Line.from_dict(x) for x in d.get("lines", [])),
            direction=Direction(d.get("direction", "horizontal")),
            alignment=Alignment(d.get("alignment", "left")),
            language=d.get("language", ""),
        )


def join_lines(texts: list[str], language: str) -> str:
    """Join line texts of one block; Japanese and Chinese wrap without spaces."""
    parts = [t.strip() for t in texts if t.strip()]
    if language in ("ja", "zh"):
        return "".join(parts)
    return " ".join(parts)


@dataclass(frozen=True)
class Style:
    """How a block's original lettering looked; the renderer draws the translation in it."""

    text_color: RGB = (0, 0, 0)
    background_color: RGB = (255, 255, 255)
    outline_color: RGB | None = None
    outline_width: int = 0
    font_size: float = 16.0
    angle: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text_color": list(self.text_color),
            "background_color": list(self.background_color),
            "outline_color": list(self.outline_color) if self.outline_color else None,
            "outline_width": self.outline_width,
            "font_size": round(self.font_size, 2),
            "angle": round(self.angle, 2),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Style:
        oc = d.get("outline_color")
        return cls(
            text_color=_rgb(d.get("text_color", (0, 0, 0))),
            background_color=_rgb(d.get("background_color", (255, 255, 255))),
            outline_color=_rgb(oc) if oc else None,
            outline_width=int(d.get("outline_width", 0)),
            font_size=float(d.get("font_size", 16.0)),
            angle=float(d.get("angle", 0.0)),
        )


def _rgb(v: Any) -> RGB:
    return (int(v[0]), int(v[1]), int(v[2]))


@dataclass(frozen=True)
class Translation:
    """A block's translated text, attached by block id."""

    block_id: str
    text: str
    source_lang: str
    target_lang: str
    translator: str
    model: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "block_id": self.block_id,
            "text": self.text,
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "translator": self.translator,
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Translation:
        return cls(
            block_id=d["block_id"],
            text=d["text"],
            source_lang=d.get("source_lang", ""),
            target_lang=d.get("target_lang", ""),
            translator=d.get("translator", ""),
            model=d.get("model", ""),
        )


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Stage(StrEnum):
    """The steps of the pipeline, by the names results, timings, diagnostics and eval use."""

    INPUT = "input"  # reading the file
    DETECT = "detect"
    RECOGNIZE = "recognize"
    GROUP = "group"
    TRANSLATE = "translate"
    ERASE = "erase"
    RENDER = "render"
    CHECK = "check"  # the output checked (and repaired) after rendering


class InputCode(StrEnum):
    """What reading the input file reports."""

    EXTRA_FRAMES = "extra_frames"


class DetectCode(StrEnum):
    """What the detect stage reports."""

    PAGE_ROTATED = "page_rotated"


class RecognizeCode(StrEnum):
    """What the recognize stage reports."""

    UNREAD_LINES = "unread_lines"


class TranslateCode(StrEnum):
    """What the translate stage (and the pipeline's choice of what to translate) reports."""

    ALREADY_TARGET = "already_target"
    NO_LETTERS = "no_letters"
    GLOSSARY_MISS = "glossary_miss"
    GLOSSARY_FUZZY = "glossary_fuzzy"
    UNTRANSLATED_WORDS = "untranslated_words"
    NO_TRANSLATOR = "no_translator"


class EraseCode(StrEnum):
    """What the erase stage reports."""

    WHOLE_BOX_MASK = "whole_box_mask"


class RenderCode(StrEnum):
    """What the render stage reports."""

    NO_TRANSLATION = "no_translation"
    RENDER_FAILED = "render_failed"
    OUTSIDE_IMAGE = "outside_image"
    OVERFLOW = "overflow"


class CheckCode(StrEnum):
    """A check a block's output failed (`imtrans.check`); each is also the code of the
    diagnostic that reports it when repair could not mend it."""

    RESIDUE = "residue"  # source-script text read again inside the erased region
    ILLEGIBLE = "illegible"  # the drawn translation read back with a CER above the limit
    OVERFLOW = "overflow"  # the translation does not fit its region at a legible size
    SHRUNK = "shrunk"  # drawn far smaller than the lettering it replaced (reported, not repaired)
    COLLISION = "collision"  # its ink lies on another block's text or on text left as is
    LOW_CONTRAST = "low_contrast"  # too little contrast with the new background
    DAMAGE = "damage"  # pixels changed outside the text mask and the drawn text
    WHOLE_BOX = "whole_box"  # a line erased as its whole box: the fill may smear (reported, not repaired)


#: Every diagnostic code by the stage that reports it (docs/diagnostics.md says what each means).
DiagnosticCode = InputCode | DetectCode | RecognizeCode | TranslateCode | EraseCode | RenderCode | CheckCode
STAGE_OF_CODES: dict[type[StrEnum], Stage] = {
    InputCode: Stage.INPUT,
    DetectCode: Stage.DETECT,
    RecognizeCode: Stage.RECOGNIZE,
    TranslateCode: Stage.TRANSLATE,
    EraseCode: Stage.ERASE,
    RenderCode: Stage.RENDER,
    CheckCode: Stage.CHECK,
}


@dataclass(frozen=True)
class Diagnostic:
    """Something a stage could not do as asked (a text that did not fit, a line that could not be read).

    Build one with `Diagnostic.of(code, ...)`: the code's enum names the stage. A diagnostic
    read back from JSON keeps its code as a string (an older file may hold codes since renamed).
    """

    stage: str
    code: str
    message: str
    severity: Severity = Severity.WARNING
    block_id: str | None = None

    @classmethod
    def of(
        cls,
        code: DiagnosticCode,
        message: str,
        severity: Severity = Severity.WARNING,
        block_id: str | None = None,
    ) -> Diagnostic:
        """A diagnostic of the stage ``code`` belongs to."""
        return cls(STAGE_OF_CODES[type(code)], code, message, severity, block_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "code": str(self.code),
            "message": self.message,
            "severity": self.severity.value,
            "block_id": self.block_id,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Diagnostic:
        return cls(
            stage=d["stage"],
            code=d["code"],
            message=d["message"],
            severity=Severity(d.get("severity", "warning")),
            block_id=d.get("block_id"),
        )


@dataclass(frozen=True)
class BlockQuality:
    """How one block's output fared in the checks after rendering (`imtrans.check`).

    Attributes:
        score: 0 (failed badly) to 1 (every check passed with room): the lowest of the
            checks' own scores, so one bad check is never averaged away.
        failed: The checks it failed after repair, in `CheckCode` order (empty: passed).
        values: What each check measured, by name (`residue_chars`, `ink_left`,
            `legibility_cer`, `font_px`, `overflow`, `collision`, `contrast`,
            `source_contrast`, `damage`); a check that was not run has no value.
        repairs: The repairs kept for it, in the order they were made (`grow_mask`, ...).
        attempts: Repair attempts tried on it, kept or not.
    """

    score: float
    failed: tuple[CheckCode, ...] = ()
    values: dict[str, float] = field(default_factory=dict)
    repairs: tuple[str, ...] = ()
    attempts: int = 0

    @property
    def passed(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "passed": self.passed,
            "failed": [str(c) for c in self.failed],
            "values": {k: round(v, 4) for k, v in self.values.items()},
            "repairs": list(self.repairs),
            "attempts": self.attempts,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlockQuality:
        known = {str(c) for c in CheckCode}
        return cls(
            score=float(d.get("score", 0.0)),
            failed=tuple(CheckCode(c) for c in d.get("failed", []) if c in known),
            values={k: float(v) for k, v in d.get("values", {}).items()},
            repairs=tuple(d.get("repairs", [])),
            attempts=int(d.get("attempts", 0)),
        )


@dataclass(frozen=True)
class CheckSummary:
    """The page's check, in one record: what was checked, what passed, and what it cost.

    Attributes:
        mode: The `check.mode` it ran with (``report`` or ``repair``).
        blocks: Blocks checked (those drawn or erased on this page).
        passed: Blocks that passed every check (after repair).
        repaired: Blocks a repair was kept for.
        read_back: Blocks whose drawn text was read back with the recogniser.

    The time it took is in the page's `timings` (``check``, ``repair``), not here: a page's
    JSON is the same from one run to the next but for its timings.
    """

    mode: str
    blocks: int = 0
    passed: int = 0
    repaired: int = 0
    read_back: int = 0

    @property
    def failed(self) -> int:
        return self.blocks - self.passed

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "blocks": self.blocks,
            "passed": self.passed,
            "failed": self.failed,
            "repaired": self.repaired,
            "read_back": self.read_back,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckSummary:
        return cls(
            mode=str(d.get("mode", "")),
            blocks=int(d.get("blocks", 0)),
            passed=int(d.get("passed", 0)),
            repaired=int(d.get("repaired", 0)),
            read_back=int(d.get("read_back", 0)),
        )


@dataclass(frozen=True)
class Page:
    """Everything known about one image: blocks, and per block its translation and style."""

    width: int
    height: int
    blocks: tuple[Block, ...] = ()
    translations: dict[str, Translation] = field(default_factory=dict)
    styles: dict[str, Style] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    source_lang: str = ""
    target_lang: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    #: Per block id, how its output fared in the checks (none when `check.mode` is off).
    quality: dict[str, BlockQuality] = field(default_factory=dict)
    check: CheckSummary | None = None

    @property
    def lines(self) -> list[Line]:
        return [ln for b in self.blocks for ln in b.lines]

    def with_(self, **changes: Any) -> Page:
        """A copy with some fields replaced (frozen dataclasses are never edited in place)."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        blocks = []
        for b in self.blocks:
            d = b.to_dict()
            t = self.translations.get(b.id)
            s = self.styles.get(b.id)
            d["translation"] = t.to_dict() if t else None
            d["style"] = s.to_dict() if s else None
            if b.id in self.quality:
                d["quality"] = self.quality[b.id].to_dict()
            blocks.append(d)
        out = {
            "width": self.width,
            "height": self.height,
            "source_lang": self.source_lang,
            "target_lang": self.target_lang,
            "blocks": blocks,
            "diagnostics": [x.to_dict() for x in self.diagnostics],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
            "settings": self.settings,
            "versions": self.versions,
        }
        if self.check is not None:
            out["check"] = self.check.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Page:
        blocks = tuple(Block.from_dict(b) for b in d.get("blocks", []))
        translations = {
            b["id"]: Translation.from_dict(b["translation"])
            for b in d.get("blocks", [])
            if b.get("translation")
        }
        styles = {b["id"]: Style.from_dict(b["style"]) for b in d.get("blocks", []) if b.get("style")}
        quality = {
            b["id"]: BlockQuality.from_dict(b["quality"]) for b in d.get("blocks", []) if b.get("quality")
        }
        return cls(
            width=int(d["width"]),
            height=int(d["height"]),
            blocks=blocks,
            translations=translations,
            styles=styles,
            diagnostics=tuple(Diagnostic.from_dict(x) for x in d.get("diagnostics", [])),
            timings={k: float(v) for k, v in d.get("timings", {}).items()},
            source_lang=d.get("source_lang", ""),
            target_lang=d.get("target_lang", ""),
            settings=d.get("settings", {}),
            versions=d.get("versions", {}),
            quality=quality,
            check=CheckSummary.from_dict(d["check"]) if isinstance(d.get("check"), dict) else None,
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Page:
        return cls.from_dict(json.loads(text))
