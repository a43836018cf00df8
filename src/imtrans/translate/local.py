"""Machine translation on this computer: MarianMT, M2M100 or NLLB from a local model directory.

A directory holding ``model.bin`` is a CTranslate2 model (faster on CPU); any other
directory with a ``config.json`` is loaded by transformers (torch, CPU). Either way
the tokenizer comes from the directory's tokenizer files, so a CTranslate2
conversion must keep them (``ct2-transformers-converter --copy_files ...``).

Which model: the one in ``model_dir`` when given, else the named registry model,
else the default model of each language pair (`models.default_model_for`). A
registry model that is not installed is downloaded on first use; where there is no
network the error names the ways out.

Models load lazily, once per directory, and stay loaded for the life of the
translator. Nothing is fetched at run time: every load passes ``local_files_only``.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import Field

from imtrans.errors import ModelMissingError, TranslatorError
from imtrans.settings import TranslateSettings
from imtrans.translate.base import Translated, check_aligned, translate_nonblank
from imtrans.translate.models import (
    DownloadError,
    default_model_for,
    get_model,
    is_installed,
    model_dir,
    pull_model,
    verify_model,
)

#: FLORES-200 codes NLLB uses for the languages imtrans knows.
NLLB_CODES = {
    "ko": "kor_Hang",
    "en": "eng_Latn",
    "ja": "jpn_Jpan",
    "zh": "zho_Hans",
    "fr": "fra_Latn",
    "de": "deu_Latn",
    "es": "spa_Latn",
    "it": "ita_Latn",
    "pt": "por_Latn",
    "nl": "nld_Latn",
    "ru": "rus_Cyrl",
    "vi": "vie_Latn",
    "id": "ind_Latn",
}


@dataclass(frozen=True)
class DecodeOptions:
    """How translations are generated.

    Attributes:
        num_beams: Beam width (1 is greedy).
        batch_size: Segments per forward pass.
        max_new_tokens: Longest translation, in tokens.
        max_input_tokens: Longer inputs are truncated.
    """

    num_beams: int = 4
    batch_size: int = 16
    max_new_tokens: int = 256
    max_input_tokens: int = 512


class _Engine(Protocol):
    def translate(self, texts: list[str], source: str, target: str) -> list[str]: ...


class LocalSettings(TranslateSettings):
    """Options of the local model translator (`--set translate.KEY=VALUE`)."""

    model: str | None = Field(
        None, description="Registry model name (`imtrans models list`); default per pair."
    )
    model_dir: Path | None = Field(None, description="A local model directory, used for every pair.")


class LocalTranslator:
    """Translates with a local MarianMT / M2M100 / NLLB model (transformers or CTranslate2).

    Args:
        model: A registry model name (see `models.list_models`); default: per language pair.
        model_dir: A model directory to use for every pair instead of the registry.
        options: Decoding options.
        download: Download a missing registry model on first use.
        progress: Show a progress bar while downloading.
    """

    name = "local"
    packages = ("transformers", "torch", "ctranslate2")
    Options = LocalSettings

    @classmethod
    def from_settings(cls, settings: LocalSettings) -> LocalTranslator:
        return cls(settings.model, settings.model_dir)

    def __init__(
        self,
        model: str | None = None,
        model_dir: Path | None = None,
        *,
        options: DecodeOptions | None = None,
        download: bool = True,
        progress: bool = True,
    ) -> None:
        if model is not None and model_dir is None:
            get_model(model)  # unknown names fail now, not after OCR
        self.model_name = model
        self.model_dir = Path(model_dir) if model_dir is not None else None
        self.model = model or (str(self.model_dir) if self.model_dir else "default")
        self.options = options or DecodeOptions()
        self.download = download
        self.progress = progress
        self._engines: dict[Path, _Engine] = {}
        self._lock = threading.Lock()

    def check_pair(self, source: str, target: str) -> None:
        """Fail now, with one line, when no model can serve this pair (nothing is loaded)."""
        if self.model_dir is not None:
            return
        if self.model_name is None:
            default_model_for(source, target)
            return
        spec = get_model(self.model_name)
        if not spec.translates(source, target):
            raise TranslatorError(f"model {spec.name} translates {spec.pairs_label}, not {source}->{target}")

    def check_ready(self, sources: Sequence[str], target: str) -> None:
        """Fail now when no model for any of these pairs is here or can be downloaded (nothing is loaded).

        A batch calls this before its first page: on a machine without models every page
        would come back untranslated.

        Raises:
            ModelMissingError: The first pair's reason and its ways out.
        """
        first: Exception | None = None
        for source in sources:
            try:
                self._resolve(source, target)
                return
            except (ModelMissingError, TranslatorError) as e:
                first = first or e
        if first is not None:
            raise ModelMissingError(str(first))

    def translate(self, texts: Sequence[str], source: str, target: str) -> Translated:
        """Translate in batches, loading (and if needed downloading) the model on first use."""

        def run(batch: list[str]) -> list[str]:
            return self._engine(source, target).translate(batch, source, target)

        return Translated(check_aligned(texts, translate_nonblank(texts, run, self.name), self.name))

    def _engine(self, source: str, target: str) -> _Engine:
        path = self._resolve(source, target)
        with self._lock:
            engine = self._engines.get(path)
            if engine is None:
                engine = load_engine(path, self.options)
                self._engines[path] = engine
            return engine

    def _resolve(self, source: str, target: str) -> Path:
        if self.model_dir is not None:
            if not self.model_dir.is_dir():
                raise ModelMissingError(f"model directory {self.model_dir} does not exist")
            return self.model_dir
        self.check_pair(source, target)
        name = self.model_name or default_model_for(source, target)
        path = model_dir(name)
        if not is_installed(name):
            if not self.download:
                raise ModelMissingError(ways_out(name, source, target, "it is not installed"))
            try:
                pull_model(name, progress=self.progress)
            except DownloadError as e:
                if e.offline:
                    raise ModelMissingError(ways_out(name, source, target, str(e))) from None
                raise
        verify_model(path)
        return path


def ways_out(name: str, source: str, target: str, reason: str) -> str:
    """The one-line message for a missing model: why, and the three ways out."""
    return (
        f"no {source}->{target} translation model here ({name}: {reason}). Ways out: "
        f"run `imtrans models pull {name}` on a machine with a network and copy {model_dir(name)} here "
        f"(or pass --model-dir DIR); or use a service: --translator papago|deepl|google|openai with its key "
        f"in the environment; or pass --glossary FILE with your own translations"
    )


def load_engine(path: Path, options: DecodeOptions) -> _Engine:
    """Load the model in `path`: CTranslate2 when it holds model.bin, else transformers.

    Raises:
        ModelMissingError: The directory holds no usable model, or a library is missing.
    """
    if (path / "model.bin").is_file():
        return _CTranslate2Engine(path, options)
    if (path / "config.json").is_file():
        return _TransformersEngine(path, options)
    raise ModelMissingError(
        f"{path} holds no translation model: expected config.json and weights (transformers) "
        "or model.bin (CTranslate2) with tokenizer files"
    )


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelMissingError(
            f"the local translator needs {module.split('.')[0]}: pip install 'imtrans[local]'"
        ) from None


def _load_tokenizer(path: Path) -> Any:
    """The tokenizer saved in a model directory; bare Marian files (two .spm and vocab.json) also work."""
    transformers = _require("transformers")
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Marian's "Recommended: pip install sacremoses."
        try:
            return transformers.AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            spm = [path / "source.spm", path / "target.spm", path / "vocab.json"]
            if all(p.is_file() for p in spm):
                return transformers.MarianTokenizer(*(str(p) for p in spm))
            raise ModelMissingError(
                f"cannot load the tokenizer in {path}: {' '.join(str(e).split())[:200]}"
            ) from None


def _language_tokens(tokenizer: Any, source: str, target: str) -> str | None:
    """Prepare a multilingual tokenizer for `source`; return the target language token, or None.

    Marian models are one pair each and need no language token. M2M100 marks languages
    as ``__en__``, NLLB as ``eng_Latn``; the target token is forced as the first
    generated token.
    """
    kind = type(tokenizer).__name__.lower()
    if "nllb" in kind:
        if source not in NLLB_CODES or target not in NLLB_CODES:
            raise TranslatorError(f"no NLLB language code for {source}->{target}")
        tokenizer.src_lang = NLLB_CODES[source]
        token = NLLB_CODES[target]
    elif "m2m100" in kind:
        tokenizer.src_lang = source
        token = f"__{target}__"
    else:
        return None
    if tokenizer.convert_tokens_to_ids(token) in (None, tokenizer.unk_token_id):
        raise TranslatorError(f"the model's tokenizer has no language token {token} for {target}")
    return token


def _length_order(texts: Sequence[str], batch_size: int) -> list[list[int]]:
    """Indices grouped in batches of similar length (less padding), shortest first."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class _TransformersEngine:
    """A seq2seq model run by transformers on the CPU, batched, without gradients."""

    def __init__(self, path: Path, options: DecodeOptions) -> None:
        self.torch = _require("torch")
        transformers = _require("transformers")
        self.options = options
        self.tokenizer = _load_tokenizer(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model = transformers.AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                raise ModelMissingError(
                    f"cannot load the model in {path}: {' '.join(str(e).split())[:200]}"
                ) from None
        self.model = model.eval()

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        target_token = _language_tokens(self.tokenizer, source, target)
        extra: dict[str, Any] = {}
        # Generated rows start with the decoder start token and, for multilingual models, the
        # forced language token; both are dropped before decoding (a language token is not
        # always marked special, so skip_special_tokens alone may keep it).
        prefix = {self.model.config.decoder_start_token_id}
        if target_token is not None:
            extra["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(target_token)
            prefix.add(extra["forced_bos_token_id"])
        out = [""] * len(texts)
        for batch in _length_order(texts, self.options.batch_size):
            enc = self.tokenizer(
                [texts[i] for i in batch],
                return_tensors="pt",
                padding=True,
                truncation=True,
                max_length=self.options.max_input_tokens,
            )
            with self.torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                generated = self.model.generate(
                    **enc,
                    num_beams=self.options.num_beams,
                    max_new_tokens=self.options.max_new_tokens,
                    **extra,
                )
            for i, row in zip(batch, generated.tolist(), strict=True):
                out[i] = self.tokenizer.decode(_drop_prefix(row, prefix), skip_special_tokens=True).strip()
        return out


def _drop_prefix(ids: list[int], prefix: set[int]) -> list[int]:
    """`ids` without the leading run of ids in `prefix` (at most two: start token, language token)."""
    start = 0
    while start < min(2, len(ids)) and ids[start] in prefix:
        start += 1
    return ids[start:]


class _CTranslate2Engine:
    """A CTranslate2 model directory (model.bin) with the original model's tokenizer files."""

    def __init__(self, path: Path, options: DecodeOptions) -> None:
        ctranslate2 = _require("ctranslate2")
        self.options = options
        self.tokenizer = _load_tokenizer(path)
        try:
            self.translator = ctranslate2.Translator(str(path), device="cpu", compute_type="default")
        except (RuntimeError, ValueError) as e:
            raise ModelMissingError(
                f"cannot load the CTranslate2 model in {path}: {' '.join(str(e).split())[:200]}"
            ) from None

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        target_token = _language_tokens(self.tokenizer, source, target)
        tokens = [
            self.tokenizer.convert_ids_to_tokens(
                self.tokenizer.encode(t, truncation=True, max_length=self.options.max_input_tokens)
            )
            for t in texts
        ]
        results = self.translator.translate_batch(
            tokens,
            target_prefix=[[target_token]] * len(texts) if target_token else None,
            beam_size=self.options.num_beams,
            max_batch_size=self.options.batch_size,
            max_decoding_length=self.options.max_new_tokens,
        )
        out = []
        for result in results:
            hypothesis = result.hypotheses[0]
            if target_token and hypothesis[:1] == [target_token]:
                hypothesis = hypothesis[1:]
            ids = self.tokenizer.convert_tokens_to_ids(hypothesis)
            out.append(self.tokenizer.decode(ids, skip_special_tokens=True).strip())
        return out
