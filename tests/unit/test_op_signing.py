"""The rollup's reading of signed operations (chain/l1/op_signing.py): for every signed
circuit, the digest rebuilt from the operation's public words is the one its signer signed
(chain/zk/signing.py), so the signer's signature recovers to the `from` of the words; and a
word changed anywhere a signed field sits gives another digest.

tests/l1/test_op_signatures.py holds the contract's `opDigest` to the same digests on anvil.
"""

from eth_account import Account
from eth_account.messages import _hash_eip191_message

from chain.l1.op_signing import (
    IN_GWEI,
    compute_op_digest,
    compute_signing_table,
    is_signed_circuit,
    list_signing_tables,
    sign_op_digest,
)
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import (
    Bond,
    Buy,
    CancelListing,
    ClaimStake,
    Heartbeat,
    ListNft,
    Mint,
    OpBody,
    RegisterKey,
    SetMinter,
    ToFast,
    Transfer,
    TransferNft,
    Unbond,
    Withdraw,
)
from chain.zk.registry import CIRCUIT_NAMES, CircuitName
from chain.zk.signing import SigningDomain, compute_signable
from chain.zk.state import get_account_index
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    CTX,
    ETHER,
    FIRST_REWARD,
    LIST_PRICE,
    MINTER,
    REWARD_ROUND,
    SIGNER_KEYS,
    Transition,
    compute_test_genesis,
    compute_unlocked_ctx,
    make_op,
    run,
)

DOMAIN = SigningDomain(31337, "0x" + "5a" * 20)
UNSIGNED: set[CircuitName] = {"release", "reward_mint", "deposit", "market_settle", "slash"}
# One operation of each signed circuit, in an order the state machine applies them.
STEPS: list[tuple[int, OpBody]] = [
    (ALICE, Transfer(CAROL, 2 * ETHER)),
    (MINTER, Mint(REWARD_COLLECTION, ALICE, metadata=0xC0FFEE, round=REWARD_ROUND)),
    (ALICE, ListNft(FIRST_REWARD, LIST_PRICE)),
    (ALICE, CancelListing(FIRST_REWARD)),
    (ALICE, ListNft(FIRST_REWARD, LIST_PRICE)),
    (BOB, Buy(FIRST_REWARD, LIST_PRICE)),
    (BOB, TransferNft(FIRST_REWARD, CAROL)),
    (ALICE, RegisterKey(0x5EC2E7)),
    (ALICE, ToFast(CAROL, ETHER)),
    (ALICE, Withdraw(0xBEEF, ETHER)),
    (ALICE, Heartbeat(1_020)),
    (MINTER, SetMinter(REWARD_COLLECTION, BOB, fast_chain=1)),
    (BOB, Bond(5 * ETHER)),
    (BOB, Unbond(2 * ETHER)),
    (BOB, ClaimStake()),  # in the epoch its unbonding unlocks (STEP_CTX)
]
# The context a step runs in, by its body's type, if not CTX's.
STEP_CTX = {ClaimStake: compute_unlocked_ctx()}


def run_steps() -> list[Transition]:
    state = compute_test_genesis()
    transitions = []
    for signer, body in STEPS:
        transition = run(state, make_op(state, signer, body), STEP_CTX.get(type(body), CTX))
        transitions.append(transition)
        state = transition.post
    return transitions


def signed_digest(transition: Transition) -> bytes:
    op = transition.op
    index = get_account_index(transition.pre, op.signer)
    assert index is not None
    signable = compute_signable(op.body, op.fee, op.nonce, DOMAIN, index)  # type: ignore[arg-type]
    return bytes(_hash_eip191_message(signable))


def words_of(transition: Transition) -> list[int]:
    return transition.witness.public_inputs[2:]


def test_every_circuit_is_signed_or_unsigned_as_its_operation_is() -> None:
    signed = {circuit for circuit in CIRCUIT_NAMES if is_signed_circuit(circuit)}
    assert signed == set(CIRCUIT_NAMES) - UNSIGNED
    assert {t.witness.circuit for t in run_steps()} == signed  # the steps cover them all


def test_the_digest_from_the_words_is_the_one_the_signer_signed() -> None:
    for transition in run_steps():
        circuit = transition.witness.circuit
        digest = compute_op_digest(DOMAIN, circuit, words_of(transition))  # type: ignore[arg-type]
        assert digest == signed_digest(transition), circuit


def test_the_signers_signature_recovers_to_the_from_of_the_words() -> None:
    for transition in run_steps():
        circuit = transition.witness.circuit
        words = words_of(transition)
        signature = sign_op_digest(signed_digest(transition), SIGNER_KEYS[transition.op.signer])
        digest = compute_op_digest(DOMAIN, circuit, words)  # type: ignore[arg-type]
        recovered = Account._recover_hash(digest, signature=signature)
        assert int(recovered, 16) == words[0] & ((1 << 160) - 1) == transition.op.signer


def test_a_changed_signed_field_changes_the_digest() -> None:
    """Each field the table reads, one bit flipped in its word: another digest."""
    for transition in run_steps():
        circuit: CircuitName = transition.witness.circuit  # type: ignore[assignment]
        table = compute_signing_table(circuit)
        assert table is not None
        words = words_of(transition)
        honest = compute_op_digest(DOMAIN, circuit, words)
        for place in table.fields:
            changed = list(words)
            changed[place.word] ^= 1 << place.shift
            assert compute_op_digest(DOMAIN, circuit, changed) != honest, (circuit, place)


def test_another_domain_gives_another_digest() -> None:
    transition = run_steps()[0]
    elsewhere = SigningDomain(DOMAIN.chain_id, "0x" + "5b" * 20)
    words = words_of(transition)
    assert compute_op_digest(elsewhere, "transfer", words) != compute_op_digest(
        DOMAIN, "transfer", words
    )


def test_the_tables_pack_each_place_and_the_fee_in_gwei() -> None:
    hashes, fields = list_signing_tables()
    assert len(hashes) == len(fields) == len(CIRCUIT_NAMES)
    for circuit, type_hash, packed in zip(CIRCUIT_NAMES, hashes, fields, strict=True):
        table = compute_signing_table(circuit)
        if table is None:
            assert (type_hash, packed) == (bytes(32), 0)
            continue
        assert (type_hash, packed) == (table.type_hash, table.pack_fields())
        assert packed & 0xFF == len(table.fields)
        kinds = [place.kind for place in table.fields]
        assert kinds.count(IN_GWEI) == 1  # the fee
    transfer = compute_signing_table("transfer")
    assert transfer is not None
    assert transfer.type_string == (
        "Transfer(address to,uint256 amount,uint256 fee,uint32 nonce,uint16 fromIndex)"
    )
