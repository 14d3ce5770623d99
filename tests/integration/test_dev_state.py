"""Account writes and impersonated transactions on a dev node (chain/rpc/dev_state.py,
chain/rpc/dev_accounts.py) are part of its ledger: the fast block made for each write lists
it among its messages, an impersonated transaction is in its block like any other (a trace
runs it again), and after a restart the node holds what they did, its blocks the same."""

from __future__ import annotations

from web3 import Web3
from web3.types import RPCEndpoint

from chain.ledger.messages import BalanceSet, CodeSet, encode_message
from tests.conftest import NodeFactory

TARGET = "0x" + "5e7c0de5" * 5
STRANGER = "0x" + "1e" * 20  # no key anyone holds
CODE = bytes.fromhex("600160005500")  # slot 0 = 1


def test_account_writes_and_impersonated_transactions_are_in_the_ledger_and_survive_a_restart(
    node_factory: NodeFactory,
) -> None:
    node = node_factory("--no-l1", "--no-prover")
    fast = Web3(Web3.HTTPProvider(node.fast_http))

    def rpc(method: str, *params: object) -> object:
        answer = fast.provider.make_request(RPCEndpoint(method), list(params))
        assert "result" in answer, answer
        return answer["result"]

    before = fast.eth.block_number
    rpc("anvil_setBalance", TARGET, hex(123))
    rpc("anvil_setCode", TARGET, "0x" + CODE.hex())
    head = fast.eth.block_number  # a block each, and one after each ZK block
    address = bytes.fromhex(TARGET[2:])
    entries = rpc("duet_getLedger", 0, 1000)
    assert isinstance(entries, list)
    carried = {
        entry["height"]: entry["messages"]
        for entry in entries
        if entry["chain"] == "fast" and entry["height"] > before
    }
    writes = [encode_message(BalanceSet(address, 123)), encode_message(CodeSet(address, CODE))]
    listed = [m for height in sorted(carried) for m in carried[height] if height <= head]
    assert [m for m in listed if m in ("0x" + w.hex() for w in writes)] == [
        "0x" + w.hex() for w in writes
    ]
    rpc("anvil_setBalance", STRANGER, hex(10**18))
    rpc("anvil_impersonateAccount", STRANGER)
    sent = rpc("eth_sendTransaction", {"from": STRANGER, "to": TARGET, "value": "0x1"})
    receipt = fast.eth.wait_for_transaction_receipt(sent, timeout=30)  # type: ignore[arg-type]
    trace = {"tracer": "callTracer"}
    assert rpc("debug_traceTransaction", sent, trace)["from"] == STRANGER  # type: ignore[index]
    head = receipt["blockNumber"]
    hashes = [fast.eth.get_block(h)["hash"] for h in range(before + 1, head + 1)]

    node.restart()
    fast = Web3(Web3.HTTPProvider(node.fast_http))
    assert [fast.eth.get_block(h)["hash"] for h in range(before + 1, head + 1)] == hashes
    assert fast.eth.get_balance(Web3.to_checksum_address(TARGET)) == 124
    assert fast.eth.get_code(Web3.to_checksum_address(TARGET)) == CODE
    assert fast.eth.get_transaction(sent)["from"] == Web3.to_checksum_address(STRANGER)  # type: ignore[arg-type]
    assert rpc("debug_traceTransaction", sent, trace)["from"] == STRANGER  # type: ignore[index]
