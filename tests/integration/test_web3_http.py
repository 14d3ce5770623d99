"""The fast chain through web3.py's HTTPProvider, as a dapp would use it: transactions signed
locally with eth-account and sent raw; Probe exercises calls, events, reverts and gas."""

from __future__ import annotations

import pytest
from eth_abi import decode as abi_decode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxReceipt

from tests.integration.support import (
    ETHER,
    FAST_CHAIN_ID,
    GWEI,
    TRANSFER_GAS,
    call_data,
    compiled,
    deploy,
    event_topic,
    rpc,
    selector,
    sign,
    transact,
    transfer,
    wait_receipt,
    word,
)

pytestmark = pytest.mark.timeout(240)

PROBE_INITIAL = 7
VALUE_SET = "ValueSet(address,uint256,bytes)"
PRECOMPILE_4 = "0x0000000000000000000000000000000000000004"


@pytest.fixture(scope="module")
def owner(accounts: list[LocalAccount]) -> LocalAccount:
    return accounts[0]


@pytest.fixture(scope="module")
def probe(w3: Web3, owner: LocalAccount) -> Contract:
    return deploy(w3, owner, "Probe", PROBE_INITIAL)


@pytest.fixture(scope="module")
def set_receipt(w3: Web3, owner: LocalAccount, probe: Contract) -> TxReceipt:
    """One `set(424242)` mined before the tests that read its receipt."""
    receipt = transact(w3, owner, {"to": probe.address, "data": call_data(probe, "set", 424242)})
    assert receipt["status"] == 1
    return receipt


def probe_call(w3: Web3, owner: LocalAccount, probe: Contract, fn: str, *args: object) -> TxReceipt:
    return transact(w3, owner, {"to": probe.address, "data": call_data(probe, fn, *args)})


# -- deployment, calls, receipts --------------------------------------------------------------


def test_deployed_probe_returns_its_constructor_value(w3: Web3, owner: LocalAccount) -> None:
    fresh = deploy(w3, owner, "Probe", 31337)
    assert fresh.functions.value().call() == 31337


