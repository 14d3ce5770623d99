"""The homes of a local CometBFT network: N validators on loopback, on one machine.

`duet testnet --validators N` runs one CometBFT process and one ABCI application per
validator. This module makes what those processes need, and reopens it for a restart: a
CometBFT home per validator (`cometbft init`), one genesis shared by all of them, and each
node's config.toml pointed at its own application's unix socket, at free loopback ports, and
at every other node as a persistent peer. It starts nothing.

    root/network.json              what a restart needs: the spec, node ids, ports
    root/validator-I/cometbft/     validator I's CometBFT home (config/, data/)
    root/validator-I/app.sock      where validator I's ABCI application must listen

`make_network` refuses a root that already holds anything (CometBFT's init would keep the
keys it finds, and a new genesis over an old chain's data cannot start); `load_network`
reopens a network with its keys and ports; `open_or_make_network` does whichever fits, and
refuses a root made with other parameters rather than quietly running a different network.
A network cannot move: its config.toml files hold absolute socket paths.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import re
import shutil
import socket
import subprocess
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress

from chain.consensus.abci.server import MAX_UNIX_PATH_BYTES
from chain.consensus.attestations import Attester, format_attesters
from chain.consensus.comet_sequencer import ATTEST_KEY_FILE, read_attest_key
from chain.consensus.cometbft import CometBFTNotFound, find_cometbft
from chain.consensus.cometbft_config import (
    CometConfigError,
    ConfigKey,
    ConfigValue,
    compute_genesis,
    compute_genesis_validator,
    compute_node_id,
    compute_validator_address,
    format_genesis_time,
    set_config,
)

MAX_VALIDATORS = 32  # every validator is two processes on this one machine
DEFAULT_POWER = 10  # what `cometbft init` gives its single validator
MAX_TOTAL_VOTING_POWER = (2**63 - 1) // 8  # CometBFT's types.MaxTotalVotingPower
MAX_CHAIN_ID_BYTES = 50  # CometBFT's types.MaxChainIDLen
DEFAULT_CHAIN_ID = "duet-testnet"
# The pause after each commit: it sets the height time. 80 ms gives 4 validators on this
# 2-core machine a height every ~138 ms under load (100 ms: ~157 ms) at the same throughput
# (bench/README.md, testnet.py); 30 ms made the heights the cores' main work.
DEFAULT_TIMEOUT_COMMIT = "80ms"
LOOPBACK = "127.0.0.1"
MAX_PORT = 65535

# CometBFT's defaults suit a network of real links. Two of them add latency on loopback that
# no round timeout shows: a connection flushes its buffered writes at most once per
# flush_throttle_timeout (100ms), so every message waits up to that long at every hop; and a
# peer's gossip routine, when it has nothing to send, sleeps peer_gossip_sleep_duration
# (100ms) before it looks for a new vote again. CometBFT's own test config uses 10ms and 5ms.
P2P_FLUSH_THROTTLE = "10ms"
PEER_GOSSIP_SLEEP = "10ms"
# Calls per JSON-RPC batch: the node forwards its transactions to CometBFT's mempool in
# batches (chain/consensus/comet_sequencer.py); CometBFT's default of 10 is one per 10 txs.
RPC_BATCH_LIMIT = 500

# Ports for the nodes' listeners come from below the kernel's ephemeral range (get_free_ports).
EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
DEFAULT_EPHEMERAL_LOW = 32768
LOW_PORT = 20000
PORT_TRIES = 200

NETWORK_FILE = "network.json"
NETWORK_FORMAT = 1  # of network.json
HOME_DIR = "cometbft"
APP_SOCKET = "app.sock"
INIT_TIMEOUT_S = 30.0
GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")


class NetworkError(Exception):
    """A network that cannot be made or reopened as asked; the message says why."""


@dataclass(frozen=True)
class ConsensusTimeouts:
    """The round timeouts of CometBFT's consensus ([consensus] in config.toml). On a healthy
    network they never fire: a height takes timeout_commit plus the time its messages take.
    They cost time only when a round fails. A round whose proposer is down costs
    timeout_propose (nobody has a proposal: all prevote nil), then timeout_precommit (2/3
    precommitted nil) before the next round's proposer: 1.2 s with these values, measured
    on loopback, against ~150 ms for a height with timeout_commit 100ms. timeout_prevote
    fires only when the prevotes split. Kept at 1 s for the proposal so that a slow
    PrepareProposal on a busy machine does not fail rounds; each failed round adds its
    delta, so a network always gets there in the end."""

    propose: str = "1s"
    propose_delta: str = "200ms"
    prevote: str = "200ms"
    prevote_delta: str = "100ms"
    precommit: str = "200ms"
    precommit_delta: str = "100ms"


LOOPBACK_TIMEOUTS = ConsensusTimeouts()


@dataclass(frozen=True)
class NetworkSpec:
    """What a network is made from. Kept in network.json, so that a reopen can tell whether
    the network on disk is the one asked for."""

    powers: tuple[int, ...]  # one per validator, in index order
    chain_id: str
    timeout_commit: str
    vote_extensions_height: int  # 0: vote extensions off
    timeouts: ConsensusTimeouts


@dataclass(frozen=True)
class ValidatorHome:
    """One validator of the network: where its CometBFT home is, how to reach it, and where
    its ABCI application must listen."""

    index: int
    home: Path  # the CometBFT home (config/, data/): `cometbft start --home <home>`
    node_id: str  # what `cometbft show-node-id` prints: the p2p identity
    rpc_port: int
    p2p_port: int
    app_address: str  # unix:///.../app.sock, the config's proxy_app
    validator_address: bytes  # 20 bytes, from priv_validator_key.json
    power: int

    @property
    def rpc_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rpc_port}"

    @property
    def directory(self) -> Path:
        """The validator's own directory (its home and its app's socket live there)."""
        return self.home.parent

    @property
    def moniker(self) -> str:
        return compute_validator_name(self.index)

    @property
    def p2p_address(self) -> str:
        """How the other nodes dial this one (`id@host:port`)."""
        return f"{self.node_id}@{LOOPBACK}:{self.p2p_port}"


# --- The spec: every argument checked before anything is written ---


def is_go_duration(text: str) -> bool:
    """A duration CometBFT's config accepts (Go's time.ParseDuration: "100ms", "1.5s")."""
    return bool(GO_DURATION.match(text))


def compute_powers(validators: int, powers: Sequence[int] | None) -> tuple[int, ...]:
    """Each validator's voting power: `powers` checked, or DEFAULT_POWER for all."""
    if isinstance(validators, bool) or not 1 <= validators <= MAX_VALIDATORS:
        raise NetworkError(f"validators must be 1 to {MAX_VALIDATORS}, not {validators!r}")
    if powers is None:
        return (DEFAULT_POWER,) * validators
    if len(powers) != validators:
        raise NetworkError(f"{len(powers)} powers for {validators} validators")
    for index, power in enumerate(powers):
        if isinstance(power, bool) or not isinstance(power, int) or power < 1:
            raise NetworkError(f"validator {index}'s power must be a positive int: {power!r}")
    if sum(powers) > MAX_TOTAL_VOTING_POWER:
        raise NetworkError(f"total power {sum(powers)} exceeds {MAX_TOTAL_VOTING_POWER}")
    return tuple(powers)


