"""Known translation models: where they come from, what they translate, and how to fetch them safely.

Every model is pinned to one commit of its Hugging Face repository, so the files
behind a URL never change. Where the sha256 of a file is known (the LFS pointers of
the weight files, read from the hub's pages) it is written here and checked on
download. For the other files (small configs and tokenizer files) the sha256 is not
known in advance: the first download records it (trust on first use) in
``imtrans.lock.json`` beside the model, and later loads check the files against that
lockfile.

Downloads go to a temporary directory next to the final one and are moved into
place with one rename, so a model directory is either complete or absent.

The hub's base URL can be replaced with ``$IMTRANS_HUB_URL`` (a mirror, or a local
server in tests); file URLs are ``{hub}/{repo}/resolve/{revision}/{file}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import httpx

from imtrans.errors import ModelMissingError, TranslatorError
from imtrans.translate.paths import models_root

#: Environment variable replacing the hub's base URL.
HUB_URL_ENV = "IMTRANS_HUB_URL"
DEFAULT_HUB_URL = "https://huggingface.co"
#: Written into every downloaded model directory.
LOCKFILE = "imtrans.lock.json"

_CHUNK_BYTES = 1 << 20


class DownloadError(ModelMissingError):
    """A model could not be downloaded. `offline` is True when the hub could not be reached at all."""

    def __init__(self, message: str, *, offline: bool = False) -> None:
        super().__init__(message)
        self.offline = offline


@dataclass(frozen=True)
class ModelFile:
    """One file of a model repository.

    Attributes:
        name: Path inside the repository.
        sha256: Expected digest, or None when unknown (recorded on first download).
        optional: A 404 for it is not an error (not every revision has every file).
    """

    name: str
    sha256: str | None = None
    optional: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """A model imtrans knows how to download and run.

    Attributes:
        name: Short name, also the directory name under the models root.
        repo: Hugging Face repository (owner/name).
        revision: Commit the files are taken from.
        pairs: (source, target) pairs it translates; empty for "every pair of `languages`".
        languages: For many-to-many models, the imtrans languages it covers.
        files: Files to fetch.
        size_mb: Approximate download size.
        license: The model's licence, as stated on its card.
        note: One line shown in listings.
    """

    name: str
    repo: str
    revision: str
    files: tuple[ModelFile, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    languages: tuple[str, ...] = ()
    size_mb: int = 0
    license: str = ""
    note: str = ""

    def translates(self, source: str, target: str) -> bool:
        """Whether the model covers this pair."""
        if source == target:
            return False
        if self.pairs:
            return (source, target) in self.pairs
        return source in self.languages and target in self.languages

    @property
    def pairs_label(self) -> str:
        """Human-readable pairs, e.g. ``ko->en`` or ``any of ko en ja ...``."""
        if self.pairs:
            return ", ".join(f"{s}->{t}" for s, t in self.pairs)
        return "any pair of " + " ".join(self.languages)


def _marian(
    name: str, revision: str, weights_sha256: str | None, size_mb: int, license: str, note: str = ""
) -> ModelSpec:
    source, target = name.removeprefix("opus-mt-").removeprefix("tc-big-").split("-")
    return ModelSpec(
        name=name,
        repo=f"Helsinki-NLP/{name}",
        revision=revision,
        pairs=((source, target),),
        files=(
            ModelFile("config.json"),
            ModelFile("pytorch_model.bin", weights_sha256),
            ModelFile("source.spm"),
            ModelFile("target.spm"),
            ModelFile("vocab.json"),
            ModelFile("tokenizer_config.json"),
            ModelFile("special_tokens_map.json", optional=True),
            ModelFile("generation_config.json", optional=True),
        ),
        size_mb=size_mb,
        license=license,
        note=note,
    )


_M2M_LANGUAGES = ("ko", "en", "ja", "zh", "fr", "de", "es", "it", "pt", "nl", "ru", "vi", "id")

# Weight digests come from the hub's LFS pointer pages (facebook/*, Helsinki-NLP/*), except
# opus-mt-en-zh (read from a verbatim duplicate of the repository) and NLLB's
# sentencepiece.bpe.model (identical in several copies of the repository).
REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _marian(
            "opus-mt-ko-en",
            "242c8bc3d012792ae91e50ba1b6b3c7ffb932736",
            "4b2209fbd0c58a05e9c4b818b49b6b7e54406cdee93acdccf840752a94fe34f4",
            316,
            "apache-2.0",
        ),
        _marian(
            "opus-mt-tc-big-en-ko",
            "a12b3f828831530860c0c3225586151eccc700c0",
            "171047b1b29fd9e9ee616f189d4d66b4c4971dda11abb1e5f0515a2eccde2247",
            488,
            "cc-by-4.0",
            "users report repeated words in its output; m2m100_418M is the default en->ko",
        ),
        _marian(
            "opus-mt-ja-en",
            "37bb2d0e523b82ec5e9f00cef622cfc25785f50b",
            "ed649116c143fc2d7aea690246f4b2b7caa814e9e00a8d5bbe047822b18de022",
            306,
            "apache-2.0",
        ),
        _marian(
            "opus-mt-zh-en",
            "f2f7feb9ba598f04a68a2d0f9a1f4680ca201f45",
            "9d8ceb91d103ef89400c9d9d62328b4858743cf8924878aee3b8afc594242ce0",
            315,
            "cc-by-4.0",
        ),
        _marian(
            "opus-mt-en-zh",
            "93db7712e4698309ac17a80605adbf54dea5c8ee",
            "69a1d6ec829cee349360b3b677ac0aa99a7d88822d1a6578370029efffdca3f5",
            315,
            "apache-2.0",
        ),
        ModelSpec(
            name="m2m100_418M",
            repo="facebook/m2m100_418M",
            revision="c168bae485c864188cf9aa0e4108b0b6934dc91e",
            languages=_M2M_LANGUAGES,
            files=(
                ModelFile("config.json"),
                ModelFile(
                    "pytorch_model.bin", "d907ea45e4e4b9db163382a6674f6218b3c59566fe06d77f4055c208b4e87ed1"
                ),
                ModelFile("sentencepiece.bpe.model"),
                ModelFile("vocab.json"),
                ModelFile("tokenizer_config.json"),
                ModelFile("special_tokens_map.json"),
                ModelFile("generation_config.json", optional=True),
            ),
            size_mb=1950,
            license="mit",
            note="one model for every pair; slower and weaker than a dedicated opus-mt model",
        ),
        ModelSpec(
            name="nllb-200-distilled-600M",
            repo="facebook/nllb-200-distilled-600M",
            revision="716b434935682cabef30af23dc1128d84b9003d2",
            languages=_M2M_LANGUAGES,
            files=(
                ModelFile("config.json"),
                ModelFile("generation_config.json", optional=True),
                ModelFile(
                    "pytorch_model.bin", "c266c2cfd19758b6d09c1fc31ecdf1e485509035f6b51dfe84f1ada83eefcc42"
                ),
                ModelFile(
                    "sentencepiece.bpe.model",
                    "14bb8dfb35c0ffdea7bc01e56cea38b9e3d5efcdcb9c251d6b40538e1aab555a",
                ),
                ModelFile("special_tokens_map.json"),
                ModelFile("tokenizer.json"),
                ModelFile("tokenizer_config.json"),
            ),
            size_mb=2480,
            license="cc-by-nc-4.0",
            note="non-commercial licence; never chosen by default",
        ),
    )
}

#: Pairs with a dedicated model; every other pair falls back to m2m100_418M.
_DEFAULTS: dict[tuple[str, str], str] = {
    ("ko", "en"): "opus-mt-ko-en",
    ("ja", "en"): "opus-mt-ja-en",
    ("zh", "en"): "opus-mt-zh-en",
    ("en", "zh"): "opus-mt-en-zh",
}
_FALLBACK = "m2m100_418M"


def get_model(name: str) -> ModelSpec:
    """The registry entry of a model.

    Raises:
        TranslatorError: Unknown name; the message lists the known ones.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise TranslatorError(f"unknown model {name!r}; known: {', '.join(REGISTRY)}") from None


