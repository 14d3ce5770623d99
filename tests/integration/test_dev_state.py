"""Account writes on a dev node (chain/rpc/dev_state.py) are part of its ledger: the fast
block made for each lists the write among its messages, and after a restart the node holds
what they set, its blocks the same."""

from __future__ import annotations

from web3 import Web3
from web3.types import RPCEndpoint

from chain.ledger.messages import BalanceSet, CodeSet, encode_message
from tests.conftest import NodeFactory

TARGET = "0x" + "5e7c0de5" * 5
CODE = bytes.fromhex("600160005500")  # slot 0 = 1


def test_account_writes_are_in_the_ledger_and_survive_a_restart(node_factory: NodeFactory) -> None:
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
    hashes = [fast.eth.get_block(h)["hash"] for h in range(before + 1, head + 1)]

    node.restart()
    fast = Web3(Web3.HTTPProvider(node.fast_http))
    assert [fast.eth.get_block(h)["hash"] for h in range(before + 1, head + 1)] == hashes
    assert fast.eth.get_balance(Web3.to_checksum_address(TARGET)) == 123
    assert fast.eth.get_code(Web3.to_checksum_address(TARGET)) == CODE
