"""Inputs of the NFT ownership proof (`contracts/circuits/ownership.circom`; docs/zk-state.md,
"Ownership proof").

Not an operation: a statement that a player proves to a fast-chain contract, against a ZK
state root the contract knows from its root oracle. The statement, in the order of
`OWNERSHIP_PUBLIC`: a token of collection `collection` is in the NFT tree under `root`, owned
by an account whose keyHash is H(secret) for a secret the prover knows; the proof is for
round `round` and session key `sessionKey`; its nullifier is `nullifier`. The contract keeps
the nullifiers it has seen, so one token gives one seat per round, bound to one session key.

The secret comes from the owner's Ethereum key (chain/zk/ownership.py) and its hash is
registered in the owner's account by a RegisterKey operation. Everything here is pure.
"""

from dataclasses import dataclass
from typing import Any

from chain.prover.errors import ProverError
from chain.prover.witness import CircuitWitness, StatementName
from chain.zk.op_inputs import CircuitInputs
from chain.zk.ownership import compute_key_hash
from chain.zk.poseidon import FIELD_MODULUS, poseidon
from chain.zk.state import (
    ADDRESS_BITS,
    MAX_SERIALS,
    ROUND_BITS,
    SERIAL_BITS,
    ZkState,
    compute_globals_hash,
    compute_state_root,
    get_account_index,
    get_nft,
)
from chain.zk.words import TOKEN_KEY_BITS

OWNERSHIP_CIRCUIT: StatementName = "ownership"
OWNERSHIP_PUBLIC = ("root", "collection", "round", "sessionKey", "nullifier")
# The ASCII bytes "duet/pass-nullifier" as a big-endian integer (19 bytes, a field element).
# A constant first input keeps nullifiers apart from every other Poseidon(3) of the chain:
# an NFT leaf H(owner, metadata, price) is one too. The circuit holds the same number.
NULLIFIER_DOMAIN = int.from_bytes(b"duet/pass-nullifier", "big")
SESSION_KEY_BITS = ADDRESS_BITS  # a session key is an Ethereum address

__all__ = [
    "NULLIFIER_DOMAIN",
    "OWNERSHIP_CIRCUIT",
    "OWNERSHIP_PUBLIC",
    "TokenPaths",
    "complete_ownership_inputs",
    "compute_key_hash",
    "compute_nullifier",
    "compute_ownership_inputs",
    "compute_token_paths",
    "format_token_paths",
    "parse_token_paths",
]


def compute_nullifier(token_key: int, round: int) -> int:
    """H(NULLIFIER_DOMAIN, tokenKey, round): the same for whoever owns the token, so a token
    handed to another owner mid-round still takes one seat."""
    return poseidon(NULLIFIER_DOMAIN, token_key, round)


def compute_ownership_inputs(
    state: ZkState, owner: int, token_key: int, secret: int, round: int, session_key: int
) -> CircuitWitness:
    """The ownership circuit's inputs: `owner`, who knows `secret`, holds token `token_key`
    in `state`; the proof is for `round` and `session_key`.

    Raises ProverError if the statement is false (the token is not the owner's, the owner's
    keyHash is not H(secret)) or a value does not fit its field: no proof would verify.
    """
    paths = compute_token_paths(state, token_key)
    if paths.owner != owner:
        raise ProverError(f"token {token_key} is owned by {paths.owner:#x}, not {owner:#x}")
    return complete_ownership_inputs(paths, secret, round, session_key)


@dataclass(frozen=True)
class TokenPaths:
    """What anyone can read from a ZK state about a token and its owner's account: the
    ownership proof's inputs except the owner's secret and what the proof is for. A node
    serves it (duet_getTokenPaths); the owner adds the secret on their own machine."""

    root: int
    token_key: int
    owner: int
    key_hash: int  # the owner's registered H(secret); 0 if none
    inputs: CircuitInputs  # the circuit's private inputs besides the secret


def compute_token_paths(state: ZkState, token_key: int) -> TokenPaths:
    check_bits(token_key, TOKEN_KEY_BITS, "token key")
    nft = get_nft(state, token_key)
    if not nft.exists:
        raise ProverError(f"token {token_key} was never minted")
    index = get_account_index(state, nft.owner)
    if index is None:
        raise ProverError(f"owner {nft.owner:#x} has no account on the ZK chain")
    account = state.account_records[index]
    inputs: CircuitInputs = {
        "serial": token_key & (MAX_SERIALS - 1),
        "owner": nft.owner,
        "metadata": nft.metadata,
        "price": nft.price,
        "nftPath": state.nfts.get_path(token_key),
        "accountIndex": index,
        "balance": account.balance,
        "nonce": account.nonce,
        "accountPath": state.accounts.get_path(index),
        "collectionsRoot": state.collections.root,
        "proversRoot": state.provers.root,
        "globalsHash": compute_globals_hash(state),
    }
    return TokenPaths(compute_state_root(state), token_key, nft.owner, account.key_hash, inputs)


def format_token_paths(paths: TokenPaths) -> dict[str, Any]:
    """The JSON form (numbers as 0x-hex) that `parse_token_paths` reads back."""
    return {
        "root": hex(paths.root),
        "tokenKey": hex(paths.token_key),
        "owner": hex(paths.owner),
        "keyHash": hex(paths.key_hash),
        "inputs": {name: _map_hex(value) for name, value in paths.inputs.items()},
    }


def parse_token_paths(obj: dict[str, Any]) -> TokenPaths:
    try:
        inputs: CircuitInputs = {name: _map_int(value) for name, value in obj["inputs"].items()}
        return TokenPaths(
            int(obj["root"], 16),
            int(obj["tokenKey"], 16),
            int(obj["owner"], 16),
            int(obj["keyHash"], 16),
            inputs,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ProverError(f"malformed token paths: {exc}") from None


def _map_hex(value: Any) -> Any:
    return hex(value) if isinstance(value, int) else [_map_hex(v) for v in value]


def _map_int(value: Any) -> Any:
    return int(value, 16) if isinstance(value, str) else [_map_int(v) for v in value]


def complete_ownership_inputs(
    paths: TokenPaths, secret: int, round: int, session_key: int
) -> CircuitWitness:
    """The full witness: the token's paths plus the owner's secret, for `round` and
    `session_key`. Raises ProverError if the secret is not the owner's."""
    check_bits(round, ROUND_BITS, "round")
    check_bits(session_key, SESSION_KEY_BITS, "session key")
    if not 0 <= secret < FIELD_MODULUS:
        raise ProverError("the secret must be a field element")
    if paths.key_hash != compute_key_hash(secret):
        raise ProverError(
            f"the keyHash of {paths.owner:#x} is not H(secret): "
            "a wrong secret, or no key registered"
        )
    public_inputs = [
        paths.root,
        paths.token_key >> SERIAL_BITS,
        round,
        session_key,
        compute_nullifier(paths.token_key, round),
    ]
    inputs: CircuitInputs = dict(zip(OWNERSHIP_PUBLIC, public_inputs, strict=True))
    inputs.update(paths.inputs)
    inputs["secret"] = secret
    return CircuitWitness(OWNERSHIP_CIRCUIT, inputs, public_inputs)


def check_bits(value: int, bits: int, what: str) -> None:
    if not 0 <= value < 1 << bits:
        raise ProverError(f"{what} {value} does not fit {bits} bits")
