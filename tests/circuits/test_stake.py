"""bond, unbond, claim_stake and slash.circom against the state machine: a validator's stake
(ops.process_bond, process_unbond, process_claim_stake, process_slash) lives in an account at
validator | STAKE_FLAG whose leaf reads (bonded, unbonding, unlock epoch). Each rule, broken
alone by a forged transition or a tampered witness, must stop the circuit where the test says
(lab.assert_rejected); test_tampering covers the words of the valid operations."""

from dataclasses import replace

import pytest

from chain.prover.witness import CircuitWitness
from chain.zk.ops import (
    UNBONDING_EPOCHS,
    Bond,
    ClaimStake,
    Operation,
    Slash,
    Unbond,
    compute_slashed,
    process_credit,
    process_header,
    put_stake,
)
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.registry import CircuitName, pack_words, unpack_words
from chain.zk.state import (
    AMOUNT_BITS,
    Account,
    Stake,
    Touch,
    ZkState,
    compute_next_account_index,
    compute_stake_address,
    get_account,
    get_account_index,
    get_stake,
    get_total_supply,
    put_account,
)
from tests.circuits.conftest import ProvenFactory
from tests.circuits.lab import CircuitLab, assert_proves, assert_rejected
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    CTX,
    ETHER,
    FEE,
    STAKE,
    UNBONDED,
    compute_bonded_state,
    compute_test_genesis,
    compute_unbonding_state,
    compute_unlocked_ctx,
    forge,
    forge_with,
    make_op,
    run,
    run_all,
)

ALICE_BALANCE = 100 * ETHER  # the test genesis's
UNLOCK_EPOCH = CTX.epoch + UNBONDING_EPOCHS  # the unbonding state's
MAX_AMOUNT = (1 << AMOUNT_BITS) - 1


def stake_merkle(circuit: str) -> list[str]:
    """Where a circuit stops when the stake leaf it writes is not the one in the tree."""
    return ["QuadLevel", "QuadUpdate", "StakeUpdate", circuit]


def globals_of(state: ZkState) -> tuple[int, int, int]:
    return state.fee_pool, state.escrow, state.inbox


def get_stake_index(state: ZkState, validator: int) -> int:
    index = get_account_index(state, compute_stake_address(validator))
    assert index is not None, "no stake account"
    return index


def write_stake(state: ZkState, validator: int, stake: Stake, trace: list[Touch]) -> None:
    """`validator`'s stake account written as given, its amounts taken modulo p as a circuit
    computes them (an unbond beyond the bonded stake wraps to p - x)."""
    wrapped = Stake(*(amount % FIELD_MODULUS for amount in (stake.bonded, stake.unbonding)))
    put_stake(state, validator, replace(wrapped, unlock_epoch=stake.unlock_epoch), trace)


def with_stake(state: ZkState, validator: int, stake: Stake) -> ZkState:
    """`state` with `validator`'s existing stake account set (e.g. near 2^96)."""
    changed = state.copy()
    write_stake(changed, validator, stake, [])
    return changed


def with_words(witness: CircuitWitness, **fields: int) -> CircuitWitness:
    """`witness` with some fields of its words changed, the words repacked."""
    circuit = witness.circuit
    assert circuit not in ("ownership", "exit", "refuse_withdraw")  # an operation's words
    words = pack_words(circuit, unpack_words(circuit, witness.public_inputs[2:]) | fields)
    public = [*witness.public_inputs[:2], *words]
    inputs = witness.inputs | {f"w{i + 1}": word for i, word in enumerate(words)}
    return replace(witness, inputs=inputs, public_inputs=public)


def assert_binds(lab: CircuitLab, proven: ProvenFactory, name: CircuitName, **fields: int) -> None:
    """The proof of `name`'s valid operation fails verification for words that carry any one
    of `fields` in place of its own value."""
    case = proven(name)
    for field_name, value in fields.items():
        public = with_words(case.witness, **{field_name: value}).public_inputs
        assert public != case.witness.public_inputs, field_name
        assert not lab.verify(name, case.proof, public), (field_name, value)


# -- bond -----------------------------------------------------------------------------------

BOND_POST_ROOT = {"Bond": "postRoot === post"}


