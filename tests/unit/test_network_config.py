"""The pure pieces of a local CometBFT network's homes (chain/consensus/network.py): the
shared genesis built from the validators' keys, the peers of each node, the config.toml
edits, the checks of make_network's arguments, network.json; and make_network's refusals
that need no real CometBFT (a fake binary stands in where one is run)."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from chain.consensus.abci.server import MAX_UNIX_PATH_BYTES
from chain.consensus.cometbft_config import (
    CometConfigError,
    compute_config_text,
    compute_genesis,
    compute_genesis_validator,
    compute_node_id,
    compute_validator_address,
    format_genesis_time,
    set_config,
)
from chain.consensus.network import (
    DEFAULT_EPHEMERAL_LOW,
    DEFAULT_POWER,
    LOOPBACK_TIMEOUTS,
    LOW_PORT,
    MAX_VALIDATORS,
    NETWORK_FILE,
    ConsensusTimeouts,
    NetworkError,
    NetworkSpec,
    ValidatorHome,
    compute_app_address,
    compute_fixed_ports,
    compute_network_record,
    compute_node_config,
    compute_persistent_peers,
    compute_powers,
    compute_spec,
    compute_spec_differences,
    get_free_ports,
    is_port_free,
    load_network,
    make_network,
    parse_network_record,
    read_ephemeral_low,
)

# A node key and a validator key as `cometbft init` (v0.38.26) wrote them, with the id
# `cometbft show-node-id` printed for that node key.
NODE_KEY: dict[str, Any] = {
    "priv_key": {
        "type": "tendermint/PrivKeyEd25519",
        "value": "55+cxt89QouDX6/sXVRyYTzT5qo2hRAJkRQZEsv/kjbztASRkZh6689p6XEMYU8H3S3Stt9Iy+wUetb"
        "X780EmQ==",
    }
}
SHOWN_NODE_ID = "e44ad28b2d2d847d34db731e9f0ad2fd648a2e7c"
VALIDATOR_KEY: dict[str, Any] = {
    "address": "F8B7724EF04DF223E68C74FC94593FA4CCB86224",
    "pub_key": {
        "type": "tendermint/PubKeyEd25519",
        "value": "KXBlv0y9+4/MV89UJb5KuVYSsQTyPRTFogUqmDodAZo=",
    },
    "priv_key": {"type": "tendermint/PrivKeyEd25519", "value": "(not read)"},
}
TEMPLATE: dict[str, Any] = {
    "genesis_time": "2026-01-01T00:00:00.000000000Z",
    "chain_id": "test-chain-iQvEBd",
    "initial_height": "0",
    "consensus_params": {
        "block": {"max_bytes": "22020096", "max_gas": "-1"},
        "validator": {"pub_key_types": ["ed25519"]},
        "abci": {"vote_extensions_enable_height": "0"},
    },
    "validators": [{"address": "AA" * 20, "pub_key": {}, "power": "10", "name": ""}],
    "app_hash": "",
}
CONFIG = """\
# This is a TOML config file.
proxy_app = "tcp://127.0.0.1:26658"
moniker = "vm"

[rpc]
laddr = "tcp://127.0.0.1:26657"

