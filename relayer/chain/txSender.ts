/**
 * The transaction sender: the one nonce manager for the relayer's key.
 *
 * - Every transaction has an idempotency key (`accept:12`, `submit:12`, `finalize:3`…). A key that was ever
 *   signed is never signed again: `send` returns the stored transaction.
 * - Before a nonce is taken the call is simulated (`eth_estimateGas`, which executes it); a revert is a decision
 *   not to send, logged with the decoded reason.
 * - The signed bytes are committed to SQLite, together with the caller's state change, before the broadcast. A
 *   crash after that re-broadcasts the same bytes on restart: no nonce gap, no second transaction.
 * - Broadcasts go out in nonce order (one at a time), so a node that cannot queue future nonces (Hardhat's
 *   automine) never sees a gap.
 * - `tick` tracks receipts, replaces a transaction stuck past `bumpAfterBlocks` with bumped fees (same nonce),
 *   re-broadcasts one the node forgot, and marks one whose nonce was used by another transaction as dropped.
 */
import { keccak256, type BaseWallet, type JsonRpcProvider, type TransactionReceipt } from "ethers";
import type { Logger } from "pino";
import type { RelayerMetrics } from "../metrics";
import type { JobStore, TxRecord } from "../store";
import { isTransient, withRetry } from "./rpc";

export interface TxConfig {
  gasHeadroomPct: number;
  /** Gas added to every limit on top of the headroom. */
  gasMargin: number;
  bumpAfterBlocks: number;
  bumpPct: number;
  maxFeeGwei?: number;
}

export interface SendRequest {
  /** Idempotency key: one transaction per key, ever. */
  key: string;
  /** Contract method, for logs and metrics. */
  method: string;
  jobIds: number[];
  to: string;
  data: string;
  /** Runs inside the SQLite transaction that stores the signed transaction: record the job's new state here. */
  persist?: (tx: TxRecord) => void;
}

/**
 * Where a send's time went, in ms: the simulation, waiting for earlier transactions' nonces, signing and
 * storing, and the broadcast (on an automining node the broadcast includes mining the block).
 */
export interface SendTimings {
  simulateMs: number;
  queueMs: number;
  signAndStoreMs: number;
  broadcastMs: number;
}

export type SendOutcome =
  | { status: "sent"; tx: TxRecord; timings: SendTimings }
  | { status: "existing"; tx: TxRecord }
  | { status: "rejected"; reason: string };

/** The outcome of a simulation: the gas it used, or the decoded reason it reverts. */
export type Simulation = { ok: true; gas: bigint; ms: number } | { ok: false; reason: string; ms: number };

export interface TxSenderOptions {
  provider: JsonRpcProvider;
  wallet: BaseWallet;
  chainId: bigint;
  store: JobStore;
  logger: Logger;
  metrics: RelayerMetrics;
  config: TxConfig;
  /** Decodes a revert into a readable reason (custom errors of every Cinder ABI). */
  describeError: (error: unknown) => string;
  /** Called once a transaction is mined (success or revert) or dropped. */
  onSettled: (tx: TxRecord, receipt: TransactionReceipt | null) => void;
  signal?: AbortSignal;
}

interface Fees {
  block: number;
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export class TxSender {
  readonly address: string;
  private nextNonce = -1;
  private queue: Promise<unknown> = Promise.resolve();
  private fees?: Promise<Fees>;
  private feesBlock = -1;
  private head = 0;
  private readonly forgotten = new Set<number>();
  /** The head at which `tick` first saw each pending transaction: stuck-ness is counted from there. */
  private readonly firstSeen = new Map<number, number>();

  constructor(private readonly o: TxSenderOptions) {
    this.address = o.wallet.address;
  }

  private retry<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(op, fn, {
      logger: this.o.logger,
      signal: this.o.signal,
      onError: (name) => this.o.metrics.rpcErrors.inc({ op: name }),
    });
  }

