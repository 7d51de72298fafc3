/**
 * A Cinder relayer node: one provider key, the models it serves, and a loop that
 *   1. applies confirmed coordinator and dispute events to the job store (chain/watcher.ts),
 *   2. follows its pending transactions (chain/txSender.ts),
 *   3. moves each job one step: accept a job whose input it holds, run inference, submit the attested result,
 *      finalize in batches after the challenge window; as a watcher, re-execute other providers' results and
 *      challenge a mismatch.
 * Every step re-checks on-chain state (a simulation before any transaction, `getJob` before an accept) and writes
 * its new state in the same SQLite transaction as the transaction it sends. The loop survives RPC outages (backoff)
 * and never stops for one bad job.
 */
import { performance } from "node:perf_hooks";
import { readFileSync } from "node:fs";
import {
  Interface,
  formatUnits,
  keccak256,
  toUtf8Bytes,
  ZeroAddress,
  type JsonRpcProvider,
  type Wallet,
} from "ethers";
import { resultTypedData } from "../bindings/attestation";
import { JobStatus } from "../bindings/enums";
import { DisputeModule__factory } from "../typechain-types/factories/contracts/DisputeModule__factory";
import { JobCoordinator__factory } from "../typechain-types/factories/contracts/JobCoordinator__factory";
import { ProtocolToken__factory } from "../typechain-types/factories/contracts/ProtocolToken__factory";
import { ProviderRegistry__factory } from "../typechain-types/factories/contracts/ProviderRegistry__factory";
import { ArbiterCommitteeVerifier__factory } from "../typechain-types/factories/contracts/verifiers/ArbiterCommitteeVerifier__factory";
import type { DisputeModule, JobCoordinator, ProtocolToken, ProviderRegistry } from "../bindings";
import { ConfigError, loadKeys, type ModelConfig, type RelayerConfig } from "./config";
import { connect, fetchChainId, isTransient, sleep, withRetry } from "./chain/rpc";
import { TxSender, type SendOutcome } from "./chain/txSender";
import { LogFollower, type ChainEvent } from "./chain/watcher";
import { decodeInputRef, promptHash } from "./delivery";
import { createRelayerHttpServer, type DeliveryBackend } from "./http/server";
import { createBackend } from "./inference";
import type { InferenceBackend } from "./inference/types";
import { createLogger, type Logger } from "./log";
import { RelayerMetrics } from "./metrics";
import { JobStore, TERMINAL_STATES, type JobRecord, type JobState } from "./store";

/** Every contract ABI, to decode custom errors in reverts. */
const ERROR_INTERFACES = [
  JobCoordinator__factory,
  ProviderRegistry__factory,
  DisputeModule__factory,
  ProtocolToken__factory,
  ArbiterCommitteeVerifier__factory,
].map((factory) => new Interface(factory.abi));

/** A revert's readable reason: the custom error with its arguments when an ABI knows it. */
export function describeRevert(error: unknown): string {
  const e = error as {
    data?: string;
    info?: { error?: { data?: string } };
    error?: { data?: string };
    shortMessage?: string;
    message?: string;
  };
  const data = [e?.data, e?.info?.error?.data, e?.error?.data].find(
    (d) => typeof d === "string" && d.startsWith("0x") && d.length >= 10,
  );
  if (data) {
    for (const iface of ERROR_INTERFACES) {
      try {
        const parsed = iface.parseError(data);
        if (parsed) return `${parsed.name}(${parsed.args.map((a) => String(a)).join(", ")})`;
      } catch {
        // not this ABI
      }
    }
  }
  return (e?.shortMessage ?? e?.message ?? String(error)).slice(0, 300);
}

/** What the manifest or config names: the three contracts the relayer talks to. */
interface Addresses {
  jobCoordinator: string;
  providerRegistry: string;
  disputeModule: string;
}

function resolveAddresses(
  config: RelayerConfig,
  chainId: bigint,
): { addresses: Addresses; startBlock: number } {
  if (config.chain.contracts)
    return { addresses: config.chain.contracts, startBlock: config.chain.startBlock ?? 0 };
  const file = config.chain.manifest!;
  let manifest: { chainId?: number; startBlock?: number; contracts?: Partial<Addresses> };
  try {
    manifest = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new ConfigError(
      `chain.manifest: cannot read ${file}: ${(error as Error).message} (deploy first: npm run deploy:local)`,
    );
  }
  if (manifest.chainId !== undefined && BigInt(manifest.chainId) !== chainId) {
    throw new ConfigError(
      `chain.manifest: ${file} is for chain ${manifest.chainId} but ${config.chain.rpcUrl} is chain ${chainId}`,
    );
  }
  const contracts = manifest.contracts ?? {};
  for (const key of ["jobCoordinator", "providerRegistry", "disputeModule"] as const) {
    if (typeof contracts[key] !== "string")
      throw new ConfigError(`chain.manifest: ${file} has no contracts.${key}`);
  }
  return {
    addresses: contracts as Addresses,
    startBlock: config.chain.startBlock ?? manifest.startBlock ?? 0,
  };
}

