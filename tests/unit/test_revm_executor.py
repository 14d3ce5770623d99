"""What is particular to the revm executor: which blocks it runs itself and which it hands
to py-evm, and the state it must discover before a run counts. Equality with py-evm is
checked on every block by the lockstep harness; these tests add where the block ran."""

from __future__ import annotations

from typing import Any

import pytest

from chain.fast.executor import CallMsg, SystemWrites
from chain.fast.groth16_precompile import GROTH16_VERIFY_ADDRESS, encode_request
from chain.fast.revm_executor import RevmExecutor, compute_gas_use
from chain.fast.revm_runner import BASEFEE, CREATE, GASPRICE, NeedsReference, find_opcodes
from chain.fast.system import (
    OUTBOX_ADDRESS,
    OUTBOX_MESSAGE_FEE_WEI,
    ROOT_ORACLE_ADDRESS,
    compute_root_writes,
)
from chain.types import Address
from tests.conformance.executor_suite import (
    ALICE,
    BOB,
    PLAYERS,
    deploy,
    genesis_alloc,
    release_data,
    reward_data,
    root_message,
    start_chain,
)
from tests.conformance.groth16_keys import (
    MULTIPLY_SIGNALS,
    get_fixture_verifiers,
    get_multiply_proof,
    get_vk_id,
)
from tests.conformance.groth16_suite import record_data
from tests.conformance.harness import (
    Lockstep,
    address_of,
    assemble,
    calldata,
    deploy_data,
    deployer_of,
    make_key,
    sign,
)

WATCHED = frozenset({GASPRICE, BASEFEE, CREATE})
GROTH16_VERIFY = int.from_bytes(GROTH16_VERIFY_ADDRESS, "big")


def revm_chain() -> Lockstep:
    return Lockstep.start(RevmExecutor, genesis_alloc())


def blocks_on_pyevm(chain: Lockstep) -> int:
    executor = chain.executor
    assert isinstance(executor, RevmExecutor)
    return executor.reference_blocks


def deploy_code(chain: Lockstep, runtime: bytes) -> Address:
    return deploy(chain, deployer_of(runtime))


def test_game_moves_and_fast_probe_run_on_revm() -> None:
    chain = revm_chain()
    bench = deploy(chain, deploy_data("MoveBench"))
    probe = deploy(chain, deploy_data("FastProbe", 1))
    calls = ["set(uint256)", "selfCall(uint256)", "setThenFail(uint256)", "failCustom(uint256)"]
    txs = [chain.send(BOB, to=probe, data=calldata(c, 5)) for c in calls]
    txs += [chain.send(BOB, to=probe, data=calldata("swallowFailure()"))]
    txs += [chain.send(p, to=bench, data=calldata("move(uint8)", 2)) for p in PLAYERS]
    chain.apply(txs)
    assert blocks_on_pyevm(chain) == 0


FEE = OUTBOX_MESSAGE_FEE_WEI


def test_system_writes_and_the_outbox_run_on_revm() -> None:
    chain = start_chain(RevmExecutor)
    system = SystemWrites(((address_of(BOB), 5),), tuple(compute_root_writes(root_message(1))))
    txs = [
        chain.send(ALICE, to=OUTBOX_ADDRESS, value=FEE + 9, data=release_data(address_of(BOB))),
        chain.send(BOB, to=OUTBOX_ADDRESS, value=FEE, data=reward_data(1, 2, address_of(ALICE), 3)),
    ]
    assert all(o.success for o in chain.apply(txs, system).outcomes)
    assert blocks_on_pyevm(chain) == 0


def test_a_block_handed_to_pyevm_keeps_its_system_writes() -> None:
    chain = start_chain(RevmExecutor)
    probe = deploy(chain, deploy_data("Probe", 7))  # reads the base fee
    fresh = Address(bytes.fromhex("f2" * 20))
    system = SystemWrites(((fresh, 5),), tuple(compute_root_writes(root_message(4))))
    before = blocks_on_pyevm(chain)
    chain.apply([chain.send(BOB, to=probe, data=calldata("set(uint256)", 1))], system)
    assert blocks_on_pyevm(chain) == before + 1
    assert chain.account(fresh).balance == 5
    assert chain.storage(ROOT_ORACLE_ADDRESS, 0) == 4