[p2p]
# Address to listen for incoming connections
laddr = "tcp://0.0.0.0:26656"
addr_book_strict = true
send_rate = 5120000
"""


def make_home(index: int, node_id: str, root: Path = Path("/net")) -> ValidatorHome:
    directory = root / f"validator-{index}"
    return ValidatorHome(
        index=index,
        home=directory / "cometbft",
        node_id=node_id,
        rpc_port=30000 + 2 * index,
        p2p_port=30001 + 2 * index,
        app_address=f"unix://{directory / 'app.sock'}",
        validator_address=bytes([index]) * 20,
        power=10 + index,
    )


def make_spec(**changes: Any) -> NetworkSpec:
    arguments: dict[str, Any] = {
        "validators": 3,
        "powers": None,
        "chain_id": "duet-testnet",
        "timeout_commit": "100ms",
        "vote_extensions_height": 0,
        "timeouts": LOOPBACK_TIMEOUTS,
    } | changes
    return compute_spec(**arguments)


HOMES = [make_home(index, f"{index:02x}" * 20) for index in range(3)]


# --- Keys ---


def test_node_id_is_what_cometbft_shows() -> None:
    assert compute_node_id(NODE_KEY) == SHOWN_NODE_ID


def test_rejects_node_key_not_ed25519() -> None:
    short = {"priv_key": {"type": "tendermint/PrivKeyEd25519", "value": "AAAA"}}
    with pytest.raises(CometConfigError, match=r"node key is not an ed25519 key \(3 bytes\)"):
        compute_node_id(short)


def test_validator_address_read_from_key() -> None:
    assert compute_validator_address(VALIDATOR_KEY) == bytes.fromhex(VALIDATOR_KEY["address"])


# --- Genesis ---


def test_genesis_lists_every_validator_with_its_key_power_and_name() -> None:
    validators = [compute_genesis_validator(VALIDATOR_KEY, 7, "validator-0")]
    genesis = compute_genesis(
        TEMPLATE,
        chain_id="duet-testnet",
        genesis_time="2026-12-06T21:52:46.631914Z",
        validators=validators,
        vote_extensions_height=0,
    )
    assert genesis["validators"] == [
        {
            "address": "F8B7724EF04DF223E68C74FC94593FA4CCB86224",
            "pub_key": VALIDATOR_KEY["pub_key"],
            "power": "7",  # CometBFT's genesis writes int64s as strings
            "name": "validator-0",
        }
    ]
    assert genesis["chain_id"] == "duet-testnet"
    assert genesis["genesis_time"] == "2026-12-06T21:52:46.631914Z"


def test_genesis_keeps_the_template_params_and_sets_vote_extensions_height() -> None:
    genesis = compute_genesis(
        TEMPLATE,
        chain_id="c",
        genesis_time="t",
        validators=[],
        vote_extensions_height=5,
    )
    assert genesis["consensus_params"]["abci"] == {"vote_extensions_enable_height": "5"}
    assert genesis["consensus_params"]["block"] == TEMPLATE["consensus_params"]["block"]
    assert genesis["initial_height"] == "0"
    assert TEMPLATE["consensus_params"]["abci"] == {"vote_extensions_enable_height": "0"}


def test_rejects_genesis_template_without_vote_extensions_param() -> None:
    older = {**TEMPLATE, "consensus_params": {"block": {}}}
    with pytest.raises(CometConfigError, match=r"no consensus_params\.abci\.vote_extensions"):
        compute_genesis(
            older, chain_id="c", genesis_time="t", validators=[], vote_extensions_height=0
        )


def test_genesis_time_is_rfc3339_utc() -> None:
    moment = datetime(2026, 12, 6, 23, 52, 46, 631914, tzinfo=timezone(timedelta(hours=2)))
    assert format_genesis_time(moment) == "2026-12-06T21:52:46.631914Z"


# --- Peers and config.toml ---


def test_persistent_peers_are_every_other_node() -> None:
    assert compute_persistent_peers(HOMES, 1) == (
        f"{'00' * 20}@127.0.0.1:30001,{'02' * 20}@127.0.0.1:30005"
    )


def test_persistent_peers_of_a_single_validator_are_none() -> None:
    assert compute_persistent_peers(HOMES[:1], 0) == ""


def test_node_config_points_at_its_own_app_ports_and_peers() -> None:
    config = compute_node_config(HOMES[2], HOMES, make_spec(timeout_commit="50ms"))
    assert config["", "proxy_app"] == "unix:///net/validator-2/app.sock"
    assert config["", "moniker"] == "validator-2"
    assert config["rpc", "laddr"] == "tcp://127.0.0.1:30004"
    assert config["p2p", "laddr"] == "tcp://127.0.0.1:30005"
    assert config["p2p", "persistent_peers"] == compute_persistent_peers(HOMES, 2)
    assert config["p2p", "addr_book_strict"] is False
    assert config["p2p", "allow_duplicate_ip"] is True
    assert config["consensus", "timeout_commit"] == "50ms"
    assert config["consensus", "timeout_propose"] == LOOPBACK_TIMEOUTS.propose
    assert config["consensus", "create_empty_blocks"] is True


def test_config_edit_sets_typed_values_and_keeps_the_rest() -> None:
    edited = compute_config_text(
        CONFIG,
        {
            ("", "proxy_app"): "unix:///net/validator-0/app.sock",
            ("p2p", "laddr"): "tcp://127.0.0.1:30001",
            ("p2p", "addr_book_strict"): False,
            ("p2p", "send_rate"): 1000,
        },
    )
    parsed = tomllib.loads(edited)
    assert parsed["proxy_app"] == "unix:///net/validator-0/app.sock"
    assert parsed["p2p"] == {
        "laddr": "tcp://127.0.0.1:30001",
        "addr_book_strict": False,
        "send_rate": 1000,
    }
    assert parsed["rpc"]["laddr"] == "tcp://127.0.0.1:26657"  # the same key in another table
    assert "# Address to listen for incoming connections" in edited  # comments kept


def test_config_edit_escapes_quotes_in_strings() -> None:
    edited = compute_config_text(CONFIG, {("", "moniker"): 'say "hi" \\o/'})
    assert tomllib.loads(edited)["moniker"] == 'say "hi" \\o/'


def test_rejects_config_keys_not_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    with pytest.raises(
        CometConfigError, match=r"^not in config.toml: \[p2p\] pex, \[rpc\] unsafe$"
    ):
        set_config(path, {("p2p", "laddr"): "x", ("p2p", "pex"): False, ("rpc", "unsafe"): True})
    assert path.read_text() == CONFIG  # nothing written


def test_rejects_a_key_of_another_table() -> None:
    with pytest.raises(CometConfigError, match=r"not in config.toml: \[rpc\] send_rate"):
        compute_config_text(CONFIG, {("rpc", "send_rate"): 1})


# --- make_network's arguments ---


def test_powers_default_to_equal() -> None:
    assert compute_powers(4, None) == (DEFAULT_POWER,) * 4


@pytest.mark.parametrize("count", [0, -1, MAX_VALIDATORS + 1])
def test_rejects_validator_count_out_of_range(count: int) -> None:
    with pytest.raises(NetworkError, match=rf"validators must be 1 to {MAX_VALIDATORS}, not"):
        compute_powers(count, None)


def test_rejects_powers_of_another_length() -> None:
    with pytest.raises(NetworkError, match=r"^3 powers for 4 validators$"):
        compute_powers(4, [1, 2, 3])


@pytest.mark.parametrize("power", [0, -5, True, 1.5])
def test_rejects_power_not_a_positive_int(power: Any) -> None:
    with pytest.raises(NetworkError, match=r"validator 1's power must be a positive int"):
        compute_powers(2, [10, power])


def test_rejects_total_power_past_cometbft_maximum() -> None:
    with pytest.raises(NetworkError, match=r"total power .* exceeds"):
        compute_powers(2, [2**62, 2**62])


def test_rejects_timeout_not_a_duration() -> None:
    with pytest.raises(NetworkError, match=r'timeout_commit must be a duration such as "100ms"'):
        make_spec(timeout_commit="100")
    with pytest.raises(NetworkError, match=r"timeout_propose must be a duration"):
        make_spec(timeouts=ConsensusTimeouts(propose="fast"))


def test_rejects_chain_id_past_50_bytes() -> None:
    with pytest.raises(NetworkError, match=r"chain_id must be 1 to 50 bytes"):
        make_spec(chain_id="x" * 51)


def test_rejects_negative_vote_extensions_height() -> None:
    with pytest.raises(NetworkError, match=r"vote_extensions_height must be 0 \(off\)"):
        make_spec(vote_extensions_height=-1)


def test_socket_path_may_fill_sun_path_but_not_more() -> None:
    def directory_for(length: int) -> Path:  # its app.sock's path is `length` bytes
        return Path("/" + "d" * (length - len("//app.sock")) + "/")

    assert compute_app_address(directory_for(MAX_UNIX_PATH_BYTES)).endswith("/app.sock")
    with pytest.raises(NetworkError, match=r"longer than a unix socket allows \(107 bytes\)"):
        compute_app_address(directory_for(MAX_UNIX_PATH_BYTES + 1))


def test_fixed_ports_are_two_a_validator() -> None:
    assert compute_fixed_ports(3, 26000) == [(26000, 26001), (26002, 26003), (26004, 26005)]


def test_rejects_fixed_ports_past_65535() -> None:
    with pytest.raises(NetworkError, match=r"ports 65530\.\.65537 are not all valid ports"):
        compute_fixed_ports(4, 65530)


# --- network.json ---


def test_network_record_reopens_the_same_homes() -> None:
    spec = make_spec(powers=[10, 11, 12], vote_extensions_height=3)
    record = compute_network_record(spec, HOMES)
    assert parse_network_record(Path("/net"), record) == (spec, HOMES)


def test_rejects_network_record_of_another_format() -> None:
    record = compute_network_record(make_spec(powers=[10, 11, 12]), HOMES) | {"format": 99}
    with pytest.raises(NetworkError, match=r"network.json has format 99, not 1"):
        parse_network_record(Path("/net"), record)


def test_rejects_network_record_missing_a_field() -> None:
    record = compute_network_record(make_spec(powers=[10, 11, 12]), HOMES)
    del record["validators"][1]["p2p_port"]
    with pytest.raises(NetworkError, match=r"network.json is malformed: KeyError\('p2p_port'\)"):
        parse_network_record(Path("/net"), record)


def test_spec_differences_name_each_field() -> None:
    made = make_spec()
    wanted = make_spec(powers=[1, 1, 1], timeout_commit="50ms")
    assert compute_spec_differences(made, wanted) == [
        "powers: (10, 10, 10) → (1, 1, 1)",
        "timeout_commit: 100ms → 50ms",
    ]
    assert compute_spec_differences(made, make_spec()) == []


# --- make_network and load_network: refusals before (or without) a real CometBFT ---


def test_rejects_make_network_on_a_non_empty_root(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("")
    with pytest.raises(NetworkError, match=r"is not empty: load_network reopens a network"):
        make_network(tmp_path, 4, cometbft=tmp_path / "never-run")


def test_rejects_make_network_when_cometbft_init_fails(tmp_path: Path) -> None:
    fake = tmp_path / "cometbft"
    fake.write_text("#!/bin/sh\necho 'ERROR: disk on fire' >&2\nexit 3\n")
    fake.chmod(0o755)
    root = tmp_path / "net"
    with pytest.raises(
        NetworkError, match=r"init --home .* failed \(exit 3\): ERROR: disk on fire"
    ):
        make_network(root, 2, cometbft=fake)
    assert list(root.iterdir()) == []  # what it wrote is gone: it can run again


def test_rejects_load_network_where_there_is_none(tmp_path: Path) -> None:
    with pytest.raises(NetworkError, match=rf"no network at {tmp_path} \(no {NETWORK_FILE}\)"):
        load_network(tmp_path)


# --- ports: below the kernel's ephemeral range ---


def test_free_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    ports = get_free_ports(8)
    assert len(set(ports)) == 8
    assert all(LOW_PORT <= port < read_ephemeral_low() for port in ports)
    assert all(is_port_free(port) for port in ports)


def test_reads_the_ephemeral_range_or_falls_back(tmp_path: Path) -> None:
    ranges = tmp_path / "ip_local_port_range"
    ranges.write_text("40000\t60999\n")
    assert read_ephemeral_low(ranges) == 40000
    ranges.write_text("garbage\n")
    assert read_ephemeral_low(ranges) == DEFAULT_EPHEMERAL_LOW
    assert read_ephemeral_low(tmp_path / "absent") == DEFAULT_EPHEMERAL_LOW
