"""The pending-transaction pool: admission rules and the choice of the next block's batch.

Transactions from one sender may arrive out of nonce order (several connections, one
wallet); they wait until the gap closes. Across senders, arrival order decides.
"""

from collections.abc import Iterable

from chain.config import POOL_MAX_PER_SENDER, POOL_MAX_TOTAL
from chain.ensure import ensure
from chain.fast.executor import Account
from chain.fast.txs import MAX_INITCODE_SIZE, FastTx, InvalidTransaction, compute_intrinsic_gas
from chain.types import Address, Hash32


class TxPool:
    def __init__(self) -> None:
        self.by_hash: dict[Hash32, FastTx] = {}  # insertion order is arrival order
        self.by_sender: dict[Address, dict[int, Hash32]] = {}

    def __len__(self) -> int:
        return len(self.by_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self.by_hash

    def validate(
        self, tx: FastTx, account: Account, min_base_fee: int, block_gas_limit: int
    ) -> None:
        """Raise InvalidTransaction unless `tx` may wait in this pool: the rules of the head
        state (`validate_for_head`) and the pool's own."""
        ensure(tx.hash not in self.by_hash, InvalidTransaction, f"already known: {tx.hash.hex()}")
        ensure(
            len(self.by_hash) < POOL_MAX_TOTAL,
            InvalidTransaction,
            "transaction pool is full; retry later",
        )
        ensure(
            tx.nonce not in self.by_sender.get(tx.sender, {}),
            InvalidTransaction,
            f"replacement transaction not supported: nonce {tx.nonce} is already pending",
        )
        validate_for_head(tx, account, min_base_fee, block_gas_limit)

    def add(self, tx: FastTx) -> None:
        self.by_hash[tx.hash] = tx
        self.by_sender.setdefault(tx.sender, {})[tx.nonce] = tx.hash

    def remove(self, hashes: Iterable[Hash32]) -> None:
        for tx_hash in hashes:
            tx = self.by_hash.pop(tx_hash, None)
            if tx is None:
                continue
            pending = self.by_sender[tx.sender]
            pending.pop(tx.nonce, None)
            if not pending:
                del self.by_sender[tx.sender]

    def select(self, next_nonces: dict[Address, int], limit: int) -> list[FastTx]:
        """Executable transactions in arrival order, each sender's in nonce order.

        `next_nonces` holds each sender's account nonce at the head state.
        """
        expected = dict(next_nonces)
        chosen: list[FastTx] = []
        waiting = list(self.by_hash.values())
        progress = True
        while progress and waiting and len(chosen) < limit:
            progress = False
            still_waiting = []
            for tx in waiting:
                if len(chosen) < limit and tx.nonce == expected[tx.sender]:
                    chosen.append(tx)
                    expected[tx.sender] = tx.nonce + 1
                    progress = True
                else:
                    still_waiting.append(tx)
            waiting = still_waiting
        return chosen

    def senders(self) -> list[Address]:
        return list(self.by_sender)


def validate_for_head(
    tx: FastTx, account: Account, min_base_fee: int, block_gas_limit: int
) -> None:
    """Raise InvalidTransaction unless `tx` may be included after the head whose state holds
    `account` (its sender): nonce, gas, fee and balance, whatever any pool holds."""
    ensure(
        tx.nonce >= account.nonce,
        InvalidTransaction,
        f"nonce too low: next nonce {account.nonce}, transaction nonce {tx.nonce}",
    )
    ensure(
        tx.nonce < account.nonce + POOL_MAX_PER_SENDER,
        InvalidTransaction,
        f"nonce too high: next nonce {account.nonce}, transaction nonce {tx.nonce} "
        f"(at most {POOL_MAX_PER_SENDER} queued per sender)",
    )
    ensure(
        tx.to is not None or len(tx.data) <= MAX_INITCODE_SIZE,
        InvalidTransaction,
        f"max initcode size exceeded: {len(tx.data)} bytes, at most {MAX_INITCODE_SIZE}",
    )
    intrinsic = compute_intrinsic_gas(tx)
    ensure(
        tx.gas >= intrinsic,
        InvalidTransaction,
        f"intrinsic gas too low: need {intrinsic}, gas {tx.gas}",
    )
    ensure(
        tx.gas <= block_gas_limit,
        InvalidTransaction,
        f"exceeds block gas limit: gas {tx.gas}, limit {block_gas_limit}",
    )
    ensure(
        tx.max_fee_per_gas >= min_base_fee,
        InvalidTransaction,
        f"max fee per gas {tx.max_fee_per_gas} is below the minimum base fee {min_base_fee}",
    )
    ensure(
        account.balance >= tx.max_cost(),
        InvalidTransaction,
        f"insufficient funds for gas * price + value: balance {account.balance}, "
        f"cost {tx.max_cost()}",
    )
