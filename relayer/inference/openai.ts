/**
 * Inference through any OpenAI-compatible HTTP server (llama.cpp server, vLLM, Ollama, OpenAI, ...), streaming
 * (SSE). Output tokens are the server's own `usage.completion_tokens`: a server that does not report usage is
 * rejected, since units must be counted by the backend.
 */
import type { Logger } from "pino";
import type { OpenAiBackendConfig } from "./config";
import {
  InferenceInputError,
  type GenerateParams,
  type GenerateResult,
  type InferenceBackend,
} from "./types";

/** Tuning knobs of the retry loop (tests shorten them). */
export interface OpenAiBackendOptions {
  /** First backoff delay; doubles per attempt, with jitter. Default 500 ms. */
  backoffBaseMs?: number;
  /** Cap of one backoff delay (also caps Retry-After). Default 30 s. */
  backoffMaxMs?: number;
}

/** The server answered with a non-retryable HTTP error (4xx other than 429). */
export class OpenAiHttpError extends Error {
  override readonly name = "OpenAiHttpError";
  constructor(
    message: string,
    readonly status: number,
    readonly serverMessage: string,
  ) {
    super(message);
  }
}

/** A failure worth retrying (network error, timeout, 429, 5xx). */
class RetryableError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

interface StreamState {
  text: string;
  usage: Usage | undefined;
  firstTextAt: number | null;
}

const MAX_ERROR_BODY = 2000;

/** Resolves `{baseUrl}/v1/{completions|chat/completions}`, whether or not baseUrl already ends with /v1. */
export function openAiEndpoint(baseUrl: string, api: "completions" | "chat"): string {
  const base = baseUrl.replace(/\/+$/, "");
  const root = /\/v1$/.test(base) ? base : `${base}/v1`;
  return `${root}/${api === "chat" ? "chat/completions" : "completions"}`;
}

/** OpenAI-compatible backend. Construct via `createBackend`. */
export class OpenAiBackend implements InferenceBackend {
  readonly kind = "openai" as const;
  readonly model: string;
  private readonly url: string;
  private apiKey: string | undefined;
  private loaded = false;
  private closed = false;
  private readonly inFlight = new Set<AbortController>();
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly logger: Logger;

  constructor(
    private readonly cfg: OpenAiBackendConfig,
    logger: Logger,
    opts: OpenAiBackendOptions = {},
  ) {
    this.model = cfg.model;
    this.logger = logger.child({ model: this.model });
    this.url = openAiEndpoint(cfg.baseUrl, cfg.api);
    this.backoffBaseMs = opts.backoffBaseMs ?? 500;
    this.backoffMaxMs = opts.backoffMaxMs ?? 30_000;
  }

  /** Checks the configuration: the API key env var (if configured) must be set. Idempotent. */
  async load(): Promise<void> {
    if (this.closed) throw new Error(`openai backend ${this.model} is closed`);
    if (this.loaded) return;
    if (this.cfg.apiKeyEnv !== undefined) {
      const key = process.env[this.cfg.apiKeyEnv];
      if (key === undefined || key.trim() === "") {
        throw new Error(
          `environment variable ${this.cfg.apiKeyEnv} (apiKeyEnv) is not set: export the API key for ` +
            `${this.cfg.baseUrl} in it before starting the relayer`,
        );
      }
      this.apiKey = key.trim();
    }
    this.loaded = true;
    this.logger.info({ url: this.url, auth: this.apiKey !== undefined }, "openai backend ready");
  }

  /**
   * The server's context is unknown here: only the output cap is checked (a server that cannot fit the prompt
   * answers with a 400, which is not retried).
   */
  async check(prompt: string, maxTokens: number): Promise<void> {
    if (!Number.isInteger(maxTokens) || maxTokens < 1) {
      throw new InferenceInputError(`maxTokens must be a positive integer (got ${maxTokens})`);
    }
    void prompt;
  }

