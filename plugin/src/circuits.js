// The circuit files, fetched from the node once and kept in the extension's Cache Storage
// under their SHA-256. Nothing is used before it checks out: every file against the hash
// duet_getCircuits gives, and the verification key, the one the proving key holds and the
// one the rollup checks with, against the circuit's vkHash.

import { vkHash } from "./market.js";

const CACHE_NAME = "duet-circuits";

export async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export class CircuitStore {
  /** `worker(cmd, fields)` runs a prover-worker command (exportVkey here). */
  constructor(node, worker, onProgress = () => {}) {
    this.node = node;
    this.worker = worker;
    this.onProgress = onProgress;
    this.catalog = null; // name → duet_getCircuits entry
    this.loaded = new Map(); // name → {wasm, zkey, vkey}
    this.vkeys = new Map(); // name → checked verification key
  }

  async getCatalog() {
    if (this.catalog === null) {
      const answer = await this.node.call("duet_getCircuits", []);
      this.catalog = Object.fromEntries(answer.circuits.map((c) => [c.name, c]));
    }
    return this.catalog;
  }

  async entry(name) {
    const entry = (await this.getCatalog())[name];
    if (entry === undefined) throw new Error(`the node serves no circuit ${name}`);
    return entry;
  }

  /** One file's bytes, from the cache or the node, checked against its SHA-256. */
  async file(name, kind) {
    const { url, sha256, size } = (await this.entry(name)).files[kind];
    const cache = await caches.open(CACHE_NAME);
    const key = `https://duet.invalid/sha256/${sha256}`;
    const hit = await cache.match(key);
    if (hit) {
      const bytes = new Uint8Array(await hit.arrayBuffer());
      if ((await sha256Hex(bytes)) === sha256) return bytes;
      await cache.delete(key); // damaged: fetch it again
    }
    const bytes = await this.node.fetchFile(url, size, (done, total) =>
      this.onProgress(`fetching ${name} ${kind}`, done / total),
    );
    const actual = await sha256Hex(bytes);
    if (actual !== sha256) {
      throw new Error(`${name} ${kind}: SHA-256 ${actual}, the node announced ${sha256}`);
    }
    await cache.put(key, new Response(bytes));
    return bytes;
  }

  /** The circuit's verification key, checked against the published vkHash. */
  async vkey(name) {
    if (!this.vkeys.has(name)) {
      const entry = await this.entry(name);
      const vkey = JSON.parse(new TextDecoder().decode(await this.file(name, "vkey")));
      if (vkHash(vkey) !== entry.vkHash) {
        throw new Error(`${name}: the verification key does not hash to vkHash ${entry.vkHash}`);
      }
      this.vkeys.set(name, vkey);
    }
    return this.vkeys.get(name);
  }

  /** What proving with circuit `name` takes: its witness generator, proving key and
   * verification key, the proving key checked to hold the published key. */
  async load(name) {
    if (!this.loaded.has(name)) {
      const vkey = await this.vkey(name);
      const wasm = await this.file(name, "wasm");
      const zkey = await this.file(name, "zkey");
      const held = (await this.worker("exportVkey", { zkey: zkey.slice().buffer })).vkey;
      if (vkHash(held) !== vkHash(vkey)) {
        throw new Error(`${name}: the proving key is not for the published verification key`);
      }
      this.loaded.set(name, { wasm, zkey, vkey });
    }
    return this.loaded.get(name);
  }
}
