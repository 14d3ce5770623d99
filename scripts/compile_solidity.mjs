#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Compiles one Solidity file outside contracts/ (the snarkjs-exported verifier that the
// settlement benchmark and tests measure against) with the settings of
// scripts/compile_contracts.mjs, and prints {abi, bytecode} of the contract named on the
// command line:
//
//   node scripts/compile_solidity.mjs <file.sol> <ContractName>

import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";

const require = createRequire(import.meta.url);
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "prague",
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } },
};

const [file, name] = process.argv.slice(2);
if (!file || !name) {
  console.error("usage: compile_solidity.mjs <file.sol> <ContractName>");
  process.exit(2);
}
const source = path.basename(file);
const input = {
  language: "Solidity",
  sources: { [source]: { content: fs.readFileSync(file, "utf8") } },
  settings: SETTINGS,
};
const output = JSON.parse(require("solc").compile(JSON.stringify(input)));
const errors = (output.errors ?? []).filter((d) => d.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage.trimEnd());
  process.exit(1);
}
const contract = output.contracts[source][name];
if (!contract) {
  console.error(`no contract ${name} in ${file}`);
  process.exit(1);
}
console.log(JSON.stringify({ abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` }));
