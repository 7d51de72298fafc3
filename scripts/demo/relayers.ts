/**
 * The demo's relayers: real `RelayerNode`s in this process, each with its own Hardhat account, SQLite database
 * and HTTP port, talking to the chain over JSON-RPC like any deployment. Their logs (level warn) are printed as
 * short indented lines so they read as part of the story.
 */
import path from "node:path";
import pino, { type Logger } from "pino";
import { parseRelayerConfig, type RelayerConfigInput } from "../../relayer/config";
import { RelayerClient } from "../../relayer/client";
import { RelayerNode } from "../../relayer/node";
import { hardhatAccount } from "../../relayer/testing/localChain";
import { ROOT } from "./chain";

/** The model every relayer (and the arbiter) runs: stories260K from the shared models folder. */
export const MODEL_FILE = path.join(ROOT, "..", "shared", "models", "stories260K.gguf");

/** The model's inference settings: greedy, seed 42, one thread (a 2-core machine runs three relayers). */
export const INFERENCE = {
  backend: "llama",
  model: MODEL_FILE,
  threads: 1,
  maxTokens: 256,
  seed: 42,
} as const;

export interface DemoRelayer {
  name: string;
  node: RelayerNode;
  client: RelayerClient;
  url: string;
}

export interface RelayerRole {
  /** Name in the output and the key variable DEMO_<NAME>_KEY. */
  name: string;
  /** Hardhat default account index of its key. */
  account: number;
  provider: boolean;
  watcher: boolean;
  acceptOpenRequests?: boolean;
  lie?: boolean;
}

/**
 * llama.cpp's load-time notes about stories260K's GGUF metadata (unset separator/padding token ids): harmless,
 * and printed by every model load, so the demo leaves them out.
 */
const KNOWN_NOISE = /bad special token/;

/** Fields every pino record has; the rest are printed. */
const BASE_FIELDS = new Set(["level", "msg", "time", "name", "pid", "hostname"]);

/** A pino logger writing one short line per record: `  ! name level: msg {fields}`. */
export function demoLogger(name: string): Logger {
  const destination = {
    write(line: string) {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (KNOWN_NOISE.test(String(record.llamaCpp ?? ""))) return;
      const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !BASE_FIELDS.has(key)));
      const label = pino.levels.labels[Number(record.level)] ?? String(record.level);
      const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : "";
      console.log(`      ! ${name} ${label}: ${String(record.msg)}${extra}`.slice(0, 400));
    },
  };
  return pino(
    { name, level: "warn", redact: { paths: ["privateKey", "*.privateKey"], censor: "[redacted]" } },
    destination,
  );
}

/** Creates and starts a relayer for `role` against `rpcUrl` and the deployment in `manifestFile`. */
export async function startRelayer(
  role: RelayerRole,
  rpcUrl: string,
  manifestFile: string,
  dir: string,
): Promise<DemoRelayer> {
  const keyVar = `DEMO_${role.name.toUpperCase()}_KEY`;
  process.env[keyVar] = hardhatAccount(role.account).privateKey;
  const raw: RelayerConfigInput = {
    chain: { rpcUrl, manifest: manifestFile, confirmations: 0, pollIntervalMs: 200 },
    key: { env: keyVar },
    models: [{ id: "stories260K", price: "0.0001", inference: INFERENCE }],
    provider: { enabled: role.provider, acceptOpenRequests: role.acceptOpenRequests ?? true },
    watcher: { enabled: role.watcher },
    http: { port: 0 },
    database: path.join(dir, `${role.name}.db`),
    log: { level: "warn" },
    testing: { lie: role.lie ?? false },
  };
  const config = parseRelayerConfig(raw, path.join(ROOT, "demo.yaml"));
  const node = await RelayerNode.create(config, { name: role.name, logger: demoLogger(role.name) });
  await node.start();
  const url = `http://127.0.0.1:${node.httpPort}`;
  return { name: role.name, node, client: new RelayerClient(url), url };
}

/** Polls `check` every 100 ms until it holds; after `timeoutMs` throws with `what` and `detail()`. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  detail: () => string | Promise<string>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}:\n${await detail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
