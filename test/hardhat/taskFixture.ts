import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { loadDeployConfig } from "../../deploy/config";
import { deployCinder } from "../../deploy/deployment";
import { writeManifest } from "../../deploy/manifest";

/** The parameter file `npm run deploy:local` uses. */
export const LOCAL_PARAMS = path.join(__dirname, "..", "..", "deploy", "parameters", "localhost.json");

/**
 * What `npm run deploy:local` produces, on the in-process chain: CinderLocal deployed with
 * deploy/parameters/localhost.json (so under its timelock, with the local genesis: mock USDC, the stories260K
 * model, voucher class 1) and its manifest written to a fresh temporary CINDER_DEPLOYMENTS_DIR, where the
 * `cinder:*` tasks find it. Use with `loadFixture`.
 */
export async function deployLocalFixture() {
  process.env.CINDER_DEPLOYMENTS_DIR = mkdtempSync(path.join(os.tmpdir(), "cinder-deployments-"));
  const config = loadDeployConfig(LOCAL_PARAMS);
  const [deployer] = await ethers.getSigners();
  const { contracts, extras } = await deployCinder(hre, config, deployer.address);
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  writeManifest({
    version: 1,
    chainId,
    network: hre.network.name,
    module: config.module,
    deploymentId: `chain-${chainId}`,
    startBlock: 0,
    contracts,
    extras,
  });
  return { config, contracts, deployer, deploymentsDir: process.env.CINDER_DEPLOYMENTS_DIR };
}
