"""A real network of four CometBFT v0.38.26 validators on loopback, made by
chain/consensus/network.py, each driving its own instance of the KV fixture app
(tests/integration/abci_kv_fixture.py) over its own unix socket.

What it proves: make_network writes one genesis into every home, and each node's config
points at its own app and every other node; the homes make one network (every node commits the same headers, so the same
app hash, at every height, and a tx sent to one validator is executed by all); Tendermint's
fault bound holds on it (with one of four equal validators SIGKILLed, 1/4 < 1/3 of the power,
the other three go on; with two, 1/2 >= 1/3, no height is committed); and load_network
reopens a validator's home for a restart after which it catches up to the others' app hash;
and a network on disk is reopened only as the network it is.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chain.consensus.network import (
    NetworkError,
    ValidatorHome,
    load_network,
    make_network,
    open_or_make_network,
    read_network,
)
from chain.launcher import ChildProcess
from tests.integration.abci_kv_fixture import KVFixtureApp
from tests.integration.cometbft_net import (
    COMETBFT,
    MISSING_REASON,
    START_TIMEOUT_S,
    Net,
    ServerThread,
)

pytestmark = pytest.mark.skipif(COMETBFT is None, reason=MISSING_REASON)

VALIDATORS = 4
PROGRESS_TIMEOUT_S = 30.0  # a few heights, even with rounds lost to a dead proposer
SETTLE_S = 1.0  # for a height whose votes were on the wire when its voters died
STALL_S = 3.0  # how long a network without 2/3 of the power must stay at one height
POLL_S = 0.05


@dataclass(frozen=True)
class AppView:
    store: dict[str, str]
    app_hashes: dict[int, bytes]  # height → app hash, for the heights executed in this run
    delivered: list[bytes]


@dataclass
class Validator:
    """One validator's processes: its app (on a thread here) and its CometBFT."""

    home: ValidatorHome
    app: KVFixtureApp
    server: ServerThread
    node: ChildProcess
    net: Net

    def read_app(self) -> AppView:
        """What the app holds now, copied on the app's own loop (its state lives there)."""
        app = self.app
        return self.server.call(
            lambda: AppView(dict(app.state.store), dict(app.app_hashes), list(app.delivered))
        )


@dataclass
class Network:
    """The running validators of a network; every process is stopped at teardown."""

    root: Path
    homes: list[ValidatorHome]
    running: dict[int, Validator] = field(default_factory=dict)

    def start(self, indices: list[int], homes: list[ValidatorHome] | None = None) -> None:
        """Each validator's app server, then its CometBFT; returns once all have a height."""
        for index in indices:
            self.running[index] = start_validator((homes or self.homes)[index])
        for index in indices:
            validator = self.running[index]
            validator.node.wait_ready(validator.net.is_up, START_TIMEOUT_S, validator.home.moniker)

    def kill(self, index: int) -> None:
        """SIGKILL to the validator's CometBFT (no clean shutdown), then its app goes too."""
        validator = self.running.pop(index)
        validator.node.kill()
        validator.server.stop()

    def stop_all(self) -> None:
        """Every process, even if stopping one fails (an ExitStack runs every callback)."""
        with contextlib.ExitStack() as stack:
            for validator in self.running.values():
                stack.callback(validator.server.stop)
                stack.callback(validator.node.stop)  # runs first: CometBFT before its app
            self.running.clear()

    def heights(self) -> dict[int, int]:
        return {index: validator.net.height() for index, validator in self.running.items()}

    def wait_for_height(self, height: int) -> None:
        """Until every running validator has committed `height`."""
        wait_until(lambda: min(self.heights().values()) >= height, f"height {height}", self)


