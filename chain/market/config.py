"""The prover market's parameters, in one object that a test can override (docs/market.md).

Time is counted in ZK blocks (one per `ZK_BLOCK_INTERVAL_S`, 1 s by default), amounts in wei
of ZKPoW. `ProverId` and `JobId` are defined here because every other module of the market
speaks them.
"""

from dataclasses import dataclass, fields
from typing import Literal, NewType

from chain.types import Wei

ProverId = NewType("ProverId", int)  # a prover's ZK-chain address, as an integer (chain/zk)
JobId = NewType("JobId", bytes)  # an operation's op_id, or compute_aggregate_job_id(height)
# An operation's proof, or the aggregation of a ZK block's proofs for the rollup contract.
JobKind = Literal["op", "aggregate"]

ACTIVE_BLOCKS = 30  # a heartbeat at height h keeps its prover active through h + 30
DEADLINE_BLOCKS = 10  # a job assigned at height h must be proven at h + 10 at the latest
# Ten base bounties: a prover must deliver ten proofs to make up for one job it drops, so
# heartbeating without the capacity to prove does not pay.
PENALTY_WEI = Wei(10**16)
BASE_BOUNTY_WEI = Wei(10**15)  # an operation's proof, equal to the minimum operation fee
GROWTH_BLOCKS = 10  # the bounty gains one base per 10 blocks the job waits unproven
TARGET_PROVERS = 4  # with fewer active provers the bounty is scaled by target / active
MAX_BOUNTY_WEI = Wei(10**17)
AGGREGATION_BOUNTY_WEI = Wei(2 * 10**15)  # the base of an aggregation job


@dataclass(frozen=True)
class MarketConfig:
    active_blocks: int = ACTIVE_BLOCKS
    deadline_blocks: int = DEADLINE_BLOCKS
    penalty_wei: Wei = PENALTY_WEI
    base_bounty_wei: Wei = BASE_BOUNTY_WEI
    growth_blocks: int = GROWTH_BLOCKS
    target_provers: int = TARGET_PROVERS
    max_bounty_wei: Wei = MAX_BOUNTY_WEI
    aggregation_bounty_wei: Wei = AGGREGATION_BOUNTY_WEI

    def __post_init__(self) -> None:
        # Every parameter is a count of blocks, provers or wei, and zero breaks a rule
        # (a zero growth_blocks divides by zero; a zero deadline leaves no time to prove).
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"MarketConfig.{f.name} must be an int, got {value!r}")
            if value <= 0:
                raise ValueError(f"MarketConfig.{f.name} must be positive, got {value}")
