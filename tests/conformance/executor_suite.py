"""The executor conformance suite, written once and run on every executor.

Each test runs its blocks on the executor under test and on py-evm in lockstep
(`harness.Lockstep`): receipts, rejections, state roots, the trie nodes to store, accounts
and storage must be equal after every block. The expectations written in the tests
themselves (gas, balances, logs) hold for both. Subclass `ExecutorConformance` with
`executor_class` set and an empty body, one per executor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any, ClassVar

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chain.fast.executor import (
    AccountOverride,
    CallMsg,
    Credit,
    ExecutionError,
    Log,
    StorageWrite,
    SystemWrites,
)
from chain.fast.pyevm_executor import PyEvmExecutor
from chain.fast.revm_executor import compute_contract_address
from chain.fast.system import (
    OUTBOX_ADDRESS,
    OUTBOX_MESSAGE_FEE_WEI,
    ROOT_ORACLE_ADDRESS,
    ROOT_WINDOW,
    compute_root_writes,
    compute_system_genesis,
)
from chain.fast.time_limit import CallTimedOut, time_limit
from chain.fast.tx_signing import DynamicFeeTx, encode_impersonated
from chain.fast.txs import decode_impersonated
from chain.ledger.messages import BalanceSet, CodeSet, NonceSet, RootMessage, StorageSet
from chain.types import Address
from tests.conformance.harness import (
    BASE_FEE,
    CHAIN_ID,
    COINBASE,
    ETHER,
    FUNDED,
    GWEI,
    Lockstep,
    address_of,
    assemble,
    calldata,
    deploy_data,
    deployer_of,
    make_key,
    runtime_code,
    sign,
    topic,
)

ALICE, BOB, CAROL, DAVE = (make_key(n) for n in range(4))
PLAYERS = [make_key(10 + n) for n in range(10)]
EMPTY_IN_GENESIS = Address(bytes.fromhex("e0" * 20))  # allocated with a zero balance
IDENTITY = Address((4).to_bytes(20, "big"))
BLS_G1ADD = Address((0x0B).to_bytes(20, "big"))
FRESH = Address(bytes.fromhex("f1" * 20))
ZERO_ADDRESS = Address(b"\x00" * 20)
RELEASE = "Release(uint64,address,address,uint256)"
REWARD_MINT = "RewardMint(uint64,address,uint32,uint32,address,uint256)"


def genesis_alloc() -> dict[Address, int]:
    alloc = {address_of(a): FUNDED for a in (ALICE, BOB, CAROL, *PLAYERS)}
    alloc[EMPTY_IN_GENESIS] = 0
    return alloc


def start_chain(executor_class: type) -> Lockstep:
    """A chain from the dev-style genesis, with the system contracts in place."""
    return Lockstep.start(executor_class, genesis_alloc(), compute_system_genesis())


def deploy(chain: Lockstep, data: bytes, **fields: Any) -> Address:
    fields.setdefault("gas", 3_000_000)
    result = chain.apply([chain.send(ALICE, data=data, **fields)])
    outcome = result.outcomes[0]
    assert outcome.success, "deployment failed"
    assert outcome.contract_address is not None
    return outcome.contract_address


def deploy_runtime(chain: Lockstep, runtime: bytes) -> Address:
    return deploy(chain, deployer_of(runtime))


def credits(*entries: Credit) -> SystemWrites:
    return SystemWrites(credits=entries)


def word(value: int | bytes) -> bytes:
    """A log topic or ABI word: an int, or an address left-padded."""
    return value.rjust(32, b"\x00") if isinstance(value, bytes) else value.to_bytes(32, "big")


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def view(chain: Lockstep, contract: Address, signature: str) -> int:
    status, (output, _) = chain.call(CallMsg(None, contract, 0, calldata(signature), None))
    assert status == "ok"
    return int.from_bytes(output, "big")


# -- the system contracts ----------------------------------------------------------------------


FEE = OUTBOX_MESSAGE_FEE_WEI  # what every outbox message pays


def release_data(to: Address) -> bytes:
    return calldata("release(address)", to)


def reward_data(collection: int, round_: int, to: Address, metadata: int) -> bytes:
    signature = "requestRewardMint(uint32,uint32,address,uint256)"
    return calldata(signature, collection, round_, to, metadata)


def root_message(height: int) -> RootMessage:
    """Made-up roots, different at every height."""
    return RootMessage(height, keccak(b"state %d" % height), keccak(b"nfts %d" % height))


def deliver_roots(chain: Lockstep, heights: Iterable[int]) -> None:
    """One block delivering the roots of ZK blocks at `heights`, in order."""
    writes = [w for h in heights for w in compute_root_writes(root_message(h))]
    chain.apply([], SystemWrites(storage=tuple(writes)))


def oracle_root(chain: Lockstep, name: str, height: int) -> tuple[str, Any]:
    """("ok", root) or ("error", (kind, revert data)) of RootOracle's `name`(height)."""
    data = calldata(f"{name}(uint256)", height)
    status, result = chain.call(CallMsg(None, ROOT_ORACLE_ADDRESS, 0, data, None))
    return (status, result[0]) if status == "ok" else (status, result)


def is_recent(chain: Lockstep, name: str, root: bytes) -> bool:
    data = calldata(f"{name}(bytes32)", root)
    status, (output, _) = chain.call(CallMsg(None, ROOT_ORACLE_ADDRESS, 0, data, None))
    assert status == "ok"
    return output == word(1)


