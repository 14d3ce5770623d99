"""EIP-712 signing of ZK operations, and their JSON form on the wire.

The domain is the rollup's on L1 ("Duet", "1", the L1 chain id, the rollup's address: the
one its block attestations use), and each message carries its account nonce, so a signature
is good for one operation of one deployment. The rollup rebuilds the same digest from the
operation's public words and checks the signature again at settlement (chain/l1/op_signing.py,
docs/l1.md "Signed operations"). A node without a rollup signs in its local domain: its ZK
chain id and the zero address. The same code signs (the client) and checks (the node).
"""

import re
from dataclasses import dataclass
from typing import Any

from eth_account import Account as EthAccount
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak, to_checksum_address

from chain.zk.ops import Operation, SignedBody
from chain.zk.registry import OPS

DOMAIN_NAME = "Duet"
DOMAIN_VERSION = "1"
ZERO_ADDRESS = "0x" + "00" * 20

# Per signed type: the EIP-712 primary type, and its fields as (wire name, Solidity type,
# attribute), from its OpSpec.
OP_TYPES: dict[type, tuple[str, list[tuple[str, str, str]]]] = {
    spec.body: (spec.signed.primary, list(spec.signed.members))
    for spec in OPS
    if spec.signed is not None
}
TYPES_BY_NAME = {name: cls for cls, (name, _) in OP_TYPES.items()}
# Every signed operation's own fields end with these. fromIndex, the signer's account index,
# makes a signature good for one account leaf: no second leaf for the same address (which no
# circuit rules out) can replay it (docs/l1.md, "Signed operations").
HEADER_FIELDS = [("fee", "uint256"), ("nonce", "uint32"), ("fromIndex", "uint16")]
# The wire form's numbers: a JSON integer, 0x and hex digits, or decimal digits; ASCII digits
# only (int() would take a sign, "_", whitespace and any Unicode digit, and str.isdigit()
# passes "²", which int() then refuses). A decimal has at most the 78 digits of 2**256 - 1,
# far below Python's 4,300-digit limit on converting one.
UINT_BITS = {f"uint{bits}": bits for bits in range(8, 257, 8)}
MAX_DECIMAL_DIGITS = len(str(2**256 - 1))
HEX_NUMBER = re.compile(r"0[xX][0-9a-fA-F]+")
DECIMAL_NUMBER = re.compile(r"[0-9]+")
HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
HEX_SIGNATURE = re.compile(r"0x[0-9a-fA-F]{130}")


