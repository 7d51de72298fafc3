/**
 * One Cinder deployment from a validated parameter file: the module the file names, deployed through Ignition,
 * and the addresses a manifest records. Shared by scripts/deploy.ts and the tests' local-deployment fixture, so
 * the tests exercise the real deployment path.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import Cinder from "./modules/Cinder";
import CinderLocal from "./modules/CinderLocal";
import { ignitionParameters, type DeployConfig } from "./config";
import { MANIFEST_CONTRACTS, type ContractKey } from "./manifest";

type Deployed = Record<string, { getAddress(): Promise<string> }>;

/**
 * Deploys (or, with a journal under `deploymentId`, reconciles) `config.module` as `deployer`; returns every
 * protocol contract's address and the local genesis's extras (the mock stablecoin).
 */
export async function deployCinder(
  hre: HardhatRuntimeEnvironment,
  config: DeployConfig,
  deployer: string,
  deploymentId?: string,
): Promise<{ contracts: Record<ContractKey, string>; extras: Record<string, string> }> {
  const deployed = (await hre.ignition.deploy(config.module === "CinderLocal" ? CinderLocal : Cinder, {
    parameters: ignitionParameters(config, deployer),
    deploymentId,
  })) as unknown as Deployed;
  const contracts = {} as Record<ContractKey, string>;
  for (const key of Object.keys(MANIFEST_CONTRACTS) as ContractKey[]) {
    contracts[key] = await deployed[key].getAddress();
  }
  const extras: Record<string, string> = {};
  if ("stablecoin" in deployed) extras.stablecoin = await deployed.stablecoin.getAddress();
  return { contracts, extras };
}
