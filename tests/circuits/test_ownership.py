"""ownership.circom and chain/prover/ownership.py: the NFT ownership proof that a player
gives a fast-chain contract (docs/zk-state.md, "Ownership proof").

Alice owns the first reward token and has registered H(SECRET). Each false statement is
refused twice: by the witness builder, with a clear message, and by the circuit, for a prover
who skips the builder's checks (`claiming` hands the builder a forged record, as
scenarios.forge switches off the state machine's rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from unittest.mock import patch

import pytest

from chain.prover import ownership as ownership_module
from chain.prover.errors import ProverError
from chain.prover.groth16 import load_circuit, load_verifier, prove, verify
from chain.prover.ownership import (
    NULLIFIER_DOMAIN,
    OWNERSHIP_PUBLIC,
    compute_key_hash,
    compute_nullifier,
    compute_ownership_inputs,
)
from chain.prover.witness import CircuitWitness
from chain.zk.genesis import REWARD_COLLECTION
from chain.zk.ops import RegisterKey, TransferNft
from chain.zk.state import (
    ADDRESS_BITS,
    ROUND_BITS,
    Nft,
    ZkState,
    compute_state_root,
    get_nft,
)
from tests.circuits.lab import CIRCUITS_DIR, CircuitLab, assert_proves, assert_rejected
from tests.circuits.scenarios import (
    ALICE,
    BOB,
    FIRST_REWARD,
    SECRET,
    compute_registered_state,
    run_all,
)
from tests.prover.test_ceremony_keys import snarkjs_prove
from tests.prover.test_embedded_prover import is_accepted_by_snarkjs

ROUND = 41
SESSION_KEY = 0x5E5510_4E70000000000000000000000000000001  # a 160-bit address
BOB_SECRET = 0xB0B_5EC2E7
NEXT_SERIAL = FIRST_REWARD + 1  # minted by no one
ACCOUNT_MERKLE = ["QuadReadLevel", "QuadMembership", "Ownership"]
NFT_MERKLE = ACCOUNT_MERKLE  # the same templates: the Ownership line tells the two apart
ON_ACCOUNTS = {"Ownership": "QuadMembership(ACCOUNT_LEVELS())"}
ON_NFTS = {"Ownership": "QuadMembership(NFT_LEVELS())"}


def prove_alice(state: ZkState | None = None, **changes: int) -> CircuitWitness:
    """Alice's statement for the first reward token, with any argument changed."""
    arguments = {
        "owner": ALICE,
        "token_key": FIRST_REWARD,
        "secret": SECRET,
        "round": ROUND,
        "session_key": SESSION_KEY,
    }
    return compute_ownership_inputs(state or compute_registered_state(), **arguments | changes)


def with_inputs(witness: CircuitWitness, **changes: int) -> CircuitWitness:
    """`witness` with some inputs changed; public ones change in the statement too."""
    statement = zip(OWNERSHIP_PUBLIC, witness.public_inputs, strict=True)
    public = [changes.get(name, value) for name, value in statement]
    return replace(witness, inputs=witness.inputs | changes, public_inputs=public)


@contextmanager
def claiming(token_key: int, nft: Nft) -> Iterator[None]:
    """The builder reads `nft` at `token_key`: a prover's claim, not what the tree holds."""
    real = ownership_module.get_nft

    def claimed(state: ZkState, key: int) -> Nft:
        return nft if key == token_key else real(state, key)

    with patch.object(ownership_module, "get_nft", claimed):
        yield


@pytest.fixture(scope="module")
def witness() -> CircuitWitness:
    return prove_alice()


@pytest.fixture(scope="module")
def proof(lab: CircuitLab, witness: CircuitWitness) -> bytes:
    return lab.prove("ownership", witness.inputs)


def test_proves_ownership(lab: CircuitLab, witness: CircuitWitness, proof: bytes) -> None:
    state = compute_registered_state()
    assert witness.public_inputs == [
        compute_state_root(state),
        REWARD_COLLECTION,
        ROUND,
        SESSION_KEY,
        compute_nullifier(FIRST_REWARD, ROUND),
    ]
    assert lab.find_witness_failure("ownership", witness.inputs) is None
    assert lab.verify("ownership", proof, witness.public_inputs)


def test_nullifier_domain_is_the_circuits() -> None:
    assert int.from_bytes(b"duet/pass-nullifier", "big") == NULLIFIER_DOMAIN
    source = (CIRCUITS_DIR / "ownership.circom").read_text()
    found = re.search(r"function NULLIFIER_DOMAIN\(\) \{\s*return (\d+);", source)
    assert found and int(found[1]) == NULLIFIER_DOMAIN


def test_embedded_proof_passes_snarkjs_verify(witness: CircuitWitness, tmp_path: Path) -> None:
    keys = load_circuit("ownership")  # the ceremony's keys, as a fast-chain contract holds them
    made = prove(keys, witness.inputs, witness.public_inputs)
    assert is_accepted_by_snarkjs(keys, made, witness.public_inputs, tmp_path)
    other_session = [*witness.public_inputs[:3], SESSION_KEY + 1, witness.public_inputs[4]]
    assert not is_accepted_by_snarkjs(keys, made, other_session, tmp_path)


def test_snarkjs_proof_passes_embedded_verify(witness: CircuitWitness, tmp_path: Path) -> None:
    made = snarkjs_prove("ownership", dict(witness.inputs), tmp_path)  # a browser's proof
    assert verify(load_verifier("ownership"), made, witness.public_inputs)


