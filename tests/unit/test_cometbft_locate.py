"""find_cometbft: DUET_COMETBFT first, then the binary ./demo.sh setup builds into the cache."""

from pathlib import Path

import pytest

from chain.consensus.cometbft import COMETBFT_VERSION, CometBFTNotFound, find_cometbft


def make_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_finds_the_binary_setup_built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DUET_COMETBFT", raising=False)
    monkeypatch.setenv("DUET_CACHE_DIR", str(tmp_path))
    built = make_executable(tmp_path / f"cometbft-v{COMETBFT_VERSION}" / "bin" / "cometbft")
    assert find_cometbft() == built


def test_override_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DUET_CACHE_DIR", str(tmp_path))
    make_executable(tmp_path / f"cometbft-v{COMETBFT_VERSION}" / "bin" / "cometbft")
    other = make_executable(tmp_path / "elsewhere" / "cometbft")
    monkeypatch.setenv("DUET_COMETBFT", str(other))
    assert find_cometbft() == other


def test_rejects_missing_binary_naming_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DUET_COMETBFT", raising=False)
    monkeypatch.setenv("DUET_CACHE_DIR", str(tmp_path))
    with pytest.raises(CometBFTNotFound, match=r"`\./demo\.sh setup` builds it"):
        find_cometbft()


def test_rejects_override_that_is_not_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "cometbft"
    plain.write_text("not a program")
    monkeypatch.setenv("DUET_COMETBFT", str(plain))
    with pytest.raises(CometBFTNotFound, match="is not an executable file"):
        find_cometbft()
