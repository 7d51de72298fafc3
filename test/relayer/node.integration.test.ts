/**
 * The relayer end to end against a real `hardhat node` with a fresh CinderLocal deployment: an in-process
 * RelayerNode (real stories260K model) takes jobs paid by each method from request to finalized payment,
 * receives prompts over HTTP (and refuses bad deliveries), decrypts encrypted prompts, ignores jobs that are not
 * its own, and serves health and metrics.
 */
import { expect } from "chai";
import path from "node:path";
import { getBytes, id, keccak256, toUtf8Bytes, ZeroHash } from "ethers";
import pino, { type Logger } from "pino";
import { JobStatus } from "../../bindings/enums";
import { parseRelayerConfig, type RelayerConfig } from "../../relayer/config";
import { RelayerClient, RelayerHttpError } from "../../relayer/client";
import { createBackend, type InferenceBackend } from "../../relayer/inference";
import { RelayerNode } from "../../relayer/node";
import { PaymentKind, STORIES_MODEL_ID, type JobRequest } from "../../relayer/testing/protocol";
import {
  coordinatorEvents,
  eventsOf,
  finalizeWarpSeconds,
  MODEL_PATH,
  PROVIDER_PRICE_USD,
  relayerConfig,
  removeTmpDirs,
  requestJobs,
  setupParticipants,
  startTestChain,
  tmpDir,
  waitFor,
  warp,
  type TestChain,
} from "./harness";

const MAX_PROMPT_BYTES = 1024;
const SEED = 42;
/** A model registered on-chain (through the timelock) that the relayer does not serve. */
const OTHER_MODEL_ID = id("other-model");

