"""Where the CometBFT binary is: the decentralized mode's consensus engine.

`./demo.sh setup` builds the pinned version with Go into the cache (`$DUET_CACHE_DIR`,
outside the repository); `DUET_COMETBFT` names another binary of the same version instead.
"""

import os
from pathlib import Path

COMETBFT_VERSION = "0.38.26"  # demo.sh pins the same; v1.x renames the ABCI proto package
COMETBFT_ENV = "DUET_COMETBFT"
CACHE_DIR_ENV = "DUET_CACHE_DIR"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "duet"


class CometBFTNotFound(Exception):
    """No CometBFT binary where set-up puts it, nor where DUET_COMETBFT points."""


def get_cached_cometbft_path() -> Path:
    """Where `./demo.sh setup` puts the binary."""
    cache = Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR).expanduser()
    return cache / f"cometbft-v{COMETBFT_VERSION}" / "bin" / "cometbft"


def is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_cometbft() -> Path:
    """The cometbft binary to run: DUET_COMETBFT if set, else the one set-up built."""
    override = os.environ.get(COMETBFT_ENV)
    if override:
        path = Path(override).expanduser()
        if not is_executable(path):
            raise CometBFTNotFound(f"{COMETBFT_ENV}={override} is not an executable file")
        return path
    path = get_cached_cometbft_path()
    if not is_executable(path):
        raise CometBFTNotFound(
            f"CometBFT v{COMETBFT_VERSION} is not installed (looked for {path}); "
            f"`./demo.sh setup` builds it when Go is installed, or set {COMETBFT_ENV}"
        )
    return path
