"""The game's contract (contracts/fast/Arena.sol) on a real node, through the game's SDK
(game/arena.py): a pass holder takes a seat with a proof made here, its session key moves
without prompts, the chain refuses illegal moves and joins by name, items score, and the end
of a round sends rewards to the ZK chain, which mints them to the winners."""

from __future__ import annotations

import asyncio
import time
from functools import reduce
from random import Random

import pytest
from eth_account import Account
from web3 import Web3

from chain.client.pass_proof import prove_pass
from chain.client.zk import ZkClient
from chain.fast.system import OUTBOX_ADDRESS, OUTBOX_MESSAGE_FEE_WEI
from chain.testing.node_process import NodeProcess
from chain.zk.genesis import GAME_PASS_COLLECTION, REWARD_COLLECTION
from game.arena import (
    ENTRY_FEE_WEI,
    JOIN_GAS,
    SESSION_ALLOWANCE_WEI,
    Arena,
    Refused,
    Seat,
    deploy_arena,
    hand_rewards_to,
)
from game.board import (
    DOWN,
    LEFT,
    RIGHT,
    UP,
    WIDTH,
    ArenaEvent,
    Board,
    Moved,
    apply_event,
    compute_path,
)
from game.bots import DIFFICULTIES, run_bot
from game.crew import TOP_UP_SEATS, top_up
from game.feed import PENDING_TTL_S, BoardFollower, follow_arena
from game.socket import ChainSocket
from tests.conftest import NodeFactory
from tests.integration.support import dev_account, rpc_result

ZK_INTERVAL_S = 0.05
PLAYERS = (1, 2)  # dev accounts holding passes 0 and 1
STRANGER = 3  # holds no pass
DEPLOYER = 8
SHORT_ROUND_S = 15
BOT_ROUND_S = 8
MESSAGE_TIMEOUT_S = 30.0

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def node(module_node_factory: NodeFactory) -> NodeProcess:
    node = module_node_factory("--zk-interval", str(ZK_INTERVAL_S), "--no-prover")
    minter = ZkClient(node.zk_http, dev_account(0).key)
    for token, account in enumerate(PLAYERS):
        player = zk_client(node, account)
        minter.wait(minter.mint(GAME_PASS_COLLECTION, player.address, metadata=token))
        player.wait(player.register_key())
    return node


@pytest.fixture(scope="module")
def arena(node: NodeProcess) -> Arena:
    """A round long enough never to end during the module."""
    return deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=3600)


def zk_client(node: NodeProcess, account: int) -> ZkClient:
    return ZkClient(node.zk_http, dev_account(account).key)


def seat(node: NodeProcess, arena: Arena, account: int, token: int) -> Seat:
    return arena.join(dev_account(account).key, zk_client(node, account), token)


def read_board(arena: Arena) -> Board:
    return reduce(apply_event, arena.list_events(), Board())


def step(arena: Arena, seat: Seat, direction: int) -> int:
    """Send one move and wait for it: the receipt's status (0: the chain refused it)."""
    tx_hash = arena.w3.eth.send_raw_transaction(seat.sign_move(direction))
    return int(arena.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)["status"])


def walk(arena: Arena, seat: Seat, target: tuple[int, int]) -> None:
    path = compute_path(read_board(arena), seat.address, target)
    assert path is not None, f"no way to {target}"
    for direction in path:
        assert step(arena, seat, direction) == 1


def collect_one(arena: Arena, seat: Seat) -> int:
    """Walk to the nearest item; returns the score after."""
    board = read_board(arena)
    paths = [compute_path(board, seat.address, cell) for cell in board.items.values()]
    path = min((p for p in paths if p is not None), key=len)
    for direction in path:
        assert step(arena, seat, direction) == 1
    return read_board(arena).players[seat.address.lower()].score


@pytest.fixture(scope="module")
def seats(node: NodeProcess, arena: Arena) -> dict[int, Seat]:
    """Both pass holders seated in the long round (account → seat)."""
    return {account: seat(node, arena, account, token) for token, account in enumerate(PLAYERS)}


