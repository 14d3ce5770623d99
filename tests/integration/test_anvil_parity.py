"""The same web3.py sessions against Duet's fast chain and anvil, with the same outcomes.

- Polling filters: block, pending-transaction and event filters report what happened once
  each, the event filter's whole range on request, and an uninstalled filter is gone.
- Reads by block and index: transactions, raw transactions, counts and a block's receipts
  agree with the receipts the sends got; past a block's end there is nothing.
- Dev accounts: listed by eth_accounts in anvil's order, they send, sign messages (the same
  signature as the key gives) and sign transactions without sending them.
- Mining on request: evm_mine, anvil_mine and hardhat_mine add that many blocks, chained.
- Time: evm_increaseTime moves the clock ahead, evm_setNextBlockTimestamp, evm_mine with a
  timestamp and anvil_mine with an interval give blocks the times asked for, never earlier
  than the last block's.
- Access lists: eth_createAccessList lists the slots a call touches, and a transaction sent
  with that list uses exactly the gas it said.
- Call traces: debug_traceTransaction and debug_traceCall with callTracer give the same
  frames, gas figures included.
- Account writes: anvil_setBalance, setNonce, setCode and setStorageAt set what they say at
  once, and a transaction sees it.
- EIP-7702: a set-code transaction delegates an account to a contract's code, which then
  runs on the account's storage.
- Snapshots: evm_revert takes back everything mined since evm_snapshot, and uses the
  snapshot up.
- Impersonation: anvil_impersonateAccount lets eth_sendTransaction send for an account
  without its key, until it is stopped.
- State overrides: eth_call and eth_estimateGas run on the state their third parameter
  describes, for that call alone."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound, Web3RPCError
from web3.types import RPCEndpoint

from chain.fast.genesis import dev_keys
from tests.conftest import NodeFactory
from tests.integration.support import (
    call_data,
    compiled,
    deploy,
    open_fast_endpoint,
    transact,
)

SENDER = 6  # a dev account no other module of this node's tests uses
TRACER = 2  # and another one, for the call traces
GAS = 300_000


@pytest.fixture(scope="module", params=["duet", "anvil"])
def w3(request: pytest.FixtureRequest, module_node_factory: NodeFactory) -> Iterator[Web3]:
    with open_fast_endpoint(request.param, module_node_factory) as (http, _):
        yield Web3(Web3.HTTPProvider(http))


def test_filters_report_each_block_transaction_and_event_once(w3: Web3) -> None:
    account = Account.from_key(dev_keys()[SENDER])
    probe = deploy(w3, account, "Probe", 1)
    start = w3.eth.block_number
    blocks = w3.eth.filter("latest")
    pending = w3.eth.filter("pending")
    events = probe.events.ValueSet.create_filter(from_block=start)

    receipts = [
        transact(w3, account, {"to": probe.address, "data": call_data(probe, "set", v)})
        for v in (5, 6)
    ]
    hashes = [r["transactionHash"] for r in receipts]

    new_blocks = blocks.get_new_entries()
    assert {r["blockHash"] for r in receipts} <= set(new_blocks)
    assert not set(new_blocks) & set(blocks.get_new_entries())  # once each
    assert set(hashes) <= set(pending.get_new_entries())
    assert [e["args"]["v"] for e in events.get_new_entries()] == [5, 6]
    assert events.get_new_entries() == []
    assert [e["args"]["v"] for e in events.get_all_entries()] == [5, 6]

    assert w3.eth.uninstall_filter(blocks.filter_id)
    assert not w3.eth.uninstall_filter(blocks.filter_id)
    with pytest.raises(Web3RPCError, match="filter not found"):
        w3.eth.get_filter_changes(blocks.filter_id)


def test_reads_by_block_and_index_agree_with_the_receipts(
    w3: Web3, request: pytest.FixtureRequest
) -> None:
    account = Account.from_key(dev_keys()[SENDER + 1])
    probe = deploy(w3, account, "Probe", 1)
    receipts = [
        transact(w3, account, {"to": probe.address, "data": call_data(probe, "set", v)})
        for v in (7, 8)
    ]

    def call(method: str, *params: Any) -> Any:
        response = w3.provider.make_request(RPCEndpoint(method), list(params))
        assert "error" not in response, response
        return response["result"]

    for receipt in receipts:
        tx_hash = receipt["transactionHash"].to_0x_hex()
        number, index = hex(receipt["blockNumber"]), hex(receipt["transactionIndex"])
        block_hash = receipt["blockHash"].to_0x_hex()
        for by_number, by_hash in (
            ("eth_getTransactionByBlockNumberAndIndex", "eth_getTransactionByBlockHashAndIndex"),
        ):
            assert call(by_number, number, index)["hash"] == tx_hash
            assert call(by_hash, block_hash, index)["hash"] == tx_hash
        raw = call("eth_getRawTransactionByHash", tx_hash)
        assert "0x" + keccak(HexBytes(raw)).hex() == tx_hash
        assert call("eth_getRawTransactionByBlockNumberAndIndex", number, index) == raw
        assert call("eth_getRawTransactionByBlockHashAndIndex", block_hash, index) == raw
        count = len(w3.eth.get_block(receipt["blockNumber"])["transactions"])
        assert int(call("eth_getBlockTransactionCountByHash", block_hash), 16) == count
        for ref in (number, block_hash):
            listed = call("eth_getBlockReceipts", ref)
            assert len(listed) == count
            mine = listed[receipt["transactionIndex"]]
            assert mine["transactionHash"] == tx_hash
            assert int(mine["status"], 16) == receipt["status"] == 1
            assert int(mine["gasUsed"], 16) == receipt["gasUsed"]
            assert len(mine["logs"]) == len(receipt["logs"]) == 1
        past_end = hex(count)
        assert call("eth_getTransactionByBlockNumberAndIndex", number, past_end) is None
        assert call("eth_getRawTransactionByBlockHashAndIndex", block_hash, past_end) is None

    unknown = "0x" + "ab" * 32
    assert call("eth_getBlockReceipts", unknown) is None
    assert call("eth_getBlockTransactionCountByHash", unknown) is None
    assert call("eth_getRawTransactionByHash", unknown) is None
    assert int(call("eth_blobBaseFee"), 16) >= 1
    if request.node.callspec.params["w3"] == "duet":  # anvil does not serve it
        assert call("net_peerCount") == "0x0"


def test_dev_accounts_sign_and_send_as_on_anvil(w3: Web3) -> None:
    keys = dev_keys()
    assert w3.eth.accounts[: len(keys)] == [Account.from_key(k).address for k in keys]
    me = w3.eth.accounts[SENDER + 2]
    receiver = Account.create().address

    tx_hash = w3.eth.send_transaction({"from": me, "to": receiver, "value": 12_345})
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
    assert receipt["status"] == 1 and receipt["from"] == me
    assert w3.eth.get_balance(receiver) == 12_345

    message = b"duet"
    expected = Account.sign_message(encode_defunct(primitive=message), keys[SENDER + 2])
    assert bytes(w3.eth.sign(me, data=message)) == bytes(expected.signature)

    fees = {"maxFeePerGas": hex(10 * 10**9), "maxPriorityFeePerGas": hex(10**9)}
    unsent = {"from": me, "to": receiver, "value": "0x1", "gas": "0x5208", **fees}
    response = w3.provider.make_request(RPCEndpoint("eth_signTransaction"), [unsent])
    raw = response["result"]
    assert isinstance(raw, str), raw
    assert Account.recover_transaction(raw) == me
    assert w3.eth.get_balance(receiver) == 12_345  # signed, not sent


def test_time_moves_ahead_and_blocks_take_the_time_asked_for(w3: Web3) -> None:
    def call(method: str, *params: Any) -> Any:
        answer = w3.provider.make_request(RPCEndpoint(method), list(params))
        assert "result" in answer, answer
        return answer["result"]

    def latest() -> int:
        return int(w3.eth.get_block("latest")["timestamp"])

    call("evm_mine")
    before, offset = latest(), call("evm_increaseTime", 0)  # another test may have moved it
    assert call("evm_increaseTime", 3600) == offset + 3600  # the total, a number
    assert call("anvil_increaseTime", "0x10") == offset + 3616
    call("evm_mine")
    assert latest() >= before + 3616
    target = latest() + 1000
    assert call("evm_setNextBlockTimestamp", target) is None
    call("evm_mine")
    assert latest() == target
    call("evm_mine", target + 100)
    assert latest() == target + 100
    # Duet makes blocks of its own too (one after each ZK block): the three are found in
    # order among the blocks since, wherever another falls before or after them.
    start = w3.eth.block_number
    call("anvil_mine", "0x3", 60)
    stamps = [w3.eth.get_block(n)["timestamp"] for n in range(start + 1, w3.eth.block_number + 1)]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert any(gaps[i : i + 2] == [60, 60] for i in range(len(gaps) - 1)), stamps
    # Never before the last block: refused, as anvil refuses it.
    answer = w3.provider.make_request(RPCEndpoint("evm_setNextBlockTimestamp"), [target])
    assert answer["error"]["code"] == -32602
    assert "lower than previous block's timestamp" in answer["error"]["message"]


def test_mining_on_request_makes_empty_blocks(w3: Web3) -> None:
    start = w3.eth.block_number
    assert w3.provider.make_request(RPCEndpoint("evm_mine"), [])["result"] == "0x0"
    assert w3.eth.block_number == start + 1
    assert w3.eth.get_block(start + 1)["transactions"] == []  # nothing was pending
    assert w3.provider.make_request(RPCEndpoint("anvil_mine"), ["0x3"])["result"] is None
    assert w3.eth.block_number == start + 4
    assert w3.provider.make_request(RPCEndpoint("hardhat_mine"), [])["result"] is None
    assert w3.eth.block_number == start + 5
    parents = [w3.eth.get_block(n)["parentHash"] for n in range(start + 1, start + 6)]
    assert parents == [w3.eth.get_block(n)["hash"] for n in range(start, start + 5)]


def test_access_lists_name_what_a_call_touches(w3: Web3) -> None:
    account = Account.from_key(dev_keys()[SENDER + 3])
    probe = deploy(w3, account, "Probe", 1)
    other = deploy(w3, account, "Probe", 2)

    def create(to: str, data: str) -> tuple[set[tuple[str, tuple[int, ...]]], int, Any]:
        call = {"from": account.address, "to": to, "data": data}
        answer = w3.provider.make_request(RPCEndpoint("eth_createAccessList"), [call, "latest"])
        assert "result" in answer, answer
        result = answer["result"]
        listed = {
            (e["address"].lower(), tuple(sorted(int(k, 16) for k in e["storageKeys"])))
            for e in result["accessList"]
        }
        return listed, int(result["gasUsed"], 16), result["accessList"]

    # The recipient's own slot: listed with the recipient, though its account is warm anyway.
    listed, gas_used, access_list = create(probe.address, call_data(probe, "set", 9))
    assert listed == {(probe.address.lower(), (0,))}
    # Sent with that list, the transaction uses exactly the gas eth_createAccessList said.
    tx = {"to": probe.address, "data": call_data(probe, "set", 9), "accessList": access_list}
    assert transact(w3, account, tx)["gasUsed"] == gas_used
    # A call into itself (an external self-call, then `set`) lists the contract and its slot.
    listed, _, _ = create(other.address, call_data(other, "selfCall", 4))
    assert listed == {(other.address.lower(), (0,))}


def test_call_traces_show_each_message_as_anvil_does(w3: Web3) -> None:
    """debug_traceTransaction and debug_traceCall with callTracer: the same frames, gas
    figures included, on both (a frame's gas is what it was given, its gasUsed what it
    spent; the top frame's gas is what the intrinsic cost left, its gasUsed the receipt's)."""
    account = Account.from_key(dev_keys()[TRACER])
    probe = deploy(w3, account, "Probe", 1)
    me, it = account.address.lower(), probe.address.lower()

    def trace(receipt: Any, **config: Any) -> dict[str, Any]:
        tx_hash = receipt["transactionHash"].to_0x_hex()
        options: dict[str, Any] = {"tracer": "callTracer"}
        if config:
            options["tracerConfig"] = config
        answer = w3.provider.make_request(RPCEndpoint("debug_traceTransaction"), [tx_hash, options])
        assert "result" in answer, answer
        return dict(answer["result"])

    def send(fn: str, *args: Any) -> tuple[Any, dict[str, Any]]:
        data = call_data(probe, fn, *args)
        receipt = transact(w3, account, {"to": probe.address, "data": data, "gas": GAS})
        return receipt, {"to": it, "input": data}

    receipt, sent = send("setThenFail", 5)
    frame = trace(receipt)
    intrinsic = 21_000 + sum(4 if b == 0 else 16 for b in HexBytes(sent["input"]))
    assert frame == {
        "type": "CALL",
        "from": me,
        **sent,
        "value": "0x0",
        "gas": hex(GAS - intrinsic),
        "gasUsed": hex(receipt["gasUsed"]),
        "output": "0x" + (keccak(text="Custom(uint256)")[:4] + (5).to_bytes(32, "big")).hex(),
        "error": "execution reverted",
        "calls": [
            {
                "type": "CALL",
                "from": it,
                "to": it,
                "input": call_data(probe, "set", 5),
                "value": "0x0",
                "gas": frame["calls"][0]["gas"],
                "gasUsed": frame["calls"][0]["gasUsed"],
            }
        ],
    }
    assert 0 < int(frame["calls"][0]["gasUsed"], 16) < int(frame["calls"][0]["gas"], 16)
    assert "calls" not in trace(receipt, onlyTopCall=True)

    receipt, _ = send("swallowFailure")
    (inner,) = trace(receipt)["calls"]
    assert (inner["gas"], inner["gasUsed"], inner["error"]) == ("0x7530", "0x7530", "out of gas")

    receipt, _ = send("failWithReason")
    assert trace(receipt)["revertReason"] == "probe: nope"

    # debug_traceCall: the same tree for a call, and nothing changes.
    call = {"from": account.address, "to": probe.address, "data": call_data(probe, "selfCall", 4)}
    answer = w3.provider.make_request(
        RPCEndpoint("debug_traceCall"), [call, "latest", {"tracer": "callTracer"}]
    )
    (inner,) = answer["result"]["calls"]
    assert (inner["from"], inner["to"], inner["input"]) == (it, it, call_data(probe, "set", 4))
    assert probe.functions.value().call() == 3  # swallowFailure's, not the traced call's 4


def test_simulated_calls_see_each_other_and_change_nothing_as_on_anvil(w3: Web3) -> None:
    """eth_simulateV1: a call sees what the calls before it did, in its block and in the
    blocks before; its return data, gas, status and logs are anvil's; nothing is kept."""
    account = Account.from_key(dev_keys()[TRACER])
    probe = deploy(w3, account, "Probe", 1)
    head = w3.eth.block_number

    def call(fn: str, *args: Any) -> dict[str, Any]:
        return {"from": account.address, "to": probe.address, "data": call_data(probe, fn, *args)}

    blocks = [
        {"calls": [call("set", 7), call("value"), call("failWithReason")]},
        {"calls": [call("value")]},
    ]
    answer = w3.provider.make_request(
        RPCEndpoint("eth_simulateV1"), [{"blockStateCalls": blocks}, "latest"]
    )
    assert "result" in answer, answer
    first, second = answer["result"]
    number = int(first["number"], 16)  # Duet's head + 1, as execution-apis says; anvil's head
    assert number in (head, head + 1) and int(second["number"], 16) == number + 1
    seven = "0x" + (7).to_bytes(32, "big").hex()
    set_call, read, failed = first["calls"]
    assert (set_call["status"], set_call["returnData"]) == ("0x1", "0x")
    (log,) = set_call["logs"]
    assert log["address"].lower() == probe.address.lower()
    assert [int(t, 16) for t in log["topics"][1:]] == [int(account.address, 16), 7]
    assert (read["status"], read["returnData"]) == ("0x1", seven)  # saw the set before it
    assert failed["status"] == "0x0" and "error" in failed
    assert failed["returnData"].startswith("0x08c379a0")  # Error("probe: nope")
    assert second["calls"][0]["returnData"] == seven  # and the next block too
    gas = [int(c["gasUsed"], 16) for c in first["calls"]]
    assert int(first["gasUsed"], 16) == sum(gas) and all(g > 21_000 for g in gas)
    assert probe.functions.value().call() == 1  # nothing was kept
    assert w3.eth.block_number == head


