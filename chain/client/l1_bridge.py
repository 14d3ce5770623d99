"""ZKPoW between L1 and the ZK chain, for users: deposit on L1, then claim on L1 what a
settled withdrawal pays.

A deposit is one L1 call (`RollupClient.deposit`); the node reads it and its next ZK block
credits it. A withdrawal is a ZK operation (`ZkClient.withdraw`); once its block is settled,
`claim_withdrawal` finds it in the settling transaction's calldata (nothing but L1 is
trusted for the proof), builds its Merkle proof and has the rollup pay it.
"""

from dataclasses import dataclass

from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils import to_checksum_address
from web3.types import BlockIdentifier, TxReceipt

from chain.client.zk import ZkClient
from chain.l1.errors import L1Error
from chain.l1.op_signing import compute_op_digest, sign_op_digest
from chain.l1.reconstruct import compute_settled_block
from chain.l1.rollup import RollupClient, Settlement
from chain.l1.withdrawals import (
    Withdrawal,
    compute_withdrawal_leaf,
    compute_withdrawal_proof,
    list_withdrawals,
)
from chain.types import Hash32, Height
from chain.zk.ops import GWEI
from chain.zk.signing import SigningDomain
from chain.zk.words import HEADER_LAYOUT, pack_word


@dataclass(frozen=True)
class Claim:
    withdrawal: Withdrawal
    receipt: TxReceipt


def find_settlement(
    rollup: RollupClient, height: Height, from_block: BlockIdentifier = 0
) -> Settlement:
    """The BlockSettled event of ZK height `height`; L1Error if L1 has not settled it."""
    settlements = rollup.list_settlements(from_block, height=height)
    if not settlements:
        raise L1Error(f"ZK block {height} is not settled on L1 (yet)")
    return settlements[0]


def list_settled_withdrawals(
    rollup: RollupClient, height: Height, from_block: BlockIdentifier = 0
) -> list[Withdrawal]:
    """The withdrawals of the block settled at `height`, read from its L1 calldata."""
    settlement = find_settlement(rollup, height, from_block)
    tx = rollup.w3.eth.get_transaction(Hash32(settlement.tx_hash))
    block = compute_settled_block(rollup, settlement, tx)
    return list_withdrawals(height, block.ops)


def claim_withdrawal(
    rollup: RollupClient,
    height: Height,
    to: str,
    amount: int,
    from_block: BlockIdentifier = 0,
) -> Claim:
    """Have the rollup pay the first unclaimed withdrawal of `amount` to `to` in the block
    settled at `height` (the rollup's sender signs; anyone may). L1Error if there is none."""
    recipient: ChecksumAddress = to_checksum_address(to)
    withdrawals = list_settled_withdrawals(rollup, height, from_block)
    leaves = [compute_withdrawal_leaf(w) for w in withdrawals]
    matching = [w for w in withdrawals if (w.to, w.amount) == (recipient, amount)]
    if not matching:
        raise L1Error(f"ZK block {height} holds no withdrawal of {amount} wei to {recipient}")
    for withdrawal in matching:
        if not rollup.is_withdrawal_claimed(height, withdrawal.position):
            proof = compute_withdrawal_proof(leaves, withdrawal.position)
            return Claim(withdrawal, rollup.claim_withdrawal(withdrawal, proof))
    raise L1Error(f"the withdrawal of {amount} wei to {recipient} in block {height} is claimed")


def find_withdrawal_height(rollup: RollupClient, to: str, amount: int) -> Height | None:
    """The newest settled block holding a withdrawal of `amount` to `to`, or None."""
    recipient = to_checksum_address(to)
    for settlement in reversed(rollup.list_settlements()):
        withdrawals = list_settled_withdrawals(rollup, settlement.height)
        if any((w.to, w.amount) == (recipient, amount) for w in withdrawals):
            return settlement.height
    return None


def force_withdraw(zk: ZkClient, rollup: RollupClient, to: str, amount: int) -> int:
    """Queue a Withdraw of `amount` to `to` (an L1 address) on the rollup itself, for a user
    whose operations the sequencer ignores: signed by `zk`'s key with its account's index and
    next nonce, as the withdraw circuit's words; `rollup`'s sender pays the force fee. Returns
    its place in the queue (docs/l1.md, "Forced withdrawals and the escape hatch")."""
    account = zk.rpc("duet_getAccount", zk.address)
    if account["index"] is None:
        raise L1Error(f"{zk.address} has no account on the ZK chain: nothing to withdraw")
    words, signature = make_forced_withdraw(
        rollup.get_domain(),
        bytes(zk.account.key),
        int(account["index"]),
        int(account["pendingNonce"], 16),
        zk.fee,
        to,
        amount,
    )
    return rollup.force_withdraw(words, signature)


def make_forced_withdraw(
    domain: SigningDomain,
    key: bytes,
    from_index: int,
    nonce: int,
    fee_wei: int,
    to: str,
    amount: int,
) -> tuple[tuple[int, int, int], bytes]:
    """The words (the withdraw circuit's) and signature of a Withdraw for `forceWithdraw`."""
    header = {
        "from": int(Account.from_key(key).address, 16),
        "fromIndex": from_index,
        "nonce": nonce,
        "feeGwei": fee_wei // GWEI,
    }
    words = (pack_word(HEADER_LAYOUT, header), int(to, 16), amount)
    return words, sign_op_digest(compute_op_digest(domain, "withdraw", words), key)
