"""End-to-end manifests (chain/e2e/manifest.py): the suite's manifests parse; a manifest
naming something impossible is refused with what is wrong; the power arithmetic says when
CometBFT commits and when it halts, a joiner's power counting once it has joined."""

from __future__ import annotations

from pathlib import Path

import pytest

from chain.e2e.manifest import ManifestError, can_commit, parse_manifest

MANIFESTS = sorted((Path(__file__).parents[1] / "e2e" / "manifests").glob("*.toml"))
BASE = "validators = 4\n"


def test_the_suites_manifests_parse() -> None:
    assert MANIFESTS
    for path in MANIFESTS:
        manifest = parse_manifest(path.read_text(), path.stem)
        assert manifest.perturbations


def test_defaults() -> None:
    manifest = parse_manifest(BASE, "plain")
    assert (manifest.powers, manifest.l1, manifest.load_per_s) == ((1, 1, 1, 1), True, 0.0)


@pytest.mark.parametrize(
    ("text", "wrong"),
    [
        ("validators = 0\n", "validators must be 1 to 16"),
        (BASE + "powers = [1, 1]\n", "powers must be 4 positive integers"),
        (BASE + "powers = [1, 1, 0, 1]\n", "powers must be 4 positive integers"),
        (BASE + "load_per_s = -1\n", "load_per_s must be 0 to 500"),
        (BASE + "colour = 'blue'\n", "unknown keys ['colour']"),
        (BASE + "[[perturbation]]\nvalidator = 4\naction = 'kill'\n", "validator 4 is not one"),
        (BASE + "[[perturbation]]\nvalidator = 1\naction = 'explode'\n", "action 'explode'"),
        (BASE + "[[perturbation]]\nvalidator = 1\naction = 'start'\n", "cannot start validator 1"),
        (
            BASE + "[[perturbation]]\nvalidator = 1\naction = 'pause'\n"
            "[[perturbation]]\nvalidator = 1\naction = 'start'\n",
            "cannot start validator 1, which is paused",
        ),
        ("validators = [", "not TOML"),
        (BASE + "joiners = [0]\n", "joiners must be positive integers"),
        (BASE + "joiners = [1]\n[[perturbation]]\nvalidator = 4\naction = 'kill'\n", "cannot kill"),
        (BASE + "[[perturbation]]\nvalidator = 1\naction = 'join'\n", "cannot join validator 1"),
        (
            BASE + "joiners = [1, 1]\n[[perturbation]]\nvalidator = 5\naction = 'join'\n",
            "the joiners join in order; validator 4 is next",
        ),
    ],
)
def test_rejects_an_impossible_manifest(text: str, wrong: str) -> None:
    with pytest.raises(ManifestError, match=wrong.replace("[", r"\[").replace("]", r"\]")):
        parse_manifest(text, "bad")


def test_a_jailed_validator_can_do_nothing_more() -> None:
    text = (
        BASE + "[[perturbation]]\nvalidator = 1\naction = 'double-sign'\n"
        "[[perturbation]]\nvalidator = 1\naction = 'kill'\n"
    )
    with pytest.raises(ManifestError, match="cannot kill validator 1, which is jailed"):
        parse_manifest(text, "bad")


def test_a_jailed_validators_power_is_gone() -> None:
    equal = parse_manifest(BASE, "equal")
    assert not can_commit(equal, {2}, jailed={3})  # one of three left: a third out
    assert can_commit(equal, {3}, jailed={3})


def test_commits_only_with_more_than_two_thirds_of_the_power_up() -> None:
    equal = parse_manifest(BASE, "equal")
    assert can_commit(equal, {3})
    assert not can_commit(equal, {2, 3})
    heavy = parse_manifest("validators = 4\npowers = [5, 1, 1, 1]\n", "heavy")
    assert can_commit(heavy, {1, 2})
    assert not can_commit(heavy, {0})


def test_a_joiners_power_counts_once_it_has_joined() -> None:
    joining = parse_manifest("validators = 1\npowers = [10]\njoiners = [5]\n", "join")
    assert joining.all_powers == (10, 5)
    assert can_commit(joining, {1}, joined=0)  # not joined: validator 0 holds all the power
    assert not can_commit(joining, {1}, joined=1)  # joined: 10 of 15 is not more than 2/3
    assert can_commit(joining, set(), joined=1)