/** Jobs this relayer still has work on as a provider. */
const ACTIVE: JobState[] = ["accepting", "accepted", "inferred", "submitting"];
/** Most tries of one job step (accept, submit, challenge) whose transaction failed or was dropped. */
const MAX_ATTEMPTS = 3;
const OPEN_STATES: JobState[] = [
  "seen",
  "input",
  "observed",
  ...ACTIVE,
  "submitted",
  "finalizing",
  "verify",
  "mismatch",
  "challenging",
  "challenged",
];

export interface RelayerNodeOptions {
  logger?: Logger;
  /** Aborts the start-up waits (an RPC endpoint that is down). */
  signal?: AbortSignal;
  /** Name in logs and metrics (several relayers in one process, e.g. the demo). */
  name?: string;
}

export class RelayerNode {
  readonly logger: Logger;
  readonly metrics = new RelayerMetrics();
  readonly store: JobStore;
  readonly address: string;
  readonly signerAddress: string;
  httpPort: number | undefined;

  private readonly coordinator: JobCoordinator;
  private readonly registry: ProviderRegistry;
  private readonly disputes: DisputeModule;
  private token?: ProtocolToken;
  private readonly sender: TxSender;
  private readonly follower: LogFollower;
  private readonly backends = new Map<string, { model: ModelConfig; backend: InferenceBackend }>();
  private readonly abort = new AbortController();
  private wakeUp = new AbortController();
  private readonly running = new Map<number, Promise<void>>();
  /** Job steps (accept, submit, finalize, challenge) running in the background, by step key. */
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly retryAfter = new Map<string, number>();
  private http?: ReturnType<typeof createRelayerHttpServer>;
  private loop?: Promise<void>;
  private lastPoll = 0;
  private lastError: string | null = null;
  private providerProblem: string | null = null;
  private head = 0;
  private now = 0;

  private constructor(
    readonly config: RelayerConfig,
    readonly provider: JsonRpcProvider,
    readonly chainId: bigint,
    private readonly wallet: Wallet,
    private readonly signer: Wallet,
    readonly addresses: Addresses,
    startBlock: number,
    logger: Logger,
  ) {
    this.logger = logger;
    this.address = wallet.address;
    this.signerAddress = signer.address;
    this.store = new JobStore(config.database);
    this.coordinator = JobCoordinator__factory.connect(addresses.jobCoordinator, provider);
    this.registry = ProviderRegistry__factory.connect(addresses.providerRegistry, provider);
    this.disputes = DisputeModule__factory.connect(addresses.disputeModule, provider);
    const onError = (op: string) => this.metrics.rpcErrors.inc({ op });
    this.sender = new TxSender({
      provider,
      wallet,
      chainId,
      store: this.store,
      logger: logger.child({ component: "tx" }),
      metrics: this.metrics,
      config: config.tx,
      describeError: describeRevert,
      onSettled: () => this.wake(),
      signal: this.abort.signal,
    });
    this.follower = new LogFollower({
      provider,
      sources: [
        { address: addresses.jobCoordinator, iface: this.coordinator.interface as unknown as Interface },
      ],
      store: this.store,
      logger: logger.child({ component: "watcher" }),
      confirmations: config.chain.confirmations,
      maxBlockRange: config.chain.maxBlockRange,
      startBlock,
      apply: (events) => events.forEach((event) => this.applyEvent(event)),
      onError,
      signal: this.abort.signal,
    });
    this.metrics.setJobCountsSource(() => this.store.jobCounts());
  }

  /**
   * Validates the configuration against the chain and builds a node (nothing runs until {@link start}): loads the
   * keys, waits for the RPC endpoint (with backoff), checks the contracts exist, and loads every model.
   */
  static async create(config: RelayerConfig, options: RelayerNodeOptions = {}): Promise<RelayerNode> {
    const logger = options.logger ?? createLogger(config.log.level, options.name);
    const { wallet, signer } = await loadKeys(config);
    // Models first: a bad model file is a configuration error, reported before any wait for the chain.
    const backends = new Map<string, { model: ModelConfig; backend: InferenceBackend }>();
    const closeBackends = () =>
      Promise.allSettled([...backends.values()].map(({ backend }) => backend.close()));
    let provider: JsonRpcProvider | undefined;
    try {
      for (const [index, model] of config.models.entries()) {
        const backend = createBackend(
          model.inference,
          logger.child({ component: "inference", modelId: model.id }),
        );
        backends.set(model.id, { model, backend });
        try {
          await backend.load();
        } catch (error) {
          const local = model.inference.backend === "llama" && !/^https?:\/\//.test(model.inference.model);
          if (!local) throw error;
          throw new ConfigError(`models.${index}.inference: ${(error as Error).message}`);
        }
      }
      const chainId = await withRetry(
        "eth_chainId",
        () => fetchChainId(config.chain.rpcUrl, config.chain.rpcTimeoutMs),
        { logger, signal: options.signal },
      );
      if (config.chain.chainId !== undefined && BigInt(config.chain.chainId) !== chainId) {
        throw new ConfigError(
          `chain.chainId is ${config.chain.chainId} but ${config.chain.rpcUrl} serves chain ${chainId}`,
        );
      }
      const { addresses, startBlock } = resolveAddresses(config, chainId);
      provider = connect(config.chain.rpcUrl, chainId, config.chain.rpcTimeoutMs);
      const p = provider;
      const code = await withRetry("getCode", () => p.getCode(addresses.jobCoordinator), {
        logger,
        signal: options.signal,
      });
      if (code === "0x") {
        throw new ConfigError(
          `no contract at jobCoordinator ${addresses.jobCoordinator} on chain ${chainId}: is the manifest for this deployment?`,
        );
      }
      const node = new RelayerNode(config, provider, chainId, wallet, signer, addresses, startBlock, logger);
      for (const [id, entry] of backends) node.backends.set(id, entry);
      return node;
    } catch (error) {
      provider?.destroy();
      await closeBackends();
      throw error;
    }
  }