# -- joining -------------------------------------------------------------------------------


def test_a_pass_holder_takes_a_seat_and_its_session_key_is_funded(
    arena: Arena, seats: dict[int, Seat]
) -> None:
    player = seats[1]
    board = read_board(arena)
    assert board.round == player.round == 1
    assert board.ends > time.time()  # the first join started the clock
    me = board.players[player.address.lower()]
    assert me.payout == dev_account(1).address and me.score == 0
    assert len(board.items) == 6 and me.cell not in board.items.values()
    session_balance = arena.w3.eth.get_balance(Web3.to_checksum_address(player.address))
    assert session_balance == SESSION_ALLOWANCE_WEI
    # The session key moves with no prompt: one signed transaction per step.
    direction = next(d for d in (UP, RIGHT, DOWN, LEFT) if arena.explain_move(player, d) is None)
    assert step(arena, player, direction) == 1
    assert read_board(arena).players[player.address.lower()].cell != me.cell


def test_join_reports_its_progress(node: NodeProcess) -> None:
    arena = deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=3600)
    steps: list[str] = []
    arena.join(dev_account(1).key, zk_client(node, 1), 0, progress=steps.append)
    assert [s.split()[0] for s in steps] == ["proving", "waiting", "joining"]


def test_rejects_a_second_seat_for_one_pass(
    node: NodeProcess, arena: Arena, seats: dict[int, Seat]
) -> None:
    with pytest.raises(Refused) as refused:
        seat(node, arena, 2, 1)
    assert refused.value.name == "NullifierUsed"


def test_rejects_a_player_without_a_pass(node: NodeProcess, arena: Arena) -> None:
    stranger = zk_client(node, STRANGER)
    stranger.wait(stranger.register_key())
    with pytest.raises(Refused) as refused:
        arena.join(dev_account(STRANGER).key, stranger, 0)  # pass 0 is account 1's
    assert refused.value.name == "NoPassProof"
    assert "cannot prove pass 0" in str(refused.value)


def test_rejects_a_join_for_another_round_or_without_the_fee(arena: Arena) -> None:
    key = dev_account(1).key
    session = Account.create().address
    args = [b"\x00" * 32, arena.current_round() + 1, session, 1, b"\x00" * 256, session, b""]
    with pytest.raises(Refused) as refused:
        arena.transact(key, "join", args, JOIN_GAS, value=ENTRY_FEE_WEI)
    assert refused.value.name == "WrongRound"
    args[1] = arena.current_round()
    with pytest.raises(Refused) as refused:
        arena.transact(key, "join", args, JOIN_GAS, value=0)
    assert refused.value.name == "WrongEntryFee"


def test_rejects_a_copied_pass_proof_with_another_payout(node: NodeProcess) -> None:
    # A thief copies a join's proof and session key (from the mempool, or a join that
    # reverted) and names its own payout: the session key signed the player's alone.
    arena = deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=3600)
    player, thief = zk_client(node, 1), dev_account(STRANGER)
    session = Account.create()
    round_ = arena.current_round()
    proof = prove_pass(player, GAME_PASS_COLLECTION, 0, round_, session.address)
    arena.wait_for_root(proof)
    signed = arena.sign_payout(session, round_, player.address)
    copied = [proof.root, round_, session.address, proof.nullifier, proof.proof]
    thiefs_own = arena.sign_payout(Account.from_key(thief.key), round_, thief.address)
    for signature in (signed, thiefs_own, b"", signed[:64]):
        with pytest.raises(Refused) as refused:
            arena.transact(
                thief.key, "join", [*copied, thief.address, signature], JOIN_GAS, ENTRY_FEE_WEI
            )
        assert refused.value.name == "PayoutNotSigned"
    # Copied whole, the join seats the player's session key with the player's payout.
    arena.transact(thief.key, "join", [*copied, player.address, signed], JOIN_GAS, ENTRY_FEE_WEI)
    assert read_board(arena).players[session.address.lower()].payout == player.address


# -- moving --------------------------------------------------------------------------------


