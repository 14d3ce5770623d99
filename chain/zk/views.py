"""ERC-20 and ERC-721 views of the ZK state at fixed system addresses, for `eth_call`.

The ZK chain runs no EVM: these functions answer the calls a wallet or a web3.py `Contract`
makes (`balanceOf`, `ownerOf`, ...) straight from the state, ABI-encoded, so tools work
unchanged. Anything else reverts with a message that says what is supported.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, to_checksum_address

from chain.zk.genesis import COLLECTION_NAMES
from chain.zk.state import (
    MAX_COLLECTIONS,
    MAX_SERIALS,
    SERIAL_BITS,
    ZkState,
    compute_token_key,
    get_account,
    get_collection,
    get_nft,
    get_total_supply,
)

ZKPOW_ADDRESS = 0x100
COLLECTION_ADDRESS_BASE = 0x200  # collection c lives at 0x200 + c
ZKPOW_NAME = "ZKPoW"
ZKPOW_SYMBOL = "ZKPOW"
ZKPOW_DECIMALS = 18


class ViewRevert(Exception):
    """The call reverts; the message is returned as Solidity's Error(string)."""


@dataclass(frozen=True)
class View:
    signature: str  # e.g. "balanceOf(address)"
    returns: str  # ABI type of the single return value
    compute: Callable[[ZkState, int, tuple[Any, ...]], Any]  # (state, collection, args)

    @property
    def selector(self) -> bytes:
        return function_signature_to_4byte_selector(self.signature)

    @property
    def arg_types(self) -> list[str]:
        inner = self.signature[self.signature.index("(") + 1 : -1]
        return [t for t in inner.split(",") if t]


def collection_address(collection: int) -> int:
    return COLLECTION_ADDRESS_BASE + collection


def get_owned_nft(state: ZkState, collection: int, token_id: int) -> Any:
    nft = (
        get_nft(state, compute_token_key(collection, token_id)) if token_id < MAX_SERIALS else None
    )
    if nft is None or not nft.exists:
        raise ViewRevert("ERC721: invalid token ID")
    return nft


def compute_nft_balance(state: ZkState, collection: int, owner: int) -> int:
    return sum(
        1
        for key, nft in state.nft_records.items()
        if key >> SERIAL_BITS == collection and nft.owner == owner
    )


def compute_token_uri(state: ZkState, collection: int, token_id: int) -> str:
    nft = get_owned_nft(state, collection, token_id)
    name = COLLECTION_NAMES.get(collection, (f"Collection {collection}", ""))[0]
    document = {
        "name": f"{name} #{token_id}",
        "collection": collection,
        "metadata": f"0x{nft.metadata:064x}",
        "price": str(nft.price),
    }
    return "data:application/json," + json.dumps(document, separators=(",", ":"))


def compute_collection_name(collection: int, index: int) -> str:
    return COLLECTION_NAMES.get(collection, (f"Collection {collection}", f"C{collection}"))[index]


ERC20_VIEWS = [
    View("name()", "string", lambda s, c, a: ZKPOW_NAME),
    View("symbol()", "string", lambda s, c, a: ZKPOW_SYMBOL),
    View("decimals()", "uint8", lambda s, c, a: ZKPOW_DECIMALS),
    View("totalSupply()", "uint256", lambda s, c, a: get_total_supply(s)),
    View("balanceOf(address)", "uint256", lambda s, c, a: get_account(s, int(a[0], 16)).balance),
]
ERC721_VIEWS = [
    View("name()", "string", lambda s, c, a: compute_collection_name(c, 0)),
    View("symbol()", "string", lambda s, c, a: compute_collection_name(c, 1)),
    View("totalSupply()", "uint256", lambda s, c, a: get_collection(s, c).supply),
    View(
        "balanceOf(address)",
        "uint256",
        lambda s, c, a: compute_nft_balance(s, c, int(a[0], 16)),
    ),
    View(
        "ownerOf(uint256)",
        "address",
        lambda s, c, a: to_checksum_address(get_owned_nft(s, c, a[0]).owner.to_bytes(20, "big")),
    ),
    View("tokenURI(uint256)", "string", lambda s, c, a: compute_token_uri(s, c, a[0])),
    View(
        "supportsInterface(bytes4)",
        "bool",
        # ERC-165 itself, ERC-721, ERC-721 Metadata
        lambda s, c, a: a[0] in (bytes.fromhex(x) for x in ("01ffc9a7", "80ac58cd", "5b5e139f")),
    ),
]
ERC20_BY_SELECTOR = {v.selector: v for v in ERC20_VIEWS}
ERC721_BY_SELECTOR = {v.selector: v for v in ERC721_VIEWS}


def is_system_address(address: int) -> bool:
    return address == ZKPOW_ADDRESS or (
        COLLECTION_ADDRESS_BASE <= address < COLLECTION_ADDRESS_BASE + MAX_COLLECTIONS
    )


def compute_call(state: ZkState, to: int, data: bytes) -> bytes:
    """ABI-encoded result of calling `to` with `data`; raises ViewRevert like a revert."""
    if to == ZKPOW_ADDRESS:
        views, collection = ERC20_BY_SELECTOR, -1
    elif is_system_address(to):
        collection = to - COLLECTION_ADDRESS_BASE
        if get_collection(state, collection).minter == 0:
            raise ViewRevert(f"collection {collection} does not exist")
        views = ERC721_BY_SELECTOR
    else:
        raise ViewRevert(
            "the ZK chain has no EVM: only the ZKPoW token and the NFT collections answer calls"
        )
    view = views.get(data[:4])
    if view is None:
        raise ViewRevert(f"unknown function selector 0x{data[:4].hex()}")
    try:
        args = decode(view.arg_types, data[4:])
    except Exception as exc:
        raise ViewRevert(f"bad arguments for {view.signature}: {exc}") from exc
    return encode([view.returns], [view.compute(state, collection, args)])


def encode_revert(message: str) -> bytes:
    return function_signature_to_4byte_selector("Error(string)") + encode(["string"], [message])
