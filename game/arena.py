"""The game's contract from Python: the integration pattern a game copies (game/README.md).

    arena = deploy_arena(fast_url, deployer_key, round_seconds=60)
    hand_rewards_to(zk_minter, arena.address)        # the reward collection's minter, once
    seat = arena.join(player_key, zk_player, pass_token=0, payout=zk_player.address)
    raw = seat.sign_move(RIGHT)                      # no prompt: the session key signs
    arena.end_round(any_key)                         # after the round's time is up

`join` proves the pass on this machine (chain/client/pass_proof.py), waits until the fast
chain's root oracle knows the proof's root, and sends the join with the entry fee; the
session key it seats receives its gas allowance from the game. Moves are plain signed
transactions of the session key; send them with any JSON-RPC client (game/socket.py does it
over one WebSocket). A refusal raises `Refused` with the contract's error by name.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from coincurve import PrivateKey
from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.types import TxParams

from chain.artifacts import load_abi
from chain.client.pass_proof import PassProof, prove_pass
from chain.client.zk import ZkClient
from chain.fast.system import OUTBOX_ADDRESS, ROOT_ORACLE_ADDRESS, ROOT_ORACLE_CONTRACT
from chain.fast.tx_signing import DynamicFeeTx, sign_dynamic_fee_tx
from chain.l1.contracts import decode_revert
from chain.l1.deploy import deploy_contract
from chain.prover.precompile_keys import compute_ceremony_vk_id
from chain.types import Address
from chain.zk.genesis import GAME_PASS_COLLECTION, REWARD_COLLECTION
from game.board import ArenaEvent, ItemPlaced, Joined, Moved, RoundEnded, RoundStarted

CONTRACT = "Arena"
ROUND_SECONDS = 60
ENTRY_FEE_WEI = 10**15  # 0.001 ZKPoW into the game's budget
SESSION_ALLOWANCE_WEI = 5 * 10**16  # a session key's gas: about 800 moves at 1 gwei
BUDGET_WEI = 10**18  # what the deployer puts in the budget at first
MOVE_GAS = 120_000
MOVE_SELECTOR = keccak(text="move(uint8)")[:4]
JOIN_GAS = 900_000
END_GAS = 600_000
MAX_FEE_WEI = 10 * 10**9  # per gas, for moves: ten times the minimum base fee
ROOT_WAIT_S = 30.0
RECEIPT_TIMEOUT_S = 30.0


class Refused(Exception):
    """The arena (or the pass check before it) refused: `name` is the contract's error."""

    def __init__(self, name: str, args: tuple[Any, ...] = (), detail: str = "") -> None:
        self.name = name
        self.error_args = args
        super().__init__(detail or f"{name}{args if args else ''}")


# -- events ------------------------------------------------------------------------------------


def _signature(entry: dict[str, Any]) -> bytes:
    types = ",".join(item["type"] for item in entry["inputs"])
    return keccak(text=f"{entry['name']}({types})")


EVENT_TYPES: dict[str, type] = {
    "RoundStarted": RoundStarted,
    "Joined": Joined,
    "Moved": Moved,
    "ItemPlaced": ItemPlaced,
    "RoundEnded": RoundEnded,
}


def _event_abis() -> dict[bytes, dict[str, Any]]:
    return {
        _signature(e): e
        for e in load_abi(CONTRACT)
        if e["type"] == "event" and e["name"] in EVENT_TYPES
    }


def decode_event(log: dict[str, Any], abis: dict[bytes, dict[str, Any]]) -> ArenaEvent | None:
    """An arena event from a JSON-RPC log object (topics and data as hex), or None."""
    topics = [bytes.fromhex(str(t)[2:]) if isinstance(t, str) else bytes(t) for t in log["topics"]]
    entry = abis.get(topics[0]) if topics else None
    if entry is None:
        return None
    data = log["data"]
    raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
    plain = [i for i in entry["inputs"] if not i["indexed"]]
    values = iter(abi_decode([i["type"] for i in plain], raw))
    indexed = iter(topics[1:])
    fields: dict[str, Any] = {}
    for item in entry["inputs"]:
        if item["indexed"]:
            (value,) = abi_decode([item["type"]], next(indexed))
        else:
            value = next(values)
        fields[to_snake(item["name"])] = normalise(item["type"], value)
    return cast(ArenaEvent, EVENT_TYPES[entry["name"]](**fields))


