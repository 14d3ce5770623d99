"""The files of a CometBFT home's config/ directory: config.toml edited in place, the
genesis built from the validators' keys, and what the key files name (node id, validator
address). Pure functions over the files' contents, but for `set_config`.

`cometbft init` writes a config.toml with every key at its default, commented for humans; we
change only the keys we must and keep the rest (and the comments) as CometBFT wrote them, so
a reader can diff a home against CometBFT's own defaults. A key we ask to set that is not
there means the CometBFT version renamed it: that fails loudly instead of setting nothing.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ConfigValue = str | bool | int
ConfigKey = tuple[str, str]  # (section, key); section "" is the top level, before any [table]

SECTION_LINE = re.compile(r"^\[([\w.]+)\]\s*$")
KEY_LINE = re.compile(r"^(\w+) = ")


class CometConfigError(Exception):
    """A home's file that is not as CometBFT 0.38 writes it: a config.toml without a key we
    set, a genesis without a field we set, a key file that holds no key."""


def render_toml_value(value: ConfigValue) -> str:
    """`value` as TOML: a bool bare (CometBFT reads a quoted "false" as a string), an int bare,
    a string quoted with its backslashes and quotes escaped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def compute_config_text(text: str, values: Mapping[ConfigKey, ConfigValue]) -> str:
    """`text` (a config.toml) with each (section, key) in `values` set to its value.
    CometConfigError, naming them, if some of the keys are not in `text`."""
    section, lines, seen = "", [], set()
    for line in text.splitlines():
        if match := SECTION_LINE.match(line):
            section = match.group(1)
        elif (match := KEY_LINE.match(line)) and (section, match.group(1)) in values:
            key = match.group(1)
            line = f"{key} = {render_toml_value(values[section, key])}"
            seen.add((section, key))
        lines.append(line)
    missing = sorted(set(values) - seen)
    if missing:
        named = ", ".join(f"[{section}] {key}" if section else key for section, key in missing)
        raise CometConfigError(f"not in config.toml: {named}")
    return "\n".join(lines) + "\n"


def set_config(path: Path, values: Mapping[ConfigKey, ConfigValue]) -> None:
    """Sets each (section, key) of `values` in the config.toml at `path`; every key must
    already be there (CometConfigError otherwise, and the file is left as it was)."""
    path.write_text(compute_config_text(path.read_text(), values))


def compute_node_id(node_key: Mapping[str, Any]) -> str:
    """A node's p2p id from its node_key.json: the first 20 bytes of the SHA-256 of its
    ed25519 public key, in hex (CometBFT's p2p.PubKeyToID). An ed25519 private key, as Go
    stores it, is the 32-byte seed followed by the 32-byte public key."""
    try:
        private = base64.b64decode(node_key["priv_key"]["value"], validate=True)
    except (KeyError, TypeError, binascii.Error) as error:
        raise CometConfigError(f"not a node key: {error!r}") from error
    if len(private) != 64:
        raise CometConfigError(f"node key is not an ed25519 key ({len(private)} bytes)")
    return hashlib.sha256(private[32:]).digest()[:20].hex()


def compute_validator_address(priv_validator_key: Mapping[str, Any]) -> bytes:
    """The 20-byte address a priv_validator_key.json names (hex in the file)."""
    try:
        address = bytes.fromhex(priv_validator_key["address"])
    except (KeyError, TypeError, ValueError) as error:
        raise CometConfigError(f"not a validator key: {error!r}") from error
    if len(address) != 20:
        raise CometConfigError(f"a validator address is 20 bytes, not {len(address)}")
    return address


def compute_genesis_validator(
    priv_validator_key: Mapping[str, Any], power: int, name: str
) -> dict[str, Any]:
    """A genesis `validators` entry from a priv_validator_key.json (int64s are JSON strings
    in CometBFT's genesis)."""
    return {
        "address": priv_validator_key["address"],
        "pub_key": dict(priv_validator_key["pub_key"]),
        "power": str(power),
        "name": name,
    }


def compute_genesis(
    template: Mapping[str, Any],
    *,
    chain_id: str,
    genesis_time: str,
    validators: Sequence[Mapping[str, Any]],
    vote_extensions_height: int,
) -> dict[str, Any]:
    """A genesis: `template` (one `cometbft init` wrote, which carries this CometBFT
    version's default consensus params) with our chain id, time and validators, and vote
    extensions enabled from `vote_extensions_height` (0: never)."""
    genesis = copy.deepcopy(dict(template))
    abci_params = genesis.get("consensus_params", {}).get("abci")
    if not isinstance(abci_params, dict) or "vote_extensions_enable_height" not in abci_params:
        raise CometConfigError(
            "the genesis cometbft init wrote has no consensus_params.abci."
            "vote_extensions_enable_height (not CometBFT 0.38?)"
        )
    abci_params["vote_extensions_enable_height"] = str(vote_extensions_height)
    genesis["chain_id"] = chain_id
    genesis["genesis_time"] = genesis_time
    genesis["validators"] = [dict(validator) for validator in validators]
    return genesis


def format_genesis_time(moment: datetime) -> str:
    """RFC 3339 in UTC with a Z, as CometBFT writes genesis_time."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
