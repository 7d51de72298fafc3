/**
 * Relayer throughput benchmark (`npm run bench:relayer`, or
 * `npx ts-node --transpile-only scripts/bench-relayer.ts --jobs 200`). No Hardhat runtime: it starts its own
 * `hardhat node` process and deploys CinderLocal into it (relayer/testing/localChain.ts).
 *
 * Setup: provider = account 1 (registered for stories260K), requesters = accounts 2… (each buys vouchers).
 * Per mining mode (Hardhat automine, then interval mining) it starts ONE in-process RelayerNode (real llama
 * backend, stories260K, 1 thread, confirmations 0, short poll interval) on a fresh database, sends N voucher jobs
 * with short inline story prompts as fast as the node takes them (pre-signed with explicit nonces, one stream
 * per requester, all requesters in parallel), waits until every result is on-chain (`submitted`), warps past the
 * 1-minute challenge window and waits until the relayer's finalizeBatch has finalized every job.
 *
 * Measured (printed as a table against the issue's targets, "met"/"missed"):
 *  - throughput: first request sent → last job `submitted`; the finalize phase (warp → all finalized); overall;
 *  - the relayer's overhead per job (store column overhead_ms: accept + submit + finalize share, beyond inference);
 *  - inference time per job and tokens/s; latency request mined → submitted, broken down by step;
 *  - gas per job (accept, submit, finalize share) from the store's txs table;
 *  - a profile: JSON-RPC calls per job by method, HTTP round trips, loop ticks, tx send times, CPU of both processes.
 *
 * Instrumentation only wraps methods of the one relayer instance (store writes, provider.send, tick, the tx
 * sender); the relayer's code is unchanged. Block times come from a WebSocket `newHeads` subscription.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import {
  JsonRpcProvider,
  NonceManager,
  WebSocketProvider,
  ZeroAddress,
  parseUnits,
  type HDNodeWallet,
} from "ethers";
import pino from "pino";
import type { CinderManifest } from "../deploy/manifest";
import { parseRelayerConfig } from "../relayer/config";
import { encodeInlineRef, promptHash } from "../relayer/delivery";
import { RelayerNode } from "../relayer/node";
import type { JobRecord, JobState, TxRecord } from "../relayer/store";
import {
  deployLocal,
  hardhatAccount,
  startHardhatNode,
  type HardhatNode,
} from "../relayer/testing/localChain";
import {
  buyVouchers,
  cinderAt,
  fundAccount,
  registerProvider,
  STORIES_MODEL_ID,
  type Cinder,
} from "../relayer/testing/protocol";

/** The relayer's batching wait (chain seconds), as in relayer.yaml. */
const FINALIZE_WAIT = 60;
const ROOT = path.join(__dirname, "..");
const MODEL_FILE = path.join(ROOT, "..", "shared", "models", "stories260K.gguf");
const KEY_ENV = "CINDER_BENCH_RELAYER_KEY";
const TARGET_JOBS_PER_S = 20;
const TARGET_OVERHEAD_P50_MS = 25;
/** Modes run by default when --mode is not given: both while the run stays short (~3 min), else automine. */
const BOTH_MODES_UP_TO_JOBS = 400;

type Mode = "automine" | "interval";

interface Options {
  jobs: number;
  modes: Mode[];
  requesters: number;
  maxUnits: number;
  intervalMs: number;
  maxActive: number;
  pollMs: number;
  /** Requests per second over all requesters; 0 = as fast as the node takes them. */
  rate: number;
  check: boolean;
}

const USAGE = `usage: ts-node --transpile-only scripts/bench-relayer.ts [options]
  --jobs N             jobs per mode (1..5000, default 200)
  --mode M             automine | interval | both (default: both up to ${BOTH_MODES_UP_TO_JOBS} jobs, else automine)
  --requesters K       requester accounts sending in parallel (1..16, default 4)
  --max-units U        maxUnits (output tokens) per job (1..256, default 16)
  --interval-ms MS     block interval of the interval mode (50..10000, default 250)
  --max-active N       relayer provider.maxActiveJobs (1..10000, default 64, the config default)
  --poll-ms MS         relayer chain.pollIntervalMs (50..60000, default 100)
  --rate R             requests per second in total (0..1000, default 0 = as fast as possible); a steady rate
                       shows the relayer's per-job overhead without the queueing of a burst
  --check              exit 1 when a target is missed`;

class UsageError extends Error {}

