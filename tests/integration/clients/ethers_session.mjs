// An ethers v6 session as a game developer writes one, run against a node's HTTP and
// WebSocket endpoints (tests/integration/test_ethers_session.py runs it against Duet and
// against anvil): a wallet deploys a contract and calls it, events arrive by HTTP polling and
// over WebSocket, a revert's reason is read, past events are queried. Prints one JSON line.
//
//     node ethers_session.mjs HTTP_URL WS_URL ARTIFACT_JSON PRIVATE_KEY
import { readFileSync } from "node:fs";
import { ethers } from "ethers";

const [httpUrl, wsUrl, artifactPath, key] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
// cacheTimeout -1: ethers otherwise answers a repeated request (the nonce) from a 250 ms cache,
// which a chain that confirms in milliseconds (anvil's automine, Duet) outruns.
const http = new ethers.JsonRpcProvider(httpUrl, undefined, {
  staticNetwork: true,
  cacheTimeout: -1,
  pollingInterval: 100,
});
const wallet = new ethers.Wallet(key, http);
const out = {};

const deploying = await new ethers.ContractFactory(artifact.abi, artifact.bytecode, wallet).deploy(7);
const probe = await deploying.waitForDeployment();
const address = await probe.getAddress();
out.chainId = Number((await http.getNetwork()).chainId);
out.initial = (await probe.value()).toString();

// An event by HTTP polling (ethers installs a filter and polls eth_getFilterChanges).
const polled = new Promise((resolve) => probe.once("ValueSet", (_who, v) => resolve(v.toString())));
const receipt = await (await probe.set(5)).wait();
out.status = receipt.status;
out.logs = receipt.logs.length;
out.polled = await polled;

// An event over WebSocket (eth_subscribe "logs").
const ws = new ethers.WebSocketProvider(wsUrl);
const watched = new ethers.Contract(address, artifact.abi, ws);
const pushed = new Promise((resolve) => watched.once("ValueSet", (_who, v) => resolve(v.toString())));
await new Promise((resolve) => setTimeout(resolve, 300)); // the subscription is in place
await (await probe.set(6)).wait();
out.pushed = await pushed;

// A revert's reason, from eth_call's error data.
try {
  await probe.failWithReason.staticCall();
  out.revert = null;
} catch (error) {
  out.revert = error.reason;
}

// Past events by eth_getLogs, and the state they left.
out.events = (await probe.queryFilter("ValueSet")).map((event) => event.args[1].toString());
out.value = (await probe.value()).toString();
out.nonce = await wallet.getNonce();

console.log(JSON.stringify(out));
await ws.destroy();
http.destroy();