def test_account_writes_take_effect_at_once_as_on_anvil(w3: Web3) -> None:
    """anvil_setBalance, setNonce, setCode and setStorageAt (and their hardhat_ names): what
    each sets is there when the call returns; a key nobody funded then sends at the nonce it
    was given to code placed at an empty address, which reads the slot it was given."""
    sender = Account.from_key(keccak(text="parity: a key only the writes fund"))
    target = Web3.to_checksum_address("0x" + "c0de" * 10)
    artifact = compiled("Probe")

    def rpc(method: str, *params: Any) -> Any:
        answer = w3.provider.make_request(RPCEndpoint(method), list(params))
        assert "result" in answer, answer
        return answer["result"]

    assert rpc("anvil_setBalance", sender.address, hex(10**18)) is None
    assert w3.eth.get_balance(sender.address) == 10**18
    rpc("hardhat_setBalance", sender.address, hex(3 * 10**18))
    assert w3.eth.get_balance(sender.address) == 3 * 10**18  # set, not added to
    assert rpc("anvil_setNonce", sender.address, "0x7") is None
    assert w3.eth.get_transaction_count(sender.address) == 7
    assert rpc("anvil_setCode", target, artifact["deployedBytecode"]) is None
    assert w3.eth.get_code(target) == HexBytes(artifact["deployedBytecode"])
    assert rpc("anvil_setStorageAt", target, "0x0", "0x" + (42).to_bytes(32).hex()) is True
    probe = w3.eth.contract(address=target, abi=artifact["abi"])
    assert probe.functions.value().call() == 42

    receipt = transact(w3, sender, {"to": target, "data": call_data(probe, "set", 9), "gas": GAS})
    assert receipt["status"] == 1
    assert w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == 7
    assert probe.functions.value().call() == 9
    rpc("hardhat_setStorageAt", target, "0x0", "0x" + (5).to_bytes(32).hex())
    assert probe.functions.value().call() == 5
    rpc("hardhat_setCode", target, "0x")
    assert w3.eth.get_code(target) == b""
    # A value that is not a 32-byte word is refused on both, and sets nothing.
    answer = w3.provider.make_request(
        RPCEndpoint("anvil_setStorageAt"), [target, "0x0", "0x" + (7).to_bytes(31).hex()]
    )
    assert "error" in answer
    assert w3.eth.get_storage_at(target, 0) == (5).to_bytes(32)


