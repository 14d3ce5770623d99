"""Fixtures for the prover tests: the fixture circuits in a private copy and a private cache.

Each test that builds gets its own cache directory; the proving tests share one built cache
per xdist worker. Every cache reuses the real powers of tau (`$DUET_CACHE_DIR/ptau`, which
`./demo.sh setup` makes): it is keyed by its parameters only. It also reuses the devkeys
helper (`$DUET_CACHE_DIR/devkeys`), whose first build takes a minute or two.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chain.prover.ceremony import (
    PROJECT_ROOT,
    CeremonyPaths,
    get_default_paths,
    setup_circuits,
    setup_ptau,
)

FIXTURE_CIRCUITS = Path(__file__).resolve().parents[1] / "fixtures" / "circuits"


def make_paths(root: Path) -> CeremonyPaths:
    """A copy of the fixture circuits under `root` (tests may edit it) and a cache beside it."""
    circuits_dir = root / "circuits"
    shutil.copytree(FIXTURE_CIRCUITS, circuits_dir)
    cache_dir = root / "cache"
    cache_dir.mkdir()
    shared = get_default_paths()
    setup_ptau(shared)  # a no-op once made
    (cache_dir / "ptau").symlink_to(shared.ptau_dir, target_is_directory=True)
    shared.tools_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / "devkeys").symlink_to(shared.tools_dir, target_is_directory=True)
    return CeremonyPaths(PROJECT_ROOT, circuits_dir, cache_dir, cache_dir / "ptau")


@pytest.fixture
def paths(tmp_path: Path) -> CeremonyPaths:
    """Fixture circuits with an empty cache of the test's own."""
    return make_paths(tmp_path)


@pytest.fixture(scope="session")
def built_paths(tmp_path_factory: pytest.TempPathFactory) -> CeremonyPaths:
    """Fixture circuits with every entry built, shared by the tests of one xdist worker."""
    paths = make_paths(tmp_path_factory.mktemp("prover"))
    setup_circuits(paths, jobs=1, report=lambda line: None)
    return paths
