// Runs a circuit's circom2 wasm on a batch of inputs with snarkjs's witness calculator, which
// checks every constraint as it goes. Reads {"wasm": path, "inputs": [...]} on stdin; prints
// one JSON list: null for a witness that satisfies the circuit, else the calculator's message
// ("Assert Failed. Error in template QuadLevel_12 line: 28\nError in template ...").
import * as snarkjs from "snarkjs";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const { wasm, inputs } = JSON.parse(text);
const results = [];
for (const input of inputs) {
  try {
    await snarkjs.wtns.calculate(input, wasm, { type: "mem" });
    results.push(null);
  } catch (error) {
    results.push(error.message);
  }
}
process.stdout.write(JSON.stringify(results) + "\n");