def check_durations(timeout_commit: str, timeouts: ConsensusTimeouts) -> None:
    durations = {"timeout_commit": timeout_commit} | {
        f"timeout_{name}": value for name, value in dataclasses.asdict(timeouts).items()
    }
    for name, value in durations.items():
        if not is_go_duration(value):
            raise NetworkError(f'{name} must be a duration such as "100ms", not {value!r}')


def compute_spec(
    validators: int,
    powers: Sequence[int] | None,
    chain_id: str,
    timeout_commit: str,
    vote_extensions_height: int,
    timeouts: ConsensusTimeouts,
) -> NetworkSpec:
    """The spec of make_network's arguments, each checked: NetworkError says which is wrong."""
    checked_powers = compute_powers(validators, powers)
    if not 1 <= len(chain_id.encode()) <= MAX_CHAIN_ID_BYTES:
        raise NetworkError(f"chain_id must be 1 to {MAX_CHAIN_ID_BYTES} bytes: {chain_id!r}")
    if isinstance(vote_extensions_height, bool) or vote_extensions_height < 0:
        raise NetworkError(
            f"vote_extensions_height must be 0 (off) or a height: {vote_extensions_height!r}"
        )
    check_durations(timeout_commit, timeouts)
    return NetworkSpec(checked_powers, chain_id, timeout_commit, vote_extensions_height, timeouts)


