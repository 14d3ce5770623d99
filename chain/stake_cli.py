"""`duet stake`: a validator's ZKPoW stake on the ZK chain (docs/architecture.md, "Stake").

`show` reads a stake; `bond`, `unbond` and `claim` sign the stake operations with --key, a
dev account, or the attester key of a validator's CometBFT home (--cometbft-home: a
validator's stake is under HOME/config/duet_attest_key.json), send them to a node's ZK
endpoint (--node-url, or the running node of --data-dir) and wait until a block commits
them, then show the stake. `register` is how a validator joins after genesis: it signs its
consensus key and its attester key together (chain/consensus/registration.py), sends that
to its own CometBFT and waits until a height takes it; then its attester may bond.
"""

import argparse
import base64
from pathlib import Path
from typing import Any

from rich.console import Console

from chain.bridge_cli import ZKPOW_WEI, load_signer, parse_amount
from chain.market_cli import resolve_endpoint

COMMIT_TIMEOUT_S = 120.0

err = Console(stderr=True)


def add_stake_parser(sub: Any, default_data_dir: Path) -> None:
    stake = sub.add_parser("stake", help="a validator's ZKPoW stake: show, bond, unbond, claim")
    actions = stake.add_subparsers(dest="stake_action", required=True)
    show = actions.add_parser("show", help="bonded and unbonding stake, and its unlock epoch")
    show.add_argument("address", nargs="?", help="the validator (default: the signer's)")
    bond = actions.add_parser("bond", help="lock ZKPoW as stake (power from the next epoch)")
    unbond = actions.add_parser("unbond", help="start bonded stake unbonding (2 epochs)")
    claim = actions.add_parser("claim", help="take back the unbonding stake once unlocked")
    register = actions.add_parser(
        "register",
        help="join after genesis: register a validator's consensus and attester keys",
    )
    register.add_argument(
        "--cometbft-home",
        type=Path,
        required=True,
        help="the joining validator's CometBFT home (its keys, and the CometBFT to send to)",
    )
    for parser in (bond, unbond):
        parser.add_argument("amount", help="ZKPoW, e.g. 2.5")
    for parser in (show, bond, unbond, claim):
        who = parser.add_mutually_exclusive_group(required=parser is not show)
        who.add_argument("--key", metavar="HEX", help="the validator's private key")
        who.add_argument("--dev-account", metavar="N", type=int, help="dev account N")
        who.add_argument(
            "--cometbft-home", type=Path, help="the attester key of this validator's home"
        )
    for parser in (show, bond, unbond, claim, register):
        parser.add_argument(
            "--node-url", metavar="URL", help="a node's ZK endpoint (default: from --data-dir)"
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=default_data_dir,
            help=f"the running node's data directory (default {default_data_dir})",
        )


def format_zkpow(wei: int) -> str:
    whole, rest = divmod(wei, ZKPOW_WEI)
    return f"{whole}.{rest:018d}".rstrip("0").rstrip(".") + " ZKPoW"


def format_stake(address: str, stake: dict[str, Any]) -> str:
    unlock = stake["unlockEpoch"]
    when = "claimable now" if stake["epoch"] >= unlock else f"unlocks at epoch {unlock}"
    unbonding = format_zkpow(stake["unbonding"])
    tail = f", {when} (this is epoch {stake['epoch']})" if stake["unbonding"] else ""
    return f"{address}: {format_zkpow(stake['bonded'])} bonded, {unbonding} unbonding{tail}"


def read_stake(url: str, address: str) -> dict[str, Any]:
    from chain.jsonrpc import RpcClient

    stake = RpcClient(url).call("duet_getStake", [address])
    return {
        "bonded": int(stake["bonded"], 16),
        "unbonding": int(stake["unbonding"], 16),
        "unlockEpoch": int(stake["unlockEpoch"]),
        "epoch": int(stake["epoch"]),
    }


def load_stake_signer(args: argparse.Namespace) -> Any:
    """The signer --key, --dev-account or --cometbft-home names; None if none does."""
    from eth_account import Account

    from chain.consensus.comet_sequencer import ATTEST_KEY_FILE, read_attest_key

    if args.cometbft_home is not None:
        key = read_attest_key(args.cometbft_home)
        if key is None:
            raise ValueError(f"{args.cometbft_home} has no attester key (config/{ATTEST_KEY_FILE})")
        return Account.from_key(key)
    if args.key is not None or args.dev_account is not None:
        return load_signer(args)
    return None


def register_validator(url: str, home: Path) -> str:
    """Register `home`'s keys (chain/client/validator.py); the line to print."""
    from chain.client.validator import register_validator as register

    registration = register(url, home).registration
    validator = registration.validator.hex().upper()
    pub_key = base64.b64encode(registration.pub_key).decode()
    return (
        f"validator {validator} (ed25519 {pub_key}) registered with attester "
        f"{registration.address}: bond ZKPoW with `duet stake bond AMOUNT --cometbft-home "
        f"{home}`; its power follows the stake from the next epoch"
    )


def cmd_stake(args: argparse.Namespace) -> int:
    from chain.client.validator import RegistrationFailed
    from chain.client.zk import OperationFailed, ZkClient
    from chain.consensus.registration import InvalidRegistration
    from chain.jsonrpc import NodeUnreachable, RpcError

    action = args.stake_action
    if action == "register":
        try:
            url, _ = resolve_endpoint(args)
            print(register_validator(url, args.cometbft_home))
        except (
            ValueError,
            OSError,
            InvalidRegistration,
            RegistrationFailed,
            TimeoutError,
            NodeUnreachable,
            RpcError,
        ) as exc:
            err.print(f"[red]duet stake register:[/] {exc}")
            return 1
        return 0
    try:
        url, _ = resolve_endpoint(args)
        signer = load_stake_signer(args)
        amount = parse_amount(args.amount) if action in ("bond", "unbond") else 0
    except (ValueError, OSError) as exc:
        err.print(f"[red]duet stake:[/] {exc}")
        return 2
    address = getattr(args, "address", None) or (signer.address if signer else None)
    if address is None:
        err.print(
            "[red]duet stake show:[/] name an ADDRESS, or --key / --dev-account / --cometbft-home"
        )
        return 2
    try:
        if signer is not None and action != "show":  # argparse requires a signer but for show
            client = ZkClient(url, signer.key)
            send = {"bond": client.bond, "unbond": client.unbond}
            op_id = send[action](amount) if action in send else client.claim_stake()
            client.wait(op_id, "committed", timeout_s=COMMIT_TIMEOUT_S)
            print(f"{action}: operation {op_id} committed")
        print(format_stake(address, read_stake(url, address)))
    except (NodeUnreachable, RpcError, OperationFailed, OSError) as exc:
        err.print(f"[red]duet stake {action}:[/] {exc}")
        return 1
    return 0
