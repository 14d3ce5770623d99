"""Operations admitted to the ZK chain and waiting for a block, in arrival order.

Admission applies each operation to the state the pool would leave behind, so a sender
hears at once why an operation cannot apply (a stale nonce, too little ZKPoW), and an
admitted operation applies in its block unless the chain moved under it (a new epoch).

That state is kept without its trees' hashes (ZkState.drop_hashes): the rules read records
only, and the hashes were nine tenths of an admission's cost. Operations apply to it in place
(apply_operation_in_place), since copying 4,096 accounts' records cost more than a transfer.
After each block every waiting operation is applied again to the new head, because whether
one applies depends on the block's context (its height, epoch and round), not only on the
records the block wrote. Re-admitting a full pool (MAX_PENDING_OPS transfers from 4,000
accounts) takes 0.1 s on the 2-core dev machine, against about 12 s when each operation was
applied to a hashed copy (`bench/zk_pool.py`).
"""

from dataclasses import dataclass, field

from chain.zk.ops import BlockContext, InvalidOp
from chain.zk.registry import apply_operation_in_place
from chain.zk.signing import SignedOperation
from chain.zk.state import ZkState

MAX_PENDING_OPS = 10_000
# Operations one signer may have waiting (the decentralized mode's mempool takes nonces at
# most 64 ahead too): every waiting operation is applied again after each block, so one
# sender must not fill the pool for everybody.
MAX_PENDING_PER_SENDER = 64


@dataclass
class OpPool:
    head_state: ZkState
    ops: list[SignedOperation] = field(default_factory=list)
    ids: set[bytes] = field(default_factory=set)
    # head_state's records with every pooled operation applied, its trees unhashed
    tip_state: ZkState | None = None
    per_sender: dict[int, int] = field(default_factory=dict)  # signer → operations waiting

    def __contains__(self, op_id: bytes) -> bool:
        return op_id in self.ids

    def admit(self, signed: SignedOperation, ctx: BlockContext) -> None:
        """Add `signed` if it applies after everything already waiting; else raise InvalidOp."""
        if signed.op_id in self.ids:
            raise InvalidOp("already pending")
        if len(self.ops) >= MAX_PENDING_OPS:
            raise InvalidOp("the operation pool is full; try again shortly")
        signer = signed.op.signer
        waiting = self.per_sender.get(signer, 0)
        if waiting >= MAX_PENDING_PER_SENDER:
            raise InvalidOp(
                f"{waiting} operations of this signer wait already (at most "
                f"{MAX_PENDING_PER_SENDER}); send more once a block takes some"
            )
        if self.tip_state is None:
            self.tip_state = self.head_state.drop_hashes()
        apply_operation_in_place(self.tip_state, signed.op, ctx)
        self.ops.append(signed)
        self.ids.add(signed.op_id)
        self.per_sender[signer] = waiting + 1

    def take(self, limit: int) -> list[SignedOperation]:
        return self.ops[:limit]

    def reset(
        self, head_state: ZkState, done: set[bytes], ctx: BlockContext
    ) -> list[tuple[bytes, str]]:
        """After a block: drop what it settled, re-admit the rest, return what no longer applies."""
        waiting = [s for s in self.ops if s.op_id not in done]
        self.head_state, self.ops, self.ids, self.tip_state = head_state, [], set(), None
        self.per_sender = {}
        dropped = []
        for signed in waiting:
            try:
                self.admit(signed, ctx)
            except InvalidOp as exc:
                dropped.append((signed.op_id, f"dropped: {exc}"))
        return dropped

    def pending_nonce(self, address: int, head_nonce: int) -> int:
        return head_nonce + self.per_sender.get(address, 0)