# What each node's config.toml alone sets: a reopen may change it (CometBFT's nodes need not
# agree on their timeouts). The rest is the network itself: its genesis.
LOCAL_SPEC_FIELDS = frozenset({"timeout_commit", "timeouts"})


def compute_spec_differences(
    made: NetworkSpec, wanted: NetworkSpec, fields: frozenset[str] | None = None
) -> list[str]:
    """`field: made → wanted` for every field (of `fields`, default all) in which the two
    specs differ."""
    return [
        f"{field.name}: {getattr(made, field.name)} → {getattr(wanted, field.name)}"
        for field in dataclasses.fields(NetworkSpec)
        if (fields is None or field.name in fields)
        and getattr(made, field.name) != getattr(wanted, field.name)
    ]


# --- Pure pieces of a home: names, addresses, peers, config ---


def compute_validator_name(index: int) -> str:
    """Validator `index`'s directory name, moniker and genesis name."""
    return f"validator-{index}"


def compute_app_address(validator_dir: Path) -> str:
    """The unix socket of the validator's ABCI application. A socket path must fit the
    kernel's sun_path (107 bytes): a deep `root` cannot hold a network."""
    path = validator_dir / APP_SOCKET
    if len(str(path).encode()) > MAX_UNIX_PATH_BYTES:
        raise NetworkError(
            f"the ABCI socket path {path} is longer than a unix socket allows "
            f"({MAX_UNIX_PATH_BYTES} bytes); choose a shorter network directory"
        )
    return f"unix://{path}"


def compute_fixed_ports(validators: int, base_port: int) -> list[tuple[int, int]]:
    """(rpc, p2p) for each validator from `base_port` on: base, base+1 for validator 0,
    base+2, base+3 for validator 1, and so on."""
    last = base_port + 2 * validators - 1
    if base_port < 1 or last > MAX_PORT:
        raise NetworkError(f"ports {base_port}..{last} are not all valid ports")
    return [(base_port + 2 * index, base_port + 2 * index + 1) for index in range(validators)]


def compute_persistent_peers(homes: Sequence[ValidatorHome], index: int) -> str:
    """Every node but validator `index`, as config.toml's p2p.persistent_peers: a full mesh,
    each link redialed whenever it drops."""
    return ",".join(home.p2p_address for home in homes if home.index != index)


def compute_node_config(
    home: ValidatorHome, homes: Sequence[ValidatorHome], spec: NetworkSpec
) -> dict[ConfigKey, ConfigValue]:
    """The config.toml keys we set for `home`; the rest stay at CometBFT's defaults."""
    timeouts = spec.timeouts
    return {
        ("", "proxy_app"): home.app_address,
        ("", "moniker"): home.moniker,
        ("rpc", "laddr"): f"tcp://{LOOPBACK}:{home.rpc_port}",
        ("rpc", "max_request_batch_size"): RPC_BATCH_LIMIT,
        ("p2p", "laddr"): f"tcp://{LOOPBACK}:{home.p2p_port}",
        ("p2p", "persistent_peers"): compute_persistent_peers(homes, home.index),
        # All peers share one IP, and a loopback address is not a routable one: CometBFT
        # refuses both unless told.
        ("p2p", "addr_book_strict"): False,
        ("p2p", "allow_duplicate_ip"): True,
        ("p2p", "flush_throttle_timeout"): P2P_FLUSH_THROTTLE,
        ("consensus", "timeout_propose"): timeouts.propose,
        ("consensus", "timeout_propose_delta"): timeouts.propose_delta,
        ("consensus", "timeout_prevote"): timeouts.prevote,
        ("consensus", "timeout_prevote_delta"): timeouts.prevote_delta,
        ("consensus", "timeout_precommit"): timeouts.precommit,
        ("consensus", "timeout_precommit_delta"): timeouts.precommit_delta,
        ("consensus", "timeout_commit"): spec.timeout_commit,
        ("consensus", "create_empty_blocks"): True,  # heights go on without transactions
        ("consensus", "peer_gossip_sleep_duration"): PEER_GOSSIP_SLEEP,
    }


# --- network.json: what a restart needs ---


def compute_network_record(spec: NetworkSpec, homes: Sequence[ValidatorHome]) -> dict[str, Any]:
    """network.json's content. Paths are not in it: they follow from the root."""
    return {
        "format": NETWORK_FORMAT,
        "chain_id": spec.chain_id,
        "timeout_commit": spec.timeout_commit,
        "vote_extensions_height": spec.vote_extensions_height,
        "timeouts": dataclasses.asdict(spec.timeouts),
        "validators": [
            {
                "index": home.index,
                "node_id": home.node_id,
                "validator_address": home.validator_address.hex().upper(),
                "power": home.power,
                "rpc_port": home.rpc_port,
                "p2p_port": home.p2p_port,
            }
            for home in homes
        ],
    }


