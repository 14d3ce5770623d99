// The plugin's pure rules, alone (node --test plugin/test/market.test.mjs). tests/plugin/test_plugin_rules.py
// runs these and checks the same functions' output against the node's Python.

import assert from "node:assert/strict";
import { test } from "node:test";
import * as market from "../src/market.js";
import { normalizeNodeUrl, webSocketUrl } from "../src/node_link.js";

const job = (fields) => ({ jobId: "0x01", kind: "op", deadline: 20, height: 5, ...fields });

test("aggregations come first, then the earliest deadline, the oldest block, the id", () => {
  const jobs = [
    job({ jobId: "0x04", deadline: 12 }),
    job({ jobId: "0x03", deadline: 11, height: 7 }),
    job({ jobId: "0x02", deadline: 11, height: 6 }),
    job({ jobId: "0x05", kind: "aggregate", deadline: 30 }),
  ];
  assert.deepEqual(
    jobs.sort(market.compareJobs).map((j) => j.jobId),
    ["0x05", "0x02", "0x03", "0x04"],
  );
});

test("a job that cannot finish before its deadline is let go", () => {
  const due = job({ deadline: 14 });
  assert.equal(market.canFinishInTime(due, 10, 3.9, 1.0), true);
  assert.equal(market.canFinishInTime(due, 10, 4.1, 1.0), false);
  assert.equal(market.canFinishInTime(due, 14, 0, 1.0), false, "due now: too late");
  assert.equal(market.canFinishInTime(due, 12, 3.9, 2.0), true, "slower blocks, more time");
});

test("the heartbeat is renewed when a third of its reach is left, at most every 5 blocks", () => {
  assert.equal(market.nextHeartbeat(10, -1, null, 30), 41, "not a prover yet");
  assert.equal(market.nextHeartbeat(10, 40, 11, 30), null, "fresh");
  assert.equal(market.nextHeartbeat(30, 40, 11, 30), 61, "9 of 30 left");
  assert.equal(market.nextHeartbeat(30, 40, 28, 30), null, "sent 3 blocks ago");
});

test("a proof survives the trip to the 256-byte blob and back", () => {
  const proof = {
    pi_a: ["1", "2", "1"],
    pi_b: [
      ["3", "4"],
      ["5", "6"],
      ["1", "0"],
    ],
    pi_c: ["7", "8", "1"],
    protocol: "groth16",
    curve: "bn128",
  };
  const blob = market.proofToBlob(proof);
  assert.equal(blob.length, 2 + 2 * 256);
  // G2 imaginary part first: B.x = (3, 4) is written 4, 3.
  assert.equal(BigInt("0x" + blob.slice(2 + 64 * 2, 2 + 64 * 3)), 4n);
  assert.deepEqual(market.blobToProof(blob), proof);
  assert.throws(() => market.blobToProof("0x00"), /256 bytes/);
});

test("aggregate statements chain each post-root into the next pre-root", () => {
  const ops = [
    { postRoot: "0x2", words: ["0x10"] },
    { postRoot: "0x3", words: ["0x11", "0x12"] },
  ];
  assert.deepEqual(market.chainStatements("0x1", ops), [
    ["1", "2", "16"],
    ["2", "3", "17", "18"],
  ]);
});

test("encodeOps refuses a wrong word count and a value outside the field", () => {
  const circuits = { transfer: { id: 0, nPublic: 3 } };
  const proof = "0x" + "00".repeat(256);
  const op = { circuit: "transfer", postRoot: "0x2", words: ["0x1"], proof };
  assert.equal(market.encodeOps([op], circuits).length, 2 + 2 * (1 + 32 + 32 + 256));
  assert.throws(() => market.encodeOps([{ ...op, words: [] }], circuits), /takes 1 words/);
  const outside = "0x" + market.FIELD_MODULUS.toString(16);
  assert.throws(() => market.encodeOps([{ ...op, postRoot: outside }], circuits), /field/);
  assert.throws(() => market.encodeOps([{ ...op, circuit: "nope" }], circuits), /unknown/);
});

test("a negative balance is shown as a debt", () => {
  assert.deepEqual(market.formatZkpow(10n ** 16n), { text: "0.01 ZKPoW", debt: false });
  assert.deepEqual(market.formatZkpow(-(10n ** 16n)), { text: "0.01 ZKPoW", debt: true });
  assert.deepEqual(market.formatZkpow(0), { text: "0 ZKPoW", debt: false });
  assert.deepEqual(market.formatZkpow(123456789n * 10n ** 10n), { text: "1.2346 ZKPoW", debt: false });
});

test("node URLs are normalized, and only http(s) is taken", () => {
  assert.equal(normalizeNodeUrl("127.0.0.1:8646"), "http://127.0.0.1:8646/");
  assert.equal(normalizeNodeUrl(" https://node.example/rpc?x=1 "), "https://node.example/rpc");
  assert.throws(() => normalizeNodeUrl("ftp://node"), /http/);
  assert.equal(webSocketUrl("https://node.example/"), "wss://node.example/");
  assert.equal(webSocketUrl("http://127.0.0.1:8646/"), "ws://127.0.0.1:8646/");
});