def default_model_for(source: str, target: str) -> str:
    """The model imtrans uses for a language pair when none is named.

    Raises:
        TranslatorError: No known model covers the pair.
    """
    name = _DEFAULTS.get((source, target), _FALLBACK)
    if not REGISTRY[name].translates(source, target):
        raise TranslatorError(f"no known translation model for {source}->{target}")
    return name


def hub_url() -> str:
    """The hub's base URL (``$IMTRANS_HUB_URL`` or huggingface.co), without a trailing slash."""
    return (os.environ.get(HUB_URL_ENV, "").strip() or DEFAULT_HUB_URL).rstrip("/")


def file_url(spec: ModelSpec, file: ModelFile) -> str:
    """Where one file of a model is downloaded from."""
    return f"{hub_url()}/{spec.repo}/resolve/{spec.revision}/{file.name}"


def model_dir(name: str) -> Path:
    """The directory a model is (or would be) installed in: ``<user cache>/models/NAME``."""
    return models_root() / name


def is_installed(name: str) -> bool:
    """Whether the model directory is complete (it has a lockfile, written last)."""
    return (model_dir(name) / LOCKFILE).is_file()


class ModelRow(NamedTuple):
    """One line of `list_models`: a tuple, so a table can take it as it is.

    Attributes:
        name: Registry name.
        pairs: Pairs it translates, e.g. ``ko->en``.
        installed: Whether it is downloaded and complete.
        size: Size on disk when installed, else the approximate download (``~316 MB``).
    """

    name: str
    pairs: str
    installed: bool
    size: str


