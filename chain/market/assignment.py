"""Who proves a job: a pseudo-random active prover that every node recomputes.

    seed  = keccak256(b"duet/assign-seed" ‖ beacon)
    index = int(keccak256(b"duet/assign" ‖ seed ‖ job_id ‖ attempt as 4 bytes, big-endian))
            mod len(candidates)
    candidates = sorted(active provers − provers that already failed this job),
                 or sorted(active provers) if that leaves none

The beacon is the hash of the previous ZK block: it is fixed before the sequencer sees
which operations, proofs and heartbeats the new block takes, so nobody picks an assignee by
choosing the new block's contents. It is not grinding-proof: whoever produced the previous
block could have tried orderings of it until its hash favoured a prover it runs. In dev
mode that is the single sequencer, trusted anyway; the decentralized mode should take the
beacon from the consensus engine instead (docs/market.md, "Grinding").
"""

from collections.abc import Iterable, Set

from eth_utils import keccak

from chain.types import JobId, ProverId

SEED_DOMAIN = b"duet/assign-seed"
ASSIGN_DOMAIN = b"duet/assign"
BEACON_BYTES = 32
ATTEMPT_BYTES = 4
MAX_ATTEMPT = (1 << (8 * ATTEMPT_BYTES)) - 1


def compute_assignment_seed(beacon: bytes) -> bytes:
    if len(beacon) != BEACON_BYTES:
        raise ValueError(f"the beacon is a {BEACON_BYTES}-byte block hash, got {len(beacon)}")
    return keccak(SEED_DOMAIN + beacon)


def compute_assignment_index(seed: bytes, job_id: JobId, attempt: int, candidates: int) -> int:
    """The position among `candidates` sorted provers; 256 bits mod a few makes no bias."""
    if not 0 <= attempt <= MAX_ATTEMPT:
        raise ValueError(f"attempt must fit in {ATTEMPT_BYTES} bytes, got {attempt}")
    if candidates <= 0:
        raise ValueError(f"there must be a candidate, got {candidates}")
    digest = keccak(ASSIGN_DOMAIN + seed + job_id + attempt.to_bytes(ATTEMPT_BYTES, "big"))
    return int.from_bytes(digest, "big") % candidates


def choose_prover(
    seed: bytes,
    job_id: JobId,
    attempt: int,
    active: Iterable[ProverId],
    exclude: Set[ProverId] = frozenset(),
) -> ProverId | None:
    """The prover for `job_id`'s `attempt`-th assignment, or None when nobody is active.

    A prover that failed the job is skipped while anyone else is active; if everybody
    active has failed it, it goes back to all of them rather than wait for a newcomer."""
    everyone = sorted(set(active))
    candidates = [p for p in everyone if p not in exclude] or everyone
    if not candidates:
        return None
    return candidates[compute_assignment_index(seed, job_id, attempt, len(candidates))]