def test_reads_inside_a_reverted_call_are_loaded_before_the_run_counts() -> None:
    # Called with value, `inner` stores 5 in slot 1. Called without, it copies slot 1 into
    # slot 2 and reverts: the gas of that copy depends on the value read (a zero costs far
    # less to store), but after the revert revm's journal no longer shows the read; only its
    # database cache does, and the executor must load the slot and run again.
    copy = assemble("CALLVALUE", 13, "JUMPI", 1, "SLOAD", 2, "SSTORE", 0, 0, "REVERT")
    inner_code = copy + assemble("JUMPDEST", 5, 1, "SSTORE", "STOP")
    chain = revm_chain()
    inner = deploy_code(chain, inner_code)
    chain.apply([chain.send(ALICE, to=inner, value=1)])
    outer = deploy_code(chain, assemble(0, 0, 0, 0, 0, int.from_bytes(inner), "GAS", "CALL"))
    executor = RevmExecutor(chain.tested.store.get)  # remembers nothing of earlier runs
    chain.tested.executor = executor
    chain.apply([chain.send(BOB, to=outer)])  # the lockstep compares the gas with py-evm's
    assert executor.reference_blocks == 0
    assert chain.storage(inner, 1) == 5 and chain.storage(inner, 2) == 0


@pytest.mark.parametrize(
    ("runtime", "reason"),
    [
        (assemble(1, "NUMBER", "SUB", "BLOCKHASH", 0, "SSTORE", "STOP"), "BLOCKHASH"),
        (assemble("BASEFEE", 0, "SSTORE", "STOP"), "base fee"),
        (assemble("GASPRICE", 0, "SSTORE", "STOP"), "gas price"),
    ],
)
def test_blocks_that_pyrevm_cannot_run_exactly_go_to_pyevm(runtime: bytes, reason: str) -> None:
    chain = revm_chain()
    contract = deploy_code(chain, runtime)
    before = blocks_on_pyevm(chain)
    chain.apply([chain.send(BOB, to=contract)])
    assert blocks_on_pyevm(chain) == before + 1, reason


def test_calls_to_prague_bls_precompiles_go_to_pyevm() -> None:
    chain = revm_chain()
    chain.apply([chain.send(BOB, to=Address((0x0B).to_bytes(20, "big")), gas=60_000)])
    assert blocks_on_pyevm(chain) == 1


def groth16_chain() -> Lockstep:
    """A revm chain whose precompile knows the fixture circuits, with Groth16Probe deployed."""
    return Lockstep.start(RevmExecutor, genesis_alloc(), verifiers=get_fixture_verifiers())


def groth16_request() -> bytes:
    return encode_request(get_vk_id("multiply"), get_multiply_proof(), MULTIPLY_SIGNALS)


@pytest.mark.parametrize("touch", ["library", "direct", "balance"])
def test_blocks_touching_the_groth16_precompile_go_to_pyevm(touch: str) -> None:
    # BALANCE alone counts: py-evm's precompile is warm (100 gas), revm's empty account cold
    # (2600); the lockstep would see the difference if revm ran it.
    chain = groth16_chain()
    probe = deploy(chain, deploy_data("Groth16Probe"))
    balance = deploy_code(chain, assemble(GROTH16_VERIFY, "BALANCE", 0, "SSTORE", "STOP"))
    vk_id, proof = get_vk_id("multiply"), get_multiply_proof()
    to, data = {
        "library": (probe, record_data(vk_id, proof, MULTIPLY_SIGNALS)),
        "direct": (GROTH16_VERIFY_ADDRESS, groth16_request()),
        "balance": (balance, b""),
    }[touch]
    before = blocks_on_pyevm(chain)
    mover = chain.send(ALICE, to=address_of(BOB), value=1, gas=21_000)
    tx = chain.send(BOB, to=to, data=data)
    outcome = chain.apply([mover, tx]).outcomes[1]  # the lockstep compares it all
    assert outcome.success
    assert blocks_on_pyevm(chain) == before + 1