def test_new_owner_spends_the_same_nullifier(lab: CircuitLab) -> None:
    # Alice hands the token to Bob mid-round: Bob proves too, but for the seat Alice took.
    handed = run_all(
        compute_registered_state(),
        [(ALICE, TransferNft(FIRST_REWARD, BOB)), (BOB, RegisterKey(compute_key_hash(BOB_SECRET)))],
    )
    bobs = prove_alice(handed, owner=BOB, secret=BOB_SECRET)
    assert bobs.public_inputs[4] == prove_alice().public_inputs[4]
    assert_proves(lab, bobs)


@pytest.mark.parametrize("public", OWNERSHIP_PUBLIC)
def test_rejects_tampered_public_input(
    public: str, lab: CircuitLab, witness: CircuitWitness, proof: bytes
) -> None:
    # Another session key, round, collection, root or nullifier: the proof is not for it.
    statement = zip(OWNERSHIP_PUBLIC, witness.public_inputs, strict=True)
    tampered = [value ^ 1 if name == public else value for name, value in statement]
    assert not lab.verify("ownership", proof, tampered)


def test_rejects_wrong_secret(lab: CircuitLab) -> None:
    with pytest.raises(ProverError, match="is not H\\(secret\\)"):
        prove_alice(secret=SECRET + 1)
    forged = with_inputs(prove_alice(), secret=SECRET + 1)
    assert_rejected(lab, forged, ACCOUNT_MERKLE, ON_ACCOUNTS)


def test_rejects_owner_without_a_key(lab: CircuitLab) -> None:
    # Bob never registered: his keyHash is 0, which no secret hashes to.
    state = run_all(compute_registered_state(), [(ALICE, TransferNft(FIRST_REWARD, BOB))])
    with pytest.raises(ProverError, match="is not H\\(secret\\)"):
        prove_alice(state, owner=BOB, secret=BOB_SECRET)


def test_rejects_token_owned_by_someone_else(lab: CircuitLab) -> None:
    # Bob, with a key of his own, claims Alice's token.
    state = run_all(compute_registered_state(), [(BOB, RegisterKey(compute_key_hash(BOB_SECRET)))])
    with pytest.raises(ProverError, match=f"is owned by {ALICE:#x}, not {BOB:#x}"):
        prove_alice(state, owner=BOB, secret=BOB_SECRET)
    with claiming(FIRST_REWARD, replace(get_nft(state, FIRST_REWARD), owner=BOB)):
        forged = prove_alice(state, owner=BOB, secret=BOB_SECRET)
    assert_rejected(lab, forged, NFT_MERKLE, ON_NFTS)


def test_rejects_token_never_minted(lab: CircuitLab) -> None:
    with pytest.raises(ProverError, match=f"token {NEXT_SERIAL} was never minted"):
        prove_alice(token_key=NEXT_SERIAL)
    with claiming(NEXT_SERIAL, Nft(owner=ALICE, metadata=0xC0FFEE)):
        forged = prove_alice(token_key=NEXT_SERIAL)
    assert_rejected(lab, forged, NFT_MERKLE, ON_NFTS)


def test_rejects_root_of_another_state(lab: CircuitLab, witness: CircuitWitness) -> None:
    # Alice gave the token away: the proof of the state before says nothing of the one after.
    after = run_all(compute_registered_state(), [(ALICE, TransferNft(FIRST_REWARD, BOB))])
    forged = with_inputs(witness, root=compute_state_root(after))
    assert_rejected(lab, forged, ["Ownership"], {"Ownership": "root === state"})


@pytest.mark.parametrize(
    ("token_key", "round_"),
    [(FIRST_REWARD, ROUND + 1), (NEXT_SERIAL, ROUND)],
    ids=["another round", "another token"],
)
def test_rejects_nullifier_of_another_statement(
    token_key: int, round_: int, lab: CircuitLab, witness: CircuitWitness
) -> None:
    forged = with_inputs(witness, nullifier=compute_nullifier(token_key, round_))
    assert_rejected(lab, forged, ["Ownership"], {"Ownership": "nullifier === spent"})


def test_rejects_collection_out_of_range(lab: CircuitLab, witness: CircuitWitness) -> None:
    # Collection 5 would read as 1 in its two bits: the bits must give back the whole value.
    with pytest.raises(ProverError, match="token key 20480 does not fit 14 bits"):
        prove_alice(token_key=FIRST_REWARD + (4 << 12))
    forged = with_inputs(witness, collection=REWARD_COLLECTION + 4)
    assert_rejected(lab, forged, ["Num2Bits", "Ownership"], {"Ownership": "(collection)"})


def test_rejects_round_out_of_range(lab: CircuitLab, witness: CircuitWitness) -> None:
    with pytest.raises(ProverError, match="round 4294967296 does not fit 32 bits"):
        prove_alice(round=1 << ROUND_BITS)
    forged = with_inputs(witness, round=1 << ROUND_BITS)
    assert_rejected(lab, forged, ["Num2Bits", "RangeCheck", "Ownership"], {"Ownership": "(round)"})


def test_rejects_session_key_out_of_range(lab: CircuitLab, witness: CircuitWitness) -> None:
    with pytest.raises(ProverError, match="does not fit 160 bits"):
        prove_alice(session_key=1 << ADDRESS_BITS)
    forged = with_inputs(witness, sessionKey=1 << ADDRESS_BITS)
    assert_rejected(
        lab, forged, ["Num2Bits", "RangeCheck", "Ownership"], {"Ownership": "(sessionKey)"}
    )


def test_rejects_empty_slot_as_owner(lab: CircuitLab, witness: CircuitWitness) -> None:
    # Owner 0 is every empty slot's, token or account. (Its keyHash is 0 too, which no secret
    # hashes to: this check is the plainer of two.)
    forged = with_inputs(witness, owner=0)
    assert_rejected(lab, forged, ["NonZero", "Ownership"], {"Ownership": "(owner)"})
