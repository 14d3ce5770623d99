"""Validator power from ZKPoW stake, and slashing from evidence (docs/architecture.md, "Stake").

A validator's power is its bonded stake on the ZK chain, one unit per STAKE_UNIT_WEI, read at
power epochs: the FinalizeBlock of every STAKE_EPOCH_HEIGHTS-th height answers a validator
update for each validator whose power the stake changed (CometBFT applies it at H+2): the
genesis's, and those registered since (chain/consensus/registration.py), which enter
CometBFT's set so. Every validator reads the same committed ZK state there, so all answer alike. The
genesis stakes are the genesis powers in stake (chain/zk/genesis.py), so power starts as the
genesis says and moves only by Bond, Unbond and Slash operations, which are proven like the
rest.

A jailed validator stays at power 0 whatever it bonds, and the validators that a jailing
newly jails are slashed on the ZK chain: a Slash operation of its attester address waits in
a queue that the next ZK block takes. An update that would leave no validator with power is
not made (CometBFT refuses an empty set).

Pure: the node's store keeps the powers, the jailed and the queue (duet_app.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chain.consensus.attestations import Attester
from chain.consensus.evidence import CometValidator

STAKE_UNIT_WEI = 10**18  # one unit of CometBFT power per bonded ZKPoW
STAKE_EPOCH_HEIGHTS = 20  # CometBFT heights between two readings of the stake
# CometBFT caps the total voting power at MaxInt64 / 8; one validator's stays far below.
MAX_POWER = (1 << 63) // 8 // 1024


def compute_genesis_stakes(attesters: Sequence[Attester]) -> dict[int, int]:
    """The ZK genesis's stake of each attester (address → wei): its genesis power."""
    return {int(a.address, 16): a.power * STAKE_UNIT_WEI for a in attesters}


def compute_power(bonded: int) -> int:
    return min(bonded // STAKE_UNIT_WEI, MAX_POWER)


def is_power_epoch(height: int) -> bool:
    return height % STAKE_EPOCH_HEIGHTS == 0


def compute_power_changes(
    validators: Mapping[bytes, CometValidator],
    attesters: Sequence[Attester],
    bonded: Mapping[int, int],
    jailed: set[bytes],
    powers: Mapping[bytes, int],
) -> dict[bytes, int]:
    """The validators whose power the stake changes (CometBFT address → new power):
    `validators` are the genesis's and the registered ones, `bonded` maps attester addresses
    to their bonded wei, `powers` holds each validator's power now (none: 0, a registered
    validator not in CometBFT's set yet). A validator without an attester has no stake to
    follow; a jailed one stays 0. Nothing changes if the changes would leave no validator
    with power."""
    attester_of = {a.validator: int(a.address, 16) for a in attesters}
    new = dict(powers)
    for address in validators:
        if address in jailed:
            new[address] = 0
        elif address in attester_of:
            new[address] = compute_power(bonded.get(attester_of[address], 0))
    if not any(new.values()):
        return {}
    return {a: p for a, p in new.items() if p != powers.get(a, 0)}


def list_slashed(jailings: Sequence[CometValidator], attesters: Sequence[Attester]) -> list[int]:
    """The attester addresses of the validators newly jailed, to slash on the ZK chain (a
    validator without an attester has no stake)."""
    attester_of = {a.validator: int(a.address, 16) for a in attesters}
    return [attester_of[v.address] for v in jailings if v.address in attester_of]
