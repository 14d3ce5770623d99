"""A small web3.py client of the rollup contract: submit a block, read what is settled, read
and change the submission agents' schedule."""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.types import BlockIdentifier, TxParams, TxReceipt

from chain.l1.calldata import SettledOp, StateRoot, encode_ops
from chain.l1.config import SlotSchedule
from chain.l1.contracts import load_artifact, send_transaction
from chain.l1.errors import L1Error
from chain.types import Height


@dataclass(frozen=True)
class SettledState:
    """What the rollup had settled as of one L1 block."""

    height: Height
    root: StateRoot
    at_block: int  # the L1 block of the last settlement (the deployment's before any)
    l1_block: int  # the L1 block these were read at


@dataclass(frozen=True)
class Settlement:
    """One BlockSettled event."""

    height: Height
    post_root: StateRoot
    commitment: bytes
    l1_block: int
    tx_hash: bytes


class RollupClient:
    """The rollup at `address`; `sender` signs submissions (reads need none)."""

    def __init__(
        self, w3: Web3, address: ChecksumAddress, sender: LocalAccount | None = None
    ) -> None:
        self.w3 = w3
        self.abi = load_artifact("Rollup")["abi"]
        self.contract = w3.eth.contract(address=address, abi=self.abi)
        self.sender = sender

    @property
    def address(self) -> ChecksumAddress:
        return self.contract.address

    # -- what is settled ----------------------------------------------------------------------

    def get_settled_root(self) -> StateRoot:
        return StateRoot(int(self.contract.functions.settledRoot().call()))

    def get_settled_height(self) -> Height:
        return Height(int(self.contract.functions.settledHeight().call()))

    def get_settled_state(self) -> SettledState:
        """Height, root and block of the last settlement, all read at one L1 block."""
        block = self.w3.eth.block_number
        functions = self.contract.functions
        return SettledState(
            Height(int(functions.settledHeight().call(block_identifier=block))),
            StateRoot(int(functions.settledRoot().call(block_identifier=block))),
            int(functions.settledAtBlock().call(block_identifier=block)),
            block,
        )

    def get_genesis_root(self) -> StateRoot:
        return StateRoot(int(self.contract.functions.genesisRoot().call()))

    def get_block_commitment(self, height: Height) -> bytes:
        return bytes(self.contract.functions.blockCommitment(height).call())

    def list_settlements(
        self, from_block: BlockIdentifier = 0, to_block: BlockIdentifier = "latest"
    ) -> list[Settlement]:
        """BlockSettled events, oldest first."""
        events = self.contract.events.BlockSettled().get_logs(
            from_block=from_block, to_block=to_block
        )
        return [
            Settlement(
                Height(int(e["args"]["height"])),
                StateRoot(int(e["args"]["postRoot"])),
                bytes(e["args"]["commitment"]),
                int(e["blockNumber"]),
                bytes(e["transactionHash"]),
            )
            for e in events
        ]

    # -- submitting ---------------------------------------------------------------------------

    def submit_block(
        self, height: Height, pre_root: StateRoot, ops: Sequence[SettledOp] | bytes
    ) -> TxReceipt:
        """Settle block `height`; L1Revert names the contract's refusal (nothing is sent
        then: the refusal shows in the gas estimate)."""
        ops_bytes = ops if isinstance(ops, bytes) else encode_ops(ops)
        return self._transact("submitBlock", height, pre_root, ops_bytes)

    # -- slots --------------------------------------------------------------------------------

    def get_schedule(self) -> SlotSchedule:
        functions = self.contract.functions
        return SlotSchedule(int(functions.slotBlocks().call()), int(functions.graceBlocks().call()))

    def get_schedule_start(self) -> int:
        return int(self.contract.functions.scheduleStart().call())

    def list_agents(self) -> list[ChecksumAddress]:
        functions = self.contract.functions
        return [functions.agents(i).call() for i in range(functions.agentCount().call())]

    def get_slot_agent(self, l1_block: int) -> ChecksumAddress:
        """The agent whose slot holds L1 block `l1_block` (the zero address with none)."""
        return ChecksumAddress(self.contract.functions.slotAgent(l1_block).call())

    def may_submit(self, sender: ChecksumAddress, l1_block: int) -> bool:
        """The contract's own rule: `sender`'s slot, or the grace period is over."""
        return bool(self.contract.functions.maySubmit(sender, l1_block).call())

    def register_agent(self, agent: ChecksumAddress) -> TxReceipt:
        """Add an agent to the schedule; the sender must be the owner (the deployer)."""
        return self._transact("registerAgent", agent)

    def _transact(self, function: str, *args: object) -> TxReceipt:
        if self.sender is None:
            raise L1Error(f"this client has no sender to sign {function}")
        data = self.contract.encode_abi(function, args=list(args))
        tx: TxParams = {"to": self.contract.address, "data": data}
        return send_transaction(self.w3, self.sender, tx, self.abi)
