"""A validator joining a network after genesis (chain/consensus/registration.py): sign the
registration of its CometBFT home's consensus key and attester key, send it to that home's
CometBFT, and wait until a height takes it. `duet stake register` and the end-to-end runner's
"join" use it; then the attester bonds (ZkClient.bond) and its power follows at the next
power epoch."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chain.consensus.comet_sequencer import (
    ATTEST_KEY_FILE,
    classify_broadcast,
    encode_broadcast,
    read_attest_key,
    read_home_settings,
)
from chain.consensus.registration import Registration, read_consensus_seed, sign_registration
from chain.consensus.txs import encode_registration_tx
from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError

REGISTER_TIMEOUT_S = 120.0
POLL_S = 0.25
ATTEST_KEY_PATH = f"config/{ATTEST_KEY_FILE}"


class RegistrationFailed(Exception):
    """The network did not take the registration; the message says why."""


@dataclass(frozen=True)
class Registered:
    registration: Registration
    height: int  # the CometBFT height that took it


def sign_home_registration(zk_url: str, home: Path) -> Registration:
    """The registration of `home`'s two keys, for the chains of the node at `zk_url`."""
    attest_key = read_attest_key(home)
    if attest_key is None:
        raise RegistrationFailed(f"{home} has no attester key ({ATTEST_KEY_PATH})")
    try:
        validator_key = json.loads((home / "config" / "priv_validator_key.json").read_text())
    except (OSError, ValueError) as exc:
        raise RegistrationFailed(f"cannot read {home}'s validator key: {exc}") from None
    heads = RpcClient(zk_url).call("duet_heads")
    return sign_registration(
        int(heads["zk"]["chainId"]),
        int(heads["fast"]["chainId"]),
        read_consensus_seed(validator_key),
        attest_key,
    )


def wait_for_comet_tx(rpc_url: str, raw: bytes, timeout_s: float) -> dict[str, Any]:
    """CometBFT's record of transaction `raw` once a height commits it (its `tx` method);
    TimeoutError if none does in time."""
    client = RpcClient(rpc_url)
    digest = hashlib.sha256(raw).digest()  # CometBFT's transaction hash
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            # JSON-RPC takes the hash's bytes in base64 (the URI form takes 0x-hex).
            found: dict[str, Any] = client.call("tx", {"hash": base64.b64encode(digest).decode()})
            return found
        except RpcError as exc:
            if "not found" not in f"{exc.message} {exc.data or ''}":
                raise  # not a wait: CometBFT cannot answer this (its indexer off, say)
            if time.monotonic() > deadline:
                message = f"no height took transaction 0x{digest.hex()} in {timeout_s:.0f} s"
                raise TimeoutError(message) from None
            time.sleep(POLL_S)


def register_validator(
    zk_url: str, home: Path, timeout_s: float = REGISTER_TIMEOUT_S
) -> Registered:
    """Register `home`'s keys through its own CometBFT (which must be running, peered with
    the network); RegistrationFailed with the network's reason if it is refused."""
    registration = sign_home_registration(zk_url, home)
    raw = encode_registration_tx(registration)
    comet = read_home_settings(home).rpc_url
    method, params = encode_broadcast(raw)
    try:
        answer: object = RpcClient(comet).call(method, params)
    except RpcError as exc:
        answer = exc
    except NodeUnreachable:
        raise RegistrationFailed(
            f"the validator's CometBFT ({comet}) does not answer: start its node first "
            "(duet node --consensus cometbft --cometbft-home HOME) and let it sync"
        ) from None
    verdict = classify_broadcast(answer)
    if verdict.verdict != "taken":
        raise RegistrationFailed(f"the registration was not taken: {verdict.reason}")
    found = wait_for_comet_tx(comet, raw, timeout_s)
    result = found["tx_result"]
    if int(result.get("code", 0)) != 0:
        raise RegistrationFailed(f"the registration was refused: {result.get('log', '')}")
    return Registered(registration, int(found["height"]))
