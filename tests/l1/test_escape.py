"""Forced withdrawals and the escape hatch on a real anvil, with real proofs (docs/l1.md,
"Forced withdrawals and the escape hatch"): a user the sequencer ignores queues a signed
Withdraw on L1; once it is forceDelay old no block settles unless it starts with it, executed
or proven refused; once it is freezeDelay old anyone may freeze the rollup, and then every
account exits with exactly its balance under the settled root, once, and uncredited deposits
are paid back.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import ContractLogicError

from chain.l1.calldata import encode_op
from chain.l1.config import DEV_ESCAPE, EscapeSchedule
from chain.l1.contracts import decode_revert
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Revert
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import compute_genesis_root, compute_genesis_supply
from chain.testing.settlement_gas import (
    make_withdraw_words,
    move_l1_time,
    prove_exit,
    settle,
    sign_withdraw_words,
)
from chain.types import Height
from chain.zk.ops import Withdraw
from chain.zk.state import ZkState, get_account, get_account_index
from tests.circuits.scenarios import ALICE, BOB, CAROL, ETHER, MINTER, SIGNER_KEYS
from tests.integration.support import dev_account
from tests.l1.harness import (
    L1_DEPOSITS,
    L1_RECIPIENT,
    compute_genesis,
    get_first_block,
    prove_block,
    prove_refusal,
)

WITHDRAWAL = Withdraw(L1_RECIPIENT, ETHER)
PAST_FORCE = DEV_ESCAPE.force_delay_s + 1
PAST_FREEZE = DEV_ESCAPE.freeze_delay_s + 1


@pytest.fixture
def depositor() -> LocalAccount:
    return dev_account(1)


@pytest.fixture
def rollup(w3: Web3, deployer: LocalAccount, depositor: LocalAccount) -> RollupClient:
    """A rollup that backs the genesis supply (exits are paid from it)."""
    deployment = deploy_contracts(
        w3,
        deployer,
        compute_genesis_root(),
        backing=compute_genesis_supply(),
        grants={depositor.address: 10 * ETHER},
    )
    return RollupClient(w3, deployment.rollup, deployer)


def assert_refused(
    rollup: RollupClient, error: str, action: Callable[[], object]
) -> tuple[object, ...]:
    with pytest.raises(L1Revert) as refused:
        action()
    assert refused.value.error == error, refused.value
    return refused.value.error_args


def force(rollup: RollupClient, signer: int, body: Withdraw, nonce: int | None = None) -> tuple:
    """`signer`'s Withdraw at genesis, queued on L1; returns its words."""
    words = make_withdraw_words(compute_genesis(), signer, body, nonce)
    signature = sign_withdraw_words(rollup.get_domain(), words, SIGNER_KEYS[signer])
    rollup.force_withdraw(words, signature)
    return words


def queue_and_freeze(rollup: RollupClient) -> None:
    force(rollup, ALICE, WITHDRAWAL)
    move_l1_time(rollup.w3, PAST_FREEZE)
    rollup.freeze()


def l1_address(zk_address: int) -> str:
    return to_checksum_address(zk_address.to_bytes(20, "big"))


# -- the queue ----------------------------------------------------------------------------------


def test_queues_a_signed_withdraw_for_its_fee(rollup: RollupClient) -> None:
    words = force(rollup, ALICE, WITHDRAWAL)
    assert rollup.get_forced_queue() == (1, 0)
    assert words[0] & ((1 << 160) - 1) == ALICE


def test_refuses_to_queue_a_withdraw_its_from_did_not_sign(rollup: RollupClient) -> None:
    words = make_withdraw_words(compute_genesis(), ALICE, WITHDRAWAL)
    bobs = sign_withdraw_words(rollup.get_domain(), words, SIGNER_KEYS[BOB])
    args = assert_refused(rollup, "ForcedNotSigned", lambda: rollup.force_withdraw(words, bobs))
    assert [int(str(a), 16) for a in args] == [ALICE, BOB]
    assert rollup.get_forced_queue() == (0, 0)


