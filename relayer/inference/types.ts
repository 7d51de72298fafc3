/**
 * The inference backend interface used by the relayer: a backend turns a prompt into a completion and counts the
 * output tokens (the units billed on-chain). Implementations: `llama.ts` (local GGUF via node-llama-cpp) and
 * `openai.ts` (any OpenAI-compatible HTTP server).
 */

/** Parameters of one generation. */
export interface GenerateParams {
  /** Hard cap on output tokens (the job's maxUnits, clamped by the model's cap). Must be ≥ 1. */
  maxTokens: number;
  /** Greedy decoding (temperature 0) + seed: reproducible. */
  seed: number;
  /** Stop sequences: generation ends before the first occurrence (not included in the text). */
  stop?: string[];
  /** Aborts the generation (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Streaming: called with each new piece of text; the pieces concatenate to `GenerateResult.text`. */
  onText?: (chunk: string) => void;
}

/** Result of one generation. */
export interface GenerateResult {
  /** The completion only (not the prompt). */
  text: string;
  /** Output tokens as counted by the backend (units billed). */
  tokens: number;
  /** Prompt tokens as counted by the backend. */
  promptTokens: number;
  timings: { totalMs: number; firstTokenMs: number | null; tokensPerSecond: number };
}

/** A loaded model that can generate completions. */
export interface InferenceBackend {
  readonly kind: "llama" | "openai";
  /** A label for logs/metrics. */
  readonly model: string;
  /** Idempotent. llama: downloads/verifies/loads the GGUF; openai: checks the configuration (API key present). */
  load(): Promise<void>;
  /**
   * Checks, without generating, that `prompt` with up to `maxTokens` output tokens can be served (llama: fits the
   * context). Throws {@link InferenceInputError} otherwise. The relayer calls it before accepting a job, since a
   * job it accepts and cannot serve would expire and be slashed.
   */
  check(prompt: string, maxTokens: number): Promise<void>;
  generate(prompt: string, params: GenerateParams): Promise<GenerateResult>;
  close(): Promise<void>;
}

/**
 * The job's input cannot be processed by this backend as configured (e.g. the prompt plus `maxTokens` does not fit
 * in the model's context, or `maxTokens` < 1). Retrying will not help: the relayer must not accept such a job.
 */
export class InferenceInputError extends Error {
  override readonly name = "InferenceInputError";
  constructor(message: string) {
    super(message);
  }
}