class ExecutorConformance:
    executor_class: ClassVar[type]

    @pytest.fixture
    def chain(self) -> Lockstep:
        return start_chain(self.executor_class)

    @pytest.fixture(params=["Probe", "FastProbe"])
    def probe(self, request: pytest.FixtureRequest, chain: Lockstep) -> Address:
        """Probe reads the base fee (so its transactions go to py-evm on revm); FastProbe
        does not, so revm runs it."""
        return deploy(chain, deploy_data(request.param, 7))

    @pytest.fixture
    def fast_probe(self, chain: Lockstep) -> Address:
        return deploy(chain, deploy_data("FastProbe", 7))

    # -- transfers ---------------------------------------------------------------------------

    def test_transfer_moves_value_and_pays_gas_and_tip(self, chain: Lockstep) -> None:
        tx = chain.send(ALICE, to=address_of(BOB), value=ETHER, gas=21_000)
        outcome = chain.apply([tx]).outcomes[0]
        price = BASE_FEE + GWEI  # max fee 3 gwei, tip 1 gwei over a 1 gwei base fee
        assert (outcome.success, outcome.gas_used) == (True, 21_000)
        assert chain.account(address_of(ALICE)).balance == FUNDED - ETHER - 21_000 * price
        assert chain.account(address_of(ALICE)).nonce == 1
        assert chain.account(address_of(BOB)).balance == FUNDED + ETHER
        assert chain.account(COINBASE).balance == 21_000 * GWEI

    # -- system writes: what the ledger delivers before the transactions -------------------

    def test_credit_reaches_a_new_account_before_the_transactions(self, chain: Lockstep) -> None:
        newcomer = make_key(40)
        spend = chain.send(newcomer, to=address_of(BOB), value=ETHER, gas=21_000)
        result = chain.apply([spend], credits((address_of(newcomer), 2 * ETHER)))
        assert result.outcomes[0].success, "the credit was not there for the block's first tx"
        assert chain.account(address_of(BOB)).balance == FUNDED + ETHER

    def test_credits_add_up_on_existing_and_repeated_addresses(self, chain: Lockstep) -> None:
        chain.apply([], credits((address_of(ALICE), 5), (FRESH, 7), (FRESH, 8)))
        assert chain.account(address_of(ALICE)).balance == FUNDED + 5
        assert chain.account(FRESH).balance == 15

    def test_storage_writes_land_before_the_transactions(self, chain: Lockstep) -> None:
        # The contract copies slot 0 into slot 1, then sets slot 0 to 1.
        copier = deploy_runtime(chain, assemble(0, "SLOAD", 1, "SSTORE", 1, 0, "SSTORE", "STOP"))
        system = SystemWrites(storage=(StorageWrite(copier, 0, 42),))
        outcome = chain.apply([chain.send(BOB, to=copier)], system).outcomes[0]
        assert (chain.storage(copier, 1), chain.storage(copier, 0)) == (42, 1)
        # Slot 0 holds 42 already when the transaction starts (EIP-2200's original value), so
        # setting it costs a clean slot's 2900, not a dirty one's 100: 21000, two PUSH0 and
        # two PUSH1, a cold SLOAD, a new slot (22100), then that 2900.
        assert outcome.gas_used == 21_000 + 2 * 2 + 2 * 3 + 2_100 + 22_100 + 2_900

    def test_storage_write_to_an_address_without_an_account(self, chain: Lockstep) -> None:
        chain.apply([], SystemWrites(storage=(StorageWrite(FRESH, 3, 9),)))
        assert chain.storage(FRESH, 3) == 9
        assert chain.account(FRESH).balance == 0

    def test_system_writes_reach_a_block_that_pyevm_runs(self, chain: Lockstep) -> None:
        """Probe reads the base fee, so the revm executor hands this block to py-evm: the
        system writes must go with it."""
        probe = deploy(chain, deploy_data("Probe", 7))
        system = SystemWrites(((FRESH, 5),), tuple(compute_root_writes(root_message(3))))
        chain.apply([chain.send(BOB, to=probe, data=calldata("set(uint256)", 1))], system)
        assert chain.account(FRESH).balance == 5
        assert chain.storage(ROOT_ORACLE_ADDRESS, 0) == 3
        assert chain.storage(probe, 0) == 1

    def test_dev_writes_set_accounts_before_the_transactions(self, chain: Lockstep) -> None:
        """A dev node's writes (anvil_setBalance, setNonce, setCode, setStorageAt): a key
        nobody funded sends at the nonce it was given, to code placed at an empty address
        that reads the slot it was given."""
        newcomer, target = make_key(41), Address(bytes.fromhex("c0de" * 10))
        copier = assemble(0, "SLOAD", 1, "SSTORE", "STOP")  # slot 1 = slot 0
        system = SystemWrites(
            dev=(
                BalanceSet(address_of(newcomer), 2 * ETHER),
                NonceSet(address_of(newcomer), 7),
                CodeSet(target, copier),
                StorageSet(target, 0, 42),
            )
        )
        chain.nonces[address_of(newcomer)] = 7
        outcome = chain.apply([chain.send(newcomer, to=target, gas=60_000)], system).outcomes[0]
        assert outcome.success
        assert chain.storage(target, 1) == 42
        assert chain.account(target).code == copier
        assert chain.account(address_of(newcomer)).nonce == 8
        assert chain.account(address_of(newcomer)).balance < 2 * ETHER

    def test_dev_writes_replace_what_was_there_in_order(self, chain: Lockstep) -> None:
        """A balance is set, not added to; the later of two writes to one field wins; empty
        code removes a contract's code and keeps its storage."""
        store = deploy_runtime(chain, assemble(5, 0, "SSTORE", "STOP"))
        chain.apply([chain.send(BOB, to=store)])
        alice = address_of(ALICE)
        writes = (BalanceSet(alice, 5), BalanceSet(alice, 9), CodeSet(store, b""))
        chain.apply([], SystemWrites(credits=((alice, 1),), dev=writes))
        assert chain.account(alice).balance == 9  # the credit came first, then both sets
        assert chain.account(store).code == b""
        assert chain.storage(store, 0) == 5

    def test_dev_writes_reach_a_block_that_pyevm_runs(self, chain: Lockstep) -> None:
        """Probe reads the base fee, so the revm executor hands this block to py-evm."""
        probe = deploy(chain, deploy_data("Probe", 7))
        system = SystemWrites(dev=(StorageSet(probe, 0, 11), BalanceSet(FRESH, 3)))
        chain.apply([chain.send(BOB, to=probe, data=calldata("set(uint256)", 12))], system)
        assert chain.account(FRESH).balance == 3
        assert chain.storage(probe, 0) == 12

    def test_genesis_storage_is_in_place(self) -> None:
        storage = [StorageWrite(OUTBOX_ADDRESS, 0, 5), StorageWrite(FRESH, 2, 3)]
        roots = []
        for executor_class in (self.executor_class, PyEvmExecutor):
            store: dict[bytes, bytes] = {}
            executor = executor_class(store.get)
            root, nodes = executor.make_genesis(genesis_alloc(), compute_system_genesis(), storage)
            store.update(nodes)
            assert executor.get_storage(root, OUTBOX_ADDRESS, 0) == 5
            assert executor.get_storage(root, FRESH, 2) == 3
            roots.append(root)
        assert roots[0] == roots[1]

    def test_genesis_code_is_callable(self, chain: Lockstep) -> None:
        assert chain.account(OUTBOX_ADDRESS).code == runtime_code("Outbox")
        assert view(chain, OUTBOX_ADDRESS, "nextSeq()") == 0
        assert view(chain, ROOT_ORACLE_ADDRESS, "latestHeight()") == 0
        assert view(chain, ROOT_ORACLE_ADDRESS, "WINDOW()") == ROOT_WINDOW

    # -- EIP-7702: set-code transactions and delegated accounts --------------------------------

    def test_set_code_transaction_delegates_and_the_code_runs_as_the_account(
        self, chain: Lockstep
    ) -> None:
        """BOB sends a type-4 transaction carrying a key's authorization: the key's account
        gets the delegation, its nonce moves, and the call runs the delegate's code on the
        account's storage; later calls to it (plain transactions) run it again, and the key
        itself still sends (EIP-3607 does not refuse a delegated sender)."""
        storer = deploy_runtime(chain, assemble(0, "CALLDATALOAD", 0, "SSTORE", "STOP"))
        key = make_key(43)
        eoa = address_of(key)
        chain.apply([], credits((eoa, ETHER)))
        auth = key.sign_authorization({"chainId": CHAIN_ID, "address": storer, "nonce": 0})
        word = (7).to_bytes(32, "big")
        tx = chain.send(BOB, to=eoa, data=word, authorizationList=[auth], gas=100_000)
        assert tx.type == 4
        outcome = chain.apply([tx]).outcomes[0]
        assert outcome.success
        assert chain.account(eoa).code == b"\xef\x01\x00" + storer
        assert chain.account(eoa).nonce == 1
        assert chain.storage(eoa, 0) == 7
        assert chain.storage(storer, 0) == 0
        again = chain.send(CAROL, to=eoa, data=(9).to_bytes(32, "big"), gas=100_000)
        assert chain.apply([again]).outcomes[0].success
        assert chain.storage(eoa, 0) == 9
        assert chain.call(CallMsg(None, eoa, 0, (11).to_bytes(32, "big"), None))[0] == "ok"
        assert chain.call(CallMsg(eoa, storer, 0, word, None))[0] == "ok"  # from it, too
        chain.nonces[eoa] = 1
        spend = chain.send(key, to=address_of(ALICE), value=1, gas=50_000)
        assert chain.apply([spend]).outcomes[0].success
        assert chain.account(eoa).nonce == 2

    def test_an_authorization_for_another_chain_or_nonce_is_skipped(self, chain: Lockstep) -> None:
        storer = deploy_runtime(chain, assemble(0, "CALLDATALOAD", 0, "SSTORE", "STOP"))
        key = make_key(44)
        auths = [
            key.sign_authorization({"chainId": CHAIN_ID + 1, "address": storer, "nonce": 0}),
            key.sign_authorization({"chainId": CHAIN_ID, "address": storer, "nonce": 5}),
        ]
        tx = chain.send(BOB, to=address_of(key), authorizationList=auths, gas=100_000)
        assert chain.apply([tx]).outcomes[0].success  # a plain call to an empty account
        assert chain.account(address_of(key)).code == b""
        assert chain.account(address_of(key)).nonce == 0

    # -- a dev node's impersonated accounts ---------------------------------------------------

    def test_an_impersonated_transaction_runs_as_its_sender(self, chain: Lockstep) -> None:
        """anvil_impersonateAccount: a transaction nobody signed runs as the account named
        in it, paying from it, on both executors."""
        carol = address_of(CAROL)
        nonce = chain.nonces.get(carol, 0)
        unsigned = DynamicFeeTx(CHAIN_ID, nonce, GWEI, 3 * GWEI, 21_000, FRESH, 5, b"")
        tx = decode_impersonated(encode_impersonated(unsigned, carol), CHAIN_ID)
        outcome = chain.apply([tx]).outcomes[0]
        assert outcome.success
        assert chain.account(FRESH).balance == 5
        assert chain.account(carol).nonce == nonce + 1
        assert chain.account(carol).balance < FUNDED - 5

    # -- access lists ------------------------------------------------------------------------

    def test_access_list_names_the_accounts_and_slots_a_call_touches(self, chain: Lockstep) -> None:
        carol = address_of(CAROL)
        # BALANCE(carol), SLOAD(5) of itself, a STATICCALL to the identity precompile.
        runtime = (
            bytes([0x73])
            + carol
            + bytes([0x31, 0x50])  # PUSH20 carol BALANCE POP
            + bytes([0x60, 0x05, 0x54, 0x50])  # PUSH1 5 SLOAD POP
            + bytes([0x60, 0x00] * 4 + [0x60, 0x04, 0x5A, 0xFA, 0x50, 0x00])  # STATICCALL 4
        )
        contract = deploy_runtime(chain, runtime)
        status, (access, gas) = chain.access_list(
            CallMsg(address_of(ALICE), contract, 0, b"", None)
        )
        assert status == "ok"
        # Carol's account; the contract's slot (its account is the recipient's, warm anyway);
        # not the sender, not the precompile.
        assert dict(access) == {carol: (), contract: (5,)}
        assert gas > 21_000 + 2_400 + 1_900  # the list's own cost is in the gas

    def test_access_list_of_a_reverting_call_is_its_revert(self, chain: Lockstep) -> None:
        probe = deploy(chain, deploy_data("FastProbe", 7))
        msg = CallMsg(address_of(ALICE), probe, 0, calldata("failWithReason()"), None)
        status, (kind, _) = chain.access_list(msg)
        assert status == "error"
        assert kind == chain.call(msg)[1][0]

    # -- call traces (debug_traceCall, debug_traceTransaction) -------------------------------

    def test_call_trace_shows_the_nested_call_a_revert_undid(self, chain: Lockstep) -> None:
        probe = deploy(chain, deploy_data("FastProbe", 7))
        frame = chain.trace_call(
            CallMsg(address_of(ALICE), probe, 0, calldata("setThenFail(uint256)", 5), None)
        )
        assert (frame.type, frame.sender, frame.to) == ("CALL", address_of(ALICE), probe)
        assert frame.error == "execution reverted"
        assert frame.output == selector("Custom(uint256)") + word(5)
        (inner,) = frame.calls
        assert (inner.type, inner.sender, inner.to, inner.error) == ("CALL", probe, probe, None)
        assert inner.input == calldata("set(uint256)", 5)
        assert 0 < inner.gas_used < inner.gas
        assert chain.storage(probe, 0) == 7  # a trace changes nothing

    def test_call_trace_names_each_message_by_the_opcode_that_sent_it(
        self, chain: Lockstep
    ) -> None:
        # STATICCALL the identity precompile with 4 bytes of memory, then stop.
        runtime = bytes([0x60, 0x04, 0x60, 0x00] * 2 + [0x60, 0x04, 0x5A, 0xFA, 0x50, 0x00])
        contract = deploy_runtime(chain, runtime)
        frame = chain.trace_call(CallMsg(address_of(ALICE), contract, 0, b"", None))
        (inner,) = frame.calls
        assert (inner.type, inner.sender, inner.value) == ("STATICCALL", contract, None)
        assert inner.to == (4).to_bytes(20, "big") and inner.input == bytes(4)

    def test_transaction_trace_is_its_block_run_again_up_to_it(self, chain: Lockstep) -> None:
        probe = deploy(chain, deploy_data("FastProbe", 7))
        txs = [
            chain.send(BOB, to=probe, data=calldata("set(uint256)", 3)),
            chain.send(BOB, to=probe, data=calldata("swallowFailure()")),
            chain.send(BOB, to=probe, data=calldata("failWithReason()")),
        ]
        result, frames = chain.apply_traced(txs)
        for outcome, frame in zip(result.outcomes, frames, strict=True):
            assert frame.gas_used == outcome.gas_used  # the receipt's, as anvil's top frame
        assert frames[0].calls == () and frames[0].error is None
        (failed,) = frames[1].calls  # given 30,000 gas, it spent them all
        assert (failed.gas, failed.gas_used, failed.error) == (30_000, 30_000, "out of gas")
        assert frames[2].revert_reason == "probe: nope"

    def test_a_deployment_is_traced_as_a_create(self, chain: Lockstep) -> None:
        data = deploy_data("FastProbe", 7)
        tx = chain.send(ALICE, data=data, gas=3_000_000)
        result, (frame,) = chain.apply_traced([tx])
        created = result.outcomes[0].contract_address
        assert (frame.type, frame.to, frame.input) == ("CREATE", created, data)
        assert frame.output == chain.account(created).code

    # -- the outbox --------------------------------------------------------------------------

    def test_release_burns_the_value_and_logs_the_message(self, chain: Lockstep) -> None:
        """The fee is burned with the amount; the message carries the amount alone."""
        carol = address_of(CAROL)
        paid = ETHER + FEE
        tx = chain.send(ALICE, to=OUTBOX_ADDRESS, value=paid, data=release_data(carol))
        outcome = chain.apply([tx]).outcomes[0]
        assert outcome.success
        assert chain.account(OUTBOX_ADDRESS).balance == paid
        price = BASE_FEE + GWEI
        assert chain.account(address_of(ALICE)).balance == FUNDED - paid - outcome.gas_used * price
        assert outcome.logs == (
            Log(
                OUTBOX_ADDRESS,
                (topic(RELEASE), word(0), word(address_of(ALICE))),
                abi_encode(["address", "uint256"], [carol, ETHER]),
            ),
        )

    def test_outbox_fee_is_the_one_the_node_knows(self, chain: Lockstep) -> None:
        assert view(chain, OUTBOX_ADDRESS, "MESSAGE_FEE()") == FEE

    def test_simulated_release_forecasts_the_logs_its_block_emits(self, chain: Lockstep) -> None:
        carol = address_of(CAROL)
        msg = CallMsg(address_of(ALICE), OUTBOX_ADDRESS, ETHER + FEE, release_data(carol), 100_000)
        status, logs = chain.simulate(msg)
        assert chain.account(OUTBOX_ADDRESS).balance == 0  # a simulation changes nothing
        tx = chain.send(ALICE, to=OUTBOX_ADDRESS, value=ETHER + FEE, data=release_data(carol))
        assert (status, logs) == ("ok", chain.apply([tx]).outcomes[0].logs)

    def test_simulating_a_refused_release_reverts(self, chain: Lockstep) -> None:
        msg = CallMsg(address_of(ALICE), OUTBOX_ADDRESS, FEE, release_data(address_of(BOB)), None)
        expected = ("execution reverted", selector("NothingToRelease()"))
        assert chain.simulate(msg) == ("error", expected)

    def test_outbox_numbers_every_message_in_one_sequence(self, chain: Lockstep) -> None:
        bob = address_of(BOB)
        txs = [
            chain.send(ALICE, to=OUTBOX_ADDRESS, value=FEE + 5, data=release_data(bob)),
            chain.send(BOB, to=OUTBOX_ADDRESS, value=FEE, data=reward_data(1, 2, bob, 3)),
            chain.send(CAROL, to=OUTBOX_ADDRESS, value=FEE + 7, data=release_data(bob)),
        ]
        outcomes = chain.apply(txs).outcomes
        assert [o.logs[0].topics[1] for o in outcomes] == [word(0), word(1), word(2)]
        assert view(chain, OUTBOX_ADDRESS, "nextSeq()") == 3
        assert chain.account(OUTBOX_ADDRESS).balance == 3 * FEE + 12

    def test_reward_mint_request_logs_the_message(self, chain: Lockstep) -> None:
        carol = address_of(CAROL)
        data = reward_data(7, 2**32 - 1, carol, 2**256 - 1)
        tx = chain.send(BOB, to=OUTBOX_ADDRESS, value=FEE, data=data)
        outcome = chain.apply([tx]).outcomes[0]
        assert outcome.success
        assert outcome.logs == (
            Log(
                OUTBOX_ADDRESS,
                (topic(REWARD_MINT), word(0), word(address_of(BOB))),
                abi_encode(
                    ["uint32", "uint32", "address", "uint256"], [7, 2**32 - 1, carol, 2**256 - 1]
                ),
            ),
        )

    @pytest.mark.parametrize(
        "value, to, error",
        [
            (0, address_of(CAROL), "WrongMessageFee(uint256,uint256)"),
            (FEE - 1, address_of(CAROL), "WrongMessageFee(uint256,uint256)"),
            (FEE, address_of(CAROL), "NothingToRelease()"),
            (ETHER, ZERO_ADDRESS, "ZeroRecipient()"),
        ],
    )
    def test_rejects_an_invalid_release(
        self, chain: Lockstep, value: int, to: Address, error: str
    ) -> None:
        msg = CallMsg(address_of(ALICE), OUTBOX_ADDRESS, value, release_data(to), None)
        status, (kind, revert_data) = chain.call(msg)
        assert (status, kind, revert_data[:4]) == ("error", "execution reverted", selector(error))
        tx = chain.send(ALICE, to=OUTBOX_ADDRESS, value=value, data=release_data(to))
        outcome = chain.apply([tx]).outcomes[0]
        assert (outcome.success, outcome.logs) == (False, ())
        assert chain.account(OUTBOX_ADDRESS).balance == 0
        assert view(chain, OUTBOX_ADDRESS, "nextSeq()") == 0

    def test_rejects_a_reward_mint_request_for_the_zero_address(self, chain: Lockstep) -> None:
        data = reward_data(1, 1, ZERO_ADDRESS, 0)
        msg = CallMsg(address_of(BOB), OUTBOX_ADDRESS, FEE, data, None)
        assert chain.call(msg) == ("error", ("execution reverted", selector("ZeroRecipient()")))

    def test_rejects_a_plain_transfer_to_the_outbox(self, chain: Lockstep) -> None:
        msg = CallMsg(address_of(ALICE), OUTBOX_ADDRESS, ETHER, b"", None)
        assert chain.call(msg) == ("error", ("execution reverted", b""))
        outcome = chain.apply([chain.send(ALICE, to=OUTBOX_ADDRESS, value=ETHER)]).outcomes[0]
        assert not outcome.success
        assert chain.account(OUTBOX_ADDRESS).balance == 0

    @pytest.mark.parametrize("value", [0, FEE - 1, FEE + 1, ETHER])
    def test_rejects_a_reward_mint_request_that_does_not_pay_the_fee(
        self, chain: Lockstep, value: int
    ) -> None:
        """A free request would be a ZK operation that costs its sender nothing; more than the
        fee would be burned for nothing."""
        data = reward_data(1, 1, address_of(BOB), 0)
        msg = CallMsg(address_of(BOB), OUTBOX_ADDRESS, value, data, None)
        expected = selector("WrongMessageFee(uint256,uint256)")
        status, (kind, revert_data) = chain.call(msg)
        assert (status, kind, revert_data[:4]) == ("error", "execution reverted", expected)
        tx = chain.send(BOB, to=OUTBOX_ADDRESS, value=value, data=data)
        assert not chain.apply([tx]).outcomes[0].success
        assert chain.account(OUTBOX_ADDRESS).balance == 0

    # -- the root oracle ---------------------------------------------------------------------

    def test_root_oracle_storage_layout(self, chain: Lockstep) -> None:
        deliver_roots(chain, range(3))
        message = root_message(2)
        assert chain.storage(ROOT_ORACLE_ADDRESS, 0) == 2
        assert chain.storage(ROOT_ORACLE_ADDRESS, 1 + 2) == int.from_bytes(message.state_root)
        assert chain.storage(ROOT_ORACLE_ADDRESS, 257 + 2) == int.from_bytes(message.nfts_root)
        seen = keccak(message.state_root + (513).to_bytes(32, "big"))
        assert chain.storage(ROOT_ORACLE_ADDRESS, int.from_bytes(seen)) == 3

    def test_root_oracle_views_read_the_delivered_roots(self, chain: Lockstep) -> None:
        deliver_roots(chain, range(2))
        deliver_roots(chain, range(2, 5))
        assert view(chain, ROOT_ORACLE_ADDRESS, "latestHeight()") == 4
        for height in range(5):
            message = root_message(height)
            assert oracle_root(chain, "stateRootAt", height) == ("ok", message.state_root)
            assert oracle_root(chain, "nftsRootAt", height) == ("ok", message.nfts_root)
            assert is_recent(chain, "isRecentStateRoot", message.state_root)
            assert is_recent(chain, "isRecentNftsRoot", message.nfts_root)
        assert not is_recent(chain, "isRecentStateRoot", root_message(4).nfts_root)
        assert not is_recent(chain, "isRecentNftsRoot", root_message(5).nfts_root)

    def test_root_oracle_wraps_around_its_window(self, chain: Lockstep) -> None:
        deliver_roots(chain, range(300))
        oldest = 300 - ROOT_WINDOW
        assert oracle_root(chain, "stateRootAt", 299) == ("ok", root_message(299).state_root)
        assert oracle_root(chain, "stateRootAt", oldest) == ("ok", root_message(oldest).state_root)
        assert oracle_root(chain, "nftsRootAt", oldest) == ("ok", root_message(oldest).nfts_root)
        assert is_recent(chain, "isRecentStateRoot", root_message(oldest).state_root)
        assert not is_recent(chain, "isRecentStateRoot", root_message(oldest - 1).state_root)
        assert not is_recent(chain, "isRecentNftsRoot", root_message(oldest - 1).nfts_root)

    @pytest.mark.parametrize("height", [299 - ROOT_WINDOW, 300, 2**256 - 1])
    def test_rejects_a_height_out_of_the_window(self, chain: Lockstep, height: int) -> None:
        deliver_roots(chain, range(300))
        error = selector("HeightOutOfWindow(uint256,uint256)") + abi_encode(
            ["uint256", "uint256"], [height, 299]
        )
        for name in ("stateRootAt", "nftsRootAt"):
            assert oracle_root(chain, name, height) == ("error", ("execution reverted", error))

    def test_root_stays_recent_for_exactly_the_window(self, chain: Lockstep) -> None:
        deliver_roots(chain, range(6))
        state_root, nfts_root = root_message(5).state_root, root_message(5).nfts_root
        deliver_roots(chain, range(6, 5 + ROOT_WINDOW))
        assert is_recent(chain, "isRecentStateRoot", state_root)
        assert is_recent(chain, "isRecentNftsRoot", nfts_root)
        deliver_roots(chain, [5 + ROOT_WINDOW])
        assert not is_recent(chain, "isRecentStateRoot", state_root)
        assert not is_recent(chain, "isRecentNftsRoot", nfts_root)

    def test_root_seen_again_is_recent_again(self, chain: Lockstep) -> None:
        deliver_roots(chain, range(300))
        again = replace(root_message(300), state_root=root_message(1).state_root)
        chain.apply([], SystemWrites(storage=tuple(compute_root_writes(again))))
        assert is_recent(chain, "isRecentStateRoot", root_message(1).state_root)
        assert not is_recent(chain, "isRecentNftsRoot", root_message(1).nfts_root)

    def test_root_oracle_is_readable_by_a_contract_in_the_same_block(self, chain: Lockstep) -> None:
        # STATICCALL latestHeight() on the oracle and store what it returns in slot 0.
        get = int.from_bytes(selector("latestHeight()"))
        oracle = int.from_bytes(ROOT_ORACLE_ADDRESS)
        reader = deploy_runtime(
            chain,
            assemble(get << 224, 0, "MSTORE", 32, 0, 4, 0, oracle, "GAS", "STATICCALL", "POP")
            + assemble(0, "MLOAD", 0, "SSTORE", "STOP"),
        )
        system = SystemWrites(storage=tuple(compute_root_writes(root_message(77))))
        chain.apply([chain.send(BOB, to=reader)], system)
        assert chain.storage(reader, 0) == 77

    def test_transfer_to_a_new_account_creates_it(self, chain: Lockstep) -> None:
        chain.apply([chain.send(ALICE, to=FRESH, value=5, gas=21_000)])
        assert chain.account(FRESH).balance == 5

    def test_zero_value_transfer_to_a_new_account_creates_nothing(self, chain: Lockstep) -> None:
        before = chain.root
        chain.apply([chain.send(ALICE, to=FRESH, value=0, gas=21_000)])
        assert chain.root != before  # the sender and the coinbase changed; the state roots,
        # compared with py-evm's, show that FRESH was not created

    def test_touching_an_empty_account_removes_it(self, chain: Lockstep) -> None:
        chain.apply([chain.send(ALICE, to=EMPTY_IN_GENESIS, value=0, gas=21_000)])
        assert chain.account(EMPTY_IN_GENESIS).balance == 0

    def test_legacy_and_access_list_transactions(self, chain: Lockstep, probe: Address) -> None:
        legacy = chain.send(BOB, to=FRESH, value=3, gas=21_000, gasPrice=2 * GWEI)
        listed = chain.send(
            CAROL,
            to=probe,
            data=calldata("set(uint256)", 5),
            gasPrice=2 * GWEI,
            accessList=[{"address": "0x" + probe.hex(), "storageKeys": ["0x" + "00" * 32]}],
            type=1,
        )
        result = chain.apply([legacy, listed])
        assert [o.success for o in result.outcomes] == [True, True]
        assert chain.storage(probe, 0) == 5

    # -- fees --------------------------------------------------------------------------------

    def test_max_fee_caps_the_tip(self, chain: Lockstep) -> None:
        tx = chain.send(
            ALICE,
            to=FRESH,
            value=1,
            gas=21_000,
            maxFeePerGas=BASE_FEE + 7,
            maxPriorityFeePerGas=GWEI,
        )
        chain.apply([tx])
        assert chain.account(COINBASE).balance == 21_000 * 7

    def test_zero_tip_leaves_no_empty_coinbase(self, chain: Lockstep) -> None:
        # The fee payment touches the coinbase even when the tip is zero (EIP-161).
        tx = chain.send(
            ALICE, to=FRESH, value=1, gas=21_000, maxFeePerGas=BASE_FEE, maxPriorityFeePerGas=0
        )
        chain.apply([tx])
        assert chain.account(COINBASE).balance == 0

    def test_calldata_floor_prices_data_heavy_transactions(self, chain: Lockstep) -> None:
        # EIP-7623: 2000 non-zero bytes cost 21000 + 16 * 2000 to execute, but at least
        # 21000 + 10 * 4 * 2000.
        tx = chain.send(ALICE, to=FRESH, data=b"\x01" * 2000, gas=200_000)
        outcome = chain.apply([tx]).outcomes[0]
        assert outcome.gas_used == 21_000 + 10 * 4 * 2000

    def test_calldata_floor_above_the_gas_limit_charges_the_difference(
        self, chain: Lockstep
    ) -> None:
        tx = chain.send(ALICE, to=FRESH, data=b"\x01" * 2000, gas=60_000)
        outcome = chain.apply([tx]).outcomes[0]
        assert outcome.gas_used == 101_000  # above the transaction's own limit, as py-evm does

    # -- rejections --------------------------------------------------------------------------

    def test_rejects_a_nonce_gap(self, chain: Lockstep) -> None:
        tx = sign(ALICE, 5, to=FRESH, value=1, gas=21_000)
        result = chain.apply([tx])
        assert result.outcomes == []
        assert "Invalid transaction nonce: Expected 0, but got 5" in result.rejected[0][1]

    def test_rejects_a_sender_without_funds(self, chain: Lockstep) -> None:
        result = chain.apply([sign(DAVE, 0, to=FRESH, value=1, gas=21_000)])
        assert "cannot afford txn gas" in result.rejected[0][1]

    def test_rejects_a_fee_below_the_base_fee(self, chain: Lockstep) -> None:
        chain.base_fee = 5 * GWEI
        result = chain.apply([chain.send(ALICE, to=FRESH, value=1, gas=21_000)])
        assert "lower than block's base fee" in result.rejected[0][1]

    def test_rejects_gas_below_the_intrinsic_cost(self, chain: Lockstep) -> None:
        result = chain.apply([sign(ALICE, 0, to=FRESH, value=1, gas=20_000)])
        assert "Message.gas cannot be negative" in result.rejected[0][1]

    def test_rejected_transaction_leaves_the_block_going(self, chain: Lockstep) -> None:
        bad = sign(ALICE, 9, to=FRESH, value=1, gas=21_000)
        good = chain.send(BOB, to=FRESH, value=1, gas=21_000)
        result = chain.apply([bad, good])
        assert len(result.rejected) == 1 and result.outcomes[0].tx == good

    def test_defers_what_exceeds_the_block_gas_limit(self, chain: Lockstep) -> None:
        chain.gas_limit = 50_000
        first = chain.send(ALICE, to=FRESH, value=1, gas=30_000)
        second = chain.send(BOB, to=FRESH, value=1, gas=30_000)
        result = chain.apply([first, second])
        assert [o.tx for o in result.outcomes] == [first] and result.deferred == [second]

    # -- contracts ---------------------------------------------------------------------------

    @pytest.mark.parametrize("name", ["Probe", "FastProbe"])
    def test_deploy_stores_code_and_constructor_state(self, chain: Lockstep, name: str) -> None:
        probe = deploy(chain, deploy_data(name, 7))
        assert probe == compute_contract_address(address_of(ALICE), 0)
        assert chain.account(probe).code == runtime_code(name)
        assert chain.account(probe).nonce == 1
        assert chain.storage(probe, 0) == 7

    def test_event_carries_indexed_and_dynamic_fields(
        self, chain: Lockstep, probe: Address
    ) -> None:
        tx = chain.send(BOB, to=probe, data=calldata("set(uint256)", 42))
        (log,) = chain.apply([tx]).outcomes[0].logs
        assert log.address == probe
        assert log.topics == (
            topic("ValueSet(address,uint256,bytes)"),
            b"\x00" * 12 + address_of(BOB),
            (42).to_bytes(32, "big"),
        )
        assert log.data == abi_encode(["bytes"], [b"probe"])
        assert chain.storage(probe, 0) == 42

    def test_revert_with_reason_keeps_state_but_charges_gas(
        self, chain: Lockstep, probe: Address
    ) -> None:
        tx = chain.send(BOB, to=probe, data=calldata("failWithReason()"))
        outcome = chain.apply([tx]).outcomes[0]
        assert not outcome.success and 21_000 < outcome.gas_used < 300_000
        assert outcome.logs == ()
        assert chain.account(address_of(BOB)).nonce == 1

    def test_custom_error_reverts(self, chain: Lockstep, probe: Address) -> None:
        tx = chain.send(BOB, to=probe, data=calldata("failCustom(uint256)", 3))
        assert not chain.apply([tx]).outcomes[0].success

    def test_out_of_gas_uses_all_gas(self, chain: Lockstep, probe: Address) -> None:
        tx = chain.send(BOB, to=probe, data=calldata("burnGas()"), gas=200_000)
        outcome = chain.apply([tx]).outcomes[0]
        assert (outcome.success, outcome.gas_used) == (False, 200_000)

    def test_self_call_sets_the_value_as_the_contract(
        self, chain: Lockstep, probe: Address
    ) -> None:
        tx = chain.send(BOB, to=probe, data=calldata("selfCall(uint256)", 9))
        (log,) = chain.apply([tx]).outcomes[0].logs
        assert log.topics[1] == b"\x00" * 12 + probe

    def test_nested_call_undone_by_its_caller(self, chain: Lockstep, fast_probe: Address) -> None:
        tx = chain.send(BOB, to=fast_probe, data=calldata("setThenFail(uint256)", 5))
        outcome = chain.apply([tx]).outcomes[0]
        assert not outcome.success and outcome.logs == ()
        assert chain.storage(fast_probe, 0) == 7

    def test_failed_nested_call_leaves_its_caller_going(
        self, chain: Lockstep, fast_probe: Address
    ) -> None:
        tx = chain.send(BOB, to=fast_probe, data=calldata("swallowFailure()"))
        assert chain.apply([tx]).outcomes[0].success
        assert chain.storage(fast_probe, 0) == 3

    def test_value_to_a_precompile_credits_it(self, chain: Lockstep, probe: Address) -> None:
        tx = chain.send(BOB, to=probe, value=1000, data=calldata("sendToPrecompile()"))
        assert chain.apply([tx]).outcomes[0].success
        assert chain.account(IDENTITY).balance == 1000

    def test_plain_value_reaches_the_receive_function(
        self, chain: Lockstep, probe: Address
    ) -> None:
        chain.apply([chain.send(BOB, to=probe, value=77)])
        assert chain.account(probe).balance == 77

    def test_moves_write_three_slots_and_log(self, chain: Lockstep) -> None:
        bench = deploy(chain, deploy_data("MoveBench"))
        moves = [
            chain.send(player, to=bench, data=calldata("move(uint8)", n % 4), gas=100_000)
            for n in range(3)
            for player in PLAYERS
        ]
        result = chain.apply(moves)
        assert all(o.success and len(o.logs) == 1 for o in result.outcomes)
        assert chain.storage(bench, 2) == len(moves)  # totalMoves

    def test_each_transaction_starts_with_cold_state(self, chain: Lockstep, probe: Address) -> None:
        # Two reads of the same slot in one block: each transaction pays the cold access.
        reads = [chain.send(p, to=probe, data=calldata("value()")) for p in PLAYERS[:2]]
        first, second = chain.apply(reads).outcomes
        assert first.gas_used == second.gas_used

    # -- hand-assembled corners --------------------------------------------------------------

    def test_block_context_opcodes_in_a_transaction(self, chain: Lockstep) -> None:
        ops = ["NUMBER", "TIMESTAMP", "COINBASE", "PREVRANDAO", "GASLIMIT", "CHAINID"]
        ops += ["BASEFEE", "GASPRICE", "BLOBBASEFEE", "SELFBALANCE"]
        runtime = assemble(*(x for i, op in enumerate(ops) for x in (op, i, "SSTORE")), "STOP")
        context = deploy_runtime(chain, runtime)
        chain.apply([chain.send(BOB, to=context, value=3)])
        assert chain.storage(context, 6) == BASE_FEE
        assert chain.storage(context, 7) == BASE_FEE + GWEI

    def test_blockhash_reads_recent_blocks(self, chain: Lockstep) -> None:
        runtime = assemble(1, "NUMBER", "SUB", "BLOCKHASH", 0, "SSTORE", 300, "BLOCKHASH", 1)
        runtime += assemble("SSTORE", "STOP")
        reader = deploy_runtime(chain, runtime)
        chain.apply([chain.send(BOB, to=reader)])
        assert chain.storage(reader, 0) == int.from_bytes(chain.hashes[-2], "big")

    def test_transient_storage_ends_with_the_transaction(self, chain: Lockstep) -> None:
        # TLOAD(0) is stored at slot (1 + it), then TSTORE(0, 1): a fresh transaction
        # always writes slot 1.
        runtime = assemble(1, 0, "TLOAD", 1, "ADD", "SSTORE", 1, 0, "TSTORE", "STOP")
        counter = deploy_runtime(chain, runtime)
        chain.apply([chain.send(p, to=counter) for p in PLAYERS[:3]])
        assert chain.storage(counter, 1) == 1

    def test_contract_creating_a_contract(self, chain: Lockstep) -> None:
        child = deployer_of(assemble(42, 0, "SSTORE", "STOP"))
        # The factory copies the child's init code (after its own 14 bytes) and CREATEs it.
        factory = assemble(len(child), 14, 0, "CODECOPY", len(child), 0, 0, "CREATE")
        factory += assemble(0, "SSTORE", "STOP")
        assert len(factory) == 14
        address = deploy_runtime(chain, factory + child)
        chain.apply([chain.send(BOB, to=address)])
        created = compute_contract_address(address, 1)
        assert chain.storage(address, 0) == int.from_bytes(created, "big")

    def test_selfdestruct_in_the_creating_transaction_removes_the_contract(
        self, chain: Lockstep
    ) -> None:
        init = assemble(int.from_bytes(address_of(CAROL), "big"), "SELFDESTRUCT")
        tx = chain.send(ALICE, data=init, value=1234, gas=200_000)
        chain.apply([tx])
        created = compute_contract_address(address_of(ALICE), 0)
        assert chain.account(created).balance == 0 and chain.account(created).code == b""
        assert chain.account(address_of(CAROL)).balance == FUNDED + 1234

    def test_selfdestruct_later_only_moves_the_balance(self, chain: Lockstep) -> None:
        runtime = assemble(int.from_bytes(address_of(CAROL), "big"), "SELFDESTRUCT")
        doomed = deploy_runtime(chain, runtime)
        chain.apply([chain.send(BOB, to=doomed, value=99)])
        assert chain.account(doomed).code == runtime
        assert chain.account(doomed).balance == 0

    def test_call_to_a_bls_precompile(self, chain: Lockstep) -> None:
        tx = chain.send(BOB, to=BLS_G1ADD, data=b"\x00" * 256, gas=100_000)
        chain.apply([tx])

    def test_rejects_oversized_init_code(self, chain: Lockstep) -> None:
        tx = chain.send(ALICE, data=b"\x00" * (2 * 24_576 + 1), gas=2_000_000)
        assert "max initcode size exceeded" in chain.apply([tx]).rejected[0][1]

    def test_init_code_word_cost_counts_as_execution(self, chain: Lockstep) -> None:
        # 53000 + 4 * 100 intrinsic: enough for py-evm's intrinsic gas, not for the init
        # code's word cost on top of it.
        tx = chain.send(ALICE, data=b"\x00" * 100, gas=53_000 + 400 + 1)
        outcome = chain.apply([tx]).outcomes[0]
        assert not outcome.success

    # -- eth_call and eth_estimateGas --------------------------------------------------------

    def test_call_reads_state(self, chain: Lockstep, probe: Address) -> None:
        status, (output, _) = chain.call(
            CallMsg(address_of(BOB), probe, 0, calldata("value()"), None)
        )
        assert status == "ok" and int.from_bytes(output, "big") == 7

    def test_call_on_py_evm_past_its_time_limit_is_stopped(self, chain: Lockstep) -> None:
        """A call with state overrides runs on py-evm on either executor: an endless loop
        with the block's gas is stopped by the time limit, not run to its out-of-gas."""
        loop = Address(b"\x0a" * 20)
        overrides = ((loop, AccountOverride(code=bytes.fromhex("5b600056"))),)
        msg = CallMsg(address_of(BOB), loop, 0, b"", 30_000_000)
        with time_limit(0.05), pytest.raises(CallTimedOut, match="time limit"):
            chain.executor.call(chain.root, chain.head_env(), msg, overrides)
        short = replace(msg, gas=100_000)  # without a limit: out of gas, as ever
        with pytest.raises(ExecutionError) as failed:
            chain.executor.call(chain.root, chain.head_env(), short, overrides)
        assert not isinstance(failed.value, CallTimedOut)

    def test_call_changes_nothing(self, chain: Lockstep, probe: Address) -> None:
        chain.call(CallMsg(address_of(BOB), probe, 0, calldata("set(uint256)", 1), None))
        assert chain.storage(probe, 0) == 7

    def test_call_sees_the_block_with_a_zero_base_fee(self, chain: Lockstep) -> None:
        probe = deploy(chain, deploy_data("Probe", 7))
        _, (output, _) = chain.call(CallMsg(None, probe, 0, calldata("getBlockInfo()"), None))
        assert int.from_bytes(output[:32], "big") == chain.height
        assert int.from_bytes(output[96:128], "big") == 0

    def test_call_reports_revert_data(self, chain: Lockstep, probe: Address) -> None:
        status, (kind, data) = chain.call(
            CallMsg(None, probe, 0, calldata("failWithReason()"), None)
        )
        assert (status, kind) == ("error", "execution reverted")
        assert data.startswith(bytes.fromhex("08c379a0"))

    def test_call_without_funds_for_the_value_fails(self, chain: Lockstep, probe: Address) -> None:
        status, _ = chain.call(CallMsg(address_of(DAVE), probe, 1, b"", None))
        assert status == "error"

    def test_call_with_gas_below_the_intrinsic_cost_fails(
        self, chain: Lockstep, probe: Address
    ) -> None:
        status, _ = chain.call(CallMsg(address_of(BOB), probe, 0, calldata("value()"), 1000))
        assert status == "error"

    def test_call_deploying_returns_the_runtime_code(self, chain: Lockstep) -> None:
        status, (output, _) = chain.call(
            CallMsg(address_of(BOB), None, 0, deploy_data("FastProbe", 1), None)
        )
        assert status == "ok" and output == runtime_code("FastProbe")

    def test_estimate_gas_of_a_call_and_a_deployment(self, chain: Lockstep, probe: Address) -> None:
        status, gas = chain.estimate(
            CallMsg(address_of(BOB), probe, 0, calldata("selfCall(uint256)", 4), None)
        )
        assert status == "ok" and gas > 21_000
        status, _ = chain.estimate(CallMsg(address_of(BOB), None, 0, deploy_data("Probe", 1), None))
        assert status == "ok"

    def test_estimate_gas_of_a_failing_call(self, chain: Lockstep, probe: Address) -> None:
        status, _ = chain.estimate(CallMsg(None, probe, 0, calldata("burnGas()"), 500_000))
        assert status == "error"

    # -- a long random run -------------------------------------------------------------------

    @settings(
        max_examples=30,
        deadline=None,
        # One test method, run by a subclass per executor: sharing examples between them
        # (what this health check warns about) is wanted, every executor must pass them all.
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.function_scoped_fixture,
            HealthCheck.differing_executors,
        ],
    )
    @given(data=st.data())
    def test_random_blocks_agree(self, data: st.DataObject) -> None:
        chain = start_chain(self.executor_class)
        contracts = random_contracts(chain)
        # Probe's transactions make a revm block run on py-evm: leave them out of most runs,
        # so that most blocks compare revm's own execution.
        with_probe = data.draw(st.integers(0, 3), label="with Probe") == 0
        txs_strategy = random_tx(chain, contracts, with_probe)
        for zk_height in range(data.draw(st.integers(1, 6), label="blocks")):
            txs = data.draw(st.lists(txs_strategy, max_size=12), label="txs")
            chain.apply(txs, data.draw(random_system_writes(zk_height), label="system"))