def list_models() -> list[ModelRow]:
    """Every known model, whether it is installed, and its size (licence and notes: `get_model(name)`)."""
    rows = []
    for spec in REGISTRY.values():
        installed = is_installed(spec.name)
        if installed:
            size = f"{_dir_bytes(model_dir(spec.name)) / 1e6:.0f} MB"
        else:
            size = f"~{spec.size_mb} MB"
        rows.append(ModelRow(spec.name, spec.pairs_label, installed, size))
    return rows


def _dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir() if p.is_file())


def pull_model(name: str, *, progress: bool = True, force: bool = False) -> Path:
    """Download a model into the user cache, checking every sha256 that is known.

    Args:
        name: A registry name (see `list_models`).
        progress: Show a progress bar on stderr.
        force: Download again even when the model is installed.

    Returns:
        The model directory.

    Raises:
        DownloadError: No network (``offline`` set), an HTTP error, or a checksum
            mismatch. Nothing is left behind in any of these cases.
        TranslatorError: Unknown model name.
    """
    spec = get_model(name)
    dest = model_dir(name)
    if is_installed(name) and not force:
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _staging(dest) as tmp:
        locked: dict[str, dict[str, object]] = {}
        with httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=120.0)) as client:
            for file in spec.files:
                digest = _download(client, spec, file, tmp / file.name, progress)
                if digest is None:
                    continue  # optional file absent at this revision
                stat = (tmp / file.name).stat()
                locked[file.name] = {
                    "sha256": digest,
                    "size": stat.st_size,
                    "mtime_ns": stat.st_mtime_ns,
                    "pinned": file.sha256 is not None,
                }
        lock = {
            "model": spec.name,
            "repo": spec.repo,
            "revision": spec.revision,
            "hub": hub_url(),
            "files": locked,
        }
        (tmp / LOCKFILE).write_text(json.dumps(lock, indent=2), encoding="utf-8")
        if is_installed(name) and not force:
            return dest  # another process finished the same pull first; keep its copy
        _move_into_place(tmp, dest)
    return dest


