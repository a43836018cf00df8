"""The resume manifest: what each page and document of OUT_DIR was made from, and how it ended.

One JSON file, `OUT_DIR/.imtrans-batch/manifest.json`, rewritten atomically (temp file,
then rename) after every page, so a batch killed at any moment leaves the last good
version. A page is done when its record has the same input hash and settings hash and
status "done"; a rerun skips exactly those. Records are written after the page's
outputs, so a kill between the two only makes the rerun redo that page.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from imtrans.errors import OutputError
from imtrans.imageio import atomic_writes

#: Bumped when the manifest's layout changes; an older manifest is then ignored (everything redone).
VERSION = 1

#: Settings that do not change a page's output: changing them must not redo a batch.
Status = Literal["done", "failed"]


@dataclass(frozen=True)
class PageRecord:
    """How one page ended."""

    input_hash: str
    settings_hash: str
    status: Status
    error: str | None = None
    seconds: float = 0.0
    finished: float = 0.0


@dataclass(frozen=True)
class DocumentRecord:
    """How an archive or PDF was last assembled: from which pages, with which options."""

    assembly_hash: str
    finished: float = 0.0


class Manifest:
    """Page and document records of one OUT_DIR; `save` writes them atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.pages: dict[str, PageRecord] = {}
        self.documents: dict[str, DocumentRecord] = {}

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """The manifest at `path`, or an empty one if there is none (or it is from another version).

        Raises:
            OutputError: The file exists but is not a manifest (it is not ours to overwrite).
        """
        manifest = cls(path)
        if not path.exists():
            return manifest
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != VERSION:
                return manifest
            manifest.pages = {k: PageRecord(**v) for k, v in data["pages"].items()}
            manifest.documents = {k: DocumentRecord(**v) for k, v in data["documents"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            raise OutputError(
                f"{path} is not a readable batch manifest ({e}); delete it to start over"
            ) from None
        return manifest

    def is_done(self, key: str, input_hash: str, settings_hash: str) -> bool:
        record = self.pages.get(key)
        return (
            record is not None
            and record.status == "done"
            and record.input_hash == input_hash
            and record.settings_hash == settings_hash
        )

    def record_page(
        self, key: str, input_hash: str, settings_hash: str, error: str | None, seconds: float
    ) -> None:
        status: Status = "done" if error is None else "failed"
        self.pages[key] = PageRecord(input_hash, settings_hash, status, error, round(seconds, 3), time.time())

    def record_document(self, rel: str, assembly_hash: str) -> None:
        self.documents[rel] = DocumentRecord(assembly_hash, time.time())

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "pages": {k: asdict(v) for k, v in sorted(self.pages.items())},
            "documents": {k: asdict(v) for k, v in sorted(self.documents.items())},
        }

    def save(self) -> None:
        with atomic_writes() as w:
            w.write_text(self.path, json.dumps(self.to_dict(), ensure_ascii=False, indent=1))
