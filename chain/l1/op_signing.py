"""Signed operations as the rollup checks them at settlement (docs/l1.md, "Signed operations").

A signed operation's signature (chain/zk/signing.py) is over an EIP-712 struct, for instance

    Transfer(address to, uint256 amount, uint256 fee, uint32 nonce)

in the rollup's domain. Every field of that struct is in the operation's public words: the
rollup reads them back (`Rollup.opDigest`) and requires `ecrecover` to give the `from` of
the first word. This module makes the tables the rollup reads them with, one per signed
circuit, from the two facts of its `OpSpec` (chain/zk/registry.py) that they join: the
struct's fields (`signed`) and the words' layout (`words`). Each field is found by its name
in the words, the fee in gwei (`feeGwei`, scaled back to wei), a mint's collection as the top
bits of its token key (the spec's `within`).

Pure; `compute_op_digest` is the contract's `opDigest` in Python, and the tests hold the two
and the signer's own digest equal for every signed circuit.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_utils import keccak

from chain.l1.calldata import L1CircuitName
from chain.l1.errors import L1Error
from chain.ledger.store import ZkOpRecord
from chain.zk.ops import GWEI
from chain.zk.registry import CIRCUIT_NAMES, SPEC_OF_CIRCUIT, WORD_LAYOUTS, CircuitName
from chain.zk.signing import DOMAIN_NAME, DOMAIN_VERSION, HEADER_FIELDS, SigningDomain

PLAIN = 0  # the field's bits as they are
IN_GWEI = 1  # the field holds gwei; the struct has wei
# Per field in the packed table: word (4 bits), kind (4), shift (8), bits (8). The table
# shares its storage word with the epoch place (the top 32 bits: FIELDS_BITS below them).
FIELD_BITS = 24
COUNT_BITS = 8
FIELDS_BITS = 224
MAX_FIELDS = (FIELDS_BITS - COUNT_BITS) // FIELD_BITS
DOMAIN_TYPE = b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
# A struct field that the words hold under another name, and scaled.
RENAMED_FIELDS: dict[str, tuple[str, int]] = {"fee": ("feeGwei", IN_GWEI)}


@dataclass(frozen=True)
class FieldPlace:
    """Where one struct field is in the words: bits [shift, shift + bits) of word `word`."""

    word: int
    shift: int
    bits: int
    kind: int = PLAIN

    def read(self, words: Sequence[int]) -> int:
        value = (words[self.word] >> self.shift) & ((1 << self.bits) - 1)
        return value * GWEI if self.kind == IN_GWEI else value


@dataclass(frozen=True)
class SigningTable:
    """How the rollup reads one signed circuit's struct from its words."""

    type_string: str  # e.g. "Transfer(address to,uint256 amount,uint256 fee,uint32 nonce)"
    fields: tuple[FieldPlace, ...]

    @property
    def type_hash(self) -> bytes:
        return keccak(self.type_string.encode())

    def pack_fields(self) -> int:
        """The fields as the rollup stores them (`opFields`): count, then 24 bits each."""
        packed = len(self.fields)
        for i, place in enumerate(self.fields):
            spec = place.word | place.kind << 4 | place.shift << 8 | place.bits << 16
            packed |= spec << (COUNT_BITS + FIELD_BITS * i)
        return packed


def find_word_field(circuit: CircuitName, name: str) -> FieldPlace:
    """Where word field `name` of `circuit` is."""
    for word, layout in enumerate(WORD_LAYOUTS[circuit]):
        shift = 0
        for field_name, width in layout:
            if field_name == name:
                return FieldPlace(word, shift, width)
            shift += width
    raise L1Error(f"{circuit}'s words have no field {name!r}")


def compute_signing_table(name: L1CircuitName) -> SigningTable | None:
    """The table of circuit `name`'s signed struct; None for a circuit nobody signs."""
    spec = SPEC_OF_CIRCUIT.get(name)
    if spec is None or spec.signed is None:
        return None
    circuit = spec.circuit
    members = [(wire, sol_type) for wire, sol_type, _ in spec.signed.members] + HEADER_FIELDS
    within = dict(spec.signed.within)
    places = []
    for wire, _ in members:
        if wire in within:
            source, below = within[wire]
            place = find_word_field(circuit, source)
            places.append(FieldPlace(place.word, place.shift + below, place.bits - below))
        elif wire in RENAMED_FIELDS:
            source, kind = RENAMED_FIELDS[wire]
            place = find_word_field(circuit, source)
            places.append(FieldPlace(place.word, place.shift, place.bits, kind))
        else:
            places.append(find_word_field(circuit, wire))
    if len(places) > MAX_FIELDS:
        raise L1Error(f"{circuit} signs {len(places)} fields; the rollup reads {MAX_FIELDS}")
    type_string = f"{spec.signed.primary}({','.join(f'{t} {w}' for w, t in members)})"
    return SigningTable(type_string, tuple(places))


def list_signing_tables() -> tuple[list[bytes], list[int]]:
    """The constructor's `opTypeHashes` and `opFields`, by circuit id (zero: unsigned)."""
    hashes, fields = [], []
    for circuit in CIRCUIT_NAMES:
        table = compute_signing_table(circuit)
        hashes.append(bytes(32) if table is None else table.type_hash)
        fields.append(0 if table is None else table.pack_fields())
    return hashes, fields


def is_signed_circuit(circuit: L1CircuitName) -> bool:
    return compute_signing_table(circuit) is not None


def compute_domain_separator(domain: SigningDomain) -> bytes:
    return keccak(
        keccak(DOMAIN_TYPE)
        + keccak(DOMAIN_NAME.encode())
        + keccak(DOMAIN_VERSION.encode())
        + domain.chain_id.to_bytes(32, "big")
        + int(domain.verifying_contract, 16).to_bytes(32, "big")
    )


def compute_op_digest(domain: SigningDomain, circuit: L1CircuitName, words: Sequence[int]) -> bytes:
    """What the `from` of a signed operation with these words signed: the rollup's
    `opDigest`."""
    table = compute_signing_table(circuit)
    if table is None:
        raise L1Error(f"nobody signs a {circuit} operation")
    encoded = table.type_hash + b"".join(
        place.read(words).to_bytes(32, "big") for place in table.fields
    )
    return keccak(b"\x19\x01" + compute_domain_separator(domain) + keccak(encoded))


def sign_op_digest(digest: bytes, key: bytes) -> bytes:
    """A 65-byte r ‖ s ‖ v signature of `digest` (what signing the typed data gives)."""
    signed = Account.unsafe_sign_hash(digest, key)
    return bytes(signed.signature)


def compute_op_signatures(ops: list[ZkOpRecord]) -> bytes:
    """The `signatures` argument of submitBlock: each signed operation's signature, in
    block order (chain/l1/op_signing.py)."""
    return b"".join(
        bytes.fromhex(op.body["signature"][2:]) for op in ops if is_signed_circuit(op.circuit)
    )
