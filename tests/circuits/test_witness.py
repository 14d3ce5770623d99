"""The witness builder's words and public inputs (docs/zk-state.md, "Public inputs"), without
proving: packing, unpacking, and what each operation's statement says."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chain.prover.errors import ProverError
from chain.prover.ownership import compute_key_hash
from chain.prover.witness import compute_public_inputs, compute_witness
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import GWEI, Operation, Release, Transfer
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import (
    CIRCUIT_NAMES,
    WORD_LAYOUTS,
    CircuitName,
    apply_operation,
    circuit_name,
    pack_words,
    unpack_words,
)
from chain.zk.state import (
    BALANCE_OFFSET,
    compute_state_root,
    compute_token_key,
    get_account_index,
)
from chain.zk.words import (
    HEADER_LAYOUT,
    WHOLE_FIELD,
    InvalidWitness,
    compute_layout_width,
    pack_word,
    unpack_word,
)
from tests.circuits.conftest import compute_valid_transition
from tests.circuits.scenarios import (
    ACTIVE_UNTIL,
    ALICE,
    BOB,
    BOUNTY,
    CAROL,
    CTX,
    ETHER,
    FEE,
    FIRST_DEPOSIT,
    FIRST_REWARD,
    FIRST_SEQ,
    LIST_PRICE,
    MINTER,
    PENALTY,
    REWARD_ROUND,
    REWARDER,
    SECRET,
    compute_test_genesis,
    forge,
    make_op,
)


def test_header_word_is_252_bits() -> None:
    assert compute_layout_width(HEADER_LAYOUT) == 252


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_every_word_has_one_decomposition(name: CircuitName) -> None:
    # Below 2^253 < p, a word's bits are the only ones that sum to it in the field. A word
    # that is one whole field element (a metadata, a keyHash) is never decomposed.
    for layout in WORD_LAYOUTS[name]:
        is_whole_field = len(layout) == 1 and layout[0][1] == WHOLE_FIELD
        assert compute_layout_width(layout) <= 252 or is_whole_field


def test_pack_word_puts_the_first_field_lowest() -> None:
    layout = (("a", 4), ("b", 8), ("c", 1))
    assert pack_word(layout, {"a": 0x3, "b": 0xAB, "c": 1}) == 0x3 | 0xAB << 4 | 1 << 12


@given(st.data())
def test_unpack_word_inverts_pack_word(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(CIRCUIT_NAMES))
    fields: dict[str, int] = {}
    for layout in WORD_LAYOUTS[name]:
        for field, width in layout:
            bound = FIELD_MODULUS if width == WHOLE_FIELD else 1 << width
            fields[field] = data.draw(st.integers(0, bound - 1))
    assert unpack_words(name, pack_words(name, fields)) == fields


def test_rejects_field_wider_than_its_bits() -> None:
    with pytest.raises(InvalidWitness, match="nonce = 4294967296 does not fit 32 bits"):
        pack_word(HEADER_LAYOUT, {"from": 1, "fromIndex": 0, "nonce": 1 << 32, "feeGwei": 0})


def test_rejects_negative_field() -> None:
    with pytest.raises(InvalidWitness, match="amount = -1 does not fit 96 bits"):
        pack_words(
            "transfer",
            {"from": 1, "fromIndex": 0, "nonce": 0, "feeGwei": 0}
            | {
                "to": 2,
                "toIndex": 1,
                "amount": -1,
            },
        )


def test_rejects_word_with_bits_beyond_its_layout() -> None:
    with pytest.raises(InvalidWitness, match="has bits beyond its 14"):
        unpack_word(WORD_LAYOUTS["cancel"][1], 1 << 14)


def test_rejects_wrong_number_of_words() -> None:
    with pytest.raises(InvalidWitness, match="transfer takes 3 words, got 2"):
        unpack_words("transfer", [0, 0])


def test_rejects_fee_not_in_whole_gwei() -> None:
    genesis = compute_test_genesis()
    transition = forge(genesis, make_op(genesis, ALICE, Transfer(BOB, 1), fee=GWEI + 1))
    with pytest.raises(ProverError, match="not a whole number of gwei"):
        _ = transition.witness


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_circuit_name_follows_the_operation(name: CircuitName) -> None:
    assert circuit_name(compute_valid_transition(name).op) == name


def decode_statement(name: CircuitName) -> tuple[list[int], dict[str, int]]:
    t = compute_valid_transition(name)
    public = compute_public_inputs(t.pre, t.op, t.ctx, t.post, t.trace)
    assert public[:2] == [compute_state_root(t.pre), compute_state_root(t.post)]
    assert len(public) == 2 + len(WORD_LAYOUTS[name])
    return public, unpack_words(name, public[2:])


def header_of(signer: int, nonce: int) -> dict[str, int]:
    """The header fields of an operation that `signer`, a genesis account, signs."""
    index = get_account_index(compute_test_genesis(), signer)
    return {"from": signer, "fromIndex": index, "nonce": nonce, "feeGwei": FEE // GWEI}


def test_public_inputs_of_transfer() -> None:
    _, fields = decode_statement("transfer")
    new_index = len(compute_test_genesis().account_records)  # Carol's opens at the next index
    assert fields == header_of(ALICE, 0) | {"to": CAROL, "toIndex": new_index, "amount": 2 * ETHER}


def test_public_inputs_of_mint() -> None:
    public, fields = decode_statement("mint")
    assert fields == header_of(MINTER, 0) | {
        "to": BOB,
        "tokenKey": compute_token_key(REWARD_COLLECTION, 0),
        "round": REWARD_ROUND,
        "epoch": CTX.epoch,
        "metadata": 0xBEEF,
    }
    assert public[4] == 0xBEEF  # w3 is the metadata itself


def test_public_inputs_of_transfer_nft() -> None:
    _, fields = decode_statement("transfer_nft")
    assert fields == header_of(ALICE, 1) | {"to": CAROL, "tokenKey": FIRST_REWARD}


def test_public_inputs_of_list() -> None:
    _, fields = decode_statement("list")
    assert fields == header_of(ALICE, 0) | {
        "tokenKey": FIRST_REWARD,
        "price": LIST_PRICE,
    }


def test_public_inputs_of_cancel() -> None:
    public, fields = decode_statement("cancel")
    assert fields == header_of(ALICE, 1) | {"tokenKey": FIRST_REWARD}
    assert public[3] == FIRST_REWARD


def test_public_inputs_of_buy() -> None:
    _, fields = decode_statement("buy")
    alice_index = get_account_index(compute_test_genesis(), ALICE)
    assert fields == header_of(BOB, 0) | {
        "seller": ALICE,
        "sellerIndex": alice_index,
        "tokenKey": FIRST_REWARD,
        "price": LIST_PRICE,
    }


def test_public_inputs_of_set_minter() -> None:
    _, fields = decode_statement("set_minter")
    assert fields == header_of(MINTER, 0) | {
        "collection": REWARD_COLLECTION,
        "minter": REWARDER,
        "fastChain": 1,
    }


def test_public_inputs_of_register_key() -> None:
    public, fields = decode_statement("register_key")
    assert fields == header_of(ALICE, 0) | {"keyHash": compute_key_hash(SECRET)}
    assert public[3] == compute_key_hash(SECRET)  # w2 is the keyHash itself


def test_register_key_witness_walks_the_slot_twice() -> None:
    # The keyHash's write starts from the tree that the header's write left: same slot, the
    # same siblings, the signer's own leaf changed.
    t = compute_valid_transition("register_key")
    inputs = t.witness.inputs
    assert t.trace[0].index == t.trace[1].index == get_account_index(t.pre, ALICE)
    assert inputs["signerPath"] == t.trace[0].path
    assert inputs["keyPath"] == t.trace[1].path != t.trace[0].path
    assert inputs["signerKeyHash"] == 0  # no key before


def test_public_inputs_of_release() -> None:
    # A fast-chain message: no header, its first word starts with the message number.
    _, fields = decode_statement("release")
    new_index = len(compute_test_genesis().account_records)  # Carol's opens at the next index
    assert fields == {"seq": FIRST_SEQ, "to": CAROL, "toIndex": new_index, "amount": 2 * ETHER}


def test_public_inputs_of_reward_mint() -> None:
    public, fields = decode_statement("reward_mint")
    assert fields == {
        "seq": FIRST_SEQ,
        "sender": REWARDER,
        "to": BOB,
        "tokenKey": compute_token_key(REWARD_COLLECTION, 0),
        "round": REWARD_ROUND,
        "epoch": CTX.epoch,
        "metadata": 0xD1CE,
    }
    assert public[4] == 0xD1CE  # w3 is the metadata itself


def test_public_inputs_of_deposit() -> None:
    # Unsigned too: no header, its first word starts with the rollup's deposit number.
    _, fields = decode_statement("deposit")
    new_index = len(compute_test_genesis().account_records)  # Carol's opens at the next index
    assert fields == {
        "index": FIRST_DEPOSIT,
        "to": CAROL,
        "toIndex": new_index,
        "amount": 2 * ETHER,
    }


def test_public_inputs_of_withdraw() -> None:
    public, fields = decode_statement("withdraw")
    assert fields == header_of(ALICE, 0) | {"to": CAROL, "amount": 3 * ETHER}
    assert public[3:] == [CAROL, 3 * ETHER]  # w2 and w3 are the fields themselves


def test_public_inputs_of_heartbeat() -> None:
    public, fields = decode_statement("heartbeat")
    assert fields == header_of(ALICE, 0) | {"proverIndex": 0, "activeUntil": ACTIVE_UNTIL}
    assert public[3] == ACTIVE_UNTIL << 6  # prover 0, the first


def test_public_inputs_of_market_settle() -> None:
    # Unsigned: no header. Each entry names its prover by index and its delta by offset.
    public, fields = decode_statement("market_settle")
    assert fields == {
        "paid": BOUNTY + FEE,
        "proverIndex0": 0,
        "deltaOffset0": BALANCE_OFFSET + BOUNTY,
        "proverIndex1": 1,
        "deltaOffset1": BALANCE_OFFSET - PENALTY,
    }
    assert public[2] == BOUNTY + FEE  # w1 is what is paid, itself


def test_market_settle_witness_walks_each_entry_in_the_tree_the_last_left() -> None:
    t = compute_valid_transition("market_settle")
    inputs = t.witness.inputs
    assert inputs["proverPath"] == [t.pre.provers.get_path(0), t.trace[1].path]
    assert t.trace[1].path != t.pre.provers.get_path(1)  # Alice's leaf beside Bob's moved
    assert inputs["proverBalanceOffset"] == [BALANCE_OFFSET, BALANCE_OFFSET]
    assert "proversRoot" not in inputs  # the entries' paths give it


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_every_witness_hashes_the_provers_root(name: CircuitName) -> None:
    # Every circuit but the two that write the provers tree passes its root through.
    t = compute_valid_transition(name)
    if name in ("heartbeat", "market_settle"):
        assert "proversRoot" not in t.witness.inputs
    else:
        assert t.witness.inputs["proversRoot"] == t.pre.provers.root


def test_circuit_ids_only_ever_grow_at_the_end() -> None:
    # The rollup knows a circuit by its index here (its id): moving one re-keys the rollup.
    assert CIRCUIT_NAMES == (
        "transfer",
        "mint",
        "transfer_nft",
        "list",
        "cancel",
        "buy",
        "to_fast",
        "set_minter",
        "register_key",
        "release",
        "reward_mint",
        "deposit",
        "withdraw",
        "heartbeat",
        "market_settle",
        "bond",
        "unbond",
        "claim_stake",
        "slash",
    )


@pytest.mark.parametrize("name", ["release", "reward_mint", "deposit", "market_settle", "slash"])
def test_unsigned_witness_has_no_header_inputs(name: CircuitName) -> None:
    inputs = compute_valid_transition(name).witness.inputs
    assert not {"signerBalance", "signerKeyHash", "signerPath"} & inputs.keys()
    assert {"feePool", "escrow", "inbox"} <= inputs.keys()


@pytest.mark.parametrize("name", CIRCUIT_NAMES)
def test_every_witness_carries_the_inbox(name: CircuitName) -> None:
    t = compute_valid_transition(name)
    assert t.witness.inputs["inbox"] == t.pre.inbox == FIRST_SEQ


def test_release_witness_carries_the_pre_state_globals() -> None:
    genesis = compute_test_genesis()
    op = Operation(Release(seq=9, to=BOB, amount=ETHER), signer=0, fee=0, nonce=0)
    post, trace = apply_operation(genesis, op, CTX)
    witness = compute_witness(genesis, op, CTX, post, trace)
    assert (witness.inputs["escrow"], witness.inputs["inbox"]) == (7 * ETHER, FIRST_SEQ)
    assert (post.escrow, post.inbox) == (6 * ETHER, 10)
