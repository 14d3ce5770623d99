"""A client for the ZK chain: sign operations with an Ethereum key, send them, follow them.

    client = ZkClient("http://127.0.0.1:8646", private_key)
    op = client.transfer(to="0x…", amount=10**18)
    client.wait(op, "proven")
    client.zkpow().functions.balanceOf(client.address).call()

Reads go through web3.py `Contract` objects at the chain's system addresses (ERC-20 for
ZKPoW, ERC-721 per NFT collection); writes are EIP-712 operations sent with
`duet_sendOperation`. This is the pattern a game's own code follows.
"""

import time
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from chain.config import ZK_MIN_FEE_WEI
from chain.jsonrpc import RpcClient, RpcError
from chain.types import ChainId
from chain.zk.ops import (
    Bond,
    Buy,
    CancelListing,
    ClaimStake,
    Heartbeat,
    ListNft,
    Mint,
    RegisterKey,
    SetMinter,
    SignedBody,
    ToFast,
    Transfer,
    TransferNft,
    Unbond,
    Withdraw,
)
from chain.zk.ownership import compute_key_hash, derive_owner_secret
from chain.zk.signing import SigningDomain, format_signed_operation, sign_operation
from chain.zk.state import compute_token_key
from chain.zk.views import ZKPOW_ADDRESS, collection_address

# Proof status of an operation, in the order it moves through them.
STATUS_ORDER = ["pending", "committed", "proven", "aggregated", "settled"]
FINAL_FAILURES = {"rejected", "unknown"}

ERC20_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": n,
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"type": t}],
    }
    for n, t in (
        ("name", "string"),
        ("symbol", "string"),
        ("decimals", "uint8"),
        ("totalSupply", "uint256"),
    )
] + [
    {
        "type": "function",
        "name": "balanceOf",
        "stateMutability": "view",
        "inputs": [{"name": "owner", "type": "address"}],
        "outputs": [{"type": "uint256"}],
    }
]
ERC721_ABI: list[dict[str, Any]] = [
    {
        "type": "function",
        "name": n,
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"type": t}],
    }
    for n, t in (("name", "string"), ("symbol", "string"), ("totalSupply", "uint256"))
] + [
    {
        "type": "function",
        "name": name,
        "stateMutability": "view",
        "inputs": [{"name": arg, "type": arg_type}],
        "outputs": [{"type": out}],
    }
    for name, arg, arg_type, out in (
        ("balanceOf", "owner", "address", "uint256"),
        ("ownerOf", "tokenId", "uint256", "address"),
        ("tokenURI", "tokenId", "uint256", "string"),
        ("supportsInterface", "interfaceId", "bytes4", "bool"),
    )
]


class OperationFailed(Exception):
    """The chain refused an operation, or it did not reach the wanted status in time.
    (A refused read is the RpcError itself.)"""


def to_address(value: str | int) -> ChecksumAddress:
    return Web3.to_checksum_address(value if isinstance(value, str) else value.to_bytes(20, "big"))