def test_proves_first_bond_and_opens_the_stake_account(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    transition = run(genesis, make_op(genesis, ALICE, Bond(STAKE)))
    post = transition.post
    assert get_account(post, ALICE) == Account(ALICE, ALICE_BALANCE - STAKE - FEE, 1)
    assert get_stake(post, ALICE) == Stake(bonded=STAKE)
    assert get_stake_index(post, ALICE) == compute_next_account_index(genesis)
    assert transition.witness.inputs["recipientAddress"] == 0  # an empty slot opens
    assert globals_of(post) == (genesis.fee_pool + FEE, genesis.escrow, genesis.inbox)
    assert get_total_supply(post) == get_total_supply(genesis)
    assert_proves(lab, transition.witness)


def test_proves_second_bond_that_adds_to_the_stake(lab: CircuitLab) -> None:
    # Onto a stake account with some unbonding: the bond leaves unbonding and unlock alone.
    unbonding = compute_unbonding_state()
    transition = run(unbonding, make_op(unbonding, ALICE, Bond(5 * ETHER)))
    after = get_stake(transition.post, ALICE)
    assert after == Stake(STAKE - UNBONDED + 5 * ETHER, UNBONDED, UNLOCK_EPOCH)
    assert get_stake_index(transition.post, ALICE) == get_stake_index(unbonding, ALICE)
    assert_proves(lab, transition.witness)


def test_rejects_bond_of_zero(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Bond(0)))
    assert_rejected(lab, forged.witness, ["NonZero", "Bond"], {"Bond": "NonZero()(amount)"})


def test_rejects_bond_above_balance_and_fee(lab: CircuitLab) -> None:
    genesis = compute_test_genesis()
    forged = forge(genesis, make_op(genesis, ALICE, Bond(ALICE_BALANCE - FEE + 1)))
    assert get_account(forged.post, ALICE).balance == FIELD_MODULUS - 1
    assert_rejected(lab, forged.witness, ["Num2Bits", "RangeCheck", "Header", "Bond"])


def test_rejects_bond_that_opens_another_validators_stake(lab: CircuitLab) -> None:
    # Alice pays, and Bob's stake address opens in the empty slot: the circuit writes Alice's.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Bond(STAKE))

    def bond_for_bob(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, STAKE, trace)
        process_credit(state, compute_stake_address(BOB), STAKE, trace)

    forged = forge_with(genesis, op, bond_for_bob)
    assert get_stake(forged.post, BOB) == Stake(bonded=STAKE)
    assert_rejected(lab, forged.witness, ["Bond"], BOND_POST_ROOT)


def test_rejects_bond_into_another_validators_stake(lab: CircuitLab) -> None:
    bob_bonded = run_all(compute_test_genesis(), [(BOB, Bond(STAKE))])
    op = make_op(bob_bonded, ALICE, Bond(ETHER))

    def bond_for_bob(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, ETHER, trace)
        process_credit(state, compute_stake_address(BOB), ETHER, trace)

    forged = forge_with(bob_bonded, op, bond_for_bob)
    assert get_stake(forged.post, BOB) == Stake(bonded=STAKE + ETHER)
    assert_rejected(
        lab, forged.witness, ["Credit", "Bond"], {"Credit": "oldAddress * (oldAddress - address)"}
    )


def test_rejects_bond_into_the_signers_own_account(lab: CircuitLab) -> None:
    # A transfer to oneself: the amount would stay spendable, yet count as stake on L1.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Bond(STAKE))

    def pay_oneself(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, STAKE, trace)
        process_credit(state, ALICE, STAKE, trace)

    forged = forge_with(genesis, op, pay_oneself)
    assert get_account(forged.post, ALICE).balance == ALICE_BALANCE - FEE
    assert_rejected(
        lab, forged.witness, ["Credit", "Bond"], {"Credit": "oldAddress * (oldAddress - address)"}
    )


