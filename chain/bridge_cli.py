"""`duet deposit` and `duet withdraw`: ZKPoW between L1 and the ZK chain from the terminal.

Both find the node, its L1 and its rollup in a running dev node's node.json (--data-dir),
and sign with --key or one of the dev accounts (--dev-account). Each follows its transfer to
the end and says where it is: a deposit until the ZK chain has credited it, a withdrawal
through committed, proven and settled to the L1 claim that pays it.
"""

import argparse
import time
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from chain.service import read_node_file

if TYPE_CHECKING:
    from eth_typing import ChecksumAddress

    from chain.l1.rollup import RollupClient

ZKPOW_WEI = 10**18
CREDIT_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 600.0
POLL_S = 0.25

err = Console(stderr=True)


def add_bridge_parsers(sub: Any, default_data_dir: Path) -> None:
    deposit = sub.add_parser("deposit", help="lock L1 ZKPoW in the rollup for the ZK chain")
    withdraw = sub.add_parser(
        "withdraw", help="burn ZKPoW on the ZK chain and claim it on L1 once settled"
    )
    for parser, to_help in (
        (deposit, "the ZK-chain recipient (default: the signer)"),
        (withdraw, "the L1 recipient (default: the signer)"),
    ):
        parser.add_argument("amount", help="ZKPoW, e.g. 2.5")
        parser.add_argument("--to", metavar="ADDRESS", default=None, help=to_help)
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--key", metavar="HEX", help="the signer's private key")
        who.add_argument(
            "--dev-account", metavar="N", type=int, help="dev account N of the dev mnemonic"
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=default_data_dir,
            help=f"the running dev node's data directory (default {default_data_dir})",
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="send and return, without following it"
        )


def parse_amount(text: str) -> int:
    """ZKPoW as typed (`2.5`) in wei; ValueError unless a positive whole number of wei."""
    try:
        wei = Decimal(text) * ZKPOW_WEI
    except InvalidOperation:
        raise ValueError(f"{text!r} is not an amount of ZKPoW") from None
    if wei <= 0 or wei != wei.to_integral_value():
        raise ValueError(f"{text} ZKPoW is not a positive whole number of wei")
    return int(wei)


def load_node(data_dir: Path) -> dict[str, Any]:
    info = read_node_file(data_dir)
    if not (info.get("l1") or {}).get("rollup"):
        raise ValueError(f"the node on {data_dir} does not settle on L1: no rollup")
    return info


def load_signer(args: argparse.Namespace) -> Any:
    from eth_account import Account

    from chain.fast.genesis import dev_keys

    if args.key is not None:
        return Account.from_key(bytes.fromhex(args.key.removeprefix("0x")))
    keys = dev_keys()
    if not 0 <= args.dev_account < len(keys):
        raise ValueError(f"--dev-account: the dev accounts are 0 to {len(keys) - 1}")
    return Account.from_key(keys[args.dev_account])


@dataclass(frozen=True)
class BridgeRequest:
    """What both commands are asked: how much, on which node, signed by whom, for whom."""

    amount: int
    node: dict[str, Any]
    signer: Any  # an eth_account LocalAccount
    to: "ChecksumAddress"


def parse_request(args: argparse.Namespace) -> BridgeRequest:
    """ValueError for a bad amount or key, or no node settling on L1 at --data-dir."""
    from eth_utils import to_checksum_address

    amount = parse_amount(args.amount)
    node = load_node(args.data_dir)
    signer = load_signer(args)
    return BridgeRequest(amount, node, signer, to_checksum_address(args.to or signer.address))


def connect_rollup(node: dict[str, Any], signer: Any) -> "RollupClient":
    from web3 import Web3

    from chain.l1.rollup import RollupClient

    w3 = Web3(Web3.HTTPProvider(node["l1"]["http"], request_kwargs={"timeout": 60}))
    return RollupClient(w3, node["l1"]["rollup"], signer)


def format_zkpow(wei: int) -> str:
    return f"{Decimal(wei) / ZKPOW_WEI:,f} ZKPoW"


def cmd_deposit(args: argparse.Namespace) -> int:
    from chain.client.zk import ZkClient
    from chain.l1.errors import L1Error
    from chain.zk.chain import compute_deposit_id

    try:
        request = parse_request(args)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    amount, info, signer, to = request.amount, request.node, request.signer, request.to
    rollup = connect_rollup(info, signer)
    try:
        index = rollup.deposit(to, amount)
    except L1Error as exc:
        err.print(f"[red]deposit refused: {exc}[/]")
        return 1
    err.print(f"deposit {index}: {format_zkpow(amount)} locked on L1 for {to}")
    if args.no_wait:
        return 0
    zk = ZkClient(info["zk"]["http"], signer.key)
    op_id = "0x" + compute_deposit_id(index).hex()
    deadline = time.monotonic() + CREDIT_TIMEOUT_S
    with err.status("waiting for the ZK chain to credit it (after two L1 blocks)"):
        while (status := zk.status(op_id))["status"] in ("unknown", "pending"):
            if time.monotonic() > deadline:
                err.print(f"[red]not credited after {CREDIT_TIMEOUT_S:.0f} s[/]")
                return 1
            time.sleep(POLL_S)
    height = int(status["height"], 16)
    err.print(f"credited in ZK block {height}: {to} holds {format_zkpow(zk.balance(to))}")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    from chain.client.l1_bridge import claim_withdrawal
    from chain.client.zk import OperationFailed, ZkClient
    from chain.l1.errors import L1Error
    from chain.types import Height

    try:
        request = parse_request(args)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    amount, info, signer, to = request.amount, request.node, request.signer, request.to
    zk = ZkClient(info["zk"]["http"], signer.key)
    try:
        op_id = zk.withdraw(to, amount)
    except OperationFailed as exc:
        err.print(f"[red]withdrawal refused: {exc}[/]")
        return 1
    err.print(f"withdrawal {op_id}: {format_zkpow(amount)} for {to} on L1")
    if args.no_wait:
        return 0
    status: dict[str, Any] = {}
    try:  # each stage shown as it is reached
        for stage, what in (
            ("committed", "in a ZK block"),
            ("proven", "proving it"),
            ("settled", "settling its block on L1"),
        ):
            with err.status(f"{what}…"):
                status = zk.wait(op_id, stage, timeout_s=SETTLE_TIMEOUT_S)
            err.print(f"{stage}")
    except OperationFailed as exc:
        err.print(f"[red]{exc}[/]")
        return 1
    height = Height(int(status["height"], 16))
    rollup = connect_rollup(info, signer)
    try:
        claim = claim_withdrawal(rollup, height, to, amount)
    except L1Error as exc:
        err.print(f"[red]claim refused: {exc}[/]")
        return 1
    tx = claim.receipt["transactionHash"].hex()
    err.print(
        f"claimed on L1 (withdrawal {claim.withdrawal.position} of ZK block {height}, tx {tx}):"
        f" {to} holds {format_zkpow(rollup.get_token_balance(to))} on L1"
    )
    return 0