# -- random transactions -----------------------------------------------------------------------

SENDERS = [ALICE, BOB, CAROL, DAVE, *PLAYERS[:3]]
SHA256 = Address((2).to_bytes(20, "big"))
TARGETS = [FRESH, EMPTY_IN_GENESIS, IDENTITY, COINBASE, SHA256, address_of(CAROL)]
GAS_LIMITS = [21_000, 23_000, 30_000, 45_000, 60_000, 120_000, 1_500_000]


def random_contracts(chain: Lockstep) -> dict[str, Address]:
    return {
        name: deploy(chain, deploy_data(name, *args))
        for name, args in (("Probe", (1,)), ("FastProbe", (1,)), ("MoveBench", ()))
    }


def random_calls(contracts: dict[str, Address], with_probe: bool) -> list[tuple[Any, bytes]]:
    probe_calls = [
        calldata("set(uint256)", 3),
        calldata("set(uint256)", 0),
        calldata("failWithReason()"),
        calldata("failCustom(uint256)", 1),
        calldata("burnGas()"),
        calldata("selfCall(uint256)", 11),
        calldata("deposit()"),
        calldata("sendToPrecompile()"),
        calldata("setThenFail(uint256)", 4),
        calldata("swallowFailure()"),
        calldata("value()"),
        b"",
    ]
    bench = contracts["MoveBench"]
    calls: list[tuple[Any, bytes]] = [(contracts["FastProbe"], data) for data in probe_calls]
    calls += [
        (bench, calldata("move(uint8)", 1)),
        (bench, calldata("move(uint8)", 6)),
        (bench, calldata("position(address)", "0x" + "11" * 20)),
        (None, deploy_data("FastProbe", 5)),
        (None, deployer_of(assemble(1, 0, "SSTORE", "STOP"))),
        (None, b""),
    ]
    calls += [
        (OUTBOX_ADDRESS, release_data(address_of(BOB))),
        (OUTBOX_ADDRESS, release_data(ZERO_ADDRESS)),
        (OUTBOX_ADDRESS, reward_data(1, 2, address_of(CAROL), 3)),
        (ROOT_ORACLE_ADDRESS, calldata("stateRootAt(uint256)", 0)),
    ]
    calls += [(t, b"") for t in TARGETS] + [(t, b"\x00\x01" * 40) for t in TARGETS[:5]]
    if with_probe:
        calls += [(contracts["Probe"], data) for data in probe_calls[:8]]
        calls += [(None, deploy_data("Probe", 2))]
    return calls


