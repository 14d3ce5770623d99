"""Submission agents (chain/l1/agent.py) on a real anvil, reading a chain of proven blocks from
memory instead of a node: they post each block with operations once, in order, in their own
slot; they wait for proofs, for their slot and for their own pending transaction; losing a
race is an outcome, not an error; and a new agent (a restart) resumes from what L1 says.

The chain: nine proven transfers from genesis in ZK blocks 2, 3, 6, 7 and 11 (the heights
between are empty, as most ZK blocks are). tests/integration/test_settlement.py runs agents
against real nodes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount
from web3 import Web3

from chain.l1.agent import Attestation, Outcome, SettlementBlock, SubmissionAgent
from chain.l1.attestation import BlockHeader, attest_block, list_statements
from chain.l1.calldata import SettledOp, StateRoot
from chain.l1.config import SlotSchedule
from chain.l1.deploy import deploy_contracts
from chain.l1.rollup import RollupClient
from chain.testing.proven_blocks import get_pre_root, get_transfer_chain
from chain.testing.settlement_gas import dev_sequencer_keys, sign_ops
from chain.types import Height
from chain.zk.signing import SigningDomain
from tests.integration.support import dev_account

SCHEDULE = SlotSchedule(slot_blocks=3, grace_blocks=5)
BLOCK_OPS = {2: (0, 2), 3: (2, 3), 6: (3, 6), 7: (6, 7), 11: (7, 9)}  # height → ops [start, end)
HEIGHTS = sorted(BLOCK_OPS)
STREAM_TIMEOUT_S = 60.0


class MemorySource:
    """The proven chain, each block ready once `reveal` has reached it (its proofs are in)."""

    def __init__(self) -> None:
        self.chain = get_transfer_chain(BLOCK_OPS[HEIGHTS[-1]][1])
        self.ready: set[int] = set()
        self.lock = threading.Lock()
        self.domain: SigningDomain | None = None  # the rollup the sequencer signs for

    def reveal(self, *heights: int) -> None:
        with self.lock:
            self.ready.update(heights or HEIGHTS)

    def get_next_height(self, after: Height) -> Height | None:
        return next((Height(h) for h in HEIGHTS if h > after), None)

    def explain_wait(self) -> str | None:
        return None

    def get_settlement_block(self, height: Height) -> SettlementBlock | None:
        start, end = BLOCK_OPS[height]
        ops: tuple[SettledOp, ...] = self.chain.ops[start:end]
        with self.lock:
            unproven = 0 if height in self.ready else len(ops)
        pre_root = get_pre_root(self.chain, start)
        return SettlementBlock(
            height,
            pre_root,
            () if unproven else ops,
            len(ops),
            unproven,
            attestation=self.attest(height, pre_root, ops),
            signatures=sign_ops(self.domain, ops) if self.domain is not None else b"",
        )

    def attest(
        self, height: Height, pre_root: StateRoot, ops: tuple[SettledOp, ...]
    ) -> Attestation:
        """The sequencer's signature, as the node gives it: settlement number = the block's
        place among those with operations, its height for a timestamp (never decreasing)."""
        assert self.domain is not None
        number = HEIGHTS.index(height) + 1
        header = BlockHeader(height, height, pre_root)
        attested = attest_block(
            self.domain, number, header, list_statements(ops), dev_sequencer_keys()
        )
        return Attestation(number, header.timestamp, attested.attestation)

    @property
    def final_root(self) -> StateRoot:
        return self.chain.ops[BLOCK_OPS[HEIGHTS[-1]][1] - 1].post_root


@pytest.fixture(scope="module")
def source_chain() -> None:
    get_transfer_chain(BLOCK_OPS[HEIGHTS[-1]][1])  # prove once per module


@pytest.fixture
def source(source_chain: None) -> MemorySource:
    return MemorySource()


@pytest.fixture
def agent_keys() -> tuple[LocalAccount, LocalAccount]:
    return dev_account(4), dev_account(5)


@pytest.fixture
def rollup_address(
    w3: Web3, deployer: LocalAccount, source: MemorySource, agent_keys: tuple[LocalAccount, ...]
) -> str:
    deployment = deploy_contracts(
        w3,
        deployer,
        source.chain.pre_root,
        agents=[key.address for key in agent_keys],
        schedule=SCHEDULE,
    )
    return deployment.rollup


@pytest.fixture
def solo_address(
    w3: Web3, deployer: LocalAccount, source: MemorySource, agent_keys: tuple[LocalAccount, ...]
) -> str:
    """A rollup whose one agent (every slot) is the first key."""
    deployment = deploy_contracts(
        w3, deployer, source.chain.pre_root, agents=[agent_keys[0].address], schedule=SCHEDULE
    )
    return deployment.rollup


def make_agent(w3: Web3, address: str, key: LocalAccount, source: MemorySource) -> SubmissionAgent:
    rollup = RollupClient(w3, address, key)  # type: ignore[arg-type]
    source.domain = rollup.get_domain()
    return SubmissionAgent(source, rollup, poll_s=0.05, retry_s=0.2)


def mine(w3: Web3, blocks: int = 1) -> None:
    w3.provider.make_request("anvil_mine", [hex(blocks)])  # type: ignore[arg-type]


def mine_until_slot_of(rollup: RollupClient, agent: str) -> None:
    """Until the next block is in `agent`'s slot."""
    while rollup.get_slot_agent(rollup.w3.eth.block_number + 1) != agent:
        mine(rollup.w3)


