"""The fast chain's system contracts, and what the ledger writes and reads through them.

Two contracts live at fixed addresses from genesis (contracts/fast/):
- the outbox (Outbox.sol), the fast chain's only way to message the ZK chain: its Release
  and RewardMint events, in the receipts of successful transactions, become the messages a
  fast block emits (`compute_outbox_messages`);
- the root oracle (RootOracle.sol), the ZK chain's recent roots: a fast block delivering a
  ZK block's roots writes them into its storage before the transactions
  (`compute_root_writes`), so it has no setter a transaction could call.

The addresses are small numbers: above the precompiles (0x01..0x11 in Prague, 0x100 for
the P-256 one some chains add) and far from any address CREATE or CREATE2 can derive, which
are the last 20 bytes of a keccak hash, so no deployment can land on them.
"""

from collections.abc import Sequence

from eth_abi import decode as abi_decode

from chain.artifacts import load_runtime_code
from chain.encoding import keccak
from chain.fast.executor import Log, StorageWrite, SystemWrites, TxOutcome
from chain.ledger.messages import (
    BalanceSet,
    CodeSet,
    CreditMessage,
    InvalidMessage,
    NonceSet,
    ReleaseMessage,
    RewardMessage,
    RootMessage,
    StorageSet,
    decode_message,
    encode_message,
)
from chain.types import Address

OUTBOX_ADDRESS = Address((0xD0E7_0001).to_bytes(20, "big"))  # 0x0000…d0e70001
ROOT_ORACLE_ADDRESS = Address((0xD0E7_0002).to_bytes(20, "big"))  # 0x0000…d0e70002

OUTBOX_CONTRACT = "Outbox"
# What each outbox message costs its sender on the fast chain, burned (Outbox.sol's
# MESSAGE_FEE): the ZK chain's minimum operation fee, since each message becomes an operation.
OUTBOX_MESSAGE_FEE_WEI = 10**15
ROOT_ORACLE_CONTRACT = "RootOracle"

# RootOracle.sol's storage layout, which the ledger writes slot by slot.
ROOT_WINDOW = 256  # ZK heights whose roots stay readable
LATEST_HEIGHT_SLOT = 0
STATE_ROOTS_SLOT = 1  # bytes32[ROOT_WINDOW], index height % ROOT_WINDOW
NFTS_ROOTS_SLOT = STATE_ROOTS_SLOT + ROOT_WINDOW  # 257, the same
STATE_ROOT_SEEN_SLOT = NFTS_ROOTS_SLOT + ROOT_WINDOW  # 513: mapping(bytes32 => height + 1)
NFTS_ROOT_SEEN_SLOT = STATE_ROOT_SEEN_SLOT + 1  # 514: the same

RELEASE_TOPIC = keccak(b"Release(uint64,address,address,uint256)")
REWARD_MINT_TOPIC = keccak(b"RewardMint(uint64,address,uint32,uint32,address,uint256)")
RELEASE_DATA = ("address", "uint256")  # to, amount (seq and sender are topics)
REWARD_MINT_DATA = ("uint32", "uint32", "address", "uint256")  # collection, round, to, metadata


# -- genesis -------------------------------------------------------------------------------


def compute_system_genesis() -> dict[Address, bytes]:
    """The system contracts' code, by address, for the fast chain's genesis; their storage
    starts empty."""
    return {
        OUTBOX_ADDRESS: load_runtime_code(OUTBOX_CONTRACT),
        ROOT_ORACLE_ADDRESS: load_runtime_code(ROOT_ORACLE_CONTRACT),
    }


# -- to the fast chain ---------------------------------------------------------------------


def compute_mapping_slot(key: bytes, slot: int) -> int:
    """Solidity's slot for `mapping[key]` of a mapping at `slot`, for a 32-byte key."""
    return int.from_bytes(keccak(key + slot.to_bytes(32, "big")), "big")


