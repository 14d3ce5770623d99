"""Forced Withdraws at the test genesis, one for each side of every rule the withdraw circuit
checks, with boundary values (a balance equal to the debit, the last nonce, the widest amount
and recipient). Shared by the pure complement test (tests/unit/test_escape_refusal.py) and the
circuits' (tests/circuits/test_escape.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from chain.prover.escape import RefusalReason, Words, compute_withdraw_words
from chain.zk.op_inputs import CircuitInputs
from chain.zk.ops import GWEI, MAX_AMOUNT, MAX_NONCE, Operation, Withdraw
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ADDRESS_BITS,
    AMOUNT_BITS,
    Account,
    ZkState,
    compute_state_root,
    put_account,
)
from chain.zk.words import HEADER_LAYOUT, unpack_word
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    ETHER,
    FEE,
    compute_test_genesis,
    with_balance,
)

ALICE_BALANCE = 100 * ETHER  # the test genesis's; Alice is account 0, Bob 1
ALICE_INDEX = 0
BOB_INDEX = 1
EMPTY_INDEX = 9  # no account there
HEADER_BITS = 252


@dataclass(frozen=True)
class ForcedCase:
    name: str
    state: ZkState
    op: Operation
    reason: RefusalReason | None  # None: the withdraw circuit proves it
    from_index: int | None = None  # None: the signer's own index
    high_header: bool = False  # w1 gets bit 252 set (no Operation packs so)

    @property
    def words(self) -> Words:
        w1, w2, w3 = compute_withdraw_words(self.state, self.op, self.from_index)
        return (w1 | 1 << HEADER_BITS if self.high_header else w1), w2, w3


def alice(amount: int, to: int = BOB, fee: int = FEE, nonce: int = 0) -> Operation:
    return Operation(Withdraw(to, amount), ALICE, fee, nonce)


def with_nonce(state: ZkState, index: int, nonce: int) -> ZkState:
    changed = state.copy()
    put_account(changed, index, replace(changed.account_records[index], nonce=nonce))
    return changed


def compute_forced_cases() -> list[ForcedCase]:
    genesis = compute_test_genesis()
    rich = with_balance(genesis, ALICE_INDEX, MAX_AMOUNT)
    worn = with_nonce(genesis, ALICE_INDEX, MAX_NONCE - 1)
    spent = with_nonce(genesis, ALICE_INDEX, MAX_NONCE)
    debit = ALICE_BALANCE - FEE  # the amount that, with the fee, takes every wei
    return [
        ForcedCase("ordinary", genesis, alice(ETHER), None),
        ForcedCase("balance equals the debit", genesis, alice(debit), None),
        ForcedCase("balance one wei short", genesis, alice(debit + 1), "short_balance"),
        ForcedCase("no fee, whole balance", genesis, alice(ALICE_BALANCE, fee=0), None),
        ForcedCase("fee alone too much", genesis, alice(1, fee=ALICE_BALANCE), "short_balance"),
        ForcedCase("largest fee", genesis, alice(1, fee=((1 << 48) - 1) * GWEI), "short_balance"),
        ForcedCase("largest amount", rich, alice(MAX_AMOUNT, fee=0), None),
        ForcedCase("amount 2^96", rich, alice(1 << AMOUNT_BITS, fee=0), "amount_too_large"),
        ForcedCase("amount p - 1", genesis, alice(FIELD_MODULUS - 1), "amount_too_large"),
        ForcedCase("zero amount", genesis, alice(0), "amount_is_zero"),
        ForcedCase("zero recipient", genesis, alice(ETHER, to=0), "recipient_is_zero"),
        ForcedCase("widest recipient", genesis, alice(ETHER, to=(1 << ADDRESS_BITS) - 1), None),
        ForcedCase(
            "recipient 2^160", genesis, alice(ETHER, to=1 << ADDRESS_BITS), "recipient_too_wide"
        ),
        ForcedCase("next nonce", genesis, alice(ETHER, nonce=1), "wrong_nonce"),
        ForcedCase("last nonce", worn, alice(ETHER, nonce=MAX_NONCE - 1), None),
        ForcedCase("exhausted nonce", spent, alice(ETHER, nonce=MAX_NONCE), "nonce_exhausted"),
        ForcedCase(
            "signer without account",
            genesis,
            Operation(Withdraw(BOB, ETHER), CAROL, FEE, 0),
            "not_signers_account",
        ),
        ForcedCase(
            "signer 0", genesis, Operation(Withdraw(BOB, ETHER), 0, FEE, 0), "signer_is_zero"
        ),
        ForcedCase(
            "another's index", genesis, alice(ETHER), "not_signers_account", from_index=BOB_INDEX
        ),
        ForcedCase(
            "an empty index", genesis, alice(ETHER), "not_signers_account", from_index=EMPTY_INDEX
        ),
        ForcedCase("header 2^252", genesis, alice(ETHER), "header_out_of_range", high_header=True),
    ]


def compute_withdraw_attempt(state: ZkState, words: Words) -> CircuitInputs:
    """The withdraw circuit's inputs for these words at `state`, whatever the rules say: the
    leaf at fromIndex as it is, and the post-root that the circuit's arithmetic (modulo p)
    leads to. For a state root, no other private inputs are possible (short of a Poseidon
    collision), so the words have a withdraw proof if and only if these satisfy the circuit."""
    w1, w2, w3 = words
    header = unpack_word(HEADER_LAYOUT, w1 % (1 << HEADER_BITS))
    leaf = state.account_records.get(header["fromIndex"], Account(0))
    fee = header["feeGwei"] * GWEI
    post = state.copy()
    balance = (leaf.balance - w3 - fee) % FIELD_MODULUS
    after = Account(header["from"], balance, header["nonce"] + 1, leaf.key_hash)
    put_account(post, header["fromIndex"], after)
    post.fee_pool = (post.fee_pool + fee) % FIELD_MODULUS
    return {
        "preRoot": compute_state_root(state),
        "postRoot": compute_state_root(post),
        "w1": w1,
        "w2": w2,
        "w3": w3,
        "nftsRoot": state.nfts.root,
        "collectionsRoot": state.collections.root,
        "proversRoot": state.provers.root,
        "feePool": state.fee_pool,
        "escrow": state.escrow,
        "inbox": state.inbox,
        "signerBalance": leaf.balance,
        "signerKeyHash": leaf.key_hash,
        "signerPath": state.accounts.get_path(header["fromIndex"]),
    }
