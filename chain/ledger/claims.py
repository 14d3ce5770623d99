"""What a block's header claims, checked against the header its body recomputes.

Both chains check a proposed block the same way (execution-specs' `state_transition`):
the ledger position first (`chain.ledger.log.validate_append`), then the body is applied to
the checker's own state, and each root the header claims must equal the recomputed one. Each
claim has its own error, a kind of `InvalidBlock`, so a refusal says which claim was false.
"""

from chain.ensure import ensure
from chain.ledger.blocks import LedgerBlock
from chain.ledger.log import InvalidBlock


class WrongStateRoot(InvalidBlock):
    """The header's state root is not the root after its body."""


class WrongTransactionsRoot(InvalidBlock):
    """The header's transactions root (the ZK chain's operations hash) or transaction list is
    not its body's."""


class WrongReceiptsRoot(InvalidBlock):
    """The header's receipts root is not the root of its body's receipts."""


class WrongMessages(InvalidBlock):
    """The header's cross-chain message list is not what its body delivered and emitted."""


class WrongHeaderField(InvalidBlock):
    """A header field other than a root (timestamp, gas, base fee, bloom) is not its body's."""


class InvalidBody(InvalidBlock):
    """A transaction or operation of the body cannot be applied."""


def check_claims(claimed: LedgerBlock, computed: LedgerBlock) -> None:
    """Refuse `claimed` unless every field equals `computed`'s, the header its body makes:
    first what the block carries (transactions, messages), then what executing it made."""
    ensure(
        claimed.tx_hashes == computed.tx_hashes,
        WrongTransactionsRoot,
        "the transaction list is not the body's",
    )
    ensure(
        claimed.transactions_root == computed.transactions_root,
        WrongTransactionsRoot,
        f"transactions root {claimed.transactions_root.hex()} is not "
        f"{computed.transactions_root.hex()}",
    )
    ensure(
        claimed.messages == computed.messages,
        WrongMessages,
        f"{len(claimed.messages)} messages claimed, {len(computed.messages)} made, or in "
        "another order or content",
    )
    ensure(
        claimed.state_root == computed.state_root,
        WrongStateRoot,
        f"state root {claimed.state_root.hex()} is not {computed.state_root.hex()}",
    )
    ensure(
        claimed.receipts_root == computed.receipts_root,
        WrongReceiptsRoot,
        f"receipts root {claimed.receipts_root.hex()} is not {computed.receipts_root.hex()}",
    )
    for name in ("timestamp_ms", "gas_used", "gas_limit", "base_fee", "logs_bloom"):
        ensure(
            getattr(claimed, name) == getattr(computed, name),
            WrongHeaderField,
            f"{name} is not the body's",
        )
    # Every field the hash covers is checked above: a mismatch here is a bug.
    ensure(claimed.hash == computed.hash, InvalidBlock, "the block hash is not the body's")
