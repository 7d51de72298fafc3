/**
 * The relayer's configuration file (YAML or JSON), validated at start-up with zod. Every error names the field
 * and says what to do; nothing starts until the whole file is valid. Relative paths are resolved against the
 * config file's folder. Keys come from an environment variable or an encrypted JSON keystore and are never logged.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { getAddress, id, isAddress, isHexString, parseUnits, Wallet } from "ethers";
import YAML from "yaml";
import { z } from "zod";
import { modelBackendSchema, type ModelBackendConfig } from "./inference/config";

/** A configuration problem, printed as one clear message (with every field at fault) instead of a stack trace. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const address = z
  .string()
  .refine((value) => isAddress(value), { message: "must be a 0x-prefixed 20-byte address" })
  .transform((value) => getAddress(value));

const keySource = z
  .object({
    env: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, "must be the NAME of an environment variable holding the hex private key")
      .optional(),
    keystore: z.string().min(1, "must be the path of an encrypted JSON keystore").optional(),
    passwordEnv: z
      .string()
      .regex(
        /^[A-Z_][A-Z0-9_]*$/,
        "must be the NAME of an environment variable holding the keystore password",
      )
      .optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if ((value.env === undefined) === (value.keystore === undefined)) {
      ctx.addIssue({
        code: "custom",
        message: "set exactly one of `env` (a variable name) or `keystore` (a path)",
      });
    }
    if (value.keystore !== undefined && value.passwordEnv === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["passwordEnv"],
        message: "a keystore needs `passwordEnv`: the name of the variable holding its password",
      });
    }
  });

/** A USD amount per unit as a decimal string ("0.0001"), parsed to 18 decimals. */
const usdPerUnit = z
  .string()
  .regex(/^\d+(\.\d{1,18})?$/, 'must be a decimal USD amount such as "0.0001"')
  .transform((value) => parseUnits(value, 18));

const modelEntry = z
  .object({
    id: z
      .string()
      .min(1)
      .describe("the model's registry id: a bytes32 hex, or the name whose keccak256 is the id")
      .transform((value) => (isHexString(value, 32) ? value.toLowerCase() : id(value))),
    price: usdPerUnit.optional(),
    inference: modelBackendSchema,
  })
  .strict();

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const relayerConfigSchema = z
  .object({
    chain: z
      .object({
        rpcUrl: z
          .string()
          .regex(/^https?:\/\/[^\s/]+/i, "must be an http:// or https:// URL such as http://127.0.0.1:8545"),
        chainId: z.number().int().positive().optional(),
        manifest: z.string().min(1).optional(),
        contracts: z
          .object({ jobCoordinator: address, providerRegistry: address, disputeModule: address })
          .optional(),
        startBlock: z.number().int().min(0).optional(),
        confirmations: z.number().int().min(0).max(1000).default(2),
        pollIntervalMs: z.number().int().min(50).max(600_000).default(2000),
        maxBlockRange: positiveInt(100_000).default(2000),
        rpcTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
      })
      .strict()
      .superRefine((value, ctx) => {
        if ((value.manifest === undefined) === (value.contracts === undefined)) {
          ctx.addIssue({
            code: "custom",
            message:
              "set exactly one of `manifest` (a deployments/<chainId>.json path) or `contracts` (addresses)",
          });
        }
      }),
    key: keySource,
    signerKey: keySource.optional(),
    models: z.array(modelEntry).min(1, "list at least one model to serve"),
    provider: z
      .object({
        enabled: z.boolean().default(true),
        acceptOpenRequests: z.boolean().default(true),
        minSecondsToDeadline: z.number().int().min(1).max(86_400).default(30),
        maxActiveJobs: positiveInt(10_000).default(64),
        finalizeBatchSize: positiveInt(100).default(50),
        finalizeMaxWaitSeconds: z.number().int().min(0).max(86_400).default(0),
      })
      .strict()
      .default({
        enabled: true,
        acceptOpenRequests: true,
        minSecondsToDeadline: 30,
        maxActiveJobs: 64,
        finalizeBatchSize: 50,
        finalizeMaxWaitSeconds: 0,
      }),
    watcher: z
      .object({
        enabled: z.boolean().default(false),
        sampleRate: z.number().min(0).max(1).default(1),
        challenge: z.boolean().default(true),
      })
      .strict()
      .default({ enabled: false, sampleRate: 1, challenge: true }),
    tx: z
      .object({
        gasHeadroomPct: z.number().int().min(0).max(500).default(20),
        gasMargin: z.number().int().min(0).max(5_000_000).default(60_000),
        bumpAfterBlocks: positiveInt(10_000).default(3),
        bumpPct: z.number().int().min(10).max(500).default(15),
        maxFeeGwei: z.number().positive().optional(),
      })
      .strict()
      .default({ gasHeadroomPct: 20, gasMargin: 60_000, bumpAfterBlocks: 3, bumpPct: 15 }),
    http: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().min(1).default("127.0.0.1"),
        port: z.number().int().min(0).max(65_535).default(8787),
        maxPromptBytes: positiveInt(1 << 20).default(16_384),
      })
      .strict()
      .default({ enabled: true, host: "127.0.0.1", port: 8787, maxPromptBytes: 16_384 }),
    database: z.string().min(1).default("relayer.db"),
    log: z
      .object({
        level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
      })
      .strict()
      .default({ level: "info" }),
    testing: z
      .object({ lie: z.boolean().default(false) })
      .strict()
      .default({ lie: false })
      .describe("demo/test only: `lie: true` submits corrupted outputs so watchers can catch them"),
  })
  .strict()
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    value.models.forEach((model, index) => {
      if (seen.has(model.id))
        ctx.addIssue({ code: "custom", path: ["models", index, "id"], message: "listed twice" });
      seen.add(model.id);
    });
    if (!value.provider.enabled && !value.watcher.enabled) {
      ctx.addIssue({
        code: "custom",
        path: ["provider", "enabled"],
        message: "enable the provider, the watcher or both",
      });
    }
  });

