"""Domain types shared across Duet's layers.

NewTypes cost nothing at run time and let mypy catch a height passed where a sequence
number was expected.
"""

from typing import Literal, NewType

# py-evm speaks eth_typing's Address and Hash32: reuse them rather than convert at every call.
from eth_typing import Address, Hash32

ChainId = NewType("ChainId", int)
Seq = NewType("Seq", int)  # position of a block in the braided ledger, from 0
Height = NewType("Height", int)  # a block's number within its own chain, from 0
Wei = NewType("Wei", int)  # the smallest unit of ZKPoW (10**-18)
Root = NewType("Root", bytes)  # a 32-byte state / trie root
# The prover market's (chain/market) names, spoken by the node and its clients too.
ProverId = NewType("ProverId", int)  # a prover's ZK-chain address, as an integer (chain/zk)
JobId = NewType("JobId", bytes)  # an operation's op_id, or compute_aggregate_job_id(height)
# An operation's proof, or the aggregation of a ZK block's proofs for the rollup contract.
JobKind = Literal["op", "aggregate"]

__all__ = [
    "Address",
    "ChainId",
    "Hash32",
    "Height",
    "JobId",
    "JobKind",
    "ProverId",
    "Root",
    "Seq",
    "Wei",
]
