"""Settlement parameters: the rollup's slot schedule, the dev L1's cadence, the agents' pace.

The schedule is fixed at deployment (constructor arguments of Rollup.sol); these are its
defaults. Slots and the grace period count L1 blocks: on Ethereum (12 s blocks) a slot of 16
is about three minutes and a grace of 8 about a minute and a half; on the dev node's anvil,
which mines a block every DEV_L1_BLOCK_TIME_S besides one per transaction, at most 32 and
16 seconds.
"""

from dataclasses import dataclass

SLOT_BLOCKS = 16  # L1 blocks per slot
GRACE_BLOCKS = 8  # L1 blocks after a settlement during which only the slot's agent may submit

# anvil mines one block per transaction; the dev node's also mines one this often, so L1
# time passes (and a grace period ends) even when nobody transacts.
DEV_L1_BLOCK_TIME_S = 2

# The dev node deploys the rollup and submits with dev account 9 of the mnemonic (the owner
# and the one agent of its registry).
DEV_AGENT_ACCOUNT = 9

AGENT_POLL_S = 0.5  # how often an agent looks at the node and at L1 when it has nothing to do
AGENT_RETRY_S = 2.0  # the pause after an L1 or node endpoint failed to answer
SETTLED_POLL_S = 0.5  # how often the node reads L1's settled height for operation statuses


@dataclass(frozen=True)
class SlotSchedule:
    slot_blocks: int = SLOT_BLOCKS
    grace_blocks: int = GRACE_BLOCKS


DEFAULT_SCHEDULE = SlotSchedule()


@dataclass(frozen=True)
class EscapeSchedule:
    """Forced inclusion and the escape hatch (docs/l1.md): a Withdraw queued on L1 must be in
    the next settled block once `force_delay_s` old; anyone may freeze the rollup once one has
    waited `freeze_delay_s` unincluded; queuing one pays `force_fee_wei` of ETH."""

    force_delay_s: int
    freeze_delay_s: int
    force_fee_wei: int


# The dev stack's: short, so that drills and tests see both happen (anvil moves its clock
# with evm_increaseTime).
DEV_ESCAPE = EscapeSchedule(force_delay_s=60, freeze_delay_s=300, force_fee_wei=10**15)
# For a network that holds value, beside the anchors: Arbitrum's delayed inbox forces a
# message after 24 h; Taiko includes forced transactions within about 10 minutes; Loopring
# enters withdrawal mode after 15 days, StarkEx allows a freeze after 7 days.
PRODUCTION_ESCAPE = EscapeSchedule(
    force_delay_s=24 * 3600, freeze_delay_s=7 * 24 * 3600, force_fee_wei=10**16
)

# A deposit is credited on the ZK chain once its L1 block is this many blocks deep and the
# node has seen it for DEPOSIT_SEEN_S, so that an L1 that loses its last blocks (a reorg, an
# anvil killed between two saves of its state: it saves every second) cannot take back a
# deposit the ZK chain already credited. On Ethereum, wait for finality instead.
DEPOSIT_CONFIRMATIONS = 2
DEPOSIT_SEEN_S = 2.0
DEPOSIT_POLL_S = 0.5  # how often the node reads the rollup's deposit queue
DEPOSITS_PER_READ = 64  # deposits read from L1 per look, at most

# The dev deployment: L1 ZKPoW handed to each dev account, to deposit.
DEV_L1_GRANT_WEI = 1_000 * 10**18
