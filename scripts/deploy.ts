/**
 * Deploys Cinder to the selected network from its parameter file and writes the address manifest.
 *
 *   npx hardhat node                      # one shell
 *   npm run deploy:local                  # another: deploy/parameters/localhost.json → deployments/31337.json
 *   npm run deploy -- --network sepolia   # SEPOLIA_RPC_URL and DEPLOYER_KEY from the environment
 *
 * Idempotent and resumable through Ignition's journal (deploy/deployments/<id>/journal.jsonl): running it again
 * sends nothing when everything is deployed, and a deployment that failed halfway resumes where it stopped. On a
 * local chain that was restarted (the journal's contracts have no code any more) the stale journal is wiped
 * first, and so is one whose contracts or parameters changed since (a new local deployment). On a public network a
 * changed module stops with Ignition's reconciliation errors; `CINDER_RESET=1` deploys a new, separate instance.
 * `CINDER_PARAMS` overrides the parameter file.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { loadDeployConfig } from "../deploy/config";
import { deployCinder } from "../deploy/deployment";
import { manifestPath, readManifest, writeManifest, type CinderManifest } from "../deploy/manifest";

const LOCAL_CHAIN_ID = 31337n;

async function main() {
  const network = hre.network.name;
  const file =
    process.env.CINDER_PARAMS ??
    path.join(
      __dirname,
      "..",
      "deploy",
      "parameters",
      `${network === "hardhat" ? "localhost" : network}.json`,
    );
  if (!existsSync(file)) {
    throw new Error(
      `no deployment parameters for network "${network}": create ${path.relative(process.cwd(), file)} ` +
        "(copy deploy/parameters/sepolia.json and adjust), or point CINDER_PARAMS at a file",
    );
  }
  const config = loadDeployConfig(file);
  const signers = await ethers.getSigners();
  if (signers.length === 0) {
    throw new Error(
      `network "${network}" has no deployer account: export DEPLOYER_KEY (a 0x-prefixed private key)`,
    );
  }
  const deployer = signers[0].address;
  const chainId = (await ethers.provider.getNetwork()).chainId;
  // CINDER_DEPLOYMENT_ID keeps a separate journal (the relayer's tests deploy to their own node with it).
  const deploymentId = process.env.CINDER_DEPLOYMENT_ID ?? `chain-${chainId}`;
  if (chainId === LOCAL_CHAIN_ID && network !== "hardhat") await wipeIfStale(deploymentId);

  const previous = readManifest(chainId);
  const startBlock = (await ethers.provider.getBlockNumber()) + 1;
  console.log(
    `Deploying ${config.module} to ${network} (chain ${chainId}) from ${path.relative(process.cwd(), file)} as ${deployer}`,
  );
  const deploy = () => deployCinder(hre, config, deployer, network === "hardhat" ? undefined : deploymentId);
  if (process.env.CINDER_RESET === "1" && network !== "hardhat") wipe(deploymentId, "CINDER_RESET=1");
  let deployed: Awaited<ReturnType<typeof deploy>>;
  try {
    deployed = await deploy();
  } catch (error) {
    const message = (error as Error).message;
    if (!/reconciliation/i.test(message)) throw error;
    if (chainId !== LOCAL_CHAIN_ID) {
      throw new Error(
        `${message}\nThe contracts or parameters changed since this network's deployment ${deploymentId}. ` +
          "To deploy a new, separate instance, run again with CINDER_RESET=1 (the old one stays on-chain).",
      );
    }
    // A local chain: the developer changed the contracts or parameters; deploy the new version afresh.
    wipe(deploymentId, "the contracts or parameters changed since the last local deployment");
    deployed = await deploy();
  }

  const { contracts, extras } = deployed;
  const sameDeployment = previous && previous.contracts.jobCoordinator === contracts.jobCoordinator;
  const manifest: CinderManifest = {
    version: 1,
    chainId: Number(chainId),
    network,
    module: config.module,
    deploymentId,
    startBlock: sameDeployment ? previous.startBlock : startBlock,
    contracts,
    extras,
  };
  if (network === "hardhat") {
    console.log("(in-process chain: nothing persists; use --network localhost with `npx hardhat node`)");
    return;
  }
  const changed = writeManifest(manifest);
  console.log(
    `${changed ? "Wrote" : "Unchanged:"} ${path.relative(process.cwd(), manifestPath(chainId))}` +
      (sameDeployment ? " (already deployed: nothing sent)" : ""),
  );
  for (const [key, address] of Object.entries({ ...contracts, ...extras }))
    console.log(`  ${key.padEnd(17)} ${address}`);
}

function journalDir(deploymentId: string) {
  return path.join(hre.config.paths.ignition, "deployments", deploymentId);
}

function wipe(deploymentId: string, why: string) {
  const dir = journalDir(deploymentId);
  if (!existsSync(dir)) return;
  console.log(`Starting a new deployment (${why}): wiping the journal ${path.relative(process.cwd(), dir)}`);
  rmSync(dir, { recursive: true, force: true });
}

/** A restarted local node keeps the chain id but loses the contracts: the old journal must go. */
async function wipeIfStale(deploymentId: string) {
  const dir = journalDir(deploymentId);
  const addressesFile = path.join(dir, "deployed_addresses.json");
  if (!existsSync(addressesFile)) return;
  const addresses = Object.values(JSON.parse(readFileSync(addressesFile, "utf8")) as Record<string, string>);
  for (const address of addresses) {
    if ((await ethers.provider.getCode(address)) === "0x") {
      console.log(`The local chain was restarted (no code at ${address}): wiping the stale journal ${dir}`);
      rmSync(dir, { recursive: true, force: true });
      return;
    }
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
