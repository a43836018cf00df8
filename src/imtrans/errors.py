"""Errors a user can act on. Each carries a one-line message; the CLI prints it and exits non-zero."""


class ImtransError(Exception):
    """Base of every error imtrans reports to a user (one line, no traceback)."""

    exit_code = 1


class InputError(ImtransError):
    """The input is not a usable image (corrupt, empty, not an image, too large)."""

    exit_code = 3


class LanguageError(ImtransError):
    """An unknown or unsupported language code."""

    exit_code = 4


class ModelMissingError(ImtransError):
    """A model, its weights or its language data are not installed."""

    exit_code = 5


class TranslatorError(ImtransError):
    """A translation backend failed (missing key, service error, misaligned output)."""

    exit_code = 6


class OutputError(ImtransError):
    """An output path cannot be written."""

    exit_code = 7


class ConfigError(ImtransError):
    """A setting has an invalid value."""

    exit_code = 2
