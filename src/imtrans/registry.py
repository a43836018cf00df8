"""Which backends each stage has: name -> backend class, imported only when asked for.

A backend is one class in one file. It declares its options as a pydantic model (``Options``,
a subclass of its stage's settings section, so the section of `Settings` is the options of the
backend it names) and builds itself from them (``from_settings``). Backends of this package
are listed below; another package adds its own through an entry point group::

    [project.entry-points."imtrans.detectors"]
    mine = "my_package.my_module:MyDetector"

and a program or a test can add one at run time with ``DETECTORS.register("mine", MyDetector)``.
CLI choices, the REST enums, the web page's lists, `imtrans config` and the versions recorded
in results all come from these tables (see docs/extending.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from importlib.metadata import entry_points, packages_distributions
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

from imtrans.errors import ConfigError

T = TypeVar("T")


class BackendClass(Protocol[T]):  # type: ignore[misc]
    """What a registered class offers: its options model and a way to build it from them."""

    Options: type[BaseModel]

    @classmethod
    def from_settings(cls, settings: Any) -> T: ...


@dataclass
class Registry(Generic[T]):
    """The backends of one stage.

    Attributes:
        stage: The stage's name, as in `Settings` (``detect``, ``recognize``, ...).
        group: The entry point group other packages register backends in.
        builtin: This package's backends, name -> ``"module:Class"``.
        default: The backend a settings section without a name gets.
    """

    stage: str
    group: str
    builtin: dict[str, str]
    default: str
    _added: dict[str, Any] = field(default_factory=dict)

    def names(self) -> tuple[str, ...]:
        """Every backend name: this package's, then entry points', then those added at run time."""
        found = list(self.builtin)
        found += [ep.name for ep in entry_points(group=self.group) if ep.name not in found]
        found += [n for n in self._added if n not in found]
        return tuple(found)

    def choices(self) -> str:
        """The names for a CLI help text: ``"telea (default), ns, gan"``."""
        return ", ".join(f"{n} (default)" if n == self.default else n for n in self.names())

    def backend(self, name: str) -> BackendClass[T]:
        """The class registered under ``name``, imported now.

        Raises:
            ConfigError: No backend of this stage has that name.
        """
        if name in self._added:
            return self._added[name]  # type: ignore[no-any-return]
        if name in self.builtin:
            module, _, attr = self.builtin[name].partition(":")
            return getattr(import_module(module), attr)  # type: ignore[no-any-return]
        for ep in entry_points(group=self.group):
            if ep.name == name:
                return ep.load()  # type: ignore[no-any-return]
        raise ConfigError(f"unknown {self.stage} backend {name!r}; known: {', '.join(self.names())}")

    def options(self, name: str) -> type[BaseModel]:
        """The options model of backend ``name`` (a subclass of the stage's settings section)."""
        return self.backend(name).Options

    def packages(self, backend: Any) -> tuple[str, ...]:
        """The distributions a backend class runs on, for the versions recorded in results.

        Its own ``packages`` attribute if it has one; else the distribution its module comes from.
        """
        declared = getattr(backend, "packages", None)
        if declared is not None:
            return tuple(declared)
        top = type(backend).__module__ if not isinstance(backend, type) else backend.__module__
        return tuple(packages_distributions().get(top.partition(".")[0], ()))

    def build(self, settings: Any) -> T:
        """The backend that a stage's settings section names, built from that section.

        A section given as the stage's base model (``RecognizeSettings()``) is read as the
        backend's options first, their defaults filling what it lacks.
        """
        backend = self.backend(settings_backend(self.stage, settings))
        if not isinstance(settings, backend.Options):
            settings = backend.Options.model_validate(settings.model_dump())
        return backend.from_settings(settings)

    def register(self, name: str, backend: Any) -> None:
        """Add a backend at run time (a program's own, or a test's)."""
        if not hasattr(backend, "Options") or not hasattr(backend, "from_settings"):
            raise TypeError(f"{backend!r} needs an Options model and a from_settings classmethod")
        self._added[name] = backend

    def unregister(self, name: str) -> None:
        """Forget a backend added with `register`."""
        self._added.pop(name, None)


DETECTORS: Registry[Any] = Registry(
    "detect", "imtrans.detectors", {"ppocr": "imtrans.detect.ppocr:PPOCRDetector"}, "ppocr"
)
RECOGNIZERS: Registry[Any] = Registry(
    "recognize",
    "imtrans.recognizers",
    {
        "auto": "imtrans.recognize.route:RoutingRecognizer",
        "ppocr": "imtrans.recognize.ppocr:PPOCRRecognizer",
        "tesseract": "imtrans.recognize.tesseract:TesseractRecognizer",
        "korean-ctc": "imtrans.recognize.korean:KoreanRecognizer",
    },
    "auto",
)
TRANSLATORS: Registry[Any] = Registry(
    "translate",
    "imtrans.translators",
    {
        "local": "imtrans.translate.local:LocalTranslator",
        "glossary": "imtrans.translate.glossary:GlossaryTranslator",
        "papago": "imtrans.translate.papago:PapagoTranslator",
        "deepl": "imtrans.translate.deepl:DeepLTranslator",
        "google": "imtrans.translate.google:GoogleTranslator",
        "openai": "imtrans.translate.openai:OpenAITranslator",
    },
    "local",
)
ERASERS: Registry[Any] = Registry(
    "erase",
    "imtrans.erasers",
    {
        "telea": "imtrans.erase.telea:TeleaEraser",
        "ns": "imtrans.erase.telea:TeleaEraser",
        "gan": "imtrans.erase.gan:GanEraser",
    },
    "telea",
)

#: Each stage's registry, by the name of its section in `Settings`.
REGISTRIES: dict[str, Registry[Any]] = {r.stage: r for r in (DETECTORS, RECOGNIZERS, TRANSLATORS, ERASERS)}


def settings_backend(stage: str, section: Any) -> str:
    """The backend a stage's settings section (a model or its dict) names.

    The translate section names its backend ``translator`` and may leave it unset: then it is
    the glossary when a glossary is given, else the local model.
    """
    get = section.get if isinstance(section, dict) else lambda k, d=None: getattr(section, k, d)
    if stage == "translate":
        return str(get("translator") or ("glossary" if get("glossary") else REGISTRIES[stage].default))
    return str(get("backend") or REGISTRIES[stage].default)