describe("relayer node (integration, real hardhat node)", function () {
  this.timeout(120_000);

  let chain: TestChain;
  let node: RelayerNode;
  let config: RelayerConfig;
  let logger: Logger;
  let client: RelayerClient;
  let reference: InferenceBackend;
  let dir: string;
  let savedKey: string | undefined;
  /** How far to warp after submission for the relayer to finalize. */
  let warpSeconds: number;
  const logs: string[] = [];
  /** Every job {@link driveToFinalized} finalized. */
  const finalizedJobs = new Set<bigint>();

  before(async function () {
    this.timeout(180_000);
    dir = tmpDir("cinder-node-it-");
    chain = await startTestChain();
    await registerOtherModel(chain);
    await setupParticipants(chain, { vouchers: 20n, credits: true, otherProvider: true });

    savedKey = process.env.RELAYER_IT_KEY;
    process.env.RELAYER_IT_KEY = chain.providerWallet.privateKey;
    const raw = relayerConfig({
      rpcUrl: chain.node.url,
      manifest: chain.manifestFile,
      database: path.join(dir, "relayer.db"),
      keyEnv: "RELAYER_IT_KEY",
      extra: { http: { port: 0, maxPromptBytes: MAX_PROMPT_BYTES } },
    });
    config = parseRelayerConfig(raw, path.join(dir, "relayer.yaml"));
    warpSeconds = await finalizeWarpSeconds(chain, config);
    logger = pino(
      { level: "debug", base: { name: "it" } },
      { write: (line: string) => void logs.push(line) },
    );
    node = await RelayerNode.create(config, { logger });
    await node.start();
    client = new RelayerClient(`http://127.0.0.1:${node.httpPort}`);

    // The same model, seed and context, to recompute outputs and token counts independently of the relayer.
    reference = createBackend(
      { backend: "llama", model: MODEL_PATH, threads: 1, seed: SEED },
      pino({ level: "silent" }),
    );
    await reference.load();
  });

  after(async function () {
    this.timeout(60_000);
    if (process.env.RELAYER_IT_LOGS) console.log(logs.join(""));
    await node?.stop().catch((e) => console.error("node.stop failed", e));
    await reference?.close().catch(() => undefined);
    await chain?.stop();
    if (savedKey === undefined) delete process.env.RELAYER_IT_KEY;
    else process.env.RELAYER_IT_KEY = savedKey;
    removeTmpDirs();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") console.log(logs.slice(-40).join(""));
  });

  /** Waits until every job is `submitted` in the relayer's store, warps past the window, waits for finalized. */
  async function driveToFinalized(jobIds: bigint[]): Promise<void> {
    const states = () =>
      jobIds.map((jobId) => `${jobId}:${node.store.job(Number(jobId))?.state ?? "none"}`).join(" ");
    // A job this relayer gave up on will not be finalized: fail now rather than at the timeout.
    const givenUp = () => {
      const lost = jobIds
        .map((jobId) => node.store.job(Number(jobId)))
        .filter((job) => job && ["skipped", "missed", "lost", "expired", "cancelled"].includes(job.state));
      return lost.length
        ? lost.map((job) => `job ${job!.jobId} ${job!.state}: ${job!.error}`).join("; ")
        : undefined;
    };
    try {
      await waitFor(
        "submitted",
        () => jobIds.every((jobId) => node.store.job(Number(jobId))?.state === "submitted"),
        { timeoutMs: 60_000, failIf: givenUp },
      );
      await warp(chain.provider, warpSeconds);
      await waitFor("finalized", async () => {
        if (!jobIds.every((jobId) => node.store.job(Number(jobId))?.state === "finalized")) return false;
        for (const jobId of jobIds) {
          if (JobStatus[Number((await chain.c.jobCoordinator.getJob(jobId)).status)] !== "Finalized")
            return false;
        }
        return true;
      });
    } catch (error) {
      throw new Error(`${(error as Error).message}; relayer states: ${states()}`);
    }
    for (const jobId of jobIds) finalizedJobs.add(jobId);
  }

  /**
   * The checks every finalized job must pass: finalized once on-chain; its on-chain outputHash is the hash of the
   * output served to the requester; unitsUsed ≤ maxUnits and equal to the tokens of the same generation
   * recomputed here; paid + refunded = escrow. Returns the JobFinalized `paid`.
   */
  async function checkFinalizedJob(jobId: bigint, prompt: string, maxUnits: number): Promise<bigint> {
    const view = await chain.c.jobCoordinator.getJob(jobId);
    expect(JobStatus[Number(view.status)]).to.equal("Finalized");
    expect(view.provider).to.equal(chain.providerWallet.address);

    const events = await coordinatorEvents(chain);
    const [requested] = eventsOf(events, "JobRequested", jobId);
    const submitted = eventsOf(events, "ResultSubmitted", jobId);
    const finalized = eventsOf(events, "JobFinalized", jobId);
    expect(submitted).to.have.length(1);
    expect(finalized).to.have.length(1);
    expect(eventsOf(events, "JobAccepted", jobId)).to.have.length(1);

    const served = await client.fetchOutput(chain.requester, chain.ctx, jobId);
    expect(served, "the relayer serves the output").to.not.equal(null);
    expect(view.outputHash).to.equal(keccak256(toUtf8Bytes(served!.output)));
    expect(served!.outputHash).to.equal(view.outputHash);

    const units = Number(view.unitsUsed);
    expect(units).to.be.greaterThan(0);
    expect(units).to.be.at.most(maxUnits);
    expect(served!.unitsUsed).to.equal(units);
    const again = await reference.generate(prompt, { maxTokens: Math.min(maxUnits, 64), seed: SEED });
    expect(again.text, "the output is the model's greedy completion").to.equal(served!.output);
    expect(again.tokens, "unitsUsed is the output's token count").to.equal(units);

    const paid = finalized[0].args.paid as bigint;
    const refunded = finalized[0].args.refunded as bigint;
    const terms = requested.args.terms as unknown as { escrow: bigint };
    expect(paid + refunded).to.equal(terms.escrow);
    return paid;
  }

  describe("payments: request → accept → inference → submit → finalize", () => {
    const prompt = (kind: string) => `Once upon a time, a little ${kind} robot`;
    const MAX_UNITS = 12;
    const jobs: Record<string, { id: bigint; prompt: string }> = {};
    let owedBefore: bigint;
    let creditBefore: bigint;

    before(async () => {
      const { c } = chain;
      owedBefore = await c.voucherMarket.owed(chain.providerWallet.address, chain.manifest.extras.stablecoin);
      creditBefore = await c.computeCredit.balanceOf(chain.providerWallet.address);
      const requests: JobRequest[] = [
        {
          modelId: STORIES_MODEL_ID,
          prompt: prompt("voucher"),
          kind: PaymentKind.Voucher,
          maxUnits: MAX_UNITS,
          classId: 1n,
        },
        {
          modelId: STORIES_MODEL_ID,
          prompt: prompt("daily"),
          kind: PaymentKind.DailyCredit,
          maxUnits: MAX_UNITS,
          maxPriceUsd: "0.001",
        },
        {
          modelId: STORIES_MODEL_ID,
          prompt: prompt("compute"),
          kind: PaymentKind.ComputeCredit,
          maxUnits: MAX_UNITS,
          maxPriceUsd: "0.001",
        },
      ];
      const ids = await requestJobs(c, chain.requester, requests);
      jobs.voucher = { id: ids[0], prompt: requests[0].prompt };
      jobs.daily = { id: ids[1], prompt: requests[1].prompt };
      jobs.compute = { id: ids[2], prompt: requests[2].prompt };
      await driveToFinalized(ids);
    });

    it("the cap binds: the model would write more than maxUnits tokens for these prompts", async () => {
      const free = await reference.generate(jobs.voucher.prompt, { maxTokens: 64, seed: SEED });
      expect(free.tokens).to.be.greaterThan(MAX_UNITS);
    });

    it("voucher job: paid ceil(units / unitsPerVoucher) vouchers; the provider is owed their stablecoin", async () => {
      const { c } = chain;
      const paid = await checkFinalizedJob(jobs.voucher.id, jobs.voucher.prompt, MAX_UNITS);
      const voucherClass = await c.voucherMarket.getClass(1n);
      const units = (await c.jobCoordinator.getJob(jobs.voucher.id)).unitsUsed;
      const expected = (units + voucherClass.unitsPerVoucher - 1n) / voucherClass.unitsPerVoucher;
      expect(paid).to.equal(expected).and.equal(1n);
      const principal = voucherClass.unitPrice * paid;
      const fee = (principal * (await c.voucherMarket.protocolFeeBps()) + 9_999n) / 10_000n;
      const owedAfter = await c.voucherMarket.owed(
        chain.providerWallet.address,
        chain.manifest.extras.stablecoin,
      );
      expect(owedAfter - owedBefore).to.equal(principal - fee);
      expect(principal - fee > 0n, "the provider is owed something").to.equal(true);
      expect(node.store.job(Number(jobs.voucher.id))!.paid).to.equal(paid.toString());
    });

    it("DailyCredit and ComputeCredit jobs: paid units × the provider's price in ComputeCredit", async () => {
      const { c } = chain;
      const price = BigInt(Math.round(Number(PROVIDER_PRICE_USD) * 1e6)) * 10n ** 12n;
      let total = 0n;
      for (const job of [jobs.daily, jobs.compute]) {
        const paid = await checkFinalizedJob(job.id, job.prompt, MAX_UNITS);
        const view = await c.jobCoordinator.getJob(job.id);
        expect(view.pricePerUnit).to.equal(price);
        expect(paid).to.equal(view.unitsUsed * price);
        expect(node.store.job(Number(job.id))!.paid).to.equal(paid.toString());
        total += paid;
      }
      const creditAfter = await c.computeCredit.balanceOf(chain.providerWallet.address);
      expect(creditAfter - creditBefore).to.equal(total);
    });
  });

  describe("HTTP delivery of the prompt", () => {
    const PROMPT = "Once upon a time, a cat found a shiny key";
    let jobId: bigint;

    before(async () => {
      [jobId] = await requestJobs(chain.c, chain.requester, [
        {
          modelId: STORIES_MODEL_ID,
          prompt: PROMPT,
          kind: PaymentKind.Voucher,
          maxUnits: 16,
          delivery: "http",
        },
      ]);
      await waitFor("the http job seen", () => node.store.job(Number(jobId))?.state === "seen");
    });

    it("an external-input job stays `seen` (not accepted) until the requester delivers the prompt", async () => {
      const head = await chain.provider.getBlockNumber();
      await waitFor("the relayer past the head", () => (node.store.cursor() ?? 0) >= head);
      await new Promise((r) => setTimeout(r, 1500)); // several polls
      expect(node.store.job(Number(jobId))!.state).to.equal("seen");
      expect(JobStatus[Number((await chain.c.jobCoordinator.getJob(jobId)).status)]).to.equal("Requested");
      expect(await client.fetchOutput(chain.requester, chain.ctx, jobId)).to.equal(null);
    });

    it("refuses a prompt signed by another account (401), with a wrong hash (400) or too large (413)", async () => {
      await expectHttpError(client.sendInput(chain.stranger, chain.ctx, jobId, PROMPT), 401, "BAD_SIGNATURE");
      await expectHttpError(
        client.sendInput(chain.requester, chain.ctx, jobId, `${PROMPT}!`),
        400,
        "INPUT_HASH_MISMATCH",
      );
      const huge = "a".repeat(MAX_PROMPT_BYTES + 1);
      await expectHttpError(
        client.sendInput(chain.requester, chain.ctx, jobId, huge),
        413,
        "PROMPT_TOO_LARGE",
      );
      // A stranger cannot read another requester's output either.
      await expectHttpError(client.fetchOutput(chain.stranger, chain.ctx, jobId), 401, "BAD_SIGNATURE");
      await new Promise((r) => setTimeout(r, 600));
      const job = node.store.job(Number(jobId))!;
      expect(job.state).to.equal("seen");
      expect(job.prompt).to.equal(null);
      expect(JobStatus[Number((await chain.c.jobCoordinator.getJob(jobId)).status)]).to.equal("Requested");
    });

    it("the requester's prompt is stored (then a duplicate), the job completes, and the node keeps working", async () => {
      expect(await client.sendInput(chain.requester, chain.ctx, jobId, PROMPT)).to.equal("stored");
      expect(await client.sendInput(chain.requester, chain.ctx, jobId, PROMPT)).to.equal("duplicate");
      const [next] = await requestJobs(chain.c, chain.requester, [
        {
          modelId: STORIES_MODEL_ID,
          prompt: "Once upon a time, a dog",
          kind: PaymentKind.Voucher,
          maxUnits: 10,
        },
      ]);
      await driveToFinalized([jobId, next]);
      await checkFinalizedJob(jobId, PROMPT, 16);
      await checkFinalizedJob(next, "Once upon a time, a dog", 10);
    });
  });

  describe("encrypted delivery", () => {
    it("the prompt encrypted to the provider's key is decrypted and served", async () => {
      const info = await client.provider();
      expect(info.address).to.equal(chain.providerWallet.address);
      expect(info.publicKey).to.equal(chain.providerWallet.signingKey.compressedPublicKey);
      const prompt = "Once upon a time, a secret garden";
      const [jobId] = await requestJobs(chain.c, chain.requester, [
        {
          modelId: STORIES_MODEL_ID,
          prompt,
          kind: PaymentKind.Voucher,
          maxUnits: 14,
          delivery: "encrypted",
          providerPublicKey: info.publicKey,
        },
      ]);
      const [requested] = eventsOf(await coordinatorEvents(chain), "JobRequested", jobId);
      const ref = Buffer.from(getBytes(requested.args.inputRef as string)).toString("latin1");
      expect(ref.startsWith("cinder-enc:v1:")).to.equal(true);
      expect(ref).not.to.include("secret garden");
      expect(Buffer.from(ref.slice("cinder-enc:v1:".length), "base64").toString("latin1")).not.to.include(
        "secret",
      );
      await driveToFinalized([jobId]);
      await checkFinalizedJob(jobId, prompt, 14);
    });
  });

  describe("jobs that are not this relayer's", () => {
    it("ignores a job for a model it does not serve and a direct request to another provider (no row, no tx)", async () => {
      const { c, requester, otherProvider } = chain;
      const nonceBefore = await chain.provider.getTransactionCount(chain.providerWallet.address, "latest");
      const ids = await requestJobs(c, requester, [
        {
          modelId: OTHER_MODEL_ID,
          prompt: "Once upon a time, elsewhere",
          kind: PaymentKind.ComputeCredit,
          maxUnits: 10,
          maxPriceUsd: "0.001",
        },
        {
          modelId: STORIES_MODEL_ID,
          prompt: "Once upon a time, for someone else",
          kind: PaymentKind.Voucher,
          maxUnits: 10,
          provider: otherProvider.address,
        },
        // Control: a direct request to this relayer is taken.
        {
          modelId: STORIES_MODEL_ID,
          prompt: "Once upon a time, for me",
          kind: PaymentKind.Voucher,
          maxUnits: 10,
          provider: chain.providerWallet.address,
        },
      ]);
      const [otherModel, otherProviderJob, mine] = ids;
      const head = await chain.provider.getBlockNumber();
      await waitFor("the control job submitted", () => node.store.job(Number(mine))?.state === "submitted");
      await waitFor("the relayer past the requests", () => (node.store.cursor() ?? 0) >= head);
      await new Promise((r) => setTimeout(r, 1000));

      for (const jobId of [otherModel, otherProviderJob]) {
        expect(node.store.job(Number(jobId)), `job ${jobId} stored`).to.equal(undefined);
        expect(JobStatus[Number((await c.jobCoordinator.getJob(jobId)).status)]).to.equal("Requested");
      }
      const events = await coordinatorEvents(chain);
      expect(eventsOf(events, "JobAccepted", otherModel)).to.have.length(0);
      expect(eventsOf(events, "JobAccepted", otherProviderJob)).to.have.length(0);
      // Exactly the control job's accept and submit were sent.
      const nonceAfter = await chain.provider.getTransactionCount(chain.providerWallet.address, "latest");
      expect(nonceAfter - nonceBefore).to.equal(2);
      const sent = node.store.allTxs().filter((tx) => tx.nonce >= nonceBefore);
      expect(sent.map((tx) => tx.key).sort()).to.deep.equal([`accept:${mine}`, `submit:${mine}`]);
      await driveToFinalized([mine]);
    });
  });

  describe("health and metrics", () => {
    it("/healthz is ok and /metrics shows jobs by state and inference metrics", async () => {
      // The last finalize transaction is settled on the tick after its event.
      const health = await waitFor("no pending transaction", async () => {
        const h = await client.health();
        return h.pendingTxs === 0 ? h : undefined;
      });
      expect(health.ok).to.equal(true);
      expect(health.address).to.equal(chain.providerWallet.address);
      expect(health.pendingTxs).to.equal(0);

      const res = await fetch(`http://127.0.0.1:${node.httpPort}/metrics`);
      expect(res.status).to.equal(200);
      const text = await res.text();
      const counts = node.store.jobCounts();
      expect(counts.finalized).to.equal(finalizedJobs.size).and.equal(7);
      expect(metric(text, "cinder_relayer_jobs", { state: "finalized" })).to.equal(counts.finalized);
      const mine = node.store.jobsIn(["finalized"], 1000, true);
      const tokens = mine.reduce((sum, job) => sum + job.unitsUsed!, 0);
      expect(metricSum(text, "cinder_relayer_inference_tokens_total")).to.equal(tokens);
      expect(metricSum(text, "cinder_relayer_inference_seconds_count")).to.equal(mine.length);
      expect(metricSum(text, "cinder_relayer_inference_seconds_sum")).to.be.greaterThan(0);
      expect(metric(text, "cinder_relayer_tx_sent_total", { method: "acceptJob" })).to.equal(mine.length);
      expect(metric(text, "cinder_relayer_tx_sent_total", { method: "submitResult" })).to.equal(mine.length);
      expect(metric(text, "cinder_relayer_head_block")).to.be.at.least(
        (await chain.provider.getBlockNumber()) - 1,
      );
    });
  });

  describe("restart with results to finalize and new jobs to accept", () => {
    it("finalizes the old results and takes the new jobs, without a reverted transaction", async () => {
      const { c, requester } = chain;
      const prompts = (label: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          modelId: STORIES_MODEL_ID,
          prompt: `Once upon a time, ${label} ${i}`,
          kind: PaymentKind.Voucher,
          maxUnits: 8,
        }));
      const old = await requestJobs(c, requester, prompts("old", 3));
      await waitFor("old jobs submitted", () =>
        old.every((j) => node.store.job(Number(j))?.state === "submitted"),
      );
      await node.stop();
      // While it is down: the old results pass their window and new jobs arrive.
      await warp(chain.provider, warpSeconds);
      const fresh = await requestJobs(c, requester, prompts("new", 6));
      const firstNewNonce = await chain.provider.getTransactionCount(chain.providerWallet.address, "latest");
      node = await RelayerNode.create(config, { logger });
      await node.start();
      client = new RelayerClient(`http://127.0.0.1:${node.httpPort}`);
      try {
        await waitFor("old jobs finalized", () =>
          old.every((j) => node.store.job(Number(j))?.state === "finalized"),
        );
        await driveToFinalized(fresh);
        await waitFor("no pending transaction", () => node.store.pendingTxs().length === 0);
      } finally {
        // The root cause first when the jobs were not done: the relayer's own transactions that failed.
        const failed = node.store
          .allTxs()
          .filter((tx) => tx.nonce >= firstNewNonce && (tx.status === "failed" || tx.status === "dropped"))
          .map((tx) => `${tx.key} ${tx.status} gas ${tx.gasUsed}/${tx.gasLimit}`);
        expect(failed, "relayer transactions that did not succeed").to.deep.equal([]);
      }
    });
  });
});