  /**
   * Generates a completion (greedy: temperature 0 + seed), retrying transient failures (network errors, timeouts,
   * 429, 5xx) unless part of the text was already passed to `onText`.
   */
  async generate(prompt: string, params: GenerateParams): Promise<GenerateResult> {
    await this.load();
    if (!Number.isInteger(params.maxTokens) || params.maxTokens < 1) {
      throw new InferenceInputError(`maxTokens must be a positive integer (got ${params.maxTokens})`);
    }
    const maxTokens = Math.min(params.maxTokens, this.cfg.maxTokens);
    const body = JSON.stringify({
      model: this.cfg.model,
      ...(this.cfg.api === "chat" ? { messages: [{ role: "user", content: prompt }] } : { prompt }),
      max_tokens: maxTokens,
      temperature: 0,
      seed: params.seed,
      stream: true,
      stream_options: { include_usage: true },
      ...(params.stop && params.stop.length > 0 ? { stop: params.stop } : {}),
    });
    const started = performance.now();
    const state: StreamState = { text: "", usage: undefined, firstTextAt: null };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.attempt(body, params, state);
        break;
      } catch (err) {
        if (params.signal?.aborted) throw params.signal.reason ?? err;
        if (!(err instanceof RetryableError)) throw err;
        if (state.text.length > 0 && params.onText) {
          throw new Error(`${err.message} after part of the output was streamed; the job must be retried`);
        }
        state.text = "";
        state.usage = undefined;
        state.firstTextAt = null;
        if (attempt >= this.cfg.retries) {
          throw new Error(
            `${err.message}; gave up after ${attempt + 1} attempt(s): check that the server is up and not overloaded`,
          );
        }
        const backoff =
          Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
        const delay =
          err.retryAfterMs !== undefined ? Math.min(err.retryAfterMs, this.backoffMaxMs) : backoff;
        this.logger.warn(
          {
            url: this.url,
            attempt: attempt + 1,
            retries: this.cfg.retries,
            delayMs: Math.round(delay),
            err: err.message,
          },
          "openai request failed; retrying",
        );
        await sleep(delay, params.signal);
      }
    }

    const completion = state.usage?.completion_tokens;
    if (typeof completion !== "number" || !Number.isInteger(completion) || completion < 0) {
      throw new Error(
        `${this.url} sent no usage.completion_tokens: output tokens must be counted by the backend; use a server ` +
          `that supports stream_options.include_usage (llama.cpp server, vLLM, OpenAI)`,
      );
    }
    let tokens = completion;
    if (tokens > maxTokens) {
      this.logger.warn(
        { url: this.url, reported: tokens, maxTokens },
        "server reported more tokens than max_tokens",
      );
      tokens = maxTokens;
    }
    const totalMs = performance.now() - started;
    return {
      text: state.text,
      tokens,
      promptTokens: state.usage?.prompt_tokens ?? 0,
      timings: {
        totalMs,
        firstTokenMs: state.firstTextAt === null ? null : state.firstTextAt - started,
        tokensPerSecond: totalMs > 0 ? (tokens * 1000) / totalMs : 0,
      },
    };
  }

  /** One HTTP request with its own timeout. Fills `state`; throws RetryableError for transient failures. */
  private async attempt(body: string, params: GenerateParams, state: StreamState): Promise<void> {
    const ctrl = new AbortController();
    this.inFlight.add(ctrl);
    const timeoutMsg = `${this.url} did not finish within timeoutMs=${this.cfg.timeoutMs}`;
    const timer = setTimeout(() => ctrl.abort(new RetryableError(timeoutMsg)), this.cfg.timeoutMs);
    const signal = params.signal ? AbortSignal.any([params.signal, ctrl.signal]) : ctrl.signal;
    const failure = (err: unknown, what: string): Error => {
      if (params.signal?.aborted)
        return params.signal.reason instanceof Error ? params.signal.reason : new Error("aborted");
      if (ctrl.signal.aborted) {
        const reason: unknown = ctrl.signal.reason;
        return reason instanceof Error ? reason : new Error(String(reason));
      }
      return new RetryableError(`${what} ${this.url} failed: ${describe(err)}`);
    };
    try {
      let res: Response;
      try {
        res = await fetch(this.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "text/event-stream, application/json",
            ...(this.apiKey !== undefined ? { authorization: `Bearer ${this.apiKey}` } : {}),
          },
          body,
          signal,
        });
      } catch (err) {
        throw failure(err, "request to");
      }

      if (!res.ok) {
        const serverMessage = await readErrorMessage(res).catch(() => "");
        const shown = `${this.url} answered HTTP ${res.status}${serverMessage ? `: ${serverMessage}` : ""}`;
        if (res.status === 429 || res.status >= 500) {
          throw new RetryableError(
            shown,
            res.status === 429 ? parseRetryAfter(res.headers.get("retry-after")) : undefined,
          );
        }
        const hint =
          res.status === 401 || res.status === 403
            ? `check the API key${this.cfg.apiKeyEnv ? ` in ${this.cfg.apiKeyEnv}` : " (set apiKeyEnv)"}`
            : res.status === 404
              ? "check baseUrl and model"
              : "check the model name and request limits";
        throw new OpenAiHttpError(`${shown} (${hint})`, res.status, serverMessage);
      }
      if (res.body === null) throw new RetryableError(`${this.url} answered with an empty body`);

      const contentType = res.headers.get("content-type") ?? "";
      const readError = (err: unknown) => failure(err, "reading the response of");
      if (contentType.includes("application/json")) {
        // The server ignored stream: true: one JSON completion.
        const text = await res.text().catch((err: unknown) => Promise.reject(readError(err)));
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          throw new Error(`${this.url} sent a response that is not valid JSON: ${text.slice(0, 200)}`);
        }
        this.handleChunk(json, params, state);
      } else {
        await this.readSse(res.body, params, state, readError);
      }
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(ctrl);
    }
  }

  private async readSse(
    stream: ReadableStream<Uint8Array>,
    params: GenerateParams,
    state: StreamState,
    readError: (err: unknown) => Error,
  ): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    let data: string[] = [];
    let done = false;
    const dispatch = () => {
      if (data.length === 0) return;
      const payload = data.join("\n");
      data = [];
      if (payload.trim() === "[DONE]") {
        done = true;
        return;
      }
      let chunk: unknown;
      try {
        chunk = JSON.parse(payload);
      } catch {
        throw new Error(`${this.url} sent a stream event that is not JSON: ${payload.slice(0, 200)}`);
      }
      this.handleChunk(chunk, params, state);
    };
    const reader = stream.getReader();
    try {
      while (!done) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (err) {
          throw readError(err);
        }
        const { value, done: eof } = chunk;
        buffer += eof ? decoder.decode() : decoder.decode(value, { stream: true });
        let nl: number;
        while (!done && (nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, "");
          buffer = buffer.slice(nl + 1);
          if (line === "") dispatch();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
          // other SSE fields (event:, id:, retry:, comments) are ignored
        }
        if (eof) {
          if (!done && buffer.startsWith("data:")) data.push(buffer.slice(5).replace(/^ /, ""));
          dispatch();
          break;
        }
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  }

  private handleChunk(chunk: unknown, params: GenerateParams, state: StreamState): void {
    const c = chunk as {
      error?: unknown;
      choices?: { text?: unknown; delta?: { content?: unknown }; message?: { content?: unknown } }[];
      usage?: Usage | null;
    };
    if (c.error !== undefined && c.error !== null) {
      throw new Error(`${this.url} reported an error in the stream: ${errorText(c.error)}`);
    }
    const choice = c.choices?.[0];
    const piece = choice?.text ?? choice?.delta?.content ?? choice?.message?.content;
    if (typeof piece === "string" && piece.length > 0) {
      state.firstTextAt ??= performance.now();
      state.text += piece;
      params.onText?.(piece);
    }
    if (c.usage) state.usage = c.usage;
  }

  /** Aborts requests in flight. */
  async close(): Promise<void> {
    this.closed = true;
    for (const ctrl of this.inFlight) ctrl.abort(new Error(`openai backend ${this.model} closed`));
    this.inFlight.clear();
  }
}

function errorText(e: unknown): string {
  if (typeof e === "string") return e;
  if (e && typeof e === "object" && typeof (e as { message?: unknown }).message === "string") {
    return (e as { message: string }).message;
  }
  return JSON.stringify(e);
}

async function readErrorMessage(res: Response): Promise<string> {
  const text = (await res.text()).slice(0, MAX_ERROR_BODY).trim();
  try {
    const j = JSON.parse(text) as { error?: unknown; message?: unknown; detail?: unknown };
    if (j.error !== undefined) return errorText(j.error);
    if (typeof j.message === "string") return j.message;
    if (typeof j.detail === "string") return j.detail;
  } catch {
    // not JSON: use the text as is
  }
  return text;
}

/** Retry-After in ms (delta-seconds or HTTP date); undefined if absent/invalid. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