def parse_network_record(
    root: Path, record: Mapping[str, Any]
) -> tuple[NetworkSpec, list[ValidatorHome]]:
    """The spec and homes of a network.json under `root`; NetworkError if it is not one
    this module wrote."""
    if record.get("format") != NETWORK_FORMAT:
        raise NetworkError(
            f"{root / NETWORK_FILE} has format {record.get('format')!r}, not {NETWORK_FORMAT}"
        )
    try:
        validators = record["validators"]
        spec = NetworkSpec(
            powers=tuple(int(entry["power"]) for entry in validators),
            chain_id=record["chain_id"],
            timeout_commit=record["timeout_commit"],
            vote_extensions_height=int(record["vote_extensions_height"]),
            timeouts=ConsensusTimeouts(**record["timeouts"]),
        )
        homes = [
            parse_validator_record(root, index, entry) for index, entry in enumerate(validators)
        ]
    except (KeyError, TypeError, ValueError) as error:
        raise NetworkError(f"{root / NETWORK_FILE} is malformed: {error!r}") from error
    return spec, homes


def parse_validator_record(root: Path, index: int, entry: Mapping[str, Any]) -> ValidatorHome:
    if entry["index"] != index:
        raise ValueError(f"validator {index} recorded as index {entry['index']}")
    directory = root / compute_validator_name(index)
    return ValidatorHome(
        index=index,
        home=directory / HOME_DIR,
        node_id=entry["node_id"],
        rpc_port=int(entry["rpc_port"]),
        p2p_port=int(entry["p2p_port"]),
        app_address=compute_app_address(directory),
        validator_address=bytes.fromhex(entry["validator_address"]),
        power=int(entry["power"]),
    )


# --- Files, ports and the cometbft binary ---


def read_ephemeral_low(path: Path = EPHEMERAL_RANGE_FILE) -> int:
    """The lowest port the kernel picks for outgoing connections (Linux's default 32768)."""
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return DEFAULT_EPHEMERAL_LOW


