/**
 * Prometheus metrics of the relayer, on its own prom-client Registry (never the global one, so several relayers
 * and tests can live in one process). Every metric name starts with `cinder_relayer_`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** Prefix of every relayer metric name. */
export const METRIC_PREFIX = "cinder_relayer_";

/** Options of {@link RelayerMetrics}. */
export interface RelayerMetricsOptions {
  /** Also export Node process metrics (CPU, memory, event loop lag, ...) under the same prefix. Default false. */
  defaultMetrics?: boolean;
  /** Labels added to every metric (e.g. `{ provider: "0xabc..." }`). */
  defaultLabels?: Record<string, string>;
}

/** Source of the per-state job counts, read on each scrape (e.g. `() => store.jobCounts()`). */
export type JobCountsSource = () => Record<string, number>;

/** All relayer metrics. Create one per relayer and pass it to the components that record into it. */
export class RelayerMetrics {
  readonly registry = new Registry();

  /** Jobs known to the relayer, by state; filled on each scrape from {@link setJobCountsSource}. */
  readonly jobsByState: Gauge<"state">;
  /** Wall time of one inference (`generate`), by model. */
  readonly inferenceSeconds: Histogram<"model">;
  /** Output tokens generated (units billed), by model. */
  readonly inferenceTokens: Counter<"model">;
  /** Output tokens per second of the last inference, by model. */
  readonly tokensPerSecond: Gauge<"model">;
  /** Time from sending a transaction to its receipt, by contract method. */
  readonly txLatencySeconds: Histogram<"method">;
  /** Transactions sent (including replacements), by method. */
  readonly txSent: Counter<"method">;
  /** Transactions replaced (fee bump / stuck nonce), by method. */
  readonly txReplaced: Counter<"method">;
  /** Transactions that reverted or could not be sent, by method. */
  readonly txFailed: Counter<"method">;
  /** Gas spent (gasUsed × effectiveGasPrice, in wei), by method. */
  readonly gasSpentWei: Counter<"method">;
  /** Earnings of finalized jobs, by unit ("usd" or "vouchers"). */
  readonly earnings: Counter<"unit">;
  /** Challenges raised by this relayer in watcher mode. */
  readonly challenges: Counter;
  /** RPC errors, by operation. */
  readonly rpcErrors: Counter<"op">;
  /** Latest block number seen from the RPC. */
  readonly headBlock: Gauge;
  /** Latest block whose events the relayer has processed. */
  readonly processedBlock: Gauge;
  /** Relayer time per job beyond inference (fetching input, signing, submitting). */
  readonly overheadSeconds: Histogram;
  /** HTTP requests served by the delivery server, by route, method and status. */
  readonly httpRequests: Counter<"route" | "method" | "status">;
  /** HTTP request handling time, by route. */
  readonly httpRequestSeconds: Histogram<"route">;

  private jobCountsSource: JobCountsSource | undefined;

  constructor(opts: RelayerMetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.defaultLabels) this.registry.setDefaultLabels(opts.defaultLabels);
    const p = METRIC_PREFIX;
    // The collect callback runs with `this` bound to the gauge; keep a handle on the metrics object.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;

    this.jobsByState = new Gauge({
      name: `${p}jobs`,
      help: "Jobs known to the relayer, by state",
      labelNames: ["state"],
      registers,
      collect() {
        const source = self.jobCountsSource;
        if (!source) return;
        this.reset();
        let counts: Record<string, number>;
        try {
          counts = source();
        } catch {
          return; // a failing source must not break the whole scrape; the gauge is simply empty
        }
        for (const [state, count] of Object.entries(counts)) this.set({ state }, count);
      },
    });
    this.inferenceSeconds = new Histogram({
      name: `${p}inference_seconds`,
      help: "Wall time of one inference, by model",
      labelNames: ["model"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
      registers,
    });
    this.inferenceTokens = new Counter({
      name: `${p}inference_tokens_total`,
      help: "Output tokens generated (units billed), by model",
      labelNames: ["model"],
      registers,
    });
    this.tokensPerSecond = new Gauge({
      name: `${p}tokens_per_second`,
      help: "Output tokens per second of the last inference, by model",
      labelNames: ["model"],
      registers,
    });
    this.txLatencySeconds = new Histogram({
      name: `${p}tx_latency_seconds`,
      help: "Time from sending a transaction to its receipt, by method",
      labelNames: ["method"],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    });
    this.txSent = new Counter({
      name: `${p}tx_sent_total`,
      help: "Transactions sent, by method",
      labelNames: ["method"],
      registers,
    });
    this.txReplaced = new Counter({
      name: `${p}tx_replaced_total`,
      help: "Transactions replaced (fee bump), by method",
      labelNames: ["method"],
      registers,
    });
    this.txFailed = new Counter({
      name: `${p}tx_failed_total`,
      help: "Transactions that reverted or could not be sent, by method",
      labelNames: ["method"],
      registers,
    });
    this.gasSpentWei = new Counter({
      name: `${p}gas_spent_wei_total`,
      help: "Gas spent in wei (gasUsed x effectiveGasPrice), by method",
      labelNames: ["method"],
      registers,
    });
    this.earnings = new Counter({
      name: `${p}earnings_total`,
      help: 'Earnings of finalized jobs, by unit ("usd" or "vouchers")',
      labelNames: ["unit"],
      registers,
    });
    this.challenges = new Counter({
      name: `${p}challenges_total`,
      help: "Challenges raised in watcher mode",
      registers,
    });
    this.rpcErrors = new Counter({
      name: `${p}rpc_errors_total`,
      help: "RPC errors, by operation",
      labelNames: ["op"],
      registers,
    });
    this.headBlock = new Gauge({ name: `${p}head_block`, help: "Latest block number seen", registers });
    this.processedBlock = new Gauge({
      name: `${p}processed_block`,
      help: "Latest block whose events have been processed",
      registers,
    });
    this.overheadSeconds = new Histogram({
      name: `${p}overhead_seconds`,
      help: "Relayer time per job beyond inference",
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers,
    });
    this.httpRequests = new Counter({
      name: `${p}http_requests_total`,
      help: "HTTP requests served, by route, method and status",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.httpRequestSeconds = new Histogram({
      name: `${p}http_request_seconds`,
      help: "HTTP request handling time, by route",
      labelNames: ["route"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });

    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /** Sets the function read on each scrape to fill {@link jobsByState}. Replaces any previous source. */
  setJobCountsSource(fn: JobCountsSource): void {
    this.jobCountsSource = fn;
  }

  /** Content-Type of {@link text} (Prometheus text exposition format). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** All metrics in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
