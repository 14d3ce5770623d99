#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Compiles every contracts/**/*.sol (except contracts/circuits/) with solcjs through its
// standard JSON interface and writes one artifact per contract:
//
//   build/contracts/<ContractName>.json = {abi, bytecode, deployedBytecode, source}
//
// Loading the compiler alone takes a second or two, so the work is skipped when
// build/contracts/.stamp holds the hash of the sources, the compiler version, the settings and
// this script. Exits non-zero, naming every error, when a source does not compile.

import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CONTRACTS_DIR = "contracts";
// Circuits are circom, not Solidity, and have their own build; keep them out of solc's way.
const EXCLUDED_DIRS = new Set(["contracts/circuits"]);
const OUT_DIR = path.join(ROOT, "build", "contracts");
const STAMP_FILE = path.join(OUT_DIR, ".stamp");

// The fast chain and anvil both run Prague; pin it rather than follow the compiler's default.
const SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: "prague",
  outputSelection: {
    "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
  },
};

const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`compile_contracts: ${message}`);
  process.exit(1);
}

/** Source unit names (POSIX paths relative to the repository root) of every .sol file. */
function findSources(dir) {
  const found = [];
  for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory() && !EXCLUDED_DIRS.has(rel)) {
      found.push(...findSources(rel));
    } else if (entry.isFile() && entry.name.endsWith(".sol")) {
      found.push(rel);
    }
  }
  return found.sort();
}

function solcVersion() {
  return require("solc/package.json").version;
}

function computeStamp(sources) {
  const hash = createHash("sha256");
  hash.update(`solc ${solcVersion()}\n`);
  hash.update(JSON.stringify(SETTINGS));
  hash.update(fs.readFileSync(fileURLToPath(import.meta.url)));
  for (const [name, { content }] of Object.entries(sources)) {
    hash.update(`\0${name}\0${content}`);
  }
  return hash.digest("hex");
}

function isUpToDate(stamp) {
  return fs.existsSync(STAMP_FILE) && fs.readFileSync(STAMP_FILE, "utf8").trim() === stamp;
}

/** Resolves imports against the repository root, then node_modules (e.g. "pkg/X.sol"). */
function findImport(importPath) {
  for (const base of [ROOT, path.join(ROOT, "node_modules")]) {
    const candidate = path.resolve(base, importPath);
    if (candidate.startsWith(base + path.sep) && fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `file not found: ${importPath}` };
}

function compile(sources) {
  const solc = require("solc");
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport }));
  const diagnostics = output.errors ?? [];
  for (const d of diagnostics.filter((d) => d.severity !== "error")) {
    console.warn(d.formattedMessage.trimEnd());
  }
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0) {
    for (const e of errors) console.error(e.formattedMessage.trimEnd());
    fail(`${errors.length} error(s); nothing was written`);
  }
  return output.contracts;
}

/** One artifact per contract, keyed by contract name, which must be unique across sources. */
function collectArtifacts(contracts) {
  const artifacts = new Map();
  for (const [source, byName] of Object.entries(contracts)) {
    for (const [name, c] of Object.entries(byName)) {
      if (artifacts.has(name)) {
        fail(`contract name ${name} is declared in both ${artifacts.get(name).source} and ${source}`);
      }
      artifacts.set(name, {
        abi: c.abi,
        bytecode: `0x${c.evm.bytecode.object}`,
        deployedBytecode: `0x${c.evm.deployedBytecode.object}`,
        source,
      });
    }
  }
  return artifacts;
}

function writeAtomically(file, text) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function writeArtifacts(artifacts, stamp) {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  // Remove the stamp first, so an interrupted run is never mistaken for a finished one.
  fs.rmSync(STAMP_FILE, { force: true });
  // Drop artifacts of contracts that no longer exist.
  for (const f of fs.readdirSync(OUT_DIR)) {
    if (f.endsWith(".json") && !artifacts.has(f.slice(0, -".json".length))) {
      fs.rmSync(path.join(OUT_DIR, f));
    }
  }
  for (const [name, artifact] of artifacts) {
    writeAtomically(path.join(OUT_DIR, `${name}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
  }
  writeAtomically(STAMP_FILE, `${stamp}\n`);
}

function main() {
  const names = findSources(CONTRACTS_DIR);
  if (names.length === 0) fail(`no .sol files under ${CONTRACTS_DIR}/`);
  const sources = Object.fromEntries(
    names.map((n) => [n, { content: fs.readFileSync(path.join(ROOT, n), "utf8") }]),
  );
  const stamp = computeStamp(sources);
  const outRel = path.relative(ROOT, OUT_DIR);
  if (isUpToDate(stamp)) {
    console.log(`contracts up to date (${names.length} sources, solc ${solcVersion()}): ${outRel}/`);
    return;
  }
  const artifacts = collectArtifacts(compile(sources));
  writeArtifacts(artifacts, stamp);
  const list = [...artifacts.keys()].sort().join(", ");
  console.log(`compiled ${names.length} sources with solc ${solcVersion()} into ${outRel}/: ${list}`);
}

main();
