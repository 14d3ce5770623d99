"""The sequencer's attestation of a ZK block, which the rollup requires before it settles one.

L1 settles only what the sequencer ordered: each block goes to `Rollup.submitBlock` with the
sequencers' EIP-712 signatures of

    Block(uint64 number, uint64 height, uint64 timestamp, uint256 preRoot, uint256 postRoot,
          bytes32 opsHash)

in the rollup's domain ("Duet", "1", the L1 chain id, the rollup's address), where `number`
is the settlement's number (the rollup counts them: 1, 2, ...), and `opsHash` is keccak256 of
the block's statements, each operation's circuit id ‖ post-root ‖ words without its proof: a
sequencer signs a block when it makes it, before any prover has proven it. Anyone may relay
an attested block; nobody can change, reorder, split or renumber it without the sequencers
signing again. docs/l1.md, "The attestation".

Pure: the digest and the signatures, given the keys.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_typing import ChecksumAddress
from eth_utils import keccak, to_checksum_address

from chain.l1.calldata import (
    CIRCUIT_ID_BYTES,
    L1_CIRCUIT_NAMES,
    WORD_BYTES,
    SettledOp,
    StateRoot,
)
from chain.l1.errors import L1Error
from chain.types import Height
from chain.zk.signing import SigningDomain, compute_typed_message

SIGNATURE_BYTES = 65  # r ‖ s ‖ v, v = 27 or 28: what ecrecover takes
BLOCK_FIELDS = [
    ("number", "uint64"),
    ("height", "uint64"),
    ("timestamp", "uint64"),
    ("preRoot", "uint256"),
    ("postRoot", "uint256"),
    ("opsHash", "bytes32"),
]


# One operation as the sequencer attests it: (circuit name, post-root, words).
Statement = tuple[str, int, Sequence[int]]


@dataclass(frozen=True)
class Attestor:
    """A sequencer's keys for one rollup (the dev node: one key)."""

    domain: SigningDomain
    keys: tuple[bytes, ...]


@dataclass(frozen=True)
class BlockHeader:
    """What submitBlock takes besides the operations (the contract's `BlockHeader`)."""

    height: Height
    timestamp: int  # seconds
    pre_root: StateRoot

    def to_abi(self) -> tuple[int, int, int]:
        return (int(self.height), self.timestamp, int(self.pre_root))


@dataclass(frozen=True)
class AttestedBlock:
    """A block as the sequencer signed it, ready to relay once its operations are proven."""

    number: int
    header: BlockHeader
    post_root: StateRoot
    ops_hash: bytes
    attestation: bytes  # the signatures, SIGNATURE_BYTES each, ascending by signer


def compute_statement_bytes(circuit_id: int, post_root: int, words: Sequence[int]) -> bytes:
    """One operation's part of the ops hash: its circuit id ‖ post-root ‖ words."""
    fields = [post_root, *words]
    return circuit_id.to_bytes(CIRCUIT_ID_BYTES, "big") + b"".join(
        value.to_bytes(WORD_BYTES, "big") for value in fields
    )


def find_circuit_id(circuit: str) -> int:
    if circuit not in L1_CIRCUIT_NAMES:
        raise L1Error(f"no circuit is named {circuit!r}")
    return L1_CIRCUIT_NAMES.index(circuit)


def compute_ops_hash(statements: Iterable[Statement]) -> bytes:
    """keccak256 of the block's statements, (circuit, post-root, words) per operation, proofs
    left out: the rollup's `_hashStatements`."""
    return keccak(
        b"".join(
            compute_statement_bytes(find_circuit_id(circuit), post_root, words)
            for circuit, post_root, words in statements
        )
    )


def list_statements(ops: Sequence[SettledOp]) -> list[Statement]:
    return [(op.circuit, op.post_root, op.words) for op in ops]


def compute_block_message(
    domain: SigningDomain,
    number: int,
    header: BlockHeader,
    post_root: StateRoot,
    ops_hash: bytes,
) -> SignableMessage:
    message = {
        "number": number,
        "height": int(header.height),
        "timestamp": header.timestamp,
        "preRoot": int(header.pre_root),
        "postRoot": int(post_root),
        "opsHash": ops_hash,
    }
    typed = compute_typed_message(domain, "Block", BLOCK_FIELDS, message)
    return encode_typed_data(full_message=typed)


def compute_digest(message: SignableMessage) -> bytes:
    """The 32 bytes that are signed, and that the rollup's `blockDigest` returns."""
    return keccak(b"\x19" + message.version + message.header + message.body)


def compute_attestation(message: SignableMessage, keys: Sequence[bytes]) -> bytes:
    """Each key's signature of `message`, ascending by signer (the rollup counts each signer
    once by requiring that order)."""
    signed = sorted(
        (int(Account.from_key(key).address, 16), Account.sign_message(message, key).signature)
        for key in keys
    )
    return b"".join(bytes(signature) for _, signature in signed)


@dataclass(frozen=True)
class SettlementBlock:
    """A block as the rollup settles it, before anyone signed it: its settlement number,
    header, post-root and ops hash, and the EIP-712 message the sequencers sign."""

    number: int
    header: BlockHeader
    post_root: StateRoot
    ops_hash: bytes
    message: SignableMessage

    def with_attestation(self, attestation: bytes) -> AttestedBlock:
        return AttestedBlock(self.number, self.header, self.post_root, self.ops_hash, attestation)


def describe_block(
    domain: SigningDomain, number: int, header: BlockHeader, statements: Sequence[Statement]
) -> SettlementBlock:
    """The block of `statements` (circuit, post-root, words per operation) after `header`, as
    settlement `number`."""
    if not statements:
        raise L1Error("a block without operations is not settled")
    post_root = StateRoot(statements[-1][1])
    ops_hash = compute_ops_hash(statements)
    message = compute_block_message(domain, number, header, post_root, ops_hash)
    return SettlementBlock(number, header, post_root, ops_hash, message)


def attest_block(
    domain: SigningDomain,
    number: int,
    header: BlockHeader,
    statements: Sequence[Statement],
    keys: Sequence[bytes],
) -> AttestedBlock:
    """The block of `statements` after `header`, as settlement `number`, signed by `keys`."""
    block = describe_block(domain, number, header, statements)
    return block.with_attestation(compute_attestation(block.message, keys))


def recover_signers(message: SignableMessage, attestation: bytes) -> list[ChecksumAddress]:
    """Who signed `message` in `attestation`; L1Error if it is not whole signatures."""
    if not attestation or len(attestation) % SIGNATURE_BYTES:
        raise L1Error(f"an attestation is {SIGNATURE_BYTES}-byte signatures: {len(attestation)}")
    return [
        to_checksum_address(
            Account.recover_message(message, signature=attestation[i : i + SIGNATURE_BYTES])
        )
        for i in range(0, len(attestation), SIGNATURE_BYTES)
    ]
