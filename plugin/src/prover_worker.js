// The Web Worker that proves: snarkjs on the circuit files the offscreen document hands it.
// One request at a time; a job let go is stopped by terminating the worker.
//   {id, cmd: "prove", wasm, zkey, input}        → {id, proof, publicSignals}
//   {id, cmd: "verify", vkey, publicSignals, proof} → {id, valid}
//   {id, cmd: "exportVkey", zkey}                → {id, vkey}
// and, while proving, {id, progress: 0..1, stage}.

import { groth16, zKey } from "snarkjs";

// snarkjs's own debug lines, in the order a Groth16 proof passes them, with the share of the
// work done when each is reached (measured on the transfer circuit): the progress bar.
const STAGES = [
  ["Reading Wtns", 0.2, "reading the witness"],
  ["Reading Coeffs", 0.25, "reading the key"],
  ["Building ABC", 0.3, "building A, B, C"],
  ["Join ABC", 0.5, "FFTs"],
  ["Reading A Points", 0.55, "multiexp A"],
  ["Reading B1 Points", 0.65, "multiexp B1"],
  ["Reading B2 Points", 0.72, "multiexp B2"],
  ["Reading C Points", 0.85, "multiexp C"],
  ["Reading H Points", 0.9, "multiexp H"],
];

function progressLogger(id) {
  const report = (message) => {
    const stage = STAGES.find(([line]) => line === message);
    if (stage) self.postMessage({ id, progress: stage[1], stage: stage[2] });
  };
  return { debug: report, info: () => {}, warn: () => {}, error: () => {} };
}

self.onmessage = async (event) => {
  const { id, cmd } = event.data;
  try {
    if (cmd === "prove") {
      const { wasm, zkey, input } = event.data;
      self.postMessage({ id, progress: 0.02, stage: "computing the witness" });
      const { proof, publicSignals } = await groth16.fullProve(
        input,
        new Uint8Array(wasm),
        new Uint8Array(zkey),
        progressLogger(id),
      );
      self.postMessage({ id, proof, publicSignals });
    } else if (cmd === "verify") {
      const { vkey, publicSignals, proof } = event.data;
      const valid = await groth16.verify(vkey, publicSignals, proof);
      self.postMessage({ id, valid });
    } else if (cmd === "exportVkey") {
      const vkey = await zKey.exportVerificationKey(new Uint8Array(event.data.zkey));
      self.postMessage({ id, vkey });
    } else {
      throw new Error(`unknown command ${cmd}`);
    }
  } catch (error) {
    self.postMessage({ id, error: String(error && error.message ? error.message : error) });
  }
};
