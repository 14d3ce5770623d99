"""Every circuit compiles under `circom2 --inspect` with no warning, and fits the 2^14
ceremony (constraints + public inputs + 1 at most 2^14, the size of the powers of tau)."""

import re

import pytest

from chain.prover.escape import EXIT_PUBLIC, REFUSAL_PUBLIC
from chain.prover.ownership import OWNERSHIP_PUBLIC
from chain.prover.witness import STATEMENT_NAMES
from chain.zk.registry import CIRCUIT_NAMES, WORD_LAYOUTS
from tests.circuits.lab import CIRCUITS_DIR, AnyCircuit, CircuitLab

CEREMONY_POWER = 14
# preRoot, postRoot and the words for an operation; the statement's own inputs otherwise.
PUBLIC_COUNTS: dict[AnyCircuit, int] = {
    **{name: 2 + len(WORD_LAYOUTS[name]) for name in CIRCUIT_NAMES},
    "ownership": len(OWNERSHIP_PUBLIC),
    "exit": len(EXIT_PUBLIC),
    "refuse_withdraw": len(REFUSAL_PUBLIC),
}
# Linear constraints that --O2 cannot fold because they tie public inputs alone: a refusal's
# postRoot = preRoot.
PUBLIC_ONLY_LINEAR: dict[AnyCircuit, int] = {"refuse_withdraw": 1}


def read_count(output: str, label: str) -> int:
    found = re.search(rf"^{label}: (\d+)", output, re.MULTILINE)
    assert found, f"no {label!r} in the compiler's output: {output}"
    return int(found[1])


def test_every_circuit_is_known() -> None:
    circuits = sorted(p.stem for p in CIRCUITS_DIR.glob("*.circom"))
    assert circuits == sorted(CIRCUIT_NAMES + STATEMENT_NAMES) == sorted(PUBLIC_COUNTS)


@pytest.mark.parametrize("name", list(PUBLIC_COUNTS))
def test_compiles_without_warnings_within_the_ceremony(name: AnyCircuit, lab: CircuitLab) -> None:
    output = lab.get_compiler_report(name)  # the compile that made the test keys' wasm
    assert "warning[" not in output, output  # circom2 prints warning[CA01] and the like
    constraints = read_count(output, "non-linear constraints")
    # --O2 folds every other linear one
    assert read_count(output, "linear constraints") == PUBLIC_ONLY_LINEAR.get(name, 0)
    public = read_count(output, "public inputs")
    assert public == PUBLIC_COUNTS[name]
    assert constraints + public + 1 <= 1 << CEREMONY_POWER
