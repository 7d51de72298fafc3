#!/usr/bin/env node
/*
 * Runs the forge binary shipped by the platform package @foundry-rs/forge-<os>-<arch> (an optional
 * dependency, so each machine installs only its own). The npm wrapper package @foundry-rs/forge is not
 * used: it lists platform packages that the registry does not publish, which breaks `npm ci`.
 */
"use strict";
const { spawnSync } = require("node:child_process");
const path = require("node:path");

const platforms = {
  "linux-x64": "@foundry-rs/forge-linux-amd64",
  "darwin-arm64": "@foundry-rs/forge-darwin-arm64",
  "win32-x64": "@foundry-rs/forge-win32-amd64",
};
const key = `${process.platform}-${process.arch}`;
const pkg = platforms[key];
if (!pkg) {
  console.error(`forge: no prebuilt forge package for ${key}; install Foundry and run \`forge\` directly`);
  process.exit(2);
}
let binary;
try {
  const dir = path.dirname(
    require.resolve(`${pkg}/package.json`, { paths: [path.resolve(__dirname, "..")] }),
  );
  binary = path.join(dir, "bin", process.platform === "win32" ? "forge.exe" : "forge");
} catch {
  console.error(`forge: ${pkg} is not installed; run \`npm ci\` (it is an optional dependency for ${key})`);
  process.exit(2);
}
const result = spawnSync(binary, process.argv.slice(2), { stdio: "inherit" });
if (result.error) {
  console.error(`forge: could not run ${binary}: ${result.error.message}`);
  process.exit(2);
}
process.exit(result.status ?? 1);
