// Run by chain/testing/plugin_browser.py (selenium's executeAsyncScript) in one of the
// plugin's pages: proves a witness with the plugin's own prover worker, `repeat` times after a
// warm-up, the circuit's files fetched from the node as the plugin fetches them. Calls back
// {seconds: [...], verified} or {error}.
const [nodeUrl, circuit, witness, repeat, done] = arguments;
(async () => {
  const call = async (method, params) => {
    const r = await fetch(nodeUrl, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({jsonrpc: "2.0", id: 1, method, params})});
    return (await r.json()).result;
  };
  const entry = (await call("duet_getCircuits", [])).circuits.find((c) => c.name === circuit);
  const get = async (kind) =>
    new Uint8Array(await (await fetch(new URL(entry.files[kind].url, nodeUrl))).arrayBuffer());
  const [wasm, zkey] = [await get("wasm"), await get("zkey")];
  const vkey = JSON.parse(new TextDecoder().decode(await get("vkey")));
  const worker = new Worker("prover_worker.js", {type: "module"});
  let next = 1;
  const run = (cmd, fields) => new Promise((resolve, reject) => {
    const id = next++;
    worker.onmessage = (e) => {
      if (e.data.id !== id || e.data.progress !== undefined) return;
      if (e.data.error) reject(new Error(e.data.error)); else resolve(e.data);
    };
    worker.postMessage({id, cmd, ...fields});
  });
  const seconds = [];
  let verified = true;
  for (let i = 0; i <= repeat; i++) {
    const start = performance.now();
    const out = await run("prove", {wasm: wasm.slice().buffer, zkey: zkey.slice().buffer, input: witness});
    if (i > 0) seconds.push((performance.now() - start) / 1000);
    verified = verified && (await run("verify", {vkey, publicSignals: out.publicSignals, proof: out.proof})).valid;
  }
  worker.terminate();
  done({seconds, verified});
})().catch((error) => done({error: String(error)}));