def test_set_changes_the_value_read_by_eth_call(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    before = probe.functions.value().call()
    receipt = probe_call(w3, owner, probe, "set", before + 1)
    assert receipt["status"] == 1
    assert probe.functions.value().call() == before + 1
    assert probe.functions.value().call(block_identifier=receipt["blockNumber"] - 1) == before


def test_receipt_reports_success_gas_and_a_decodable_value_set_log(
    w3: Web3, owner: LocalAccount, probe: Contract, set_receipt: TxReceipt
) -> None:
    assert set_receipt["status"] == 1
    assert TRANSFER_GAS < set_receipt["gasUsed"] <= set_receipt["cumulativeGasUsed"]
    assert set_receipt["to"] == probe.address
    assert set_receipt["from"] == owner.address
    assert set_receipt["contractAddress"] is None
    assert set_receipt["effectiveGasPrice"] > 0 or w3.eth.gas_price == 0

    (raw_log,) = set_receipt["logs"]
    assert raw_log["address"] == probe.address
    assert raw_log["topics"][0] == HexBytes(event_topic(VALUE_SET))
    assert raw_log["transactionHash"] == set_receipt["transactionHash"]
    assert raw_log["blockHash"] == set_receipt["blockHash"]
    assert raw_log["blockNumber"] == set_receipt["blockNumber"]

    (event,) = probe.events.ValueSet().process_receipt(set_receipt)
    assert event["args"]["who"] == owner.address
    assert event["args"]["v"] == 424242
    assert event["args"]["note"] == b"probe"


def test_receipt_block_matches_block_by_number_with_full_and_hashed_txs(
    w3: Web3, owner: LocalAccount, set_receipt: TxReceipt
) -> None:
    number, tx_hash = set_receipt["blockNumber"], set_receipt["transactionHash"]
    index = set_receipt["transactionIndex"]

    full = w3.eth.get_block(number, full_transactions=True)
    hashed = w3.eth.get_block(number, full_transactions=False)
    by_hash = w3.eth.get_block(set_receipt["blockHash"])

    assert full["hash"] == hashed["hash"] == by_hash["hash"] == set_receipt["blockHash"]
    assert full["number"] == by_hash["number"] == number
    assert hashed["transactions"][index] == tx_hash
    tx = full["transactions"][index]
    assert tx["hash"] == tx_hash
    assert tx["blockHash"] == set_receipt["blockHash"]
    assert tx["blockNumber"] == number
    assert tx["transactionIndex"] == index
    assert tx["from"] == owner.address
    assert [t["hash"] for t in full["transactions"]] == list(hashed["transactions"])
    assert full["parentHash"] == w3.eth.get_block(number - 1)["hash"]
    assert full["gasUsed"] >= set_receipt["gasUsed"]

    by_tx_hash = w3.eth.get_transaction(tx_hash)
    assert by_tx_hash["hash"] == tx_hash
    assert by_tx_hash["blockNumber"] == number


def test_block_tags_resolve_to_blocks_of_the_chain(w3: Web3) -> None:
    latest = w3.eth.get_block("latest")
    assert w3.eth.get_block("earliest")["number"] == 0
    for tag in ("pending", "safe", "finalized"):
        block = w3.eth.get_block(tag)
        assert 0 <= block["number"] <= latest["number"] + 1, tag
    assert w3.eth.get_block(latest["number"])["hash"] == latest["hash"]


# -- logs -------------------------------------------------------------------------------------


def test_get_logs_filters_by_address_topic_and_block_range(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    values = [9_001, 9_002, 9_003]
    receipts = [probe_call(w3, owner, probe, "set", v) for v in values]
    blocks = [r["blockNumber"] for r in receipts]
    assert blocks == sorted(set(blocks)), "each set() was mined in a later block"
    span = {"fromBlock": blocks[0], "toBlock": blocks[-1]}

    by_address = w3.eth.get_logs({**span, "address": probe.address})
    assert [abi_decode(["uint256"], log["topics"][2])[0] for log in by_address] == values
    assert [log["transactionHash"] for log in by_address] == [
        r["transactionHash"] for r in receipts
    ]

    only_second = w3.eth.get_logs(
        {**span, "address": probe.address, "topics": [event_topic(VALUE_SET), None, word(9_002)]}
    )
    assert [log["transactionHash"] for log in only_second] == [receipts[1]["transactionHash"]]

    first_or_third = w3.eth.get_logs(
        {
            **span,
            "topics": [event_topic(VALUE_SET), word(owner.address), [word(9_001), word(9_003)]],
        }
    )
    assert [log["transactionHash"] for log in first_or_third] == [
        receipts[0]["transactionHash"],
        receipts[2]["transactionHash"],
    ]

    middle_block = w3.eth.get_logs(
        {"fromBlock": blocks[1], "toBlock": blocks[1], "address": probe.address}
    )
    assert [log["transactionHash"] for log in middle_block] == [receipts[1]["transactionHash"]]

    by_block_hash = w3.eth.get_logs({"blockHash": receipts[2]["blockHash"]})
    assert receipts[2]["transactionHash"] in [log["transactionHash"] for log in by_block_hash]

    assert w3.eth.get_logs({**span, "address": Account.create().address}) == []


# -- state reads --------------------------------------------------------------------------------


def test_get_code_returns_the_deployed_runtime_bytecode(w3: Web3, probe: Contract) -> None:
    assert w3.eth.get_code(probe.address) == HexBytes(compiled("Probe")["deployedBytecode"])
    assert w3.eth.get_code(Account.create().address) == b""


def test_get_storage_at_reads_the_value_slot_now_and_at_an_older_block(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    probe_call(w3, owner, probe, "set", 0xC0FFEE)
    receipt = probe_call(w3, owner, probe, "set", 0xBEEF)
    # `value` is Probe's first state variable, so it lives in slot 0.
    assert int.from_bytes(w3.eth.get_storage_at(probe.address, 0), "big") == 0xBEEF
    older = w3.eth.get_storage_at(probe.address, 0, receipt["blockNumber"] - 1)
    assert int.from_bytes(older, "big") == 0xC0FFEE


def test_historical_balance_differs_from_latest_after_a_transfer(
    w3: Web3, owner: LocalAccount
) -> None:
    recipient = Account.create().address
    before_block = w3.eth.block_number
    sender_before = w3.eth.get_balance(owner.address, before_block)

    receipt = transfer(w3, owner, recipient, 3 * ETHER)
    assert receipt["status"] == 1
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]

    assert w3.eth.get_balance(recipient, before_block) == 0
    assert w3.eth.get_balance(recipient) == 3 * ETHER
    assert w3.eth.get_balance(owner.address, before_block) == sender_before
    assert w3.eth.get_balance(owner.address, receipt["blockNumber"]) == (
        sender_before - 3 * ETHER - fee
    )
    assert w3.eth.get_transaction_count(owner.address, before_block) + 1 == (
        w3.eth.get_transaction_count(owner.address, receipt["blockNumber"])
    )


# -- gas ----------------------------------------------------------------------------------------


def test_estimate_gas_is_enough_for_the_transaction(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    data = call_data(probe, "selfCall", 777)
    estimate = w3.eth.estimate_gas({"from": owner.address, "to": probe.address, "data": data})
    assert TRANSFER_GAS < estimate < 1_000_000
    receipt = transact(w3, owner, {"to": probe.address, "data": data, "gas": estimate})
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= estimate
    assert probe.functions.value().call() == 777


def test_burn_gas_transaction_fails_and_uses_all_its_gas(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    gas = 150_000
    receipt = transact(
        w3, owner, {"to": probe.address, "data": call_data(probe, "burnGas"), "gas": gas}
    )
    assert receipt["status"] == 0
    assert receipt["gasUsed"] == gas
    assert receipt["logs"] == []


def test_fee_history_gas_price_and_max_priority_fee_have_standard_shapes(w3: Web3) -> None:
    latest = w3.eth.get_block("latest")
    # By number, not "latest": a fast block follows every ZK block, so the head moves on.
    history = w3.eth.fee_history(4, latest["number"], [25.0, 75.0])
    blocks = len(history["gasUsedRatio"])
    assert 1 <= blocks <= 4
    assert history["oldestBlock"] + blocks - 1 == latest["number"]
    assert len(history["baseFeePerGas"]) == blocks + 1
    assert history["baseFeePerGas"][blocks - 1] == latest.get("baseFeePerGas", 0)
    assert all(0.0 <= ratio <= 1.0 for ratio in history["gasUsedRatio"])
    assert len(history["reward"]) == blocks
    assert all(len(rewards) == 2 and rewards[0] <= rewards[1] for rewards in history["reward"])

    assert w3.eth.gas_price >= latest.get("baseFeePerGas", 0)
    assert w3.eth.max_priority_fee >= 0


# -- transaction types --------------------------------------------------------------------------


def test_legacy_eip155_transaction_is_accepted(w3: Web3, owner: LocalAccount) -> None:
    to = Account.create().address
    raw = sign(w3, owner, {"to": to, "value": 5, "gas": TRANSFER_GAS, "gasPrice": w3.eth.gas_price})
    assert raw[0] >= 0xC0, "a legacy transaction is a bare RLP list"
    receipt = wait_receipt(w3, w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    assert receipt["type"] == 0
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["v"] in (FAST_CHAIN_ID * 2 + 35, FAST_CHAIN_ID * 2 + 36)
    assert tx["chainId"] == FAST_CHAIN_ID
    assert w3.eth.get_balance(to) == 5


def test_eip2930_access_list_transaction_is_accepted(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    access_list = [{"address": probe.address, "storageKeys": ["0x" + "00" * 32]}]
    raw = sign(
        w3,
        owner,
        {
            "to": probe.address,
            "data": call_data(probe, "set", 2930),
            "gasPrice": w3.eth.gas_price,
            "accessList": access_list,
        },
    )
    assert raw[0] == 1
    receipt = wait_receipt(w3, w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    assert receipt["type"] == 1
    assert probe.functions.value().call() == 2930


def test_eip1559_transaction_is_accepted_and_pays_base_fee_plus_tip(
    w3: Web3, owner: LocalAccount
) -> None:
    to = Account.create().address
    raw = sign(w3, owner, {"to": to, "value": 6, "gas": TRANSFER_GAS, "maxPriorityFeePerGas": GWEI})
    assert raw[0] == 2
    receipt = wait_receipt(w3, w3.eth.send_raw_transaction(raw))
    assert receipt["status"] == 1
    assert receipt["type"] == 2
    base_fee = w3.eth.get_block(receipt["blockNumber"]).get("baseFeePerGas", 0)
    assert receipt["effectiveGasPrice"] == base_fee + GWEI
    tx = w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["maxPriorityFeePerGas"] == GWEI
    assert w3.eth.get_balance(to) == 6


# -- reverts ------------------------------------------------------------------------------------


def test_call_of_fail_with_reason_raises_contract_logic_error_with_the_reason(
    probe: Contract, owner: LocalAccount
) -> None:
    with pytest.raises(ContractLogicError, match="probe: nope"):
        probe.functions.failWithReason().call({"from": owner.address})


def test_call_revert_has_code_3_and_error_string_data(w3: Web3, probe: Contract) -> None:
    answer = rpc(
        w3.provider.endpoint_uri,
        "eth_call",
        [{"to": probe.address, "data": call_data(probe, "failWithReason")}, "latest"],
    )
    error = answer["error"]
    assert error["code"] == 3
    assert "probe: nope" in error["message"]
    assert error["data"].startswith(selector("Error(string)"))
    (reason,) = abi_decode(["string"], bytes.fromhex(error["data"][10:]))
    assert reason == "probe: nope"


def test_fail_custom_revert_data_starts_with_the_custom_error_selector(
    w3: Web3, probe: Contract
) -> None:
    answer = rpc(
        w3.provider.endpoint_uri,
        "eth_call",
        [{"to": probe.address, "data": call_data(probe, "failCustom", 0xABCD)}, "latest"],
    )
    error = answer["error"]
    assert error["code"] == 3
    assert error["data"] == selector("Custom(uint256)") + word(0xABCD)[2:]

    with pytest.raises(ContractCustomError) as raised:
        probe.functions.failCustom(0xABCD).call()
    assert str(raised.value.data).startswith(selector("Custom(uint256)"))


def test_estimate_gas_of_a_reverting_call_reports_the_revert(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    data = call_data(probe, "failWithReason")
    with pytest.raises(ContractLogicError, match="probe: nope"):
        w3.eth.estimate_gas({"from": owner.address, "to": probe.address, "data": data})


# -- chain context and precompiles --------------------------------------------------------------


def test_get_block_info_reports_the_fast_chain_id(w3: Web3, probe: Contract) -> None:
    before = w3.eth.get_block("latest")
    number, timestamp, chain_id, basefee = probe.functions.getBlockInfo().call()
    after = w3.eth.block_number  # the head can move on between reads
    assert chain_id == FAST_CHAIN_ID == w3.eth.chain_id
    assert before["number"] <= number <= after + 1
    assert timestamp >= before["timestamp"]
    assert basefee >= 0


def test_value_sent_to_the_identity_precompile_ends_up_in_its_balance(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    before = w3.eth.get_balance(PRECOMPILE_4)
    receipt = transact(
        w3,
        owner,
        {"to": probe.address, "data": call_data(probe, "sendToPrecompile"), "value": 12345},
    )
    assert receipt["status"] == 1
    assert w3.eth.get_balance(PRECOMPILE_4) == before + 12345
    assert w3.eth.get_balance(PRECOMPILE_4, receipt["blockNumber"] - 1) == before
    assert w3.eth.get_balance(probe.address) == w3.eth.get_balance(
        probe.address, receipt["blockNumber"] - 1
    )


def test_plain_value_transfer_to_probe_runs_receive(
    w3: Web3, owner: LocalAccount, probe: Contract
) -> None:
    before = w3.eth.get_balance(probe.address)
    receipt = transact(w3, owner, {"to": probe.address, "value": 99})
    assert receipt["status"] == 1
    assert w3.eth.get_balance(probe.address) == before + 99