def random_system_writes(zk_height: int) -> st.SearchStrategy[SystemWrites]:
    """Now and then a credit, the roots of one more ZK block, or both."""
    credit = st.tuples(st.sampled_from([FRESH, address_of(DAVE), *TARGETS]), st.integers(0, ETHER))
    roots = st.just(tuple(compute_root_writes(root_message(zk_height))))
    return st.builds(
        SystemWrites,
        st.lists(credit, max_size=2).map(tuple),
        st.one_of(st.just(()), roots),
    )


def random_tx(
    chain: Lockstep, contracts: dict[str, Address], with_probe: bool
) -> st.SearchStrategy[Any]:
    calls = st.sampled_from(random_calls(contracts, with_probe))
    listed = contracts["FastProbe"]

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        sender = draw(st.sampled_from(SENDERS))
        to, data = draw(calls)
        fields: dict[str, Any] = {
            "to": to,
            "data": data,
            "value": draw(st.sampled_from([0, 0, 1, ETHER])),
            "gas": draw(st.sampled_from(GAS_LIMITS)),
        }
        fee = draw(st.sampled_from(["tip", "no tip", "capped", "legacy", "access list"]))
        if fee in ("legacy", "access list"):
            fields["gasPrice"] = draw(st.sampled_from([BASE_FEE, 2 * BASE_FEE]))
        else:
            max_fee = BASE_FEE + 10 if fee == "capped" else 3 * GWEI
            tip = 0 if fee == "no tip" else GWEI
            fields.update(maxFeePerGas=max_fee, maxPriorityFeePerGas=tip)
        if fee == "access list":
            slot = "0x" + draw(st.sampled_from([0, 1, 7])).to_bytes(32, "big").hex()
            fields.update(
                type=1, accessList=[{"address": "0x" + listed.hex(), "storageKeys": [slot]}]
            )
        if draw(st.integers(0, 19)) == 0:  # now and then a nonce the chain does not expect
            return sign(sender, draw(st.integers(0, 30)), **fields)
        return chain.send(sender, **fields)

    return build()