  /** Runs `fn` after every earlier queued call: nonces are taken and broadcast strictly in order. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Reconciles the stored transactions with the chain: picks the next nonce and re-broadcasts what is pending. */
  async init(head: number): Promise<void> {
    this.head = head;
    const chainPending = await this.retry("getTransactionCount", () =>
      this.o.provider.getTransactionCount(this.address, "pending"),
    );
    const stored = this.o.store.maxNonce();
    if (chainPending > stored + 1 && stored >= 0) {
      this.o.logger.warn(
        { chainNonce: chainPending, storedNonce: stored },
        "the key sent transactions this relayer did not sign (another process shares the key?); continuing from the chain's nonce",
      );
    }
    this.nextNonce = Math.max(chainPending, stored + 1);
    const pending = this.o.store.pendingTxs();
    if (pending.length > 0)
      this.o.logger.info(
        { pending: pending.length, nextNonce: this.nextNonce },
        "resuming pending transactions",
      );
    await this.exclusive(async () => {
      for (const tx of pending) await this.broadcast(tx, tx.raw);
    });
  }

  /** Simulates the call (`eth_estimateGas` executes it): the gas it needs, or why it reverts. */
  async simulate(to: string, data: string): Promise<Simulation> {
    const t0 = performance.now();
    try {
      const gas = await this.retry("estimateGas", () =>
        this.o.provider.estimateGas({ from: this.address, to, data }),
      );
      return { ok: true, gas, ms: performance.now() - t0 };
    } catch (error) {
      if (isTransient(error)) throw error;
      return { ok: false, reason: this.o.describeError(error), ms: performance.now() - t0 };
    }
  }

  /**
   * Signs and broadcasts the call under `key`, unless that key was sent before or the simulation reverts.
   * `simulation` passes one the caller already ran (e.g. alongside its own checks).
   */
  async send(request: SendRequest, simulation?: Simulation): Promise<SendOutcome> {
    const { store, logger } = this.o;
    const existing = store.txByKey(request.key);
    if (existing) return { status: "existing", tx: existing };

    const [simulated, fees] = await Promise.all([
      simulation ?? this.simulate(request.to, request.data),
      this.currentFees(),
    ]);
    if (!simulated.ok) {
      logger.info(
        { key: request.key, method: request.method, jobIds: request.jobIds, reason: simulated.reason },
        `not sending ${request.method}: the simulation reverts`,
      );
      return { status: "rejected", reason: simulated.reason };
    }
    // The simulation ran against the state before this relayer's own pending transactions: one of them can make
    // this call dearer (e.g. a finalize that releases every locked collateral turns the accept's next write into
    // a fresh slot, +20k gas). Headroom in percent plus a fixed margin covers it; unused gas is not paid.
    const gasLimit =
      (simulated.gas * BigInt(100 + this.o.config.gasHeadroomPct)) / 100n + BigInt(this.o.config.gasMargin);
    const queued = performance.now();

    return this.exclusive(async () => {
      const raced = store.txByKey(request.key);
      if (raced) return { status: "existing", tx: raced } as const;
      const t0 = performance.now();
      const nonce = this.nextNonce;
      const raw = await this.o.wallet.signTransaction({
        type: 2,
        chainId: this.o.chainId,
        nonce,
        to: request.to,
        data: request.data,
        value: 0n,
        gasLimit,
        maxFeePerGas: fees.maxFeePerGas,
        maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
      });
      const tx = store.transaction(() => {
        const stored = store.insertTx({
          key: request.key,
          method: request.method,
          jobIds: request.jobIds,
          nonce,
          to: request.to,
          data: request.data,
          gasLimit: gasLimit.toString(),
          maxFeePerGas: fees.maxFeePerGas.toString(),
          maxPriorityFeePerGas: fees.maxPriorityFeePerGas.toString(),
          hashes: [keccak256(raw)],
          raw,
          sentBlock: this.head,
          sentAt: Date.now(),
        });
        request.persist?.(stored);
        return stored;
      });
      this.nextNonce = nonce + 1;
      this.o.metrics.txSent.inc({ method: request.method });
      const t1 = performance.now();
      await this.broadcast(tx, raw);
      const timings: SendTimings = {
        simulateMs: simulated.ms,
        queueMs: t0 - queued,
        signAndStoreMs: t1 - t0,
        broadcastMs: performance.now() - t1,
      };
      return { status: "sent", tx, timings } as const;
    });
  }