def to_snake(name: str) -> str:
    renamed = {"sessionKey": "session_key"}
    return renamed.get(name, name)


def normalise(sol_type: str, value: Any) -> Any:
    if sol_type == "address":
        return to_checksum_address(value)
    if sol_type == "address[]":
        return tuple(to_checksum_address(v) for v in value)
    if sol_type.endswith("[]"):
        return tuple(value)
    return value


# -- the contract ------------------------------------------------------------------------------


@dataclass
class Seat:
    """A session key seated in a round: it signs moves, with nonces counted here."""

    arena: Arena
    key: LocalAccount
    round: int
    nonce: int = 0

    @property
    def address(self) -> str:
        return str(self.key.address)

    @functools.cached_property
    def _signing_key(self) -> PrivateKey:
        return PrivateKey(bytes(self.key.key))

    def sign_move(self, direction: int) -> bytes:
        """`move(direction)`, signed with chain/fast/tx_signing.py (eth-account's bytes at a
        tenth of its CPU: a crew of bots signs many moves a second)."""
        tx = DynamicFeeTx(
            chain_id=self.arena.chain_id,
            nonce=self.nonce,
            max_priority_fee_per_gas=0,
            max_fee_per_gas=MAX_FEE_WEI,
            gas=MOVE_GAS,
            to=Address(bytes.fromhex(self.arena.address[2:])),
            value=0,
            data=MOVE_SELECTOR + abi_encode(["uint8"], [direction]),
        )
        raw = sign_dynamic_fee_tx(tx, self._signing_key)
        self.nonce += 1
        return raw


class Arena:
    def __init__(self, fast_url: str, address: str) -> None:
        self.w3 = Web3(Web3.HTTPProvider(fast_url, request_kwargs={"timeout": 30}))
        self.address = to_checksum_address(address)
        self.abi = load_abi(CONTRACT)
        self.contract: Contract = self.w3.eth.contract(address=self.address, abi=self.abi)
        self.chain_id = int(self.w3.eth.chain_id)
        self.event_abis = _event_abis()

    # -- reads ---------------------------------------------------------------------------

    def current_round(self) -> int:
        return int(self.contract.functions.round().call())

    def round_ends(self) -> int:
        return int(self.contract.functions.roundEnds().call())

    def list_events(self, from_block: int = 0) -> list[ArenaEvent]:
        logs = self.w3.eth.get_logs({"address": self.address, "fromBlock": from_block})
        events = (decode_event(cast(dict[str, Any], log), self.event_abis) for log in logs)
        return [e for e in events if e is not None]

    def explain_move(self, seat: Seat, direction: int) -> Refused | None:
        """Why the contract would refuse this move now (an eth_call), or None."""
        data = self.contract.encode_abi("move", args=[direction])
        call = {"from": seat.address, "to": self.address, "data": data, "gas": MOVE_GAS}
        try:
            self.w3.eth.call(cast(TxParams, call))
        except (ContractCustomError, ContractLogicError) as exc:
            revert = decode_revert(self.abi, exc.data)
            return Refused(revert.error, revert.error_args)
        return None

    # -- writes --------------------------------------------------------------------------

    def join(
        self,
        player_key: bytes,
        zk: ZkClient,
        pass_token: int,
        payout: str | None = None,
        progress: Callable[[str], None] = lambda step: None,
    ) -> Seat:
        """Prove pass `pass_token` and seat a new session key in the current round; the
        player's fast-chain account (`player_key`) pays the entry fee."""
        session = Account.create()
        round_ = self.current_round()
        progress("proving the game pass on this machine")
        try:
            proof = prove_pass(zk, GAME_PASS_COLLECTION, pass_token, round_, session.address)
        except Exception as exc:  # ProverError: not the owner, no key registered, no such pass
            raise Refused("NoPassProof", (), f"cannot prove pass {pass_token}: {exc}") from None
        progress("waiting for the fast chain to learn the ZK root")
        self.wait_for_root(proof)
        progress("joining the round")
        payee = to_checksum_address(payout or zk.address)
        signature = self.sign_payout(session, round_, payee)
        args = [proof.root, round_, session.address, proof.nullifier, proof.proof, payee, signature]
        fee = int(self.contract.functions.entryFee().call())
        self.transact(player_key, "join", args, JOIN_GAS, value=fee)
        return Seat(self, session, round_)

    def sign_payout(self, session: LocalAccount, round_: int, payout: str) -> bytes:
        """The session key's signature naming `payout` for its seat in round `round_` (the
        arena's `payoutDigest`): without it a copied pass proof could seat this player with
        another payout."""
        message = keccak(
            abi_encode(
                ["address", "uint256", "uint32", "address"],
                [self.address, self.w3.eth.chain_id, round_, payout],
            )
        )
        return bytes(session.sign_message(encode_defunct(primitive=message)).signature)

    def end_round(self, key: bytes) -> None:
        self.transact(key, "endRound", [], END_GAS)

    def transact(
        self, key: bytes, function: str, args: list[Any], gas: int, value: int = 0
    ) -> dict[str, Any]:
        """Call first (a refusal raises Refused by name, nothing sent), then send and wait."""
        sender = Account.from_key(key)
        tx: dict[str, Any] = {"from": sender.address, "to": self.address, "value": value}
        tx["data"] = self.contract.encode_abi(function, args=args)
        try:
            self.w3.eth.call(cast(TxParams, {**tx, "gas": gas}))
        except (ContractCustomError, ContractLogicError) as exc:
            revert = decode_revert(self.abi, exc.data)
            raise Refused(revert.error, revert.error_args) from None
        return self._send(sender, {**tx, "gas": gas}, function)

    def fund(self, key: bytes, amount: int) -> None:
        """Top up the game's session budget."""
        self.send_value(key, self.address, amount)

    def send_value(self, key: bytes, to: str, amount: int) -> None:
        tx = {"to": to_checksum_address(to), "value": amount, "gas": 60_000}
        self._send(Account.from_key(key), tx, "transfer")

    def _send(self, sender: LocalAccount, tx: dict[str, Any], what: str) -> dict[str, Any]:
        tx = {
            **tx,
            "maxFeePerGas": MAX_FEE_WEI,
            "maxPriorityFeePerGas": 0,
            "nonce": self.w3.eth.get_transaction_count(sender.address, "pending"),
            "chainId": self.chain_id,
        }
        tx.pop("from", None)
        signed = sender.sign_transaction(tx)
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
        if receipt["status"] != 1:
            raise Refused("Reverted", (), f"{what} reverted on chain (raced by another?)")
        return dict(receipt)

    def wait_for_root(self, proof: PassProof) -> None:
        """Until the fast chain's root oracle knows the ZK root `proof` is made against."""
        oracle = self.w3.eth.contract(
            address=to_checksum_address(ROOT_ORACLE_ADDRESS), abi=load_abi(ROOT_ORACLE_CONTRACT)
        )
        deadline = time.monotonic() + ROOT_WAIT_S
        while not oracle.functions.isRecentStateRoot(proof.root).call():
            if time.monotonic() > deadline:
                raise Refused("UnknownRoot", (proof.root,), "the fast chain never saw the root")
            time.sleep(0.05)


