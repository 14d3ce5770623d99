"""Network parameters, in one object that a test can override."""

from dataclasses import dataclass, field, fields

from chain.types import Address, ChainId, Wei

ZK_CHAIN_ID = ChainId(7701)
FAST_CHAIN_ID = ChainId(7702)

ZK_BLOCK_INTERVAL_S = 1.0
FAST_BLOCK_WINDOW_MS = 5.0  # the least time between fast blocks under load (chain/consensus/dev.py)
FAST_BLOCK_GAS_LIMIT = 30_000_000
SUGGESTED_TIP_WEI = 1_000_000_000  # the fast chain's suggested priority fee: 1 gwei, as anvil
# EIP-1559 with a floor: at millisecond block times a pure EIP-1559 base fee would decay to
# a few wei after any quiet spell, making spam free; the floor keeps a minimum price.
MIN_BASE_FEE_WEI = Wei(1_000_000_000)  # 1 gwei
BASE_FEE_MAX_CHANGE_DENOMINATOR = 8
ELASTICITY_MULTIPLIER = 2

DEV_MNEMONIC = "test test test test test test test test test test test junk"
DEV_ACCOUNT_COUNT = 10
DEV_ACCOUNT_BALANCE_WEI = Wei(10_000 * 10**18)

RPC_MAX_BODY_BYTES = 5 * 1024 * 1024
RPC_MAX_BATCH = 1000
RPC_MAX_LEDGER_PAGE = 1000
RPC_MAX_LOG_BLOCK_RANGE = 10_000
RPC_MAX_LOGS = 10_000

POOL_MAX_PER_SENDER = 256  # queued transactions per sender, executable or waiting for a gap
POOL_MAX_TOTAL = 20_000
MAX_TXS_PER_BLOCK = 2_000

# Every ZK operation pays at least this fee (wei of ZKPoW) into the pool that pays provers.
ZK_MIN_FEE_WEI = Wei(10**15)  # 0.001 ZKPoW
MAX_OPS_PER_ZK_BLOCK = 128
# L1 deposits one ZK block credits at most: each is an operation a prover proves (about a
# second) and L1 checks (about 60k gas), and a deposit costs its maker only L1 gas, so a
# flood of small ones waits its turn instead of making one huge block.
MAX_DEPOSITS_PER_ZK_BLOCK = 64
# The fast chain's messages (releases, reward-mint requests) a ZK block applies, oldest first;
# the rest wait for the next blocks. Each becomes a proven operation, so a flood of them (a
# 1-wei release costs its sender one fast-chain transaction) cannot make one block unbounded.
MAX_MESSAGES_PER_ZK_BLOCK = 64

# The dev account whose key the node's embedded prover uses in the market: its ZK account
# (the same key's L1 account is the embedded submission agent's, chain/l1/config.py).
DEV_PROVER_ACCOUNT = 9
# The dev sequencer's key, the mnemonic's account 10 (unfunded: it only signs blocks).
DEV_SEQUENCER_INDEX = 10

DEFAULT_FAST_PORT = 8645
DEFAULT_ZK_PORT = 8646

CLIENT_VERSION = "duet/0.1.0/python"


# -- the prover market (docs/market.md) ----------------------------------------------------
# Time is counted in ZK blocks (one per ZK_BLOCK_INTERVAL_S), amounts in wei of ZKPoW.

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


@dataclass(frozen=True)
class NetworkConfig:
    zk_chain_id: ChainId = ZK_CHAIN_ID
    fast_chain_id: ChainId = FAST_CHAIN_ID
    zk_block_interval_s: float = ZK_BLOCK_INTERVAL_S
    fast_block_window_ms: float = FAST_BLOCK_WINDOW_MS
    fast_block_gas_limit: int = FAST_BLOCK_GAS_LIMIT
    min_base_fee: Wei = MIN_BASE_FEE_WEI
    fee_recipient: bytes = b"\x00" * 20
    zk_min_fee: Wei = ZK_MIN_FEE_WEI
    max_ops_per_zk_block: int = MAX_OPS_PER_ZK_BLOCK
    max_deposits_per_zk_block: int = MAX_DEPOSITS_PER_ZK_BLOCK
    max_messages_per_zk_block: int = MAX_MESSAGES_PER_ZK_BLOCK
    dev_alloc: dict[Address, int] = field(default_factory=dict)
    market: MarketConfig = field(default_factory=MarketConfig)
    # Both genesis blocks' time: None is "now" (dev mode: one node makes its own chain); every
    # validator of a network makes them at the network's genesis time, so they agree.
    genesis_time_ms: int | None = None
    # The validators' bonded ZKPoW at genesis (validator address → wei), in the ZK genesis:
    # the decentralized mode's, each genesis validator's power in stake (docs/architecture.md,
    # "Stake").
    genesis_stakes: dict[int, int] = field(default_factory=dict)