/** Parses and validates the command line. */
function parseArgs(argv: string[]): Options {
  const values = new Map<string, string>();
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") throw new UsageError("");
    if (arg === "--check") {
      check = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    const known = ["jobs", "mode", "requesters", "max-units", "interval-ms", "max-active", "poll-ms", "rate"];
    if (!match || !known.includes(match[1])) throw new UsageError(`unknown argument ${arg}`);
    const value = match[2] ?? argv[++i];
    if (value === undefined || value.startsWith("--")) throw new UsageError(`--${match[1]} needs a value`);
    values.set(match[1], value);
  }
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = values.get(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    }
    return Number(raw);
  };
  const jobs = int("jobs", 200, 1, 5000);
  const mode = values.get("mode") ?? (jobs <= BOTH_MODES_UP_TO_JOBS ? "both" : "automine");
  if (!["automine", "interval", "both"].includes(mode)) {
    throw new UsageError(`--mode must be automine, interval or both (got ${JSON.stringify(mode)})`);
  }
  return {
    jobs,
    modes: mode === "both" ? ["automine", "interval"] : [mode as Mode],
    requesters: int("requesters", 4, 1, 16),
    maxUnits: int("max-units", 16, 1, 256),
    intervalMs: int("interval-ms", 250, 50, 10_000),
    maxActive: int("max-active", 64, 1, 10_000),
    pollMs: int("poll-ms", 100, 50, 60_000),
    rate: int("rate", 0, 0, 1000),
    check,
  };
}

// ------------------------------------------------------------------ statistics

