"""Where the translate stage keeps files: the translation cache and downloaded models."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

#: Environment variable that moves every file of this stage (cache and models) elsewhere.
CACHE_DIR_ENV = "IMTRANS_CACHE_DIR"


def cache_root() -> Path:
    """The user cache directory of imtrans, or ``$IMTRANS_CACHE_DIR`` when set."""
    override = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(override) if override else Path(platformdirs.user_cache_dir("imtrans"))


def default_cache_file() -> Path:
    """The SQLite file of the translation cache."""
    return cache_root() / "translations.sqlite3"


def models_root() -> Path:
    """The directory holding one sub-directory per downloaded model."""
    return cache_root() / "models"