def assert_settled_once_in_order(rollup: RollupClient, source: MemorySource) -> None:
    settlements = rollup.list_settlements()
    assert [s.height for s in settlements] == HEIGHTS, "a block lost, doubled or out of order"
    assert rollup.get_settled_root() == source.final_root


# -- one agent --------------------------------------------------------------------------------


def test_agent_settles_each_block_with_ops_once_in_order(
    w3: Web3, solo_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    agent = make_agent(w3, solo_address, agent_keys[0], source)
    source.reveal()
    steps = [agent.step() for _ in range(len(HEIGHTS) + 1)]
    assert [s.outcome for s in steps] == [Outcome.SUBMITTED] * len(HEIGHTS) + [Outcome.IDLE]
    assert [s.height for s in steps[:-1]] == HEIGHTS
    assert all(s.gas > 0 for s in steps[:-1])
    assert_settled_once_in_order(agent.rollup, source)


def test_agent_waits_for_every_proof_of_the_next_block(
    w3: Web3, solo_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    agent = make_agent(w3, solo_address, agent_keys[0], source)
    source.reveal(3)  # block 3 is ready, but block 2 comes first
    step = agent.step()
    assert (step.outcome, step.height) == (Outcome.UNPROVEN, 2)
    assert agent.rollup.get_settled_height() == 0


def test_agent_waits_for_its_slot(
    w3: Web3, rollup_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    first, second = (make_agent(w3, rollup_address, key, source) for key in agent_keys)
    source.reveal()
    mine_until_slot_of(first.rollup, first.address)
    step = second.step()
    assert (step.outcome, step.height) == (Outcome.SLOT, 2)
    assert first.address in step.detail
    assert second.rollup.get_settled_height() == 0


def test_agent_waits_for_its_own_pending_transaction(
    w3: Web3, solo_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    """A transaction of the agent's is not mined yet (a killed run's submission, say): the
    agent sends nothing over it."""
    agent = make_agent(w3, solo_address, agent_keys[0], source)
    source.reveal()
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        tx = {
            "to": agent.address,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 100 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "nonce": w3.eth.get_transaction_count(agent.address),
            "chainId": w3.eth.chain_id,
        }
        signed = agent_keys[0].sign_transaction(tx)  # type: ignore[arg-type]
        w3.eth.send_raw_transaction(signed.raw_transaction)
        assert agent.step().outcome is Outcome.PENDING
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
        mine(w3)
    assert agent.step().outcome is Outcome.SUBMITTED


def test_losing_a_race_is_an_outcome_not_an_error(
    w3: Web3, rollup_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    """Both agents read L1 before either submits (the grace is over, so both may): the second
    finds the block settled."""
    first, second = (make_agent(w3, rollup_address, key, source) for key in agent_keys)
    source.reveal()
    mine(w3, SCHEDULE.grace_blocks + 1)
    seen = second.rollup.get_settled_state()
    block = source.get_settlement_block(Height(2))
    assert block is not None
    assert first.submit(first.rollup.get_settled_state(), block).outcome is Outcome.SUBMITTED
    step = second.submit(seen, block)
    assert (step.outcome, step.height) == (Outcome.RACED, 2)
    assert "BlockAlreadySettled" in step.detail


def test_agent_sends_nothing_to_a_rollup_of_another_chain(
    w3: Web3, deployer: LocalAccount, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    """A rollup of another chain (another genesis root): the agent sends nothing."""
    other = deploy_contracts(
        w3, deployer, StateRoot(12345), agents=[agent_keys[0].address], schedule=SCHEDULE
    )
    agent = make_agent(w3, other.rollup, agent_keys[0], source)
    source.reveal()
    step = agent.step()
    assert (step.outcome, step.height) == (Outcome.MISMATCH, 2)
    assert agent.rollup.get_settled_height() == 0


def test_a_new_agent_resumes_from_what_l1_says(
    w3: Web3, solo_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    """An agent settles two blocks and stops; a new one with the same key (a restart, no
    state carried over) goes on from the third."""
    source.reveal()
    before = make_agent(w3, solo_address, agent_keys[0], source)
    assert [before.step().height for _ in range(2)] == HEIGHTS[:2]
    after = make_agent(w3, solo_address, agent_keys[0], source)
    while after.step().outcome is not Outcome.IDLE:
        pass
    assert [s.height for s in after.submitted] == HEIGHTS[2:]
    assert_settled_once_in_order(after.rollup, source)


# -- two agents -------------------------------------------------------------------------------


def test_two_agents_take_turns_by_slot(
    w3: Web3, rollup_address: str, agent_keys: tuple[LocalAccount, ...], source: MemorySource
) -> None:
    """A block is proven every few L1 blocks; both agents look after each: whoever holds the
    slot settles it, the other waits."""
    agents = [make_agent(w3, rollup_address, key, source) for key in agent_keys]
    for height in HEIGHTS:
        source.reveal(height)
        holder = agents[0].rollup.get_slot_agent(w3.eth.block_number + 1)
        waiting, settling = sorted(agents, key=lambda agent: agent.address == holder)
        assert (waiting.step().outcome, settling.step().outcome) == (
            Outcome.SLOT,
            Outcome.SUBMITTED,
        )
        mine(w3, 2)  # within the grace: the next block is again the slot's agent's alone
    assert all(agent.submitted for agent in agents), "one agent settled everything"
    assert_settled_once_in_order(agents[0].rollup, source)


@pytest.fixture
def l1_clock(w3: Web3) -> Iterator[None]:
    """L1 time passes: a block every 50 ms besides the transactions' own."""
    stop = threading.Event()

    def tick() -> None:
        while not stop.wait(0.05):
            mine(w3)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def test_two_running_agents_settle_a_stream_with_nothing_lost_or_doubled(
    l1_url: str,
    rollup_address: str,
    agent_keys: tuple[LocalAccount, ...],
    source: MemorySource,
    l1_clock: None,
) -> None:
    """Both agents run (threads) while blocks are proven one after another and slots turn
    every 150 ms: each block settles exactly once, in order."""
    # An HTTP client per thread, as two agent processes would have.
    agents = [
        make_agent(Web3(Web3.HTTPProvider(l1_url)), rollup_address, key, source)
        for key in agent_keys
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=a.run, args=(stop,), daemon=True) for a in agents]
    for thread in threads:
        thread.start()
    try:
        for height in HEIGHTS:
            source.reveal(height)
            time.sleep(0.3)
        deadline = time.monotonic() + STREAM_TIMEOUT_S
        while agents[0].rollup.get_settled_height() < HEIGHTS[-1]:
            assert time.monotonic() < deadline, "the stream did not settle"
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
    submitted = sorted(s.height for agent in agents for s in agent.submitted)
    assert submitted == HEIGHTS
    assert_settled_once_in_order(agents[0].rollup, source)
