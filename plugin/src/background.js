// The service worker: it keeps the settings (node URL, the prover's key, active or not) in
// extension storage, runs the offscreen document that proves while the plugin is active,
// and keeps the prover's last report in session storage for the popup. It holds no state
// of its own: Chrome stops it when idle, and every event reads storage again.

const OFFSCREEN_URL = "offscreen.html";
const KEEPALIVE_ALARM = "duet-keepalive";

async function readSettings() {
  const { nodeUrl = "http://127.0.0.1:8646/", key = null, active = false } =
    await chrome.storage.local.get(["nodeUrl", "key", "active"]);
  return { nodeUrl, key, active };
}

async function hasOffscreen() {
  const contexts = await chrome.runtime.getContexts({ contextTypes: ["OFFSCREEN_DOCUMENT"] });
  return contexts.length > 0;
}

let syncing = Promise.resolve();

/** Make the offscreen document match the settings: running with them while active, gone
 * otherwise. Serialized: storage events can come in bursts. */
function sync(restart = false) {
  syncing = syncing.then(() => doSync(restart)).catch((error) => console.error(error));
  return syncing;
}

async function doSync(restart) {
  const settings = await readSettings();
  const shouldRun = settings.active && settings.key !== null && settings.nodeUrl !== "";
  const running = await hasOffscreen();
  if (running && (!shouldRun || restart)) {
    await chrome.offscreen.closeDocument();
    await chrome.storage.session.set({ status: null });
  }
  if (shouldRun && (!running || restart)) {
    await chrome.offscreen.createDocument({
      url: OFFSCREEN_URL,
      reasons: ["WORKERS"],
      justification: "proves the market's jobs with snarkjs in a Web Worker",
    });
  }
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (message.type === "get-settings") {
    readSettings().then(sendResponse);
    return true;
  }
  if (message.type === "status") {
    // In the same queue as sync(): a report sent just before the document closed must not
    // outlive it.
    syncing = syncing
      .then(async () => {
        const { active } = await readSettings();
        if (active && (await hasOffscreen())) {
          await chrome.storage.session.set({ status: message.status });
        }
      })
      .catch((error) => console.error(error));
  }
  return false;
});

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== "local") return;
  const restart = "nodeUrl" in changes || "key" in changes;
  if (restart || "active" in changes) sync(restart);
});

chrome.runtime.onStartup.addListener(() => sync());
chrome.runtime.onInstalled.addListener(() => {
  chrome.alarms.create(KEEPALIVE_ALARM, { periodInMinutes: 1 });
  sync();
});
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === KEEPALIVE_ALARM) sync();
});
