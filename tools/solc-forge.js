#!/usr/bin/env node
/*
 * A native-solc stand-in for forge, backed by the pinned `solc` npm package (emscripten build).
 * Forge needs a solc executable; the machines that build Cinder cannot download one. This script
 * answers `--version` like solc and otherwise compiles the standard JSON read from stdin,
 * resolving imports against --base-path, --include-path and the project root.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const projectRoot = path.resolve(__dirname, "..");
const solc = require(require.resolve("solc", { paths: [projectRoot] }));
const args = process.argv.slice(2);

if (args.includes("--version") || args.includes("-v")) {
  process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

if (!args.includes("--standard-json")) {
  process.stderr.write("solc-forge: only --version and --standard-json are supported\n");
  process.exit(2);
}

/** Values of a repeatable flag, accepting both `--flag value` and `--flag=value`. */
function flagValues(name) {
  const out = [];
  args.forEach((arg, i) => {
    if (arg === name && i + 1 < args.length) out.push(args[i + 1]);
    else if (arg.startsWith(`${name}=`)) out.push(arg.slice(name.length + 1));
  });
  return out.flatMap((v) => v.split(",")).filter(Boolean);
}

const roots = [
  ...flagValues("--base-path"),
  ...flagValues("--include-path"),
  ...flagValues("--allow-paths"),
  projectRoot,
  path.join(projectRoot, "node_modules"),
].map((p) => path.resolve(p));

function findImports(importPath) {
  const candidates = path.isAbsolute(importPath)
    ? [importPath]
    : roots.map((root) => path.join(root, importPath));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
      return { contents: fs.readFileSync(candidate, "utf8") };
    }
  }
  return { error: `File not found: ${importPath} (searched ${roots.join(", ")})` };
}

const input = fs.readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
