"""Inputs of L1's escape hatch and forced inclusion (docs/zk-state.md, "Exit proof" and
"Refusing a forced withdrawal"): two statements, each proved like the ownership proof.

`exit` (`contracts/circuits/exit.circom`): once the rollup is frozen, an account withdraws on
L1 what its leaf held under the last settled state root. Public, in the order of
`EXIT_PUBLIC`: `root`, `account = address | index << 160`, `balance` (wei, the unit of a
Withdraw's amount, which is what the rollup pays out).

`refuse_withdraw` (`contracts/circuits/refuse_withdraw.circom`): a Withdraw queued on L1 must
be settled once it is old enough, executed by the withdraw circuit or refused by this one,
which proves that the withdraw circuit has no proof for it at the state where it is due.
Public, in the order of `REFUSAL_PUBLIC`: `preRoot`, `postRoot` (= preRoot), and the
Withdraw's own words `w1, w2, w3` (`WORD_LAYOUTS["withdraw"]`). The reasons are the
complement of the withdraw circuit's rules, for any three field elements as words:
`REFUSAL_REASONS`, in the circuit's order. Neither circuit checks the signature (L1 does, when
it queues the operation) nor the node's minimum fee (an admission rule that no circuit sees):
so with the signer's own account index, `explain_withdraw_refusal` is None exactly when
`apply_operation` applies the Withdraw at a minimum fee of 0.

Everything here is pure: leaves and paths are read from the state's records and trees. A
refusal the node commits keeps only what its witness needs (`compute_refusal_statement`),
and the witness is built from that when a prover is served the job.
"""

from collections.abc import Sequence
from typing import Literal, get_args

from chain.prover.errors import ProverError
from chain.prover.witness import CircuitWitness, StatementName, WitnessSource
from chain.zk.op_inputs import (
    CircuitInputs,
    StateSummary,
    compute_state_summary,
    compute_summary_globals_hash,
    get_account_record,
)
from chain.zk.ops import GWEI, MAX_NONCE, Operation, Withdraw
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.state import (
    ADDRESS_BITS,
    AMOUNT_BITS,
    EMPTY_ACCOUNT,
    Account,
    Touch,
    ZkState,
    compute_state_root,
    get_account_index,
)
from chain.zk.words import (
    ACCOUNT_INDEX_BITS,
    HEADER_LAYOUT,
    InvalidWitness,
    compute_layout_width,
    pack_word,
    unpack_word,
)

EXIT_CIRCUIT: StatementName = "exit"
EXIT_PUBLIC = ("root", "account", "balance")
REFUSAL_CIRCUIT: StatementName = "refuse_withdraw"
REFUSAL_PUBLIC = ("preRoot", "postRoot", "w1", "w2", "w3")
HEADER_WORD_BITS = compute_layout_width(HEADER_LAYOUT)  # 252: from, fromIndex, nonce, feeGwei

# Why the withdraw circuit cannot prove a Withdraw at a state: one name per flag of
# refuse_withdraw.circom, in its order. The first that holds is the one reported.
RefusalReason = Literal[
    "header_out_of_range",  # w1 >= 2^252: not a packed header
    "signer_is_zero",  # from = 0, which only an empty slot holds
    "nonce_exhausted",  # nonce = 2^32 - 1: the nonce after would not fit
    "recipient_is_zero",  # to = 0
    "recipient_too_wide",  # to >= 2^160
    "amount_is_zero",
    "amount_too_large",  # amount >= 2^96
    "not_signers_account",  # the leaf at fromIndex holds another address
    "wrong_nonce",  # the leaf's nonce is not the operation's
    "short_balance",  # the leaf's balance < amount + fee, what the header debits
]
REFUSAL_REASONS: tuple[RefusalReason, ...] = get_args(RefusalReason)

Words = tuple[int, int, int]  # w1, w2, w3 of a Withdraw


def compute_exit_account(address: int, index: int) -> int:
    """The exit proof's `account` input: the leaf's address and its index in one word."""
    return address | index << ADDRESS_BITS


