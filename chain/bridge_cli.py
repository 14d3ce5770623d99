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

from chain.nodefile import NodeFile, read_node_file

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
    withdraw.add_argument(
        "--force",
        action="store_true",
        help="queue it on the rollup itself (forceWithdraw, paying the force fee in ETH), for "
        "when the sequencer ignores you: the next blocks must take it, or anyone may freeze",
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


def load_node(data_dir: Path) -> NodeFile:
    info = read_node_file(data_dir)
    if not info.rollup:
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
    node: NodeFile
    signer: Any  # an eth_account LocalAccount
    to: "ChecksumAddress"


def parse_request(args: argparse.Namespace) -> BridgeRequest:
    """ValueError for a bad amount or key, or no node settling on L1 at --data-dir."""
    from eth_utils import to_checksum_address

    amount = parse_amount(args.amount)
    node = load_node(args.data_dir)
    signer = load_signer(args)
    return BridgeRequest(amount, node, signer, to_checksum_address(args.to or signer.address))


def connect_rollup(l1_url: str, rollup: str, signer: Any) -> "RollupClient":
    from web3 import Web3

    from chain.l1.rollup import RollupClient

    w3 = Web3(Web3.HTTPProvider(l1_url, request_kwargs={"timeout": 60}))
    return RollupClient(w3, Web3.to_checksum_address(rollup), signer)


def connect_node_rollup(node: NodeFile, signer: Any) -> "RollupClient":
    assert node.l1 is not None and node.l1.rollup is not None  # load_node saw to it
    return connect_rollup(node.l1.http, node.l1.rollup, signer)


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
    rollup = connect_node_rollup(info, signer)
    try:
        index = rollup.deposit(to, amount)
    except L1Error as exc:
        err.print(f"[red]deposit refused: {exc}[/]")
        return 1
    err.print(f"deposit {index}: {format_zkpow(amount)} locked on L1 for {to}")
    if args.no_wait:
        return 0
    zk = ZkClient(info.zk.http, signer.key)
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
    from chain.jsonrpc import RpcError
    from chain.l1.errors import L1Error
    from chain.types import Height

    try:
        request = parse_request(args)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    amount, info, signer, to = request.amount, request.node, request.signer, request.to
    zk = ZkClient(info.zk.http, signer.key)
    if args.force:
        return force_and_claim(request, zk, args.no_wait)
    try:
        op_id = zk.withdraw(to, amount)
    except (OperationFailed, RpcError) as exc:
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
    except (OperationFailed, RpcError) as exc:
        err.print(f"[red]{exc}[/]")
        return 1
    height = Height(int(status["height"], 16))
    rollup = connect_node_rollup(info, signer)
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


def force_and_claim(request: BridgeRequest, zk: Any, no_wait: bool) -> int:
    """`duet withdraw --force`: queue the Withdraw on L1, wait for a settled block to take
    it, and claim it (or say it was refused: its words did not apply)."""
    from chain.client.l1_bridge import claim_withdrawal, find_withdrawal_height, force_withdraw
    from chain.l1.errors import L1Error

    rollup = connect_node_rollup(request.node, request.signer)
    try:
        index = force_withdraw(zk, rollup, request.to, request.amount)
    except L1Error as exc:
        err.print(f"[red]forceWithdraw refused: {exc}[/]")
        return 1
    err.print(f"queued on L1 as forced Withdraw {index}: {format_zkpow(request.amount)}")
    if no_wait:
        return 0
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    with err.status("waiting for a settled block to take it…"):
        while rollup.get_forced_queue()[1] <= index:
            if time.monotonic() > deadline:
                err.print(f"[red]not taken after {SETTLE_TIMEOUT_S:.0f} s: see docs/l1.md[/]")
                return 1
            time.sleep(POLL_S)
    height = find_withdrawal_height(rollup, request.to, request.amount)
    if height is None:
        err.print("[red]settled as refused: the Withdraw did not apply (balance, nonce)[/]")
        return 1
    try:
        claim = claim_withdrawal(rollup, height, request.to, request.amount)
    except L1Error as exc:
        err.print(f"[red]claim refused: {exc}[/]")
        return 1
    err.print(
        f"claimed on L1 (withdrawal {claim.withdrawal.position} of ZK block {height}): "
        f"{request.to} holds {format_zkpow(rollup.get_token_balance(request.to))} on L1"
    )
    return 0


def add_escape_parsers(sub: Any, default_data_dir: Path) -> None:
    exit_ = sub.add_parser(
        "exit",
        help="after a freeze, take your ZK balance out on L1 (the state rebuilt from L1 alone)",
    )
    who = exit_.add_mutually_exclusive_group(required=True)
    who.add_argument("--key", metavar="HEX", help="the account's private key")
    who.add_argument("--dev-account", metavar="N", type=int, help="dev account N")
    exit_.add_argument("--l1", metavar="URL", default=None, help="the L1 (default: the node's)")
    exit_.add_argument(
        "--rollup", metavar="ADDRESS", default=None, help="the rollup (default: the node's)"
    )
    exit_.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir,
        help=f"a dev node's data directory, for its L1 and rollup (default {default_data_dir})",
    )
    exit_.add_argument("--json", action="store_true", help="print the result as JSON")


def cmd_exit(args: argparse.Namespace) -> int:
    """Prove the account's leaf under the rollup's settled root, from the state rebuilt from
    L1's calldata (no node needed), and have the frozen rollup pay its balance."""
    import json

    from chain.l1.calldata import SettledOp, StateRoot, encode_op
    from chain.l1.errors import L1Error
    from chain.l1.reconstruct import reconstruct
    from chain.prover.escape import compute_exit_inputs
    from chain.prover.groth16 import load_circuit, prove
    from chain.zk.state import get_account_index

    try:
        signer = load_signer(args)
        if args.l1 is None or args.rollup is None:
            l1_info = load_node(args.data_dir).l1
            assert l1_info is not None and l1_info.rollup is not None  # load_node saw to it
            l1, rollup_address = args.l1 or l1_info.http, args.rollup or l1_info.rollup
        else:
            l1, rollup_address = args.l1, args.rollup
    except (ValueError, OSError) as exc:
        err.print(f"[red]{exc}[/]")
        return 2
    rollup = connect_rollup(l1, rollup_address, signer)
    try:
        if not rollup.is_frozen():
            err.print("[red]the rollup is not frozen: withdraw instead (duet withdraw, --force)[/]")
            return 1
        with err.status("rebuilding the settled state from L1's calldata…"):
            rebuilt = reconstruct(l1, rollup_address)
        if not rebuilt.matches:
            err.print(f"[red]the rebuilt state is not the settled one: {rebuilt.mismatch}[/]")
            return 1
        state = rebuilt.replay.state
        index = get_account_index(state, int(signer.address, 16))
        if index is None:
            err.print(f"[red]{signer.address} has no account under the settled root[/]")
            return 1
        with err.status("proving the account's leaf…"):
            witness = compute_exit_inputs(state, index)
            proof = prove(load_circuit(witness.circuit), witness.inputs, witness.public_inputs)
        _, account, balance = witness.public_inputs
        statement = encode_op(SettledOp("exit", StateRoot(account), (balance,), proof))
        rollup.exit(statement)
    except L1Error as exc:
        err.print(f"[red]exit refused: {exc}[/]")
        return 1
    if args.json:
        print(json.dumps({"account": signer.address, "index": index, "paid": balance}))
    else:
        err.print(f"account {index} exited: {format_zkpow(balance)} paid on L1 to {signer.address}")
    return 0
