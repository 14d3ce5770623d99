// Builds the browser plugin into build/plugin/ (load that folder as an unpacked extension):
// esbuild bundles each page's script with its npm dependencies (ethers, snarkjs's browser
// build), and the manifest, pages and styles are copied beside them. The output carries a
// stamp of everything it was built from, and a build whose stamp matches is skipped.
//
//   node plugin/build.mjs [--force]      prints the output folder

import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = dirname(here);
const source = join(here, "src");
const out = join(root, "build", "plugin");
const stampFile = join(out, ".build-stamp");
const ENTRIES = ["background.js", "offscreen.js", "prover_worker.js", "popup.js", "options.js"];
const COPIED = (name) => name.endsWith(".html") || name.endsWith(".css");

function computeStamp() {
  const hash = createHash("sha256");
  const inputs = [
    join(here, "manifest.json"),
    join(here, "build.mjs"),
    join(root, "package-lock.json"),
    ...readdirSync(source).sort().map((name) => join(source, name)),
  ];
  for (const path of inputs) {
    hash.update(path.slice(root.length));
    hash.update(readFileSync(path));
  }
  return hash.digest("hex");
}

const stamp = computeStamp();
const force = process.argv.includes("--force");
if (!force && existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp) {
  console.log(out);
  process.exit(0);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ENTRIES.map((name) => join(source, name)),
  outdir: out,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "chrome116",
  conditions: ["browser"],
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
});
copyFileSync(join(here, "manifest.json"), join(out, "manifest.json"));
for (const name of readdirSync(source).filter(COPIED)) {
  copyFileSync(join(source, name), join(out, name));
}
writeFileSync(stampFile, stamp);
console.log(out);