def start_validator(home: ValidatorHome) -> Validator:
    assert COMETBFT is not None
    state_file = home.directory / "kv-state.json"
    log = home.directory / "cometbft.log"
    app = KVFixtureApp(state_file)
    server = ServerThread(app, home.app_address).start()
    node = ChildProcess(
        [str(COMETBFT), "start", "--home", str(home.home)], log=log, tied_to_parent=True
    ).start()
    return Validator(
        home, app, server, node, Net(home.home, home.app_address, state_file, home.rpc_url, log)
    )


def wait_until(condition: Callable[[], bool], what: str, network: Network) -> None:
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while not condition():
        assert time.monotonic() < deadline, (
            f"{what} not reached in {PROGRESS_TIMEOUT_S:.0f} s: heights {network.heights()}; "
            f"logs in {network.root}/validator-*/cometbft.log"
        )
        time.sleep(POLL_S)


def get_committed_header(net: Net, height: int) -> tuple[str, dict[str, object]]:
    """The block id and header a node committed at `height`."""
    signed = net.rpc("commit", height=str(height))["signed_header"]
    return signed["commit"]["block_id"]["hash"], signed["header"]


def assert_same_chain(validators: list[Validator], heights: range) -> None:
    """Every validator committed the same block, so the same app hash, at every height."""
    for height in heights:
        first, *others = [get_committed_header(validator.net, height) for validator in validators]
        for index, committed in enumerate(others, start=1):
            assert committed == first, f"validator {validators[index].home.index} at {height}"


def assert_apps_agree(validators: list[Validator], heights: range) -> None:
    """Each app computed, at each height it executed, the app hash the next header holds."""
    header_hashes = {
        height: get_committed_header(validators[0].net, height + 1)[1]["app_hash"]
        for height in heights
    }
    for validator in validators:
        app_hashes = validator.read_app().app_hashes
        for height in heights:
            if height in app_hashes:
                assert app_hashes[height].hex().upper() == header_hashes[height]


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Network]:
    root = tmp_path / "net"
    running = Network(root, make_network(root, VALIDATORS, timeout_commit="100ms"))
    try:
        yield running
    finally:
        running.stop_all()


def test_four_validators_commit_the_same_chain_and_each_executes_a_tx(network: Network) -> None:
    network.start(list(range(VALIDATORS)))
    validators = list(network.running.values())

    result = validators[0].net.broadcast_commit(b"alpha=1")
    assert result["tx_result"]["code"] == 0
    tx_height = int(result["height"])
    network.wait_for_height(tx_height + 3)

    for validator in validators:
        view = validator.read_app()
        assert view.delivered == [b"alpha=1"]
        assert view.store == {"alpha": "1"}
    assert_same_chain(validators, range(1, tx_height + 3))
    assert_apps_agree(validators, range(1, tx_height + 2))
    # The app hash after the tx's block, the same in all four apps, is in the next header.
    _, header = get_committed_header(validators[3].net, tx_height + 1)
    assert header["app_hash"] == validators[1].read_app().app_hashes[tx_height].hex().upper()


def test_three_of_four_go_on_without_one_which_catches_up_after_restart(
    network: Network,
) -> None:
    network.start(list(range(VALIDATORS)))
    network.wait_for_height(3)

    network.kill(3)  # 1/4 of the power: less than the 1/3 that could stop the others
    killed_at = max(network.heights().values())
    result = network.running[1].net.broadcast_commit(b"beta=2")  # a change it must catch up
    assert result["tx_result"]["code"] == 0
    network.wait_for_height(killed_at + 4)

    reopened = load_network(network.root)
    assert reopened == network.homes  # same keys, same ports, same socket
    behind = max(network.heights().values())
    network.start([3], reopened)
    network.wait_for_height(behind + 2)

    validators = [network.running[index] for index in range(VALIDATORS)]
    assert_same_chain(validators, range(1, behind + 2))
    assert_apps_agree(validators, range(1, behind + 1))
    caught_up = network.running[3].read_app()
    assert caught_up.store == {"beta": "2"}
    assert behind in caught_up.app_hashes  # it executed the heights it missed, and agreed on each