def test_calls_touching_the_groth16_precompile_go_to_pyevm() -> None:
    chain = groth16_chain()
    executor = chain.executor
    assert isinstance(executor, RevmExecutor)
    reference_calls: list[str] = []
    reference_call, reference_estimate = executor.reference.call, executor.reference.estimate_gas

    def spy_call(*args: Any) -> Any:
        reference_calls.append("call")
        return reference_call(*args)

    def spy_estimate(*args: Any) -> Any:
        reference_calls.append("estimate")
        return reference_estimate(*args)

    executor.reference.call = spy_call  # type: ignore[method-assign]
    executor.reference.estimate_gas = spy_estimate  # type: ignore[method-assign]
    msg = CallMsg(address_of(BOB), GROTH16_VERIFY_ADDRESS, 0, groth16_request(), None)
    status, (output, _) = chain.call(msg)
    assert (status, output) == ("ok", (1).to_bytes(32, "big"))
    assert chain.estimate(msg)[0] == "ok"
    assert reference_calls == ["call", "estimate"]


def test_contracts_creating_contracts_go_to_pyevm_only_when_they_create() -> None:
    # Called with value, the contract jumps to a CREATE of the child appended to its code;
    # without, it only stores 1.
    child = deployer_of(assemble("STOP"))
    store = assemble("CALLVALUE", 9, "JUMPI", 1, 0, "SSTORE", "STOP", "JUMPDEST")
    create = assemble(len(child), 22, 0, "CODECOPY", len(child), 0, 0, "CREATE", "STOP")
    assert (len(store), len(store + create)) == (10, 22)
    chain = revm_chain()
    factory = deploy_code(chain, store + create + child)
    before = blocks_on_pyevm(chain)
    chain.apply([chain.send(BOB, to=factory)])
    assert blocks_on_pyevm(chain) == before
    chain.apply([chain.send(BOB, to=factory, value=1)])
    assert blocks_on_pyevm(chain) == before + 1


def test_a_create_run_through_delegatecall_goes_to_pyevm() -> None:
    # The CREATE is in the library's code but runs for the calling contract, the creator.
    child = deployer_of(assemble("STOP"))
    library_code = assemble(len(child), 12, 0, "CODECOPY", len(child), 0, 0, "CREATE", "STOP")
    chain = revm_chain()
    library = deploy_code(chain, library_code + child)
    caller_code = assemble(0, 0, 0, 0, int.from_bytes(library), "GAS", "DELEGATECALL", "STOP")
    caller = deploy_code(chain, caller_code)
    before = blocks_on_pyevm(chain)
    chain.apply([chain.send(BOB, to=caller)])
    assert blocks_on_pyevm(chain) == before + 1


def test_find_opcodes_skips_push_data_and_dead_code() -> None:
    assert find_opcodes(assemble(0x48, "POP", "STOP"), WATCHED) == frozenset()  # PUSH1 0x48
    assert find_opcodes(assemble("STOP") + bytes([BASEFEE]), WATCHED) == frozenset()
    live = assemble("STOP", "JUMPDEST", "BASEFEE")
    assert find_opcodes(live, WATCHED) == {BASEFEE}


def test_floor_gas_with_a_capped_refund_goes_to_pyevm() -> None:
    tx = sign(make_key(1), 0, data=b"\x01" * 3000, gas=200_000)

    class Result:
        gas_used = 40_000
        gas_refunded = 10_000  # a fifth of 50_000 spent: possibly capped

    with pytest.raises(NeedsReference):
        compute_gas_use(tx, Result())  # type: ignore[arg-type]
    Result.gas_refunded = 9_000
    gas: Any = compute_gas_use(tx, Result())  # type: ignore[arg-type]
    assert gas.charged == 21_000 + 10 * 4 * 3000
