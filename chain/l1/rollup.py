"""A small web3.py client of the rollup contract: submit a block, read what is settled."""

from collections.abc import Sequence

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.types import TxParams, TxReceipt

from chain.l1.calldata import SettledOp, StateRoot, encode_ops
from chain.l1.contracts import load_artifact, send_transaction
from chain.l1.errors import L1Error
from chain.types import Height


class RollupClient:
    """The rollup at `address`; `sender` signs submissions (reads need none)."""

    def __init__(
        self, w3: Web3, address: ChecksumAddress, sender: LocalAccount | None = None
    ) -> None:
        self.w3 = w3
        self.abi = load_artifact("Rollup")["abi"]
        self.contract = w3.eth.contract(address=address, abi=self.abi)
        self.sender = sender

    def get_settled_root(self) -> StateRoot:
        return StateRoot(int(self.contract.functions.settledRoot().call()))

    def get_settled_height(self) -> Height:
        return Height(int(self.contract.functions.settledHeight().call()))

    def get_block_commitment(self, height: Height) -> bytes:
        return bytes(self.contract.functions.blockCommitment(height).call())

    def submit_block(
        self, height: Height, pre_root: StateRoot, ops: Sequence[SettledOp] | bytes
    ) -> TxReceipt:
        """Settle block `height`; L1Revert names the contract's refusal (nothing is sent
        then: the refusal shows in the gas estimate)."""
        if self.sender is None:
            raise L1Error("this client has no sender to sign a submission")
        ops_bytes = ops if isinstance(ops, bytes) else encode_ops(ops)
        data = self.contract.encode_abi("submitBlock", args=[height, pre_root, ops_bytes])
        tx: TxParams = {"to": self.contract.address, "data": data}
        return send_transaction(self.w3, self.sender, tx, self.abi)
