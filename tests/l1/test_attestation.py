"""The sequencer's attestation on a real anvil (docs/l1.md, "The attestation"): the rollup
settles a proven block only with signatures of more than two thirds of the sequencers' weight
on exactly that block as settlement number `settlementCount + 1`, and numbers its settlements
itself, so nobody without the sequencers' keys can invent, renumber, reorder, split or
re-time a block, whoever submits it.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.attestation import (
    BlockHeader,
    attest_block,
    compute_block_message,
    compute_digest,
    compute_ops_hash,
    list_statements,
)
from chain.l1.calldata import SettledOp, StateRoot
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Revert
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import compute_genesis_root
from chain.testing.settlement_gas import (
    compute_block_timestamp,
    dev_sequencer_keys,
    settle,
    sign_ops,
)
from chain.types import Height
from chain.zk.signing import SigningDomain
from tests.integration.support import dev_account
from tests.l1.harness import get_first_block, get_latest_timestamp, get_mixed_block

OUTSIDER_KEY = bytes.fromhex("77" * 32)  # no sequencer's
MAX_DRIFT_S = 15  # the rollup's MAX_TIMESTAMP_DRIFT_S
HUGE_HEIGHT = Height(2**64 - 1)


def submit_signed(
    rollup: RollupClient,
    header: BlockHeader,
    ops: Sequence[SettledOp],
    signed_ops: Sequence[SettledOp] | None = None,
    *,
    number: int | None = None,
    keys: Sequence[bytes] | None = None,
    domain: SigningDomain | None = None,
    signed_header: BlockHeader | None = None,
) -> None:
    """Submit `ops` after `header` with an attestation of `signed_ops` / `signed_header` /
    `number` / `domain` (default: what is submitted, as the next settlement)."""
    attested = attest_block(
        domain or rollup.get_domain(),
        rollup.get_settlement_count() + 1 if number is None else number,
        signed_header or header,
        list_statements(ops if signed_ops is None else signed_ops),
        dev_sequencer_keys() if keys is None else keys,
    )
    rollup.submit_block(header, ops, sign_ops(rollup.get_domain(), ops), attested.attestation)


def assert_refused(rollup: RollupClient, error: str, submit: object) -> L1Revert:
    """`submit()` reverts with `error`, and nothing settled moves."""
    before = (rollup.get_settlement_count(), rollup.get_settled_root())
    with pytest.raises(L1Revert) as refused:
        submit()  # type: ignore[operator]
    assert refused.value.error == error, refused.value
    assert (rollup.get_settlement_count(), rollup.get_settled_root()) == before
    return refused.value


def now_header(rollup: RollupClient, height: Height, pre_root: StateRoot) -> BlockHeader:
    return BlockHeader(height, get_latest_timestamp(rollup.w3), pre_root)


def test_the_rollup_digest_is_the_one_the_sequencer_signs(rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(rollup, Height(4), first.pre_root)
    ops_hash = compute_ops_hash(list_statements(first.ops))
    message = compute_block_message(rollup.get_domain(), 1, header, first.post_root, ops_hash)
    on_chain = rollup.contract.functions.blockDigest(
        1, header.to_abi(), first.post_root, ops_hash
    ).call()
    assert bytes(on_chain) == compute_digest(message)


def test_settlements_are_numbered_by_the_rollup(rollup: RollupClient) -> None:
    first, mixed = get_first_block(), get_mixed_block()
    settle(rollup, Height(3), first.pre_root, first.ops)
    settle(rollup, Height(9), mixed.pre_root, mixed.ops)
    settlements = rollup.list_settlements()
    assert [(s.number, s.height) for s in settlements] == [(1, Height(3)), (2, Height(9))]
    assert rollup.get_settlement_count() == 2


def test_refuses_a_block_nobody_signed(rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(rollup, Height(1), first.pre_root)
    assert_refused(
        rollup,
        "MalformedAttestation",
        lambda: rollup.submit_block(
            header, first.ops, sign_ops(rollup.get_domain(), first.ops), b""
        ),
    )
    assert_refused(
        rollup,
        "MalformedAttestation",
        lambda: rollup.submit_block(
            header, first.ops, sign_ops(rollup.get_domain(), first.ops), b"\x01" * 64
        ),
    )


def test_refuses_a_block_an_outsider_signed(rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(rollup, Height(1), first.pre_root)
    refusal = assert_refused(
        rollup,
        "NotAttested",
        lambda: submit_signed(rollup, header, first.ops, keys=[OUTSIDER_KEY]),
    )
    assert refusal.error_args == (0, Account.from_key(OUTSIDER_KEY).address)


def test_refuses_an_outsiders_block_with_a_huge_height(rollup: RollupClient) -> None:
    """The brick of old: settling at 2^64 - 1 once made every later block a replay."""
    first = get_first_block()
    header = now_header(rollup, HUGE_HEIGHT, first.pre_root)
    assert_refused(
        rollup, "NotAttested", lambda: submit_signed(rollup, header, first.ops, keys=[OUTSIDER_KEY])
    )
    settle(rollup, Height(1), first.pre_root, first.ops)  # the rollup is live
    assert rollup.get_settled_root() == first.post_root


def test_refuses_a_block_signed_for_another_number(rollup: RollupClient) -> None:
    """A block cannot go anywhere but next: signed as settlement 2, it is not settlement 1."""
    first = get_first_block()
    header = now_header(rollup, Height(1), first.pre_root)
    assert_refused(
        rollup, "NotAttested", lambda: submit_signed(rollup, header, first.ops, number=2)
    )


def test_refuses_a_reordered_block(rollup: RollupClient) -> None:
    mixed = get_mixed_block()
    settle(rollup, Height(1), get_first_block().pre_root, get_first_block().ops)
    header = BlockHeader(Height(2), compute_block_timestamp(rollup, mixed.ops), mixed.pre_root)
    swapped = [mixed.ops[1], mixed.ops[0], *mixed.ops[2:]]
    # The signature is of the block as made; the submission swaps two ops (and fails the
    # attestation before it could fail anything else).
    assert_refused(
        rollup, "NotAttested", lambda: submit_signed(rollup, header, mixed.ops, signed_ops=swapped)
    )


def test_refuses_half_of_a_signed_block(rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(rollup, Height(1), first.pre_root)
    assert_refused(
        rollup,
        "NotAttested",
        lambda: submit_signed(rollup, header, first.ops[:1], signed_ops=first.ops),
    )


def test_refuses_a_block_signed_at_another_height_or_time(rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(rollup, Height(5), first.pre_root)
    for signed in (
        BlockHeader(Height(6), header.timestamp, header.pre_root),
        BlockHeader(header.height, header.timestamp - 1, header.pre_root),
    ):
        assert_refused(
            rollup,
            "NotAttested",
            lambda signed=signed: submit_signed(rollup, header, first.ops, signed_header=signed),
        )


def test_refuses_a_signature_for_another_rollup(
    w3: Web3, deployer: LocalAccount, rollup: RollupClient
) -> None:
    other = deploy_contracts(w3, deployer, compute_genesis_root())
    first = get_first_block()
    header = now_header(rollup, Height(1), first.pre_root)
    elsewhere = SigningDomain(rollup.get_domain().chain_id, other.rollup)
    assert_refused(
        rollup, "NotAttested", lambda: submit_signed(rollup, header, first.ops, domain=elsewhere)
    )


def test_refuses_a_time_before_the_last_settled_or_ahead_of_l1(rollup: RollupClient) -> None:
    first, mixed = get_first_block(), get_mixed_block()
    now = get_latest_timestamp(rollup.w3)
    ahead = BlockHeader(Height(1), now + 10 * MAX_DRIFT_S, first.pre_root)
    refusal = assert_refused(
        rollup, "BadTimestamp", lambda: submit_signed(rollup, ahead, first.ops)
    )
    assert refusal.error_args == (ahead.timestamp, 0)
    settle(rollup, Height(1), first.pre_root, first.ops, timestamp=now)
    back = BlockHeader(Height(2), now - 1, mixed.pre_root)
    assert_refused(rollup, "BadTimestamp", lambda: submit_signed(rollup, back, mixed.ops))
    assert rollup.contract.functions.settledTimestamp().call() == now


def test_refuses_a_replayed_attested_block(rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(rollup, Height(1), first.pre_root)
    attested = attest_block(
        rollup.get_domain(), 1, header, list_statements(first.ops), dev_sequencer_keys()
    )
    rollup.submit_block(
        header, first.ops, sign_ops(rollup.get_domain(), first.ops), attested.attestation
    )
    refusal = assert_refused(
        rollup,
        "BlockAlreadySettled",
        lambda: rollup.submit_block(
            header, first.ops, sign_ops(rollup.get_domain(), first.ops), attested.attestation
        ),
    )
    assert refusal.error_args == (1, 1)


# -- a set of sequencers ------------------------------------------------------------------------

SET_KEYS = [bytes(dev_account(i).key) for i in (1, 2, 3, 4)]


@pytest.fixture
def set_rollup(w3: Web3, deployer: LocalAccount) -> RollupClient:
    """A rollup whose four sequencers weigh 1 each: three signatures are more than 2/3."""
    sequencers = [Account.from_key(key).address for key in SET_KEYS]
    deployment = deploy_contracts(w3, deployer, compute_genesis_root(), sequencers=sequencers)
    return RollupClient(w3, deployment.rollup, deployer)


def test_a_set_settles_with_more_than_two_thirds_of_its_weight(set_rollup: RollupClient) -> None:
    assert [weight for _, weight in set_rollup.list_sequencers()] == [1, 1, 1, 1]
    first = get_first_block()
    header = now_header(set_rollup, Height(1), first.pre_root)
    refusal = assert_refused(
        set_rollup,
        "AttestationTooWeak",
        lambda: submit_signed(set_rollup, header, first.ops, keys=SET_KEYS[:2]),
    )
    assert refusal.error_args == (2, 4)
    submit_signed(set_rollup, header, first.ops, keys=SET_KEYS[1:])
    assert set_rollup.get_settled_root() == first.post_root


def test_a_set_counts_each_signer_once(set_rollup: RollupClient) -> None:
    first = get_first_block()
    header = now_header(set_rollup, Height(1), first.pre_root)
    attested = attest_block(
        set_rollup.get_domain(), 1, header, list_statements(first.ops), SET_KEYS[:2]
    )
    signatures = attested.attestation
    doubled = signatures + signatures[65:]  # the second signer twice
    assert_refused(
        set_rollup,
        "NotAttested",
        lambda: set_rollup.submit_block(
            header, first.ops, sign_ops(set_rollup.get_domain(), first.ops), doubled
        ),
    )
    descending = signatures[65:] + signatures[:65]
    assert_refused(
        set_rollup,
        "NotAttested",
        lambda: set_rollup.submit_block(
            header, first.ops, sign_ops(set_rollup.get_domain(), first.ops), descending
        ),
    )


def test_refuses_a_bad_sequencer_set(w3: Web3, deployer: LocalAccount) -> None:
    address = Account.from_key(SET_KEYS[0]).address
    for sequencers in ([], [address, address]):
        with pytest.raises(L1Revert) as refused:
            deploy_contracts(w3, deployer, compute_genesis_root(), sequencers=sequencers)
        assert refused.value.error == "BadSequencers"