def deploy_arena(
    fast_url: str,
    deployer_key: bytes,
    round_seconds: int = ROUND_SECONDS,
    entry_fee: int = ENTRY_FEE_WEI,
    allowance: int = SESSION_ALLOWANCE_WEI,
    budget: int = BUDGET_WEI,
) -> Arena:
    """Deploy the arena on the fast chain and fund its session budget with `budget`."""
    w3 = Web3(Web3.HTTPProvider(fast_url, request_kwargs={"timeout": 30}))
    deployer = Account.from_key(deployer_key)
    address = deploy_contract(
        w3,
        deployer,
        CONTRACT,
        compute_ceremony_vk_id("ownership"),
        GAME_PASS_COLLECTION,
        to_checksum_address(OUTBOX_ADDRESS),
        REWARD_COLLECTION,
        round_seconds,
        entry_fee,
        allowance,
    )
    arena = Arena(fast_url, address)
    if budget:
        arena.fund(deployer_key, budget)
    return arena


def list_tokens(zk: ZkClient, collection: int, limit: int = 4096) -> list[dict[str, Any]]:
    """Every token of `collection` so far: the ZK chain numbers them from 0 as minted."""
    tokens = []
    for token_id in range(limit):
        token = zk.token(collection, token_id)
        if token is None:
            break
        tokens.append(token)
    return tokens


def hand_rewards_to(minter: ZkClient, arena: str, timeout_s: float = 60.0) -> None:
    """Make the arena the reward collection's minter on the ZK chain (its current minter
    signs), so its round reports mint rewards within the caps."""
    minter.wait(minter.set_minter(REWARD_COLLECTION, arena, fast_chain=True), timeout_s=timeout_s)
