// The popup: what the prover is doing, from the last report the service worker kept, and
// the switch that starts or stops it.

import { formatZkpow } from "./market.js";

const $ = (id) => document.getElementById(id);

function render(settings, status) {
  $("active").checked = settings.active;
  $("active-label").textContent = settings.active ? "active" : "inactive";
  $("node-url").textContent = settings.nodeUrl;
  $("address").textContent = status?.address ?? settings.address ?? "no key yet: see Settings";
  $("height").textContent = status?.height ?? "–";
  const prover = status?.prover;
  $("active-until").textContent = prover ? String(prover.activeUntil) : "not a prover yet";
  if (prover) {
    const { text, debt } = formatZkpow(prover.balance);
    $("balance").textContent = debt ? `debt ${text.replace("-", "")}` : text;
    $("balance").className = debt ? "debt" : "";
    $("balance").dataset.wei = prover.balance;
  } else {
    $("balance").textContent = "–";
    $("balance").className = "";
  }
  $("proven").textContent = prover ? String(prover.proven) : "–";
  $("missed").textContent = prover ? String(prover.missed) : "–";
  const current = status?.current;
  $("job").className = current ? "job" : "job idle";
  $("job-label").textContent = current ? `proving ${current.label}` : "no job in progress";
  $("bounty").textContent = current ? formatZkpow(BigInt(current.bounty)).text : "";
  $("job-progress").value = current ? current.progress : 0;
  $("job-stage").textContent = current
    ? `${current.stage} · due at block ${current.deadline}`
    : settings.active
      ? `${status?.assigned ?? 0} job(s) assigned`
      : "switch on to prove for the market";
  $("history").replaceChildren(
    ...(status?.history ?? []).slice(0, 6).map((entry) => {
      const li = document.createElement("li");
      const time = entry.seconds ? ` in ${entry.seconds.toFixed(1)} s` : "";
      li.textContent = `${entry.label}: ${entry.state}${time}${entry.detail ? ` (${entry.detail})` : ""}`;
      return li;
    }),
  );
  $("error").textContent = settings.active ? (status?.lastError ?? "") : "";
}

async function refresh() {
  const settings = await chrome.storage.local.get({
    nodeUrl: "http://127.0.0.1:8646/",
    active: false,
    address: null,
  });
  const { status = null } = await chrome.storage.session.get("status");
  render(settings, status);
}

$("active").addEventListener("change", async (event) => {
  const { key } = await chrome.storage.local.get("key");
  if (!key) {
    event.target.checked = false;
    $("error").textContent = "set a prover key in Settings first";
    return;
  }
  await chrome.storage.local.set({ active: event.target.checked });
});

chrome.storage.onChanged.addListener(() => refresh());
refresh();
