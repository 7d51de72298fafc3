/**
 * The address manifest a deployment writes to `deployments/<chainId>.json`: what the relayer, the Hardhat tasks
 * and dApps read to find Cinder on a chain. `startBlock` is where log scans begin (no Cinder event is older).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The contracts of a deployment, by the name the Ignition modules return them under. */
export const MANIFEST_CONTRACTS = {
  token: "ProtocolToken",
  vault: "StakingVault",
  dailyCredit: "DailyCredit",
  computeCredit: "ComputeCredit",
  oracle: "FixedPriceOracle",
  engine: "BurnMintEngine",
  modelRegistry: "ModelRegistry",
  providerRegistry: "ProviderRegistry",
  voucherMarket: "VoucherMarket",
  jobCoordinator: "JobCoordinator",
  disputeModule: "DisputeModule",
  verifier: "ArbiterCommitteeVerifier",
  timelock: "CinderTimelock",
} as const;

export type ContractKey = keyof typeof MANIFEST_CONTRACTS;

export interface CinderManifest {
  /** Manifest format version. */
  version: 1;
  chainId: number;
  /** The Hardhat network name it was deployed with. */
  network: string;
  /** The Ignition module deployed (`Cinder` or `CinderLocal`) and its deployment id (journal folder). */
  module: string;
  deploymentId: string;
  /** First block to scan for Cinder events. */
  startBlock: number;
  /** Every protocol contract's address. */
  contracts: Record<ContractKey, string>;
  /** Extra contracts of a local genesis (the mock stablecoin). */
  extras: Record<string, string>;
}

/** Where manifests live: `$CINDER_DEPLOYMENTS_DIR`, else `<repo>/deployments`. */
export function deploymentsDir(): string {
  return process.env.CINDER_DEPLOYMENTS_DIR ?? path.join(__dirname, "..", "deployments");
}

export function manifestPath(chainId: number | bigint): string {
  return path.join(deploymentsDir(), `${chainId}.json`);
}

/** The manifest of `chainId`, or undefined when there is none. Throws on a malformed file. */
export function readManifest(chainId: number | bigint): CinderManifest | undefined {
  const file = manifestPath(chainId);
  if (!existsSync(file)) return undefined;
  const manifest = JSON.parse(readFileSync(file, "utf8")) as CinderManifest;
  for (const key of Object.keys(MANIFEST_CONTRACTS) as ContractKey[]) {
    if (!/^0x[0-9a-fA-F]{40}$/.test(manifest.contracts?.[key] ?? "")) {
      throw new Error(`${file} is not a Cinder manifest: contracts.${key} is missing or not an address`);
    }
  }
  return manifest;
}

/** The manifest of `chainId`, or a clear error naming the command that creates it. */
export function requireManifest(chainId: number | bigint, network: string): CinderManifest {
  const manifest = readManifest(chainId);
  if (!manifest) {
    throw new Error(
      `no Cinder deployment for chain ${chainId} (${manifestPath(chainId)} not found): ` +
        (network === "localhost"
          ? "run `npm run deploy:local` first"
          : `deploy with \`npm run deploy -- --network ${network}\``),
    );
  }
  return manifest;
}

/** Writes the manifest; returns whether the file changed. */
export function writeManifest(manifest: CinderManifest): boolean {
  const file = manifestPath(manifest.chainId);
  const text = JSON.stringify(manifest, null, 2) + "\n";
  if (existsSync(file) && readFileSync(file, "utf8") === text) return false;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return true;
}
