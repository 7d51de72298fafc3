/**
 * Shared helpers of the relayer's chain tests (node.integration, crash) and CLI tests (config): a real
 * `hardhat node` with a fresh CinderLocal deployment, funded participants, time travel, event queries, relayer
 * configuration files, and the `cinder-relayer` command as a child process.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, type HDNodeWallet, type Interface } from "ethers";
import YAML from "yaml";
import type { CinderManifest } from "../../deploy/manifest";
import type { RelayerConfig } from "../../relayer/config";
import type { DeliveryContext } from "../../relayer/delivery";
import {
  deployLocal,
  hardhatAccount,
  startHardhatNode,
  type HardhatNode,
} from "../../relayer/testing/localChain";
import {
  buyVouchers,
  cinderAt,
  fundAccount,
  mintComputeCredit,
  mintDailyCredit,
  registerProvider,
  requestArgs,
  STORIES_MODEL_ID,
  type Cinder,
  type JobRequest,
} from "../../relayer/testing/protocol";

export const ROOT = path.join(__dirname, "..", "..");
/** The tiny model every relayer test serves. */
export const MODEL_PATH = path.join(ROOT, "..", "shared", "models", "stories260K.gguf");
/** The `cinder-relayer` command. */
export const CLI = path.join(ROOT, "relayer", "bin", "cinder-relayer.js");

/** Price the test provider registers at (USD per unit). */
export const PROVIDER_PRICE_USD = "0.0001";

const tmpDirs: string[] = [];

/** A fresh temporary directory, removed by {@link removeTmpDirs}. */
export function tmpDir(prefix = "cinder-relayer-test-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tmpDirs.push(dir);
  return dir;
}

