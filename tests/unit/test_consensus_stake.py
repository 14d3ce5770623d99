"""Validator power from ZKPoW stake and slashing from evidence (chain/consensus/stake.py and
DuetApplication): the genesis stakes are the genesis powers; at a power epoch the bonded
stake on the committed ZK state sets each validator's power; a jailed validator stays at 0;
a double vote queues a Slash that the next ZK block applies on every validator alike; a
restart remembers the powers and the queue. A validator joins after genesis by registering
its keys (chain/consensus/registration.py), then bonding; forged, replayed, repeated and
unfunded registrations, and a Bond before registering, are refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from coincurve import PrivateKey
from Crypto.Signature import eddsa
from eth_account import Account

from chain.config import NetworkConfig
from chain.consensus.abci.application import OK
from chain.consensus.abci.proto.tendermint.abci import types_pb2 as abci
from chain.consensus.abci.proto.tendermint.crypto import keys_pb2
from chain.consensus.attestations import Attester, format_attesters
from chain.consensus.duet_app import (
    MAX_REGISTRATIONS_PER_HEIGHT,
    NOT_EXECUTED,
    REFUSED,
    UNDECODABLE,
    DuetApplication,
)
from chain.consensus.evidence import CometValidator, compute_address
from chain.consensus.registration import (
    Registration,
    compute_registration_digest,
    sign_registration,
)
from chain.consensus.stake import (
    STAKE_EPOCH_HEIGHTS,
    STAKE_UNIT_WEI,
    compute_genesis_stakes,
    compute_power,
    compute_power_changes,
    list_slashed,
)
from chain.consensus.txs import decode_tagged, encode_registration_tx, encode_zk_op
from chain.node import Node, open_node
from chain.testing.accounts import dev_account
from chain.zk.ops import Bond, Unbond, compute_slashed
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import get_account, get_account_index, get_stake, get_total_supply
from tests.unit.abci_requests import (
    ACCEPT,
    GENESIS_MS,
    HEADER_TIME_MS,
    MAX_TX_BYTES,
    REJECT,
    header_time,
    process,
    run,
)

KEYS = [bytes([i + 1]) * 32 for i in range(4)]
ADDRESSES = [compute_address(key) for key in KEYS]
POWER = 10
VALIDATORS = {a: CometValidator(a, k, POWER) for a, k in zip(ADDRESSES, KEYS, strict=True)}
# Validator 0's attester is dev account 0, which has ZKPoW to bond; the others have none.
ATTEST_KEYS = [dev_account(0).key, *(bytes([0x40 + i]) * 32 for i in range(1, 4))]
ATTESTERS = tuple(
    Attester(a, Account.from_key(k).address, POWER)
    for a, k in zip(ADDRESSES, ATTEST_KEYS, strict=True)
)
ATTESTER_INTS = [int(a.address, 16) for a in ATTESTERS]
GENESIS_POWERS = {a: POWER for a in ADDRESSES}
ZK_INTERVAL_MS = 1_000


def test_genesis_stakes_are_the_genesis_powers() -> None:
    stakes = compute_genesis_stakes(ATTESTERS)
    assert stakes == {a: POWER * STAKE_UNIT_WEI for a in ATTESTER_INTS}
    assert all(compute_power(s) == POWER for s in stakes.values())


def test_power_counts_whole_units_of_bonded_stake() -> None:
    assert compute_power(STAKE_UNIT_WEI - 1) == 0
    assert compute_power(3 * STAKE_UNIT_WEI + 5) == 3


def test_power_changes_follow_the_bonded_stake() -> None:
    bonded = {ATTESTER_INTS[0]: 25 * STAKE_UNIT_WEI, ATTESTER_INTS[1]: POWER * STAKE_UNIT_WEI}
    bonded |= {ATTESTER_INTS[2]: 0, ATTESTER_INTS[3]: POWER * STAKE_UNIT_WEI}
    changes = compute_power_changes(VALIDATORS, ATTESTERS, bonded, set(), GENESIS_POWERS)
    assert changes == {ADDRESSES[0]: 25, ADDRESSES[2]: 0}


def test_a_jailed_validator_stays_at_zero_whatever_it_bonds() -> None:
    bonded = dict.fromkeys(ATTESTER_INTS, 50 * STAKE_UNIT_WEI)
    powers = GENESIS_POWERS | {ADDRESSES[1]: 0}
    changes = compute_power_changes(VALIDATORS, ATTESTERS, bonded, {ADDRESSES[1]}, powers)
    assert changes == {ADDRESSES[i]: 50 for i in (0, 2, 3)}


def test_rejects_changes_that_would_leave_no_power() -> None:
    bonded = dict.fromkeys(ATTESTER_INTS, 0)
    assert compute_power_changes(VALIDATORS, ATTESTERS, bonded, set(), GENESIS_POWERS) == {}


def test_a_validator_without_attester_keeps_its_power() -> None:
    bonded = dict.fromkeys(ATTESTER_INTS, 0)
    changes = compute_power_changes(VALIDATORS, ATTESTERS[1:], bonded, set(), GENESIS_POWERS)
    assert changes == {ADDRESSES[i]: 0 for i in (1, 2, 3)}


def test_only_a_jailed_validator_with_an_attester_is_slashed() -> None:
    jailed = [VALIDATORS[ADDRESSES[2]], CometValidator(b"\x09" * 20, b"\x09" * 32, 1)]
    assert list_slashed(jailed, ATTESTERS) == [ATTESTER_INTS[2]]


# -- the application ------------------------------------------------------------------------


def open_staked_node(data_dir: Path) -> Node:
    cfg = NetworkConfig(
        genesis_time_ms=GENESIS_MS, genesis_stakes=compute_genesis_stakes(ATTESTERS)
    )
    return open_node(data_dir, cfg)


@pytest.fixture
def app(tmp_path: Path) -> DuetApplication:
    app = DuetApplication(open_staked_node(tmp_path / "node"), zk_interval_ms=ZK_INTERVAL_MS)
    validators = [
        abci.ValidatorUpdate(pub_key=keys_pb2.PublicKey(ed25519=key), power=POWER) for key in KEYS
    ]
    app_state = json.dumps(format_attesters(ATTESTERS)).encode()
    request = abci.RequestInitChain(
        time=header_time(GENESIS_MS), validators=validators, app_state_bytes=app_state
    )
    run(app.init_chain(request))
    return app


def finalize(
    app: DuetApplication, height: int, ms: int, offenders: tuple[int, ...] = ()
) -> abci.ResponseFinalizeBlock:
    misbehavior = [
        abci.Misbehavior(
            type=abci.DUPLICATE_VOTE,
            validator=abci.Validator(address=ADDRESSES[i], power=POWER),
            height=height - 1,
        )
        for i in offenders
    ]
    request = abci.RequestFinalizeBlock(
        height=height, time=header_time(ms), misbehavior=misbehavior
    )
    answer = run(app.finalize_block(request))
    run(app.commit(abci.RequestCommit()))
    return answer


def updates_of(answer: abci.ResponseFinalizeBlock) -> dict[bytes, int]:
    return {compute_address(u.pub_key.ed25519): u.power for u in answer.validator_updates}


def test_genesis_state_holds_the_validators_stake(app: DuetApplication) -> None:
    state = app.node.zk_state
    for attester in ATTESTER_INTS:
        assert get_stake(state, attester).bonded == POWER * STAKE_UNIT_WEI
    assert app.powers == GENESIS_POWERS


def test_a_power_epoch_with_unchanged_stake_updates_nothing(app: DuetApplication) -> None:
    answer = finalize(app, STAKE_EPOCH_HEIGHTS, HEADER_TIME_MS)
    assert list(answer.validator_updates) == []


def test_a_double_vote_jails_then_slashes_the_stake_in_the_next_zk_block(
    app: DuetApplication, tmp_path: Path
) -> None:
    offender = ATTESTER_INTS[1]
    bonded = POWER * STAKE_UNIT_WEI
    supply = get_total_supply(app.node.zk_state)
    # A height too soon for a ZK block: jailed now, the slash waits in the queue.
    answer = finalize(app, 3, GENESIS_MS + ZK_INTERVAL_MS // 2, offenders=(1,))
    assert updates_of(answer) == {ADDRESSES[1]: 0}
    assert app.slash_queue == [offender]
    assert get_stake(app.node.zk_state, offender).bonded == bonded
    # Still queued across a restart.
    app.node.close()
    app = DuetApplication(open_staked_node(tmp_path / "node"), zk_interval_ms=ZK_INTERVAL_MS)
    assert app.slash_queue == [offender]
    assert app.powers[ADDRESSES[1]] == 0
    # The next ZK block takes it: SLASH_PERCENT burned, nothing else moves.
    finalize(app, 4, GENESIS_MS + 2 * ZK_INTERVAL_MS)
    assert app.node.zk_head.height == 1
    cut = compute_slashed(bonded)
    assert get_stake(app.node.zk_state, offender).bonded == bonded - cut
    assert get_total_supply(app.node.zk_state) == supply - cut
    assert app.slash_queue == []
    # Reported again: not jailed nor slashed twice.
    finalize(app, 5, GENESIS_MS + 4 * ZK_INTERVAL_MS, offenders=(1,))
    assert app.slash_queue == []
    # At the power epoch the jailed validator stays at 0, the others keep their power.
    answer = finalize(app, STAKE_EPOCH_HEIGHTS, GENESIS_MS + 6 * ZK_INTERVAL_MS)
    assert list(answer.validator_updates) == []
    assert app.powers == GENESIS_POWERS | {ADDRESSES[1]: 0}


def stake_op(app: DuetApplication, body: Bond | Unbond, nonce: int) -> bytes:
    """Validator 0's signed stake operation, as a CometBFT transaction."""
    node = app.node
    index = get_account_index(node.zk_state, ATTESTER_INTS[0])
    assert index is not None
    fee = node.config.zk_min_fee
    signed = sign_operation(body, fee, nonce, node.signing_domain, ATTEST_KEYS[0], index)
    return encode_zk_op(format_signed_operation(signed))


