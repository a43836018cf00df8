"""Model downloads against a local stand-in for the hub: checksums, atomic install, lockfile."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures import serve_directory

from imtrans.translate import models
from imtrans.translate.models import (
    LOCKFILE,
    DownloadError,
    ModelFile,
    ModelSpec,
    is_installed,
    list_models,
    model_dir,
    pull_model,
    verify_model,
)

REVISION = "1" * 40
WEIGHTS = b"\x00weights\x01" * 5000
CONFIG = b'{"model_type": "marian"}'


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Serve tmp/hub over HTTP as $IMTRANS_HUB_URL, and install into tmp/cache."""
    root = tmp_path / "hub"
    served = root / "org" / "tiny" / "resolve" / REVISION
    served.mkdir(parents=True)
    (served / "config.json").write_bytes(CONFIG)
    (served / "weights.bin").write_bytes(WEIGHTS)

    with serve_directory(root) as url:
        monkeypatch.setenv("IMTRANS_HUB_URL", url + "/")
        monkeypatch.setenv("IMTRANS_CACHE_DIR", str(tmp_path / "cache"))
        yield served


def register(monkeypatch: pytest.MonkeyPatch, *files: ModelFile) -> ModelSpec:
    spec = ModelSpec("tiny", "org/tiny", REVISION, files, pairs=(("ko", "en"),), size_mb=1)
    monkeypatch.setitem(models.REGISTRY, "tiny", spec)
    return spec


def leftovers(tmp_path: Path) -> list[str]:
    root = tmp_path / "cache" / "models"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_pull_verifies_known_digests_and_records_the_others(
    hub: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(
        monkeypatch,
        ModelFile("config.json"),
        ModelFile("weights.bin", hashlib.sha256(WEIGHTS).hexdigest()),
        ModelFile("generation_config.json", optional=True),
    )
    path = pull_model("tiny", progress=False)
    assert path == model_dir("tiny") and is_installed("tiny")
    assert (path / "weights.bin").read_bytes() == WEIGHTS
    assert not (path / "generation_config.json").exists()
    lock = json.loads((path / LOCKFILE).read_text())
    assert lock["revision"] == REVISION
    assert lock["files"]["config.json"] == {
        "sha256": hashlib.sha256(CONFIG).hexdigest(),
        "size": len(CONFIG),
        "mtime_ns": (path / "config.json").stat().st_mtime_ns,
        "pinned": False,  # trust on first use
    }
    assert lock["files"]["weights.bin"]["pinned"] is True
    assert leftovers(tmp_path) == ["tiny"]  # no partial directory left
    verify_model(path, full=True)


def test_checksum_mismatch_installs_nothing(
    hub: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, ModelFile("config.json"), ModelFile("weights.bin", "0" * 64))
    with pytest.raises(DownloadError) as info:
        pull_model("tiny", progress=False)
    assert "checksum mismatch for weights.bin of model tiny" in str(info.value)
    assert "nothing was installed" in str(info.value)
    assert not info.value.offline
    assert leftovers(tmp_path) == []
    assert not is_installed("tiny")


def test_a_failed_forced_pull_keeps_the_installed_model(
    hub: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, ModelFile("config.json"), ModelFile("weights.bin"))
    pull_model("tiny", progress=False)
    (hub / "weights.bin").write_bytes(b"tampered")
    register(
        monkeypatch, ModelFile("config.json"), ModelFile("weights.bin", hashlib.sha256(WEIGHTS).hexdigest())
    )
    with pytest.raises(DownloadError, match="checksum mismatch"):
        pull_model("tiny", progress=False, force=True)
    assert (model_dir("tiny") / "weights.bin").read_bytes() == WEIGHTS
    assert leftovers(tmp_path) == ["tiny"]


def test_a_missing_required_file_is_an_error(
    hub: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    register(monkeypatch, ModelFile("config.json"), ModelFile("tokenizer.json"))
    with pytest.raises(DownloadError, match=r"cannot download tokenizer.json of model tiny: HTTP 404"):
        pull_model("tiny", progress=False)
    assert leftovers(tmp_path) == []


def test_no_network_is_reported_as_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IMTRANS_HUB_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("IMTRANS_CACHE_DIR", str(tmp_path / "cache"))
    register(monkeypatch, ModelFile("config.json"))
    with pytest.raises(DownloadError) as info:
        pull_model("tiny", progress=False)
    assert info.value.offline
    assert str(info.value).startswith("cannot reach http://127.0.0.1:1 to download model tiny (no network?")
    assert leftovers(tmp_path) == []


def test_a_second_pull_is_a_no_op(hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, ModelFile("config.json"))
    first = pull_model("tiny", progress=False)
    (hub / "config.json").unlink()  # the hub could not serve it again
    assert pull_model("tiny", progress=False) == first


def test_verify_notices_a_changed_or_missing_file(hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, ModelFile("config.json"), ModelFile("weights.bin"))
    path = pull_model("tiny", progress=False)
    (path / "weights.bin").write_bytes(WEIGHTS[:-1] + b"X")
    with pytest.raises(
        models.ModelMissingError, match=r"weights.bin of model tiny in .* changed since download"
    ):
        verify_model(path)
    (path / "weights.bin").unlink()
    with pytest.raises(models.ModelMissingError, match=r"incomplete \(weights.bin is missing\)"):
        verify_model(path)


def test_a_users_own_directory_is_not_checked(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    verify_model(tmp_path, full=True)


def test_list_models_shows_installed_models_with_their_size(
    hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register(monkeypatch, ModelFile("config.json"), ModelFile("weights.bin"))
    rows = {r.name: r for r in list_models()}
    assert rows["tiny"] == ("tiny", "ko->en", False, "~1 MB")
    assert rows["opus-mt-ko-en"].pairs == "ko->en"
    assert rows["m2m100_418M"].pairs.startswith("any pair of ko en ja zh")
    pull_model("tiny", progress=False)
    assert {r.name: r for r in list_models()}["tiny"] == ("tiny", "ko->en", True, "0 MB")


def test_progress_bar_does_not_break_a_download(hub: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    register(monkeypatch, ModelFile("weights.bin", hashlib.sha256(WEIGHTS).hexdigest()))
    assert (pull_model("tiny", progress=True) / "weights.bin").read_bytes() == WEIGHTS
