"""transfer_nft.circom, list.circom and cancel.circom against the state machine: ownership,
listing rules and prices, each broken alone by a forged transition, must stop the circuit
(lab.assert_rejected says where)."""

from unittest.mock import patch

from chain.zk import words as words_module
from chain.zk.ops import CancelListing, ListNft, TransferNft
from chain.zk.state import AMOUNT_BITS, compute_token_key
from tests.circuits.lab import CircuitLab, assert_rejected, with_changed_sibling
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    FIRST_REWARD,
    LIST_PRICE,
    compute_listed_state,
    compute_minted_state,
    forge,
    make_op,
    run,
)

UNMINTED = compute_token_key(0, 7)


def token_merkle(circuit_template: str) -> list[str]:
    return ["QuadLevel", "QuadUpdate", "NftUpdate", circuit_template]


def test_rejects_transfer_by_someone_not_the_owner(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, BOB, TransferNft(FIRST_REWARD, CAROL)))
    assert_rejected(lab, forged.witness, token_merkle("TransferNft"))


def test_rejects_transfer_of_a_token_never_minted(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, ALICE, TransferNft(UNMINTED, CAROL)))
    assert_rejected(lab, forged.witness, token_merkle("TransferNft"))


def test_rejects_transfer_to_the_zero_address(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, ALICE, TransferNft(FIRST_REWARD, 0)))
    assert_rejected(lab, forged.witness, ["NonZero", "TransferNft"], {"TransferNft": "(to)"})


def test_rejects_changed_sibling_in_token_path(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    witness = run(minted, make_op(minted, ALICE, TransferNft(FIRST_REWARD, BOB))).witness
    changed = with_changed_sibling(witness, "nftPath", 2, 0)
    assert_rejected(lab, changed, token_merkle("TransferNft"))


def test_rejects_list_by_someone_not_the_owner(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, BOB, ListNft(FIRST_REWARD, LIST_PRICE)))
    assert_rejected(lab, forged.witness, token_merkle("List"))


def test_rejects_list_at_price_zero(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, ALICE, ListNft(FIRST_REWARD, 0)))
    assert_rejected(lab, forged.witness, ["NonZero", "List"], {"List": "(newPrice)"})


def test_rejects_list_price_above_96_bits(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, ALICE, ListNft(FIRST_REWARD, 1 << AMOUNT_BITS)))
    with patch.object(words_module, "is_field_in_range", return_value=True):
        witness = forged.witness  # the builder itself refuses such a word
    assert_rejected(lab, witness, ["Num2Bits", "UnpackWord", "List"], {"List": "op.word"})


def test_rejects_cancel_of_an_unlisted_token(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, ALICE, CancelListing(FIRST_REWARD)))
    assert_rejected(lab, forged.witness, ["NonZero", "Cancel"], {"Cancel": "(price)"})


def test_rejects_cancel_by_someone_not_the_owner(lab: CircuitLab) -> None:
    listed = compute_listed_state()
    forged = forge(listed, make_op(listed, BOB, CancelListing(FIRST_REWARD)))
    assert_rejected(lab, forged.witness, token_merkle("Cancel"))
