// The prover itself, in the offscreen document (a service worker cannot start a Worker).
// Each round it reads its jobs from the node, renews its heartbeat before it lapses, and
// takes the best job it can finish before the deadline (market.js), proves it in the Web
// Worker and submits it signed. It reports its state to the service worker, which keeps it
// for the popup. The service worker closes this document to stop it: whatever is proving
// stops with it.

import { Wallet, getBytes, hexlify } from "ethers";
import { CircuitStore } from "./circuits.js";
import * as market from "./market.js";
import { NodeLink } from "./node_link.js";

const POLL_MS = 2_000; // look without a push after this long
const RETRY_MS = 1_000; // after a failed round
const STATUS_EVERY_MS = 250;
const HISTORY = 20;
const MIN_FEE_WEI = 10n ** 15n; // the ZK chain's minimum operation fee (chain/config.py)
const DEFAULT_BLOCK_S = 1.0;

class WorkerPool {
  // One Web Worker; `cancel` terminates it (the only way to stop snarkjs mid-proof).
  constructor() {
    this.nextId = 1;
    this.pending = new Map();
    this.start();
  }

  start() {
    this.worker = new Worker("prover_worker.js", { type: "module" });
    this.worker.onmessage = (event) => {
      const request = this.pending.get(event.data.id);
      if (request === undefined) return;
      if (event.data.progress !== undefined) {
        request.onProgress(event.data.progress, event.data.stage);
        return;
      }
      this.pending.delete(event.data.id);
      if (event.data.error) request.reject(new Error(event.data.error));
      else request.resolve(event.data);
    };
  }

  run(cmd, fields, onProgress = () => {}) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, cmd, ...fields });
    });
  }

  cancel(reason) {
    this.worker.terminate();
    for (const request of this.pending.values()) request.reject(new Error(reason));
    this.pending.clear();
    this.start();
  }
}

class Prover {
  constructor(settings) {
    this.wallet = new Wallet(settings.key);
    this.address = this.wallet.address;
    this.node = new NodeLink(settings.nodeUrl);
    this.pool = new WorkerPool();
    this.circuits = new CircuitStore(this.node, (cmd, fields) => this.pool.run(cmd, fields));
    this.chainId = null;
    this.activeBlocks = 30;
    this.snapshot = null;
    this.lastHeartbeat = null;
    this.results = new Map(); // jobId → result bytes the node has not accepted yet
    // Jobs submitted and accepted: the node lists them until the next block counts them,
    // and they must not be proven again meanwhile.
    this.submitted = new Set();
    this.current = null; // the job in progress: {job, progress, stage, started}
    this.estimates = new Map(); // circuit → seconds its last proof took
    this.clock = null; // {time, height}: the first head seen, for the block time
    this.counts = { proven: 0, accepted: 0, letGo: 0, failed: 0, heartbeats: 0 };
    this.history = [];
    this.lastError = "";
    this.heartbeatError = "";
    this.wakeUp = () => {};
    this.statusTimer = null;
  }

  async run() {
    this.node.subscribe(
      this.address,
      () => this.wakeUp(),
      () => this.publish(),
    );
    for (;;) {
      try {
        await this.step();
        this.lastError = "";
        await this.waitForPush();
      } catch (error) {
        this.lastError = error.message;
        this.publish();
        await sleep(RETRY_MS);
      }
    }
  }