  /** Checks the provider's registration (signer, models, prices); problems are logged and shown by /healthz. */
  private async checkRegistration(): Promise<void> {
    if (!this.config.provider.enabled) return;
    const record = await this.registry.getProvider(this.address);
    const problems: string[] = [];
    if (Number(record.status) !== 1) {
      problems.push(
        `${this.address} is not an active provider: register it with npx hardhat cinder:register-provider`,
      );
    } else {
      const registered = await this.registry.signerOf(this.address);
      if (registered.toLowerCase() !== this.signerAddress.toLowerCase()) {
        throw new ConfigError(
          `the registry's attestation signer for ${this.address} is ${registered}, but this relayer signs with ${this.signerAddress}: set signerKey to that key`,
        );
      }
      for (const { model } of this.backends.values()) {
        const price = await this.registry.eligiblePrice(this.address, model.id);
        if (price === 0n)
          problems.push(`not eligible for model ${model.id} (not offered, jailed, or bond below minimum)`);
        else if (model.price !== undefined && model.price !== price) {
          this.logger.warn(
            { model: model.id, configured: formatUnits(model.price, 18), onChain: formatUnits(price, 18) },
            "the on-chain price differs from models[].price; jobs are paid at the on-chain price",
          );
        }
      }
    }
    this.providerProblem = problems.length ? problems.join("; ") : null;
    if (this.providerProblem)
      this.logger.warn(
        { problem: this.providerProblem },
        "provider registration problem: open jobs will be skipped",
      );
  }

  /** Starts the HTTP server and the loop; resolves once both run. */
  async start(): Promise<void> {
    const head = await withRetry("getBlockNumber", () => this.provider.getBlockNumber(), {
      logger: this.logger,
      signal: this.abort.signal,
    });
    await this.checkRegistration();
    await this.sender.init(head);
    if (this.config.http.enabled) {
      this.http = createRelayerHttpServer({
        host: this.config.http.host,
        port: this.config.http.port,
        chainId: this.chainId,
        coordinator: this.addresses.jobCoordinator,
        maxPromptBytes: this.config.http.maxPromptBytes,
        backend: this.deliveryBackend(),
        metrics: this.metrics,
        logger: this.logger.child({ component: "http" }),
      });
      this.httpPort = (await this.http.listen()).port;
    }
    this.logger.info(
      {
        address: this.address,
        chainId: Number(this.chainId),
        coordinator: this.addresses.jobCoordinator,
        models: [...this.backends.keys()],
        provider: this.config.provider.enabled,
        watcher: this.config.watcher.enabled,
        http: this.httpPort ?? null,
        cursor: this.follower.cursor(),
        head,
      },
      "relayer started",
    );
    this.loop = this.run();
  }

