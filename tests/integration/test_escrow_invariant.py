"""The damage bound's first half, on the node's own block production (real executor, real
database): over a long random run of ZKPoW locks, fast-chain transfers and releases back
through the outbox, after every block of either chain, the fast chain's ZKPoW in circulation
never exceeds the ZK chain's escrow, and every wei of the difference is accounted for."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

from chain.config import FAST_CHAIN_ID
from chain.fast.genesis import dev_keys
from chain.fast.system import OUTBOX_ADDRESS, OUTBOX_MESSAGE_FEE_WEI
from chain.ledger.messages import CreditMessage, ReleaseMessage, decode_message
from chain.node import Node, open_node
from chain.types import Address
from chain.zk.ops import ToFast
from chain.zk.signing import format_signed_operation, sign_operation
from chain.zk.state import get_account_index

ETHER = 10**18
BLOCKS = 120
PLAYERS = 6
ZK_FEE = 10**15
RELEASE_GAS = 100_000
TRANSFER_GAS = 21_000
MAX_FEE = 2 * 10**9
NEXT_SEQ_SLOT = 0  # Outbox.sol's nextSeq


def fast_supply(node: Node, addresses: list[Address]) -> int:
    return sum(node.account(address).balance for address in addresses)


def burned_base_fees(node: Node) -> int:
    """ZKPoW the fast chain destroyed: the base fee of every unit of gas (EIP-1559)."""
    total = 0
    for height in range(1, node.fast_head.height + 1):
        block = node.get_block(FAST_CHAIN_ID, height)
        assert block is not None
        total += block.base_fee * block.gas_used
    return total


def undelivered_credits(node: Node) -> int:
    messages = map(decode_message, node.undelivered)
    return sum(m.amount for m in messages if isinstance(m, CreditMessage))


def burned_message_fees(node: Node) -> int:
    """The outbox's fee of every message it numbered: burned there, never released."""
    sent = node.executor.get_storage(node.fast_head.state_root, OUTBOX_ADDRESS, NEXT_SEQ_SLOT)
    return sent * OUTBOX_MESSAGE_FEE_WEI


def untaken_releases(node: Node) -> int:
    """Burned on the fast chain, not yet released from escrow by a ZK block."""
    return sum(m.amount for m in map(decode_message, node.inbox) if isinstance(m, ReleaseMessage))


@pytest.mark.parametrize("executor", ["revm", "pyevm"])
def test_fast_supply_never_exceeds_escrow(tmp_path: Path, executor: str) -> None:
    rng = random.Random(7)
    node = open_node(tmp_path / executor, executor=executor)
    keys = dev_keys()
    players = [Account.create(f"player {i}") for i in range(PLAYERS)]
    known = [to_address(Account.from_key(k).address) for k in keys]
    known += [to_address(p.address) for p in players] + [Address(node.config.fee_recipient)]
    zk_nonces = dict.fromkeys(range(len(keys)), 0)
    fast_nonces: dict[str, int] = {}
    try:
        for _ in range(BLOCKS):
            if rng.random() < 0.3:
                signer = rng.randrange(len(keys))
                to = int(rng.choice(players).address, 16)
                body = ToFast(to, rng.randrange(1, 50) * ETHER)
                nonce = zk_nonces[signer]
                index = get_account_index(
                    node.zk_state, int(Account.from_key(keys[signer]).address, 16)
                )
                domain = node.signing_domain
                signed = sign_operation(body, ZK_FEE, nonce, domain, keys[signer], index or 0)
                node.submit_operation(format_signed_operation(signed))
                zk_nonces[signer] += 1
                node.produce_zk_block()
            else:
                for player in rng.sample(players, 3):
                    send_transfer(node, player, rng.choice(players).address, fast_nonces, rng)
                if rng.random() < 0.3:
                    send_release(node, rng.choice(players), fast_nonces, rng)
                node.produce_fast_block()
            supply = fast_supply(node, known)  # the outbox's burned balance is not in it
            assert supply <= node.zk_state.escrow
            # and exactly: nothing credited or released twice, nothing lost on the way
            accounted = supply + burned_base_fees(node) + undelivered_credits(node)
            accounted += burned_message_fees(node)
            assert accounted + untaken_releases(node) == node.zk_state.escrow
        assert sum(fast_supply(node, [to_address(p.address)]) for p in players) > 0
        assert node.account(OUTBOX_ADDRESS).balance > 0, "no release was ever sent"
    finally:
        node.close()


def to_address(hex_address: str) -> Address:
    return Address(bytes.fromhex(hex_address[2:]))


def send_transfer(
    node: Node, sender: LocalAccount, to: str, nonces: dict[str, int], rng: random.Random
) -> None:
    balance = node.account(to_address(sender.address)).balance
    cost = TRANSFER_GAS * MAX_FEE
    if balance > cost:
        send(node, sender, to, rng.randrange(0, balance - cost), b"", TRANSFER_GAS, nonces)


def send_release(
    node: Node, sender: LocalAccount, nonces: dict[str, int], rng: random.Random
) -> None:
    """Burn part of the sender's balance through the outbox, for themselves on the ZK chain."""
    balance = node.account(to_address(sender.address)).balance
    cost = RELEASE_GAS * MAX_FEE + OUTBOX_MESSAGE_FEE_WEI
    if balance <= cost + 4:
        return
    data = keccak(text="release(address)")[:4] + bytes(12) + to_address(sender.address)
    value = OUTBOX_MESSAGE_FEE_WEI + rng.randrange(1, (balance - cost) // 2)
    send(node, sender, to_checksum_address(OUTBOX_ADDRESS), value, data, RELEASE_GAS, nonces)


def send(
    node: Node,
    sender: LocalAccount,
    to: str,
    value: int,
    data: bytes,
    gas: int,
    nonces: dict[str, int],
) -> None:
    address = sender.address
    nonce = nonces.get(address, node.pending_nonce(to_address(address)))
    tx = {
        "to": to,
        "value": value,
        "data": data,
        "gas": gas,
        "maxFeePerGas": MAX_FEE,
        "maxPriorityFeePerGas": 10**9,
        "nonce": nonce,
        "chainId": FAST_CHAIN_ID,
    }
    node.submit_raw(sender.sign_transaction(tx).raw_transaction)
    nonces[address] = nonce + 1
