/**
 * The chain watcher: follows the contracts' logs up to `head − confirmations` in ranges of at most
 * `maxBlockRange` blocks, and applies each range's events and the new cursor in one SQLite transaction, so an
 * event is applied exactly once across crashes and restarts. A range the RPC refuses as too large is halved.
 * The cursor block's hash is remembered: a reorganisation deeper than the confirmations depth rewinds the cursor
 * (event handlers are idempotent and the relayer re-checks on-chain state before it acts).
 */
import type { Interface, JsonRpcProvider, LogDescription } from "ethers";
import type { Logger } from "pino";
import type { JobStore } from "../store";
import { withRetry } from "./rpc";

export interface ChainEvent {
  name: string;
  args: LogDescription["args"];
  address: string;
  blockNumber: number;
  logIndex: number;
  transactionHash: string;
}

export interface LogFollowerOptions {
  provider: JsonRpcProvider;
  /** Contracts to follow, each with the interface that decodes its logs. */
  sources: { address: string; iface: Interface }[];
  store: JobStore;
  logger: Logger;
  confirmations: number;
  maxBlockRange: number;
  /** First block to scan when the database has no cursor yet. */
  startBlock: number;
  /** Applies one range's events, inside the transaction that advances the cursor. */
  apply: (events: ChainEvent[]) => void;
  onError?: (op: string) => void;
  signal?: AbortSignal;
}

export class LogFollower {
  private range: number;
  /** The head block the caller already fetched (saves a `getBlock` per poll). */
  private latest?: { number: number; hash: string };

  constructor(private readonly o: LogFollowerOptions) {
    this.range = o.maxBlockRange;
  }

  private retry<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(op, fn, { logger: this.o.logger, signal: this.o.signal, onError: this.o.onError });
  }

  /** The last applied block (the block before `startBlock` on a fresh database). */
  cursor(): number {
    return this.o.store.cursor() ?? this.o.startBlock - 1;
  }

  /** Applies every confirmed event up to `head − confirmations`; returns how many were applied. */
  async poll(head: number, headHash?: string): Promise<number> {
    const { store, provider, logger } = this.o;
    this.latest = headHash === undefined ? undefined : { number: head, hash: headHash };
    await this.checkReorg();
    const safe = head - this.o.confirmations;
    let applied = 0;
    let from = this.cursor() + 1;
    while (from <= safe && !this.o.signal?.aborted) {
      const to = Math.min(safe, from + this.range - 1);
      let logs;
      try {
        logs = await this.retry("getLogs", () =>
          provider.getLogs({ address: this.o.sources.map((s) => s.address), fromBlock: from, toBlock: to }),
        );
      } catch (error) {
        const message = (error as Error).message ?? "";
        if (this.range > 1 && /range|too many|more than|limit|exceed|10000/i.test(message)) {
          this.range = Math.max(1, Math.floor(this.range / 2));
          logger.warn({ from, to, range: this.range }, "the RPC refused the log range; halving it");
          continue;
        }
        throw error;
      }
      const events: ChainEvent[] = [];
      for (const log of logs) {
        const source = this.o.sources.find((s) => s.address.toLowerCase() === log.address.toLowerCase());
        const parsed = source?.iface.parseLog({ topics: [...log.topics], data: log.data });
        if (!parsed) continue;
        events.push({
          name: parsed.name,
          args: parsed.args,
          address: log.address,
          blockNumber: log.blockNumber,
          logIndex: log.index,
          transactionHash: log.transactionHash,
        });
      }
      events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
      const hash = await this.blockHash(to);
      store.transaction(() => {
        this.o.apply(events);
        store.setCursor(to);
        if (hash) store.setMeta("cursorHash", hash);
      });
      applied += events.length;
      from = to + 1;
    }
    return applied;
  }

  private async blockHash(block: number): Promise<string | undefined> {
    if (this.latest?.number === block) return this.latest.hash;
    const b = await this.retry("getBlock", () => this.o.provider.getBlock(block));
    return b?.hash ?? undefined;
  }

  /** Rewinds the cursor when the block it points at is no longer on the canonical chain. */
  private async checkReorg(): Promise<void> {
    const { store, logger } = this.o;
    const cursor = store.cursor();
    const stored = store.getMeta("cursorHash");
    if (cursor === undefined || !stored || cursor < this.o.startBlock) return;
    const current = await this.blockHash(cursor);
    if (current === stored) return;
    const back = Math.max(this.o.startBlock - 1, cursor - Math.max(16, this.o.confirmations * 4));
    logger.error(
      { cursor, storedHash: stored, currentHash: current ?? null, rewindTo: back },
      "reorganisation deeper than the confirmations depth: re-scanning (raise chain.confirmations)",
    );
    store.transaction(() => {
      store.setCursor(back);
      store.setMeta("cursorHash", "");
    });
  }
}
