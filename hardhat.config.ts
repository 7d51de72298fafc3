import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

/** The Solidity version every contract is built with; pinned by the exact `solc` npm dependency. */
const SOLC_VERSION = "0.8.28";

// Hardhat 2 downloads compilers from the internet. Cinder builds offline: the `solc` npm package
// ships the official emscripten build, so the compiler bytes are pinned by package-lock.json.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  const installed = solc.version(); // e.g. "0.8.28+commit.7893614a.Emscripten.clang"
  if (args.solcVersion === installed.split("+")[0]) {
    return {
      compilerPath: path.join(path.dirname(require.resolve("solc/package.json")), "soljson.js"),
      isSolcJs: true,
      version: args.solcVersion,
      longVersion: installed,
    };
  }
  return runSuper();
});

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
    },
  },
  paths: {
    sources: "./contracts",
    tests: "./test/hardhat",
  },
  typechain: {
    outDir: "typechain-types",
    target: "ethers-v6",
  },
  gasReporter: {
    enabled: process.env.REPORT_GAS !== "false",
    offline: true,
    currency: "USD",
    reportPureAndViewMethods: false,
    excludeContracts: ["mocks/"],
    darkMode: false,
    noColors: true,
  },
  mocha: {
    timeout: 60_000,
  },
};

export default config;