def test_a_bond_raises_the_validators_power_at_the_next_power_epoch(app: DuetApplication) -> None:
    ms = GENESIS_MS + 2 * ZK_INTERVAL_MS
    request = abci.RequestFinalizeBlock(
        height=2, time=header_time(ms), txs=[stake_op(app, Bond(15 * STAKE_UNIT_WEI), 0)]
    )
    assert list(run(app.finalize_block(request)).validator_updates) == []  # not an epoch
    run(app.commit(abci.RequestCommit()))
    assert get_stake(app.node.zk_state, ATTESTER_INTS[0]).bonded == 25 * STAKE_UNIT_WEI
    answer = finalize(app, STAKE_EPOCH_HEIGHTS, ms + 1)
    assert updates_of(answer) == {ADDRESSES[0]: 25}
    assert app.powers[ADDRESSES[0]] == 25
    # Unbonding all of it takes the validator's power to 0 at the next epoch.
    request = abci.RequestFinalizeBlock(
        height=STAKE_EPOCH_HEIGHTS + 1,
        time=header_time(ms + 2 * ZK_INTERVAL_MS),
        txs=[stake_op(app, Unbond(25 * STAKE_UNIT_WEI), 1)],
    )
    run(app.finalize_block(request))
    run(app.commit(abci.RequestCommit()))
    answer = finalize(app, 2 * STAKE_EPOCH_HEIGHTS, ms + 3 * ZK_INTERVAL_MS)
    assert updates_of(answer) == {ADDRESSES[0]: 0}


