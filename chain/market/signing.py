"""A prover's signature on what it submits: the job, and the hash of its proof or aggregate.

EIP-191 (personal_sign) over `duet/submitProof ‖ chainId ‖ jobId ‖ keccak(result)`, so a
submission cannot be replayed on another chain, for another job, or with another proof.
"""

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from chain.types import ChainId, JobId, ProverId

SUBMISSION_DOMAIN = b"duet/submitProof"
MAX_RESULT_BYTES = 1 << 20  # a proof or aggregate; a 128-operation aggregate is about 50 KB


class InvalidSubmissionSignature(Exception):
    pass


def compute_submission_digest(chain_id: ChainId, job_id: JobId, result: bytes) -> bytes:
    return keccak(SUBMISSION_DOMAIN + chain_id.to_bytes(8, "big") + job_id + keccak(result))


def sign_submission(key: bytes, chain_id: ChainId, job_id: JobId, result: bytes) -> bytes:
    message = encode_defunct(compute_submission_digest(chain_id, job_id, result))
    return bytes(Account.sign_message(message, key).signature)


def recover_submitter(
    chain_id: ChainId, job_id: JobId, result: bytes, signature: bytes
) -> ProverId:
    """The address that signed this submission; raises InvalidSubmissionSignature."""
    message = encode_defunct(compute_submission_digest(chain_id, job_id, result))
    try:
        address = Account.recover_message(message, signature=signature)
    except Exception as exc:  # eth_account raises several types for a malformed signature
        raise InvalidSubmissionSignature(f"bad signature: {exc}") from None
    return ProverId(int(address, 16))