def test_refuses_to_queue_words_no_circuit_could_settle(rollup: RollupClient) -> None:
    w1, w2, w3 = make_withdraw_words(compute_genesis(), ALICE, WITHDRAWAL)
    for words in ((w1, w2, 2**96), (w1, 2**160, w3), (w1 | 1 << 252, w2, w3)):
        signature = sign_withdraw_words(rollup.get_domain(), words, SIGNER_KEYS[ALICE])
        assert_refused(
            rollup,
            "BadForcedWithdrawal",
            lambda words=words, signature=signature: rollup.force_withdraw(words, signature),
        )


def test_refuses_to_queue_without_the_fee(rollup: RollupClient) -> None:
    words = make_withdraw_words(compute_genesis(), ALICE, WITHDRAWAL)
    signature = sign_withdraw_words(rollup.get_domain(), words, SIGNER_KEYS[ALICE])
    call = rollup.contract.functions.forceWithdraw(*words, signature)
    short = DEV_ESCAPE.force_fee_wei - 1
    with pytest.raises(ContractLogicError) as refused:
        call.call({"from": dev_account(0).address, "value": short})  # type: ignore[typeddict-item]
    revert = decode_revert(rollup.error_abi, refused.value.data)
    assert (revert.error, revert.error_args) == ("ForceFeeTooLow", (short, short + 1))


# -- inclusion ----------------------------------------------------------------------------------


def test_a_due_forced_withdraw_must_start_the_next_block(rollup: RollupClient) -> None:
    genesis = compute_genesis()
    withdraw_block = prove_block(genesis, [(ALICE, WITHDRAWAL)])
    force(rollup, ALICE, WITHDRAWAL)
    first = get_first_block()
    move_l1_time(rollup.w3, PAST_FORCE)
    args = assert_refused(
        rollup,
        "ForcedOperationPending",
        lambda: settle(rollup, Height(1), first.pre_root, first.ops),
    )
    assert args == (0,)
    settle(rollup, Height(1), withdraw_block.pre_root, withdraw_block.ops)
    assert rollup.get_forced_queue() == (1, 1)
    assert rollup.get_settled_root() == withdraw_block.post_root


def test_a_forced_withdraw_not_yet_due_may_wait(rollup: RollupClient) -> None:
    force(rollup, ALICE, WITHDRAWAL)
    first = get_first_block()
    settle(rollup, Height(1), first.pre_root, first.ops)
    assert rollup.get_forced_queue() == (1, 0)


def test_an_invalid_forced_withdraw_is_included_as_a_proven_refusal(rollup: RollupClient) -> None:
    """A wrong nonce: no Withdraw can execute it, so the block proves it refused instead."""
    genesis = compute_genesis()
    words = force(rollup, ALICE, WITHDRAWAL, nonce=7)
    move_l1_time(rollup.w3, PAST_FORCE)
    refusal = prove_refusal(genesis, words)
    settle(rollup, Height(1), compute_genesis_root(), [refusal])
    assert rollup.get_forced_queue() == (1, 1)
    assert rollup.get_settled_root() == compute_genesis_root()  # nothing changed


def test_a_refusal_of_other_words_does_not_include_it(rollup: RollupClient) -> None:
    genesis = compute_genesis()
    force(rollup, ALICE, WITHDRAWAL, nonce=7)
    other = make_withdraw_words(genesis, ALICE, WITHDRAWAL, nonce=8)
    move_l1_time(rollup.w3, PAST_FORCE)
    refusal = prove_refusal(genesis, other)
    assert_refused(
        rollup,
        "ForcedOperationPending",
        lambda: settle(rollup, Height(1), compute_genesis_root(), [refusal]),
    )


# -- the freeze and the exits -------------------------------------------------------------------


def test_freeze_waits_for_a_forced_withdraw_past_the_freeze_delay(rollup: RollupClient) -> None:
    assert_refused(rollup, "NotFreezable", rollup.freeze)
    force(rollup, ALICE, WITHDRAWAL)
    move_l1_time(rollup.w3, PAST_FORCE)
    assert_refused(rollup, "NotFreezable", rollup.freeze)
    move_l1_time(rollup.w3, PAST_FREEZE)
    rollup.freeze()
    assert rollup.is_frozen()
    first = get_first_block()
    assert_refused(
        rollup, "RollupIsFrozen", lambda: settle(rollup, Height(1), first.pre_root, first.ops)
    )
    assert_refused(rollup, "RollupIsFrozen", lambda: force(rollup, BOB, WITHDRAWAL))


