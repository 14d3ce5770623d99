// The plugin's market functions on cases the node's Python hands it (stdin, JSON), with
// their outputs on stdout (JSON): tests/plugin/test_plugin_rules.py checks each one with
// the node's own code, so the plugin and the node cannot drift apart unnoticed.

import { Wallet, getBytes } from "ethers";
import * as market from "../src/market.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const wallet = new Wallet(cases.key);

const digest = market.submissionDigest(cases.chainId, cases.jobId, cases.result);
const typed = market.heartbeatTypedData(cases.domain, cases.heartbeat);
const heartbeatSignature = await wallet.signTypedData(typed.domain, typed.types, typed.message);

console.log(
  JSON.stringify({
    address: wallet.address,
    submissionDigest: digest,
    submissionSignature: await wallet.signMessage(getBytes(digest)),
    heartbeat: market.formatHeartbeat(wallet.address, cases.heartbeat, heartbeatSignature),
    blob: market.proofToBlob(cases.proof),
    proofBack: market.blobToProof(market.proofToBlob(cases.proof)),
    vkHash: market.vkHash(cases.vk),
    ops: market.encodeOps(cases.ops, cases.circuits),
    statements: market.chainStatements(cases.parentRoot, cases.ops),
  }),
);