def test_set_code_transactions_delegate_as_on_anvil(w3: Web3) -> None:
    """EIP-7702: a type-4 transaction carrying an account's authorization gives that account
    the delegate's code, which then runs on the account's own storage; the transaction reads
    back with its authorization list, in anvil's fields."""
    sender = Account.from_key(keccak(text="parity: 7702 sender"))
    authority = Account.from_key(keccak(text="parity: 7702 authority"))
    w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [sender.address, hex(10**18)])
    probe = deploy(w3, sender, "Probe", 1)
    auth = authority.sign_authorization(
        {"chainId": w3.eth.chain_id, "address": probe.address, "nonce": 0}
    )
    tx = {"to": authority.address, "data": call_data(probe, "set", 9), "authorizationList": [auth]}
    receipt = transact(w3, sender, {**tx, "gas": GAS})
    assert (receipt["status"], receipt["type"]) == (1, 4)
    designator = b"\xef\x01\x00" + bytes.fromhex(probe.address[2:])
    assert w3.eth.get_code(authority.address) == designator
    assert w3.eth.get_transaction_count(authority.address) == 1
    as_probe = w3.eth.contract(address=authority.address, abi=probe.abi)
    assert as_probe.functions.value().call() == 9  # the account's storage, not the probe's
    assert probe.functions.value().call() == 1

    sent = w3.provider.make_request(
        RPCEndpoint("eth_getTransactionByHash"), [receipt["transactionHash"].to_0x_hex()]
    )["result"]
    assert sent["type"] == "0x4"
    (listed,) = sent["authorizationList"]
    assert set(listed) == {"chainId", "address", "nonce", "yParity", "r", "s"}
    assert (int(listed["chainId"], 16), listed["address"].lower(), int(listed["nonce"], 16)) == (
        w3.eth.chain_id,
        probe.address.lower(),
        0,
    )
    assert (int(listed["r"], 16), int(listed["s"], 16)) == (auth.r, auth.s)