def compute_exit_inputs(state: ZkState, index: int) -> CircuitWitness:
    """The exit circuit's inputs for the account leaf at `index` of `state`: whatever it holds,
    an empty slot too (address 0, balance 0). Raises ProverError for an index outside the tree."""
    check_account_index(index)
    account = get_account_at(state, index)
    public_inputs = [
        compute_state_root(state),
        compute_exit_account(account.address, index),
        account.balance,
    ]
    inputs: CircuitInputs = dict(zip(EXIT_PUBLIC, public_inputs, strict=True))
    inputs.update(
        nonce=account.nonce,
        keyHash=account.key_hash,
        accountPath=state.accounts.get_path(index),
        **compute_other_roots(compute_state_summary(state)),
    )
    return CircuitWitness(EXIT_CIRCUIT, inputs, public_inputs)


def compute_withdraw_words(state: ZkState, op: Operation, from_index: int | None = None) -> Words:
    """The words w1, w2, w3 of a Withdraw as the withdraw circuit takes them: the header packed
    by `pack_word`, then `to` and `amount`, each a word of its own (so, unlike `pack_word`, kept
    as they are when too wide: the refusal names them). `from_index` is the account index the
    header names; by default the signer's, or 0 if it has none (no leaf holds its address).

    Raises ProverError if the operation has no such words: a header field beyond its width
    (a fee that is not a whole number of gwei, or of 2^48 gwei or more; a nonce of 2^32 or
    more), or `to` or `amount` outside the field. The rollup must not queue one.
    """
    body = op.body
    if not isinstance(body, Withdraw):
        raise ProverError(f"expected a Withdraw, got a {type(body).__name__}")
    if from_index is None:
        index = get_account_index(state, op.signer)
        from_index = 0 if index is None else index
    if op.fee % GWEI:
        raise ProverError(f"fee {op.fee} wei is not a whole number of gwei")
    header = {"from": op.signer, "fromIndex": from_index, "nonce": op.nonce}
    try:
        w1 = pack_word(HEADER_LAYOUT, header | {"feeGwei": op.fee // GWEI})
    except InvalidWitness as exc:
        raise ProverError(str(exc)) from None
    for name, value in (("recipient", body.to), ("amount", body.amount)):
        if not 0 <= value < FIELD_MODULUS:
            raise ProverError(f"{name} {value} is not a field element")
    return w1, body.to, body.amount


def compute_refusal_flags(state: ZkState, words: Sequence[int]) -> dict[RefusalReason, bool]:
    """Each rule of the withdraw circuit for the Withdraw with these words at `state`: whether
    it is broken. What refuse_withdraw.circom computes, flag for flag."""
    w1, w2, w3 = check_words(words)
    header = unpack_word(HEADER_LAYOUT, w1 & ((1 << HEADER_WORD_BITS) - 1))
    leaf = get_account_at(state, header["fromIndex"])
    debit = (w3 & ((1 << AMOUNT_BITS) - 1)) + header["feeGwei"] * GWEI
    return {
        "header_out_of_range": w1 >> HEADER_WORD_BITS != 0,
        "signer_is_zero": header["from"] == 0,
        "nonce_exhausted": header["nonce"] == MAX_NONCE,
        "recipient_is_zero": w2 == 0,
        "recipient_too_wide": w2 >> ADDRESS_BITS != 0,
        "amount_is_zero": w3 == 0,
        "amount_too_large": w3 >> AMOUNT_BITS != 0,
        "not_signers_account": leaf.address != header["from"],
        "wrong_nonce": leaf.nonce != header["nonce"],
        "short_balance": leaf.balance < debit,
    }


def explain_refusal(state: ZkState, words: Sequence[int]) -> RefusalReason | None:
    """Why the withdraw circuit cannot prove the Withdraw with these words at `state` (the
    first broken rule, in REFUSAL_REASONS' order), or None if it can."""
    flags = compute_refusal_flags(state, words)
    return next((reason for reason in REFUSAL_REASONS if flags[reason]), None)


def explain_withdraw_refusal(
    state: ZkState, op: Operation, from_index: int | None = None
) -> RefusalReason | None:
    """Which circuit settles a forced Withdraw at `state`: None for withdraw (it applies),
    else the reason refuse_withdraw proves. Raises ProverError if `op` has no words
    (compute_withdraw_words)."""
    return explain_refusal(state, compute_withdraw_words(state, op, from_index))


def compute_refusal_inputs(
    state: ZkState, op: Operation, from_index: int | None = None
) -> CircuitWitness:
    """The refuse_withdraw circuit's inputs for the forced Withdraw `op` at `state`. Raises
    ProverError if the Withdraw is valid there (the withdraw circuit proves it) or has no
    words."""
    return compute_refusal_inputs_for_words(state, compute_withdraw_words(state, op, from_index))


def compute_refusal_inputs_for_words(state: ZkState, words: Sequence[int]) -> CircuitWitness:
    """The same, from the words as the rollup's queue holds them."""
    public_inputs, source = compute_refusal_statement(state, words)
    return compute_refusal_witness(public_inputs, source)


def compute_refusal_statement(
    state: ZkState, words: Sequence[int]
) -> tuple[list[int], WitnessSource]:
    """What the node keeps of a refused Withdraw when it commits it: the statement's public
    inputs, and what its witness is built from (`compute_refusal_witness`): the summary of
    `state` and the account leaf that the header names, with its path (read, not written).
    ProverError if the Withdraw is valid at `state` or the words are not field elements."""
    if explain_refusal(state, words) is None:
        raise ProverError("the Withdraw is valid at this state: the withdraw circuit proves it")
    w1, w2, w3 = check_words(words)
    index = (w1 >> ADDRESS_BITS) & ((1 << ACCOUNT_INDEX_BITS) - 1)
    leaf = get_account_at(state, index)
    read = Touch("accounts", index, leaf, leaf, state.accounts.get_path(index))
    root = compute_state_root(state)
    return [root, root, w1, w2, w3], WitnessSource(compute_state_summary(state), (read,))


def compute_refusal_witness(public_inputs: Sequence[int], source: WitnessSource) -> CircuitWitness:
    """The refuse_withdraw circuit's inputs from what `compute_refusal_statement` kept.
    ProverError if `source` does not hold one account leaf."""
    if len(source.trace) != 1 or source.trace[0].tree != "accounts":
        raise ProverError("a refusal's witness reads one account leaf")
    read = source.trace[0]
    leaf = get_account_record(read, "before")
    inputs: CircuitInputs = dict(zip(REFUSAL_PUBLIC, public_inputs, strict=True))
    inputs.update(
        address=leaf.address,
        balance=leaf.balance,
        nonce=leaf.nonce,
        keyHash=leaf.key_hash,
        accountPath=read.path,
        **compute_other_roots(source.pre),
    )
    return CircuitWitness(REFUSAL_CIRCUIT, inputs, list(public_inputs))


def compute_other_roots(pre: StateSummary) -> dict[str, int]:
    """The state root's parts besides the accounts root, which a statement takes as they are."""
    return {
        "nftsRoot": pre.nfts_root,
        "collectionsRoot": pre.collections_root,
        "proversRoot": pre.provers_root,
        "globalsHash": compute_summary_globals_hash(pre),
    }


def get_account_at(state: ZkState, index: int) -> Account:
    """The record of the account leaf at `index`: the empty one where no account is."""
    return state.account_records.get(index, EMPTY_ACCOUNT)


def check_account_index(index: int) -> None:
    if not 0 <= index < 1 << ACCOUNT_INDEX_BITS:
        raise ProverError(f"account index {index} does not fit {ACCOUNT_INDEX_BITS} bits")


def check_words(words: Sequence[int]) -> Words:
    if len(words) != 3:
        raise ProverError(f"a Withdraw has 3 words, got {len(words)}")
    if not all(0 <= word < FIELD_MODULUS for word in words):
        raise ProverError("every word must be a field element")
    return words[0], words[1], words[2]