  waitForPush() {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, POLL_MS);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  async step() {
    if (this.chainId === null) {
      this.chainId = BigInt(await this.node.call("eth_chainId", []));
      const info = await this.node.call("duet_getProverMarket", []);
      this.activeBlocks = info.config.active_blocks;
    }
    const answer = await this.node.call("duet_getProverJobs", [this.address]);
    this.snapshot = answer;
    const height = answer.height;
    if (this.clock === null) this.clock = { time: performance.now(), height };
    try {
      await this.renewHeartbeat(answer);
    } catch (error) {
      // Refused (no ZKPoW for the fee, say) or unreachable: said until one goes through,
      // and tried again in a few blocks; the jobs already held are still worked on.
      this.heartbeatError = `heartbeat refused: ${error.message}`;
    }
    const mine = new Map(answer.jobs.map((job) => [job.jobId, job]));
    for (const jobId of this.results.keys()) if (!mine.has(jobId)) this.results.delete(jobId);
    for (const jobId of this.submitted) if (!mine.has(jobId)) this.submitted.delete(jobId);
    if (this.current !== null && !this.current.submitting) {
      const held = mine.get(this.current.job.jobId);
      if (held === undefined || held.deadline <= height) {
        this.pool.cancel("let go");
        this.finish(this.current.job, "let go", "its deadline passed or it moved on");
        this.counts.letGo += 1;
        this.current = null;
      }
    }
    for (const [jobId, result] of this.results) {
      await this.submit(mine.get(jobId), result); // refused before (late): try again
    }
    if (this.current === null) this.takeNext(answer.jobs, height);
    this.publish();
  }

  async renewHeartbeat(answer) {
    const activeUntil = answer.prover ? answer.prover.activeUntil : -1;
    const target = market.nextHeartbeat(
      answer.height,
      activeUntil,
      this.lastHeartbeat,
      this.activeBlocks,
    );
    if (target === null) return;
    this.lastHeartbeat = answer.height + 1;
    const account = await this.node.call("duet_getAccount", [this.address]);
    if (account.index === null) {
      throw new Error(`${this.address} has no account on the ZK chain to pay heartbeats from`);
    }
    const domain = await this.node.call("duet_getSigningDomain", []);
    const fields = {
      activeUntil: target,
      fee: MIN_FEE_WEI,
      nonce: BigInt(account.pendingNonce),
      fromIndex: BigInt(account.index),
    };
    const typed = market.heartbeatTypedData(domain, fields);
    const signature = await this.wallet.signTypedData(typed.domain, typed.types, typed.message);
    await this.node.call("duet_sendOperation", [
      market.formatHeartbeat(this.address, fields, signature),
    ]);
    this.counts.heartbeats += 1;
    this.heartbeatError = "";
  }

  blockSeconds(height) {
    if (this.clock === null || height - this.clock.height < 5) return DEFAULT_BLOCK_S;
    return (performance.now() - this.clock.time) / 1000 / (height - this.clock.height);
  }

  takeNext(jobs, height) {
    const open = jobs
      .filter((job) => !this.results.has(job.jobId) && !this.submitted.has(job.jobId))
      .filter((job) => job.deadline > height)
      .sort(market.compareJobs);
    for (const job of open) {
      const estimate = this.estimates.get(job.circuit ?? "aggregate") ?? 0;
      if (!market.canFinishInTime(job, height, estimate, this.blockSeconds(height))) {
        if (!this.history.some((h) => h.jobId === job.jobId && h.attempt === job.attempt)) {
          this.finish(job, "let go", `needs ~${estimate.toFixed(1)} s, too close to its deadline`);
          this.counts.letGo += 1;
        }
        continue;
      }
      this.current = { job, progress: 0, stage: "starting", started: performance.now() };
      this.work(job); // runs beside the loop; the next rounds watch its deadline
      return;
    }
  }

  async work(job) {
    const current = this.current;
    const onProgress = (progress, stage) => {
      current.progress = progress;
      current.stage = stage;
      this.publish();
    };
    try {
      const result = job.kind === "op" ? await this.prove(job, onProgress) : await this.aggregate(job);
      const seconds = (performance.now() - current.started) / 1000;
      this.estimates.set(job.circuit ?? "aggregate", seconds);
      if (this.current !== current) return; // let go meanwhile
      this.counts.proven += 1;
      current.submitting = true;
      current.stage = "submitting";
      await this.submit(job, result, seconds);
      this.current = null;
    } catch (error) {
      if (this.current !== current) return; // cancelled: already reported
      this.current = null;
      this.counts.failed += 1;
      this.finish(job, "failed", error.message);
    }
    this.wakeUp();
  }

