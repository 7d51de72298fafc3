/**
 * The demo's chain plumbing: Hardhat's in-process chain exposed over JSON-RPC (the relayers are separate clients,
 * as they would be against a real node), the deployment with its manifest file, time travel, and the step printer.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { TASK_NODE_CREATE_SERVER } from "hardhat/builtin-tasks/task-names";
import { loadDeployConfig, type DeployConfig } from "../../deploy/config";
import { deployCinder } from "../../deploy/deployment";
import type { CinderManifest } from "../../deploy/manifest";

export const ROOT = path.join(__dirname, "..", "..");
export const DAY = 86_400;

/** The parameter file of `npm run deploy:local`: CinderLocal, governed, with the local genesis. */
export const LOCAL_PARAMS = path.join(ROOT, "deploy", "parameters", "localhost.json");

/** Hardhat's JSON-RPC server (builtin `node:create-server` subtask), serving the in-process chain. */
interface JsonRpcServer {
  listen(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

/** Serves the in-process chain on 127.0.0.1 (a free port); returns its URL and a close function. */
export async function serveChain(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = (await hre.run(TASK_NODE_CREATE_SERVER, {
    hostname: "127.0.0.1",
    port: 0,
    provider: hre.network.provider,
  })) as JsonRpcServer;
  const { port } = await server.listen();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

/** Deploys CinderLocal with `params` as `deployer` and writes its manifest to a temporary folder. */
export async function deployLocal(
  deployer: string,
  dir: string,
): Promise<{ manifest: CinderManifest; file: string; config: DeployConfig }> {
  const config = loadDeployConfig(LOCAL_PARAMS);
  const { contracts, extras } = await deployCinder(hre, config, deployer);
  const chainId = Number((await hre.ethers.provider.getNetwork()).chainId);
  const manifest: CinderManifest = {
    version: 1,
    chainId,
    network: hre.network.name,
    module: config.module,
    deploymentId: "demo",
    startBlock: await hre.ethers.provider.getBlockNumber(),
    contracts,
    extras,
  };
  const file = path.join(dir, `${chainId}.json`);
  writeFileSync(file, JSON.stringify(manifest, null, 2));
  return { manifest, file, config };
}

/** A fresh temporary folder for the manifest and the relayers' databases. */
export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), "cinder-demo-"));
}

/** The latest block's timestamp: "now" for the contracts and the relayers. */
export async function now(): Promise<number> {
  const block = await hre.ethers.provider.getBlock("latest");
  if (!block) throw new Error("the chain has no latest block");
  return block.timestamp;
}

/** Mines a block at `timestamp`. */
export async function warpTo(timestamp: number): Promise<void> {
  await hre.network.provider.send("evm_setNextBlockTimestamp", [timestamp]);
  await hre.network.provider.send("evm_mine", []);
}

/** Moves the chain `seconds` forward (one block). */
export async function warp(seconds: number): Promise<void> {
  await hre.network.provider.send("evm_increaseTime", [seconds]);
  await hre.network.provider.send("evm_mine", []);
}

/** Moves to `offset` seconds after the next 00:00 UTC; returns the new UTC day number. */
export async function nextUtcDay(offset = 30): Promise<number> {
  const day = Math.floor((await now()) / DAY) + 1;
  await warpTo(day * DAY + offset);
  return day;
}

/** "2024-01-02 03:04 UTC" */
export function utc(timestamp: number | bigint): string {
  return `${new Date(Number(timestamp) * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

let stepNo = 0;

/** Prints a numbered step with its detail lines and the seconds since this process started. */
export function step(title: string, ...lines: string[]): void {
  stepNo += 1;
  const clock = `${elapsed().toFixed(1)}s`;
  console.log(`\n[${stepNo}] ${title}  (${clock})`);
  for (const line of lines) console.log(`    ${line}`);
}

/** Seconds since this process started (`hardhat run` forks it after its own start-up and compile check). */
export function elapsed(): number {
  return process.uptime();
}
