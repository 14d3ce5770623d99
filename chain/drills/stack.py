"""The stack the L1 drills run on: a throwaway anvil, the rollup deployed on it for a dev node's
genesis (the dev sequencer's key its one sequencer), and that node in-process, whose blocks the
drill proves with the ceremony's keys and settles itself, step by step, as an agent would.

Everything is real: the node's state machine and store, the Groth16 proofs, the rollup's
checks on anvil. Only the pacing is the drill's: it makes each block when it wants one, and
moves L1's clock with `evm_increaseTime` where a delay must pass.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import TxReceipt

from chain.fast.genesis import dev_keys, dev_sequencer_key
from chain.l1.anvil import Anvil
from chain.l1.attestation import Attestor, BlockHeader, attest_block, list_statements
from chain.l1.calldata import L1CircuitName, SettledOp, StateRoot
from chain.l1.deploy import deploy_contracts
from chain.l1.errors import L1Error, L1Revert
from chain.l1.forced import list_confirmed_forced
from chain.l1.op_signing import (
    compute_op_digest,
    compute_op_signatures,
    is_signed_circuit,
    sign_op_digest,
)
from chain.l1.rollup import RollupClient
from chain.ledger.store import ZkOpRecord
from chain.market.work import compute_job_witness
from chain.node import Node, open_node
from chain.prover.groth16 import load_circuit, prove
from chain.prover.witness import compute_witness
from chain.types import Height
from chain.zk.ops import Operation, SignedBody
from chain.zk.registry import apply_operation, circuit_name
from chain.zk.signing import SigningDomain, format_signed_operation, sign_operation
from chain.zk.state import (
    ZkState,
    compute_state_root,
    get_account_index,
    get_total_supply,
)

DEPLOYER = 0  # dev account: deploys the rollup (and is its one agent)


@dataclass
class ProvenBlock:
    """A ZK block the node made, its operations proven, ready to settle."""

    height: Height
    records: list[ZkOpRecord]
    ops: list[SettledOp]


@dataclass
class DrillStack:
    w3: Web3
    node: Node
    rollup: RollupClient  # sent by the deployer, the agent
    sequencer_key: bytes

    @property
    def domain(self) -> SigningDomain:
        return self.rollup.get_domain()

    def account(self, index: int) -> LocalAccount:
        return Account.from_key(dev_keys()[index])

    def client(self, sender: LocalAccount) -> RollupClient:
        return RollupClient(self.w3, self.rollup.address, sender)

    def make_block(self) -> ProvenBlock:
        """The node's next ZK block, each operation proven with the ceremony's keys."""
        block = self.node.produce_zk_block()
        height = Height(block.height)
        records = self.node.query.list_zk_ops_at(height)
        return ProvenBlock(height, records, [prove_record(record) for record in records])

    def settle(self, block: ProvenBlock) -> TxReceipt:
        """Post `block` as the node attests it (L1Revert names a refusal)."""
        attested = self.node.get_attestation(block.height)
        if attested is None:
            raise L1Error(f"ZK block {block.height} holds no operation to settle")
        signatures = compute_op_signatures(block.records)
        return self.rollup.submit_block(
            attested.header, block.ops, signatures, attested.attestation
        )

    def read_forced(self) -> None:
        """Hand the node the rollup's queued Withdraws it has not read (what the node's
        reader does as the queue grows)."""
        queued = list_confirmed_forced(self.rollup, self.node.get_next_forced_index(), 0)
        self.node.add_l1_forced(queued)

    def move_time(self, seconds: int) -> None:
        self.w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
        self.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def send(node: Node, key: bytes, body: SignedBody) -> bytes:
    """`body` signed by `key`'s account with its next nonce, admitted by the node."""
    signer = int(Account.from_key(key).address, 16)
    nonce = node.query.get_zk_pending_nonce(signer)
    index = get_account_index(node.query.zk_state, signer) or 0  # none: refused anyway
    fee, domain = node.config.zk_min_fee, node.query.signing_domain
    signed = sign_operation(body, fee, nonce, domain, key, index)
    return node.submit_operation(format_signed_operation(signed))