def test_snapshots_take_everything_back_as_on_anvil(w3: Web3) -> None:
    """evm_snapshot and evm_revert: after a revert, what was mined since the snapshot is
    gone (the transaction, its state, the sender's nonce and fees), the chain goes on from
    the snapshot's block, and the snapshot is used up. (That those taken after it are gone
    too is tested on Duet alone, in test_dev_snapshots.py: anvil 1.7.1, asked to revert to
    one whose blocks are gone, answers -32001 and loses its head.)"""
    sender = Account.from_key(keccak(text="parity: snapshots"))

    def rpc(method: str, *params: Any) -> Any:
        answer = w3.provider.make_request(RPCEndpoint(method), list(params))
        assert "result" in answer, answer
        return answer["result"]

    rpc("anvil_setBalance", sender.address, hex(10**18))
    probe = deploy(w3, sender, "Probe", 1)
    snapshot = rpc("evm_snapshot")
    assert isinstance(snapshot, str) and snapshot.startswith("0x")
    head = w3.eth.get_block("latest")
    balance, nonce = (
        w3.eth.get_balance(sender.address),
        w3.eth.get_transaction_count(sender.address),
    )

    receipt = transact(w3, sender, {"to": probe.address, "data": call_data(probe, "set", 7)})
    rpc("anvil_mine", "0x3")
    assert probe.functions.value().call() == 7
    assert rpc("anvil_snapshot") != snapshot  # anvil's own name for it; a new id

    assert rpc("anvil_revert", snapshot) is True
    assert w3.eth.get_block(head["number"])["hash"] == head["hash"]
    assert probe.functions.value().call() == 1
    assert (w3.eth.get_balance(sender.address), w3.eth.get_transaction_count(sender.address)) == (
        balance,
        nonce,
    )
    with pytest.raises(TransactionNotFound):
        w3.eth.get_transaction_receipt(receipt["transactionHash"])
    assert rpc("evm_revert", snapshot) is False  # used up: nothing moves
    assert probe.functions.value().call() == 1
    again = transact(w3, sender, {"to": probe.address, "data": call_data(probe, "set", 8)})
    assert again["status"] == 1 and again["blockNumber"] > head["number"]
    assert probe.functions.value().call() == 8


