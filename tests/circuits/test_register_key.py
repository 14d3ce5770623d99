"""register_key.circom against the state machine: an account registers the hash of its
ownership secret (ops.process_register_key). Each rule, broken alone, must stop the circuit;
test_tampering covers the words."""

from dataclasses import replace

from chain.prover.ownership import compute_key_hash
from chain.zk.ops import Operation, RegisterKey, process_header
from chain.zk.state import (
    Account,
    Touch,
    ZkState,
    compute_next_account_index,
    compute_state_root,
    get_account,
    get_account_index,
    put_account,
)
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ALICE,
    CAROL,
    CTX,
    ETHER,
    FEE,
    SECRET,
    compute_test_genesis,
    forge,
    forge_with,
    make_op,
    run,
    run_all,
)

KEY_HASH = compute_key_hash(SECRET)
HEADER_MERKLE = ["QuadLevel", "QuadUpdate", "Header", "RegisterKey"]
KEY_MERKLE = ["QuadLevel", "QuadUpdate", "RegisterKey"]


def test_proves_first_key(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_op(genesis, ALICE, RegisterKey(KEY_HASH)))
    before, after = get_account(genesis, ALICE), get_account(transition.post, ALICE)
    assert after == replace(before, balance=before.balance - FEE, nonce=1, key_hash=KEY_HASH)
    assert_proves(lab, transition.witness)


def test_proves_replacing_a_key(lab: CircuitLab) -> None:
    registered = run_all(compute_test_genesis(), [(ALICE, RegisterKey(KEY_HASH))])
    transition = run(registered, make_op(registered, ALICE, RegisterKey(KEY_HASH + 1)))
    assert transition.witness.inputs["signerKeyHash"] == KEY_HASH
    assert_proves(lab, transition.witness)


def test_rejects_zero_key_hash(lab: CircuitLab) -> None:
    # 0 is "no key": registering it would be a fee spent on nothing, and the rule says non-zero.
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, RegisterKey(0)))
    assert_rejected(lab, forged.witness, ["NonZero", "RegisterKey"], {"RegisterKey": "(w2)"})


def test_rejects_signer_without_account(lab: CircuitLab) -> None:
    # Carol has no account. Her registration, made in a state where she had one in the next
    # free slot, claims that slot; in the real pre-state it is empty.
    genesis = compute_test_genesis()
    index = compute_next_account_index(genesis)
    claimed = genesis.copy()
    put_account(claimed, index, Account(CAROL, balance=ETHER))
    witness = run(claimed, make_op(claimed, CAROL, RegisterKey(KEY_HASH))).witness
    inputs = witness.inputs | {
        "preRoot": compute_state_root(genesis),
        "signerPath": genesis.accounts.get_path(index),
    }
    public = [compute_state_root(genesis), *witness.public_inputs[1:]]
    assert_rejected(lab, replace(witness, inputs=inputs, public_inputs=public), HEADER_MERKLE)


def test_rejects_wrong_old_key_hash(lab: CircuitLab) -> None:
    # The old keyHash is the pre-state's: the header's path binds it, and the keyHash's write
    # starts from the same value, so no other leaf can be swapped in.
    registered = run_all(compute_test_genesis(), [(ALICE, RegisterKey(KEY_HASH))])
    witness = run(registered, make_op(registered, ALICE, RegisterKey(KEY_HASH + 1))).witness
    assert_rejected(
        lab, replace(witness, inputs=witness.inputs | {"signerKeyHash": 0}), HEADER_MERKLE
    )


def test_rejects_key_written_beside_the_signers_slot(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    witness = run(genesis, make_op(genesis, ALICE, RegisterKey(KEY_HASH))).witness
    assert_rejected(lab, with_changed_sibling(witness, "keyPath", 1, 2), KEY_MERKLE)


def test_rejects_other_changes_to_the_leaf(lab: CircuitLab) -> None:
    # Only the keyHash changes: a registration that also pays the signer must not prove.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, RegisterKey(KEY_HASH))

    def register_and_pay_oneself(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        index = get_account_index(state, ALICE)
        assert index is not None
        account = state.account_records[index]
        paid = replace(account, balance=account.balance + ETHER, key_hash=KEY_HASH)
        put_account(state, index, paid, trace)

    forged = forge_with(genesis, op, register_and_pay_oneself)
    assert_rejected(lab, forged.witness, ["RegisterKey"], {"RegisterKey": "postRoot === post"})


def test_rejects_wrong_nonce(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    op = Operation(RegisterKey(KEY_HASH), ALICE, FEE, nonce=1)  # the account's nonce is 0
    assert_rejected(lab, forge(genesis, op).witness, HEADER_MERKLE)