def refusal(arena: Arena, seat: Seat, direction: int) -> str | None:
    refused = arena.explain_move(seat, direction)
    return None if refused is None else refused.name


def test_rejects_moves_from_a_key_with_no_seat(arena: Arena, seats: dict[int, Seat]) -> None:
    stranger = Seat(arena, Account.create(), arena.current_round())
    arena.send_value(dev_account(DEPLOYER).key, stranger.address, 10**16)
    assert refusal(arena, stranger, UP) == "NotSeated"
    assert step(arena, stranger, UP) == 0  # refused on chain, not only by the client


def test_rejects_moves_onto_a_player_off_the_board_or_nowhere(
    arena: Arena, seats: dict[int, Seat]
) -> None:
    me, them = seats[1], seats[2]
    board = read_board(arena)
    other = board.players[them.address.lower()].cell
    beside = next(
        c
        for c in ((other[0] - 1, other[1]), (other[0] + 1, other[1]))
        if 0 <= c[0] < WIDTH and c not in board.items.values()
    )
    walk(arena, me, beside)
    into = RIGHT if beside[0] < other[0] else LEFT
    assert refusal(arena, me, into) == "Blocked"
    assert step(arena, me, into) == 0
    assert read_board(arena).players[me.address.lower()].cell == beside
    assert refusal(arena, me, 4) == "BadDirection"
    walk(arena, me, (beside[0], 0))
    assert refusal(arena, me, UP) == "OffBoard"
    assert step(arena, me, UP) == 0


def test_stepping_on_an_item_scores_and_the_item_moves(
    arena: Arena, seats: dict[int, Seat]
) -> None:
    me = seats[2]
    before = read_board(arena)
    score = before.players[me.address.lower()].score
    assert collect_one(arena, me) == score + 1
    after = read_board(arena)
    here = after.players[me.address.lower()].cell
    assert here in before.items.values() and here not in after.items.values()
    assert len(after.items) == 6


# -- the end of a round --------------------------------------------------------------------


def test_round_end_mints_rewards_to_the_winners_on_the_zk_chain(node: NodeProcess) -> None:
    arena = deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=SHORT_ROUND_S)
    hand_rewards_to(zk_client(node, 0), arena.address)
    first, second = (seat(node, arena, account, token) for token, account in enumerate(PLAYERS))
    collect_one(arena, first)
    collect_one(arena, first)
    collect_one(arena, second)
    with pytest.raises(Refused) as refused:
        arena.end_round(dev_account(DEPLOYER).key)
    assert refused.value.name == "RoundNotOver"

    ends = read_board(arena).ends
    time.sleep(max(0.0, ends + 1 - time.time()))
    assert refusal(arena, first, UP) == "RoundOver"
    outbox = Web3.to_checksum_address(OUTBOX_ADDRESS)
    budget, burned = (arena.w3.eth.get_balance(a) for a in (arena.address, outbox))
    arena.end_round(dev_account(STRANGER).key)  # anyone may close a round that is over
    # Each reward's outbox fee came out of the arena's budget, not the closer's pocket.
    assert arena.w3.eth.get_balance(arena.address) == budget - 2 * OUTBOX_MESSAGE_FEE_WEI
    assert arena.w3.eth.get_balance(outbox) == burned + 2 * OUTBOX_MESSAGE_FEE_WEI

    (result,) = read_board(arena).results
    assert result.winners == (first.address, second.address)  # session keys, best first
    assert result.scores == (2, 1)
    assert arena.current_round() == 2
    minted = wait_for_rewards(node, 2)
    assert [t["owner"].lower() for t in minted] == [
        dev_account(1).address.lower(),
        dev_account(2).address.lower(),
    ]
    assert [int(t["metadata"], 16) & 0xFF for t in minted] == [1, 2]  # the place


