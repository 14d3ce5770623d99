"""The fast chain's system contracts seen from Python: the root oracle's slots the ledger
writes, the messages read back from the outbox's logs, and a fast block's message list."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak

from chain import artifacts
from chain.config import NetworkConfig
from chain.fast.chain import apply_block, make_block_env
from chain.fast.executor import Log, StorageWrite, SystemWrites, TxOutcome
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.system import (
    OUTBOX_ADDRESS,
    OUTBOX_MESSAGE_FEE_WEI,
    ROOT_ORACLE_ADDRESS,
    compute_outbox_messages,
    compute_root_writes,
    compute_system_genesis,
    compute_system_writes,
    list_delivered,
)
from chain.ledger.blocks import EMPTY_BLOOM, LedgerBlock, seal
from chain.ledger.log import LedgerHeads, process_append
from chain.ledger.messages import (
    BalanceSet,
    CreditMessage,
    InvalidMessage,
    ReleaseMessage,
    RewardMessage,
    RootMessage,
    StorageSet,
    encode_message,
)
from chain.types import Address, Hash32, Height, Root, Seq
from tests.conformance.harness import CHAIN_ID, address_of, make_key, sign

ALICE, BOB = make_key(1), make_key(2)
CAROL = Address(bytes.fromhex("ca" * 20))
OTHER = Address(bytes.fromhex("0e" * 20))  # a contract that is not the outbox
STATE_ROOT, NFTS_ROOT = keccak(b"state"), keccak(b"nfts")
RELEASE_TOPIC = keccak(text="Release(uint64,address,address,uint256)")
REWARD_TOPIC = keccak(text="RewardMint(uint64,address,uint32,uint32,address,uint256)")


def word(value: int | bytes) -> bytes:
    return value.rjust(32, b"\x00") if isinstance(value, bytes) else value.to_bytes(32, "big")


def release_log(seq: int, sender: Address, to: Address, amount: int, at: Address) -> Log:
    data = abi_encode(["address", "uint256"], [to, amount])
    return Log(at, (RELEASE_TOPIC, word(seq), word(sender)), data)


def reward_log(seq: int, sender: Address, collection: int, round_: int, to: Address) -> Log:
    data = abi_encode(["uint32", "uint32", "address", "uint256"], [collection, round_, to, 99])
    return Log(OUTBOX_ADDRESS, (REWARD_TOPIC, word(seq), word(sender)), data)


def outcome(*logs: Log, success: bool = True) -> TxOutcome:
    return TxOutcome(sign(ALICE, 0, to=CAROL), success, 21_000, 21_000, logs, None)


# -- addresses and genesis ------------------------------------------------------------------


def test_system_addresses_are_small_and_above_the_precompiles() -> None:
    for address in (OUTBOX_ADDRESS, ROOT_ORACLE_ADDRESS):
        assert 0x100 < int.from_bytes(address, "big") < 2**32
    assert OUTBOX_ADDRESS != ROOT_ORACLE_ADDRESS


def test_system_genesis_holds_both_contracts_runtime_code() -> None:
    genesis = compute_system_genesis()
    assert set(genesis) == {OUTBOX_ADDRESS, ROOT_ORACLE_ADDRESS}
    assert all(code for code in genesis.values())


def test_rejects_missing_artifacts_naming_the_setup_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "ARTIFACTS_DIR", tmp_path)
    artifacts.load_artifact.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match=r"Outbox\.json is missing.*\./demo\.sh setup"):
            compute_system_genesis()
    finally:
        artifacts.load_artifact.cache_clear()


# -- the root oracle's slots ----------------------------------------------------------------


@pytest.mark.parametrize("height, index", [(0, 0), (7, 7), (255, 255), (256, 0), (300, 44)])
def test_root_writes_follow_the_oracle_layout(height: int, index: int) -> None:
    writes = compute_root_writes(RootMessage(height, STATE_ROOT, NFTS_ROOT))
    state_seen = keccak(STATE_ROOT + (513).to_bytes(32, "big"))
    nfts_seen = keccak(NFTS_ROOT + (514).to_bytes(32, "big"))
    assert writes == [
        StorageWrite(ROOT_ORACLE_ADDRESS, 0, height),
        StorageWrite(ROOT_ORACLE_ADDRESS, 1 + index, int.from_bytes(STATE_ROOT, "big")),
        StorageWrite(ROOT_ORACLE_ADDRESS, 257 + index, int.from_bytes(NFTS_ROOT, "big")),
        StorageWrite(ROOT_ORACLE_ADDRESS, int.from_bytes(state_seen, "big"), height + 1),
        StorageWrite(ROOT_ORACLE_ADDRESS, int.from_bytes(nfts_seen, "big"), height + 1),
    ]


def test_system_writes_keep_the_messages_order() -> None:
    roots = RootMessage(3, STATE_ROOT, NFTS_ROOT)
    delivered = [
        encode_message(CreditMessage(CAROL, 5)),
        encode_message(roots),
        encode_message(CreditMessage(OTHER, 6)),
    ]
    assert compute_system_writes(delivered) == SystemWrites(
        credits=((CAROL, 5), (OTHER, 6)), storage=tuple(compute_root_writes(roots))
    )


def test_dev_writes_come_after_the_delivered_messages_in_their_order() -> None:
    credit = encode_message(CreditMessage(CAROL, 5))
    writes = [BalanceSet(CAROL, 1), StorageSet(OTHER, 2, 3), BalanceSet(CAROL, 4)]
    head = [credit, *(encode_message(w) for w in writes)]
    assert compute_system_writes(head) == SystemWrites(credits=((CAROL, 5),), dev=tuple(writes))
    # A trace runs them again: they are part of the head a stored block applied.
    emitted = encode_message(ReleaseMessage(0, CAROL, CAROL, 1))
    assert list_delivered([*head, emitted]) == head


def test_rejects_delivering_a_message_to_the_zk_chain() -> None:
    release = encode_message(ReleaseMessage(0, CAROL, CAROL, 1))
    with pytest.raises(InvalidMessage, match="not a message to the fast chain"):
        compute_system_writes([release])


def test_rejects_delivering_a_malformed_message() -> None:
    with pytest.raises(InvalidMessage, match="unknown message kind: 0x7f"):
        compute_system_writes([b"\x7f" + b"\x00" * 52])


# -- messages from the outbox's logs --------------------------------------------------------


def test_outbox_logs_become_messages_in_log_order() -> None:
    alice = address_of(ALICE)
    outcomes = [
        outcome(
            release_log(0, alice, CAROL, 10, OUTBOX_ADDRESS), reward_log(1, OTHER, 2, 3, CAROL)
        ),
        outcome(release_log(2, alice, OTHER, 11, OUTBOX_ADDRESS)),
    ]
    assert compute_outbox_messages(outcomes) == [
        encode_message(ReleaseMessage(0, alice, CAROL, 10)),
        encode_message(RewardMessage(1, OTHER, 2, 3, CAROL, 99)),
        encode_message(ReleaseMessage(2, alice, OTHER, 11)),
    ]


def test_a_log_of_the_same_signature_from_another_contract_is_ignored() -> None:
    forged = release_log(0, address_of(ALICE), CAROL, 10**30, OTHER)
    assert compute_outbox_messages([outcome(forged)]) == []


def test_logs_of_a_failed_transaction_are_ignored() -> None:
    log = release_log(0, address_of(ALICE), CAROL, 10, OUTBOX_ADDRESS)
    assert compute_outbox_messages([outcome(log, success=False)]) == []


def test_outbox_logs_that_are_not_messages_are_ignored() -> None:
    logs = (Log(OUTBOX_ADDRESS, (), b""), Log(OUTBOX_ADDRESS, (keccak(b"other"),), b""))
    assert compute_outbox_messages([outcome(*logs)]) == []


# -- a fast block's messages ----------------------------------------------------------------


def test_fast_block_lists_delivered_messages_then_emitted_ones() -> None:
    store: dict[bytes, bytes] = {}
    executor = PyEvmExecutor(store.get)
    config = NetworkConfig(fast_chain_id=CHAIN_ID)
    alice = address_of(ALICE)
    root, nodes = executor.make_genesis({alice: 10**21}, compute_system_genesis())
    store.update(nodes)
    heads = process_append(LedgerHeads(log=None, chains={}), genesis_block(config, root))
    delivered = (
        encode_message(CreditMessage(CAROL, 5)),
        encode_message(RootMessage(1, STATE_ROOT, NFTS_ROOT)),
    )
    release = calldata_release(CAROL)
    paid = OUTBOX_MESSAGE_FEE_WEI + 7  # 7 released, the fee burned
    tx = sign(ALICE, 0, to=OUTBOX_ADDRESS, value=paid, data=release, gas=100_000)
    env = make_block_env(config, heads, (), 1_000)
    fast = apply_block(executor, config, heads, env, 1_000, [tx], delivered)
    store.update(fast.result.state_nodes)
    emitted = encode_message(ReleaseMessage(0, alice, CAROL, 7))
    assert fast.emitted == [emitted]
    assert fast.block.messages == (*delivered, emitted)
    assert executor.get_account(fast.block.state_root, CAROL).balance == 5
    assert executor.get_storage(fast.block.state_root, ROOT_ORACLE_ADDRESS, 0) == 1
    # What a trace runs again: the delivered head of the block's messages, not the emitted.
    assert list_delivered(fast.block.messages) == list(delivered)
    assert list_delivered([emitted, *delivered]) == []


def genesis_block(config: NetworkConfig, root: Root) -> LedgerBlock:
    zero = Hash32(b"\x00" * 32)
    empty = Root(keccak(b"\x80"))
    return seal(
        LedgerBlock(
            seq=Seq(0),
            prev_hash=zero,
            chain_id=config.fast_chain_id,
            height=Height(0),
            parent_hash=zero,
            state_root=root,
            transactions_root=empty,
            receipts_root=empty,
            timestamp_ms=0,
            gas_limit=config.fast_block_gas_limit,
            base_fee=config.min_base_fee,
            logs_bloom=EMPTY_BLOOM,
        )
    )


def calldata_release(to: Address) -> bytes:
    return keccak(text="release(address)")[:4] + abi_encode(["address"], [to])