/** Nearest-rank percentile (p in 0..100) of `values`; NaN when empty. */
function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const mean = (values: number[]) => (values.length ? sum(values) / values.length : NaN);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Accumulates durations by name. */
class Timings {
  readonly samples = new Map<string, number[]>();
  add(name: string, ms: number): void {
    const list = this.samples.get(name);
    if (list) list.push(ms);
    else this.samples.set(name, [ms]);
  }
  get(name: string): number[] {
    return this.samples.get(name) ?? [];
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); undefined elsewhere. */
function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields after the command: state is index 0, so utime (field 14) is index 11 and stime index 12.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ prompts and requests

const NAMES = ["Lily", "Tom", "Ben", "Sue", "Max", "Mia", "Sam", "Anna", "Tim", "Lucy", "Jack", "Zoe"];
const THINGS = [
  "a red ball",
  "a big dog",
  "a little bird",
  "a shiny star",
  "a blue car",
  "a funny hat",
  "an old tree",
  "a small boat",
];
const OPENINGS = [
  (n: string, t: string) => `Once upon a time, ${n} found ${t}.`,
  (n: string, t: string) => `One day, ${n} saw ${t} in the park.`,
  (n: string, t: string) => `${n} wanted to play with ${t}.`,
  (n: string, t: string) => `${n} was sad because ${t} was lost.`,
  (n: string, t: string) => `It was a sunny day. ${n} went out with ${t}.`,
];

/** A short story prompt; varied over names, things and openings. */
function storyPrompt(i: number): string {
  const name = NAMES[i % NAMES.length];
  const thing = THINGS[Math.floor(i / NAMES.length) % THINGS.length];
  const opening = OPENINGS[Math.floor(i / (NAMES.length * THINGS.length)) % OPENINGS.length];
  return opening(name, thing);
}

interface SignedRequest {
  requester: number;
  raw: string;
}

/** Signs every request up front (explicit nonces per requester), so sending is only JSON-RPC. */
async function signRequests(
  c: Cinder,
  provider: JsonRpcProvider,
  requesters: HDNodeWallet[],
  jobs: number,
  maxUnits: number,
  chainId: bigint,
): Promise<SignedRequest[]> {
  const coordinator = await c.jobCoordinator.getAddress();
  const latest = await provider.getBlock("latest");
  // Automine gives every block its own second (timestamps strictly increase): ~3 blocks a job move chain time.
  const deadline = BigInt(latest!.timestamp + 3600 + 4 * jobs);
  const payment = { kind: 0, classId: 1n, maxPricePerUnit: 0n };
  const data = (i: number) => {
    const prompt = storyPrompt(i);
    return c.jobCoordinator.interface.encodeFunctionData("requestJob", [
      STORIES_MODEL_ID,
      promptHash(prompt),
      encodeInlineRef(prompt),
      BigInt(maxUnits),
      payment,
      deadline,
      ZeroAddress,
    ]);
  };
  const estimate = await provider.estimateGas({
    from: requesters[0].address,
    to: coordinator,
    data: data(0),
  });
  const gasLimit = (estimate * 13n) / 10n;
  const nonces = await Promise.all(requesters.map((r) => provider.getTransactionCount(r.address, "pending")));
  const out: SignedRequest[] = [];
  for (let i = 0; i < jobs; i++) {
    const r = i % requesters.length;
    const raw = await requesters[r].signTransaction({
      type: 2,
      chainId,
      nonce: nonces[r]++,
      to: coordinator,
      data: data(i),
      value: 0n,
      gasLimit,
      // Generous caps: full interval blocks raise the base fee 12.5 % a block; pre-signed requests must still fit.
      maxFeePerGas: parseUnits("100", "gwei"),
      maxPriorityFeePerGas: parseUnits("1", "gwei"),
    });
    out.push({ requester: r, raw });
  }
  return out;
}

/**
 * Sends the signed requests: one sequential stream per requester (nonce order: Hardhat's automine rejects a
 * nonce gap), all streams in parallel; with `rate` > 0, request i goes out no earlier than i / rate seconds.
 */
async function sendRequests(
  url: string,
  requests: SignedRequest[],
  streams: number,
  rate: number,
): Promise<void> {
  // No batching: each request goes out at once (ethers' default batch stall would add 10 ms per send).
  const provider = new JsonRpcProvider(url, 31337, {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
  });
  const start = performance.now();
  try {
    await Promise.all(
      Array.from({ length: streams }, async (_, r) => {
        for (const [i, request] of requests.entries()) {
          if (request.requester !== r) continue;
          if (rate > 0) await sleep(start + (i * 1000) / rate - performance.now());
          await provider.send("eth_sendRawTransaction", [request.raw]);
        }
      }),
    );
  } finally {
    provider.destroy();
  }
}

// ------------------------------------------------------------------ one mode

interface ModeResult {
  mode: Mode;
  label: string;
  jobs: number;
  requestsSentMs: number;
  submitPhaseMs: number;
  finalizePhaseMs: number;
  /** Jobs finalized before the warp (automine moves chain time 1 s a block, past early challenge windows). */
  finalizedEarly: number;
  overheadMs: number[];
  inferenceMs: number[];
  tokens: number;
  latency: Record<string, number[]>;
  gas: { accept: number[]; submit: number[]; finalize: number[]; finalizeTxs: number };
  txs: { sent: number; replaced: number; failed: number; dropped: number };
  replacedAfterMs: number[];
  rpc: Map<string, { count: number; ms: number }>;
  httpPosts: number;
  httpBatched: number;
  ticks: number[];
  sendMs: Timings;
  benchCpuMs: number;
  hardhatCpuMs: number | undefined;
  warnings: string[];
  logFile: string;
  /** Temporary folder (database, log); removed after the report. */
  dir: string;
}

/** Jobs states from which a bench job can no longer finish. */
const BAD_STATES: JobState[] = ["skipped", "missed", "lost", "expired", "cancelled", "challenged", "faulted"];

interface Chain {
  node: HardhatNode;
  manifest: CinderManifest;
  manifestFile: string;
  provider: JsonRpcProvider;
  c: Cinder;
  requesters: HDNodeWallet[];
  chainId: bigint;
}

async function runMode(mode: Mode, options: Options, chain: Chain): Promise<ModeResult> {
  const { provider } = chain;
  const label = mode === "automine" ? "automine" : `interval ${options.intervalMs} ms`;
  const dir = mkdtempSync(path.join(os.tmpdir(), `cinder-bench-${mode}-`));
  const logFile = path.join(dir, "relayer.log");
  let relayer: RelayerNode | undefined;
  let ws: WebSocketProvider | undefined;
  try {
    if (mode === "interval") {
      await provider.send("evm_setAutomine", [false]);
      await provider.send("evm_setIntervalMining", [options.intervalMs]);
    }
    const requests = await signRequests(
      chain.c,
      provider,
      chain.requesters,
      options.jobs,
      options.maxUnits,
      chain.chainId,
    );
    const startBlock = (await provider.getBlockNumber()) + 1;

    // Block times, pushed by the node as each block is mined.
    const blockTime = new Map<number, number>();
    ws = new WebSocketProvider(chain.node.url.replace(/^http/, "ws"), 31337, { staticNetwork: true });
    await ws.on("block", (n: number) => {
      if (!blockTime.has(n)) blockTime.set(n, performance.now());
    });

    const config = parseRelayerConfig(
      {
        chain: {
          rpcUrl: chain.node.url,
          manifest: chain.manifestFile,
          startBlock,
          confirmations: 0,
          pollIntervalMs: options.pollMs,
        },
        key: { env: KEY_ENV },
        models: [
          {
            id: "stories260K",
            price: "0.0001",
            inference: { backend: "llama", model: MODEL_FILE, threads: 1 },
          },
        ],
        // Settle in batches as relayer.yaml does: a lone finalize per job would cost ~134k gas instead of ~16k.
        provider: {
          maxActiveJobs: options.maxActive,
          finalizeBatchSize: 100,
          finalizeMaxWaitSeconds: FINALIZE_WAIT,
        },
        http: { enabled: false },
        database: path.join(dir, "relayer.db"),
        log: { level: "warn" },
      },
      path.join(dir, "relayer.yaml"),
    );
    const logger = pino(
      { level: "warn", base: { name: `bench-${mode}` } },
      pino.destination({ dest: logFile, sync: true }),
    );
    relayer = await RelayerNode.create(config, { logger, name: `bench-${mode}` });

    // ---- instrumentation (wraps this instance's methods; the relayer's behaviour is unchanged)
    const seenAt = new Map<number, number>();
    const stateAt = new Map<string, Map<number, number>>();
    const reached = (state: string) => {
      let m = stateAt.get(state);
      if (!m) stateAt.set(state, (m = new Map()));
      return m;
    };
    let onProgress = () => {};
    const store = relayer.store;
    const insertJob = store.insertJob.bind(store);
    store.insertJob = (job) => {
      const inserted = insertJob(job);
      if (inserted) seenAt.set(job.jobId, performance.now());
      return inserted;
    };
    const updateJob = store.updateJob.bind(store);
    store.updateJob = (jobId, patch, from) => {
      const changed = updateJob(jobId, patch, from);
      if (changed && patch.state !== undefined) {
        const m = reached(patch.state);
        if (!m.has(jobId)) {
          m.set(jobId, performance.now());
          if (patch.state === "submitted" || patch.state === "finalized") onProgress();
        }
      }
      return changed;
    };
    const rpc = new Map<string, { count: number; ms: number }>();
    const rp = relayer.provider as unknown as {
      send: (method: string, params: unknown[]) => Promise<unknown>;
      _send: (payload: unknown) => Promise<unknown>;
    };
    const send = rp.send.bind(rp);
    rp.send = async (method, params) => {
      const t = performance.now();
      try {
        return await send(method, params);
      } finally {
        const entry = rpc.get(method) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += performance.now() - t;
        rpc.set(method, entry);
      }
    };
    let httpPosts = 0;
    let httpBatched = 0;
    const post = rp._send.bind(rp);
    rp._send = (payload) => {
      httpPosts++;
      if (Array.isArray(payload) && payload.length > 1) httpBatched++;
      return post(payload);
    };
    // How long a transaction had been out when the sender replaced it (bumpAfterBlocks counts from `sentBlock`).
    const replacedAfterMs: number[] = [];
    const replaceTx = store.replaceTx.bind(store);
    store.replaceTx = (id, patch) => {
      const before = store.tx(id);
      if (before) replacedAfterMs.push(Date.now() - before.sentAt);
      replaceTx(id, patch);
    };
    const ticks: number[] = [];
    const tick = relayer.tick.bind(relayer);
    relayer.tick = async () => {
      const t = performance.now();
      try {
        await tick();
      } finally {
        ticks.push(performance.now() - t);
      }
    };
    const sendMs = new Timings();
    const sender = (relayer as unknown as { sender: { send: (r: { method: string }) => Promise<unknown> } })
      .sender;
    const senderSend = sender.send.bind(sender);
    sender.send = async (request) => {
      const t = performance.now();
      try {
        return await senderSend(request);
      } finally {
        sendMs.add(request.method, performance.now() - t);
      }
    };

    await relayer.start();

    const waitFor = (state: "submitted" | "finalized", timeoutMs: number) =>
      new Promise<number>((resolve, reject) => {
        const deadline = performance.now() + timeoutMs;
        const done = () => {
          if (reached(state).size >= options.jobs) finish(null);
        };
        const timer = setInterval(() => {
          const counts = store.jobCounts();
          const bad = BAD_STATES.filter((s) => counts[s]);
          if (bad.length) {
            const examples = store.jobsIn(bad, 3).map((j) => `#${j.jobId} ${j.state}: ${j.error}`);
            finish(
              new Error(
                `jobs ended in ${bad.join(", ")} (${JSON.stringify(counts)}); e.g. ${examples.join("; ")}`,
              ),
            );
          } else if (performance.now() > deadline) {
            finish(
              new Error(
                `timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${options.jobs} jobs to be ${state}: ` +
                  `${JSON.stringify(counts)} (relayer log: ${logFile})`,
              ),
            );
          }
        }, 250);
        const finish = (error: Error | null) => {
          clearInterval(timer);
          onProgress = () => {};
          if (error) reject(error);
          else resolve(Math.max(...reached(state).values()));
        };
        onProgress = done;
        done();
      });

    // ---- submit phase
    const cpu0 = process.cpuUsage();
    const hh0 = processCpuMs(chain.node.process.pid);
    const t0 = performance.now();
    const submitted = waitFor("submitted", 120_000 + options.jobs * 1000);
    submitted.catch(() => undefined);
    await sendRequests(chain.node.url, requests, chain.requesters.length, options.rate);
    const requestsSent = performance.now();
    const tSubmitted = await submitted;

    // ---- finalize phase: warp past every challenge window
    const lastEnds = Math.max(
      ...store.jobsIn(["submitted", "finalizing", "finalized"], 100_000).map((j) => j.challengeEnds ?? 0),
    );
    const latest = await provider.getBlock("latest");
    const finalizedEarly = reached("finalized").size;
    const finalized = waitFor("finalized", 60_000 + options.jobs * 200);
    finalized.catch(() => undefined);
    // Past every window and the relayer's batching wait (finalizeMaxWaitSeconds), so the last partial batch goes.
    await provider.send("evm_increaseTime", [Math.max(1, lastEnds + FINALIZE_WAIT - latest!.timestamp + 1)]);
    await provider.send("evm_mine", []);
    const tWarp = performance.now();
    const tFinalized = await finalized;
    const cpu = process.cpuUsage(cpu0);
    const hh1 = processCpuMs(chain.node.process.pid);
    // Events settle jobs before the sender records the receipts: let it catch up for the gas numbers.
    const receiptsBy = performance.now() + 10_000;
    while (store.pendingTxs().length > 0 && performance.now() < receiptsBy) await sleep(50);

    // ---- collect
    const jobs: JobRecord[] = store.jobsIn(["finalized"], 100_000);
    const txs: TxRecord[] = store.allTxs();
    const byKey = new Map(txs.map((tx) => [tx.key, tx]));
    const latency: Record<string, number[]> = {
      total: [],
      "mined → seen": [],
      "seen → accept mined": [],
      "accept mined → accepted": [],
      "accepted → inferred": [],
      "inferred → submit mined": [],
      "submit mined → submitted": [],
    };
    const minedAt = (block: number | null | undefined) => (block == null ? undefined : blockTime.get(block));
    for (const job of jobs) {
      const requested = minedAt(job.requestedBlock);
      const seen = seenAt.get(job.jobId);
      const acceptMined = minedAt(byKey.get(`accept:${job.jobId}`)?.minedBlock);
      const accepted = reached("accepted").get(job.jobId);
      const inferred = reached("inferred").get(job.jobId);
      const submitMined = minedAt(byKey.get(`submit:${job.jobId}`)?.minedBlock);
      const submittedAt = reached("submitted").get(job.jobId);
      const steps: [string, number | undefined, number | undefined][] = [
        ["total", requested, submittedAt],
        ["mined → seen", requested, seen],
        ["seen → accept mined", seen, acceptMined],
        ["accept mined → accepted", acceptMined, accepted],
        ["accepted → inferred", accepted, inferred],
        ["inferred → submit mined", inferred, submitMined],
        ["submit mined → submitted", submitMined, submittedAt],
      ];
      for (const [name, from, to] of steps)
        if (from !== undefined && to !== undefined) latency[name].push(to - from);
    }
    const mined = txs.filter((tx) => tx.status === "mined");
    const gasOf = (method: string) =>
      mined.filter((tx) => tx.method === method).map((tx) => Number(tx.gasUsed));
    const finalizeTxs = mined.filter((tx) => tx.method === "finalizeBatch");
    const finalizeShare = finalizeTxs.flatMap((tx) =>
      tx.jobIds.map(() => Number(tx.gasUsed) / tx.jobIds.length),
    );
    const warnings = readFileSync(logFile, "utf8")
      .split("\n")
      .filter((line) => line.trim())
      .map((line) => {
        try {
          const entry = JSON.parse(line) as { msg?: string; err?: string; llamaCpp?: string };
          const detail = entry.err ?? entry.llamaCpp;
          return `${entry.msg ?? line}${detail ? `: ${detail}` : ""}`;
        } catch {
          return line;
        }
      });

    return {
      mode,
      label,
      jobs: jobs.length,
      requestsSentMs: requestsSent - t0,
      submitPhaseMs: tSubmitted - t0,
      finalizePhaseMs: Math.max(0, tFinalized - tWarp),
      finalizedEarly,
      overheadMs: jobs.map((j) => j.overheadMs),
      inferenceMs: jobs.map((j) => j.inferenceMs ?? NaN).filter((v) => !Number.isNaN(v)),
      tokens: sum(jobs.map((j) => j.unitsUsed ?? 0)),
      latency,
      gas: {
        accept: gasOf("acceptJob"),
        submit: gasOf("submitResult"),
        finalize: finalizeShare,
        finalizeTxs: finalizeTxs.length,
      },
      txs: {
        sent: txs.length,
        replaced: txs.filter((tx) => tx.hashes.length > 1).length,
        failed: txs.filter((tx) => tx.status === "failed").length,
        dropped: txs.filter((tx) => tx.status === "dropped").length,
      },
      replacedAfterMs,
      rpc,
      httpPosts,
      httpBatched,
      ticks,
      sendMs,
      benchCpuMs: (cpu.user + cpu.system) / 1000,
      hardhatCpuMs: hh0 !== undefined && hh1 !== undefined ? hh1 - hh0 : undefined,
      warnings,
      logFile,
      dir,
    };
  } catch (error) {
    if (error instanceof Error && !error.message.includes(logFile))
      error.message += ` (relayer log: ${logFile})`;
    throw error;
  } finally {
    await relayer?.stop().catch((error) => console.error(`relayer stop failed: ${(error as Error).message}`));
    ws?.destroy();
    if (mode === "interval") {
      await provider.send("evm_setIntervalMining", [0]).catch(() => undefined);
      await provider.send("evm_setAutomine", [true]).catch(() => undefined);
    }
  }
}

// ------------------------------------------------------------------ report

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const ms = (value: number) =>
  Number.isFinite(value) ? (value >= 100 ? value.toFixed(0) : value.toFixed(1)) : "n/a";
const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a");
const verdict = (ok: boolean) => (ok ? "met" : "missed");

type Row = [string, ...string[]] | null;

function printTable(header: string[], rows: Row[]): void {
  const cells = rows.filter((r): r is [string, ...string[]] => r !== null);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === 0 ? (cell ?? "").padEnd(widths[i]) : (cell ?? "").padStart(widths[i])))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  console.log(line(header));
  console.log(rule);
  for (const row of rows) console.log(row === null ? "" : line(row));
}