def verify_model(path: Path, *, full: bool = False) -> None:
    """Check a downloaded model directory against its lockfile.

    A file whose size and modification time match the lockfile is trusted without
    re-hashing (hashing gigabytes on every start would cost seconds); with `full`, or
    when either differs, its sha256 is computed and compared. A directory without a
    lockfile is the user's own and is not checked.

    Raises:
        ModelMissingError: A file is missing or its content changed since download.
    """
    lock_path = Path(path) / LOCKFILE
    if not lock_path.is_file():
        return
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
        files = dict(lock["files"])
        name = str(lock.get("model", Path(path).name))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ModelMissingError(
            f"model {path} has a damaged {LOCKFILE} ({e}); delete the directory and pull again"
        ) from None
    for file_name, info in files.items():
        file_path = Path(path) / file_name
        if not file_path.is_file():
            raise ModelMissingError(
                f"model {name} in {path} is incomplete ({file_name} is missing); delete it and run `imtrans models pull {name}`"
            )
        stat = file_path.stat()
        if not full and stat.st_size == info.get("size") and stat.st_mtime_ns == info.get("mtime_ns"):
            continue
        digest = _sha256_file(file_path)
        if digest != info.get("sha256"):
            raise ModelMissingError(
                f"{file_name} of model {name} in {path} changed since download (sha256 {digest[:12]}..., "
                f"expected {str(info.get('sha256'))[:12]}...); delete it and run `imtrans models pull {name}`"
            )


def _download(
    client: httpx.Client, spec: ModelSpec, file: ModelFile, target: Path, progress: bool
) -> str | None:
    """Stream one file to `target`; return its sha256, or None for an absent optional file."""
    url = file_url(spec, file)
    hasher = hashlib.sha256()
    try:
        with client.stream("GET", url) as response:
            if response.status_code == 404 and file.optional:
                return None
            if response.status_code != 200:
                raise DownloadError(
                    f"cannot download {file.name} of model {spec.name}: HTTP {response.status_code} from {url}"
                )
            total = int(response.headers.get("content-length", 0)) or None
            with (
                open(target, "wb") as out,
                _progress_bar(f"{spec.name}/{file.name}", total, progress) as advance,
            ):
                for chunk in response.iter_bytes(_CHUNK_BYTES):
                    out.write(chunk)
                    hasher.update(chunk)
                    advance(len(chunk))
    except (httpx.ConnectError, httpx.ConnectTimeout) as e:
        raise DownloadError(
            f"cannot reach {hub_url()} to download model {spec.name} (no network? {_reason(e)})", offline=True
        ) from None
    except httpx.HTTPError as e:
        raise DownloadError(f"download of {file.name} of model {spec.name} failed: {_reason(e)}") from None
    except OSError as e:
        raise DownloadError(f"cannot write model {spec.name} to {target.parent}: {e}") from None
    digest = hasher.hexdigest()
    if file.sha256 is not None and digest != file.sha256:
        raise DownloadError(
            f"checksum mismatch for {file.name} of model {spec.name}: expected sha256 {file.sha256}, "
            f"got {digest}; nothing was installed"
        )
    return digest


@contextmanager
def _staging(dest: Path) -> Iterator[Path]:
    """A temporary directory beside `dest` (same filesystem), removed unless it was moved into place."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _move_into_place(tmp: Path, dest: Path) -> None:
    """Replace `dest` by `tmp` with renames; a concurrent finished pull wins harmlessly."""
    old = None
    if dest.exists():
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.replace(dest, old)
    try:
        os.replace(tmp, dest)
    except OSError:
        if not (dest / LOCKFILE).is_file():  # not another process's complete copy
            raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _progress_bar(label: str, total: int | None, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _sha256_file(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK_BYTES), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _reason(e: Exception) -> str:
    return " ".join(str(e).split()) or type(e).__name__
