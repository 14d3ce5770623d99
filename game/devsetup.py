"""What a dev node needs before anyone plays: the arena, and a pass for each player.

`ensure_arena` deploys the arena on the dev node's fast chain once (dev account 8 deploys and
funds its session budget; dev account 0, the reward collection's genesis minter, hands the
collection to it) and remembers it in the data directory's `game.json`, under a file lock so
that two `duet play` starting together deploy one arena. `ensure_pass` gives a dev account a
game pass (dev account 0 mints it) and registers its ownership key, if it has neither yet.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path

from chain.client.zk import ZkClient
from chain.fast.genesis import dev_keys
from chain.zk.genesis import GAME_PASS_COLLECTION
from game.arena import ROUND_SECONDS, Arena, deploy_arena, hand_rewards_to, list_tokens
from game.session import Endpoints

GAME_FILE = "game.json"
LOCK_FILE = "game.lock"
DEPLOYER_ACCOUNT = 8
MINTER_ACCOUNT = 0  # the genesis minter of the pass and reward collections
WAIT_S = 60.0


def ensure_arena(data_dir: Path, endpoints: Endpoints, round_seconds: int = ROUND_SECONDS) -> str:
    """The arena's address, deployed on first call."""
    with (data_dir / LOCK_FILE).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = read_arena(data_dir, endpoints)
        if known is not None:
            return known
        keys = dev_keys()
        arena = deploy_arena(endpoints.fast_http, keys[DEPLOYER_ACCOUNT], round_seconds)
        hand_rewards_to(ZkClient(endpoints.zk_http, keys[MINTER_ACCOUNT]), arena.address)
        (data_dir / GAME_FILE).write_text(json.dumps({"arena": arena.address}) + "\n")
        return arena.address


def read_arena(data_dir: Path, endpoints: Endpoints) -> str | None:
    """The arena named in game.json, if there is still code at its address."""
    path = data_dir / GAME_FILE
    if not path.exists():
        return None
    address = str(json.loads(path.read_text())["arena"])
    arena = Arena(endpoints.fast_http, address)
    return address if arena.w3.eth.get_code(arena.address) else None


def ensure_pass(endpoints: Endpoints, key: bytes) -> int:
    """The id of a game pass that `key`'s account holds, minted if it holds none; its
    ownership key registered."""
    player = ZkClient(endpoints.zk_http, key)
    owned = find_pass(player)
    if owned is None:
        minter = ZkClient(endpoints.zk_http, dev_keys()[MINTER_ACCOUNT])
        minter.wait(minter.mint(GAME_PASS_COLLECTION, player.address, metadata=0), timeout_s=WAIT_S)
        owned = find_pass(player)
        assert owned is not None, "a pass minted to the player is the player's"
    if int(player.rpc("duet_getAccount", player.address)["keyHash"], 16) == 0:
        player.wait(player.register_key(), timeout_s=WAIT_S)
    return owned


def find_pass(player: ZkClient) -> int | None:
    mine = player.address.lower()
    for token in list_tokens(player, GAME_PASS_COLLECTION):
        if str(token["owner"]).lower() == mine:
            return int(token["tokenId"])
    return None