  /** Wakes the loop now (new input, finished inference). */
  wake(): void {
    this.wakeUp.abort();
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        await this.tick();
        this.lastPoll = Date.now();
        this.lastError = null;
      } catch (error) {
        if (this.abort.signal.aborted) break;
        this.lastError = describeRevert(error);
        this.logger.error(
          { err: this.lastError, transient: isTransient(error) },
          "loop iteration failed; continuing",
        );
      }
      if (this.abort.signal.aborted) break;
      const wake = this.wakeUp;
      await sleep(this.config.chain.pollIntervalMs, AbortSignal.any([wake.signal, this.abort.signal]));
      if (wake.signal.aborted) this.wakeUp = new AbortController();
    }
  }

  /** One pass: events, transactions, then every job's next step. */
  async tick(): Promise<void> {
    const retry = <T>(op: string, fn: () => Promise<T>) =>
      withRetry(op, fn, {
        logger: this.logger,
        signal: this.abort.signal,
        onError: (o) => this.metrics.rpcErrors.inc({ op: o }),
      });
    const block = await retry("getBlock", () => this.provider.getBlock("latest"));
    if (!block) return;
    this.head = block.number;
    this.now = block.timestamp;
    this.metrics.headBlock.set(this.head);
    await this.follower.poll(this.head, block.hash ?? undefined);
    this.metrics.processedBlock.set(this.follower.cursor());
    await this.sender.tick(this.head);
    await this.recoverFailedSteps();
    if (this.abort.signal.aborted) return;
    if (this.config.provider.enabled) await this.providerStep();
    if (this.config.watcher.enabled) await this.watcherStep();
  }

  // ------------------------------------------------------------------ events

  private served(modelId: string): boolean {
    return this.backends.has(modelId.toLowerCase());
  }

  private isMe(address: string): boolean {
    return address.toLowerCase() === this.address.toLowerCase();
  }

  /** Deterministic sampling of other providers' jobs for re-execution. */
  private sampled(jobId: number): boolean {
    const rate = this.config.watcher.sampleRate;
    if (rate >= 1) return true;
    const h = BigInt(keccak256(toUtf8Bytes(`${this.address}:${jobId}`)));
    return Number(h % 10_000n) < rate * 10_000;
  }

  /** Applies one event to the store; runs inside the transaction that advances the cursor. Idempotent. */
  private applyEvent(event: ChainEvent): void {
    const { store } = this;
    const jobId = Number(event.args.jobId);
    if (!Number.isSafeInteger(jobId)) return;
    const open = OPEN_STATES;
    switch (event.name) {
      case "JobRequested": {
        const modelId = String(event.args.modelId).toLowerCase();
        if (!this.served(modelId)) return;
        const terms = event.args.terms;
        const named = String(terms.provider);
        const mine =
          this.config.provider.enabled &&
          (named === ZeroAddress ? this.config.provider.acceptOpenRequests : this.isMe(named));
        if (!mine && !this.config.watcher.enabled) return;
        let prompt: string | null = null;
        let error: string | null = null;
        try {
          const decoded = decodeInputRef(String(event.args.inputRef), this.wallet.privateKey);
          if (decoded.prompt !== undefined) {
            if (promptHash(decoded.prompt) === String(terms.inputHash).toLowerCase()) prompt = decoded.prompt;
            else error = "the prompt in inputRef does not match inputHash";
          }
        } catch (e) {
          error = `inputRef: ${(e as Error).message}`;
        }
        const state: JobState = mine ? (error ? "skipped" : prompt !== null ? "input" : "seen") : "observed";
        if (
          store.insertJob({
            jobId,
            mine: mine ? 1 : 0,
            state,
            modelId,
            requester: String(event.args.requester),
            provider: named === ZeroAddress ? null : named,
            kind: Number(terms.kind),
            classId: String(terms.classId),
            inputHash: String(terms.inputHash).toLowerCase(),
            inputRef: String(event.args.inputRef),
            maxUnits: Number(terms.maxUnits),
            deadline: Number(terms.deadline),
            escrow: String(terms.escrow),
            requestedBlock: event.blockNumber,
            prompt,
            error,
          }) &&
          error &&
          mine
        ) {
          this.logger.info({ jobId, reason: error }, "not taking job: bad input reference");
        }
        return;
      }
      case "JobAccepted": {
        const provider = String(event.args.provider);
        if (this.isMe(provider)) {
          const inferred = store.job(jobId)?.output != null;
          store.updateJob(jobId, { state: inferred ? "inferred" : "accepted", provider }, [
            "seen",
            "input",
            "accepting",
            "skipped",
            "lost",
          ]);
        } else {
          store.updateJob(jobId, { state: "lost", provider }, ["seen", "input", "accepting"]);
          store.updateJob(jobId, { provider }, ["observed"]);
        }
        return;
      }
      case "ResultSubmitted": {
        const provider = String(event.args.provider);
        const challengeEnds = Number(event.args.challengeEnds);
        if (this.isMe(provider)) {
          store.updateJob(jobId, { state: "submitted", challengeEnds }, [
            "accepted",
            "inferred",
            "submitting",
          ]);
        } else {
          const verify = this.config.watcher.enabled && this.sampled(jobId);
          store.updateJob(
            jobId,
            {
              state: verify ? "verify" : "observed",
              provider,
              claimedHash: String(event.args.outputHash).toLowerCase(),
              claimedUnits: Number(event.args.unitsUsed),
              challengeEnds,
            },
            ["observed", "lost"],
          );
        }
        return;
      }
      case "JobFinalized": {
        const provider = String(event.args.provider);
        const paid = BigInt(event.args.paid);
        if (this.isMe(provider)) {
          const job = store.job(jobId);
          if (
            job &&
            store.updateJob(jobId, { state: "finalized", paid: paid.toString() }, [...open, "expired"])
          ) {
            if (job.kind === 0) this.metrics.earnings.inc({ unit: "vouchers" }, Number(paid));
            else this.metrics.earnings.inc({ unit: "usd" }, Number(formatUnits(paid, 18)));
          }
        } else store.updateJob(jobId, { state: "settled" }, open);
        return;
      }
      case "JobSkipped": {
        const reason = Number(event.args.reason);
        store.updateJob(jobId, { state: reason === 2 ? "challenged" : "submitted", txKey: null }, [
          "finalizing",
        ]);
        return;
      }
      case "JobCancelled":
        store.updateJob(jobId, { state: "cancelled" }, open);
        return;
      case "JobExpired":
        store.updateJob(
          jobId,
          { state: "expired", error: `expired; ${event.args.slashed} bond slashed` },
          open,
        );
        return;
      case "JobChallenged":
        store.updateJob(jobId, { state: "challenged" }, open);
        return;
      case "JobFaulted":
        store.updateJob(jobId, { state: "faulted" }, open);
        return;
      default:
        return;
    }
  }

  // ------------------------------------------------------------------ transactions settled

  /**
   * Recovers the jobs whose step transaction failed on-chain or was dropped. Driven by the database (not by
   * in-memory notices), so it also runs for transactions that settled just before a crash. A step is retried
   * (under a new idempotency key) at most {@link MAX_ATTEMPTS} times while the on-chain job still allows it.
   */
  private async recoverFailedSteps(): Promise<void> {
    for (const job of this.store.jobsWithFailedTx(["accepting", "submitting", "finalizing", "challenging"])) {
      const tx = this.store.txByKey(job.txKey!)!;
      this.logger.warn(
        { jobId: job.jobId, txKey: tx.key, status: tx.status, gasUsed: tx.gasUsed, gasLimit: tx.gasLimit },
        `${tx.method} did not succeed; re-checking the job on-chain`,
      );
      if (job.state === "finalizing") {
        this.store.updateJob(job.jobId, { state: "submitted", txKey: null }, ["finalizing"]);
        continue;
      }
      const view = await withRetry("getJob", () => this.coordinator.getJob(job.jobId), {
        logger: this.logger,
        signal: this.abort.signal,
      });
      const status = JobStatus[Number(view.status)];
      const mine = this.isMe(view.provider);
      const retry = (from: JobState, to: JobState, step: string) => {
        const attempt = this.attempt(step, job.jobId) + 1;
        if (attempt >= MAX_ATTEMPTS) {
          this.store.updateJob(
            job.jobId,
            { state: "skipped", error: `${step} ${tx.status} ${attempt} times` },
            [from],
          );
          return;
        }
        this.store.transaction(() => {
          this.store.setMeta(`attempt:${step}:${job.jobId}`, String(attempt));
          this.store.updateJob(
            job.jobId,
            { state: to, txKey: null, error: `${step} ${tx.status}; retrying` },
            [from],
          );
        });
      };
      if (job.state === "accepting") {
        if (status === "Requested") retry("accepting", "input", "accept");
        else if (!mine)
          this.store.updateJob(job.jobId, { state: "lost", error: `job ${status}` }, ["accepting"]);
        // accepted by us after all: the JobAccepted event moves it on
      } else if (job.state === "submitting") {
        if (status === "Accepted" && mine) retry("submitting", "inferred", "submit");
        // submitted after all: ResultSubmitted moves it on; anything else ends with its event
      } else if (job.state === "challenging") {
        if (status === "Submitted") retry("challenging", "mismatch", "challenge");
        else
          this.store.updateJob(job.jobId, { state: "settled", error: `challenge ${tx.status}` }, [
            "challenging",
          ]);
      }
    }
  }

  /** How many times a step of a job was retried (0 for the first try). */
  private attempt(step: string, jobId: number): number {
    return Number(this.store.getMeta(`attempt:${step}:${jobId}`) ?? "0");
  }

  /** The idempotency key of a job step's current attempt: `accept:12`, then `accept:12:1`, … */
  private stepKey(step: string, jobId: number): string {
    const attempt = this.attempt(step, jobId);
    return attempt === 0 ? `${step}:${jobId}` : `${step}:${jobId}:${attempt}`;
  }

  // ------------------------------------------------------------------ provider

  /** Whether `key` is waiting out a retry delay set by {@link later}. */
  private backoff(key: string): boolean {
    const until = this.retryAfter.get(key);
    if (until !== undefined && Date.now() < until) return true;
    if (until !== undefined) this.retryAfter.delete(key);
    return false;
  }

  private later(key: string, seconds = 15): void {
    this.retryAfter.set(key, Date.now() + seconds * 1000);
  }

  private async providerStep(): Promise<void> {
    const { store, config } = this;
    const minLead = config.provider.minSecondsToDeadline;

    // Jobs that can no longer be taken in time.
    for (const job of store.jobsIn(["seen", "input"], 10_000, true)) {
      if (job.deadline - this.now < minLead) {
        store.updateJob(job.jobId, { state: "missed", error: "deadline too close to take" }, [
          "seen",
          "input",
        ]);
        this.logger.info(
          { jobId: job.jobId, deadline: job.deadline },
          "not accepting: the deadline is too close",
        );
      }
    }

    // Accept jobs whose input is here, within the active-job limit (accepts under way count as active).
    const accepting = [...this.inflight.keys()].filter((key) => key.startsWith("accept:")).length;
    const active = store.jobsIn(ACTIVE, 100_000, true).length + accepting;
    const room = Math.max(0, config.provider.maxActiveJobs - active);
    if (room > 0 && !this.providerProblem) {
      for (const job of store.jobsIn(["input"], room + accepting, true)) {
        this.launch(`accept:${job.jobId}`, job, () => this.accept(job));
      }
    }
    // Run inference as soon as the accept is signed (the output is only published by the submit).
    for (const job of store.jobsIn(["accepting", "accepted"], 1000, true)) {
      if (job.output === null) this.infer(job);
    }
    // Submit inferred results.
    for (const job of store.jobsIn(["inferred"], 1000, true)) {
      this.launch(`submit:${job.jobId}`, job, () => this.submit(job));
    }
    // Finalize what is past its challenge window.
    this.finalizeReady();
  }

  /**
   * Starts a job step in the background unless the same step already runs: the loop keeps polling while
   * transactions wait for their nonce and broadcast.
   */
  private launch(key: string, job: JobRecord, step: () => Promise<void>): void {
    if (this.inflight.has(key) || this.abort.signal.aborted) return;
    const run = this.guard(job, step).finally(() => {
      this.inflight.delete(key);
      this.wake();
    });
    this.inflight.set(key, run);
  }

  /** Runs one job step; an error is logged against the job and retried later, never thrown to the loop. */
  private async guard(job: JobRecord, step: () => Promise<void>): Promise<void> {
    const key = `job:${job.jobId}:${job.state}`;
    if (this.backoff(key)) return;
    try {
      await step();
    } catch (error) {
      if (this.abort.signal.aborted) return;
      const reason = describeRevert(error);
      this.later(key, isTransient(error) ? 2 : 15);
      this.store.updateJob(job.jobId, { error: reason });
      this.logger.warn({ jobId: job.jobId, state: job.state, err: reason }, "job step failed; will retry");
    }
  }

  /**
   * Records the relayer's own time on a job: its code and RPC round trips, but not the wait for earlier
   * transactions' nonces nor the broadcast (on an automining node that is the block being mined).
   */
  private overhead(jobIds: number[], elapsedMs: number, outcome?: SendOutcome): void {
    const waited = outcome?.status === "sent" ? outcome.timings.queueMs + outcome.timings.broadcastMs : 0;
    const share = Math.max(0, elapsedMs - waited) / jobIds.length;
    for (const id of jobIds) this.store.addOverhead(id, share);
    this.metrics.overheadSeconds.observe(share / 1000);
  }

  private async accept(job: JobRecord): Promise<void> {
    const t0 = performance.now();
    const entry = this.backends.get(job.modelId)!;
    try {
      await entry.backend.check(job.prompt!, this.maxTokens(job, entry.model));
    } catch (error) {
      this.store.updateJob(job.jobId, { state: "skipped", error: (error as Error).message }, ["input"]);
      this.logger.info(
        { jobId: job.jobId, reason: (error as Error).message },
        "not accepting: the model cannot serve this input",
      );
      return;
    }
    const data = this.coordinator.interface.encodeFunctionData("acceptJob", [job.jobId]);
    // The on-chain job (a reorganisation may have reused the id) and the simulation, in parallel.
    const [view, simulation] = await Promise.all([
      this.coordinator.getJob(job.jobId),
      this.sender.simulate(this.addresses.jobCoordinator, data),
    ]);
    const status = JobStatus[Number(view.status)];
    if (
      view.inputHash.toLowerCase() !== job.inputHash ||
      view.requester.toLowerCase() !== job.requester.toLowerCase()
    ) {
      this.store.updateJob(
        job.jobId,
        { state: "skipped", error: "on-chain job differs from the event (reorganisation?)" },
        ["input"],
      );
      this.logger.warn({ jobId: job.jobId }, "not accepting: the on-chain job no longer matches its event");
      return;
    }
    if (status !== "Requested") {
      this.logger.info({ jobId: job.jobId, status }, "not accepting: the job is no longer open");
      this.store.updateJob(
        job.jobId,
        { state: this.isMe(view.provider) ? "accepted" : "lost", error: `job ${status}` },
        ["input"],
      );
      return;
    }
    const outcome = await this.sender.send(
      {
        key: this.stepKey("accept", job.jobId),
        method: "acceptJob",
        jobIds: [job.jobId],
        to: this.addresses.jobCoordinator,
        data,
        persist: (tx) =>
          this.store.updateJob(job.jobId, { state: "accepting", txKey: tx.key, error: null }, ["input"]),
      },
      simulation,
    );
    if (outcome.status === "rejected") {
      this.store.updateJob(job.jobId, { state: "skipped", error: outcome.reason }, ["input"]);
    } else if (outcome.status === "existing") {
      this.store.updateJob(job.jobId, { state: "accepting", txKey: outcome.tx.key }, ["input"]);
    }
    this.overhead([job.jobId], performance.now() - t0, outcome);
  }

  private maxTokens(job: JobRecord, model: ModelConfig): number {
    return Math.min(job.maxUnits, model.inference.maxTokens);
  }

  /** Starts inference for a job unless it already runs; the result is stored as `inferred`. */
  private infer(job: JobRecord, role: "provider" | "watcher" = "provider"): void {
    if (this.running.has(job.jobId) || job.prompt === null || this.backoff(`infer:${job.jobId}`)) return;
    const entry = this.backends.get(job.modelId);
    if (!entry) return;
    const run = Promise.resolve().then(async () => {
      try {
        const result = await entry.backend.generate(job.prompt!, {
          maxTokens: this.maxTokens(job, entry.model),
          seed: entry.model.inference.seed,
        });
        const seconds = result.timings.totalMs / 1000;
        this.metrics.inferenceSeconds.observe({ model: entry.backend.model }, seconds);
        this.metrics.inferenceTokens.inc({ model: entry.backend.model }, result.tokens);
        this.metrics.tokensPerSecond.set({ model: entry.backend.model }, result.timings.tokensPerSecond);
        if (role === "watcher") {
          this.judge(job, result.text, result.tokens);
          return;
        }
        const text = this.config.testing.lie ? lie(result.text) : result.text;
        const output = {
          output: text,
          outputHash: keccak256(toUtf8Bytes(text)),
          unitsUsed: result.tokens,
          inferenceMs: result.timings.totalMs,
          error: null,
        };
        // Accepted: ready to submit. Still accepting: kept until JobAccepted arrives (see applyEvent).
        this.store.transaction(() => {
          if (!this.store.updateJob(job.jobId, { ...output, state: "inferred" }, ["accepted"])) {
            this.store.updateJob(job.jobId, output, ["accepting"]);
          }
        });
        this.logger.info(
          { jobId: job.jobId, tokens: result.tokens, ms: Math.round(result.timings.totalMs) },
          "inference done",
        );
      } catch (error) {
        this.store.updateJob(job.jobId, { error: `inference: ${(error as Error).message}` });
        this.logger.error(
          { jobId: job.jobId, err: (error as Error).message },
          "inference failed; will retry",
        );
        this.later(`infer:${job.jobId}`, 5);
      } finally {
        this.running.delete(job.jobId);
        this.wake();
      }
    });
    this.running.set(job.jobId, run);
  }

  private async submit(job: JobRecord): Promise<void> {
    const t0 = performance.now();
    const { domain, types } = resultTypedData(this.chainId, this.addresses.jobCoordinator);
    const signature = await this.signer.signTypedData(domain, types, {
      jobId: job.jobId,
      modelId: job.modelId,
      inputHash: job.inputHash,
      outputHash: job.outputHash,
      unitsUsed: job.unitsUsed,
    });
    const outcome = await this.sender.send({
      key: this.stepKey("submit", job.jobId),
      method: "submitResult",
      jobIds: [job.jobId],
      to: this.addresses.jobCoordinator,
      data: this.coordinator.interface.encodeFunctionData("submitResult", [
        job.jobId,
        job.outputHash!,
        job.unitsUsed!,
        signature,
      ]),
      persist: (tx) => this.store.updateJob(job.jobId, { state: "submitting", txKey: tx.key }, ["inferred"]),
    });
    if (outcome.status === "rejected") {
      this.store.updateJob(job.jobId, { error: `submit rejected: ${outcome.reason}` });
      this.later(`job:${job.jobId}:inferred`, 15);
    } else if (outcome.status === "existing") {
      this.store.updateJob(job.jobId, { state: "submitting", txKey: outcome.tx.key }, ["inferred"]);
    }
    this.overhead([job.jobId], performance.now() - t0, outcome);
  }

  /**
   * Settles jobs past their challenge window with `finalizeBatch`: a full batch at once, a partial one when its
   * oldest job has waited `finalizeMaxWaitSeconds` (chain time) past its window, so jobs ending one by one
   * still settle in batches.
   */
  private finalizeReady(): void {
    if (this.inflight.has("finalize")) return;
    const ready = this.store
      .jobsIn(["submitted"], 10_000, true)
      .filter((job) => job.challengeEnds !== null && job.challengeEnds <= this.now);
    if (ready.length === 0) return;
    const size = this.config.provider.finalizeBatchSize;
    const oldest = Math.min(...ready.map((job) => job.challengeEnds!));
    if (ready.length < size && this.now - oldest < this.config.provider.finalizeMaxWaitSeconds) return;
    const batch = ready.slice(0, size);
    this.launch("finalize", batch[0], () => this.finalize(batch.map((job) => job.jobId)));
  }

  private async finalize(ids: number[]): Promise<void> {
    if (this.backoff(`finalize:${ids[0]}`)) return;
    const t0 = performance.now();
    const seq = Number(this.store.getMeta("finalizeSeq") ?? "0") + 1;
    const outcome = await this.sender.send({
      key: `finalize:${seq}`,
      method: "finalizeBatch",
      jobIds: ids,
      to: this.addresses.jobCoordinator,
      data: this.coordinator.interface.encodeFunctionData("finalizeBatch", [ids]),
      persist: (tx) => {
        this.store.setMeta("finalizeSeq", String(seq));
        for (const id of ids) this.store.updateJob(id, { state: "finalizing", txKey: tx.key }, ["submitted"]);
      },
    });
    if (outcome.status === "rejected") this.later(`finalize:${ids[0]}`, 15);
    this.overhead(ids, performance.now() - t0, outcome);
  }

  // ------------------------------------------------------------------ watcher

  private async watcherStep(): Promise<void> {
    for (const job of this.store.jobsIn(["verify"], 1000, false)) {
      if (job.challengeEnds !== null && job.challengeEnds <= this.now) {
        this.store.updateJob(
          job.jobId,
          { state: "settled", error: "challenge window closed before re-execution" },
          ["verify"],
        );
      } else if (job.prompt === null) {
        this.store.updateJob(
          job.jobId,
          { state: "settled", error: "input is not public: cannot re-execute" },
          ["verify"],
        );
      } else this.infer(job, "watcher");
    }
    if (!this.config.watcher.challenge) return;
    for (const job of this.store.jobsIn(["mismatch"], 100, false)) {
      if (job.challengeEnds !== null && job.challengeEnds <= this.now) {
        this.store.updateJob(
          job.jobId,
          { state: "settled", error: "mismatch found after the challenge window" },
          ["mismatch"],
        );
        continue;
      }
      this.launch(`challenge:${job.jobId}`, job, () => this.challenge(job));
    }
  }

  /** Compares a re-execution with the provider's claim. */
  private judge(job: JobRecord, text: string, tokens: number): void {
    const hash = keccak256(toUtf8Bytes(text));
    const matches = hash === job.claimedHash && tokens === job.claimedUnits;
    this.store.updateJob(
      job.jobId,
      { state: matches ? "verified" : "mismatch", output: text, outputHash: hash, unitsUsed: tokens },
      ["verify"],
    );
    this.logger[matches ? "info" : "warn"](
      {
        jobId: job.jobId,
        provider: job.provider,
        claimed: job.claimedHash,
        claimedUnits: job.claimedUnits,
        ours: hash,
        units: tokens,
      },
      matches
        ? "re-execution matches the provider's result"
        : "re-execution differs from the provider's result",
    );
  }

  private async challenge(job: JobRecord): Promise<void> {
    this.token ??= ProtocolToken__factory.connect(await this.registry.token(), this.provider);
    const bond = await this.disputes.challengeBond();
    const allowance = await this.token.allowance(this.address, this.addresses.disputeModule);
    if (allowance < bond) {
      const round = Number(this.store.getMeta("approveSeq") ?? "0");
      const key = `approve:disputeModule:${round}`;
      const existing = this.store.txByKey(key);
      if (existing?.status === "pending") return; // wait for it
      const next = existing ? round + 1 : round;
      await this.sender.send({
        key: `approve:disputeModule:${next}`,
        method: "approve",
        jobIds: [],
        to: await this.token.getAddress(),
        data: this.token.interface.encodeFunctionData("approve", [
          this.addresses.disputeModule,
          bond * 1000n,
        ]),
        persist: () => this.store.setMeta("approveSeq", String(next)),
      });
      return;
    }
    const outcome = await this.sender.send({
      key: this.stepKey("challenge", job.jobId),
      method: "challenge",
      jobIds: [job.jobId],
      to: this.addresses.disputeModule,
      data: this.disputes.interface.encodeFunctionData("challenge", [job.jobId]),
      persist: (tx) => this.store.updateJob(job.jobId, { state: "challenging", txKey: tx.key }, ["mismatch"]),
    });
    if (outcome.status === "rejected") {
      this.store.updateJob(job.jobId, { state: "settled", error: `challenge not sent: ${outcome.reason}` }, [
        "mismatch",
      ]);
    } else this.metrics.challenges.inc();
  }

  // ------------------------------------------------------------------ HTTP delivery

  private deliveryBackend(): DeliveryBackend {
    return {
      jobForDelivery: (jobId) => {
        if (jobId > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
        const job = this.store.job(Number(jobId));
        if (!job || !job.mine) return undefined;
        const served = [
          "inferred",
          "submitting",
          "submitted",
          "finalizing",
          "finalized",
          "challenged",
          "faulted",
        ].includes(job.state);
        return {
          requester: job.requester,
          inputHash: job.inputHash,
          state: job.state,
          hasInput: job.prompt !== null,
          output:
            served && job.output !== null
              ? { text: job.output, outputHash: job.outputHash!, unitsUsed: job.unitsUsed! }
              : null,
        };
      },
      deliverInput: (jobId, prompt) => {
        const id = Number(jobId);
        if (this.store.updateJob(id, { state: "input", prompt }, ["seen"])) {
          this.logger.info({ jobId: id }, "input received");
          this.wake();
          return "stored";
        }
        return "duplicate";
      },
      health: () => this.health(),
      info: () => ({
        address: this.address,
        publicKey: this.wallet.signingKey.compressedPublicKey,
        chainId: this.chainId.toString(),
        coordinator: this.addresses.jobCoordinator,
        models: [...this.backends.keys()],
        provider: this.config.provider.enabled,
        watcher: this.config.watcher.enabled,
      }),
      jobCounts: () => this.store.jobCounts(),
    };
  }

  /** Liveness and readiness: the loop polled recently and the provider can take jobs. */
  health(): { ok: boolean; [key: string]: unknown } {
    const stale = Date.now() - this.lastPoll > Math.max(30_000, this.config.chain.pollIntervalMs * 5);
    return {
      ok: !stale && this.providerProblem === null,
      address: this.address,
      head: this.head,
      cursor: this.follower.cursor(),
      pendingTxs: this.sender.pendingCount(),
      lastError: this.lastError,
      provider: this.providerProblem ?? "ok",
      stale,
    };
  }

  /** Jobs this relayer still works on (not in a terminal state). */
  openJobs(): JobRecord[] {
    return this.store.jobsIn(OPEN_STATES, 100_000);
  }

  /**
   * Stops gracefully: the loop finishes its pass, running inferences finish and are stored, the HTTP server
   * closes, and the database is closed. Signed transactions are already stored and resume at the next start.
   */
  async stop(): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    this.wake();
    await this.loop?.catch(() => undefined);
    await Promise.allSettled([...this.inflight.values(), ...this.running.values()]);
    await this.http?.close();
    for (const { backend } of this.backends.values()) await backend.close().catch(() => undefined);
    this.provider.destroy();
    this.store.close();
    this.logger.info("relayer stopped");
  }
}

/** What the `testing.lie` relayer submits instead of its real output (demo and tests only). */
export function lie(text: string): string {
  return `${text} And then the dragon ate the moon.`;
}

export { TERMINAL_STATES };
