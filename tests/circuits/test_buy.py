"""buy.circom against the state machine: the exact listed price, the buyer's balance, the
seller's credit, each broken alone by a forged transition, must stop the circuit
(lab.assert_rejected says where)."""

from chain.zk.ops import Buy, process_credit, process_header
from chain.zk.state import AMOUNT_BITS, Nft, Touch, ZkState, get_account_index, get_nft, put_nft
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CAROL,
    CTX,
    ETHER,
    FIRST_REWARD,
    LIST_PRICE,
    compute_bought,
    compute_listed_state,
    compute_minted_state,
    forge,
    forge_with,
    make_op,
    with_balance,
)

TOKEN_MERKLE = ["QuadLevel", "QuadUpdate", "NftUpdate", "Buy"]


def test_proves_buying_ones_own_listing(lab: CircuitLab) -> None:
    # The seller's credit runs against the root the buyer's debit left: one leaf, twice.
    assert_proves(lab, compute_bought(compute_listed_state(), buyer=ALICE).witness)


def test_rejects_price_below_the_listing(lab: CircuitLab) -> None:
    listed = compute_listed_state()
    forged = forge(listed, make_op(listed, BOB, Buy(FIRST_REWARD, LIST_PRICE - 1)))
    assert_rejected(lab, forged.witness, TOKEN_MERKLE)


def test_rejects_price_above_the_listing(lab: CircuitLab) -> None:
    # A listing raised after the buyer signed must not take more than they signed for.
    listed = compute_listed_state()
    forged = forge(listed, make_op(listed, BOB, Buy(FIRST_REWARD, LIST_PRICE + 1)))
    assert_rejected(lab, forged.witness, TOKEN_MERKLE)


def test_rejects_buy_of_an_unlisted_token(lab: CircuitLab) -> None:
    minted = compute_minted_state()
    forged = forge(minted, make_op(minted, BOB, Buy(FIRST_REWARD, 0)))
    assert_rejected(lab, forged.witness, ["NonZero", "Buy"], {"Buy": "(price)"})


def test_rejects_insufficient_balance(lab: CircuitLab) -> None:
    expensive = compute_listed_state(price=60 * ETHER)  # Bob has 50
    forged = forge(expensive, make_op(expensive, BOB, Buy(FIRST_REWARD, 60 * ETHER)))
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Header", "Buy"])


def test_rejects_payment_to_someone_not_the_owner(lab: CircuitLab) -> None:
    listed = compute_listed_state()
    op = make_op(listed, BOB, Buy(FIRST_REWARD, LIST_PRICE))

    def pay_carol(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, LIST_PRICE, trace)
        process_credit(state, CAROL, LIST_PRICE, trace)
        token = get_nft(state, FIRST_REWARD)
        put_nft(state, FIRST_REWARD, Nft(BOB, token.metadata, 0), trace)

    forged = forge_with(listed, op, pay_carol)
    assert forged.witness.public_inputs[3] & ((1 << 160) - 1) == CAROL  # w2's seller
    assert_rejected(lab, forged.witness, TOKEN_MERKLE)


def test_rejects_seller_balance_overflow(lab: CircuitLab) -> None:
    listed = compute_listed_state()
    rich = with_balance(listed, get_account_index(listed, ALICE), (1 << AMOUNT_BITS) - ETHER)
    forged = forge(rich, make_op(rich, BOB, Buy(FIRST_REWARD, LIST_PRICE)))
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Credit", "Buy"])