/** Removes every directory made by {@link tmpDir} (set KEEP_RELAYER_TEST_DIRS=1 to keep them for debugging). */
export function removeTmpDirs(): void {
  if (process.env.KEEP_RELAYER_TEST_DIRS) return;
  for (const dir of tmpDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A JSON-RPC provider that never serves stale nonces (see ctx: cacheTimeout -1). */
export function rpcProvider(url: string): JsonRpcProvider {
  return new JsonRpcProvider(url, undefined, { staticNetwork: true, cacheTimeout: -1 });
}

/** A `hardhat node` with a fresh deployment and the test's participants. */
export interface TestChain {
  node: HardhatNode;
  manifest: CinderManifest;
  manifestFile: string;
  provider: JsonRpcProvider;
  chainId: bigint;
  /** Account 0: deployer (CNDR supply, admin, arbiter). */
  deployer: NonceManager;
  /** Account 1: the relayer's provider key. */
  providerWallet: HDNodeWallet;
  /** Account 2: the requester. */
  requester: HDNodeWallet;
  /** Account 3: a second registered provider (direct requests to someone else). */
  otherProvider: HDNodeWallet;
  /** Account 4: an unrelated account (bad signatures). */
  stranger: HDNodeWallet;
  /** Every contract, connected to the deployer. */
  c: Cinder;
  /** EIP-712 delivery context (chain id, coordinator). */
  ctx: DeliveryContext;
  stop(): Promise<void>;
}

/** Starts a `hardhat node` and deploys CinderLocal to it (~20 s). Stops the node again if the deployment fails. */
export async function startTestChain(): Promise<TestChain> {
  const node = await startHardhatNode();
  try {
    const { manifest, file, dir } = await deployLocal(node.url);
    tmpDirs.push(dir);
    const provider = rpcProvider(node.url);
    const chainId = (await provider.getNetwork()).chainId;
    const deployer = new NonceManager(hardhatAccount(0, provider));
    const c = cinderAt(manifest, deployer);
    return {
      node,
      manifest,
      manifestFile: file,
      provider,
      chainId,
      deployer,
      providerWallet: hardhatAccount(1, provider),
      requester: hardhatAccount(2, provider),
      otherProvider: hardhatAccount(3, provider),
      stranger: hardhatAccount(4, provider),
      c,
      ctx: { chainId, coordinator: manifest.contracts.jobCoordinator },
      stop: async () => {
        provider.destroy();
        await node.stop();
      },
    };
  } catch (error) {
    await node.stop();
    throw error;
  }
}

/**
 * Funds and registers the provider (account 1, at {@link PROVIDER_PRICE_USD}), funds the requester (account 2)
 * and buys it `vouchers`; optionally mints it ComputeCredit and DailyCredit and registers account 3 as a second
 * provider.
 */
export async function setupParticipants(
  chain: TestChain,
  options: { vouchers: bigint; credits?: boolean; otherProvider?: boolean },
): Promise<void> {
  const { c, deployer, providerWallet, requester, otherProvider } = chain;
  const model = { modelIds: [STORIES_MODEL_ID], priceUsd: PROVIDER_PRICE_USD };
  await fundAccount(c, deployer, providerWallet.address, { cndr: "10000" });
  await fundAccount(c, deployer, requester.address, { cndr: "20000", usdc: "1000" });
  await registerProvider(c, providerWallet, model);
  await buyVouchers(c, requester, 1n, options.vouchers);
  if (options.credits) {
    await mintComputeCredit(c, requester, "100");
    await mintDailyCredit(c, requester, "5000", "1");
  }
  if (options.otherProvider) {
    await fundAccount(c, deployer, otherProvider.address, { cndr: "10000" });
    await registerProvider(c, otherProvider, model);
  }
}

/**
 * Requests `jobs` from `requester` back to back (explicit nonces and gas limit: no estimate or nonce query per
 * job); returns their ids in order.
 */
export async function requestJobs(c: Cinder, requester: HDNodeWallet, jobs: JobRequest[]): Promise<bigint[]> {
  const coordinator = c.jobCoordinator.connect(requester);
  let nonce = await requester.provider!.getTransactionCount(requester.address, "pending");
  const sent = [];
  for (const job of jobs) {
    const args = await requestArgs(c, job);
    sent.push(await coordinator.requestJob(...args, { nonce: nonce++, gasLimit: 1_000_000n }));
  }
  const ids: bigint[] = [];
  for (const tx of sent) {
    const receipt = await tx.wait();
    if (!receipt || receipt.status !== 1) throw new Error(`requestJob ${tx.hash} reverted`);
    const parsed = receipt.logs
      .map((log) => c.jobCoordinator.interface.parseLog(log))
      .find((p) => p?.name === "JobRequested");
    if (!parsed) throw new Error(`requestJob ${tx.hash} logged no JobRequested`);
    ids.push(parsed.args.jobId as bigint);
  }
  return ids;
}

/** Moves the chain's clock forward by `seconds` and mines a block. */
export async function warp(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send("evm_increaseTime", [seconds]);
  await provider.send("evm_mine", []);
}

/**
 * Seconds to warp so that results submitted before the warp can be finalized by the relayer at once: the
 * coordinator's challenge window plus the relayer's wait for a fuller batch (`provider.finalizeMaxWaitSeconds`,
 * chain time, when the configuration has it), plus one.
 */
export async function finalizeWarpSeconds(chain: TestChain, config: RelayerConfig): Promise<number> {
  const window = Number(await chain.c.jobCoordinator.challengeWindow());
  const batchWait = (config.provider as { finalizeMaxWaitSeconds?: number }).finalizeMaxWaitSeconds ?? 0;
  return window + batchWait + 1;
}

/**
 * Polls `fn` until it returns a truthy value (returned) or `timeoutMs` passes (then throws naming `what` and the
 * last value or error seen). `failIf` returning a reason stops the wait at once (a state that cannot recover).
 */
export async function waitFor<T>(
  what: string,
  fn: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; failIf?: () => string | undefined } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    const failure = options.failIf?.();
    if (failure) throw new Error(`gave up waiting for ${what}: ${failure}`);
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const shown =
        last instanceof Error
          ? last.message
          : JSON.stringify(last, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
      throw new Error(
        `timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${what} (last: ${shown})`,
      );
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 200));
  }
}

/** A decoded coordinator event. */
export interface CoordinatorEvent {
  name: string;
  jobId: bigint;
  args: Record<string, unknown> & unknown[];
  transactionHash: string;
  blockNumber: number;
}

/** Every JobCoordinator event with a `jobId` from `fromBlock` to the head. */
export async function coordinatorEvents(chain: TestChain, fromBlock = 0): Promise<CoordinatorEvent[]> {
  const iface = chain.c.jobCoordinator.interface as unknown as Interface;
  const logs = await chain.provider.getLogs({
    address: chain.manifest.contracts.jobCoordinator,
    fromBlock,
    toBlock: "latest",
  });
  const events: CoordinatorEvent[] = [];
  for (const log of logs) {
    const parsed = iface.parseLog({ topics: [...log.topics], data: log.data });
    if (!parsed || !parsed.fragment.inputs.some((input) => input.name === "jobId")) continue;
    events.push({
      name: parsed.name,
      jobId: parsed.args.jobId as bigint,
      args: parsed.args as unknown as CoordinatorEvent["args"],
      transactionHash: log.transactionHash,
      blockNumber: log.blockNumber,
    });
  }
  return events;
}