# -- validators joining after genesis (chain/consensus/registration.py) ----------------------

JOINER_SEED = bytes([0x77]) * 32
JOINER_KEY = dev_account(1).key  # has ZKPoW to hold and bond


def registration_tx(
    app: DuetApplication, seed: bytes = JOINER_SEED, attest_key: bytes = JOINER_KEY
) -> bytes:
    config = app.node.config
    registration = sign_registration(config.zk_chain_id, config.fast_chain_id, seed, attest_key)
    return encode_registration_tx(registration)


def joiner_bond(app: DuetApplication, amount: int, key: bytes = JOINER_KEY) -> bytes:
    node = app.node
    signer = int(Account.from_key(key).address, 16)
    index = get_account_index(node.zk_state, signer)
    assert index is not None
    nonce = get_account(node.zk_state, signer).nonce
    fee = node.config.zk_min_fee
    signed = sign_operation(Bond(amount), fee, nonce, node.signing_domain, key, index)
    return encode_zk_op(format_signed_operation(signed))


def check(app: DuetApplication, tx: bytes) -> abci.ResponseCheckTx:
    return run(app.check_tx(abci.RequestCheckTx(tx=tx)))


def decide_at(
    app: DuetApplication, height: int, ms: int, txs: list[bytes]
) -> abci.ResponseFinalizeBlock:
    request = abci.RequestFinalizeBlock(height=height, time=header_time(ms), txs=txs)
    answer = run(app.finalize_block(request))
    run(app.commit(abci.RequestCommit()))
    return answer


