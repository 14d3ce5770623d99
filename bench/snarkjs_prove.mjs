// snarkjs side of bench/prover.py: witness and Groth16 proof, timed inside one Node process.
// Usage: node bench/snarkjs_prove.mjs ZKEY WASM INPUT_JSON WTNS_OUT REPEAT
// Writes the witness to WTNS_OUT (the embedded prover proves the same one) and prints
// {"witness_s", "prove_s", "verified"} (medians over REPEAT runs) as the last line.
import { readFileSync } from "node:fs";
import * as snarkjs from "snarkjs";

const [zkey, wasm, inputPath, wtnsPath, repeatArg] = process.argv.slice(2);
const repeat = Number(repeatArg || "3");
const input = JSON.parse(readFileSync(inputPath, "utf8"));
const vkey = await snarkjs.zKey.exportVerificationKey(zkey);

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

const witnessTimes = [];
for (let i = 0; i < repeat; i++) {
  const start = process.hrtime.bigint();
  await snarkjs.wtns.calculate(input, wasm, wtnsPath);
  witnessTimes.push(seconds(start));
}

let verified = true;
const proveTimes = [];
await snarkjs.groth16.prove(zkey, wtnsPath); // warm-up: the first call loads the curve
for (let i = 0; i < repeat; i++) {
  const start = process.hrtime.bigint();
  const { proof, publicSignals } = await snarkjs.groth16.prove(zkey, wtnsPath);
  proveTimes.push(seconds(start));
  verified = verified && (await snarkjs.groth16.verify(vkey, publicSignals, proof));
}
console.log(JSON.stringify({ witness_s: median(witnessTimes), prove_s: median(proveTimes), verified }));
process.exit(0);