/** The events named `name` of job `jobId`. */
export function eventsOf(events: CoordinatorEvent[], name: string, jobId: bigint): CoordinatorEvent[] {
  return events.filter((e) => e.name === name && e.jobId === jobId);
}

/** A relayer configuration object (the YAML file's content) for the test chain; `extra` sections are merged. */
export function relayerConfig(options: {
  rpcUrl: string;
  manifest: string;
  database: string;
  keyEnv?: string;
  pollIntervalMs?: number;
  logLevel?: string;
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  const base: Record<string, unknown> = {
    chain: {
      rpcUrl: options.rpcUrl,
      manifest: options.manifest,
      confirmations: 0,
      pollIntervalMs: options.pollIntervalMs ?? 200,
    },
    key: { env: options.keyEnv ?? "RELAYER_KEY" },
    models: [
      {
        id: "stories260K",
        price: PROVIDER_PRICE_USD,
        inference: { backend: "llama", model: MODEL_PATH, threads: 1, maxTokens: 64 },
      },
    ],
    http: { port: 0 },
    database: options.database,
    log: { level: options.logLevel ?? "info" },
  };
  for (const [section, value] of Object.entries(options.extra ?? {})) {
    const current = base[section];
    base[section] =
      current &&
      typeof current === "object" &&
      !Array.isArray(current) &&
      value &&
      typeof value === "object" &&
      !Array.isArray(value)
        ? { ...current, ...value }
        : value;
  }
  return base;
}

/** Writes `config` as YAML to `dir/name`; returns the path. */
export function writeYaml(dir: string, name: string, config: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, YAML.stringify(config));
  return file;
}

/** The outcome of one `cinder-relayer` run. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `cinder-relayer <args>` to completion with exactly `env` added to a minimal environment. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: cliEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`cinder-relayer ${args.join(" ")} did not exit in ${timeoutMs} ms:\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      // Let the pipes drain.
      setImmediate(() => resolve({ code, signal, stdout, stderr }));
    });
  });
}

/** The child's environment: PATH/HOME and the like, never this process's secrets or RELAYER_* leftovers. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG", "NODE_OPTIONS"];
  const env: NodeJS.ProcessEnv = {};
  for (const name of keep) if (process.env[name] !== undefined) env[name] = process.env[name];
  return { ...env, ...extra };
}

/**
 * `cinder-relayer start` as a child process: output appended to `logFile` (JSON lines), its exit observed.
 */
export class RelayerProcess {
  /** Every relayer process started (so an after hook can kill them all, even those of a timed-out test). */
  static readonly all = new Set<RelayerProcess>();
  readonly child: ChildProcess;
  /** Output since this start (the log file keeps every start's). */
  output = "";
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly exited: Promise<void>;

  constructor(
    configFile: string,
    env: Record<string, string>,
    readonly logFile: string,
  ) {
    appendFileSync(logFile, `\n=== start ${new Date().toISOString()}\n`);
    this.child = spawn(process.execPath, [CLI, "start", "--config", configFile], {
      cwd: ROOT,
      env: cliEnv(env),
      stdio: ["ignore", "pipe", "pipe"],
    });
    RelayerProcess.all.add(this);
    const onData = (chunk: Buffer) => {
      this.output += chunk.toString();
      try {
        appendFileSync(logFile, chunk);
      } catch {
        // the test's folder is gone (after hook): keep the output in memory only
      }
    };
    this.child.stdout!.on("data", onData);
    this.child.stderr!.on("data", onData);
    this.exited = new Promise((resolve) =>
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal };
        RelayerProcess.all.delete(this);
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Waits until the output (of this start) matches `pattern`; fails early if the process exits. */
  async waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `relayer output ${pattern}`,
      () => {
        if (pattern.test(this.output)) return true;
        if (!this.running)
          throw new Error(`the relayer exited (${JSON.stringify(this.exit)}):\n${this.output.slice(-3000)}`);
        return false;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** SIGKILLs every relayer process still running. */
  static async killAll(): Promise<void> {
    await Promise.all([...RelayerProcess.all].map((relayer) => relayer.stop("SIGKILL")));
    RelayerProcess.all.clear();
  }

  /** Sends `signal` and waits for the exit (SIGKILL after `graceMs` if it does not stop). */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 15_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