  /** Sends raw bytes; failures leave the transaction pending for `tick` (nothing is lost or re-signed here). */
  private async broadcast(tx: TxRecord, raw: string): Promise<void> {
    try {
      await this.o.provider.send("eth_sendRawTransaction", [raw]);
      this.forgotten.delete(tx.id);
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (
        /already known|known transaction|nonce too low|nonce has already been used|reverted|revert/i.test(
          message,
        )
      ) {
        // Already in the pool or mined (a reverted transaction is mined too): the receipt will tell.
        return;
      }
      this.forgotten.add(tx.id);
      const level = isTransient(error) ? "warn" : "error";
      this.o.logger[level](
        { key: tx.key, nonce: tx.nonce, err: message.slice(0, 300) },
        "broadcast failed; will retry",
      );
    }
  }

  /** The fees to sign with: fetched at most once per head (concurrent callers share the request). */
  private currentFees(): Promise<Fees> {
    if (!this.fees || this.feesBlock !== this.head) {
      this.feesBlock = this.head;
      this.fees = this.fetchFees().catch((error) => {
        this.fees = undefined;
        throw error;
      });
    }
    return this.fees;
  }

  private async fetchFees(): Promise<Fees> {
    const data = await this.retry("getFeeData", () => this.o.provider.getFeeData());
    let maxPriorityFeePerGas = data.maxPriorityFeePerGas ?? 1_000_000_000n;
    let maxFeePerGas = data.maxFeePerGas ?? (data.gasPrice ?? 1_000_000_000n) * 2n;
    if (this.o.config.maxFeeGwei !== undefined) {
      const cap = BigInt(Math.round(this.o.config.maxFeeGwei * 1e9));
      if (maxFeePerGas > cap) maxFeePerGas = cap;
      if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
    }
    return { block: this.head, maxFeePerGas, maxPriorityFeePerGas };
  }

  /** How many transactions are still pending. */
  pendingCount(): number {
    return this.o.store.pendingTxs().length;
  }

