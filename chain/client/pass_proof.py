"""A player's side of the game-pass check: prove, on this machine, that you own a pass.

    proof = prove_pass(zk_client, collection, token_id, round, session_key)
    game.join(proof.root, round, session_key, proof.nullifier, proof.proof)   # a fast-chain tx

The node serves the token's Merkle paths (`duet_getTokenPaths`); the secret never leaves this
process: it is derived from the player's key (chain/zk/ownership.py) and goes only into the
embedded prover. The fast-chain contract (contracts/fast/PassGate.sol) checks the root against
its root oracle, the nullifier against those it has seen, and the proof with the Groth16
precompile.
"""

from dataclasses import dataclass

from chain.client.zk import ZkClient
from chain.prover.groth16 import load_circuit, prove
from chain.prover.ownership import complete_ownership_inputs, parse_token_paths


@dataclass(frozen=True)
class PassProof:
    root: bytes  # the ZK state root the proof is against, 32 bytes
    height: int  # the ZK block of that root
    nullifier: int
    proof: bytes  # 256 bytes, as the Groth16 precompile takes it
    public_inputs: list[int]  # root, collection, round, sessionKey, nullifier


def prove_pass(
    client: ZkClient, collection: int, token_id: int, round: int, session_key: str
) -> PassProof:
    """A proof that `client`'s account owns pass `token_id` of `collection`, for `round` and
    `session_key`; raises ProverError if it does not (or has registered no key)."""
    answer = client.rpc("duet_getTokenPaths", hex(collection), hex(token_id))
    paths = parse_token_paths(answer)
    witness = complete_ownership_inputs(paths, client.owner_secret(), round, int(session_key, 16))
    proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
    return PassProof(
        root=paths.root.to_bytes(32, "big"),
        height=int(answer["height"]),
        nullifier=witness.public_inputs[4],
        proof=proof.blob,
        public_inputs=witness.public_inputs,
    )