def prove_record(record: ZkOpRecord) -> SettledOp:
    """A stored operation, proven as the market's provers prove it."""
    witness = compute_job_witness(record)
    proof = prove(load_circuit(record.circuit), witness.inputs, record.public_inputs)
    _, post_root, *words = record.public_inputs
    circuit: L1CircuitName = record.circuit
    return SettledOp(circuit, StateRoot(post_root), tuple(words), proof)


@contextmanager
def open_stack(data_dir: Path) -> Iterator[DrillStack]:
    """anvil, the rollup for a fresh dev node's genesis, and the node (stopped after)."""
    with Anvil() as url:
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 120}))
        node = open_node(data_dir / "node")
        try:
            genesis = node.get_block(node.config.zk_chain_id, 0)
            assert genesis is not None
            sequencer_key = dev_sequencer_key()
            deployer = Account.from_key(dev_keys()[DEPLOYER])
            deployment = deploy_contracts(
                w3,
                deployer,
                StateRoot(int.from_bytes(genesis.state_root, "big")),
                backing=get_total_supply(node.query.zk_state),
                sequencers=[Account.from_key(sequencer_key).address],
            )
            rollup = RollupClient(w3, deployment.rollup, deployer)
            domain = rollup.get_domain()
            node.use_signing_domain(domain)
            node.use_attestor(Attestor(domain, (sequencer_key,)))
            yield DrillStack(w3, node, rollup, sequencer_key)
        finally:
            node.close()


# -- what an attacker builds by hand ---------------------------------------------------------


@dataclass
class ForgedBlock:
    """Operations applied and proven from the settled state by someone holding the proving
    keys, outside the node: the real rules, a header of the attacker's choosing."""

    header: BlockHeader
    ops: list[SettledOp]
    state: ZkState  # after the ops


def forge_block(
    stack: DrillStack, operations: Sequence[Operation], epoch_shift: int = 0
) -> ForgedBlock:
    """`operations` applied in turn to the node's state (the settled one) and proven; the
    header is the next height at L1's time. `epoch_shift` moves the mints' epoch that far
    from the block's."""
    state = stack.node.query.zk_state
    ctx = stack.node.next_zk_context()
    ctx = replace(ctx, epoch=ctx.epoch + epoch_shift, min_fee=0)
    pre_root = StateRoot(compute_state_root(state))
    ops = []
    for op in operations:
        post, trace = apply_operation(state, op, ctx)
        witness = compute_witness(state, op, ctx, post, trace)
        proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
        _, post_root, *words = witness.public_inputs
        circuit = circuit_name(op)  # an operation's: a circuit of the rollup's
        ops.append(SettledOp(circuit, StateRoot(post_root), tuple(words), proof))
        state = post
    timestamp = int(stack.w3.eth.get_block("latest")["timestamp"])
    header = BlockHeader(Height(stack.node.zk_head.height + 1), timestamp, pre_root)
    return ForgedBlock(header, ops, state)


def attest(
    stack: DrillStack,
    header: BlockHeader,
    ops: Sequence[SettledOp],
    keys: Sequence[bytes],
    number: int | None = None,
) -> bytes:
    """`keys`' attestation of the block as settlement `number` (default: the next)."""
    if number is None:
        number = stack.rollup.get_settlement_count() + 1
    return attest_block(stack.domain, number, header, list_statements(ops), keys).attestation


def sign_ops_with(stack: DrillStack, ops: Sequence[SettledOp], key: bytes) -> bytes:
    """Every signed op of `ops` signed by `key`, whoever its `from` is."""
    return b"".join(
        sign_op_digest(compute_op_digest(stack.domain, op.circuit, op.words), key)
        for op in ops
        if is_signed_circuit(op.circuit)
    )


def attempt(
    sender: RollupClient,
    header: BlockHeader,
    ops: Sequence[SettledOp] | bytes,
    signatures: bytes,
    attestation: bytes,
) -> str:
    """Submit a block; returns the error L1 refused it with, or "settled"."""
    try:
        sender.submit_block(header, ops, signatures, attestation)
    except L1Revert as refusal:
        return refusal.error
    return "settled"