  /** Follows pending transactions at `head`: receipts, drops, replacements and re-broadcasts. */
  async tick(head: number): Promise<void> {
    this.head = head;
    const pending = this.o.store.pendingTxs();
    if (pending.length === 0) return;
    const { provider, store, metrics, logger } = this.o;
    // The mined nonce is read before the receipts: a transaction below it that has no receipt was truly replaced
    // by one this relayer did not sign, not mined between the two reads.
    const minedNonce = await this.retry("getTransactionCount", () =>
      provider.getTransactionCount(this.address, "latest"),
    );
    const receipts = await this.retry("getTransactionReceipt", () =>
      Promise.all(
        pending.map((tx) => Promise.all(tx.hashes.map((hash) => provider.getTransactionReceipt(hash)))),
      ),
    );
    // Stuck-ness counts blocks from the first tick that saw the transaction pending (the head a send recorded
    // can be several blocks old by the time it broadcasts). A transaction pending since an earlier tick is
    // also looked up in the node's pool, concurrently, to re-broadcast it if the node forgot it.
    const unmined = pending.filter((tx, index) => receipts[index].every((r) => r === null));
    for (const tx of unmined) if (!this.firstSeen.has(tx.id)) this.firstSeen.set(tx.id, head);
    const known = await Promise.all(
      unmined.map((tx) =>
        this.forgotten.has(tx.id) || this.firstSeen.get(tx.id)! === head || tx.nonce < minedNonce
          ? Promise.resolve(true)
          : provider
              .getTransaction(tx.hashes.at(-1)!)
              .then((found) => found !== null)
              .catch(() => true),
      ),
    );
    const inPool = new Map(unmined.map((tx, index) => [tx.id, known[index]]));
    await this.exclusive(async () => {
      for (const [index, tx] of pending.entries()) {
        const receipt = receipts[index].find((r) => r !== null) ?? null;
        if (receipt) {
          const ok = receipt.status === 1;
          store.settleTx(tx.id, {
            status: ok ? "mined" : "failed",
            minedBlock: receipt.blockNumber,
            gasUsed: receipt.gasUsed.toString(),
            gasPrice: receipt.gasPrice.toString(),
            error: ok ? undefined : "reverted on-chain",
          });
          metrics.txLatencySeconds.observe({ method: tx.method }, (Date.now() - tx.sentAt) / 1000);
          metrics.gasSpentWei.inc({ method: tx.method }, Number(receipt.gasUsed * receipt.gasPrice));
          if (!ok) {
            metrics.txFailed.inc({ method: tx.method });
            logger.warn(
              { key: tx.key, hash: receipt.hash, block: receipt.blockNumber },
              `${tx.method} reverted on-chain`,
            );
          }
          this.forget(tx.id);
          this.o.onSettled(store.tx(tx.id)!, receipt);
        } else if (tx.nonce < minedNonce) {
          store.settleTx(tx.id, { status: "dropped", error: "another transaction used this nonce" });
          metrics.txFailed.inc({ method: tx.method });
          logger.warn(
            { key: tx.key, nonce: tx.nonce },
            `${tx.method} dropped: its nonce was used by another transaction`,
          );
          this.forget(tx.id);
          this.o.onSettled(store.tx(tx.id)!, null);
        } else if (head - this.firstSeen.get(tx.id)! >= this.o.config.bumpAfterBlocks) {
          await this.replace(tx, head);
          this.firstSeen.set(tx.id, head);
        } else if (this.forgotten.has(tx.id) || !inPool.get(tx.id)) {
          await this.broadcast(tx, tx.raw);
        }
      }
    });
  }

  private forget(id: number): void {
    this.forgotten.delete(id);
    this.firstSeen.delete(id);
  }

  /** Re-signs a stuck transaction with the same nonce and fees raised by `bumpPct` (at least the current fees). */
  private async replace(tx: TxRecord, head: number): Promise<void> {
    const bump = (value: bigint) => (value * BigInt(100 + this.o.config.bumpPct) + 99n) / 100n;
    const current = await this.currentFees();
    const maxPriorityFeePerGas = [bump(BigInt(tx.maxPriorityFeePerGas)), current.maxPriorityFeePerGas].reduce(
      (a, b) => (a > b ? a : b),
    );
    const maxFeePerGas = [bump(BigInt(tx.maxFeePerGas)), current.maxFeePerGas, maxPriorityFeePerGas].reduce(
      (a, b) => (a > b ? a : b),
    );
    const raw = await this.o.wallet.signTransaction({
      type: 2,
      chainId: this.o.chainId,
      nonce: tx.nonce,
      to: tx.to,
      data: tx.data,
      value: 0n,
      gasLimit: BigInt(tx.gasLimit),
      maxFeePerGas,
      maxPriorityFeePerGas,
    });
    const hash = keccak256(raw);
    this.o.store.replaceTx(tx.id, {
      raw,
      hash,
      maxFeePerGas: maxFeePerGas.toString(),
      maxPriorityFeePerGas: maxPriorityFeePerGas.toString(),
      sentBlock: head,
    });
    this.o.metrics.txReplaced.inc({ method: tx.method });
    this.o.logger.info(
      { key: tx.key, nonce: tx.nonce, maxFeePerGas: maxFeePerGas.toString(), hash },
      `${tx.method} stuck; replaced with higher fees`,
    );
    await this.broadcast(this.o.store.tx(tx.id)!, raw);
  }
}
