"""chain.zk.poseidon equals circomlib's Poseidon, as circomlibjs computes it (DESIGN.md,
"Proving"): the trees, the circuits and the witness builder all rest on that."""

import random

from chain.zk.poseidon import FIELD_MODULUS, poseidon
from tests.circuits.lab import run_node

ARITIES = range(1, 9)
EDGE_VALUES = [0, 1, 2, FIELD_MODULUS - 1, FIELD_MODULUS - 2, (1 << 253) - 1, 1 << 252]
RANDOM_CASES_PER_ARITY = 12


def compute_cases() -> list[list[int]]:
    rng = random.Random(20240611)
    cases = []
    for arity in ARITIES:
        cases.append([0] * arity)
        cases.append([FIELD_MODULUS - 1] * arity)
        cases.append([EDGE_VALUES[(arity + k) % len(EDGE_VALUES)] for k in range(arity)])
        for _ in range(RANDOM_CASES_PER_ARITY):
            near_modulus = [FIELD_MODULUS - 1 - rng.randrange(1 << 64) for _ in range(arity)]
            anywhere = [rng.randrange(FIELD_MODULUS) for _ in range(arity)]
            small = [rng.randrange(1 << 96) for _ in range(arity)]
            cases += [near_modulus, anywhere, small]
    return cases


def test_poseidon_equals_circomlibjs() -> None:
    cases = compute_cases()
    expected = run_node("poseidon.mjs", [[str(value) for value in case] for case in cases])
    assert isinstance(expected, list)
    mismatches = [
        (case, int(hash_))
        for case, hash_ in zip(cases, expected, strict=True)
        if poseidon(*case) != int(hash_)
    ]
    assert len(expected) == len(cases) > 8 * RANDOM_CASES_PER_ARITY
    assert mismatches == []
