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

export type SendOutcome =
  | { status: "sent"; tx: TxRecord }
  | { status: "existing"; tx: TxRecord }
  | { status: "rejected"; reason: string };

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
  private fees?: Fees;
  private head = 0;
  private readonly forgotten = new Set<number>();

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

  /** Signs and broadcasts the call under `key`, unless that key was sent before or the simulation reverts. */
  async send(request: SendRequest): Promise<SendOutcome> {
    const { store, provider, logger } = this.o;
    const existing = store.txByKey(request.key);
    if (existing) return { status: "existing", tx: existing };

    let gas: bigint;
    try {
      gas = await this.retry("estimateGas", () =>
        provider.estimateGas({ from: this.address, to: request.to, data: request.data }),
      );
    } catch (error) {
      if (isTransient(error)) throw error;
      const reason = this.o.describeError(error);
      logger.info(
        { key: request.key, method: request.method, jobIds: request.jobIds, reason },
        `not sending ${request.method}: the simulation reverts`,
      );
      return { status: "rejected", reason };
    }
    const gasLimit = (gas * BigInt(100 + this.o.config.gasHeadroomPct)) / 100n;
    const fees = await this.currentFees();

    return this.exclusive(async () => {
      const raced = store.txByKey(request.key);
      if (raced) return { status: "existing", tx: raced } as const;
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
      await this.broadcast(tx, raw);
      return { status: "sent", tx } as const;
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

  private async currentFees(): Promise<Fees> {
    if (this.fees && this.fees.block === this.head) return this.fees;
    const data = await this.retry("getFeeData", () => this.o.provider.getFeeData());
    let maxPriorityFeePerGas = data.maxPriorityFeePerGas ?? 1_000_000_000n;
    let maxFeePerGas = data.maxFeePerGas ?? (data.gasPrice ?? 1_000_000_000n) * 2n;
    if (this.o.config.maxFeeGwei !== undefined) {
      const cap = BigInt(Math.round(this.o.config.maxFeeGwei * 1e9));
      if (maxFeePerGas > cap) maxFeePerGas = cap;
      if (maxPriorityFeePerGas > maxFeePerGas) maxPriorityFeePerGas = maxFeePerGas;
    }
    this.fees = { block: this.head, maxFeePerGas, maxPriorityFeePerGas };
    return this.fees;
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
          this.forgotten.delete(tx.id);
          this.o.onSettled(store.tx(tx.id)!, receipt);
        } else if (tx.nonce < minedNonce) {
          store.settleTx(tx.id, { status: "dropped", error: "another transaction used this nonce" });
          metrics.txFailed.inc({ method: tx.method });
          logger.warn(
            { key: tx.key, nonce: tx.nonce },
            `${tx.method} dropped: its nonce was used by another transaction`,
          );
          this.o.onSettled(store.tx(tx.id)!, null);
        } else if (head - tx.sentBlock >= this.o.config.bumpAfterBlocks) {
          await this.replace(tx, head);
        } else if (
          this.forgotten.has(tx.id) ||
          (await provider.getTransaction(tx.hashes.at(-1)!).catch(() => null)) === null
        ) {
          await this.broadcast(tx, tx.raw);
        }
      }
    });
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
