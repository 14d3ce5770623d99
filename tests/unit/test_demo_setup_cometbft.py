"""demo.sh's CometBFT step: built once into the cache, skipped when there, and never fatal.

`go` is a stand-in script here: the real build takes minutes (tests/integration runs the
real binary). Only the tools the step needs are on PATH, so a machine's own go is not seen.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "dirname", "mkdir", "rm", "mv", "tail", "sed", "cat", "chmod")
VERSION = "0.38.26"

FAKE_GO_BUILDS = f"""#!/bin/bash
echo "go $*" >>"$GO_CALLS"
mkdir -p "$GOBIN"
printf '#!/bin/bash\\necho {VERSION}\\n' >"$GOBIN/cometbft"
chmod +x "$GOBIN/cometbft"
"""
FAKE_GO_FAILS = """#!/bin/bash
echo "go $*" >>"$GO_CALLS"
mkdir -p "$GOBIN" && echo half >"$GOBIN/cometbft"
echo "build failed: no space left on device" >&2
exit 1
"""


def run_step(tmp_path: Path, fake_go: str | None) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    if fake_go is not None:
        (bin_dir / "go").write_text(fake_go)
        (bin_dir / "go").chmod(0o755)
    env = {
        "PATH": str(bin_dir),
        "HOME": str(tmp_path),
        "DUET_CACHE_DIR": str(tmp_path / "cache"),
        "GO_CALLS": str(tmp_path / "go-calls"),
    }
    return subprocess.run(
        [shutil.which("bash") or "bash", "-c", f"source {REPO}/demo.sh && setup_cometbft"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,  # the step never fails set-up
    )


def binary(tmp_path: Path) -> Path:
    return tmp_path / "cache" / f"cometbft-v{VERSION}" / "bin" / "cometbft"


def go_calls(tmp_path: Path) -> list[str]:
    path = tmp_path / "go-calls"
    return path.read_text().splitlines() if path.exists() else []


def test_builds_once_then_skips(tmp_path: Path) -> None:
    first = run_step(tmp_path, FAKE_GO_BUILDS)
    assert f"building CometBFT v{VERSION} (about 3-4 minutes, once" in first.stdout
    assert os.access(binary(tmp_path), os.X_OK)
    assert go_calls(tmp_path) == [
        f"go install github.com/cometbft/cometbft/cmd/cometbft@v{VERSION}"
    ]
    second = run_step(tmp_path, FAKE_GO_BUILDS)
    assert f"CometBFT v{VERSION} up to date" in second.stdout
    assert len(go_calls(tmp_path)) == 1  # no second build


def test_without_go_says_decentralized_mode_unavailable(tmp_path: Path) -> None:
    result = run_step(tmp_path, None)
    assert "go not found" in result.stdout
    assert "the decentralized mode is unavailable" in result.stdout
    assert not binary(tmp_path).exists()


@pytest.mark.parametrize("rerun", [False, True])
def test_failed_build_leaves_no_binary_and_setup_goes_on(tmp_path: Path, rerun: bool) -> None:
    result = run_step(tmp_path, FAKE_GO_FAILS)
    if rerun:  # a failed build is tried again next time, not taken for a finished one
        result = run_step(tmp_path, FAKE_GO_FAILS)
    assert "go install failed" in result.stdout
    assert "no space left on device" in result.stdout
    assert "the decentralized mode is unavailable" in result.stdout
    assert not binary(tmp_path).exists()
    assert len(go_calls(tmp_path)) == (2 if rerun else 1)
