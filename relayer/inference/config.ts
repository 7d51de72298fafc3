/**
 * Configuration schemas of the inference backends. The relayer's config (relayer/config.ts) composes
 * `modelBackendSchema`; every object is strict so that typos are reported instead of silently ignored.
 */
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/** Default directory for downloaded GGUF files. */
export function defaultModelCacheDir(): string {
  return path.join(os.homedir(), ".cache", "cinder", "models");
}

/** True for http(s) URLs (as opposed to local file paths). */
export function isUrl(model: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(model);
}

/** True for http URLs that point at this machine (allowed without TLS, for tests and local servers). */
export function isLoopbackHttpUrl(url: URL): boolean {
  return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

const unknownKeys = (backend: string) => (iss: { code: string; keys?: string[] }) =>
  iss.code === "unrecognized_keys"
    ? `unknown key(s) ${(iss.keys ?? []).map((k) => `"${k}"`).join(", ")} in the "${backend}" model config: remove or fix them`
    : undefined;

const seedSchema = z
  .number({ error: "seed must be an integer between 0 and 4294967295" })
  .int("seed must be an integer between 0 and 4294967295")
  .min(0, "seed must be an integer between 0 and 4294967295")
  .max(0xffffffff, "seed must be an integer between 0 and 4294967295");

const maxTokensSchema = z
  .number({ error: "maxTokens must be a positive integer (the cap on output tokens per job)" })
  .int("maxTokens must be a positive integer (the cap on output tokens per job)")
  .min(1, "maxTokens must be at least 1");

/** A local GGUF model run in-process with node-llama-cpp. */
export const llamaBackendSchema = z
  .object(
    {
      backend: z.literal("llama"),
      /** Path of a local .gguf file, or an https URL to download it from (then `sha256` is required). */
      model: z
        .string({ error: "model must be the path of a .gguf file or an https URL" })
        .min(1, "model must be the path of a .gguf file or an https URL"),
      /** Expected sha256 of the GGUF file (64 hex characters). Required for URLs; verified for local files too. */
      sha256: z
        .string()
        .regex(/^[0-9a-fA-F]{64}$/, "sha256 must be 64 hex characters (the output of `sha256sum model.gguf`)")
        .toLowerCase()
        .optional(),
      /** Where downloaded models are stored, as <sha256>.gguf. */
      cacheDir: z
        .string()
        .min(1, "cacheDir must be a directory path")
        .default(() => defaultModelCacheDir()),
      /** CPU threads. Set it explicitly: more threads than physical cores makes small models dramatically slower. */
      threads: z
        .number({ error: "threads must be an integer ≥ 1 (CPU threads for inference)" })
        .int("threads must be an integer ≥ 1 (CPU threads for inference)")
        .min(1, "threads must be an integer ≥ 1 (CPU threads for inference)")
        .max(256, "threads must be at most 256")
        .default(1),
      /** Context window in tokens: prompt + output must fit in it. */
      contextSize: z
        .number({ error: "contextSize must be an integer between 64 and 8192 (tokens)" })
        .int("contextSize must be an integer between 64 and 8192 (tokens)")
        .min(64, "contextSize must be at least 64 tokens")
        .max(8192, "contextSize must be at most 8192 tokens")
        .default(512),
      /** Cap on output tokens per job (a job's maxUnits is clamped to it). */
      maxTokens: maxTokensSchema.default(256),
      /** Sampling seed (decoding is greedy, so it only matters for backends that ignore temperature 0). */
      seed: seedSchema.default(42),
    },
    { error: unknownKeys("llama") },
  )
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.maxTokens >= cfg.contextSize) {
      ctx.addIssue({
        code: "custom",
        path: ["maxTokens"],
        message: `maxTokens (${cfg.maxTokens}) must be smaller than contextSize (${cfg.contextSize}): the prompt needs room too`,
      });
    }
    if (!isUrl(cfg.model)) return;
    let url: URL;
    try {
      url = new URL(cfg.model);
    } catch {
      ctx.addIssue({ code: "custom", path: ["model"], message: `model "${cfg.model}" is not a valid URL` });
      return;
    }
    if (url.protocol !== "https:" && !isLoopbackHttpUrl(url)) {
      ctx.addIssue({
        code: "custom",
        path: ["model"],
        message: `model URL must use https:// (got ${url.protocol}//); plain http is only allowed for localhost`,
      });
    }
    if (cfg.sha256 === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["sha256"],
        message:
          "sha256 is required when model is a URL: add the file's sha256 (64 hex characters) to the config",
      });
    }
  });

/** Any OpenAI-compatible HTTP server (llama.cpp server, vLLM, Ollama, OpenAI, ...). */
export const openaiBackendSchema = z
  .object(
    {
      backend: z.literal("openai"),
      /** Server base URL, with or without a trailing /v1 (e.g. http://127.0.0.1:8080 or https://api.openai.com/v1). */
      baseUrl: z.url({
        protocol: /^https?$/,
        error: "baseUrl must be an http(s) URL of an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1",
      }),
      /** Model name sent to the server. */
      model: z
        .string({ error: "model must be the model name the server expects" })
        .min(1, "model must be the model name the server expects"),
      /** "completions" → POST /v1/completions (raw prompt); "chat" → POST /v1/chat/completions (one user message). */
      api: z
        .enum(["completions", "chat"], { error: 'api must be "completions" or "chat"' })
        .default("completions"),
      /** NAME of the environment variable holding the API key (never the key itself). */
      apiKeyEnv: z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]*$/,
          "apiKeyEnv must be the NAME of an environment variable holding the key (e.g. OPENAI_API_KEY), not the key",
        )
        .optional(),
      /** Timeout of one HTTP request, including the streamed response. */
      timeoutMs: z
        .number({ error: "timeoutMs must be a positive integer (milliseconds)" })
        .int("timeoutMs must be a positive integer (milliseconds)")
        .min(1, "timeoutMs must be a positive integer (milliseconds)")
        .default(60_000),
      /** Retries on network errors, timeouts, 429 and 5xx (not on other 4xx). */
      retries: z
        .number({ error: "retries must be an integer between 0 and 10" })
        .int("retries must be an integer between 0 and 10")
        .min(0, "retries must be an integer between 0 and 10")
        .max(10, "retries must be an integer between 0 and 10")
        .default(3),
      maxTokens: maxTokensSchema.default(256),
      seed: seedSchema.default(42),
    },
    { error: unknownKeys("openai") },
  )
  .strict();

/** A model backend, selected by `backend: "llama" | "openai"`. */
export const modelBackendSchema = z.discriminatedUnion("backend", [llamaBackendSchema, openaiBackendSchema], {
  error: (iss) => (iss.code === "invalid_union" ? 'backend must be "llama" or "openai"' : undefined),
});

export type LlamaBackendConfig = z.infer<typeof llamaBackendSchema>;
export type OpenAiBackendConfig = z.infer<typeof openaiBackendSchema>;
export type ModelBackendConfig = z.infer<typeof modelBackendSchema>;
/** Config as written by the user (defaults not yet applied). */
export type ModelBackendConfigInput = z.input<typeof modelBackendSchema>;