def get_free_ports(count: int) -> list[int]:
    """`count` distinct loopback ports free now, chosen at random below the kernel's
    ephemeral range: a port the kernel handed out for a probe could be handed out again as
    the source port of some outgoing connection before the node binds it (one benchmark run
    in about fifteen failed so), while no connection takes a port below that range. Every
    probe stays bound until all are chosen, so no port comes twice."""
    high = read_ephemeral_low()
    probes: list[socket.socket] = []
    try:
        for _ in range(PORT_TRIES):
            if len(probes) == count:
                break
            probe = socket.socket()
            try:
                probe.bind((LOOPBACK, random.randrange(LOW_PORT, high)))
            except OSError:
                probe.close()
                continue
            probes.append(probe)
        while len(probes) < count:  # a crowded range: let the kernel choose
            probe = socket.socket()
            probe.bind((LOOPBACK, 0))
            probes.append(probe)
        return [int(probe.getsockname()[1]) for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def is_port_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def allocate_ports(validators: int, base_port: int | None) -> list[tuple[int, int]]:
    """(rpc, p2p) per validator: from `base_port` on, each checked free, or any free ones."""
    if base_port is None:
        ports = get_free_ports(2 * validators)
        return [(ports[2 * index], ports[2 * index + 1]) for index in range(validators)]
    fixed = compute_fixed_ports(validators, base_port)
    for port in (port for pair in fixed for port in pair):
        if not is_port_free(port):
            raise NetworkError(f"port {port} on {LOOPBACK} is in use")
    return fixed


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as error:
        raise NetworkError(f"missing {path}") from error
    except (OSError, json.JSONDecodeError) as error:
        raise NetworkError(f"cannot read {path}: {error}") from error


def write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


@contextlib.contextmanager
def about(what: str) -> Iterator[None]:
    """A CometConfigError (a file of a home not as CometBFT 0.38 writes it) raised inside, as
    a NetworkError that says whose file it was."""
    try:
        yield
    except CometConfigError as error:
        raise NetworkError(f"{what}: {error}") from error


def locate_cometbft(cometbft: Path | None) -> Path:
    if cometbft is not None:
        return cometbft
    try:
        return find_cometbft()
    except CometBFTNotFound as missing:
        raise NetworkError(str(missing)) from missing


def init_home(cometbft: Path, home: Path) -> None:
    """`cometbft init`: a new home with fresh keys, its config at CometBFT's defaults."""
    command = [str(cometbft), "init", "--home", str(home)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=INIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise NetworkError(f"`{' '.join(command)}` did not run: {error}") from error
    if done.returncode != 0:
        raise NetworkError(
            f"`{' '.join(command)}` failed (exit {done.returncode}): {done.stderr.strip()}"
        )


def write_attest_key(home: Path) -> None:
    """A new Ethereum key for the validator's attestations, readable by its owner only."""
    account = Account.create()
    path = home / "config" / ATTEST_KEY_FILE
    path.write_text(
        json.dumps({"address": account.address, "private_key": "0x" + account.key.hex()})
    )
    path.chmod(0o600)


def read_attest_address(home: Path) -> ChecksumAddress:
    key = read_attest_key(home)
    assert key is not None, "make_validator writes it"
    return Account.from_key(key).address


def make_validator(
    cometbft: Path, root: Path, index: int, power: int, ports: tuple[int, int]
) -> ValidatorHome:
    """Validator `index`'s directory and CometBFT home, its keys read back."""
    directory = root / compute_validator_name(index)
    home = directory / HOME_DIR
    app_address = compute_app_address(directory)
    init_home(cometbft, home)
    write_attest_key(home)
    with about(f"{compute_validator_name(index)}'s keys"):
        node_id = compute_node_id(read_json(home / "config" / "node_key.json"))
        validator_key = read_json(home / "config" / "priv_validator_key.json")
        validator_address = compute_validator_address(validator_key)
    return ValidatorHome(
        index=index,
        home=home,
        node_id=node_id,
        rpc_port=ports[0],
        p2p_port=ports[1],
        app_address=app_address,
        validator_address=validator_address,
        power=power,
    )


def write_genesis(homes: Sequence[ValidatorHome], spec: NetworkSpec) -> None:
    """One genesis, the same bytes in every home (a node refuses peers of another genesis)."""
    validators = [
        compute_genesis_validator(
            read_json(home.home / "config" / "priv_validator_key.json"), home.power, home.moniker
        )
        for home in homes
    ]
    attesters = [
        Attester(home.validator_address, read_attest_address(home.home), home.power)
        for home in homes
    ]
    template = homes[0].home / "config" / "genesis.json"
    with about(str(template)):
        genesis = compute_genesis(
            read_json(template),
            chain_id=spec.chain_id,
            genesis_time=format_genesis_time(datetime.now(UTC)),
            validators=validators,
            vote_extensions_height=spec.vote_extensions_height,
        )
    genesis["app_state"] = format_attesters(attesters)
    for home in homes:
        write_json(home.home / "config" / "genesis.json", genesis)


def configure_node(home: ValidatorHome, homes: Sequence[ValidatorHome], spec: NetworkSpec) -> None:
    with about(f"{home.moniker}'s config.toml"):
        set_config(home.home / "config" / "config.toml", compute_node_config(home, homes, spec))


def check_home(home: ValidatorHome) -> None:
    """The home on disk is the one network.json names: same keys, same app socket."""
    config = home.home / "config"
    with about(f"{home.moniker}'s keys"):
        validator_address = compute_validator_address(read_json(config / "priv_validator_key.json"))
        node_id = compute_node_id(read_json(config / "node_key.json"))
    if validator_address != home.validator_address:
        raise NetworkError(f"{home.moniker}'s validator key is not the one the network has")
    if node_id != home.node_id:
        raise NetworkError(f"{home.moniker}'s node key is not the one the network has")
    if not (config / ATTEST_KEY_FILE).exists():
        raise NetworkError(
            f"{home.moniker} has no attester key ({config / ATTEST_KEY_FILE}): the network "
            "was made by an older duet; make a new one (duet testnet --reset)"
        )
    try:
        proxy_app = tomllib.loads((config / "config.toml").read_text()).get("proxy_app")
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise NetworkError(f"cannot read {config / 'config.toml'}: {error}") from error
    if proxy_app != home.app_address:
        raise NetworkError(
            f"{home.moniker}'s config.toml points its app at {proxy_app}, not "
            f"{home.app_address}: was the network directory moved?"
        )


def remove_validator_dirs(root: Path, validators: int) -> None:
    """What a failed make_network wrote (its root was empty), so that it can be run again."""
    for index in range(validators):
        shutil.rmtree(root / compute_validator_name(index), ignore_errors=True)
    (root / NETWORK_FILE).unlink(missing_ok=True)


# --- The entry points ---


def make_network(
    root: Path,
    validators: int,
    *,
    powers: Sequence[int] | None = None,
    chain_id: str = DEFAULT_CHAIN_ID,
    timeout_commit: str = DEFAULT_TIMEOUT_COMMIT,
    vote_extensions_height: int = 0,
    timeouts: ConsensusTimeouts = LOOPBACK_TIMEOUTS,
    base_port: int | None = None,
    cometbft: Path | None = None,
) -> list[ValidatorHome]:
    """A new network of `validators` homes under `root` (absent or empty), ready for each
    validator's app to listen at its app_address and for `cometbft start --home <home>`.
    Ports: from `base_port` on (two a validator), or any free ones. NetworkError if an
    argument is wrong, the root is not empty, or cometbft is missing or fails."""
    spec = compute_spec(
        validators, powers, chain_id, timeout_commit, vote_extensions_height, timeouts
    )
    root = root.resolve()  # CometBFT starts from any directory: its config needs full paths
    if root.exists() and any(root.iterdir()):
        raise NetworkError(
            f"{root} is not empty: load_network reopens a network there, or choose an empty "
            "directory for a new one"
        )
    binary = locate_cometbft(cometbft)
    compute_app_address(root / compute_validator_name(validators - 1))  # fail before init
    ports = allocate_ports(validators, base_port)
    root.mkdir(parents=True, exist_ok=True)
    try:
        homes = [
            make_validator(binary, root, index, power, ports[index])
            for index, power in enumerate(spec.powers)
        ]
        write_genesis(homes, spec)
        for home in homes:
            configure_node(home, homes, spec)
        write_json(root / NETWORK_FILE, compute_network_record(spec, homes))
    except BaseException:
        remove_validator_dirs(root, validators)
        raise
    return homes


def read_network(root: Path) -> tuple[NetworkSpec, list[ValidatorHome]]:
    """The spec and homes of the network under `root`, each home checked against it."""
    root = root.resolve()
    if not (root / NETWORK_FILE).exists():
        raise NetworkError(f"no network at {root} (no {NETWORK_FILE}); make_network makes one")
    spec, homes = parse_network_record(root, read_json(root / NETWORK_FILE))
    for home in homes:
        check_home(home)
    return spec, homes


def load_network(root: Path) -> list[ValidatorHome]:
    """The network make_network made under `root`: same keys, same ports, same sockets (to
    restart one validator or all of them)."""
    return read_network(root)[1]


def open_or_make_network(
    root: Path,
    validators: int,
    *,
    powers: Sequence[int] | None = None,
    chain_id: str = DEFAULT_CHAIN_ID,
    timeout_commit: str = DEFAULT_TIMEOUT_COMMIT,
    vote_extensions_height: int = 0,
    timeouts: ConsensusTimeouts = LOOPBACK_TIMEOUTS,
    base_port: int | None = None,
    cometbft: Path | None = None,
) -> list[ValidatorHome]:
    """The network under `root` if there is one made with these arguments (`base_port`
    aside: the ports are those it was made with); else a new one. NetworkError, naming the
    differences, if `root` holds a network made with another genesis (validators, powers,
    chain id, vote extensions); other timeouts are written into its homes' config."""
    wanted = compute_spec(
        validators, powers, chain_id, timeout_commit, vote_extensions_height, timeouts
    )
    if not (root / NETWORK_FILE).exists():
        return make_network(
            root,
            validators,
            powers=powers,
            chain_id=chain_id,
            timeout_commit=timeout_commit,
            vote_extensions_height=vote_extensions_height,
            timeouts=timeouts,
            base_port=base_port,
            cometbft=cometbft,
        )
    made, homes = read_network(root)
    genesis_fields = frozenset(f.name for f in dataclasses.fields(NetworkSpec))
    differences = compute_spec_differences(made, wanted, genesis_fields - LOCAL_SPEC_FIELDS)
    if differences:
        raise NetworkError(
            f"{root.resolve()} holds a network made otherwise ({'; '.join(differences)}): "
            "remove it for a new network, or ask for the one it holds"
        )
    if compute_spec_differences(made, wanted, LOCAL_SPEC_FIELDS):
        # Only the nodes' timeouts differ (a newer duet's defaults, say): the homes take them.
        for home in homes:
            configure_node(home, homes, wanted)
        write_json(root.resolve() / NETWORK_FILE, compute_network_record(wanted, homes))
    return homes


def open_side_home(
    directory: Path, record_name: str, fill: Callable[[Path], None], cometbft: Path | None
) -> tuple[Path, int, int]:
    """A home beside the network's under `directory` (its CometBFT home, and its RPC and p2p
    ports): made once (`cometbft init`, then `fill` writes what it needs), its ports recorded
    in `record_name`; reopened after."""
    home = directory / HOME_DIR
    record = directory / record_name
    if record.exists():
        saved = read_json(record)
        return home, int(saved["rpc_port"]), int(saved["p2p_port"])
    init_home(locate_cometbft(cometbft), home)
    fill(home)
    rpc_port, p2p_port = get_free_ports(2)
    write_json(record, {"rpc_port": rpc_port, "p2p_port": p2p_port})
    return home, rpc_port, p2p_port


def configure_side_node(
    node: ValidatorHome, homes: Sequence[ValidatorHome], spec: NetworkSpec, moniker: str
) -> None:
    """config.toml of a home beside the network's, peered with every validator."""
    config = compute_node_config(node, homes, spec)
    config[("p2p", "persistent_peers")] = ",".join(h.p2p_address for h in homes)
    config[("", "moniker")] = moniker
    with about(f"{moniker}'s config.toml"):
        set_config(node.home / "config" / "config.toml", config)


def open_twin_home(root: Path, index: int, cometbft: Path | None = None) -> ValidatorHome:
    """A second home behind validator `index`'s consensus key, for the end-to-end runner's
    double signer: its own node key, ports and app socket, the validator's consensus and
    attester keys and the network's genesis, no state (it signs whatever it is asked, as a
    careless operator's second machine would), peered with every validator. Made once under
    `root/twin-I/`."""
    spec, homes = read_network(root)
    original = homes[index]
    directory = root.resolve() / f"twin-{index}"

    def copy_keys(home: Path) -> None:
        for name in ("priv_validator_key.json", "genesis.json", ATTEST_KEY_FILE):
            shutil.copyfile(original.home / "config" / name, home / "config" / name)

    home, rpc_port, p2p_port = open_side_home(directory, "twin.json", copy_keys, cometbft)
    with about(f"twin {index}'s keys"):
        node_id = compute_node_id(read_json(home / "config" / "node_key.json"))
    twin = dataclasses.replace(
        original,
        home=home,
        node_id=node_id,
        rpc_port=rpc_port,
        p2p_port=p2p_port,
        app_address=compute_app_address(directory),
    )
    configure_side_node(twin, homes, spec, f"twin-{index}")
    return twin


JOINER_DIR_PREFIX = "joiner-"


def open_joiner_home(root: Path, number: int, cometbft: Path | None = None) -> ValidatorHome:
    """A validator that joins the network under `root` after genesis: a home of its own under
    `root/joiner-N/` (new consensus, node and attester keys; the network's genesis, which does
    not name it), peered with every genesis validator. It starts as a full node, and becomes
    a validator once it has registered its keys and bonded (chain/client/validator.py). Its
    index follows the genesis validators'. Made once; reopened after."""
    spec, homes = read_network(root)
    directory = root.resolve() / f"{JOINER_DIR_PREFIX}{number}"

    def add_keys(home: Path) -> None:
        write_attest_key(home)  # `cometbft init` made the others
        shutil.copyfile(homes[0].home / "config" / "genesis.json", home / "config" / "genesis.json")

    home, rpc_port, p2p_port = open_side_home(directory, "joiner.json", add_keys, cometbft)
    with about(f"joiner {number}'s keys"):
        node_id = compute_node_id(read_json(home / "config" / "node_key.json"))
        validator_address = compute_validator_address(
            read_json(home / "config" / "priv_validator_key.json")
        )
    joiner = ValidatorHome(
        index=len(homes) + number,
        home=home,
        node_id=node_id,
        rpc_port=rpc_port,
        p2p_port=p2p_port,
        app_address=compute_app_address(directory),
        validator_address=validator_address,
        power=0,
    )
    configure_side_node(joiner, homes, spec, f"joiner-{number}")
    return joiner
