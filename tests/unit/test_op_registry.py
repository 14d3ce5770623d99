"""The registry of ZK operation types (chain/zk/registry.py) against the facts outside Python
that it must agree with: the circuits in contracts/circuits/ and the circuit ids and word
counts that Rollup.sol names; and each spec's facts against each other."""

import dataclasses
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from chain.l1.calldata import L1_CIRCUIT_NAMES, get_circuit_id
from chain.prover.witness import STATEMENT_NAMES, compute_witness
from chain.zk.genesis import compute_genesis_state
from chain.zk.ops import BlockContext, InvalidOp, Operation
from chain.zk.registry import (
    CIRCUIT_NAMES,
    OPS,
    InvalidRegistry,
    OpSpec,
    UnknownOperation,
    apply_operation,
    check_registry,
    circuit_name,
    compute_operation_from_words,
    get_circuit_spec,
    get_op_spec,
    is_unsigned,
    pack_words,
    unpack_words,
)
from chain.zk.signing import OP_TYPES, TYPES_BY_NAME, InvalidSignature, parse_operation_fields
from chain.zk.state import TreeName
from chain.zk.words import HEADER_LAYOUT, WHOLE_FIELD, compute_layout_width

ROOT = Path(__file__).resolve().parents[2]
CIRCUITS_DIR = ROOT / "contracts" / "circuits"
ROLLUP_SOL = ROOT / "contracts" / "l1" / "Rollup.sol"
# Circuits that are not operations. WHEN ADDING ENTRIES, ALWAYS PROVIDE AN EXPLANATION!
NOT_OPERATIONS = {
    "ownership": "proves a pass is owned under a root, on the fast chain; changes no state",
    "exit": "L1's escape hatch: an account's leaf under the last settled root, after a freeze",
    "refuse_withdraw": "proves a forced Withdraw invalid: post-root = pre-root, no operation",
}
# Rollup.sol's config names each circuit it treats specially by `<stem>Circuit`.
ROLLUP_CIRCUITS = {
    "deposit": "deposit",
    "withdraw": "withdraw",
    "refuse": "refuse_withdraw",
    "exit": "exit",
    "bond": "bond",
    "unbond": "unbond",
    "slash": "slash",
}
TREES: tuple[TreeName, ...] = ("accounts", "nfts", "collections", "provers")
CTX = BlockContext(height=1, epoch=0, min_fee=0)


@dataclass(frozen=True)
class Unregistered:
    """A body type that no spec defines."""

    amount: int


def list_main_circuits() -> set[str]:
    return {source.stem for source in CIRCUITS_DIR.glob("*.circom")}


def read_public_inputs(circuit: str) -> list[str]:
    source = (CIRCUITS_DIR / f"{circuit}.circom").read_text()
    match = re.search(r"component main \{public \[([^\]]*)\]\}", source)
    assert match, f"{circuit}.circom has no main component with public inputs"
    return [name.strip() for name in match.group(1).split(",")]


# -- the registry covers the circuits and the rollup ------------------------------------------


def test_every_circuit_is_an_operation_or_a_listed_statement() -> None:
    assert list_main_circuits() == set(CIRCUIT_NAMES) | set(NOT_OPERATIONS)
    assert not set(CIRCUIT_NAMES) & set(NOT_OPERATIONS)
    assert set(NOT_OPERATIONS) == set(STATEMENT_NAMES)


@pytest.mark.parametrize("spec", OPS, ids=lambda spec: spec.circuit)
def test_circuit_takes_the_specs_words(spec: OpSpec[Any]) -> None:
    words = [f"w{i + 1}" for i in range(len(spec.words))]
    assert read_public_inputs(spec.circuit) == ["preRoot", "postRoot", *words]


def test_circuit_ids_are_places_and_precede_the_escape_statements() -> None:
    assert [spec.circuit_id for spec in OPS] == list(range(len(OPS)))
    for spec in OPS:
        assert get_circuit_id(spec.circuit) == spec.circuit_id
    assert L1_CIRCUIT_NAMES[len(OPS) :] == ("refuse_withdraw", "exit")


def test_every_circuit_id_in_the_rollup_names_a_known_circuit() -> None:
    source = ROLLUP_SOL.read_text()
    named = set(re.findall(r"uint8 (\w+)Circuit;", source))
    assert named == set(ROLLUP_CIRCUITS)
    for stem, circuit in ROLLUP_CIRCUITS.items():
        assert circuit in L1_CIRCUIT_NAMES, stem
    max_circuits = int(re.search(r"MAX_CIRCUITS = (\d+);", source).group(1))
    assert len(L1_CIRCUIT_NAMES) <= max_circuits


