/**
 * HTTP client of a provider's relayer, for requesters (deliver a prompt, read an output), tests and the demo.
 * Uses the global fetch.
 */
import { keccak256, toUtf8Bytes } from "ethers";
import { signInput, signOutputRequest, type DeliveryContext, type TypedDataSigner } from "./delivery";

/** An error answer of the relayer (`status` 0 for network errors and timeouts). */
export class RelayerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "RelayerHttpError";
  }
}

/** A job's output as served by the relayer (its hash already checked against the text). */
export interface RelayerOutput {
  output: string;
  outputHash: string;
  unitsUsed: number;
}

function asObject(body: unknown): Record<string, unknown> {
  return typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
}

/** Options of {@link RelayerClient}. */
export interface RelayerClientOptions {
  /** Per-request timeout. Default 30000 ms. */
  timeoutMs?: number;
  /** Lifetime of a signed output request (the relayer accepts at most 3600 s). Default 300 s. */
  outputRequestTtlSeconds?: number;
}

/** Client of one relayer's HTTP API. */
/** What GET /v1/provider returns. */
export interface ProviderInfo {
  address: string;
  publicKey: string;
  chainId: string;
  coordinator: string;
  models: string[];
  provider: boolean;
  watcher: boolean;
}

export class RelayerClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly ttlSeconds: number;

  constructor(baseUrl: string, opts: RelayerClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.ttlSeconds = opts.outputRequestTtlSeconds ?? 300;
  }

  /**
   * Delivers a job's prompt, signed as the requester. Resolves "stored" (202) or "duplicate" (200, already stored).
   * Throws RelayerHttpError (e.g. 404 UNKNOWN_JOB: the relayer has not seen the job yet, retry later).
   */
  async sendInput(
    signer: TypedDataSigner,
    ctx: DeliveryContext,
    jobId: bigint,
    prompt: string,
  ): Promise<"stored" | "duplicate"> {
    const signature = await signInput(signer, ctx, jobId, prompt);
    const { body } = await this.request(`/v1/jobs/${jobId}/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ prompt, signature }),
    });
    const status = asObject(body).status;
    if (status !== "stored" && status !== "duplicate") {
      throw new RelayerHttpError(200, "BAD_RESPONSE", "the relayer answered without a delivery status");
    }
    return status;
  }

  /**
   * Reads a job's output, signed as the requester. Resolves null while the job has not been inferred (202).
   * Checks that outputHash = keccak256(output); compare it with the on-chain outputHash yourself.
   */
  async fetchOutput(
    signer: TypedDataSigner,
    ctx: DeliveryContext,
    jobId: bigint,
  ): Promise<RelayerOutput | null> {
    const expiresAt = BigInt(Math.floor(Date.now() / 1000) + this.ttlSeconds);
    const signature = await signOutputRequest(signer, ctx, jobId, expiresAt);
    const { status, body } = await this.request(`/v1/jobs/${jobId}/output`, {
      method: "GET",
      headers: { "x-cinder-expires": expiresAt.toString(), "x-cinder-signature": signature },
    });
    if (status === 202) return null;
    const { output, outputHash, unitsUsed } = asObject(body);
    if (typeof output !== "string" || typeof outputHash !== "string" || typeof unitsUsed !== "number") {
      throw new RelayerHttpError(
        status,
        "BAD_RESPONSE",
        "the relayer answered without output, outputHash, unitsUsed",
      );
    }
    if (keccak256(toUtf8Bytes(output)).toLowerCase() !== outputHash.toLowerCase()) {
      throw new RelayerHttpError(
        status,
        "OUTPUT_HASH_MISMATCH",
        "the relayer's output does not match its outputHash",
      );
    }
    return { output, outputHash, unitsUsed };
  }

  /** The relayer's health (resolves for 200 and 503; check `ok`). */
  async health(): Promise<{ ok: boolean; [k: string]: unknown }> {
    const { body } = await this.request("/healthz", { method: "GET" }, [503]);
    return body as { ok: boolean; [k: string]: unknown };
  }

  /** The provider's address, its encryption public key (for `encryptInputRef`), chain, coordinator and models. */
  async provider(): Promise<ProviderInfo> {
    const { body } = await this.request("/v1/provider", { method: "GET" });
    return body as ProviderInfo;
  }

  /** Number of jobs per state known to the relayer. */
  async status(): Promise<Record<string, number>> {
    const { body } = await this.request("/v1/status", { method: "GET" });
    return body as Record<string, number>;
  }

  private async request(
    path: string,
    init: RequestInit,
    acceptErrors: number[] = [],
  ): Promise<{ status: number; body: unknown }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.baseUrl + path, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
      text = await res.text();
    } catch (err) {
      const timedOut = (err as Error)?.name === "TimeoutError";
      throw new RelayerHttpError(
        0,
        timedOut ? "TIMEOUT" : "NETWORK_ERROR",
        timedOut
          ? `the relayer at ${this.baseUrl} did not answer within ${this.timeoutMs} ms`
          : `cannot reach the relayer at ${this.baseUrl}: ${(err as Error)?.message ?? err}`,
        { cause: err },
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RelayerHttpError(
        res.status,
        "BAD_RESPONSE",
        `non-JSON answer (HTTP ${res.status}): ${text.slice(0, 200)}`,
      );
    }
    if (res.ok || acceptErrors.includes(res.status)) return { status: res.status, body };
    const error = asObject(asObject(body).error);
    throw new RelayerHttpError(
      res.status,
      typeof error.code === "string" ? error.code : `HTTP_${res.status}`,
      typeof error.message === "string" ? error.message : `HTTP ${res.status}`,
    );
  }
}