def compute_root_writes(message: RootMessage) -> list[StorageWrite]:
    """The root oracle's slots that deliver `message`'s roots (RootOracle.sol's layout)."""
    index = message.height % ROOT_WINDOW
    seen = message.height + 1  # 0 in a mapping means never
    return [
        StorageWrite(ROOT_ORACLE_ADDRESS, LATEST_HEIGHT_SLOT, message.height),
        StorageWrite(ROOT_ORACLE_ADDRESS, STATE_ROOTS_SLOT + index, _word(message.state_root)),
        StorageWrite(ROOT_ORACLE_ADDRESS, NFTS_ROOTS_SLOT + index, _word(message.nfts_root)),
        StorageWrite(
            ROOT_ORACLE_ADDRESS,
            compute_mapping_slot(message.state_root, STATE_ROOT_SEEN_SLOT),
            seen,
        ),
        StorageWrite(
            ROOT_ORACLE_ADDRESS, compute_mapping_slot(message.nfts_root, NFTS_ROOT_SEEN_SLOT), seen
        ),
    ]


TO_FAST = (CreditMessage, RootMessage, BalanceSet, NonceSet, StorageSet, CodeSet)


def list_delivered(messages: Sequence[bytes]) -> list[bytes]:
    """The messages a stored fast block applied before its transactions (those from the ZK
    chain, then a dev node's writes): the head of its `messages`, before those its
    transactions emitted (chain/fast/chain.py)."""
    delivered = []
    for raw in messages:
        if not isinstance(decode_message(raw), TO_FAST):
            break
        delivered.append(raw)
    return delivered


def compute_system_writes(delivered: Sequence[bytes]) -> SystemWrites:
    """What a fast block writes before its transactions: to deliver the ZK chain's messages,
    each credit and each block's roots, in the order the messages came; then a dev node's
    writes, in theirs."""
    credits: list[tuple[Address, int]] = []
    storage: list[StorageWrite] = []
    dev: list[BalanceSet | NonceSet | StorageSet | CodeSet] = []
    for raw in delivered:
        message = decode_message(raw)
        if isinstance(message, CreditMessage):
            credits.append((message.to, message.amount))
        elif isinstance(message, RootMessage):
            storage += compute_root_writes(message)
        elif isinstance(message, BalanceSet | NonceSet | StorageSet | CodeSet):
            dev.append(message)
        else:
            raise InvalidMessage(f"not a message to the fast chain: 0x{raw.hex()}")
    return SystemWrites(tuple(credits), tuple(storage), tuple(dev))


# -- from the fast chain -------------------------------------------------------------------


def compute_outbox_messages(outcomes: Sequence[TxOutcome]) -> list[bytes]:
    """The messages to the ZK chain that `outcomes` sent through the outbox, encoded, in log
    order. Only the outbox's own logs count (any contract can log an event of the same
    signature), and only those of successful transactions (a reverted one logs nothing)."""
    messages: list[bytes] = []
    for outcome in outcomes:
        if not outcome.success:
            continue
        for log in outcome.logs:
            if log.address == OUTBOX_ADDRESS and log.topics:
                message = decode_outbox_log(log)
                if message is not None:
                    messages.append(encode_message(message))
    return messages


def decode_outbox_log(log: Log) -> ReleaseMessage | RewardMessage | None:
    """The message an outbox log carries; None for a log that is not a message."""
    signature = log.topics[0]
    if signature == RELEASE_TOPIC:
        seq, sender = _topic_int(log, 1), _topic_address(log, 2)
        to, amount = abi_decode(RELEASE_DATA, log.data)
        return ReleaseMessage(seq, sender, _address(to), amount)
    if signature == REWARD_MINT_TOPIC:
        seq, sender = _topic_int(log, 1), _topic_address(log, 2)
        collection, round_, to, metadata = abi_decode(REWARD_MINT_DATA, log.data)
        return RewardMessage(seq, sender, collection, round_, _address(to), metadata)
    return None


def _word(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _topic_int(log: Log, index: int) -> int:
    return int.from_bytes(log.topics[index], "big")


def _topic_address(log: Log, index: int) -> Address:
    return Address(log.topics[index][12:])


def _address(checksummed: str) -> Address:
    return Address(bytes.fromhex(checksummed.removeprefix("0x")))
