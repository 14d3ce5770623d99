"""Run a manifest (manifest.py) against a real `duet testnet`, and check what every run must
show:

- while the validators up hold more than two thirds of the power, the chain keeps
  committing (two more heights after each perturbation); when they do not, it halts (no
  height beyond the one in flight), and it resumes once enough are back;
- nothing acknowledged is lost: every transfer a node accepted during the run commits;
- every node has the same fast and ZK blocks, and CometBFT the same app hash, at every
  height;
- with L1, ZK blocks keep settling: an operation sent at the end settles on the rollup with
  the validators' attestations;
- a double signer is jailed, and its stake on the ZK chain is slashed (SLASH_PERCENT of it
  burned) on every live node;
- a joiner (a validator that was not in the genesis) syncs the chain, registers its keys,
  bonds its power in ZKPoW, and enters CometBFT's validator set with that power; from then on
  its votes count (the liveness checks weigh it) and so do its attestations on L1.

At the end every validator is brought back (started or resumed), so the checks cover all.
`run_manifest` returns a report (JSON-ready); any failed check raises E2EFailure.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import to_checksum_address

from chain.client.validator import register_validator
from chain.client.zk import ZkClient
from chain.consensus.comet_sequencer import read_attest_key
from chain.consensus.network import read_attest_address
from chain.consensus.stake import STAKE_UNIT_WEI
from chain.e2e.manifest import DOWN_AFTER, Manifest, Perturbation, can_commit
from chain.jsonrpc import NodeUnreachable, RpcClient, RpcError
from chain.l1.link import make_l1_web3
from chain.l1.rollup import RollupClient
from chain.testing.accounts import dev_account, sign_transfer
from chain.testnet import Testnet
from chain.zk.ops import compute_slashed

log = logging.getLogger("duet.e2e")

LOAD_SENDER = 9  # the dev account the load sends from
JOIN_FUNDER = 7  # the dev account that gives a joiner's attester its ZKPoW
JOIN_SPARE_WEI = STAKE_UNIT_WEI  # what a joiner holds besides its stake (a registration's minimum)
SYNC_TIMEOUT_S = 120.0  # a joiner's CometBFT catching up with the chain
JOIN_TIMEOUT_S = 120.0  # from its bond to its power in CometBFT's set (a power epoch and 2)
LOAD_TO = to_checksum_address("0x" + "e2" * 20)
PROGRESS_HEIGHTS = 2  # heights the chain must make after a perturbation that keeps 2/3 up
PROGRESS_TIMEOUT_S = 60.0
HALT_CHECK_S = 3.0  # how long a halted chain is watched not to commit
COMMIT_TIMEOUT_S = 120.0
SETTLE_TIMEOUT_S = 240.0
EVIDENCE_TIMEOUT_S = 180.0  # the key must propose (every Nth height) for its twin to sign
SLASH_TIMEOUT_S = 60.0  # the next ZK block after the jailing takes the slash
POLL_S = 0.1
ANSWER_TIMEOUT_S = 15.0  # how long no live validator's CometBFT may fail to answer
PAGE = 20  # CometBFT's `blockchain` answers at most 20 headers


class E2EFailure(AssertionError):
    """A check of the run failed; the message says which and how."""


@dataclass
class RunState:
    down: set[int] = field(default_factory=set)  # killed or stopped
    paused: set[int] = field(default_factory=set)
    jailed: set[int] = field(default_factory=set)  # by the evidence of their double signing
    # validator index → its bonded stake (wei) before and after its slash
    slashed: dict[int, tuple[int, int]] = field(default_factory=dict)
    joined: dict[int, dict[str, Any]] = field(default_factory=dict)  # by validator index

    def is_live(self, index: int) -> bool:
        return index not in self.down and index not in self.paused


def wait_for(check: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise E2EFailure(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(POLL_S)


def read_height(url: str) -> int:
    status = RpcClient(url, timeout_s=2).call("status", {})
    return int(status["sync_info"]["latest_block_height"])


def try_height(url: str) -> int:
    """read_height, or -1 while that CometBFT does not answer (starting up)."""
    try:
        return read_height(url)
    except (NodeUnreachable, RpcError):
        return -1


class Load:
    """Fast transfers at a steady rate from one sender, each to a live validator (another if
    the first does not answer), in nonce order; what a node acknowledged must commit."""

    def __init__(self, testnet: Testnet, state: RunState, per_s: float) -> None:
        self.testnet = testnet
        self.state = state
        self.per_s = per_s
        self.acknowledged: list[str] = []
        self.nonce = 0
        self.error: Exception | None = None  # what stopped the load's thread, if anything
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-load", daemon=True)

    def start(self) -> None:
        if self.per_s > 0:
            self._thread.start()

    def stop(self, check: bool = True) -> None:
        """Stop sending; with `check`, raise if the load had stopped on an error."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        if check and self.error is not None:
            raise E2EFailure(f"the load stopped: {self.error!r}")

    def _run(self) -> None:
        try:
            self._send_steadily()
        except Exception as exc:  # the run's checks report it (stop())
            self.error = exc

    def _send_steadily(self) -> None:
        period = 1 / self.per_s
        while not self._stop.wait(period):
            raw = "0x" + sign_transfer(self.nonce, sender=LOAD_SENDER, to=LOAD_TO).hex()
            live = [v for v in self.testnet.validators if self.state.is_live(v.index)]
            random.shuffle(live)
            for validator in live:
                try:
                    tx_hash = RpcClient(validator.fast_http, timeout_s=2).call(
                        "eth_sendRawTransaction", [raw]
                    )
                except (NodeUnreachable, RpcError) as exc:
                    log.debug("load: validator %d refused: %s", validator.index, exc)
                    continue
                self.acknowledged.append(str(tx_hash))
                self.nonce += 1
                break