function report(options: Options, results: ModeResult[]): boolean {
  const col = (f: (r: ModeResult) => string): string[] => results.map(f);
  const e2e = (r: ModeResult) => (r.jobs * 1000) / r.submitPhaseMs;
  const overall = (r: ModeResult) => (r.jobs * 1000) / (r.submitPhaseMs + r.finalizePhaseMs);
  const p50Overhead = (r: ModeResult) => percentile(r.overheadMs, 50);
  const perJob = (r: ModeResult, total: number) => total / r.jobs;
  const lat = (r: ModeResult, name: string, p: number) => percentile(r.latency[name], p);
  const methods = [...new Set(results.flatMap((r) => [...r.rpc.keys()]))].sort(
    (a, b) =>
      sum(results.map((r) => r.rpc.get(b)?.count ?? 0)) - sum(results.map((r) => r.rpc.get(a)?.count ?? 0)),
  );
  const rows: Row[] = [
    ["Throughput", ...col(() => ""), ""],
    [
      "  end to end: 1st request sent → last submitted",
      ...col(
        (r) =>
          `${fmt(e2e(r))} jobs/s ${options.rate ? "(rate-limited)" : verdict(e2e(r) >= TARGET_JOBS_PER_S)}`,
      ),
      `≥ ${TARGET_JOBS_PER_S} jobs/s`,
    ],
    [
      "    time (all requests sent after)",
      ...col((r) => `${fmt(r.submitPhaseMs / 1000, 2)} s (${fmt(r.requestsSentMs / 1000, 2)} s)`),
      "",
    ],
    [
      "  finalize phase: warp → all finalized",
      ...col((r) =>
        r.finalizedEarly >= r.jobs
          ? "all before the warp"
          : `${fmt(r.finalizePhaseMs / 1000, 2)} s (${fmt(((r.jobs - r.finalizedEarly) * 1000) / r.finalizePhaseMs, 0)} jobs/s)`,
      ),
      "",
    ],
    ["    finalized before the warp (chain time ran ahead)", ...col((r) => String(r.finalizedEarly)), ""],
    ["  overall incl. finalize", ...col((r) => `${fmt(overall(r))} jobs/s`), ""],
    null,
    ["Relayer overhead per job (overhead_ms)", ...col(() => ""), ""],
    [
      "  p50",
      ...col((r) => `${ms(p50Overhead(r))} ms ${verdict(p50Overhead(r) <= TARGET_OVERHEAD_P50_MS)}`),
      `≤ ${TARGET_OVERHEAD_P50_MS} ms`,
    ],
    [
      "  p90 / p99",
      ...col((r) => `${ms(percentile(r.overheadMs, 90))} / ${ms(percentile(r.overheadMs, 99))} ms`),
      "",
    ],
    [
      "Inference per job p50 / p90",
      ...col((r) => `${ms(percentile(r.inferenceMs, 50))} / ${ms(percentile(r.inferenceMs, 90))} ms`),
      "",
    ],
    [
      "  tokens/s (sum tokens / sum inference time)",
      ...col((r) => fmt((r.tokens * 1000) / sum(r.inferenceMs), 0)),
      "",
    ],
    ["  tokens per job (mean)", ...col((r) => fmt(r.tokens / r.jobs, 1)), ""],
    null,
    [
      "Latency request mined → submitted p50 / p90",
      ...col((r) => `${ms(lat(r, "total", 50))} / ${ms(lat(r, "total", 90))} ms`),
      "",
    ],
    ...Object.keys(results[0]?.latency ?? {})
      .filter((name) => name !== "total")
      .map((name): Row => [
        `  ${name} p50 / p90`,
        ...col((r) => `${ms(lat(r, name, 50))} / ${ms(lat(r, name, 90))} ms`),
        "",
      ]),
    null,
    ["Gas per job", ...col(() => ""), ""],
    ["  acceptJob", ...col((r) => int(mean(r.gas.accept))), ""],
    ["  submitResult", ...col((r) => int(mean(r.gas.submit))), ""],
    ["  finalizeBatch share", ...col((r) => `${int(mean(r.gas.finalize))} (${r.gas.finalizeTxs} tx)`), ""],
    ["  total", ...col((r) => int(mean(r.gas.accept) + mean(r.gas.submit) + mean(r.gas.finalize))), ""],
    [
      "  txs sent / replaced / failed / dropped",
      ...col((r) => `${r.txs.sent} / ${r.txs.replaced} / ${r.txs.failed} / ${r.txs.dropped}`),
      "",
    ],
    [
      "  replaced after being out p50 / max",
      ...col((r) =>
        r.replacedAfterMs.length
          ? `${ms(percentile(r.replacedAfterMs, 50))} / ${ms(Math.max(...r.replacedAfterMs))} ms`
          : "-",
      ),
      "",
    ],
    null,
    ["Profile (submit + finalize phases)", ...col(() => ""), ""],
    [
      "  JSON-RPC calls per job",
      ...col((r) => fmt(perJob(r, sum([...r.rpc.values()].map((v) => v.count))), 1)),
      "",
    ],
    ...methods.map((m): Row => [
      `    ${m}: per job, mean ms`,
      ...col((r) => {
        const v = r.rpc.get(m);
        return v ? `${fmt(v.count / r.jobs, 2)}, ${ms(v.ms / v.count)}` : "-";
      }),
      "",
    ]),
    [
      "  HTTP posts per job (batched posts)",
      ...col((r) => `${fmt(r.httpPosts / r.jobs, 1)} (${r.httpBatched})`),
      "",
    ],
    [
      "  loop ticks: count, mean / p90 / max ms",
      ...col(
        (r) =>
          `${r.ticks.length}, ${ms(mean(r.ticks))} / ${ms(percentile(r.ticks, 90))} / ${ms(Math.max(...r.ticks))}`,
      ),
      "",
    ],
    ...["acceptJob", "submitResult", "finalizeBatch"].map((m): Row => [
      `  TxSender.send ${m} p50 / p90 ms`,
      ...col((r) => `${ms(percentile(r.sendMs.get(m), 50))} / ${ms(percentile(r.sendMs.get(m), 90))}`),
      "",
    ]),
    ["  bench process CPU per job (relayer+llama)", ...col((r) => `${ms(r.benchCpuMs / r.jobs)} ms`), ""],
    [
      "  hardhat node CPU per job (busy %)",
      ...col((r) =>
        r.hardhatCpuMs === undefined
          ? "n/a"
          : `${ms(r.hardhatCpuMs / r.jobs)} ms (${fmt((100 * r.hardhatCpuMs) / (r.submitPhaseMs + r.finalizePhaseMs), 0)} %)`,
      ),
      "",
    ],
  ];
  console.log();
  console.log(
    `Cinder relayer benchmark: ${options.jobs} jobs per mode, stories260K (llama, 1 thread), maxUnits ${options.maxUnits}, ` +
      `${options.requesters} requesters${options.rate ? ` at ${options.rate} jobs/s` : " (burst)"}, poll ${options.pollMs} ms, ` +
      `maxActiveJobs ${options.maxActive}, confirmations 0; ${os.cpus().length} CPUs, load average ` +
      `${os.loadavg()[0].toFixed(1)} at the end`,
  );
  console.log();
  printTable(["", ...results.map((r) => r.label), "target"], rows);
  for (const r of results) {
    if (r.warnings.length === 0) continue;
    console.log();
    console.log(`${r.label}: ${r.warnings.length} relayer warnings/errors, first ones:`);
    for (const w of r.warnings.slice(0, 5)) console.log(`  ${w.slice(0, 200)}`);
  }
  return results.every(
    (r) => (options.rate > 0 || e2e(r) >= TARGET_JOBS_PER_S) && p50Overhead(r) <= TARGET_OVERHEAD_P50_MS,
  );
}

