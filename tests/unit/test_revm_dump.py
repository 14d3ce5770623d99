"""The pyrevm dump parser against real pyrevm 0.3.7 runs: the format it relies on."""

from __future__ import annotations

from contextlib import suppress

from pyrevm import EVM, AccountInfo, BlockEnv, CfgEnv, Env

from chain.fast.revm_dump import parse_dump
from tests.conformance.harness import assemble, deployer_of

CALLER = "0x" + "aa" * 20
TARGET = "0x" + "cc" * 20
OTHER = "0x" + "dd" * 20


def fresh_evm() -> EVM:
    block = BlockEnv(number=10, timestamp=1, basefee=0, gas_limit=30_000_000, excess_blob_gas=0)
    env = Env(cfg=CfgEnv(chain_id=7702, perf_analyse_created_bytecodes="raw"), block=block)
    evm = EVM(env=env, gas_limit=30_000_000)
    evm.insert_account_info(CALLER, AccountInfo(balance=10**18, nonce=3))  # type: ignore[call-arg]
    return evm


def test_reads_post_state_storage_and_flags_of_touched_accounts() -> None:
    evm = fresh_evm()
    evm.insert_account_info(TARGET, AccountInfo(code=assemble(7, 5, "SSTORE", 6, "SLOAD")))
    evm.message_call(CALLER, TARGET, b"", 5, 100_000, 0)
    dump = parse_dump(str(evm))
    target = dump.accounts[bytes.fromhex("cc" * 20)]
    assert target.storage == {5: 7, 6: 0}
    assert (target.balance, target.touched, target.created, target.destroyed) == (
        5,
        True,
        False,
        False,
    )
    assert dump.accounts[bytes.fromhex("aa" * 20)].balance == 10**18 - 5
    assert dump.read_slots[bytes.fromhex("cc" * 20)] == {5, 6}
    assert not dump.read_block_hash


def test_sees_reads_of_frames_that_reverted() -> None:
    # TARGET calls OTHER, which reads slot 9 and reverts: the journal forgets the slot (the
    # account stays, loaded by the CALL in TARGET's frame), the database cache does not.
    evm = fresh_evm()
    evm.insert_account_info(OTHER, AccountInfo(code=assemble(9, "SLOAD", 0, 0, "REVERT")))
    call = assemble(0, 0, 0, 0, 0, int.from_bytes(bytes.fromhex("dd" * 20)), "GAS", "CALL")
    evm.insert_account_info(TARGET, AccountInfo(code=call + assemble("STOP")))
    evm.message_call(CALLER, TARGET, b"", 0, 100_000, 0)
    dump = parse_dump(str(evm))
    assert dump.accounts[bytes.fromhex("dd" * 20)].storage == {}
    assert dump.read_slots[bytes.fromhex("dd" * 20)] == {9}


def test_flags_a_blockhash_read() -> None:
    evm = fresh_evm()
    evm.insert_account_info(TARGET, AccountInfo(code=assemble(9, "BLOCKHASH", "STOP")))
    evm.message_call(CALLER, TARGET, b"", 0, 100_000, 0)
    assert parse_dump(str(evm)).read_block_hash


def test_reads_created_code_and_revert_output() -> None:
    evm = fresh_evm()
    runtime = assemble(1, 2, "SSTORE", "STOP")
    address = evm.deploy(CALLER, deployer_of(runtime), 0, 200_000)
    created = parse_dump(str(evm)).accounts[bytes.fromhex(address[2:].lower())]
    assert (created.created, created.code, created.nonce) == (True, runtime, 1)

    evm = fresh_evm()
    evm.insert_account_info(TARGET, AccountInfo(code=assemble(0xAB, 0, "MSTORE", 32, 0, "REVERT")))
    with suppress(RuntimeError):  # pyrevm raises on a revert
        evm.message_call(CALLER, TARGET, b"", 0, 100_000, 0)
    assert parse_dump(str(evm)).revert_output == (0xAB).to_bytes(32, "big")


def test_marks_a_contract_destroyed_in_its_creating_transaction() -> None:
    evm = fresh_evm()
    beneficiary = int.from_bytes(bytes.fromhex("dd" * 20))
    with suppress(RuntimeError):  # pyrevm reports a deployment without code as an error
        evm.deploy(CALLER, assemble(beneficiary, "SELFDESTRUCT"), 0, 200_000)
    destroyed = [a for a in parse_dump(str(evm)).accounts.values() if a.destroyed]
    assert len(destroyed) == 1