class Run:
    def __init__(self, manifest: Manifest, root: Path) -> None:
        self.manifest = manifest
        self.testnet = Testnet(
            root, manifest.validators, powers=list(manifest.powers), l1=manifest.l1
        )
        self.state = RunState()
        self.events: list[dict[str, Any]] = []

    # -- heights ----------------------------------------------------------------------------

    def live_height(self) -> int:
        """The highest height a live validator's CometBFT reports (on two busy cores, one
        just restarted may be slow to answer: they are asked again for a while)."""
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        while True:
            heights = []
            for validator in self.testnet.validators:
                if self.state.is_live(validator.index):
                    try:
                        heights.append(read_height(validator.comet_rpc))
                    except (NodeUnreachable, RpcError):
                        continue
            if heights:
                return max(heights)
            if time.monotonic() > deadline:
                raise E2EFailure(f"no live validator answered for {ANSWER_TIMEOUT_S:.0f} s")
            time.sleep(POLL_S)

    def wait_heights(self, count: int, what: str) -> int:
        target = self.live_height() + count
        wait_for(lambda: self.live_height() >= target, what, PROGRESS_TIMEOUT_S)
        return target

    # -- perturbations ----------------------------------------------------------------------

    def apply(self, step: Perturbation) -> None:
        testnet, index = self.testnet, step.validator
        if step.action == "double-sign":
            self.double_sign(index)
            return
        if step.action == "join":
            self.join(index)
            return
        {
            "kill": testnet.kill_one,
            "stop": testnet.stop_one,
            "start": testnet.start_one,
            "pause": testnet.pause_one,
            "resume": testnet.resume_one,
        }[step.action](index)
        self.state.down.discard(index)
        self.state.paused.discard(index)
        if DOWN_AFTER[step.action]:
            (self.state.paused if step.action == "pause" else self.state.down).add(index)

    def double_sign(self, index: int) -> None:
        """Run a second instance behind validator `index`'s key until the evidence of its
        duplicate votes has jailed it (on every live node's record), then stop it."""
        validator = self.testnet.validators[index]
        address = validator.home.validator_address.hex().upper()
        attester = read_attest_address(validator.home.home)
        bonded = read_bonded(validator.zk_http, attester)
        self.testnet.start_twin(index)

        def is_jailed() -> bool:
            return all(
                address in RpcClient(v.fast_http).call("duet_getEvidence")["jailed"]
                for v in self.testnet.validators
                if self.state.is_live(v.index)
            )

        try:
            wait_for(is_jailed, f"validator {index}'s double signing jailed", EVIDENCE_TIMEOUT_S)
        finally:
            self.testnet.stop_twin(index)
        self.state.jailed.add(index)
        left = bonded - compute_slashed(bonded)

        def is_slashed() -> bool:
            return all(
                read_bonded(v.zk_http, attester) == left
                for v in self.testnet.validators
                if self.state.is_live(v.index)
            )

        wait_for(is_slashed, f"validator {index}'s stake slashed to {left}", SLASH_TIMEOUT_S)
        self.state.slashed[index] = (bonded, left)

    def join(self, index: int) -> None:
        """A validator joins after genesis: its node syncs, its attester gets ZKPoW, it
        registers its keys and bonds its power, which CometBFT's set then shows."""
        started = time.monotonic()
        power = self.manifest.all_powers[index]
        joiner = self.testnet.join()
        assert joiner.index == index, f"joiner {joiner.index}, not {index}"
        wait_for(
            lambda: try_height(joiner.comet_rpc) >= self.live_height() - 1,
            f"validator {index} syncing the chain",
            SYNC_TIMEOUT_S,
        )
        synced_s = time.monotonic() - started
        attester = read_attest_address(joiner.home.home)
        key = read_attest_key(joiner.home.home)
        assert key is not None, "open_joiner_home writes it"
        stake = power * STAKE_UNIT_WEI
        funder = ZkClient(self.testnet.validators[0].zk_http, dev_account(JOIN_FUNDER).key)
        funded = funder.transfer(attester, stake + JOIN_SPARE_WEI)
        funder.wait(funded, "committed", timeout_s=COMMIT_TIMEOUT_S)
        # The joiner's own node checks the registration: it must have that height too.
        staker = ZkClient(joiner.zk_http, key)
        wait_for(
            lambda: staker.balance(attester) >= stake + JOIN_SPARE_WEI,
            f"validator {index}'s node seeing its attester funded",
            COMMIT_TIMEOUT_S,
        )
        registered = register_validator(joiner.zk_http, joiner.home.home)
        staker.wait(staker.bond(stake), "committed", timeout_s=COMMIT_TIMEOUT_S)
        address = joiner.home.validator_address.hex().upper()
        url = self.testnet.validators[0].comet_rpc
        wait_for(
            lambda: read_comet_power(url, address) == power,
            f"validator {index} in CometBFT's set with power {power}",
            JOIN_TIMEOUT_S,
        )
        self.state.joined[index] = {
            "validator": address,
            "attester": attester,
            "power": power,
            "registered_at_height": registered.height,
            "synced_s": round(synced_s, 1),
            "joined_s": round(time.monotonic() - started, 1),
        }

    def check_liveness(self, step: Perturbation) -> str:
        """Progress if enough power is up, a halt if not."""
        out = self.state.down | self.state.paused
        if can_commit(self.manifest, out, self.state.jailed, len(self.state.joined)):
            self.wait_heights(PROGRESS_HEIGHTS, f"progress after {step.action} {step.validator}")
            return "committing"
        before = self.live_height()
        time.sleep(HALT_CHECK_S)
        after = self.live_height()
        if after > before + 1:  # the height in flight may still commit
            raise E2EFailure(
                f"with validators {sorted(out)} out the chain went on from height {before} to "
                f"{after}: it must halt without more than 2/3 of the power"
            )
        return "halted"

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self.testnet.start()
        load = Load(self.testnet, self.state, self.manifest.load_per_s)
        try:
            load.start()
            outcome = "committing"
            for step in self.manifest.perturbations:
                if outcome.startswith("committing"):  # a halted chain waits for it instead
                    self.wait_heights(step.after_heights, f"{step.after_heights} heights")
                self.apply(step)
                outcome = self.check_liveness(step)
                if step.action == "double-sign":
                    outcome = f"{outcome}, validator {step.validator} jailed"
                height = self.live_height()
                self.events.append(
                    {
                        "height": height,
                        "validator": step.validator,
                        "action": step.action,
                        "chain": outcome,
                    }
                )
                log.info(
                    "height %d: %s validator %d, the chain %s",
                    height,
                    step.action,
                    step.validator,
                    outcome,
                )
            self.bring_back_all()
            self.wait_heights(self.manifest.final_heights, "the final heights")
            load.stop()
            self.check_committed(load.acknowledged)
            checked = self.check_same_chain()
            settled = self.check_settles() if self.manifest.l1 else None
            sequencers = self.check_l1_weights() if self.manifest.l1 else None
            evidence = RpcClient(self.testnet.validators[0].fast_http).call("duet_getEvidence")
        finally:
            load.stop(check=False)
            self.testnet.stop()
        return {
            "manifest": self.manifest.name,
            "validators": self.manifest.validators,
            "perturbations": self.events,
            "heights_checked": checked,
            "transfers_committed": len(load.acknowledged),
            "zk_operation_settled_s": settled,
            "evidence": evidence,
            "slashed": {
                str(index): {"bonded_before": before, "bonded_after": after}
                for index, (before, after) in self.state.slashed.items()
            },
            "joined": {str(index): joined for index, joined in self.state.joined.items()},
            "l1_sequencers": sequencers,
            "seconds": round(time.monotonic() - started, 1),
        }

    def bring_back_all(self) -> None:
        for index in sorted(self.state.paused):
            self.apply(Perturbation(index, "resume", 1))
        for index in sorted(self.state.down):
            self.apply(Perturbation(index, "start", 1))

    # -- checks -----------------------------------------------------------------------------

    def check_committed(self, acknowledged: list[str]) -> None:
        """Every acknowledged transfer has a receipt on every node."""
        if not acknowledged:
            return
        last = acknowledged[-1]
        for validator in self.testnet.validators:
            rpc = RpcClient(validator.fast_http)

            def has_last(rpc: RpcClient = rpc) -> bool:
                return rpc.call("eth_getTransactionReceipt", [last]) is not None

            wait_for(
                has_last,
                f"the load's last transfer on validator {validator.index}",
                COMMIT_TIMEOUT_S,
            )
            missing = [
                h for h in acknowledged if rpc.call("eth_getTransactionReceipt", [h]) is None
            ]
            if missing:
                raise E2EFailure(
                    f"validator {validator.index} lacks {len(missing)} acknowledged transfers, "
                    f"e.g. {missing[0]}"
                )
        nonce = RpcClient(self.testnet.validators[0].fast_http).call(
            "eth_getTransactionCount", [dev_account(LOAD_SENDER).address, "latest"]
        )
        if int(nonce, 16) != len(acknowledged):
            raise E2EFailure(f"{int(nonce, 16)} transfers committed, {len(acknowledged)} sent")

    def check_same_chain(self) -> int:
        """Same fast and ZK blocks on every node, same app hash in every CometBFT header;
        returns how many CometBFT heights were compared."""
        validators = self.testnet.validators
        for endpoint in ("fast_http", "zk_http"):
            nodes = [RpcClient(getattr(v, endpoint)) for v in validators]
            common = min(int(n.call("eth_blockNumber"), 16) for n in nodes)
            reference = list_block_hashes(nodes[0], common)
            for validator, node in zip(validators[1:], nodes[1:], strict=True):
                if list_block_hashes(node, common) != reference:
                    raise E2EFailure(f"validator {validator.index}'s {endpoint[:-5]} chain forked")
        urls = [v.comet_rpc for v in validators]
        common = min(read_height(url) for url in urls)
        reference = list_app_hashes(urls[0], common)
        for validator, url in zip(validators[1:], urls[1:], strict=True):
            if list_app_hashes(url, common) != reference:
                raise E2EFailure(f"validator {validator.index}'s app hashes differ")
        return common

    def check_l1_weights(self) -> dict[str, int]:
        """The rollup's sequencers and weights (after check_settles: every block before that
        operation's settled); each joiner must be one, weighing its stake."""
        testnet = self.testnet
        assert testnet.l1_url is not None and testnet.deployment is not None
        rollup = RollupClient(make_l1_web3(testnet.l1_url), testnet.deployment.rollup)
        sequencers = {str(key): weight for key, weight in rollup.list_sequencers()}
        zk = testnet.validators[0].zk_http
        attesters = [joiner["attester"] for joiner in self.state.joined.values()]
        check_joiners_weigh(sequencers, {a: read_bonded(zk, a) for a in attesters})
        return sequencers

    def check_settles(self) -> float:
        """A ZK operation sent now settles on L1; returns how long it took."""
        started = time.monotonic()
        client = ZkClient(self.testnet.validators[-1].zk_http, dev_account(LOAD_SENDER).key)
        op_id = client.transfer(dev_account(8).address, 1)
        client.wait(op_id, "settled", timeout_s=SETTLE_TIMEOUT_S)
        return round(time.monotonic() - started, 1)


