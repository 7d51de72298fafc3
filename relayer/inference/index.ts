/**
 * Inference backends: `createBackend(config, logger)` builds the backend a model config selects.
 */
import type { Logger } from "pino";
import { z } from "zod";
import { modelBackendSchema, type ModelBackendConfig, type ModelBackendConfigInput } from "./config";
import { LlamaBackend } from "./llama";
import { OpenAiBackend } from "./openai";
import type { InferenceBackend } from "./types";

export * from "./types";
export * from "./config";
export { LlamaBackend } from "./llama";
export { OpenAiBackend, OpenAiHttpError, openAiEndpoint, type OpenAiBackendOptions } from "./openai";
export { resolveModelFile, sha256File, STORIES260K, type ModelSourceConfig } from "./modelSource";

/**
 * Creates (does not load) the backend for a model config. The config is validated again (idempotent for an
 * already-parsed config), so defaults apply and mistakes are reported with the schema's messages.
 * Call `load()` before the first job.
 */
export function createBackend(
  config: ModelBackendConfig | ModelBackendConfigInput,
  logger: Logger,
): InferenceBackend {
  const parsed = modelBackendSchema.safeParse(config);
  if (!parsed.success) throw new Error(`invalid model backend config:\n${z.prettifyError(parsed.error)}`);
  const cfg = parsed.data;
  const child = logger.child({ backend: cfg.backend });
  return cfg.backend === "llama" ? new LlamaBackend(cfg, child) : new OpenAiBackend(cfg, child);
}
