"""Receipts, blooms and roots against py-evm's own receipt objects and tries."""

from __future__ import annotations

from eth.db.trie import make_trie_root_and_nodes
from eth.vm.forks.byzantium.constants import EIP658_TRANSACTION_STATUS_CODE_FAILURE as FAILURE
from eth.vm.forks.byzantium.constants import EIP658_TRANSACTION_STATUS_CODE_SUCCESS as SUCCESS
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.fast.executor import Log, TxOutcome
from chain.fast.receipts import compute_block_commitments
from chain.types import Address
from tests.conformance.harness import GWEI, make_key, sign

KEY = make_key(77)
TOPIC = st.binary(min_size=32, max_size=32)
LOGS = st.lists(
    st.builds(
        Log,
        address=st.binary(min_size=20, max_size=20).map(Address),
        topics=st.lists(TOPIC, max_size=4).map(tuple),
        data=st.binary(max_size=70),
    ),
    max_size=3,
).map(tuple)
KINDS = {
    "legacy": {"gasPrice": GWEI},
    "access list": {"gasPrice": GWEI, "accessList": []},
    "dynamic fee": {},
}


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(KINDS)), st.booleans(), LOGS, st.integers(0, 10**6)),
        max_size=6,
    )
)
def test_commitments_match_py_evm(specs: list[tuple[str, bool, tuple[Log, ...], int]]) -> None:
    outcomes, cumulative = [], 0
    for nonce, (kind, success, logs, gas) in enumerate(specs):
        tx = sign(KEY, nonce, to=b"\x11" * 20, **KINDS[kind])
        cumulative += gas
        outcomes.append(TxOutcome(tx, success, gas, cumulative, logs if success else (), None))
    receipts = [
        o.tx.evm.make_receipt(
            SUCCESS if o.success else FAILURE,
            o.cumulative_gas_used,
            tuple((g.address, tuple(int.from_bytes(t) for t in g.topics), g.data) for g in o.logs),
        )
        for o in outcomes
    ]
    tx_root, receipts_root, bloom, blooms = compute_block_commitments(outcomes)
    assert tx_root == make_trie_root_and_nodes(tuple(o.tx.evm for o in outcomes))[0]
    assert receipts_root == make_trie_root_and_nodes(tuple(receipts))[0]
    assert blooms == [r.bloom.to_bytes(256, "big") for r in receipts]
    combined = 0
    for receipt in receipts:
        combined |= receipt.bloom
    assert bloom == combined.to_bytes(256, "big")