def test_the_rollups_bridge_word_counts_are_the_specs() -> None:
    source = ROLLUP_SOL.read_text()
    counts = {
        name.lower(): int(count) for name, count in re.findall(r"(\w+)_WORDS = (\d+);", source)
    }
    assert counts == {"deposit": 2, "withdraw": 3}
    for circuit, count in counts.items():
        assert len(get_circuit_spec(circuit).words) == count


# -- each spec's facts agree ------------------------------------------------------------------


@pytest.mark.parametrize("spec", OPS, ids=lambda spec: spec.circuit)
def test_words_fit_a_field_and_name_each_field_once(spec: OpSpec[Any]) -> None:
    names = [name for layout in spec.words for name, _ in layout]
    assert len(names) == len(set(names))
    for layout in spec.words:
        assert compute_layout_width(layout) <= WHOLE_FIELD
    assert set(spec.trees) <= set(TREES) and spec.trees


@pytest.mark.parametrize("spec", [s for s in OPS if s.signed], ids=lambda spec: spec.circuit)
def test_signed_members_are_body_fields_and_in_the_words(spec: OpSpec[Any]) -> None:
    assert spec.signed is not None and spec.words[0] == HEADER_LAYOUT
    word_fields = {name for layout in spec.words for name, _ in layout}
    within = dict(spec.signed.within)
    attrs = {field.name for field in dataclasses.fields(spec.body)}
    for wire, _, attr in spec.signed.members:
        assert attr in attrs
        assert within.get(wire, (wire, 0))[0] in word_fields
    assert {attr for _, _, attr in spec.signed.members} == attrs  # every field is signed
    assert OP_TYPES[spec.body][0] == spec.signed.primary
    assert TYPES_BY_NAME[spec.signed.primary] is spec.body


@pytest.mark.parametrize("spec", OPS, ids=lambda spec: spec.circuit)
def test_decode_reads_a_body_from_its_words(spec: OpSpec[Any]) -> None:
    fields = {name: 1 for layout in spec.words for name, _ in layout}
    assert unpack_words(spec.circuit, pack_words(spec.circuit, fields)) == fields
    op = compute_operation_from_words(spec.circuit, fields)
    assert type(op.body) is spec.body
    assert get_op_spec(op.body) is spec and circuit_name(op) == spec.circuit
    assert is_unsigned(op.body) == (spec.signed is None) == (op.signer == 0)


# -- what no spec defines is an error, never another type ------------------------------------


def test_rejects_an_unknown_operation_type() -> None:
    state = compute_genesis_state({0xA11CE: 10**18}, minter=0xA11CE, fast_chain_escrow=0)
    op = Operation(Unregistered(1), 0, 0, 0)
    with pytest.raises(UnknownOperation, match="no operation type Unregistered"):
        apply_operation(state, op, CTX)
    with pytest.raises(UnknownOperation, match="no operation type Unregistered"):
        compute_witness(state, op, CTX, state, [])
    with pytest.raises(UnknownOperation, match="no operation type Unregistered"):
        is_unsigned(Unregistered(1))
    assert issubclass(UnknownOperation, InvalidOp)  # the pool refuses it like any bad op


def test_rejects_an_unknown_circuit() -> None:
    with pytest.raises(UnknownOperation, match="no operation has the circuit 'collect_all'"):
        compute_operation_from_words("collect_all", {})
    with pytest.raises(UnknownOperation, match="no operation has the circuit 'exit'"):
        unpack_words("exit", [0])


def test_rejects_an_unknown_signed_type_on_the_wire() -> None:
    with pytest.raises(InvalidSignature, match="unknown operation type 'Unregistered'"):
        parse_operation_fields({"type": "Unregistered"})


def test_rejects_specs_out_of_the_rollups_order() -> None:
    swapped = (replace(OPS[0], circuit_id=1), replace(OPS[1], circuit_id=0), *OPS[2:])
    with pytest.raises(InvalidRegistry, match="transfer has id 1, its place is 0"):
        check_registry(swapped)


def test_rejects_a_signed_spec_without_a_header_word() -> None:
    headless = replace(OPS[0], words=OPS[0].words[1:])
    with pytest.raises(InvalidRegistry, match="transfer: a header word exactly when signed"):
        check_registry((headless, *OPS[1:]))


def test_rejects_two_specs_of_one_body() -> None:
    twice = (*OPS, replace(OPS[0], circuit_id=len(OPS), circuit="transfer_again"))
    with pytest.raises(InvalidRegistry, match="a body with two specs"):
        check_registry(twice)