@dataclass(frozen=True)
class SigningDomain:
    """Where a signature is good: the L1 chain id and the rollup's address (checksummed)."""

    chain_id: int
    verifying_contract: str

    @classmethod
    def local(cls, zk_chain_id: int) -> "SigningDomain":
        """The domain of a node that settles on no rollup."""
        return cls(zk_chain_id, ZERO_ADDRESS)

    def to_json(self) -> dict[str, Any]:
        return {"chainId": self.chain_id, "verifyingContract": self.verifying_contract}

    @classmethod
    def from_json(cls, obj: Any) -> "SigningDomain":
        try:
            return cls(int(obj["chainId"]), to_checksum_address(obj["verifyingContract"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidSignature(f"not a signing domain: {obj!r}") from exc


class InvalidSignature(Exception):
    """A signed operation that cannot be decoded or whose signature does not check out."""


@dataclass(frozen=True)
class SignedOperation:
    op: Operation
    signature: bytes
    op_id: bytes  # keccak(EIP-712 digest ‖ signer): stable whatever the signature's encoding

    @property
    def type_name(self) -> str:
        return OP_TYPES[type(self.op.body)][0]


def compute_typed_data(
    body: SignedBody, fee: int, nonce: int, domain: SigningDomain, from_index: int
) -> dict[str, Any]:
    name, spec = OP_TYPES[type(body)]
    message: dict[str, Any] = {}
    for wire, sol_type, attr in spec:
        value = getattr(body, attr)
        message[wire] = (
            to_checksum_address(value.to_bytes(20, "big")) if sol_type == "address" else value
        )
    message["fee"] = fee
    message["nonce"] = nonce
    message["fromIndex"] = from_index
    fields = [(w, t) for w, t, _ in spec] + HEADER_FIELDS
    return compute_typed_message(domain, name, fields, message)


def compute_typed_message(
    domain: SigningDomain, primary: str, fields: list[tuple[str, str]], message: dict[str, Any]
) -> dict[str, Any]:
    """EIP-712 typed data of `message`, a `primary` struct of `fields` (name, Solidity type),
    in `domain`: what wallets sign, for an operation or a block attestation alike."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary: [{"name": name, "type": kind} for name, kind in fields],
        },
        "primaryType": primary,
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": domain.chain_id,
            "verifyingContract": domain.verifying_contract,
        },
        "message": message,
    }


def compute_signable(
    body: SignedBody, fee: int, nonce: int, domain: SigningDomain, from_index: int
) -> SignableMessage:
    typed = compute_typed_data(body, fee, nonce, domain, from_index)
    return encode_typed_data(full_message=typed)


def compute_op_id(signable: SignableMessage, signer: int) -> bytes:
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    return keccak(digest + signer.to_bytes(20, "big"))


def sign_operation(
    body: SignedBody,
    fee: int,
    nonce: int,
    domain: SigningDomain,
    private_key: bytes,
    from_index: int,
) -> SignedOperation:
    """`body` signed by `private_key`'s account, whose index on the ZK chain is
    `from_index` (duet_getAccount's `index`)."""
    signable = compute_signable(body, fee, nonce, domain, from_index)
    signed = EthAccount.sign_message(signable, private_key)
    signer = int(EthAccount.from_key(private_key).address, 16)
    op = Operation(body=body, signer=signer, fee=fee, nonce=nonce, from_index=from_index)
    return SignedOperation(op, bytes(signed.signature), compute_op_id(signable, signer))


def recover_operation(
    body: SignedBody,
    fee: int,
    nonce: int,
    signature: bytes,
    domain: SigningDomain,
    from_index: int,
) -> SignedOperation:
    signable = compute_signable(body, fee, nonce, domain, from_index)
    try:
        signer = int(EthAccount.recover_message(signable, signature=signature), 16)
    except Exception as exc:  # eth-account raises several types for a bad signature
        raise InvalidSignature(f"bad signature: {exc}") from exc
    op = Operation(body=body, signer=signer, fee=fee, nonce=nonce, from_index=from_index)
    return SignedOperation(op, signature, compute_op_id(signable, signer))


# -- the wire form ----------------------------------------------------------------------


def parse_uint(value: Any, what: str, bits: int = 256) -> int:
    """A number of the wire form that fits `bits` (its field's uintN)."""
    if isinstance(value, bool):
        raise InvalidSignature(f"{what} must be a number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.startswith(("0x", "0X")):
        if HEX_NUMBER.fullmatch(value) is None:
            raise InvalidSignature(f"{what} is not a hex number: {value!r:.80}")
        number = int(value[2:], 16)
    elif isinstance(value, str) and DECIMAL_NUMBER.fullmatch(value) is not None:
        if len(value) > MAX_DECIMAL_DIGITS:
            raise InvalidSignature(f"{what} is out of range: over {MAX_DECIMAL_DIGITS} digits")
        number = int(value)
    else:
        raise InvalidSignature(
            f"{what} must be a number, a 0x-hex string or ASCII decimal digits, got {value!r:.80}"
        )
    if number < 0 or number >= 1 << 256:
        raise InvalidSignature(f"{what} is out of range")
    if number >= 1 << bits:
        raise InvalidSignature(f"{what} must fit {bits} bits")
    return number


def parse_address(value: Any, what: str) -> int:
    if not (isinstance(value, str) and value.startswith("0x") and len(value) == 42):
        raise InvalidSignature(f"{what} must be a 20-byte 0x-hex address")
    if HEX_ADDRESS.fullmatch(value) is None:
        raise InvalidSignature(f"{what} is not a hex address: {value!r}")
    return int(value, 16)


def parse_member(value: Any, wire: str, sol_type: str) -> int:
    """A member of a signed struct: an address, or a number that fits its uintN, so that
    the EIP-712 encoding of every operation that parses succeeds."""
    if sol_type == "address":
        return parse_address(value, wire)
    return parse_uint(value, wire, UINT_BITS[sol_type])


def parse_signed_operation(obj: Any, domain: SigningDomain) -> SignedOperation:
    """Decode and authenticate an operation as `duet_sendOperation` receives it."""
    body, fee, nonce, from_index = parse_operation_fields(obj)
    signature = obj.get("signature")
    if signature is None:
        raise InvalidSignature(f"{obj['type']} needs the field signature")
    if not (isinstance(signature, str) and signature.startswith("0x") and len(signature) == 132):
        raise InvalidSignature("signature must be 65 bytes of 0x-hex")
    if HEX_SIGNATURE.fullmatch(signature) is None:
        raise InvalidSignature("signature is not hex")
    sig_bytes = bytes.fromhex(signature[2:])
    signed = recover_operation(body, fee, nonce, sig_bytes, domain, from_index)
    if "from" in obj and parse_address(obj["from"], "from") != signed.op.signer:
        raise InvalidSignature("signature is not from the account named in 'from'")
    return signed


def read_committed_operation(obj: Any) -> Operation:
    """An operation that this node committed, from its stored wire form, whose signature was
    checked at admission (in the domain of that time): its `from` is taken as written."""
    body, fee, nonce, from_index = parse_operation_fields(obj)
    if "from" not in obj:
        raise InvalidSignature(f"{obj['type']} needs the field from")
    signer = parse_address(obj["from"], "from")
    return Operation(body, signer, fee, nonce, from_index)


def parse_operation_fields(obj: Any) -> tuple[SignedBody, int, int, int]:
    """The body, fee, nonce and fromIndex of an operation's wire form, checked for shape."""
    if not isinstance(obj, dict):
        raise InvalidSignature("operation must be a JSON object")
    type_name = obj.get("type")
    cls = TYPES_BY_NAME.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        raise InvalidSignature(
            f"unknown operation type {type_name!r:.80}; one of {sorted(TYPES_BY_NAME)}"
        )
    _, spec = OP_TYPES[cls]
    expected = {"type", "signature", "fee", "nonce", "fromIndex", "from", *(w for w, _, _ in spec)}
    unknown = set(obj) - expected
    if unknown:
        raise InvalidSignature(f"unknown fields for {obj['type']}: {sorted(unknown)}")
    values = {}
    for wire, sol_type, attr in spec:
        if wire not in obj:
            raise InvalidSignature(f"{obj['type']} needs the field {wire}")
        values[attr] = parse_member(obj[wire], wire, sol_type)
    body = cls(**values)
    for name, _ in HEADER_FIELDS:
        if name not in obj:
            raise InvalidSignature(f"{obj['type']} needs the field {name}")
    fee, nonce, from_index = (parse_member(obj[name], name, kind) for name, kind in HEADER_FIELDS)
    return body, fee, nonce, from_index


def format_signed_operation(signed: SignedOperation) -> dict[str, Any]:
    """The wire form: what a client sends and what the node reports back."""
    op = signed.op
    _, spec = OP_TYPES[type(op.body)]
    out: dict[str, Any] = {
        "type": signed.type_name,
        "from": to_checksum_address(op.signer.to_bytes(20, "big")),
    }
    for wire, sol_type, attr in spec:
        value = getattr(op.body, attr)
        out[wire] = (
            to_checksum_address(value.to_bytes(20, "big")) if sol_type == "address" else hex(value)
        )
    out["fee"] = hex(op.fee)
    out["nonce"] = hex(op.nonce)
    out["fromIndex"] = hex(op.from_index or 0)
    out["signature"] = "0x" + signed.signature.hex()
    return out
