"""An end-to-end manifest, in the spirit of CometBFT's e2e suite: the network (validators,
their powers, whether it settles on L1), the load sent through it, and the perturbations,
each applied once the chain has gone `after_heights` heights past the previous one.

    validators = 4
    powers = [1, 1, 1, 1]        # optional: equal
    l1 = true                    # optional: the shared anvil and rollup (default true)
    load_per_s = 20              # fast transfers a second, spread over the live validators
    final_heights = 10           # heights to run after the last perturbation
    joiners = [2]                # optional: the powers of validators that join after genesis
                                 # (indexes from `validators` on), each staking its power

    [[perturbation]]
    validator = 3
    action = "kill"              # kill (-9) | start | stop (SIGINT) | pause (SIGSTOP) | resume
                                 # | double-sign (a second instance behind its key: jailed)
                                 # | join (a joiner: registers its keys, bonds its power)
    after_heights = 5            # after a step that halts the chain: at once, once it halted

Pure: parsing, checking and the power arithmetic; nothing here starts a process.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ACTIONS = ("kill", "start", "stop", "pause", "resume", "double-sign", "join")
DOWN_AFTER = {
    "kill": True,
    "stop": True,
    "pause": True,
    "start": False,
    "resume": False,
    "double-sign": False,
    "join": False,
}
MAX_VALIDATORS = 16
MAX_LOAD_PER_S = 500


class ManifestError(Exception):
    """A manifest that names something impossible; the message says what."""


@dataclass(frozen=True)
class Perturbation:
    validator: int
    action: str
    after_heights: int


@dataclass(frozen=True)
class Manifest:
    name: str
    validators: int
    powers: tuple[int, ...]
    l1: bool
    load_per_s: float
    final_heights: int
    perturbations: tuple[Perturbation, ...]
    joiners: tuple[int, ...] = ()  # the powers of the validators joining after genesis

    @property
    def total_power(self) -> int:
        return sum(self.powers)

    @property
    def all_powers(self) -> tuple[int, ...]:
        """Every validator's power by index: the genesis's, then the joiners' once joined."""
        return self.powers + self.joiners


def _int(table: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = table.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ManifestError(f"{key} must be an integer, not {value!r}")
    return value


def parse_manifest(text: str, name: str) -> Manifest:
    """The manifest in TOML `text`; ManifestError naming the first thing wrong."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{name}: not TOML: {exc}") from None
    try:
        return check_manifest(table, name)
    except ManifestError as exc:
        raise ManifestError(f"{name}: {exc}") from None


def check_manifest(table: Mapping[str, Any], name: str) -> Manifest:
    known = {
        "validators",
        "powers",
        "joiners",
        "l1",
        "load_per_s",
        "final_heights",
        "perturbation",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ManifestError(f"unknown keys {unknown}")
    validators = _int(table, "validators")
    if not 1 <= validators <= MAX_VALIDATORS:
        raise ManifestError(f"validators must be 1 to {MAX_VALIDATORS}")
    powers = tuple(table.get("powers", [1] * validators))
    if len(powers) != validators or not all(
        isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in powers
    ):
        raise ManifestError(f"powers must be {validators} positive integers")
    l1 = table.get("l1", True)
    if not isinstance(l1, bool):
        raise ManifestError("l1 must be true or false")
    load = table.get("load_per_s", 0)
    if not isinstance(load, int | float) or isinstance(load, bool) or not 0 <= load <= 500:
        raise ManifestError(f"load_per_s must be 0 to {MAX_LOAD_PER_S}")
    final_heights = _int(table, "final_heights", 5)
    if final_heights < 1:
        raise ManifestError("final_heights must be at least 1")
    joiners = tuple(table.get("joiners", []))
    if not all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in joiners):
        raise ManifestError("joiners must be positive integers (each joiner's power)")
    if validators + len(joiners) > MAX_VALIDATORS:
        raise ManifestError(f"at most {MAX_VALIDATORS} validators, joiners included")
    steps = table.get("perturbation", [])
    if not isinstance(steps, list):
        raise ManifestError("perturbation must be an array of tables ([[perturbation]])")
    everyone = validators + len(joiners)
    perturbations = tuple(check_perturbation(step, everyone) for step in steps)
    check_sequence(perturbations, validators, len(joiners))
    return Manifest(
        name, validators, powers, l1, float(load), final_heights, perturbations, joiners
    )


def check_perturbation(step: Any, validators: int) -> Perturbation:
    if not isinstance(step, dict):
        raise ManifestError("each perturbation is a table")
    unknown = sorted(set(step) - {"validator", "action", "after_heights"})
    if unknown:
        raise ManifestError(f"unknown perturbation keys {unknown}")
    validator = _int(step, "validator")
    if not 0 <= validator < validators:
        raise ManifestError(f"validator {validator} is not one of 0..{validators - 1}")
    action = step.get("action")
    if action not in ACTIONS:
        raise ManifestError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    after = _int(step, "after_heights", 3)
    if after < 1:
        raise ManifestError("after_heights must be at least 1")
    return Perturbation(validator, str(action), after)


def check_sequence(
    perturbations: Sequence[Perturbation], validators: int, joiners: int = 0
) -> None:
    """Each action must make sense for its validator's state at that point: a running one
    is killed, stopped, paused or doubled (then jailed: nothing more); a down one started; a
    paused one resumed; a joiner joins before anything else is done to it."""
    state = ["up"] * validators + ["absent"] * joiners
    allowed = {
        "up": ("kill", "stop", "pause", "double-sign"),
        "down": ("start",),
        "paused": ("resume",),
        "jailed": (),
        "absent": ("join",),
    }
    joined = 0
    for index, step in enumerate(perturbations):
        current = state[step.validator]
        if step.action not in allowed[current]:
            raise ManifestError(
                f"perturbation {index}: cannot {step.action} validator {step.validator}, "
                f"which is {current} then"
            )
        if step.action == "join":
            if step.validator != validators + joined:
                raise ManifestError(
                    f"perturbation {index}: the joiners join in order; validator "
                    f"{validators + joined} is next"
                )
            joined += 1
        after = {"kill": "down", "stop": "down", "pause": "paused", "double-sign": "jailed"}
        state[step.validator] = after.get(step.action, "up")


def can_commit(
    manifest: Manifest, out: set[int], jailed: set[int] | None = None, joined: int = 0
) -> bool:
    """Whether the validators up hold more than two thirds of the power: CometBFT commits
    heights while they do, and halts (safely) when they do not. A jailed validator has no
    power any more: it counts neither as up nor in the total; nor does a joiner before it
    joins (`joined`: how many have, in index order)."""
    jailed = jailed or set()
    powers = manifest.all_powers[: manifest.validators + joined]
    total = sum(p for i, p in enumerate(powers) if i not in jailed)
    down = sum(powers[i] for i in out if i not in jailed and i < len(powers))
    return (total - down) * 3 > total * 2
