"""An owner's secret for the NFT ownership proof, derived from their Ethereum key.

The ownership circuit proves "I know the secret whose hash is in the owner's account", so a
player proves ownership without their key ever touching the game. The secret must be
reproducible by the owner alone, from the key they already hold, with any wallet, and useless
for anything else:

    signature = personal_sign(OWNERSHIP_KEY_MESSAGE for the chain)   (EIP-191, 65 bytes r‖s‖v)
    secret    = keccak256(signature) mod p                           (p: the BN254 scalar field)
    keyHash   = Poseidon(secret)                                     (registered by RegisterKey)

ECDSA signatures from Ethereum wallets are deterministic (RFC 6979), so the same key signs the
same message to the same signature every time, and the secret comes back on any machine.
The message names its purpose and the chain, so a signature asked for elsewhere never
equals it. Whoever learns the secret can prove ownership (take a seat in a game) but cannot
move the token: that still needs the Ethereum key.
"""

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

from chain.types import ChainId
from chain.zk.poseidon import FIELD_MODULUS, poseidon

OWNERSHIP_KEY_MESSAGE = (
    "Duet ownership key\n\n"
    "Signing this derives the secret that proves you own your Duet tokens. "
    "It cannot move them.\n\n"
    "ZK chain: {chain_id}"
)


def compute_key_message(chain_id: ChainId) -> str:
    return OWNERSHIP_KEY_MESSAGE.format(chain_id=chain_id)


def compute_owner_secret(signature: bytes) -> int:
    """The secret from the owner's signature of `compute_key_message` (65 bytes r‖s‖v)."""
    if len(signature) != 65:
        raise ValueError(f"expected a 65-byte signature, got {len(signature)} bytes")
    return int.from_bytes(keccak(signature), "big") % FIELD_MODULUS


def derive_owner_secret(private_key: bytes | str, chain_id: ChainId) -> int:
    """What a wallet does: sign the key message, hash the signature."""
    message = encode_defunct(text=compute_key_message(chain_id))
    signature = Account.sign_message(message, private_key).signature
    return compute_owner_secret(bytes(signature))


def compute_key_hash(secret: int) -> int:
    """The account's keyHash for `secret`, as the ownership circuit recomputes it."""
    return poseidon(secret)
