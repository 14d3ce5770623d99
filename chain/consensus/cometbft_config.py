"""Editing a CometBFT home's config.toml in place.

`cometbft init` writes a config.toml with every key at its default, commented for humans; we
change only the keys we must and keep the rest (and the comments) as CometBFT wrote them, so
a reader can diff a home against CometBFT's own defaults. A key we ask to set that is not
there means the CometBFT version renamed it: that fails loudly instead of setting nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

ConfigValue = str | bool | int
ConfigKey = tuple[str, str]  # (section, key); section "" is the top level, before any [table]

SECTION_LINE = re.compile(r"^\[([\w.]+)\]\s*$")
KEY_LINE = re.compile(r"^(\w+) = ")


class CometConfigError(Exception):
    """A config.toml that does not have the keys we set (another CometBFT version)."""


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