def test_impersonated_accounts_send_without_a_key_as_on_anvil(w3: Web3) -> None:
    """anvil_impersonateAccount: eth_sendTransaction sends for an account whose key the node
    does not hold, and the transaction reads back from it; once stopped, it is refused."""
    stranger = Web3.to_checksum_address("0x" + "1e" * 20)  # no key anyone holds
    probe = deploy(w3, Account.from_key(dev_keys()[TRACER]), "Probe", 1)

    def request(method: str, *params: Any) -> dict[str, Any]:
        return dict(w3.provider.make_request(RPCEndpoint(method), list(params)))

    call = {"from": stranger, "to": probe.address, "data": call_data(probe, "set", 4)}
    assert "error" in request("eth_sendTransaction", call)  # not impersonated yet
    assert request("anvil_setBalance", stranger, hex(10**18))["result"] is None
    assert request("anvil_impersonateAccount", stranger)["result"] is None
    sent = request("eth_sendTransaction", call)["result"]
    receipt = w3.eth.wait_for_transaction_receipt(sent, timeout=30)
    assert (receipt["status"], receipt["from"]) == (1, stranger)
    assert w3.eth.get_transaction(sent)["from"] == stranger
    assert probe.functions.value().call() == 4
    assert w3.eth.get_transaction_count(stranger) == 1

    assert request("hardhat_stopImpersonatingAccount", stranger)["result"] is None
    assert "error" in request("eth_sendTransaction", {**call, "data": call_data(probe, "set", 5)})
    assert probe.functions.value().call() == 4