def read_comet_power(url: str, address: str) -> int:
    """Validator `address`'s voting power in CometBFT's current set (0: not in it)."""
    answer = RpcClient(url, timeout_s=2).call("validators", {"per_page": "100"})
    for validator in answer["validators"]:
        if validator["address"] == address:
            return int(validator["voting_power"])
    return 0


def check_joiners_weigh(sequencers: dict[str, int], bonded: dict[str, int]) -> None:
    """Each joiner's attester is one of the rollup's sequencers, weighing its bonded stake
    on the ZK chain (`bonded`, by attester)."""
    for attester, stake in bonded.items():
        weight = sequencers.get(attester, 0)
        if weight != stake:
            raise E2EFailure(
                f"the joiner's attester {attester} weighs {weight} on the rollup, not the "
                f"{stake} wei it has bonded"
            )


def read_bonded(zk_url: str, validator: str) -> int:
    return int(RpcClient(zk_url).call("duet_getStake", [validator])["bonded"], 16)


def list_block_hashes(rpc: RpcClient, upto: int) -> list[str]:
    return [rpc.call("eth_getBlockByNumber", [hex(h), False])["hash"] for h in range(upto + 1)]


def list_app_hashes(url: str, upto: int) -> list[str]:
    """The app hash of every CometBFT header 1..upto, read 20 headers a call."""
    comet = RpcClient(url)
    hashes: dict[int, str] = {}
    for low in range(1, upto + 1, PAGE):
        high = min(upto, low + PAGE - 1)
        answer = comet.call("blockchain", {"minHeight": str(low), "maxHeight": str(high)})
        for meta in answer["block_metas"]:
            header = meta["header"]
            hashes[int(header["height"])] = header["app_hash"]
    return [hashes[h] for h in range(1, upto + 1)]


def run_manifest(manifest: Manifest, root: Path) -> dict[str, Any]:
    return Run(manifest, root).run()
