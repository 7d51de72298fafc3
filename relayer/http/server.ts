/**
 * The relayer's HTTP server (plain node:http): requesters deliver prompts for "external" inputRefs and read
 * outputs; operators read health, status and Prometheus metrics.
 *
 * Routes (errors are JSON `{ error: { code, message } }`):
 * - POST /v1/jobs/:jobId/input   body `{ prompt, signature }` (EIP-712 JobInput by the job's requester)
 * - GET  /v1/jobs/:jobId/output  headers `x-cinder-expires`, `x-cinder-signature` (EIP-712 OutputRequest)
 * - GET  /healthz, GET /metrics, GET /v1/status, GET /v1/provider (address, encryption public key, models)
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import type { Logger } from "pino";
import {
  OUTPUT_REQUEST_MAX_TTL_SECONDS,
  promptHash,
  recoverInputSigner,
  recoverOutputRequestSigner,
  type DeliveryContext,
} from "../delivery";
import type { RelayerMetrics } from "../metrics";

/** What the server needs to know about a job. */
export interface DeliveryJob {
  /** The job's requester (checksummed or lowercase address). */
  requester: string;
  /** The job's on-chain inputHash (0x-prefixed bytes32). */
  inputHash: string;
  /** The job's state as the relayer tracks it (returned with 202 while there is no output). */
  state: string;
  /** Whether the relayer already has the prompt. */
  hasInput: boolean;
  /** The result once inferred, else null. */
  output: { text: string; outputHash: string; unitsUsed: number } | null;
}

/** The relayer state behind the HTTP server (implemented by the node on top of its store). */
export interface DeliveryBackend {
  /** The job, or undefined if the relayer has not seen it (yet). */
  jobForDelivery(jobId: bigint): DeliveryJob | undefined;
  /**
   * Stores a prompt whose hash and signature the server has verified. Returns "duplicate" if that prompt was
   * already stored. Throw {@link InputConflictError} if a different prompt is stored for the job.
   */
  deliverInput(jobId: bigint, prompt: string): "stored" | "duplicate";
  /** Liveness/readiness; `ok: false` turns /healthz into a 503. */
  health(): { ok: boolean; [k: string]: unknown };
  /** Number of jobs per state, for /v1/status and the jobs gauge. */
  jobCounts(): Record<string, number>;
  /**
   * What a requester needs to address this provider (GET /v1/provider): its address, the public key to encrypt
   * prompts to (`encryptInputRef`), the chain, the coordinator and the models served. Never anything secret.
   */
  info(): Record<string, unknown>;
}

/** Thrown by {@link DeliveryBackend.deliverInput} when a different prompt is already stored for the job (→ 409). */
export class InputConflictError extends Error {
  readonly code = "INPUT_CONFLICT";
  constructor(message = "a different prompt is already stored for this job") {
    super(message);
    this.name = "InputConflictError";
  }
}

/** Options of {@link createRelayerHttpServer}. */
export interface RelayerHttpServerOptions {
  host: string;
  /** 0 = an ephemeral port (see the result of listen()). */
  port: number;
  chainId: bigint;
  coordinator: string;
  /** Largest prompt accepted, in UTF-8 bytes. The request body may be up to 6× this (JSON escapes) + 4 KiB. */
  maxPromptBytes: number;
  backend: DeliveryBackend;
  /** The server records HTTP metrics into it and sets its job counts source to `backend.jobCounts`. */
  metrics: RelayerMetrics;
  logger: Logger;
  /** How long close() waits for in-flight requests before cutting connections. Default 5000 ms. */
  closeGraceMs?: number;
}

/** A started-on-demand relayer HTTP server. */
export interface RelayerHttpServer {
  /** Starts listening; resolves with the bound port. */
  listen(): Promise<{ port: number }>;
  /** Stops accepting connections, closes idle keep-alive connections, waits for in-flight requests. */
  close(): Promise<void>;
}

const MAX_UINT256 = (1n << 256n) - 1n;
const JOB_ID_RE = /^[0-9]{1,78}$/;
const SIGNATURE_RE = /^0x[0-9a-fA-F]{130}$/;
const EXPIRES_RE = /^[0-9]{1,20}$/;
const JOB_ROUTE_RE = /^\/v1\/jobs\/([^/]+)\/(input|output)$/;
/** After a 413, keep discarding the client's bytes this long so it can read the response, then destroy. */
const LINGER_MS = 1000;

