"""The circuits under circomspect, Trail of Bits' static analyser for Circom (`./demo.sh setup`
builds v0.9.0 into the cache with cargo): every finding at warning level or above is one a
person reviewed, listed with why it is safe in `circomspect_reviewed.json`. A new finding
fails the test, and so does a listed one that no longer appears, so the list stays true. A
circuit with an unconstrained signal shows that the analyser does report."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CIRCUITS = REPO / "contracts" / "circuits"
REVIEWED = Path(__file__).parent / "circomspect_reviewed.json"
CIRCOMSPECT_VERSION = "0.9.0"  # demo.sh pins the same
CACHE = Path(os.environ.get("DUET_CACHE_DIR") or Path.home() / ".cache" / "duet").expanduser()
CIRCOMSPECT = CACHE / f"circomspect-v{CIRCOMSPECT_VERSION}" / "bin" / "circomspect"

pytestmark = pytest.mark.skipif(
    not CIRCOMSPECT.is_file(),
    reason=f"circomspect is not built ({CIRCOMSPECT}): `./demo.sh setup` builds it with cargo",
)


@dataclass(frozen=True, order=True)
class Finding:
    rule: str  # circomspect's id, e.g. CS0010
    file: str  # relative to the repository
    source: str  # the line it points at, stripped: it survives edits elsewhere in the file

    def describe(self) -> str:
        return f"{self.rule} {self.file}: {self.source}"


def read_findings(sarif: dict[str, Any], root: Path) -> set[Finding]:
    """The findings of a circomspect SARIF report, each keyed by the source line it names."""
    found = set()
    for result in sarif["runs"][0]["results"]:
        location = result["locations"][0]["physicalLocation"]
        path = Path(location["artifactLocation"]["uri"].removeprefix("file://"))
        line = path.read_text().splitlines()[location["region"]["startLine"] - 1]
        found.add(Finding(result["ruleId"], str(path.relative_to(root)), line.strip()))
    return found


def analyse(files: list[Path], out: Path, root: Path) -> set[Finding]:
    report = out / "circomspect.sarif"
    command = [str(CIRCOMSPECT), "-L", str(REPO / "node_modules"), "-s", str(report)]
    done = subprocess.run([*command, *map(str, files)], capture_output=True, text=True, timeout=120)
    assert report.exists(), f"circomspect wrote no report: {done.stderr[-2000:]}"
    return read_findings(json.loads(report.read_text()), root)


def load_reviewed() -> set[Finding]:
    entries = json.loads(REVIEWED.read_text())
    assert all(entry["why"].strip() for entry in entries), "each entry says why it is safe"
    return {Finding(entry["rule"], entry["file"], entry["source"]) for entry in entries}


def test_every_finding_in_the_circuits_was_reviewed(tmp_path: Path) -> None:
    found = analyse(sorted(CIRCUITS.glob("*.circom")), tmp_path, REPO)
    reviewed = load_reviewed()
    new = sorted(found - reviewed)
    assert not new, "circomspect findings nobody reviewed (fix them, or list them with why):\n" + (
        "\n".join(f.describe() for f in new)
    )
    stale = sorted(reviewed - found)
    assert not stale, "reviewed findings circomspect no longer reports (remove them):\n" + (
        "\n".join(f.describe() for f in stale)
    )


def test_the_analyser_reports_an_unconstrained_signal(tmp_path: Path) -> None:
    circuit = tmp_path / "unconstrained.circom"
    circuit.write_text(
        "pragma circom 2.1.0;\n"
        "template Unconstrained() {\n"
        "    signal input a;\n"
        "    signal output b;\n"
        "    b <-- a * 2;\n"
        "}\n"
        "component main = Unconstrained();\n"
    )
    found = analyse([circuit], tmp_path, tmp_path)
    assert Finding("CA01", "unconstrained.circom", "signal input a;") in found
    assert Finding("CS0013", "unconstrained.circom", "b <-- a * 2;") in found
