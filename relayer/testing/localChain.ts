/**
 * A real `hardhat node` process for the relayer's integration tests and benchmark, deployed with the same script
 * users run (`scripts/deploy.ts`, CinderLocal with deploy/parameters/localhost.json) into a temporary manifest
 * folder and its own Ignition journal, so it never touches a developer's local deployment.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { HDNodeWallet, Mnemonic, type Provider } from "ethers";
import { fetchChainId } from "../chain/rpc";
import type { CinderManifest } from "../../deploy/manifest";

const ROOT = path.join(__dirname, "..", "..");
const HARDHAT_CLI = path.join(ROOT, "node_modules", "hardhat", "internal", "cli", "cli.js");

/** The mnemonic of Hardhat's default accounts (public test keys: never use them with real funds). */
export const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

/** Hardhat default account `index` as a wallet (connected to `provider` when given). */
export function hardhatAccount(index: number, provider?: Provider): HDNodeWallet {
  const wallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(HARDHAT_MNEMONIC), `m/44'/60'/0'/0/${index}`);
  return provider ? wallet.connect(provider) : wallet;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface HardhatNode {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops the node (SIGTERM, then SIGKILL). */
  stop(): Promise<void>;
}

/** Starts `hardhat node` on `port` (a free one by default) and waits until it answers JSON-RPC. */
export async function startHardhatNode(port?: number): Promise<HardhatNode> {
  const p = port ?? (await freePort());
  const child = spawn(
    process.execPath,
    [HARDHAT_CLI, "node", "--hostname", "127.0.0.1", "--port", String(p)],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, REPORT_GAS: "false" },
    },
  );
  let output = "";
  child.stdout!.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  child.stderr!.on("data", (chunk) => (output = (output + chunk).slice(-4000)));
  const url = `http://127.0.0.1:${p}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`hardhat node exited (${child.exitCode}):\n${output}`);
    try {
      await fetchChainId(url, 2000);
      break;
    } catch {
      if (Date.now() - started > 60_000) {
        child.kill("SIGKILL");
        throw new Error(`hardhat node did not start in 60 s:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { url, port: p, process: child, stop };
}

/**
 * Deploys CinderLocal to the node at `url` with `scripts/deploy.ts`; returns the manifest and its file (in a
 * temporary folder). Takes ~15 s.
 */
export async function deployLocal(
  url: string,
): Promise<{ manifest: CinderManifest; file: string; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cinder-relayer-deploy-"));
  const deploymentId = `relayer-test-${path.basename(dir)}`;
  const env = {
    ...process.env,
    LOCAL_RPC_URL: url,
    CINDER_DEPLOYMENTS_DIR: dir,
    CINDER_DEPLOYMENT_ID: deploymentId,
    REPORT_GAS: "false",
  };
  const child = spawn(process.execPath, [HARDHAT_CLI, "run", "--network", "localhost", "scripts/deploy.ts"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  rmSync(path.join(ROOT, "deploy", "deployments", deploymentId), { recursive: true, force: true });
  if (code !== 0) throw new Error(`deploy failed (${code}):\n${output}`);
  const file = path.join(dir, "31337.json");
  return { manifest: JSON.parse(readFileSync(file, "utf8")) as CinderManifest, file, dir };
}