class ZkClient:
    def __init__(self, url: str, private_key: bytes | str, fee: int = ZK_MIN_FEE_WEI) -> None:
        self.w3 = Web3(Web3.HTTPProvider(url))
        self.node = RpcClient(url)
        self.account = Account.from_key(private_key)
        self.address: str = self.account.address
        self.fee = fee
        self.chain_id = ChainId(self.w3.eth.chain_id)

    # -- reads -----------------------------------------------------------------------------

    def rpc(self, method: str, *params: Any) -> Any:
        return self.node.call(method, list(params))

    def zkpow(self) -> Contract:
        """ZKPoW as an ERC-20 contract object."""
        return self.w3.eth.contract(address=to_address(ZKPOW_ADDRESS), abi=ERC20_ABI)

    def collection(self, collection: int) -> Contract:
        """An NFT collection as an ERC-721 contract object."""
        return self.w3.eth.contract(
            address=to_address(collection_address(collection)), abi=ERC721_ABI
        )

    def balance(self, address: str | None = None) -> int:
        return int(self.zkpow().functions.balanceOf(address or self.address).call())

    def token(self, collection: int, token_id: int) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.rpc("duet_getToken", hex(collection), hex(token_id))
        return result

    def listings(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.rpc("duet_getListings")
        return result

    def fast_message(self, seq: int) -> dict[str, Any]:
        """What the ZK chain made of fast-chain message `seq` (duet_getFastMessage)."""
        result: dict[str, Any] = self.rpc("duet_getFastMessage", hex(seq))
        return result

    def wait_for_fast_message(self, seq: int, timeout_s: float = 30.0) -> dict[str, Any]:
        """Poll until a ZK block has taken message `seq`; returns its first arrival."""
        deadline = time.monotonic() + timeout_s
        while True:
            arrivals = self.fast_message(seq)["arrivals"]
            if arrivals:
                first: dict[str, Any] = arrivals[0]
                return first
            if time.monotonic() > deadline:
                raise OperationFailed(f"fast-chain message {seq} not taken after {timeout_s} s")
            time.sleep(0.05)

    def signing_domain(self) -> SigningDomain:
        """Where the node checks signatures: its rollup's EIP-712 domain on L1."""
        return SigningDomain.from_json(self.rpc("duet_getSigningDomain"))

    def status(self, op_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.rpc("duet_getProofStatus", op_id)
        return result

    # -- operations --------------------------------------------------------------------------

    def send(self, body: SignedBody) -> str:
        """Sign `body` with the next nonce and send it; returns the operation's id."""
        account = self.rpc("duet_getAccount", self.address)
        if account["index"] is None:
            raise OperationFailed(f"{self.address} has no account on the ZK chain to sign from")
        nonce = int(account["pendingNonce"], 16)
        domain, key = self.signing_domain(), self.account.key
        signed = sign_operation(body, self.fee, nonce, domain, key, int(account["index"]))
        try:
            op_id: str = self.rpc("duet_sendOperation", format_signed_operation(signed))
        except RpcError as refused:
            raise OperationFailed(str(refused)) from refused
        return op_id

    def transfer(self, to: str, amount: int) -> str:
        return self.send(Transfer(to=int(to, 16), amount=amount))

    def mint(self, collection: int, to: str, metadata: int, round: int = 0) -> str:
        return self.send(
            Mint(collection=collection, to=int(to, 16), metadata=metadata, round=round)
        )

    def transfer_nft(self, collection: int, token_id: int, to: str) -> str:
        return self.send(
            TransferNft(token_key=compute_token_key(collection, token_id), to=int(to, 16))
        )

    def list_nft(self, collection: int, token_id: int, price: int) -> str:
        return self.send(ListNft(token_key=compute_token_key(collection, token_id), price=price))

    def cancel_listing(self, collection: int, token_id: int) -> str:
        return self.send(CancelListing(token_key=compute_token_key(collection, token_id)))

    def buy(self, collection: int, token_id: int, price: int) -> str:
        return self.send(Buy(token_key=compute_token_key(collection, token_id), price=price))

    def to_fast(self, to: str, amount: int) -> str:
        """Lock `amount` in escrow for `to` on the fast chain; its next block credits it."""
        return self.send(ToFast(to=int(to, 16), amount=amount))

    def withdraw(self, to: str, amount: int) -> str:
        """Burn `amount` here for `to` on L1: once the block is settled, the rollup pays it
        against a Merkle proof of the withdrawal (`claim_withdrawal` of chain/l1/rollup.py)."""
        return self.send(Withdraw(to=int(to, 16), amount=amount))

    def heartbeat(self, active_until: int) -> str:
        """Offer to prove for the market through ZK height `active_until` (the first heartbeat
        makes this account a prover)."""
        return self.send(Heartbeat(active_until=active_until))

    def stake(self, address: str | None = None) -> dict[str, Any]:
        """A validator's stake (this account's by default): bonded, unbonding, unlockEpoch."""
        stake = self.rpc("duet_getStake", address or self.address)
        return {
            "bonded": int(stake["bonded"], 16),
            "unbonding": int(stake["unbonding"], 16),
            "unlockEpoch": stake["unlockEpoch"],
            "epoch": stake["epoch"],
        }

    def bond(self, amount: int) -> str:
        """Lock `amount` as this account's stake as a validator (its power counts it from the
        next power epoch of a decentralized network)."""
        return self.send(Bond(amount=amount))

    def unbond(self, amount: int) -> str:
        """Start `amount` of the bonded stake unbonding: `claim_stake` pays it out two epochs
        later (10 to 20 minutes)."""
        return self.send(Unbond(amount=amount))

    def claim_stake(self) -> str:
        """Take back all the unbonding stake, once its unlock epoch has come."""
        return self.send(ClaimStake())

    def owner_secret(self) -> int:
        """This account's secret for ownership proofs (chain/zk/ownership.py)."""
        return derive_owner_secret(self.account.key, self.chain_id)

    def register_key(self) -> str:
        """Put the hash of this account's ownership secret in its account leaf, so it can
        prove that it owns tokens (e.g. a game pass) without naming itself."""
        return self.send(RegisterKey(key_hash=compute_key_hash(self.owner_secret())))

    def set_minter(self, collection: int, minter: str, *, fast_chain: bool) -> str:
        """Hand `collection`'s minting to `minter`: a fast-chain contract (whose reward
        requests through the outbox then mint) or another ZK account."""
        body = SetMinter(collection=collection, minter=int(minter, 16), fast_chain=int(fast_chain))
        return self.send(body)

    def wait(self, op_id: str, until: str = "committed", timeout_s: float = 60.0) -> dict[str, Any]:
        """Poll until the operation reaches `until` (or later); raise if it fails or times out."""
        wanted = STATUS_ORDER.index(until)
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.status(op_id)
            if status["status"] in FINAL_FAILURES:
                raise OperationFailed(
                    f"operation {op_id} {status['status']}: {status.get('reason')}"
                )
            if STATUS_ORDER.index(status["status"]) >= wanted:
                return status
            if time.monotonic() > deadline:
                raise OperationFailed(
                    f"operation {op_id} still {status['status']} after {timeout_s} s"
                )
            time.sleep(0.1)
