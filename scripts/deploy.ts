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
 * first. `CINDER_PARAMS` overrides the parameter file.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import hre, { ethers, ignition } from "hardhat";
import Cinder from "../deploy/modules/Cinder";
import CinderLocal from "../deploy/modules/CinderLocal";
import { ignitionParameters, loadDeployConfig } from "../deploy/config";
import {
  MANIFEST_CONTRACTS,
  manifestPath,
  readManifest,
  writeManifest,
  type CinderManifest,
  type ContractKey,
} from "../deploy/manifest";

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
  const deploymentId = `chain-${chainId}`;
  if (chainId === LOCAL_CHAIN_ID && network !== "hardhat") await wipeIfStale(deploymentId);

  const previous = readManifest(chainId);
  const startBlock = (await ethers.provider.getBlockNumber()) + 1;
  console.log(
    `Deploying ${config.module} to ${network} (chain ${chainId}) from ${path.relative(process.cwd(), file)} as ${deployer}`,
  );
  const module = config.module === "CinderLocal" ? CinderLocal : Cinder;
  const deployed = (await ignition.deploy(module, {
    parameters: ignitionParameters(config, deployer),
    deploymentId: network === "hardhat" ? undefined : deploymentId,
  })) as unknown as Record<string, { getAddress(): Promise<string> }>;

  const contracts = {} as Record<ContractKey, string>;
  for (const key of Object.keys(MANIFEST_CONTRACTS) as ContractKey[])
    contracts[key] = await deployed[key].getAddress();
  const extras: Record<string, string> = {};
  if ("stablecoin" in deployed) extras.stablecoin = await deployed.stablecoin.getAddress();
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

/** A restarted local node keeps the chain id but loses the contracts: the old journal must go. */
async function wipeIfStale(deploymentId: string) {
  const dir = path.join(hre.config.paths.ignition, "deployments", deploymentId);
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