def test_rejects_bond_that_keeps_the_amount(lab: CircuitLab) -> None:
    # The signer pays the fee alone: stake out of nothing.
    genesis = compute_test_genesis()
    op = make_op(genesis, ALICE, Bond(STAKE))

    def bond_for_free(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        process_credit(state, compute_stake_address(ALICE), STAKE, trace)

    forged = forge_with(genesis, op, bond_for_free)
    assert get_account(forged.post, ALICE).balance == ALICE_BALANCE - FEE
    assert_rejected(lab, forged.witness, ["Credit", "Bond"], {"Credit": "update.oldRoot === root"})


def test_rejects_bond_that_clears_the_unbonding_stake(lab: CircuitLab) -> None:
    # The credit adds to the balance (bonded) alone: the unbonding stake and unlock stay.
    unbonding = compute_unbonding_state()
    op = make_op(unbonding, ALICE, Bond(ETHER))

    def bond_and_clear(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, ETHER, trace)
        write_stake(state, ALICE, Stake(STAKE - UNBONDED + ETHER), trace)

    forged = forge_with(unbonding, op, bond_and_clear)
    assert_rejected(lab, forged.witness, ["Bond"], BOND_POST_ROOT)


# -- unbond ---------------------------------------------------------------------------------

UNBOND_POST_ROOT = {"Unbond": "postRoot === post"}


def test_proves_unbond_and_starts_the_unbonding(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    transition = run(bonded, make_op(bonded, ALICE, Unbond(UNBONDED)))
    post = transition.post
    assert get_stake(post, ALICE) == Stake(STAKE - UNBONDED, UNBONDED, CTX.epoch + UNBONDING_EPOCHS)
    alice = get_account(bonded, ALICE)
    paid = replace(alice, balance=alice.balance - FEE, nonce=alice.nonce + 1)
    assert get_account(post, ALICE) == paid
    assert globals_of(post) == (bonded.fee_pool + FEE, bonded.escrow, bonded.inbox)
    assert_proves(lab, transition.witness)


def test_proves_unbond_of_the_whole_stake(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    transition = run(bonded, make_op(bonded, ALICE, Unbond(STAKE)))
    assert get_stake(transition.post, ALICE) == Stake(0, STAKE, UNLOCK_EPOCH)
    assert_proves(lab, transition.witness)


def test_proves_second_unbond_that_moves_the_unlock_epoch(lab: CircuitLab) -> None:
    # All of the unbonding stake waits for the later unlock, the earlier part too.
    unbonding = compute_unbonding_state()
    later = replace(CTX, epoch=CTX.epoch + 5)
    transition = run(unbonding, make_op(unbonding, ALICE, Unbond(2 * ETHER)), later)
    after = Stake(STAKE - UNBONDED - 2 * ETHER, UNBONDED + 2 * ETHER, later.epoch + 2)
    assert get_stake(transition.post, ALICE) == after
    assert_proves(lab, transition.witness)


def test_proves_unbond_in_the_last_epoch_that_can_unlock(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    last = replace(CTX, epoch=(1 << 32) - 1 - UNBONDING_EPOCHS)
    transition = run(bonded, make_op(bonded, ALICE, Unbond(ETHER)), last)
    assert get_stake(transition.post, ALICE).unlock_epoch == (1 << 32) - 1
    assert_proves(lab, transition.witness)


def test_rejects_unbond_of_zero(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    forged = forge(bonded, make_op(bonded, ALICE, Unbond(0)))
    assert_rejected(lab, forged.witness, ["NonZero", "Unbond"], {"Unbond": "NonZero()(amount)"})


def test_rejects_unbond_above_the_bonded_stake(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    op = make_op(bonded, ALICE, Unbond(STAKE + 1))

    def unbond_too_much(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        write_stake(state, ALICE, Stake(-1, STAKE + 1, UNLOCK_EPOCH), trace)

    forged = forge_with(bonded, op, unbond_too_much)
    assert get_stake(forged.post, ALICE).bonded == FIELD_MODULUS - 1
    assert_rejected(
        lab,
        forged.witness,
        ["Num2Bits", "RangeCheck", "StakeUpdate", "Unbond"],
        {"StakeUpdate": "RangeCheck(AMOUNT_BITS())(newBonded)"},
    )


def test_rejects_unbonding_stake_that_overflows(lab: CircuitLab) -> None:
    full = with_stake(compute_bonded_state(), ALICE, Stake(STAKE, MAX_AMOUNT, UNLOCK_EPOCH))
    forged = forge(full, make_op(full, ALICE, Unbond(ETHER)))
    assert get_stake(forged.post, ALICE).unbonding == MAX_AMOUNT + ETHER
    assert_rejected(
        lab,
        forged.witness,
        ["Num2Bits", "RangeCheck", "StakeUpdate", "Unbond"],
        {"StakeUpdate": "RangeCheck(AMOUNT_BITS())(newUnbonding)"},
    )


@pytest.mark.parametrize("unlock_epoch", [0, UNLOCK_EPOCH - 1, UNLOCK_EPOCH + 1])
def test_rejects_unbond_with_another_unlock_epoch(lab: CircuitLab, unlock_epoch: int) -> None:
    bonded = compute_bonded_state()
    op = make_op(bonded, ALICE, Unbond(UNBONDED))

    def unlock_at(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        write_stake(state, ALICE, Stake(STAKE - UNBONDED, UNBONDED, unlock_epoch), trace)

    forged = forge_with(bonded, op, unlock_at)
    assert_rejected(lab, forged.witness, ["Unbond"], UNBOND_POST_ROOT)


def test_rejects_unlock_epoch_beyond_32_bits(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    late = replace(CTX, epoch=(1 << 32) - UNBONDING_EPOCHS)
    forged = forge(bonded, make_op(bonded, ALICE, Unbond(ETHER)), late)
    assert get_stake(forged.post, ALICE).unlock_epoch == 1 << 32
    assert_rejected(
        lab,
        forged.witness,
        ["Num2Bits", "RangeCheck", "Unbond"],
        {"Unbond": "RangeCheck(ROUND_BITS())(epoch + UNBONDING_EPOCHS())"},
    )


def test_rejects_unbond_that_keeps_the_stake_bonded(lab: CircuitLab) -> None:
    # The unbonding stake grows, the bonded does not shrink: stake out of nothing.
    bonded = compute_bonded_state()
    op = make_op(bonded, ALICE, Unbond(UNBONDED))

    def unbond_and_keep(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        write_stake(state, ALICE, Stake(STAKE, UNBONDED, UNLOCK_EPOCH), trace)

    forged = forge_with(bonded, op, unbond_and_keep)
    assert_rejected(lab, forged.witness, ["Unbond"], UNBOND_POST_ROOT)


def test_rejects_unbond_of_another_validators_stake(lab: CircuitLab) -> None:
    both = run_all(compute_bonded_state(), [(BOB, Bond(STAKE))])
    op = make_op(both, ALICE, Unbond(UNBONDED))

    def unbond_bobs(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        write_stake(state, BOB, Stake(STAKE - UNBONDED, UNBONDED, UNLOCK_EPOCH), trace)

    forged = forge_with(both, op, unbond_bobs)
    words = unpack_words("unbond", forged.witness.public_inputs[2:])
    assert (words["from"], words["stakeIndex"]) == (ALICE, get_stake_index(both, BOB))
    assert_rejected(lab, forged.witness, stake_merkle("Unbond"))


def test_rejects_unbond_without_a_stake_account(lab: CircuitLab) -> None:
    # Bob never bonded: his "stake" opens in the empty slot, its witness claiming that the
    # slot held the amount bonded (else the bonded stake would wrap first).
    bonded = compute_bonded_state()
    op = make_op(bonded, BOB, Unbond(ETHER))
    index = compute_next_account_index(bonded)

    def unbond_from_nothing(state: ZkState, trace: list[Touch]) -> None:
        process_header(state, op, CTX, 0, trace)
        stake = Account(compute_stake_address(BOB), 0, ETHER, UNLOCK_EPOCH)
        put_account(state, index, stake, trace)

    forged = forge_with(bonded, op, unbond_from_nothing)
    assert forged.trace[1].before == Account(0)
    tampered = replace(forged.witness, inputs=forged.witness.inputs | {"stakeBonded": ETHER})
    assert_rejected(lab, tampered, stake_merkle("Unbond"))


# -- claim_stake ----------------------------------------------------------------------------

CLAIM_POST_ROOT = {"ClaimStake": "postRoot === post"}


def test_proves_claim_that_pays_the_unbonding_stake(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    ctx = compute_unlocked_ctx()
    assert ctx.epoch == UNLOCK_EPOCH
    transition = run(unbonding, make_op(unbonding, ALICE, ClaimStake()), ctx)
    post = transition.post
    assert get_stake(post, ALICE) == Stake(STAKE - UNBONDED, 0, UNLOCK_EPOCH)
    alice = get_account(unbonding, ALICE)
    paid = replace(alice, balance=alice.balance + UNBONDED - FEE, nonce=alice.nonce + 1)
    assert get_account(post, ALICE) == paid
    assert globals_of(post) == (unbonding.fee_pool + FEE, unbonding.escrow, unbonding.inbox)
    assert_proves(lab, transition.witness)


def test_proves_claim_long_after_the_unlock(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    later = replace(CTX, epoch=UNLOCK_EPOCH + 1000)
    transition = run(unbonding, make_op(unbonding, ALICE, ClaimStake()), later)
    assert get_stake(transition.post, ALICE).unbonding == 0
    assert_proves(lab, transition.witness)


@pytest.mark.parametrize("epoch", [CTX.epoch, UNLOCK_EPOCH - 1])
def test_rejects_claim_before_the_unlock_epoch(lab: CircuitLab, epoch: int) -> None:
    unbonding = compute_unbonding_state()
    early = replace(CTX, epoch=epoch)
    forged = forge(unbonding, make_op(unbonding, ALICE, ClaimStake()), early)
    assert get_account(forged.post, ALICE).balance > get_account(unbonding, ALICE).balance
    assert_rejected(
        lab,
        forged.witness,
        ["Num2Bits", "RangeCheck", "ClaimStake"],
        {"ClaimStake": "RangeCheck(ROUND_BITS())(epoch - stakeUnlockEpoch)"},
    )


def test_rejects_claim_with_nothing_unbonding(lab: CircuitLab) -> None:
    bonded = compute_bonded_state()
    forged = forge(bonded, make_op(bonded, ALICE, ClaimStake()), compute_unlocked_ctx())
    assert_rejected(
        lab, forged.witness, ["NonZero", "ClaimStake"], {"ClaimStake": "NonZero()(stakeUnbonding)"}
    )


def forge_claim(
    state: ZkState, left: Stake, paid: int, payee: int = ALICE, validator: int = ALICE
) -> CircuitWitness:
    """Alice's claim in the unlocked epoch, its three writes made by hand: the header's, the
    stake account of `validator` left at `left`, then `paid` to `payee`."""
    ctx = compute_unlocked_ctx()
    op = make_op(state, ALICE, ClaimStake())

    def claim(post: ZkState, trace: list[Touch]) -> None:
        process_header(post, op, ctx, 0, trace)
        write_stake(post, validator, left, trace)
        process_credit(post, payee, paid, trace)

    forged = forge_with(state, op, claim)
    return replace(forged, ctx=ctx).witness


def test_rejects_claim_that_pays_more_than_the_unbonding_stake(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    left = Stake(STAKE - UNBONDED, 0, UNLOCK_EPOCH)
    witness = forge_claim(unbonding, left, UNBONDED + 1)
    assert_rejected(lab, witness, ["ClaimStake"], CLAIM_POST_ROOT)


def test_rejects_claim_that_leaves_the_unbonding_stake(lab: CircuitLab) -> None:
    # Paid, and still unbonding: the same stake could be claimed again.
    unbonding = compute_unbonding_state()
    witness = forge_claim(unbonding, get_stake(unbonding, ALICE), UNBONDED)
    assert_rejected(lab, witness, ["ClaimStake"], {"ClaimStake": "claim.oldRoot === stake.newRoot"})


def test_rejects_claim_that_takes_the_bonded_stake_too(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    witness = forge_claim(unbonding, Stake(0, 0, UNLOCK_EPOCH), STAKE)
    assert_rejected(lab, witness, ["ClaimStake"], {"ClaimStake": "claim.oldRoot === stake.newRoot"})


def test_rejects_claim_paid_to_another_account(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    # Bob's slot shares the node of Alice's: the same path opens the payment at hers.
    witness = forge_claim(unbonding, Stake(STAKE - UNBONDED, 0, UNLOCK_EPOCH), UNBONDED, BOB)
    assert_rejected(lab, witness, ["ClaimStake"], CLAIM_POST_ROOT)


def test_rejects_claim_of_another_validators_unbonding_stake(lab: CircuitLab) -> None:
    # Bob's stake unlocks at the same epoch; Alice signs, and takes it.
    both = run_all(compute_unbonding_state(), [(BOB, Bond(STAKE)), (BOB, Unbond(UNBONDED))])
    witness = forge_claim(both, Stake(STAKE - UNBONDED, 0, UNLOCK_EPOCH), UNBONDED, validator=BOB)
    words = unpack_words("claim_stake", witness.public_inputs[2:])
    assert (words["from"], words["stakeIndex"]) == (ALICE, get_stake_index(both, BOB))
    assert_rejected(lab, witness, stake_merkle("ClaimStake"))


# -- slash ----------------------------------------------------------------------------------

SLASH_POST_ROOT = {"Slash": "postRoot === post"}
SLASH_WORD = {"Slash": "w2 === bondedCut"}


def make_slash(validator: int) -> Operation:
    return Operation(Slash(validator), signer=0, fee=0, nonce=0)


def forge_slash(state: ZkState, validator: int, left: Stake, named: int = ALICE) -> CircuitWitness:
    """A slash naming `named` whose one write leaves `validator`'s stake at `left`."""
    op = make_slash(named)
    forged = forge_with(state, op, lambda post, trace: write_stake(post, validator, left, trace))
    return forged.witness


def test_proves_slash_that_burns_5_percent_of_bonded_and_unbonding(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    transition = run(unbonding, make_slash(ALICE))
    bonded_cut, unbonding_cut = (STAKE - UNBONDED) // 20, UNBONDED // 20
    left = Stake(STAKE - UNBONDED - bonded_cut, UNBONDED - unbonding_cut, UNLOCK_EPOCH)
    assert get_stake(transition.post, ALICE) == left
    assert transition.witness.public_inputs[3] == bonded_cut  # w2: what left the bonded
    # Nothing else moves: the validator's own account, every global, every other record.
    assert get_account(transition.post, ALICE) == get_account(unbonding, ALICE)
    assert globals_of(transition.post) == globals_of(unbonding)
    assert [touch.index for touch in transition.trace] == [get_stake_index(unbonding, ALICE)]
    assert_proves(lab, transition.witness)


def compute_dust_state() -> ZkState:
    """Alice's stake of 39 wei bonded, 19 unbonding: 5% of each is not a whole wei."""
    return run_all(compute_test_genesis(), [(ALICE, Bond(58)), (ALICE, Unbond(19))])


def test_proves_slash_that_rounds_each_burn_down(lab: CircuitLab) -> None:
    # 39 wei bonded burns 1 (195 / 100), 19 unbonding burns 0 (95 / 100).
    dust = compute_dust_state()
    transition = run(dust, make_slash(ALICE))
    assert (compute_slashed(39), compute_slashed(19)) == (1, 0)
    assert get_stake(transition.post, ALICE) == Stake(38, 19, UNLOCK_EPOCH)
    assert transition.witness.public_inputs[3] == 1
    assert_proves(lab, transition.witness)


def test_rejects_slash_that_rounds_the_burn_up(lab: CircuitLab) -> None:
    dust = compute_dust_state()
    witness = forge_slash(dust, ALICE, Stake(37, 19, UNLOCK_EPOCH))
    assert witness.public_inputs[3] == 2
    assert_rejected(lab, witness, ["Slash"], SLASH_WORD)


def test_rejects_slash_that_rounds_the_unbonding_burn_up(lab: CircuitLab) -> None:
    dust = compute_dust_state()
    witness = forge_slash(dust, ALICE, Stake(38, 18, UNLOCK_EPOCH))
    assert_rejected(lab, witness, ["Slash"], SLASH_POST_ROOT)


def test_proves_slash_of_an_emptied_stake(lab: CircuitLab) -> None:
    # Everything unbonded and claimed: the slash burns nothing, and still proves.
    unlocked = compute_unlocked_ctx()
    emptied = run_all(compute_bonded_state(), [(ALICE, Unbond(STAKE))])
    emptied = run_all(emptied, [(ALICE, ClaimStake())], unlocked)
    transition = run(emptied, make_slash(ALICE))
    assert get_stake(transition.post, ALICE) == Stake(0, 0, UNLOCK_EPOCH)
    assert transition.post.accounts.root == emptied.accounts.root
    assert_proves(lab, transition.witness)


@pytest.mark.parametrize("burn", [-1, +1])
def test_rejects_slash_word_with_another_bonded_burn(lab: CircuitLab, burn: int) -> None:
    unbonding = compute_unbonding_state()
    witness = run(unbonding, make_slash(ALICE)).witness
    cut = compute_slashed(STAKE - UNBONDED)
    tampered = with_words(witness, bondedSlashed=cut + burn)
    assert_rejected(lab, tampered, ["Slash"], SLASH_WORD)


@pytest.mark.parametrize("burn", [-1, +1])
def test_rejects_slash_that_burns_another_share_of_the_bonded(lab: CircuitLab, burn: int) -> None:
    # The words follow the forged state (w2 says what left the bonded stake): the circuit
    # recomputes the 5% and refuses the word.
    unbonding = compute_unbonding_state()
    cut = compute_slashed(STAKE - UNBONDED) + burn
    left = Stake(STAKE - UNBONDED - cut, UNBONDED - compute_slashed(UNBONDED), UNLOCK_EPOCH)
    witness = forge_slash(unbonding, ALICE, left)
    assert witness.public_inputs[3] == cut
    assert_rejected(lab, witness, ["Slash"], SLASH_WORD)


def test_rejects_slash_that_burns_more_than_its_word_says(lab: CircuitLab) -> None:
    # A 6% burn whose word claims the 5%: the word passes, the post-state does not.
    unbonding = compute_unbonding_state()
    cut = compute_slashed(STAKE - UNBONDED)
    left = Stake(STAKE - UNBONDED - cut * 6 // 5, UNBONDED - UNBONDED // 20, UNLOCK_EPOCH)
    witness = with_words(forge_slash(unbonding, ALICE, left), bondedSlashed=cut)
    assert_rejected(lab, witness, ["Slash"], SLASH_POST_ROOT)


@pytest.mark.parametrize("burn", [-1, +1])
def test_rejects_slash_that_burns_another_share_of_the_unbonding(
    lab: CircuitLab, burn: int
) -> None:
    unbonding = compute_unbonding_state()
    bonded_cut, unbonding_cut = compute_slashed(STAKE - UNBONDED), compute_slashed(UNBONDED)
    left = Stake(STAKE - UNBONDED - bonded_cut, UNBONDED - unbonding_cut - burn, UNLOCK_EPOCH)
    assert_rejected(lab, forge_slash(unbonding, ALICE, left), ["Slash"], SLASH_POST_ROOT)


def test_rejects_slash_that_moves_the_unlock_epoch(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    slashed = get_stake(run(unbonding, make_slash(ALICE)).post, ALICE)
    left = replace(slashed, unlock_epoch=UNLOCK_EPOCH + 100)
    assert_rejected(lab, forge_slash(unbonding, ALICE, left), ["Slash"], SLASH_POST_ROOT)


def test_rejects_slash_that_pays_the_burn_into_the_fee_pool(lab: CircuitLab) -> None:
    # Nobody gains what is burned, the provers paid from the pool included.
    unbonding = compute_unbonding_state()
    slashed = run(unbonding, make_slash(ALICE))
    burned = compute_slashed(STAKE - UNBONDED) + compute_slashed(UNBONDED)

    def slash_into_the_pool(post: ZkState, trace: list[Touch]) -> None:
        write_stake(post, ALICE, get_stake(slashed.post, ALICE), trace)
        post.fee_pool += burned

    forged = forge_with(unbonding, make_slash(ALICE), slash_into_the_pool)
    assert_rejected(lab, forged.witness, ["Slash"], SLASH_POST_ROOT)


def test_rejects_slash_of_a_validator_without_stake(lab: CircuitLab) -> None:
    # Bob never bonded: an empty slot does not pass for his stake account, even one that
    # burns nothing.
    unbonding = compute_unbonding_state()
    index = compute_next_account_index(unbonding)

    def open_bobs_stake(post: ZkState, trace: list[Touch]) -> None:
        put_account(post, index, Account(compute_stake_address(BOB)), trace)

    forged = forge_with(unbonding, make_slash(BOB), open_bobs_stake)
    assert forged.trace[0].before == Account(0)
    assert_rejected(lab, forged.witness, stake_merkle("Slash"))


def test_rejects_slash_naming_another_validator_than_the_stake_leaf(lab: CircuitLab) -> None:
    # w1 names Bob, the write burns Alice's stake: the evidence was against Bob.
    unbonding = compute_unbonding_state()
    left = get_stake(run(unbonding, make_slash(ALICE)).post, ALICE)
    witness = forge_slash(unbonding, ALICE, left, named=BOB)
    fields = unpack_words("slash", witness.public_inputs[2:])
    assert (fields["validator"], fields["stakeIndex"]) == (BOB, get_stake_index(unbonding, ALICE))
    assert_rejected(lab, witness, stake_merkle("Slash"))


def test_rejects_slash_of_a_validators_spendable_balance(lab: CircuitLab) -> None:
    # Alice's own account, not her stake: the leaf's address is not the stake address.
    unbonding = compute_unbonding_state()
    alice = get_account(unbonding, ALICE)
    index = get_account_index(unbonding, ALICE)
    assert index is not None
    op = make_slash(ALICE)

    def slash_the_balance(post: ZkState, trace: list[Touch]) -> None:
        cut = compute_slashed(alice.balance)
        put_account(post, index, replace(alice, balance=alice.balance - cut), trace)

    assert_rejected(
        lab,
        forge_with(unbonding, op, slash_the_balance).witness,
        stake_merkle("Slash"),
    )


def test_rejects_slash_of_validator_zero(lab: CircuitLab) -> None:
    unbonding = compute_unbonding_state()
    witness = with_words(run(unbonding, make_slash(ALICE)).witness, validator=0)
    assert_rejected(lab, witness, ["NonZero", "Slash"], {"Slash": "NonZero()(validator)"})


# -- what the proofs bind -------------------------------------------------------------------


def test_proof_binds_the_slashed_validator_and_the_burn(
    lab: CircuitLab, proven: ProvenFactory
) -> None:
    # Anyone following the validators' stake on L1 reads whom a slash hit, and how much of
    # the bonded stake it burned, from the words alone.
    case = proven("slash")
    fields = unpack_words("slash", case.witness.public_inputs[2:])
    assert fields["validator"] == ALICE
    assert fields["bondedSlashed"] == compute_slashed(STAKE - UNBONDED)
    cut = fields["bondedSlashed"]
    assert_binds(lab, proven, "slash", validator=BOB)
    assert_binds(lab, proven, "slash", stakeIndex=fields["stakeIndex"] + 1)
    assert_binds(lab, proven, "slash", bondedSlashed=cut - 1)
    assert_binds(lab, proven, "slash", bondedSlashed=cut + 1)
    assert_binds(lab, proven, "slash", bondedSlashed=0)


def test_proof_binds_the_unbond_epoch_and_amount(lab: CircuitLab, proven: ProvenFactory) -> None:
    # The rollup checks the epoch against the settled block's time: a proof made for one
    # epoch must not pass for a later one, nor for another amount.
    case = proven("unbond")
    fields = unpack_words("unbond", case.witness.public_inputs[2:])
    assert (fields["epoch"], fields["amount"]) == (CTX.epoch, UNBONDED)
    assert_binds(lab, proven, "unbond", epoch=CTX.epoch + 1)
    assert_binds(lab, proven, "unbond", epoch=CTX.epoch - 1)
    assert_binds(lab, proven, "unbond", amount=UNBONDED + 1)
    assert_binds(lab, proven, "unbond", stakeIndex=fields["stakeIndex"] + 1)


def test_proof_binds_the_claim_epoch(lab: CircuitLab, proven: ProvenFactory) -> None:
    # A claim proven in the unlock epoch does not pass for an earlier one.
    case = proven("claim_stake")
    assert unpack_words("claim_stake", case.witness.public_inputs[2:])["epoch"] == UNLOCK_EPOCH
    assert_binds(lab, proven, "claim_stake", epoch=UNLOCK_EPOCH - 1)
    assert_binds(lab, proven, "claim_stake", epoch=UNLOCK_EPOCH + 1)


def test_proof_binds_the_bond_amount(lab: CircuitLab, proven: ProvenFactory) -> None:
    case = proven("bond")
    assert unpack_words("bond", case.witness.public_inputs[2:])["amount"] == STAKE
    assert_binds(lab, proven, "bond", amount=STAKE + 1)
    assert_binds(lab, proven, "bond", amount=STAKE - 1)
