"""chain/prover/escape.py's refusal rules against the state machine (pure, fast): a forced
Withdraw is refused exactly when apply_operation would not apply it, the node's minimum fee
aside (no circuit sees it), and its refusal inputs exist exactly then. The circuits' side of
the same table is tests/circuits/test_escape.py."""

import random

import pytest

from chain.prover.errors import ProverError
from chain.prover.escape import (
    REFUSAL_REASONS,
    compute_exit_inputs,
    compute_refusal_flags,
    compute_refusal_inputs,
    compute_refusal_inputs_for_words,
    compute_withdraw_words,
    explain_refusal,
    explain_withdraw_refusal,
)
from chain.prover.witness import compute_witness
from chain.zk.ops import GWEI, BlockContext, InvalidOp, Operation, Withdraw
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import apply_operation, pack_words
from chain.zk.state import compute_state_root
from tests.circuits.forced_withdrawals import (
    ALICE_BALANCE,
    ALICE_INDEX,
    ForcedCase,
    alice,
    compute_forced_cases,
)
from tests.circuits.scenarios import ALICE, BOB, CTX, ETHER, FEE, compute_test_genesis

# What the circuits enforce: every rule of apply_operation but the minimum fee.
ANY_FEE = BlockContext(CTX.height, CTX.epoch, min_fee=0)
CASES = compute_forced_cases()


def is_applied(case: ForcedCase) -> bool:
    try:
        apply_operation(case.state, case.op, ANY_FEE)
    except InvalidOp:
        return False
    return True


def test_every_reason_has_a_case() -> None:
    assert {case.reason for case in CASES} == {None, *REFUSAL_REASONS}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_refused_exactly_when_the_state_machine_refuses(case: ForcedCase) -> None:
    assert explain_refusal(case.state, case.words) == case.reason
    if case.from_index is None and not case.high_header:  # the words apply_operation's op has
        assert explain_withdraw_refusal(case.state, case.op) == case.reason
        assert is_applied(case) == (case.reason is None)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_exactly_one_of_withdraw_and_refusal_has_inputs(case: ForcedCase) -> None:
    if case.reason is None:
        with pytest.raises(ProverError, match="the Withdraw is valid at this state"):
            compute_refusal_inputs_for_words(case.state, case.words)
        post, trace = apply_operation(case.state, case.op, ANY_FEE)
        witness = compute_witness(case.state, case.op, ANY_FEE, post, trace)
        assert witness.public_inputs[2:] == list(case.words)
    else:
        refusal = compute_refusal_inputs_for_words(case.state, case.words)
        root = compute_state_root(case.state)
        assert refusal.public_inputs == [root, root, *case.words]


def test_words_are_the_withdraw_circuits() -> None:
    genesis = compute_test_genesis()
    op = alice(3 * ETHER, fee=5 * GWEI)
    fields = {"from": ALICE, "fromIndex": ALICE_INDEX, "nonce": 0, "feeGwei": 5}
    expected = pack_words("withdraw", fields | {"to": BOB, "amount": 3 * ETHER})
    assert list(compute_withdraw_words(genesis, op)) == expected
    refusal = compute_refusal_inputs(genesis, alice(ALICE_BALANCE, fee=5 * GWEI))
    assert refusal.public_inputs[2] == expected[0]


def test_first_broken_rule_is_the_reason() -> None:
    # Signer 0 also has no account: the reason is the first flag in the circuit's order.
    genesis = compute_test_genesis()
    words = compute_withdraw_words(genesis, Operation(Withdraw(0, 0), 0, FEE, 7))
    flags = compute_refusal_flags(genesis, words)
    broken = {reason for reason, flag in flags.items() if flag}
    assert broken == {
        "signer_is_zero",
        "recipient_is_zero",
        "amount_is_zero",
        "not_signers_account",
        "wrong_nonce",
    }
    assert explain_refusal(genesis, words) == "signer_is_zero"


def test_matches_the_state_machine_on_random_withdrawals() -> None:
    # Amounts, fees and nonces around Alice's balance and nonce, recipients around the edges.
    rng = random.Random(17)
    genesis = compute_test_genesis()
    outcomes = set()
    for _ in range(300):
        amount = ALICE_BALANCE + rng.randint(-3, 3) * GWEI - rng.choice([0, FEE, 2 * FEE])
        op = Operation(
            Withdraw(rng.choice([0, BOB, 1 << 160, (1 << 160) - 1]), max(amount, 0)),
            rng.choice([ALICE, BOB, 0]),
            rng.choice([0, FEE, 2 * FEE]),
            rng.choice([0, 0, 1]),
        )
        reason = explain_withdraw_refusal(genesis, op)
        applied = is_applied(ForcedCase("random", genesis, op, reason))
        assert applied == (reason is None), (op, reason)
        outcomes.add(reason)
    assert None in outcomes and "short_balance" in outcomes and "wrong_nonce" in outcomes


def test_rejects_withdraw_without_words() -> None:
    # The rollup must not queue these: no header word packs them.
    genesis = compute_test_genesis()
    with pytest.raises(ProverError, match="not a whole number of gwei"):
        explain_withdraw_refusal(genesis, alice(ETHER, fee=FEE + 1))
    with pytest.raises(ProverError, match="feeGwei = 281474976710656 does not fit 48 bits"):
        compute_refusal_inputs(genesis, alice(ETHER, fee=(1 << 48) * GWEI))
    with pytest.raises(ProverError, match="nonce = 4294967296 does not fit 32 bits"):
        compute_refusal_inputs(genesis, alice(ETHER, nonce=1 << 32))
    with pytest.raises(ProverError, match=r"amount \d+ is not a field element"):
        compute_refusal_inputs(genesis, alice(FIELD_MODULUS))
    with pytest.raises(ProverError, match="every word must be a field element"):
        explain_refusal(genesis, (FIELD_MODULUS, BOB, ETHER))


def test_exit_inputs_read_the_leaf() -> None:
    genesis = compute_test_genesis()
    bob = compute_exit_inputs(genesis, 1)
    assert bob.public_inputs == [compute_state_root(genesis), BOB | 1 << 160, 50 * ETHER]
    empty = compute_exit_inputs(genesis, 4095)
    assert empty.public_inputs == [compute_state_root(genesis), 4095 << 160, 0]
    with pytest.raises(ProverError, match="account index 4096 does not fit 12 bits"):
        compute_exit_inputs(genesis, 4096)