export type RelayerConfigInput = z.input<typeof relayerConfigSchema>;
type Parsed = z.output<typeof relayerConfigSchema>;
export type ModelConfig = { id: string; price?: bigint; inference: ModelBackendConfig };

/** A validated configuration with paths made absolute (the keys are not loaded yet: see {@link loadKeys}). */
export type RelayerConfig = Omit<Parsed, "models"> & { models: ModelConfig[]; file: string };

/** Formats zod issues as `field.path: message` lines. */
function issuesText(error: z.ZodError): string {
  return error.issues
    .map((issue) => `  - ${issue.path.length ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("\n");
}

/** Validates an already-parsed configuration object; `file` is where relative paths start. */
export function parseRelayerConfig(raw: unknown, file: string): RelayerConfig {
  const parsed = relayerConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${file} is not a valid relayer configuration:\n${issuesText(parsed.error)}`);
  }
  const base = path.dirname(path.resolve(file));
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.resolve(base, p));
  const value = parsed.data;
  const missing: string[] = [];
  const models = value.models.map((model, index) => {
    const inference = { ...model.inference };
    if (inference.backend === "llama") {
      if (!/^https?:\/\//.test(inference.model)) {
        inference.model = resolve(inference.model);
        if (!existsSync(inference.model)) {
          missing.push(
            `  - models.${index}.inference.model: ${inference.model} does not exist (a .gguf path, or an https URL with sha256)`,
          );
        }
      }
      if (inference.cacheDir !== undefined) inference.cacheDir = resolve(inference.cacheDir);
    }
    return { id: model.id, price: model.price, inference } as ModelConfig;
  });
  if (missing.length)
    throw new ConfigError(`${file} is not a valid relayer configuration:\n${missing.join("\n")}`);
  const chain = { ...value.chain, manifest: value.chain.manifest && resolve(value.chain.manifest) };
  const key = { ...value.key, keystore: value.key.keystore && resolve(value.key.keystore) };
  const signerKey = value.signerKey && {
    ...value.signerKey,
    keystore: value.signerKey.keystore && resolve(value.signerKey.keystore),
  };
  return {
    ...value,
    chain,
    key,
    signerKey,
    models,
    database: value.database === ":memory:" ? value.database : resolve(value.database),
    file: path.resolve(file),
  };
}

/** Reads and validates a YAML (`.yaml`/`.yml`) or JSON configuration file. */
export function loadRelayerConfig(file: string): RelayerConfig {
  if (!existsSync(file)) {
    throw new ConfigError(
      `config file ${file} does not exist: pass --config <path> (an example: relayer.yaml; fields: relayer/README.md)`,
    );
  }
  const text = readFileSync(file, "utf8");
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (error) {
    throw new ConfigError(
      `${file} is not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(error as Error).message}`,
    );
  }
  return parseRelayerConfig(raw, file);
}

type KeySource = RelayerConfig["key"];

/** Loads one key: from the named environment variable, or by decrypting the keystore with its password variable. */
export async function loadKey(source: KeySource, field: string): Promise<Wallet> {
  if (source.env !== undefined) {
    const value = process.env[source.env];
    if (value === undefined || value === "") {
      throw new ConfigError(
        `${field}.env: the environment variable ${source.env} is not set: export the hex private key in it`,
      );
    }
    const hex = value.startsWith("0x") ? value : `0x${value}`;
    if (!isHexString(hex, 32)) {
      throw new ConfigError(`${field}.env: ${source.env} does not hold a 32-byte hex private key`);
    }
    return new Wallet(hex);
  }
  const file = source.keystore!;
  if (!existsSync(file)) throw new ConfigError(`${field}.keystore: ${file} does not exist`);
  const password = process.env[source.passwordEnv!];
  if (password === undefined) {
    throw new ConfigError(`${field}.passwordEnv: the environment variable ${source.passwordEnv} is not set`);
  }
  try {
    const wallet = await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password);
    return new Wallet(wallet.privateKey);
  } catch (error) {
    throw new ConfigError(`${field}.keystore: cannot decrypt ${file}: ${(error as Error).message}`);
  }
}

/** The transaction key and the attestation signer key (the same wallet unless `signerKey` is set). */
export async function loadKeys(config: RelayerConfig): Promise<{ wallet: Wallet; signer: Wallet }> {
  const wallet = await loadKey(config.key, "key");
  const signer = config.signerKey ? await loadKey(config.signerKey, "signerKey") : wallet;
  return { wallet, signer };
}