// ------------------------------------------------------------------ main

async function setupChain(options: Options, node: HardhatNode): Promise<Chain> {
  const { manifest, file } = await deployLocal(node.url);
  const provider = new JsonRpcProvider(node.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
  const deployer = new NonceManager(hardhatAccount(0, provider));
  const c = cinderAt(manifest, deployer);
  const providerWallet = hardhatAccount(1, provider);
  process.env[KEY_ENV] = providerWallet.privateKey; // Hardhat's public test key 1
  await fundAccount(c, deployer, providerWallet.address, { cndr: "10000" });
  await registerProvider(c, providerWallet, { modelIds: [STORIES_MODEL_ID], priceUsd: "0.0001" });
  const requesters = Array.from({ length: options.requesters }, (_, i) => hardhatAccount(2 + i, provider));
  // One voucher escrowed per job (maxUnits ≤ 100,000 units per voucher), per mode, plus a margin.
  const vouchers = BigInt(Math.ceil(options.jobs / options.requesters) * options.modes.length + 2);
  for (const r of requesters) await fundAccount(c, deployer, r.address, { usdc: String(vouchers + 10n) });
  await Promise.all(requesters.map((r) => buyVouchers(c, r, 1n, vouchers)));
  return { node, manifest, manifestFile: file, provider, c, requesters, chainId: 31337n };
}

async function main(): Promise<number> {
  let options: Options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message) console.error(`error: ${error.message}`);
    console.error(USAGE);
    return error.message ? 2 : 0;
  }
  const started = performance.now();
  console.log(`starting hardhat node and deploying CinderLocal (~20 s)…`);
  const node = await startHardhatNode();
  let chain: Chain | undefined;
  const cleanup = async () => {
    chain?.provider.destroy();
    await node.stop();
    if (chain) rmSync(path.dirname(chain.manifestFile), { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    console.error(`${signal}: stopping the hardhat node`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    chain = await setupChain(options, node);
    const results: ModeResult[] = [];
    for (const mode of options.modes) {
      console.log(`${mode}: ${options.jobs} jobs…`);
      results.push(await runMode(mode, options, chain));
    }
    const ok = report(options, results);
    for (const r of results) rmSync(r.dir, { recursive: true, force: true });
    console.log();
    console.log(`total run time ${fmt((performance.now() - started) / 1000, 0)} s`);
    return options.check && !ok ? 1 : 0;
  } finally {
    await cleanup();
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`bench-relayer failed: ${(error as Error).stack ?? error}`);
    process.exit(1);
  },
);
