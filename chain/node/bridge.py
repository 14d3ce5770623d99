"""The node's side of the L1 bridge: deposits and forced (queued) Withdraws read from the
rollup, waiting for the next ZK block to take them; attestations of ZK blocks for L1; and
what L1 has settled."""

from collections.abc import Sequence

from chain.l1.attestation import (
    AttestedBlock,
    Attestor,
    BlockHeader,
    SettlementBlock,
    compute_attestation,
    describe_block,
)
from chain.l1.calldata import StateRoot
from chain.l1.forced import QueuedWithdrawal
from chain.node.ledger import ATTESTATION_META_PREFIX, ATTESTED_CACHE, L1_SETTLED_META, LedgerPart
from chain.prover.witness import HEADER_LAYOUT, unpack_word
from chain.types import Height
from chain.zk import chain as zk_chain
from chain.zk.ops import GWEI, Deposit, Withdraw
from chain.zk.poseidon import FIELD_MODULUS
from chain.zk.signing import InvalidSignature, SigningDomain, recover_operation


class Bridge(LedgerPart):
    def get_next_forced_index(self) -> int:
        """The number of the first Withdraw queued on the rollup this node has not read yet."""
        self.stale_l1_reads.discard("forced")
        return self.forced_taken + len(self.l1_forced)

    def add_l1_forced(self, queued: Sequence[QueuedWithdrawal]) -> None:
        """Withdraws read from the rollup's forced queue, for the next ZK block to take first;
        each must be the next by number."""
        if "forced" in self.stale_l1_reads:
            return  # read from an L1 that an evm_revert has since taken back
        for withdrawal in queued:
            if withdrawal.index == self.get_next_forced_index():
                self.l1_forced.append(withdrawal)

    def _make_forced(self, queued: QueuedWithdrawal) -> zk_chain.ForcedWithdrawal:
        """A queued Withdraw as the block takes it: its operation when its words make one
        whose signature recovers to its `from` in this node's domain, else none (refused)."""
        signed = None
        w1, to, amount = queued.words
        fields = unpack_word(HEADER_LAYOUT, w1) if w1 < FIELD_MODULUS else None
        if fields is not None and amount < FIELD_MODULUS:
            fee = fields["feeGwei"] * GWEI
            try:
                candidate = recover_operation(
                    Withdraw(to, amount),
                    fee,
                    fields["nonce"],
                    queued.signature,
                    self.signing_domain,
                    fields["fromIndex"],
                )
            except InvalidSignature:
                candidate = None
            if candidate is not None and candidate.op.signer == fields["from"]:
                signed = candidate
        return zk_chain.ForcedWithdrawal(queued.index, queued.words, signed)

    def get_next_deposit_index(self) -> int:
        """The number of the first L1 deposit this node has not read yet."""
        self.stale_l1_reads.discard("deposits")
        return self.deposits_credited + len(self.l1_deposits)

    def add_l1_deposits(self, deposits: Sequence[Deposit]) -> None:
        """Deposits read from the rollup, for the next ZK block to credit; each must be the
        next by number (a reader that raced itself adds nothing twice)."""
        if "deposits" in self.stale_l1_reads:
            return  # read from an L1 that an evm_revert has since taken back
        for deposit in deposits:
            if deposit.index == self.get_next_deposit_index():
                self.l1_deposits.append(deposit)

    def use_attestor(self, attestor: Attestor | None) -> None:
        """Attest blocks with `attestor` (the sequencer's keys for the node's rollup) from
        now on; None: attest none."""
        self.attestor = attestor
        self._attested = {}

    def describe_settlement(
        self, height: Height, domain: SigningDomain | None = None
    ) -> SettlementBlock | None:
        """ZK block `height` as L1 settles it (its settlement number: L1 settles only blocks
        with operations, in order), in `domain` (default: the node's signing domain); None
        for a block without operations or not committed."""
        ops = self.store.list_zk_ops_at(height)
        block = self.get_block(self.config.zk_chain_id, height)
        if not ops or block is None:
            return None
        header = BlockHeader(height, block.timestamp_ms // 1000, StateRoot(ops[0].public_inputs[0]))
        statements = [(op.circuit, op.public_inputs[1], op.public_inputs[2:]) for op in ops]
        number = self.store.count_zk_op_heights(height)
        return describe_block(domain or self.signing_domain, number, header, statements)

    def get_attestation(self, height: Height) -> AttestedBlock | None:
        """ZK block `height` as the sequencer attests it for L1: in the decentralized mode,
        with the validators' signatures a height committed (chain/consensus/attestations.py);
        in dev mode, signed by this node's keys (`attestor`) when asked, for blocks it has
        committed. None for a block without operations, or without either."""
        collected = self.store.get_meta(f"{ATTESTATION_META_PREFIX}{height}")
        if collected is not None:
            described = self.describe_settlement(height)
            assert described is not None, "an attested block is a committed one"
            return described.with_attestation(bytes.fromhex(collected))
        if self.attestor is None:
            return None
        cached = self._attested.get(height)
        if cached is not None:
            return cached
        described = self.describe_settlement(height, self.attestor.domain)
        if described is None:
            return None
        attested = described.with_attestation(
            compute_attestation(described.message, self.attestor.keys)
        )
        if len(self._attested) >= ATTESTED_CACHE:
            del self._attested[next(iter(self._attested))]  # the oldest asked for
        self._attested[height] = attested
        return attested

    def get_l1_settled_height(self) -> Height:
        done = self.store.get_meta(L1_SETTLED_META)
        return Height(0 if done is None else int(done))

    def record_l1_settlement(self, height: Height, root: int) -> bool:
        """L1's rollup has settled ZK blocks up to `height`, at state root `root`: their
        operations become `settled` (and, if L1 went back, as an anvil that lost its last
        second does, later ones stop being so). False, and nothing changes, unless `root` is
        this chain's at `height`: then the rollup settles another chain."""
        block = self.get_block(self.config.zk_chain_id, height)
        if block is None or int.from_bytes(block.state_root, "big") != root:
            return False
        previous = self.get_l1_settled_height()
        if height != previous:
            self.store.set_zk_settled_height(L1_SETTLED_META, previous, height)
        return True
