/**
 * The JSON-RPC connection: a provider pinned to the chain id (so an RPC outage never turns into ethers' endless
 * network-detection loop), a classifier of transient errors, and retry with exponential backoff and jitter for
 * them. Reverts and other definitive answers are never retried.
 */
import { FetchRequest, JsonRpcProvider, Network } from "ethers";
import type { Logger } from "pino";

/** Whether an error is worth retrying: the endpoint is down, slow, overloaded or rate-limiting. */
export function isTransient(error: unknown): boolean {
  const e = error as {
    code?: string;
    message?: string;
    error?: { code?: number };
    info?: { responseStatus?: string };
  };
  if (e?.code === "CALL_EXCEPTION" || e?.code === "INSUFFICIENT_FUNDS" || e?.code === "NONCE_EXPIRED")
    return false;
  if (e?.code === "NETWORK_ERROR" || e?.code === "TIMEOUT" || e?.code === "SERVER_ERROR") return true;
  const text = `${e?.message ?? ""} ${e?.info?.responseStatus ?? ""}`;
  return /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|socket hang up|fetch failed|other side closed|429|Too Many Requests|rate limit|502|503|504|timeout/i.test(
    text,
  );
}

export interface Backoff {
  /** First delay and the cap, in ms. */
  initialMs: number;
  maxMs: number;
}

const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 15_000 };

/** The delay before retry number `attempt` (0-based): exponential, capped, with ±25 % jitter. */
export function backoffDelay(attempt: number, backoff: Backoff = DEFAULT_BACKOFF): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt, 20));
  return Math.round(base * (0.75 + Math.random() * 0.5));
}

export const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/**
 * Runs `fn`, retrying transient failures with backoff until it succeeds or `signal` aborts (then the last error
 * is thrown). Logs the first failure at warn and then every tenth; `onError` counts them (metrics).
 */
export async function withRetry<T>(
  op: string,
  fn: () => Promise<T>,
  options: {
    logger: Logger;
    signal?: AbortSignal;
    onError?: (op: string) => void;
    maxAttempts?: number;
    backoff?: Backoff;
  },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!isTransient(error)) throw error;
      options.onError?.(op);
      if (
        options.signal?.aborted ||
        (options.maxAttempts !== undefined && attempt + 1 >= options.maxAttempts)
      )
        throw error;
      const delay = backoffDelay(attempt, options.backoff);
      if (attempt % 10 === 0) {
        options.logger.warn(
          { op, attempt: attempt + 1, retryInMs: delay, err: (error as Error).message?.slice(0, 200) },
          "RPC call failed; retrying with backoff",
        );
      }
      await sleep(delay, options.signal);
    }
  }
}

/** Asks the endpoint for its chain id once, with a timeout (no ethers provider yet). */
export async function fetchChainId(rpcUrl: string, timeoutMs: number): Promise<bigint> {
  const request = new FetchRequest(rpcUrl);
  request.timeout = timeoutMs;
  request.body = { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] };
  request.setHeader("content-type", "application/json");
  const response = await request.send();
  response.assertOk();
  const body = response.bodyJson as { result?: string; error?: { message: string } };
  if (body.result === undefined) throw new Error(`eth_chainId failed: ${body.error?.message ?? "no result"}`);
  return BigInt(body.result);
}

/** A provider pinned to `chainId`: requests fail fast (and are retried by the caller) while the endpoint is down. */
export function connect(rpcUrl: string, chainId: bigint, timeoutMs: number): JsonRpcProvider {
  const request = new FetchRequest(rpcUrl);
  request.timeout = timeoutMs;
  return new JsonRpcProvider(request, Network.from(chainId), {
    staticNetwork: true,
    batchMaxCount: 50,
    batchStallTime: 2,
    cacheTimeout: -1,
  });
}
