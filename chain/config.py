"""Network parameters, in one object that a test can override."""

from dataclasses import dataclass, field

from chain.market.config import MarketConfig
from chain.types import Address, ChainId, Wei

ZK_CHAIN_ID = ChainId(7701)
FAST_CHAIN_ID = ChainId(7702)

ZK_BLOCK_INTERVAL_S = 1.0
FAST_BLOCK_WINDOW_MS = 5.0  # how long the sequencer waits to batch transactions into a block
FAST_BLOCK_GAS_LIMIT = 30_000_000
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

# The dev account whose key the node's embedded prover uses in the market: its ZK account
# (the same key's L1 account is the embedded submission agent's, chain/l1/config.py).
DEV_PROVER_ACCOUNT = 9
# The dev sequencer's key, the mnemonic's account 10 (unfunded: it only signs blocks).
DEV_SEQUENCER_INDEX = 10

DEFAULT_FAST_PORT = 8645
DEFAULT_ZK_PORT = 8646

CLIENT_VERSION = "duet/0.1.0/python"


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
    dev_alloc: dict[Address, int] = field(default_factory=dict)
    market: MarketConfig = field(default_factory=MarketConfig)
