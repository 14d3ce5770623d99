"""The benchmarks stand on the product alone: nothing in bench/ imports the tests, shadows a
package of the repository, or edits the import path to reach one.

A benchmark runs as a script, so its own folder comes first on the import path: a
bench/game.py would be imported for `game` by every module that needs the package. What the
benchmarks share with the tests (process launchers, proven blocks, settlement gas) lives in
`chain.testing`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"
TESTS_PACKAGE = "tests"


def list_bench_files() -> list[Path]:
    return sorted(BENCH.glob("*.py"))


def list_top_level_packages() -> set[str]:
    """The repository's importable top-level packages (chain, game, tests)."""
    return {path.parent.name for path in REPO.glob("*/__init__.py")}


def list_imported_modules(tree: ast.AST) -> list[str]:
    """Every module an `import` or `from ... import` names (absolute imports only)."""
    modules = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
    return modules


def is_tests_module(module: str) -> bool:
    return module == TESTS_PACKAGE or module.startswith(TESTS_PACKAGE + ".")


def list_import_path_edits(tree: ast.AST) -> list[int]:
    """Lines that change `sys.path`: a call of one of its methods, or an assignment to it."""

    def is_sys_path(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "path"
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        )

    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if is_sys_path(node.func.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            # `sys.path = ...`, `sys.path += ...`, `sys.path[0:0] = ...`
            if any(is_sys_path(t) or is_sys_path(getattr(t, "value", t)) for t in targets):
                lines.append(node.lineno)
    return lines


def parse(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def test_bench_has_scripts() -> None:
    assert len(list_bench_files()) >= 5  # the checks below would pass vacuously on no files


def test_top_level_packages_are_found() -> None:
    assert {"chain", "game", "tests"} <= list_top_level_packages()


@pytest.mark.parametrize("path", list_bench_files(), ids=lambda path: path.name)
def test_bench_never_imports_the_tests(path: Path) -> None:
    imported = [module for module in list_imported_modules(parse(path)) if is_tests_module(module)]
    assert imported == [], f"{path.name} imports {imported}: move what it needs to chain.testing"


@pytest.mark.parametrize("path", list_bench_files(), ids=lambda path: path.name)
def test_bench_never_edits_the_import_path(path: Path) -> None:
    lines = list_import_path_edits(parse(path))
    assert lines == [], f"{path.name} changes sys.path on lines {lines}"


def list_shadows(names: list[str]) -> list[str]:
    """The script names among `names` that are a top-level package's name."""
    packages = list_top_level_packages()
    return sorted(name for name in names if Path(name).stem in packages)


def test_no_bench_script_shadows_a_package() -> None:
    assert list_shadows([path.name for path in list_bench_files()]) == []


# -- the checks catch what they are for ------------------------------------------------------


def test_rejects_an_import_of_the_tests() -> None:
    for source in (
        "from tests.l1.harness import measure_settlement",
        "import tests.circuits.scenarios",
        "from tests import conftest",
        "def f():\n    from tests.integration.support import dev_account\n",
    ):
        found = [m for m in list_imported_modules(ast.parse(source)) if is_tests_module(m)]
        assert found, source


def test_accepts_modules_that_only_look_like_the_tests() -> None:
    source = "import testsuite\nfrom chain.testing.proven_blocks import get_transfer_chain\n"
    assert not [m for m in list_imported_modules(ast.parse(source)) if is_tests_module(m)]


def test_rejects_an_edit_of_the_import_path() -> None:
    for source in (
        "import sys\nsys.path.insert(0, '/repo')\n",
        "import sys\nsys.path.append('/repo')\n",
        "import sys\nsys.path = ['/repo', *sys.path]\n",
        "import sys\nsys.path += ['/repo']\n",
        "import sys\nsys.path[0:0] = ['/repo']\n",
    ):
        assert list_import_path_edits(ast.parse(source)) == [2], source


def test_rejects_a_script_named_like_a_package() -> None:
    assert list_shadows(["fast_chain.py", "game.py", "chain.py", "tests.py"]) == [
        "chain.py",
        "game.py",
        "tests.py",
    ]


def test_accepts_a_read_of_the_import_path() -> None:
    assert list_import_path_edits(ast.parse("import sys\nprint(sys.path[0])\n")) == []