/** Registers OTHER_MODEL_ID through the timelock (the deployer proposes; the local delay is 3 h: warped). */
async function registerOtherModel(chain: TestChain): Promise<void> {
  const { c } = chain;
  const data = c.modelRegistry.interface.encodeFunctionData("registerModel", [
    OTHER_MODEL_ID,
    id("other-weights"),
    "other model",
    "",
    "1 output token",
  ]);
  const target = await c.modelRegistry.getAddress();
  const delay = await c.timelock.getMinDelay();
  const salt = id("relayer-it");
  await (await c.timelock.schedule(target, 0n, data, ZeroHash, salt, delay)).wait();
  await warp(chain.provider, Number(delay) + 1);
  await (await c.timelock.execute(target, 0n, data, ZeroHash, salt)).wait();
  expect(await c.modelRegistry.isActive(OTHER_MODEL_ID)).to.equal(true);
}

async function expectHttpError(promise: Promise<unknown>, status: number, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(RelayerHttpError);
    expect((error as RelayerHttpError).status, (error as Error).message).to.equal(status);
    expect((error as RelayerHttpError).code).to.equal(code);
    return;
  }
  throw new Error(`expected HTTP ${status} ${code}`);
}

/** The value of one Prometheus sample (labels must all match; extra labels allowed). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[3] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[4]);
  }
  return undefined;
}

/** The sum of every sample of `name` (all label sets). */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (match && match[1] === name) sum += Number(match[3]);
  }
  return sum;
}