def test_a_registered_validator_enters_the_set_at_the_epoch_after_it_bonds(
    app: DuetApplication, tmp_path: Path
) -> None:
    joiner = decode_tagged(registration_tx(app))
    assert isinstance(joiner, Registration)
    assert check(app, registration_tx(app)).code == OK
    answer = decide_at(app, 2, GENESIS_MS + ZK_INTERVAL_MS // 2, [registration_tx(app)])
    assert [r.code for r in answer.tx_results] == [OK]
    assert app.validators[joiner.validator].pub_key == joiner.pub_key
    assert Attester(joiner.validator, joiner.address, 0) in app.attesters
    assert app.powers.get(joiner.validator, 0) == 0
    # Registered, it may bond; its stake gives it power at the next epoch, as an update that
    # carries its consensus key (CometBFT adds it to the set at H+2).
    bond = joiner_bond(app, 7 * STAKE_UNIT_WEI)
    assert check(app, bond).code == OK
    answer = decide_at(app, 3, GENESIS_MS + 2 * ZK_INTERVAL_MS, [bond])
    assert [r.code for r in answer.tx_results] == [OK]
    assert get_stake(app.node.zk_state, int(joiner.address, 16)).bonded == 7 * STAKE_UNIT_WEI
    answer = finalize(app, STAKE_EPOCH_HEIGHTS, GENESIS_MS + 3 * ZK_INTERVAL_MS)
    assert [(u.pub_key.ed25519, u.power) for u in answer.validator_updates] == [(joiner.pub_key, 7)]
    assert app.powers[joiner.validator] == 7
    # A restart knows the registered validator and its power.
    app.node.close()
    again = DuetApplication(open_staked_node(tmp_path / "node"), zk_interval_ms=ZK_INTERVAL_MS)
    assert joiner.validator in again.validators
    assert again.powers[joiner.validator] == 7
    assert {a.address for a in again.attesters} >= {joiner.address}


def test_a_bond_of_an_unregistered_account_is_refused(app: DuetApplication) -> None:
    bond = joiner_bond(app, STAKE_UNIT_WEI)
    refused = check(app, bond)
    assert refused.code == REFUSED
    assert "register the validator's keys first" in refused.log
    # In a proposal, whose proposer broke the rule: every validator refuses it.
    status = process(app, [bond], ms=GENESIS_MS + 2 * ZK_INTERVAL_MS)
    assert status == REJECT
    # Decided all the same (more than 2/3 broke the rule): it does not apply.
    answer = decide_at(app, 2, GENESIS_MS + 2 * ZK_INTERVAL_MS, [bond])
    assert answer.tx_results[0].code == NOT_EXECUTED
    assert get_stake(app.node.zk_state, int(dev_account(1).address, 16)).bonded == 0


def forge_with_other_chain(app: DuetApplication) -> bytes:
    """Both keys signed, but for another network's chains: a replay."""
    config = app.node.config
    other = sign_registration(config.zk_chain_id + 1, config.fast_chain_id, JOINER_SEED, JOINER_KEY)
    return encode_registration_tx(other)


def forge_other_attester(app: DuetApplication) -> bytes:
    """The joiner's consensus key names another account as its attester (that account's
    stake would back the joiner's power), which the joiner signs for itself: the account
    never did."""
    config = app.node.config
    mine = sign_registration(config.zk_chain_id, config.fast_chain_id, JOINER_SEED, JOINER_KEY)
    victim = dev_account(2).address
    digest = compute_registration_digest(
        config.zk_chain_id, config.fast_chain_id, mine.pub_key, victim
    )
    consensus = eddsa.new(eddsa.import_private_key(JOINER_SEED), "rfc8032")
    forged = replace(
        mine,
        address=victim,
        key_signature=consensus.sign(digest),
        address_signature=PrivateKey(JOINER_KEY).sign_recoverable(digest, hasher=None),
    )
    return encode_registration_tx(forged)


def forge_consensus_signature(app: DuetApplication) -> bytes:
    body = bytearray(registration_tx(app))
    body[1 + 52] ^= 1  # the ed25519 signature's first byte
    return bytes(body)


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (forge_with_other_chain, "the consensus key did not sign this registration"),
        (forge_other_attester, "not by the attester"),
        (forge_consensus_signature, "the consensus key did not sign this registration"),
        # A genesis validator's attester cannot be named again.
        (lambda app: registration_tx(app, attest_key=ATTEST_KEYS[0]), "a validator's already"),
        # An attester without a unit of free ZKPoW (a flood of registrations costs something).
        (lambda app: registration_tx(app, attest_key=bytes([0x55]) * 32), "less than the"),
    ],
    ids=["replayed", "other-attester", "forged-signature", "genesis-attester", "no-balance"],
)
def test_forged_and_unfunded_registrations_are_refused(
    app: DuetApplication, forge: Callable[[DuetApplication], bytes], reason: str
) -> None:
    tx = forge(app)
    refused = check(app, tx)
    assert refused.code == REFUSED
    assert reason in refused.log
    assert process(app, [tx], ms=GENESIS_MS + ZK_INTERVAL_MS // 2) == REJECT
    answer = decide_at(app, 2, GENESIS_MS + ZK_INTERVAL_MS // 2, [tx])
    assert answer.tx_results[0].code == NOT_EXECUTED
    assert app.registrations == []


def test_a_consensus_key_registers_once(app: DuetApplication) -> None:
    decide_at(app, 2, GENESIS_MS + ZK_INTERVAL_MS // 2, [registration_tx(app)])
    # The same consensus key again, now with another funded attester.
    again = registration_tx(app, attest_key=dev_account(2).key)
    refused = check(app, again)
    assert refused.code == REFUSED
    assert "is registered" in refused.log
    # Twice in one height: the second is refused.
    fresh = [registration_tx(app, bytes([0x78]) * 32, dev_account(i).key) for i in (3, 4)]
    assert process(app, fresh, ms=GENESIS_MS + ZK_INTERVAL_MS // 2) == REJECT
    assert check(app, b"\x84" + b"\x00" * 10).code == UNDECODABLE


def test_at_most_a_few_registrations_a_height(app: DuetApplication) -> None:
    txs = [
        registration_tx(app, bytes([0x60 + i]) * 32, dev_account(2 + i).key)
        for i in range(MAX_REGISTRATIONS_PER_HEIGHT + 1)
    ]
    assert process(app, txs[:-1], ms=GENESIS_MS + ZK_INTERVAL_MS // 2) == ACCEPT
    assert process(app, txs, ms=GENESIS_MS + ZK_INTERVAL_MS // 2) == REJECT


def test_a_proposer_takes_registrations_from_the_mempool(app: DuetApplication) -> None:
    fresh = [registration_tx(app, bytes([0x60 + i]) * 32, dev_account(2 + i).key) for i in range(6)]
    mempool = [fresh[0], joiner_bond(app, STAKE_UNIT_WEI), *fresh[1:]]
    request = abci.RequestPrepareProposal(
        height=2,
        time=header_time(GENESIS_MS + 2 * ZK_INTERVAL_MS),
        txs=mempool,
        max_tx_bytes=MAX_TX_BYTES,
    )
    proposed = list(run(app.prepare_proposal(request)).txs)
    # The first few registrations; the Bond of an account not registered yet is left out.
    assert proposed == fresh[:MAX_REGISTRATIONS_PER_HEIGHT]


def test_a_registered_validator_without_stake_gets_no_update(app: DuetApplication) -> None:
    # CometBFT refuses an update that removes a validator it does not have: a registered
    # validator with nothing bonded is left out of the epoch's updates, whether it registered
    # before the powers were first stored or after.
    decide_at(app, 2, GENESIS_MS + ZK_INTERVAL_MS // 2, [registration_tx(app)])
    answer = finalize(app, STAKE_EPOCH_HEIGHTS, GENESIS_MS + ZK_INTERVAL_MS)
    assert list(answer.validator_updates) == []
    ms = GENESIS_MS + 2 * ZK_INTERVAL_MS
    decide_at(app, STAKE_EPOCH_HEIGHTS + 1, ms, [stake_op(app, Bond(STAKE_UNIT_WEI), 0)])
    answer = finalize(app, 2 * STAKE_EPOCH_HEIGHTS, ms + 1)
    assert updates_of(answer) == {ADDRESSES[0]: POWER + 1}  # the powers are stored now
    late = registration_tx(app, bytes([0x79]) * 32, dev_account(3).key)
    decide_at(app, 2 * STAKE_EPOCH_HEIGHTS + 1, ms + 2, [late])
    answer = finalize(app, 3 * STAKE_EPOCH_HEIGHTS, ms + 3)
    assert list(answer.validator_updates) == []
