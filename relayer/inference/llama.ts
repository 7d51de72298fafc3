/**
 * In-process inference on a local GGUF model with node-llama-cpp (CPU only, prebuilt binaries, never builds).
 *
 * Decoding is greedy (temperature 0, no repeat penalty) and every job starts from an empty context, so the same
 * prompt always yields the same text — watchers rely on that to re-execute results. Jobs run one at a time.
 */
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type {
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaCompletion,
  LlamaModel,
  Token,
} from "node-llama-cpp";
import type { Logger } from "pino";
import { isUrl, type LlamaBackendConfig } from "./config";
import { resolveModelFile } from "./modelSource";
import {
  InferenceInputError,
  type GenerateParams,
  type GenerateResult,
  type InferenceBackend,
} from "./types";

type NodeLlamaCpp = typeof import("node-llama-cpp");

/** A real dynamic import() that TypeScript does not rewrite to require() (node-llama-cpp is ESM-only). */
const importEsm = new Function("s", "return import(s)") as (s: string) => Promise<unknown>;

let modulePromise: Promise<NodeLlamaCpp> | undefined;

/** Loads the node-llama-cpp ES module once per process. */
function loadNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  modulePromise ??= importEsm(pathToFileURL(require.resolve("node-llama-cpp")).href).then(
    (m) => m as NodeLlamaCpp,
    (err: unknown) => {
      modulePromise = undefined;
      throw new Error(
        `could not load node-llama-cpp (${(err as Error).message}): run \`npm ci\` in the repo`,
      );
    },
  );
  return modulePromise;
}

interface LlamaRuntime {
  llama: Llama;
  /** Where llama.cpp logs go: the logger of the backend that loaded a model last (logs come mostly from loads). */
  sink: Logger;
}

let runtimePromise: Promise<LlamaRuntime> | undefined;

/**
 * The process-wide Llama instance, created on first use and kept for the life of the process (node-llama-cpp
 * disposes it before exit). llama.cpp's log callback is process-global: a second Llama instance, or one created
 * after disposing the first, prints its logs straight to stdout, bypassing our logger. The thread budget is the
 * machine's CPU count; each context asks for its configured `threads` within it.
 */
async function acquireRuntime(threads: number, logger: Logger): Promise<LlamaRuntime> {
  runtimePromise ??= (async () => {
    const nlc = await loadNodeLlamaCpp();
    const runtime: LlamaRuntime = { llama: undefined as unknown as Llama, sink: logger };
    runtime.llama = await nlc.getLlama({
      gpu: false,
      build: "never",
      maxThreads: Math.max(os.availableParallelism(), threads),
      logLevel: nlc.LlamaLogLevel.warn,
      logger: (level, message) => {
        const msg = message.trim();
        if (level === "fatal" || level === "error") runtime.sink.error({ llamaCpp: msg }, "llama.cpp error");
        // GGUF converters leave unset special tokens at 2^32 − 1 ("bad special token … using default id -1"):
        // harmless, and printed at every load of models such as stories260K.
        else if (level === "warn" && !/bad special token/.test(msg))
          runtime.sink.warn({ llamaCpp: msg }, "llama.cpp warning");
        else runtime.sink.debug({ llamaCpp: msg }, "llama.cpp");
      },
    });
    return runtime;
  })().catch((err: unknown) => {
    runtimePromise = undefined;
    throw new Error(`could not initialise llama.cpp: ${(err as Error).message}`);
  });
  const runtime = await runtimePromise;
  runtime.sink = logger;
  return runtime;
}

interface Loaded {
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  /** Token prepended to every prompt by LlamaCompletion (BOS), counted in the context budget. */
  prependedTokens: number;
}

/** node-llama-cpp backend. Construct via `createBackend`. */
export class LlamaBackend implements InferenceBackend {
  readonly kind = "llama" as const;
  readonly model: string;
  private loaded: Loaded | undefined;
  private loading: Promise<Loaded> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly logger: Logger;

  constructor(
    private readonly cfg: LlamaBackendConfig,
    logger: Logger,
  ) {
    this.model = path.basename(isUrl(cfg.model) ? new URL(cfg.model).pathname : cfg.model);
    this.logger = logger.child({ model: this.model });
  }

  /** Resolves (downloads/verifies) the GGUF and loads it. Idempotent; a failed load can be retried. */
  async load(): Promise<void> {
    await this.ensureLoaded();
  }

