#!/usr/bin/env node
// The `cinder-relayer` command: runs relayer/cli.ts through ts-node (transpile only) from the repository.
"use strict";
const path = require("node:path");
const root = path.join(__dirname, "..", "..");
require("ts-node").register({ transpileOnly: true, project: path.join(root, "tsconfig.json") });
require(path.join(root, "relayer", "cli.ts"))
  .main(process.argv.slice(2))
  .then((code) => {
    if (code !== 0 || process.argv[2] !== "start") process.exit(code);
  });
