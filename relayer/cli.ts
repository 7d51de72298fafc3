/**
 * `cinder-relayer`: the relayer's command line.
 *
 *   cinder-relayer start  --config relayer.yaml [--watch-only]   run the node until SIGINT/SIGTERM
 *   cinder-relayer status --config relayer.yaml [--limit 50] [--json]   print the job table from the database
 *   cinder-relayer check  --config relayer.yaml                    validate the configuration and keys, then exit
 *
 * Exit codes: 0 done, 1 unexpected failure, 2 configuration error (a supervisor should not restart on 2: the
 * same file fails the same way; fix the field the message names).
 */
import { existsSync } from "node:fs";
import { formatUnits } from "ethers";
import { ConfigError, loadKeys, loadRelayerConfig, type RelayerConfig } from "./config";
import { JobStore, type JobRecord } from "./store";

const USAGE = `usage:
  cinder-relayer start  --config <relayer.yaml> [--watch-only]
  cinder-relayer status --config <relayer.yaml> [--limit <n>] [--json]
  cinder-relayer check  --config <relayer.yaml>`;

export class UsageError extends Error {}

/** Parses `--flag value` and `--switch` arguments after the command. */
export function parseArgs(argv: string[]): { command: string; flags: Record<string, string | true> } {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") throw new UsageError(USAGE);
  if (!["start", "status", "check"].includes(command))
    throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"\n${USAGE}`);
    const name = arg.slice(2);
    if (!["config", "watch-only", "limit", "json"].includes(name))
      throw new UsageError(`unknown option --${name}\n${USAGE}`);
    if (name === "watch-only" || name === "json") flags[name] = true;
    else {
      const value = rest[++i];
      if (value === undefined || value.startsWith("--"))
        throw new UsageError(`--${name} needs a value\n${USAGE}`);
      flags[name] = value;
    }
  }
  if (typeof flags.config !== "string") {
    const fallback = process.env.CINDER_RELAYER_CONFIG ?? "relayer.yaml";
    flags.config = fallback;
  }
  return { command, flags };
}

function loadConfig(flags: Record<string, string | true>): RelayerConfig {
  const config = loadRelayerConfig(flags.config as string);
  if (flags["watch-only"]) {
    config.provider = { ...config.provider, enabled: false };
    config.watcher = { ...config.watcher, enabled: true };
  }
  return config;
}

const pad = (value: string, width: number) =>
  value.length >= width ? value : value + " ".repeat(width - value.length);

/** The job table `status` prints. */
export function formatJobTable(jobs: JobRecord[]): string {
  const header = ["job", "role", "state", "units", "inference", "overhead", "paid", "note"];
  const rows = jobs.map((job) => [
    String(job.jobId),
    job.mine ? "provider" : "watcher",
    job.state,
    job.unitsUsed === null ? "-" : `${job.unitsUsed}/${job.maxUnits}`,
    job.inferenceMs === null ? "-" : `${job.inferenceMs.toFixed(0)} ms`,
    `${job.overheadMs.toFixed(1)} ms`,
    job.paid === null
      ? "-"
      : job.kind === 0
        ? `${job.paid} voucher(s)`
        : `$${Number(formatUnits(job.paid, 18)).toFixed(6)}`,
    (job.error ?? "").slice(0, 60),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => pad(cell, widths[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

async function status(config: RelayerConfig, flags: Record<string, string | true>): Promise<void> {
  if (config.database === ":memory:" || !existsSync(config.database)) {
    throw new ConfigError(`database: ${config.database} does not exist yet: start the relayer first`);
  }
  const limit = flags.limit === undefined ? 50 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError("--limit must be a positive integer");
  const store = new JobStore(config.database, { readonly: true });
  try {
    const jobs = store.allJobs(limit);
    const counts = store.jobCounts();
    const txs = store.allTxs();
    const pending = txs.filter((tx) => tx.status === "pending").length;
    if (flags.json) {
      console.log(
        JSON.stringify(
          { cursor: store.cursor() ?? null, counts, transactions: txs.length, pending, jobs },
          null,
          2,
        ),
      );
      return;
    }
    console.log(`database ${config.database}: last block applied ${store.cursor() ?? "none"}`);
    console.log(
      `jobs by state: ${
        Object.entries(counts)
          .map(([k, v]) => `${k} ${v}`)
          .join(", ") || "none"
      }`,
    );
    console.log(
      `transactions: ${txs.length} signed, ${pending} pending, ${txs.filter((t) => t.status !== "mined" && t.status !== "pending").length} failed or dropped`,
    );
    if (jobs.length) console.log(`\n${formatJobTable(jobs)}`);
  } finally {
    store.close();
  }
}

async function start(config: RelayerConfig): Promise<void> {
  const { RelayerNode } = await import("./node");
  // Signals are handled from the first moment: one that arrives while the node starts (e.g. waiting for the RPC
  // endpoint) ends the start-up cleanly.
  const starting = new AbortController();
  let node: import("./node").RelayerNode | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      node?.logger.warn(
        { signal },
        "second signal: exiting now (signed transactions resume at the next start)",
      );
      process.exit(1);
    }
    stopping = true;
    if (!node) {
      starting.abort();
      return;
    }
    node.logger.info({ signal }, "shutting down: finishing in-flight work");
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        node!.logger.error({ err: (error as Error).message }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  try {
    node = await RelayerNode.create(config, { signal: starting.signal });
  } catch (error) {
    if (starting.signal.aborted) process.exit(0);
    throw error;
  }
  if (stopping) {
    await node.stop();
    process.exit(0);
  }
  await node.start();
}

/** Runs the CLI; returns the exit code (start keeps the process alive until a signal). */
export async function main(argv: string[]): Promise<number> {
  try {
    const { command, flags } = parseArgs(argv);
    const config = loadConfig(flags);
    if (command === "status") await status(config, flags);
    else if (command === "check") {
      const { wallet, signer } = await loadKeys(config);
      console.log(
        `${config.file} is valid: provider ${wallet.address}, attestation signer ${signer.address}, ${config.models.length} model(s)`,
      );
    } else await start(config);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(`configuration error: ${error.message}`);
      return 2;
    }
    console.error(`cinder-relayer: ${(error as Error).stack ?? error}`);
    return 1;
  }
}