  private ensureLoaded(): Promise<Loaded> {
    if (this.closed) return Promise.reject(new Error(`llama backend ${this.model} is closed`));
    if (this.loaded) return Promise.resolve(this.loaded);
    this.loading ??= this.doLoad().then(
      (l) => {
        this.loaded = l;
        return l;
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  private async doLoad(): Promise<Loaded> {
    const started = performance.now();
    const file = await resolveModelFile(this.cfg, this.logger);
    const nlc = await loadNodeLlamaCpp();
    const runtime = await acquireRuntime(this.cfg.threads, this.logger);
    let model: LlamaModel | undefined;
    try {
      try {
        model = await runtime.llama.loadModel({ modelPath: file });
      } catch (err) {
        throw new Error(
          `llama.cpp could not load ${file}: ${(err as Error).message}; is it a valid GGUF model supported by llama.cpp?`,
        );
      }
      const context = await model.createContext({
        contextSize: this.cfg.contextSize,
        threads: this.cfg.threads,
        sequences: 1,
      });
      const sequence = context.getSequence();
      const completion = new nlc.LlamaCompletion({ contextSequence: sequence });
      const prependedTokens = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? 1 : 0;
      this.logger.info(
        {
          file,
          threads: this.cfg.threads,
          contextSize: context.contextSize,
          trainContextSize: model.trainContextSize,
          ms: Math.round(performance.now() - started),
        },
        "llama model loaded",
      );
      return { model, context, sequence, completion, prependedTokens };
    } catch (err) {
      await model?.dispose().catch(() => undefined);
      throw err;
    }
  }

  /** Number of tokens the prompt occupies in the context (including BOS). */
  async countPromptTokens(prompt: string): Promise<number> {
    const l = await this.ensureLoaded();
    return this.tokenizePrompt(l, prompt).length + l.prependedTokens;
  }

  private tokenizePrompt(l: Loaded, prompt: string): Token[] {
    // Same tokenization LlamaCompletion applies to a string input (no SentencePiece dummy-prefix space).
    return l.model.tokenize(prompt, false, "trimLeadingSpace");
  }

  /**
   * Generates a completion. Calls are serialized (one context sequence).
   * @throws InferenceInputError when maxTokens < 1 or prompt + maxTokens does not fit in the context.
   */
  generate(prompt: string, params: GenerateParams): Promise<GenerateResult> {
    const run = this.queue.then(() => this.runOne(prompt, params));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** @inheritdoc */
  async check(prompt: string, maxTokens: number): Promise<void> {
    this.fit(await this.ensureLoaded(), prompt, maxTokens);
  }

  /** The effective output cap and the prompt's tokens; throws InferenceInputError when they do not fit. */
  private fit(l: Loaded, prompt: string, requested: number): { maxTokens: number; promptTokens: number } {
    if (!Number.isInteger(requested) || requested < 1) {
      throw new InferenceInputError(`maxTokens must be a positive integer (got ${requested})`);
    }
    const maxTokens = Math.min(requested, this.cfg.maxTokens);
    const promptTokens = this.tokenizePrompt(l, prompt).length + l.prependedTokens;
    const contextSize = l.context.contextSize;
    if (promptTokens + maxTokens > contextSize) {
      throw new InferenceInputError(
        `prompt (${promptTokens} tokens) + maxTokens (${maxTokens}) exceeds the context of ${this.model} ` +
          `(${contextSize} tokens): shorten the prompt or lower maxTokens`,
      );
    }
    return { maxTokens, promptTokens };
  }

  private async runOne(prompt: string, params: GenerateParams): Promise<GenerateResult> {
    params.signal?.throwIfAborted();
    const l = await this.ensureLoaded();
    const { maxTokens, promptTokens } = this.fit(l, prompt, params.maxTokens);
    const promptIds = this.tokenizePrompt(l, prompt);

    // Start every job from an empty context: reusing KV state from a previous job could change the numerics.
    await l.sequence.clearHistory();

    const started = performance.now();
    let firstTokenMs: number | null = null;
    let tokens = 0;
    let text = "";
    let recent: Token[] = promptIds.slice(-8); // context for detokenization
    await l.completion.generateCompletionWithMeta(promptIds, {
      maxTokens,
      temperature: 0,
      seed: params.seed,
      repeatPenalty: false,
      customStopTriggers: params.stop?.filter((s) => s.length > 0),
      signal: params.signal,
      disableContextShift: true,
      contextShiftSize: 1,
      onToken: (chunk) => {
        if (chunk.length === 0) return;
        firstTokenMs ??= performance.now() - started;
        tokens += chunk.length;
        // Detokenize with the preceding tokens as context so word-leading spaces are kept (the library's own
        // text drops the space before the first generated word).
        const piece = l.model.detokenize(chunk, false, recent);
        recent = [...recent, ...chunk].slice(-8);
        if (piece.length === 0) return;
        text += piece;
        params.onText?.(piece);
      },
    });
    const totalMs = performance.now() - started;
    const result: GenerateResult = {
      text,
      tokens,
      promptTokens,
      timings: { totalMs, firstTokenMs, tokensPerSecond: totalMs > 0 ? (tokens * 1000) / totalMs : 0 },
    };
    this.logger.debug(
      {
        promptTokens,
        tokens,
        ms: Math.round(totalMs),
        tps: Math.round(result.timings.tokensPerSecond),
      },
      "llama generation done",
    );
    return result;
  }

  /** Waits for the running job, then frees the model. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    const l = this.loaded ?? (await this.loading?.catch(() => undefined));
    this.loaded = undefined;
    this.loading = undefined;
    if (!l) return;
    l.completion.dispose();
    await l.context.dispose();
    await l.model.dispose();
  }
}