def test_two_of_four_killed_stop_heights_until_one_returns(network: Network) -> None:
    network.start(list(range(VALIDATORS)))
    network.wait_for_height(2)

    network.kill(2)
    network.kill(3)  # 1/2 of the power gone: no 2/3 left to commit anything
    time.sleep(SETTLE_S)
    stalled_at = max(network.heights().values())
    time.sleep(STALL_S)
    assert max(network.heights().values()) == stalled_at, "a height without 2/3 of the power"

    network.start([2], load_network(network.root))
    network.wait_for_height(stalled_at + 2)
    validators = list(network.running.values())
    assert_same_chain(validators, range(1, stalled_at + 2))


def test_homes_share_one_genesis_naming_every_validator(tmp_path: Path) -> None:
    assert COMETBFT is not None
    homes = make_network(tmp_path, VALIDATORS, powers=[1, 2, 3, 4], vote_extensions_height=2)

    genesis_files = [(home.home / "config" / "genesis.json").read_bytes() for home in homes]
    assert len(set(genesis_files)) == 1
    genesis = json.loads(genesis_files[0])
    assert genesis["chain_id"] == "duet-testnet"
    assert genesis["consensus_params"]["abci"]["vote_extensions_enable_height"] == "2"
    assert [(v["address"], v["power"], v["name"]) for v in genesis["validators"]] == [
        (home.validator_address.hex().upper(), str(home.index + 1), f"validator-{home.index}")
        for home in homes
    ]
    for home in homes:
        shown = subprocess.run(
            [str(COMETBFT), "show-node-id", "--home", str(home.home)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert home.node_id == shown.stdout.strip()
        config = tomllib.loads((home.home / "config" / "config.toml").read_text())
        assert config["proxy_app"] == f"unix://{home.directory / 'app.sock'}"
        assert config["rpc"]["laddr"] == f"tcp://127.0.0.1:{home.rpc_port}"
        peers = config["p2p"]["persistent_peers"].split(",")
        assert sorted(peers) == sorted(other.p2p_address for other in homes if other != home)
    ports = [port for home in homes for port in (home.rpc_port, home.p2p_port)]
    assert len(set(ports)) == 2 * VALIDATORS


def test_open_or_make_reopens_the_same_network_and_refuses_another(tmp_path: Path) -> None:
    made = open_or_make_network(tmp_path, 2, timeout_commit="50ms")
    assert open_or_make_network(tmp_path, 2, timeout_commit="50ms") == made
    assert load_network(tmp_path) == made

    with pytest.raises(
        NetworkError, match=r"made otherwise \(powers: \(10, 10\) → \(10, 10, 10\)\)"
    ):
        open_or_make_network(tmp_path, 3, timeout_commit="50ms")
    with pytest.raises(NetworkError, match=r"chain_id: duet-testnet → other"):
        open_or_make_network(tmp_path, 2, timeout_commit="50ms", chain_id="other")
    with pytest.raises(NetworkError, match=r"is not empty: load_network reopens"):
        make_network(tmp_path, 2)


def test_reopening_with_other_timeouts_writes_them_into_the_homes(tmp_path: Path) -> None:
    made = open_or_make_network(tmp_path, 2, timeout_commit="50ms")
    assert open_or_make_network(tmp_path, 2, timeout_commit="70ms") == made
    for home in made:
        config = tomllib.loads((home.home / "config" / "config.toml").read_text())
        assert config["consensus"]["timeout_commit"] == "70ms"
    assert read_network(tmp_path)[0].timeout_commit == "70ms"  # network.json too


def test_rejects_load_of_a_home_with_other_keys(tmp_path: Path) -> None:
    homes = make_network(tmp_path, 2)
    shutil.copy(homes[0].home / "config" / "node_key.json", homes[1].home / "config")
    with pytest.raises(
        NetworkError, match=r"^validator-1's node key is not the one the network has$"
    ):
        load_network(tmp_path)
