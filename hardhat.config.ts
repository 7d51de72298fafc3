import path from "node:path";
import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";
import "./tasks";

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

/**
 * Public networks, configured from the environment: `<NAME>_RPC_URL` (e.g. SEPOLIA_RPC_URL) and DEPLOYER_KEY
 * (0x-prefixed private key). Selecting one without its variables fails at once with what to set.
 */
const REMOTE_NETWORKS = { sepolia: 11155111, holesky: 17000, baseSepolia: 84532 } as const;

function envName(network: string) {
  return `${network.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase()}_RPC_URL`;
}

function selectedNetwork(): string | undefined {
  const flag = process.argv.indexOf("--network");
  return flag >= 0 ? process.argv[flag + 1] : process.env.HARDHAT_NETWORK;
}

const selected = selectedNetwork();
if (selected && selected in REMOTE_NETWORKS) {
  const missing = [envName(selected), "DEPLOYER_KEY"].filter((name) => !process.env[name]);
  if (missing.length) {
    throw new Error(
      `--network ${selected} needs ${missing.join(" and ")} in the environment ` +
        `(export ${envName(selected)}=https://… DEPLOYER_KEY=0x…)`,
    );
  }
}

const remoteNetworks = Object.fromEntries(
  Object.entries(REMOTE_NETWORKS).map(([name, chainId]) => [
    name,
    {
      url: process.env[envName(name)] ?? "http://127.0.0.1:0",
      chainId,
      accounts: process.env.DEPLOYER_KEY ? [process.env.DEPLOYER_KEY] : [],
    },
  ]),
);

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
    ignition: "./deploy",
  },
  networks: {
    localhost: { url: process.env.LOCAL_RPC_URL ?? "http://127.0.0.1:8545" },
    ...remoteNetworks,
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