  async prove(job, onProgress) {
    this.circuits.onProgress = (stage, share) => onProgress(share * 0.02, stage);
    const { wasm, zkey, vkey } = await this.circuits.load(job.circuit);
    const answer = await this.pool.run(
      "prove",
      { wasm: wasm.slice().buffer, zkey: zkey.slice().buffer, input: job.witness },
      onProgress,
    );
    const expected = job.publicInputs.map((x) => BigInt(x).toString());
    if (answer.publicSignals.join() !== expected.join()) {
      throw new Error("the witness does not give the job's public inputs");
    }
    onProgress(0.97, "verifying");
    const check = await this.pool.run("verify", {
      vkey,
      publicSignals: answer.publicSignals,
      proof: answer.proof,
    });
    if (!check.valid) throw new Error("the proof does not verify under the published key");
    return market.proofToBlob(answer.proof);
  }

  async aggregate(job) {
    if (job.ops.length === 0) throw new Error("a block without operations is not aggregated");
    const statements = market.chainStatements(job.parentRoot, job.ops);
    for (const [position, op] of job.ops.entries()) {
      const vkey = await this.circuits.vkey(op.circuit);
      const check = await this.pool.run("verify", {
        vkey,
        publicSignals: statements[position],
        proof: market.blobToProof(op.proof),
      });
      if (!check.valid) throw new Error(`operation ${position} (${op.circuit}) does not verify`);
    }
    return market.encodeOps(job.ops, await this.circuits.getCatalog());
  }

  async submit(job, result, seconds = 0) {
    const digest = market.submissionDigest(this.chainId, job.jobId, result);
    const signature = await this.wallet.signMessage(getBytes(digest));
    try {
      const verdict = await this.node.call("duet_submitProof", [
        { jobId: job.jobId, proof: hexlify(result), prover: this.address, signature },
      ]);
      this.results.delete(job.jobId);
      this.submitted.add(job.jobId);
      if (verdict.valid) this.counts.accepted += 1;
      this.finish(job, verdict.valid ? "valid" : "invalid", "", seconds);
    } catch (error) {
      // Refused (late, moved) or the node unreachable: kept, and sent again while the job
      // is still this prover's.
      this.results.set(job.jobId, result);
      this.lastError = error.message;
    }
  }

  finish(job, state, detail, seconds = 0) {
    const label = job.circuit ?? `aggregate ${job.height}`;
    this.history.unshift({
      jobId: job.jobId,
      attempt: job.attempt,
      label,
      state,
      detail,
      seconds,
      bounty: job.bounty,
    });
    this.history.length = Math.min(this.history.length, HISTORY);
    this.publish();
  }

  publish() {
    if (this.statusTimer !== null) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      chrome.runtime.sendMessage({ type: "status", status: this.status() }).catch(() => {});
    }, STATUS_EVERY_MS);
  }

  status() {
    const snapshot = this.snapshot;
    const current = this.current;
    return {
      address: this.address,
      nodeUrl: this.node.url,
      connected: this.node.connected,
      height: snapshot ? snapshot.height : null,
      prover: snapshot ? snapshot.prover : null,
      assigned: snapshot ? snapshot.jobs.length : 0,
      current: current && {
        jobId: current.job.jobId,
        label: current.job.circuit ?? `aggregate ${current.job.height}`,
        bounty: current.job.bounty,
        deadline: current.job.deadline,
        progress: current.progress,
        stage: current.stage,
      },
      counts: this.counts,
      history: this.history,
      lastError: this.lastError || this.heartbeatError,
      updated: Date.now(),
    };
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function main() {
  const settings = await chrome.runtime.sendMessage({ type: "get-settings" });
  if (!settings || !settings.key || !settings.nodeUrl) return;
  const prover = new Prover(settings);
  await prover.run();
}

main();
