// The options page: which node to prove for, and the prover's key.

import { Wallet } from "ethers";
import { normalizeNodeUrl } from "./node_link.js";

const $ = (id) => document.getElementById(id);
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

function say(message, error = "") {
  $("message").textContent = message;
  $("error").textContent = error;
}

async function load() {
  const { nodeUrl = "http://127.0.0.1:8646/", address = null } = await chrome.storage.local.get([
    "nodeUrl",
    "address",
  ]);
  $("node-url").value = nodeUrl;
  $("address").textContent = address ?? "none yet";
}

$("save-node").addEventListener("click", async () => {
  let url;
  try {
    url = normalizeNodeUrl($("node-url").value);
  } catch (error) {
    say("", `not a node URL: ${error.message}`);
    return;
  }
  const { hostname, protocol } = new URL(url);
  if (!LOCAL_HOSTS.has(hostname)) {
    const granted = await chrome.permissions.request({ origins: [`${protocol}//${hostname}/*`] });
    if (!granted) {
      say("", `without access to ${hostname} the plugin cannot reach that node`);
      return;
    }
  }
  await chrome.storage.local.set({ nodeUrl: url });
  $("node-url").value = url;
  say(`saved: ${url}`);
});

async function storeKey(wallet) {
  await chrome.storage.local.set({ key: wallet.privateKey, address: wallet.address });
  $("address").textContent = wallet.address;
}

$("generate").addEventListener("click", async () => {
  const { key } = await chrome.storage.local.get("key");
  if (key && !confirm("Replace the current key? Its balance stays with its address.")) return;
  const wallet = Wallet.createRandom();
  await storeKey(wallet);
  say(`new key: ${wallet.address}. Send it some ZKPoW for heartbeat fees.`);
});

$("import").addEventListener("click", async () => {
  let wallet;
  try {
    wallet = new Wallet($("import-key").value.trim());
  } catch {
    say("", "not a private key: 32 bytes of hex, 0x first");
    return;
  }
  $("import-key").value = "";
  await storeKey(wallet);
  say(`imported: ${wallet.address}`);
});

load();
