// circomlibjs's Poseidon on a batch: reads a JSON list of input lists (decimal strings) on
// stdin, prints the JSON list of hashes (decimal strings).
import { buildPoseidon } from "circomlibjs";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const poseidon = await buildPoseidon();
const hashes = JSON.parse(text).map((inputs) =>
  poseidon.F.toString(poseidon(inputs.map((value) => BigInt(value))))
);
process.stdout.write(JSON.stringify(hashes) + "\n");
