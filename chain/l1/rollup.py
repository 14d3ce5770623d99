"""A small web3.py client of the rollup contract: submit a block, read what is settled, read
and change the submission agents' schedule, deposit L1 ZKPoW and claim withdrawals."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import BlockIdentifier, TxParams, TxReceipt

from chain.l1.attestation import BlockHeader
from chain.l1.calldata import SettledOp, StateRoot, encode_ops
from chain.l1.config import SlotSchedule
from chain.l1.contracts import load_artifact, send_transaction
from chain.l1.errors import L1Error
from chain.l1.withdrawals import Withdrawal
from chain.types import Height, Root, Wei
from chain.zk.signing import SigningDomain


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
    number: int  # the rollup's count of settlements: 1 for the first
    post_root: StateRoot
    commitment: bytes
    l1_block: int
    tx_hash: bytes


@dataclass(frozen=True)
class DepositRecord:
    """L1 deposit number `index`: `amount` locked in the rollup for `to` on the ZK chain."""

    index: int
    to: ChecksumAddress
    amount: Wei
    l1_block: int  # the L1 block it was made in


class RollupClient:
    """The rollup at `address`; `sender` signs transactions (reads need none)."""

    def __init__(
        self, w3: Web3, address: ChecksumAddress, sender: LocalAccount | None = None
    ) -> None:
        self.w3 = w3
        self.abi = load_artifact("Rollup")["abi"]
        self.contract = w3.eth.contract(address=address, abi=self.abi)
        self.sender = sender
        self._token: Contract | None = None
        self._schedule_start: int | None = None  # immutable in the contract: read once
        self._settled: SettledState | None = None  # the last reading, kept for its L1 block
        # The rollup's calls into the token revert with the token's errors (a deposit without
        # allowance): decode both contracts' errors.
        token_errors = [e for e in load_artifact("ZkPow")["abi"] if e["type"] == "error"]
        self.error_abi: list[Any] = [*self.abi, *token_errors]

    @property
    def address(self) -> ChecksumAddress:
        return self.contract.address

    # -- what is settled ----------------------------------------------------------------------

    def get_settled_root(self) -> StateRoot:
        return StateRoot(int(self.contract.functions.settledRoot().call()))

    def get_settled_height(self) -> Height:
        return Height(int(self.contract.functions.settledHeight().call()))

    def get_settled_state(self) -> SettledState:
        """Height, root and block of the last settlement, all read at one L1 block. A
        reading at the block before is kept: agents and watchers poll every half second,
        and L1 makes a block far less often (should a reorg replace a block at the same
        height, the next block's reading corrects it)."""
        block = self.w3.eth.block_number
        if self._settled is not None and self._settled.l1_block == block:
            return self._settled
        functions = self.contract.functions
        self._settled = SettledState(
            Height(int(functions.settledHeight().call(block_identifier=block))),
            StateRoot(int(functions.settledRoot().call(block_identifier=block))),
            int(functions.settledAtBlock().call(block_identifier=block)),
            block,
        )
        return self._settled

    def get_genesis_root(self) -> StateRoot:
        return StateRoot(int(self.contract.functions.genesisRoot().call()))

    def get_block_commitment(self, height: Height) -> bytes:
        return bytes(self.contract.functions.blockCommitment(height).call())

    def list_settlements(
        self,
        from_block: BlockIdentifier = 0,
        to_block: BlockIdentifier = "latest",
        height: Height | None = None,
    ) -> list[Settlement]:
        """BlockSettled events, oldest first; only ZK height `height`'s if given (the event
        indexes it, so L1 filters)."""
        filters = {} if height is None else {"height": height}
        events = self.contract.events.BlockSettled().get_logs(
            from_block=from_block, to_block=to_block, argument_filters=filters
        )
        return [
            Settlement(
                Height(int(e["args"]["height"])),
                int(e["args"]["number"]),
                StateRoot(int(e["args"]["postRoot"])),
                bytes(e["args"]["commitment"]),
                int(e["blockNumber"]),
                bytes(e["transactionHash"]),
            )
            for e in events
        ]

    # -- submitting ---------------------------------------------------------------------------

    def submit_block(
        self,
        header: BlockHeader,
        ops: Sequence[SettledOp] | bytes,
        signatures: bytes,
        attestation: bytes,
    ) -> TxReceipt:
        """Settle the next block, `ops` after `header`, with its signed operations'
        `signatures` (65 bytes each, in block order) and the sequencers' `attestation`;
        L1Revert names the contract's refusal (nothing is sent then: the refusal shows in
        the gas estimate)."""
        ops_bytes = ops if isinstance(ops, bytes) else encode_ops(ops)
        return self._transact("submitBlock", header.to_abi(), ops_bytes, signatures, attestation)

    def get_settlement_count(self, block: BlockIdentifier = "latest") -> int:
        return int(self.contract.functions.settlementCount().call(block_identifier=block))

    def get_domain(self) -> SigningDomain:
        """The EIP-712 domain of what this rollup checks signatures on."""
        return SigningDomain(int(self.w3.eth.chain_id), self.address)

    def list_sequencers(self) -> list[tuple[ChecksumAddress, int]]:
        """The sequencer set: each key and its weight."""
        functions = self.contract.functions
        keys = [functions.sequencers(i).call() for i in range(functions.sequencerCount().call())]
        return [(key, int(functions.sequencerWeight(key).call())) for key in keys]

    # -- deposits -----------------------------------------------------------------------------

    @property
    def token(self) -> Contract:
        """The L1 ZKPoW token the rollup locks and pays out."""
        if self._token is None:
            address = self.contract.functions.token().call()
            self._token = self.w3.eth.contract(address=address, abi=load_artifact("ZkPow")["abi"])
        return self._token

    def get_token_balance(self, owner: ChecksumAddress) -> Wei:
        return Wei(int(self.token.functions.balanceOf(owner).call()))

    def deposit(self, to: ChecksumAddress, amount: int) -> int:
        """Lock `amount` wei of the sender's L1 ZKPoW for `to` on the ZK chain (approving the
        rollup first if its allowance is short); returns the deposit's number."""
        sender = self._require_sender("deposit")
        allowance = self.token.functions.allowance(sender.address, self.address).call()
        if allowance < amount:
            data = self.token.encode_abi("approve", args=[self.address, amount])
            tx: TxParams = {"to": self.token.address, "data": data}
            send_transaction(self.w3, sender, tx, self.error_abi)
        receipt = self._transact("deposit", to, amount)
        # The receipt also holds the token's Transfer log, which is not the rollup's.
        (event,) = self.contract.events.Deposited().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["index"])

    def get_deposit_count(self, block: BlockIdentifier = "latest") -> int:
        """Deposits made: numbers 0 .. count - 1."""
        return int(self.contract.functions.depositCount().call(block_identifier=block))

    def get_deposits_credited(self, block: BlockIdentifier = "latest") -> int:
        """Deposits that the settled blocks have credited: numbers 0 .. credited - 1."""
        return int(self.contract.functions.depositsCredited().call(block_identifier=block))

    def get_deposit(self, index: int, block: BlockIdentifier = "latest") -> DepositRecord:
        """Deposit number `index` (L1Error if it was not made, as of `block`)."""
        to, amount, l1_block = self.contract.functions.deposits(index).call(block_identifier=block)
        if int(to, 16) == 0:
            raise L1Error(f"no deposit number {index} on the rollup at {self.address}")
        return DepositRecord(index, to, Wei(int(amount)), int(l1_block))

    def list_deposits(
        self, start: int, stop: int, block: BlockIdentifier = "latest"
    ) -> list[DepositRecord]:
        """Deposits `start` .. `stop` - 1, as far as they are made, all read at one L1 block."""
        if block == "latest":
            block = self.w3.eth.block_number
        stop = min(stop, self.get_deposit_count(block))
        return [self.get_deposit(index, block) for index in range(start, stop)]

    # -- withdrawals --------------------------------------------------------------------------

    def get_withdrawal_root(self, height: Height) -> Root | None:
        """The withdrawals root of settled height `height`; None if it held no withdrawal
        (or is not settled)."""
        root = bytes(self.contract.functions.withdrawalRoot(height).call())
        return None if root == bytes(32) else Root(root)

    def is_withdrawal_claimed(self, height: Height, position: int) -> bool:
        return bool(self.contract.functions.isWithdrawalClaimed(height, position).call())

    def claim_withdrawal(self, withdrawal: Withdrawal, proof: Sequence[bytes]) -> TxReceipt:
        """Pay `withdrawal` to its recipient (whoever signs); `proof` from
        chain.l1.withdrawals.compute_withdrawal_proof. L1Revert names a refusal."""
        return self._transact(
            "claimWithdrawal",
            withdrawal.height,
            withdrawal.position,
            withdrawal.to,
            withdrawal.amount,
            list(proof),
        )

    # -- slots --------------------------------------------------------------------------------

    # -- forced withdrawals and the escape hatch -----------------------------------------

    def force_withdraw(self, words: Sequence[int], signature: bytes) -> int:
        """Queue a signed Withdraw (its three words) on L1, paying the force fee; returns its
        index in the queue."""
        w1, w2, w3 = words
        data = self.contract.encode_abi("forceWithdraw", args=[w1, w2, w3, signature])
        fee = int(self.contract.functions.forceFee().call())
        tx: TxParams = {"to": self.contract.address, "data": data, "value": fee}  # type: ignore[typeddict-item]
        receipt = send_transaction(
            self.w3, self._require_sender("forceWithdraw"), tx, self.error_abi
        )
        (event,) = self.contract.events.WithdrawalForced().process_receipt(receipt, errors=DISCARD)
        return int(event["args"]["index"])

    def get_forced_queue(self) -> tuple[int, int]:
        """(queued, included): Withdraws queued on L1, and how many settled blocks included."""
        functions = self.contract.functions
        return int(functions.forcedCount().call()), int(functions.forcedIncluded().call())

    def freeze(self) -> TxReceipt:
        return self._transact("freeze")

    def is_frozen(self) -> bool:
        return bool(self.contract.functions.frozen().call())

    def exit(self, statement: bytes) -> TxReceipt:
        """Pay an account its settled balance once frozen: `statement` is the exit proof as
        an op (chain/l1/calldata.py `encode_op` of circuit "exit")."""
        return self._transact("exit", statement)

    def refund_deposit(self, index: int) -> TxReceipt:
        return self._transact("refundDeposit", index)

    def get_schedule(self) -> SlotSchedule:
        functions = self.contract.functions
        return SlotSchedule(int(functions.slotBlocks().call()), int(functions.graceBlocks().call()))

    def get_schedule_start(self) -> int:
        if self._schedule_start is None:
            self._schedule_start = int(self.contract.functions.scheduleStart().call())
        return self._schedule_start

    def get_forced_count(self, block: BlockIdentifier = "latest") -> int:
        """Withdraws queued on L1: numbers 0 .. count - 1."""
        return int(self.contract.functions.forcedCount().call(block_identifier=block))

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

    def _require_sender(self, function: str) -> LocalAccount:
        if self.sender is None:
            raise L1Error(f"this client has no sender to sign {function}")
        return self.sender

    def _transact(self, function: str, *args: object) -> TxReceipt:
        sender = self._require_sender(function)
        data = self.contract.encode_abi(function, args=list(args))
        tx: TxParams = {"to": self.contract.address, "data": data}
        return send_transaction(self.w3, sender, tx, self.error_abi)