def test_every_account_exits_with_its_settled_balance_once(rollup: RollupClient) -> None:
    first = get_first_block()
    settle(rollup, Height(1), first.pre_root, first.ops)
    state: ZkState = first.post
    assert_refused(rollup, "NotFrozen", lambda: rollup.exit(encode_op(prove_exit(state, 0))))
    queue_and_freeze(rollup)
    for holder in (ALICE, BOB, CAROL, MINTER):
        index = get_account_index(state, holder)
        assert index is not None
        statement = encode_op(prove_exit(state, index))
        before = rollup.get_token_balance(l1_address(holder))  # type: ignore[arg-type]
        rollup.exit(statement)
        paid = rollup.get_token_balance(l1_address(holder)) - before  # type: ignore[arg-type]
        assert paid == get_account(state, holder).balance
        again = lambda statement=statement: rollup.exit(statement)  # noqa: E731
        args = assert_refused(rollup, "AlreadyExited", again)
        assert args == (index,)


def test_refuses_an_exit_from_a_root_that_is_not_the_settled_one(rollup: RollupClient) -> None:
    first = get_first_block()
    settle(rollup, Height(1), first.pre_root, first.ops)
    queue_and_freeze(rollup)
    stale = encode_op(prove_exit(compute_genesis(), 0))  # Alice's genesis balance: more
    assert_refused(rollup, "InvalidProofBatch", lambda: rollup.exit(stale))


def test_refuses_an_exit_with_a_changed_balance(rollup: RollupClient) -> None:
    queue_and_freeze(rollup)
    statement = bytearray(encode_op(prove_exit(compute_genesis(), 0)))
    statement[64] ^= 0x01  # the balance word's lowest byte
    assert_refused(rollup, "InvalidProofBatch", lambda: rollup.exit(bytes(statement)))


def test_an_exit_statement_never_goes_in_a_block(rollup: RollupClient) -> None:
    exit_op = prove_exit(compute_genesis(), 0)
    args = assert_refused(
        rollup,
        "NotAnOperation",
        lambda: settle(rollup, Height(1), compute_genesis_root(), [exit_op]),
    )
    assert args == (0,)


def test_uncredited_deposits_are_refunded_after_a_freeze(
    rollup: RollupClient, depositor: LocalAccount
) -> None:
    as_depositor = RollupClient(rollup.w3, rollup.address, depositor)
    for to, amount in L1_DEPOSITS:
        as_depositor.deposit(l1_address(to), amount)  # type: ignore[arg-type]
    assert_refused(rollup, "NotFrozen", lambda: rollup.refund_deposit(0))
    queue_and_freeze(rollup)
    to, amount = L1_DEPOSITS[0]
    before = rollup.get_token_balance(l1_address(to))  # type: ignore[arg-type]
    rollup.refund_deposit(0)
    assert rollup.get_token_balance(l1_address(to)) - before == amount  # type: ignore[arg-type]
    for index in (0, len(L1_DEPOSITS)):  # refunded already; never made
        assert_refused(rollup, "NotRefundable", lambda index=index: rollup.refund_deposit(index))
    assert_refused(
        rollup,
        "RollupIsFrozen",
        lambda: as_depositor.deposit(l1_address(CAROL), ETHER),  # type: ignore[arg-type]
    )


def test_refuses_a_force_delay_longer_than_the_freeze_delay(
    w3: Web3, deployer: LocalAccount
) -> None:
    """Freezing before a queued Withdraw is even due would punish a sequencer that obeys."""
    backwards = EscapeSchedule(force_delay_s=600, freeze_delay_s=60, force_fee_wei=1)
    with pytest.raises(L1Revert) as refused:
        deploy_contracts(w3, deployer, compute_genesis_root(), escape=backwards)
    assert refused.value.error == "BadEscape"
