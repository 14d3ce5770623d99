"""Mint epochs on a real anvil (docs/l1.md, "Epochs"): a mint's epoch word must be the
settled block's attested timestamp // EPOCH_SECONDS, so the per-epoch mint caps count time
that L1 bounds, whatever the sequencer or the fast chain claims.
"""

from __future__ import annotations

import pytest

from chain.l1.calldata import L1_CIRCUIT_NAMES
from chain.l1.errors import L1Revert
from chain.l1.op_epochs import EPOCH_SECONDS, compute_epoch_place, list_epoch_places
from chain.l1.rollup import RollupClient
from chain.testing.settlement_gas import settle
from chain.types import Height
from tests.circuits.scenarios import CTX
from tests.l1.harness import get_first_block, get_mixed_block

MINT_OP = 0  # the mixed block's first op: a Mint in the scenarios' epoch (CTX.epoch)


def test_the_rollup_holds_the_epoch_table(rollup: RollupClient) -> None:
    functions = rollup.contract.functions
    assert functions.epochSeconds().call() == EPOCH_SECONDS
    places = [functions.opEpochPlace(i).call() for i in range(len(L1_CIRCUIT_NAMES))]
    assert places == list_epoch_places()
    dated = {name for name in L1_CIRCUIT_NAMES if compute_epoch_place(name)}
    assert dated == {"mint", "reward_mint", "unbond", "claim_stake"}


def test_a_mint_settles_in_its_epoch(rollup: RollupClient) -> None:
    first, mixed = get_first_block(), get_mixed_block()
    settle(rollup, Height(1), first.pre_root, first.ops, timestamp=0)
    last_second = (CTX.epoch + 1) * EPOCH_SECONDS - 1
    settle(rollup, Height(2), mixed.pre_root, mixed.ops, timestamp=last_second)
    assert rollup.get_settled_root() == mixed.post_root


@pytest.mark.parametrize("epoch", [CTX.epoch + 1, CTX.epoch - 1])
def test_refuses_a_mint_in_another_epoch_than_its_block(rollup: RollupClient, epoch: int) -> None:
    """A sequencer that claims a later epoch to reset the caps, or an earlier one."""
    first, mixed = get_first_block(), get_mixed_block()
    settle(rollup, Height(1), first.pre_root, first.ops, timestamp=0)
    with pytest.raises(L1Revert) as refused:
        settle(rollup, Height(2), mixed.pre_root, mixed.ops, timestamp=epoch * EPOCH_SECONDS)
    assert (refused.value.error, refused.value.error_args) == (
        "WrongEpoch",
        (MINT_OP, CTX.epoch, epoch),
    )
    assert rollup.get_settled_root() == first.post_root