def test_state_overrides_change_one_call_as_on_anvil(w3: Web3) -> None:
    """eth_call and eth_estimateGas with state overrides: code placed at an empty address
    with a slot set, a contract's storage replaced whole or slot by slot, a balance given to
    an empty account; nothing of it stays."""
    probe = deploy(w3, Account.from_key(dev_keys()[TRACER]), "Probe", 1)
    runtime = compiled("Probe")["deployedBytecode"]
    empty = Web3.to_checksum_address("0x" + "0e" * 20)
    read = {"to": empty, "data": call_data(probe, "value")}

    def call(tx: dict[str, Any], overrides: dict[str, Any]) -> Any:
        return w3.provider.make_request(RPCEndpoint("eth_call"), [tx, "latest", overrides])

    def word(value: int) -> str:
        return "0x" + value.to_bytes(32).hex()

    placed = {empty: {"code": runtime, "stateDiff": {word(0): word(42)}}}
    assert int(call(read, placed)["result"], 16) == 42
    assert w3.eth.get_code(empty) == b""  # the call's alone
    at_probe = {"to": probe.address, "data": call_data(probe, "value")}
    assert int(call(at_probe, {probe.address: {"state": {}}})["result"], 16) == 0
    assert (
        int(call(at_probe, {probe.address: {"stateDiff": {word(0): word(5)}}})["result"], 16) == 5
    )
    assert probe.functions.value().call() == 1

    send = {"from": empty, "to": probe.address, "value": hex(10**18)}
    assert "error" in call(send, {})  # the empty account cannot pay
    assert call(send, {empty: {"balance": hex(2 * 10**18)}})["result"] == "0x"
    estimate = w3.provider.make_request(
        RPCEndpoint("eth_estimateGas"), [send, "latest", {empty: {"balance": hex(2 * 10**18)}}]
    )
    assert int(estimate["result"], 16) >= 21_000
