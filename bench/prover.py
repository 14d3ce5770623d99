"""Proving time per ZK operation type: the embedded prover (groth16py) against snarkjs.

For each circuit the benchmark builds one real operation on the dev genesis state (a
transfer, a mint, a listing, ...) or, for `ownership`, one NFT ownership proof on the state
they leave; computes its witness once with snarkjs (`wtns calculate`)
and then proves that same witness with both provers, on the same ceremony keys:

- `prove_s_embedded`: `groth16py.prove_wtns` (the proof alone, in this process);
- `prove_s_snarkjs`: `snarkjs.groth16.prove` inside one Node process, timed around the
  call (no Node start-up counted);
- `ratio`: snarkjs time / embedded time;
- `prove_s_snarkjs_cli`, `ratio_cli`: the same with the `snarkjs groth16 prove` command, as a
  user runs it (Node start-up and key loading included);
- `prove_s_embedded_total`: `groth16py.prove`, witness included, as the node's prover runs;
- `witness_s_snarkjs`: the witness alone in snarkjs.

With `--browser`, the browser plugin's prover too (plugin/src/prover_worker.js), in headless
Debian Chromium with the plugin loaded, its circuit files fetched from a dev node started
for the run, as the plugin fetches them:

- `prove_s_browser`: snarkjs `groth16.fullProve` in the plugin's Web Worker, witness
  included, as the plugin proves a job (median after a warm-up);
- `browser_vs_snarkjs`: snarkjs under Node, witness and proof (`witness_s_snarkjs` +
  `prove_s_snarkjs`), over `prove_s_browser`: above 1, the browser is the faster;
- `deadline_s` (top level): how long a job may take, the market's deadline at the default
  one-second ZK blocks. `ownership` is not a market job and is not served to the plugin.

Every proof is verified before its time counts. Times are medians of `--repeat` runs.

    .venv/bin/python bench/prover.py [--repeat 3] [--circuits transfer,buy] [--json-only]
                                     [--browser]

Needs the keys from `./demo.sh setup`. Prints one JSON object on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import groth16py

from chain.config import ZK_BLOCK_INTERVAL_S, MarketConfig
from chain.fast.genesis import dev_alloc
from chain.prover.ceremony import compute_r1cs_header, get_circuit_entry, get_default_paths
from chain.prover.groth16 import Proof, load_circuit, verify
from chain.prover.ownership import compute_key_hash, compute_ownership_inputs
from chain.prover.witness import CircuitWitness, compute_witness
from chain.testing.node_process import NodeProcess
from chain.testing.plugin_browser import PluginBrowser, build_plugin
from chain.zk.chain import compute_block_context
from chain.zk.genesis import GAME_PASS_COLLECTION, REWARD_COLLECTION, compute_genesis_state
from chain.zk.ops import (
    Buy,
    CancelListing,
    Deposit,
    ListNft,
    Mint,
    OpBody,
    Operation,
    RegisterKey,
    Release,
    RewardMint,
    SetMinter,
    ToFast,
    Transfer,
    TransferNft,
    Withdraw,
)
from chain.zk.registry import CIRCUIT_NAMES, apply_operation, is_unsigned
from chain.zk.state import compute_token_key, get_account

ROOT = Path(__file__).resolve().parent.parent
SNARKJS_SCRIPT = ROOT / "bench" / "snarkjs_prove.mjs"
FEE = 10**15
ETHER = 10**18
REWARDER = 0xFA57000000000000000000000000000000C0FFEE  # a fast-chain contract that mints rewards
OWNER_SECRET = 0x5EC2E7  # the ownership proof's secret (chain/zk/ownership.py derives real ones)
SESSION_KEY = 0x5E55104E70000000000000000000000000000001


def log(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def build_witnesses() -> dict[str, CircuitWitness]:
    """One realistic operation per circuit, each applied on the state the previous one left,
    then an ownership proof of the game pass on the last state."""
    alloc = {int.from_bytes(a, "big"): v for a, v in dev_alloc().items()}
    minter, alice, bob = list(alloc)[:3]
    state = compute_genesis_state(alloc, minter=minter, fast_chain_escrow=0)
    ctx = compute_block_context(1, 0, FEE)
    token = compute_token_key(GAME_PASS_COLLECTION, 0)
    steps: list[tuple[str, int, OpBody]] = [
        ("transfer", alice, Transfer(bob, 3 * ETHER)),
        ("mint", minter, Mint(GAME_PASS_COLLECTION, alice, metadata=0xABC, round=1)),
        ("list", alice, ListNft(token, 2 * ETHER)),
        ("cancel", alice, CancelListing(token)),
        ("transfer_nft", alice, TransferNft(token, bob)),
        ("list", bob, ListNft(token, ETHER)),
        ("buy", alice, Buy(token, ETHER)),
        ("to_fast", bob, ToFast(alice, ETHER)),
        ("set_minter", minter, SetMinter(REWARD_COLLECTION, REWARDER, fast_chain=1)),
        ("register_key", alice, RegisterKey(compute_key_hash(OWNER_SECRET))),
        # Fast-chain messages: nobody signs them.
        ("release", 0, Release(seq=0, to=alice, amount=ETHER)),
        ("reward_mint", 0, RewardMint(1, REWARDER, REWARD_COLLECTION, 1, bob, metadata=0xDEF)),
        # From L1 and back: a deposit is not signed either, a withdrawal is.
        ("deposit", 0, Deposit(index=0, to=bob, amount=2 * ETHER)),
        ("withdraw", bob, Withdraw(to=bob, amount=ETHER)),
    ]
    built = {}
    for name, signer, body in steps:
        if is_unsigned(body):
            op = Operation(body, signer=0, fee=0, nonce=0)
        else:
            op = Operation(body, signer, FEE, get_account(state, signer).nonce)
        post, trace = apply_operation(state, op, ctx)
        built[name] = compute_witness(state, op, ctx, post, trace)
        state = post
    built["ownership"] = compute_ownership_inputs(
        state, alice, token, OWNER_SECRET, round=1, session_key=SESSION_KEY
    )
    return built


def median_time(action: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_snarkjs(
    zkey: Path, wasm: Path, input_json: Path, wtns: Path, repeat: int
) -> dict[str, Any]:
    result = subprocess.run(
        [
            "node",
            str(SNARKJS_SCRIPT),
            str(zkey),
            str(wasm),
            str(input_json),
            str(wtns),
            str(repeat),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def bench_circuit(name: str, witness: CircuitWitness, repeat: int) -> dict[str, Any]:
    keys = load_circuit(name)
    entry = get_circuit_entry(get_default_paths(), name)
    header = compute_r1cs_header(entry.r1cs.read_bytes())
    with tempfile.TemporaryDirectory(prefix="duet-bench-") as tmp:
        input_json = Path(tmp) / "input.json"
        input_json.write_text(json.dumps({k: _to_json(v) for k, v in witness.inputs.items()}))
        wtns = Path(tmp) / "witness.wtns"
        snark = run_snarkjs(entry.zkey, entry.wasm, input_json, wtns, repeat)
        if not snark["verified"]:
            raise RuntimeError(f"{name}: snarkjs produced a proof that does not verify")

        def prove_from_wtns() -> None:
            proof = Proof(groth16py.prove_wtns(keys.proving_key, str(wtns)))
            if not verify(keys, proof, witness.public_inputs):
                raise RuntimeError(f"{name}: embedded proof does not verify")

        def prove_total() -> None:
            proof = Proof(groth16py.prove(keys.proving_key, dict(witness.inputs)))
            if not verify(keys, proof, witness.public_inputs):
                raise RuntimeError(f"{name}: embedded proof does not verify")

        snarkjs_cli = ROOT / "node_modules" / ".bin" / "snarkjs"
        cli_args = [str(snarkjs_cli), "groth16", "prove", str(entry.zkey), str(wtns)]
        cli_args += [str(Path(tmp) / "proof.json"), str(Path(tmp) / "public.json")]
        cli = median_time(lambda: subprocess.run(cli_args, check=True, capture_output=True), repeat)
        prove_from_wtns()  # warm-up
        embedded = median_time(prove_from_wtns, repeat)
        total = median_time(prove_total, repeat)
    return {
        "constraints": header.n_constraints,
        "public_inputs": len(witness.public_inputs),
        "witness_s_snarkjs": round(snark["witness_s"], 4),
        "prove_s_embedded": round(embedded, 4),
        "prove_s_embedded_total": round(total, 4),
        "prove_s_snarkjs": round(snark["prove_s"], 4),
        "ratio": round(snark["prove_s"] / embedded, 2),
        "prove_s_snarkjs_cli": round(cli, 4),
        "ratio_cli": round(cli / embedded, 2),
    }


def bench_browser(
    witnesses: dict[str, CircuitWitness], repeat: int, quiet: bool
) -> dict[str, float | None]:
    """`prove_s_browser` per circuit: the plugin's worker in headless Chromium, proving for a
    dev node started here (ownership, not a market circuit, gets None)."""
    plugin = build_plugin()
    seconds: dict[str, float | None] = {}
    with tempfile.TemporaryDirectory(prefix="duet-bench-browser-") as tmp:
        node = NodeProcess(Path(tmp) / "node", "--no-prover", "--no-l1").start()
        try:
            with PluginBrowser(Path(tmp) / "profile", plugin) as browser:
                for name, witness in witnesses.items():
                    if name not in CIRCUIT_NAMES:
                        seconds[name] = None
                        continue
                    log(f"==> {name} in the browser", quiet)
                    inputs = {k: _to_json(v) for k, v in witness.inputs.items()}
                    run = browser.prove_in_page(node.zk_http, name, inputs, repeat)
                    if not run["verified"]:
                        raise RuntimeError(f"{name}: the browser's proof does not verify")
                    seconds[name] = statistics.median(run["seconds"])
        finally:
            node.stop()
    return seconds


def _to_json(value: Any) -> Any:
    if isinstance(value, int):
        return str(value)
    return [_to_json(v) for v in value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--circuits", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--json-only", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--browser",
        action="store_true",
        help="also prove in the browser plugin, in headless Chromium (prove_s_browser)",
    )
    args = parser.parse_args()
    built = build_witnesses()
    names = [n for n in args.circuits.split(",") if n] or list(built)
    unknown = set(names) - set(built)
    if unknown:
        parser.error(f"unknown circuits {sorted(unknown)}; known: {sorted(built)}")
    results: dict[str, Any] = {}
    for name in names:
        log(f"==> {name}", args.json_only)
        results[name] = bench_circuit(name, built[name], args.repeat)
        log(f"    {results[name]}", args.json_only)
    report: dict[str, Any] = {"circuits": results, "repeat": args.repeat}
    if args.browser:
        browser = bench_browser({n: built[n] for n in names}, args.repeat, args.json_only)
        for name, seconds in browser.items():
            entry = results[name]
            entry["prove_s_browser"] = None if seconds is None else round(seconds, 4)
            snarkjs = entry["witness_s_snarkjs"] + entry["prove_s_snarkjs"]
            entry["browser_vs_snarkjs"] = None if seconds is None else round(snarkjs / seconds, 2)
        market = MarketConfig()
        report["deadline_s"] = market.deadline_blocks * ZK_BLOCK_INTERVAL_S
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