def wait_for_rewards(node: NodeProcess, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + MESSAGE_TIMEOUT_S
    while True:
        tokens = [
            rpc_result(node.zk_http, "duet_getToken", [hex(REWARD_COLLECTION), hex(i)])
            for i in range(count)
        ]
        if all(t is not None for t in tokens):
            return tokens
        assert time.monotonic() < deadline, f"rewards not minted: {tokens}"
        time.sleep(0.1)


# -- a bot over one WebSocket ----------------------------------------------------------------


def test_a_bot_plays_a_round_over_the_socket_and_the_feed_sees_every_move(
    node: NodeProcess,
) -> None:
    arena = deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=BOT_ROUND_S)
    bot_seat = seat(node, arena, 1, 0)
    follower = BoardFollower()
    moved: list[str] = []
    forecast: list[str] = []

    def on_event(event: ArenaEvent, log: dict[str, object]) -> None:
        follower.on_event(event, log)
        if isinstance(event, Moved):
            moved.append(str(log["transactionHash"]))

    def on_pending(event: ArenaEvent, log: dict[str, object]) -> None:
        follower.on_pending(event, log)
        if isinstance(event, Moved):
            forecast.append(str(log["transactionHash"]))

    async def play() -> int:
        async with ChainSocket(node.fast_ws) as chain:
            feed = asyncio.create_task(
                follow_arena(chain, arena, on_event, follower.on_rewind, on_pending)
            )
            sent = await run_bot(chain, bot_seat, follower, DIFFICULTIES["hard"], Random(5))
            await asyncio.sleep(PENDING_TTL_S + 0.2)  # the last logs; refused forecasts fade
            feed.cancel()
            return sent

    sent = asyncio.run(play())
    assert sent >= 10
    assert len(moved) == len(set(moved)) >= sent // 2  # each seen once; some may be refused
    # Forecast at admission: most moves (one simulated on a state its predecessor had not
    # reached yet may fail); each forecast at most once.
    assert len(forecast) == len(set(forecast)) >= len(moved) // 2
    assert follower.board == follower.confirmed == read_board(arena)
    assert follower.board.players[bot_seat.address.lower()].score >= 1


# -- the budget ----------------------------------------------------------------------------


def test_a_join_leaves_the_fees_of_the_rounds_rewards_in_the_budget(node: NodeProcess) -> None:
    """A round must always be able to end: every join leaves in the budget, after its
    session allowance, the outbox's fee for each reward the round may send."""
    poor = deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=3600, budget=0)
    allowance = int(poor.contract.functions.sessionAllowance().call())
    entry_fee = int(poor.contract.functions.entryFee().call())
    reserve = int(poor.contract.functions.WINNERS().call()) * OUTBOX_MESSAGE_FEE_WEI
    needed = allowance + reserve
    poor.fund(dev_account(DEPLOYER).key, needed - entry_fee - 1)
    with pytest.raises(Refused) as refused:
        seat(node, poor, PLAYERS[0], 0)
    assert (refused.value.name, refused.value.error_args) == ("BudgetTooLow", (needed - 1, needed))
    poor.fund(dev_account(DEPLOYER).key, 1)
    assert seat(node, poor, PLAYERS[0], 0).round == 1
    assert poor.w3.eth.get_balance(poor.address) == reserve


def test_a_bot_refills_an_arena_whose_budget_cannot_seat_anyone(node: NodeProcess) -> None:
    """Every seat takes its session allowance out of the arena's budget and pays back only
    the entry fee: a crew that did not refill it would stop joining after a few rounds."""
    poor = deploy_arena(node.fast_http, dev_account(DEPLOYER).key, round_seconds=3600, budget=0)
    allowance = int(poor.contract.functions.sessionAllowance().call())
    with pytest.raises(Refused) as refused:
        seat(node, poor, PLAYERS[0], 0)
    assert refused.value.name == "BudgetTooLow"
    asyncio.run(top_up(poor, dev_account(PLAYERS[0]).key, Random(1)))
    refilled = poor.w3.eth.get_balance(poor.address)
    assert refilled >= TOP_UP_SEATS * allowance
    asyncio.run(top_up(poor, dev_account(PLAYERS[1]).key, Random(2)))  # full: left as it is
    assert poor.w3.eth.get_balance(poor.address) == refilled
    assert seat(node, poor, PLAYERS[0], 0).round == 1
