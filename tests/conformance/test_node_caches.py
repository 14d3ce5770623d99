"""The fast executor's node caches hold the head's tries, not the chain's history.

Every block rewrites the paths to what it changed, so the nodes of the parent's paths are
dead for every later block. The caches of stored nodes (NodeCache) and of decoded ones
(TrieReader) drop them when the block is stored (BlockResult.retired_nodes); before they
did, both grew by every block's new nodes until their caps of 500,000 and 200,000 entries,
which a long-running node reached at hundreds of megabytes."""

from __future__ import annotations

from chain.fast.revm_executor import RevmExecutor
from chain.types import Address
from tests.conformance.harness import (
    FUNDED,
    Lockstep,
    address_of,
    assemble,
    make_key,
    sign,
)

STORE = assemble(0, "CALLDATALOAD", 32, "CALLDATALOAD", "SSTORE", "STOP")  # [value, slot]
CONTRACT = Address(b"\x5e" * 20)
PLAYERS = [make_key(n) for n in range(6)]


def play(chain: Lockstep, height: int) -> None:
    """Each player writes its own slot, and pays the next one a little."""
    txs = []
    for n, player in enumerate(PLAYERS):
        nonce = chain.nonces.get(address_of(player), 0)
        data = (height + 1).to_bytes(32, "big") + n.to_bytes(32, "big")
        txs.append(sign(player, nonce, to=CONTRACT, data=data))
        txs.append(sign(player, nonce + 1, to=address_of(PLAYERS[(n + 1) % 6]), value=height + 1))
    result = chain.apply(txs)
    assert all(o.success for o in result.outcomes)


def test_caches_keep_the_head_not_the_history() -> None:
    chain = Lockstep.start(
        RevmExecutor, {address_of(p): FUNDED for p in PLAYERS}, {CONTRACT: STORE}
    )
    executor = chain.executor
    assert isinstance(executor, RevmExecutor)
    for height in range(5):
        play(chain, height)
    settled = len(executor.cache), len(executor.trie.decoded)
    for height in range(5, 45):
        play(chain, height)
    assert (len(executor.cache), len(executor.trie.decoded)) == settled