/** Parses a jobId path segment: a non-negative decimal integer below 2^256, else undefined. */
export function parseJobId(segment: string): bigint | undefined {
  if (!JOB_ID_RE.test(segment)) return undefined;
  const id = BigInt(segment);
  return id <= MAX_UINT256 ? id : undefined;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: OutgoingHttpHeaders = {},
  ) {
    super(message);
  }
}

const utf8Fatal = new TextDecoder("utf-8", { fatal: true });

function jsonText(body: unknown): string {
  return JSON.stringify(body, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = jsonText(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

/** The path of a request target (origin-form "/a?b" or absolute-form "http://h/a?b"); "" if unusable. */
function pathOf(target: string | undefined): string {
  if (!target) return "";
  if (target.startsWith("/")) return target.split(/[?#]/, 1)[0];
  try {
    return new URL(target).pathname;
  } catch {
    return "";
  }
}

function isJsonContentType(header: string | undefined): boolean {
  if (!header) return false;
  const [type, ...params] = header.split(";").map((s) => s.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => !p.startsWith("charset=") || p === "charset=utf-8" || p === 'charset="utf-8"');
}

/**
 * Creates the relayer's HTTP server. Nothing listens until `listen()`.
 * Also points `metrics.setJobCountsSource` at `backend.jobCounts`.
 */
export function createRelayerHttpServer(opts: RelayerHttpServerOptions): RelayerHttpServer {
  const { backend, metrics, logger } = opts;
  const ctx: DeliveryContext = { chainId: opts.chainId, coordinator: opts.coordinator };
  const maxBodyBytes = opts.maxPromptBytes * 6 + 4096;
  metrics.setJobCountsSource(() => backend.jobCounts());

  const tooLarge = () =>
    new HttpError(
      413,
      "PROMPT_TOO_LARGE",
      `the prompt exceeds the relayer's limit of ${opts.maxPromptBytes} bytes; use a shorter prompt or another relayer`,
    );

  /** Reads the body up to maxBodyBytes; past the limit it stops buffering and rejects with 413 at once. */
  function readBody(req: IncomingMessage): Promise<Buffer> {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > maxBodyBytes) {
      return Promise.reject(tooLarge()); // without reading a byte of it
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const cleanup = () => {
        req.off("data", onData);
        req.off("end", onEnd);
        req.off("error", onAbort);
        req.off("close", onAbort);
      };
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBodyBytes) {
          cleanup();
          chunks.length = 0;
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      };
      const onEnd = () => {
        cleanup();
        resolve(Buffer.concat(chunks, size));
      };
      const onAbort = () => {
        cleanup();
        reject(new HttpError(400, "BAD_REQUEST", "the request body was cut off; send it again"));
      };
      req.on("data", onData);
      req.on("end", onEnd);
      req.on("error", onAbort);
      req.on("close", onAbort);
    });
  }

  function jobIdOf(segment: string): bigint {
    const jobId = parseJobId(segment);
    if (jobId === undefined) {
      throw new HttpError(400, "BAD_REQUEST", "jobId must be a non-negative decimal integer below 2^256");
    }
    return jobId;
  }

  function requireJob(jobId: bigint): DeliveryJob {
    const job = backend.jobForDelivery(jobId);
    if (!job) {
      throw new HttpError(
        404,
        "UNKNOWN_JOB",
        `job ${jobId} is not known to this relayer yet; retry after the job's block has enough confirmations`,
      );
    }
    return job;
  }

  async function postInput(req: IncomingMessage, res: ServerResponse, jobId: bigint): Promise<void> {
    if (!isJsonContentType(req.headers["content-type"])) {
      throw new HttpError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "send the body as Content-Type: application/json (UTF-8)",
      );
    }
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(utf8Fatal.decode(raw));
    } catch {
      throw new HttpError(
        400,
        "BAD_REQUEST",
        'the body must be UTF-8 JSON: { "prompt": string, "signature": hex }',
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new HttpError(
        400,
        "BAD_REQUEST",
        'the body must be a JSON object: { "prompt": string, "signature": hex }',
      );
    }
    const { prompt, signature } = body as Record<string, unknown>;
    if (typeof prompt !== "string") {
      throw new HttpError(400, "BAD_REQUEST", '"prompt" must be a string');
    }
    if (typeof signature !== "string" || !SIGNATURE_RE.test(signature)) {
      throw new HttpError(
        400,
        "BAD_REQUEST",
        '"signature" must be a 65-byte 0x-prefixed hex EIP-712 signature',
      );
    }
    if (Buffer.byteLength(prompt, "utf8") > opts.maxPromptBytes) throw tooLarge();

    const job = requireJob(jobId);
    const hash = promptHash(prompt);
    if (hash.toLowerCase() !== job.inputHash.toLowerCase()) {
      throw new HttpError(
        400,
        "INPUT_HASH_MISMATCH",
        "keccak256 of the prompt's UTF-8 bytes does not match the job's inputHash; send the exact prompt of the job",
      );
    }
    let signer: string;
    try {
      signer = recoverInputSigner(ctx, jobId, job.inputHash, signature);
    } catch {
      throw new HttpError(401, "BAD_SIGNATURE", "the signature is not a valid EIP-712 JobInput signature");
    }
    if (signer.toLowerCase() !== job.requester.toLowerCase()) {
      throw new HttpError(
        401,
        "BAD_SIGNATURE",
        "the JobInput signature is not from the job's requester (check the signer, chainId and coordinator)",
      );
    }
    let result: "stored" | "duplicate";
    try {
      result = backend.deliverInput(jobId, prompt);
    } catch (err) {
      if (err instanceof InputConflictError || (err as { code?: unknown })?.code === "INPUT_CONFLICT") {
        throw new HttpError(409, "INPUT_CONFLICT", "a different prompt is already stored for this job");
      }
      throw err;
    }
    sendJson(res, result === "stored" ? 202 : 200, { jobId: jobId.toString(), status: result });
  }

  function getOutput(req: IncomingMessage, res: ServerResponse, jobId: bigint): void {
    const expiresHeader = req.headers["x-cinder-expires"];
    const sigHeader = req.headers["x-cinder-signature"];
    if (typeof expiresHeader !== "string" || typeof sigHeader !== "string") {
      throw new HttpError(
        401,
        "SIGNATURE_REQUIRED",
        "send x-cinder-expires (unix seconds) and x-cinder-signature (EIP-712 OutputRequest by the requester)",
      );
    }
    if (!EXPIRES_RE.test(expiresHeader) || !SIGNATURE_RE.test(sigHeader)) {
      throw new HttpError(
        400,
        "BAD_REQUEST",
        "x-cinder-expires must be unix seconds and x-cinder-signature a 65-byte 0x-prefixed hex signature",
      );
    }
    const expiresAt = BigInt(expiresHeader);
    const now = BigInt(Math.floor(Date.now() / 1000));
    if (expiresAt <= now || expiresAt > now + BigInt(OUTPUT_REQUEST_MAX_TTL_SECONDS)) {
      throw new HttpError(
        401,
        "REQUEST_EXPIRED",
        `the output request must expire in the future and at most ${OUTPUT_REQUEST_MAX_TTL_SECONDS} s from now ` +
          "(check your clock); sign a new one",
      );
    }
    const job = requireJob(jobId);
    let signer: string;
    try {
      signer = recoverOutputRequestSigner(ctx, jobId, expiresAt, sigHeader);
    } catch {
      throw new HttpError(
        401,
        "BAD_SIGNATURE",
        "the signature is not a valid EIP-712 OutputRequest signature",
      );
    }
    if (signer.toLowerCase() !== job.requester.toLowerCase()) {
      throw new HttpError(
        401,
        "BAD_SIGNATURE",
        "the OutputRequest signature is not from the job's requester (check the signer, chainId and coordinator)",
      );
    }
    if (!job.output) {
      sendJson(res, 202, { jobId: jobId.toString(), state: job.state });
      return;
    }
    sendJson(res, 200, {
      jobId: jobId.toString(),
      output: job.output.text,
      outputHash: job.output.outputHash,
      unitsUsed: job.output.unitsUsed,
    });
  }

  function health(res: ServerResponse): void {
    let status: { ok: boolean; [k: string]: unknown };
    try {
      status = backend.health();
    } catch (err) {
      logger.error({ err }, "health check failed");
      status = { ok: false, error: "health check failed" };
    }
    sendJson(res, status.ok ? 200 : 503, status);
  }

  async function metricsText(res: ServerResponse): Promise<void> {
    const text = await metrics.text();
    res.writeHead(200, { "content-type": metrics.contentType, "cache-control": "no-store" });
    res.end(text);
  }

  /** Dispatches a request to its route; throws HttpError for rejections. */
  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const method = req.method ?? "GET";
    const isGet = method === "GET" || method === "HEAD";
    const onlyGet = () => {
      if (!isGet)
        throw new HttpError(405, "METHOD_NOT_ALLOWED", `use GET for ${path}`, { allow: "GET, HEAD" });
    };
    const job = JOB_ROUTE_RE.exec(path);
    if (job) {
      const [, segment, kind] = job;
      if (kind === "input") {
        if (method !== "POST") {
          throw new HttpError(405, "METHOD_NOT_ALLOWED", "use POST to deliver a prompt", { allow: "POST" });
        }
        return postInput(req, res, jobIdOf(segment));
      }
      onlyGet();
      return getOutput(req, res, jobIdOf(segment));
    }
    switch (path) {
      case "/healthz":
        onlyGet();
        return health(res);
      case "/metrics":
        onlyGet();
        return metricsText(res);
      case "/v1/status":
        onlyGet();
        return sendJson(res, 200, backend.jobCounts());
      case "/v1/provider":
        onlyGet();
        return sendJson(res, 200, backend.info());
      default:
        throw new HttpError(
          404,
          "NOT_FOUND",
          `no route ${path.slice(0, 200)}; see /v1/jobs/:jobId/input, /v1/jobs/:jobId/output, /v1/provider, /v1/status, /healthz, /metrics`,
        );
    }
  }

  function routeLabel(path: string): string {
    const job = JOB_ROUTE_RE.exec(path);
    if (job) return `/v1/jobs/:jobId/${job[2]}`;
    return ["/healthz", "/metrics", "/v1/status", "/v1/provider"].includes(path) ? path : "other";
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = pathOf(req.url);
    const label = routeLabel(path);
    res.on("close", () => {
      const status = String(res.statusCode);
      metrics.httpRequests.inc({ route: label, method: req.method ?? "", status });
      metrics.httpRequestSeconds.observe({ route: label }, (performance.now() - started) / 1000);
    });
    try {
      await route(req, res, path);
    } catch (err) {
      if (err instanceof HttpError) {
        const jobSegment = JOB_ROUTE_RE.exec(path)?.[1];
        const fields = {
          status: err.status,
          code: err.code,
          method: req.method,
          route: label,
          jobId: jobSegment && jobSegment.length <= 80 ? jobSegment : undefined,
          remote: req.socket.remoteAddress,
        };
        if (err.status === 401 || err.status === 409 || err.status === 413) logger.warn(fields, err.message);
        else logger.info(fields, err.message);
        // Rejected before the body was read (413, 415, bad route...): answer, then drop the connection rather
        // than read the rest of a body we do not want.
        const unread = !req.complete;
        if (unread) lingerThenDestroy(req, res);
        const headers = unread ? { ...err.headers, connection: "close" } : err.headers;
        sendJson(res, err.status, { error: { code: err.code, message: err.message } }, headers);
        return;
      }
      logger.error({ err, method: req.method, route: label }, "request failed");
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { error: { code: "INTERNAL", message: "internal error; retry later" } });
    }
  }

  /** After an early rejection, let the response reach the client, then destroy the connection. */
  function lingerThenDestroy(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    res.once("finish", () => {
      const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
      timer.unref();
      req.socket.once("close", () => clearTimeout(timer));
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      logger.error({ err }, "unhandled error in request handler");
      res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: Error) => reject(err);
        server.once("error", onError);
        server.listen(opts.port, opts.host, () => {
          server.off("error", onError);
          const port = (server.address() as AddressInfo).port;
          logger.info({ host: opts.host, port }, "relayer HTTP server listening");
          resolve({ port });
        });
      });
    },
    close() {
      if (!server.listening) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const force = setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 5000);
        force.unref();
        server.close((err) => {
          clearTimeout(force);
          if (err) reject(err);
          else resolve();
        });
        server.closeIdleConnections();
      });
    },
  };
}
