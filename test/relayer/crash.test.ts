/**
 * Crash safety of the relayer, run as the `cinder-relayer start` child process against a real `hardhat node`:
 *  - SIGKILLed at random moments (seeded PRNG; CRASH_SEED=<n> to replay) while jobs arrive, and restarted each
 *    time, it still finalizes every job exactly once, and its transactions use consecutive nonces with no gap,
 *    none lost, none sent twice;
 *  - through an RPC outage (a TCP proxy between it and the node, stopped for ~5 s while jobs are requested
 *    directly on the node) it backs off, never exits, and catches up.
 */
import { expect } from "chai";
import path from "node:path";
import { readFileSync } from "node:fs";
import { JobStatus } from "../../bindings/enums";
import { loadRelayerConfig } from "../../relayer/config";
import { JobStore, type TxRecord } from "../../relayer/store";
import { PaymentKind, STORIES_MODEL_ID, type JobRequest } from "../../relayer/testing/protocol";
import {
  coordinatorEvents,
  eventsOf,
  finalizeWarpSeconds,
  relayerConfig,
  RelayerProcess,
  removeTmpDirs,
  requestJobs,
  runCli,
  setupParticipants,
  startTestChain,
  tmpDir,
  waitFor,
  warp,
  writeYaml,
  type TestChain,
} from "./harness";
import { RpcProxy } from "./rpcProxy";

const SEED = Number(process.env.CRASH_SEED ?? 20_261_122);
const JOBS_PER_WAVE = 10;
const MIN_KILLS = 5;
/** One wave of jobs per life of the relayer (every killed one and the last). */
const WAVES = MIN_KILLS + 1;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("relayer crash safety (child process, real hardhat node)", function () {
  this.timeout(120_000);

  let chain: TestChain;
  let proxy: RpcProxy;
  let dir: string;
  let configFile: string;
  let database: string;
  let logFile: string;
  let env: Record<string, string>;
  /** How far each warp goes (challenge window and the relayer's batching wait). */
  let warpSeconds: number;
  /** The relayer's nonce before it ever ran (the test used the key to register). */
  let firstNonce: number;
  let relayer: RelayerProcess | undefined;
  /** Every job requested by this file, in order. */
  const jobIds: bigint[] = [];
  const random = prng(SEED);

  before(async function () {
    this.timeout(120_000);
    dir = tmpDir("cinder-crash-");
    chain = await startTestChain();
    await setupParticipants(chain, { vouchers: BigInt(WAVES * JOBS_PER_WAVE + 20) });
    proxy = new RpcProxy({ host: "127.0.0.1", port: chain.node.port });
    await proxy.start();
    database = path.join(dir, "relayer.db");
    logFile = path.join(dir, "relayer.log");
    configFile = writeYaml(
      dir,
      "relayer.yaml",
      relayerConfig({ rpcUrl: proxy.url, manifest: chain.manifestFile, database, pollIntervalMs: 200 }),
    );
    env = { RELAYER_KEY: chain.providerWallet.privateKey };
    warpSeconds = await finalizeWarpSeconds(chain, loadRelayerConfig(configFile));
    firstNonce = await chain.provider.getTransactionCount(chain.providerWallet.address, "latest");
  });

  after(async function () {
    this.timeout(60_000);
    await RelayerProcess.killAll();
    await proxy?.stop();
    await chain?.stop();
    removeTmpDirs();
  });

  afterEach(function () {
    if (this.currentTest?.state === "failed") {
      console.log(
        `crash seed ${SEED}; relayer log tail:\n${readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n")}`,
      );
    }
  });

  function voucherJobs(count: number, label: string): JobRequest[] {
    return Array.from({ length: count }, (_, i) => ({
      modelId: STORIES_MODEL_ID,
      prompt: `Once upon a time ${label}-${i}, a`,
      kind: PaymentKind.Voucher,
      maxUnits: 8 + (i % 5),
      classId: 1n,
      deadlineIn: 6 * 3600, // far beyond the warps below
    }));
  }

  /** How many of `ids` are Finalized on-chain. */
  async function finalizedCount(ids: bigint[]): Promise<number> {
    const events = await coordinatorEvents(chain, chain.manifest.startBlock);
    const wanted = new Set(ids);
    return new Set(events.filter((e) => e.name === "JobFinalized" && wanted.has(e.jobId)).map((e) => e.jobId))
      .size;
  }

  /** Warps the chain past the challenge window every ~2 s until `stop()` (submitted results become final). */
  function startWarping(): { stop(): Promise<void> } {
    let running = true;
    const loop = (async () => {
      while (running) {
        await sleep(2000);
        if (running) await warp(chain.provider, warpSeconds);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
      },
    };
  }

  /** The relayer's store, read-only (the relayer must not be running). */
  function readStore<T>(fn: (store: JobStore) => T): T {
    const store = new JobStore(database, { readonly: true });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  }

  /** Jobs the relayer gave up on (they will never be finalized: a wait can stop at once), as a reason. */
  function givenUp(ids: bigint[]): string | undefined {
    const wanted = new Set(ids.map(Number));
    const jobs = readStore((store) =>
      store
        .jobsIn(["skipped", "missed", "lost", "expired", "cancelled"], 1000)
        .filter((job) => wanted.has(job.jobId)),
    );
    return jobs.length
      ? jobs.map((job) => `job ${job.jobId} ${job.state}: ${job.error}`).join("; ")
      : undefined;
  }

  /** Waits until the (running) relayer's store has every job of `ids` finalized and no pending transaction. */
  async function waitForStoreSettled(ids: bigint[]): Promise<void> {
    await waitFor(`${ids.length} jobs finalized in the store, no pending tx`, () =>
      readStore(
        (store) =>
          store.pendingTxs().length === 0 &&
          ids.every((jobId) => store.job(Number(jobId))?.state === "finalized"),
      ),
    );
  }

  /**
   * Every job of `ids` finalized exactly once on-chain (one JobAccepted, ResultSubmitted, JobFinalized each, all by
   * the relayer), and the relayer's transactions: consecutive nonces from its first (no gap, none lost), the chain's
   * nonce right after the last stored one, each mined exactly once, and (from nonce `fromNonce` on) none reverted.
   */
  async function checkExactlyOnce(
    ids: bigint[],
    fromNonce: number,
  ): Promise<{ txs: TxRecord[]; skipped: number }> {
    const relayerAddress = chain.providerWallet.address;
    const events = await coordinatorEvents(chain, chain.manifest.startBlock);
    for (const jobId of ids) {
      for (const name of ["JobAccepted", "ResultSubmitted", "JobFinalized"]) {
        const found = eventsOf(events, name, jobId);
        expect(found, `${name} events of job ${jobId}`).to.have.length(1);
        expect(found[0].args.provider, `${name} of job ${jobId}`).to.equal(relayerAddress);
      }
      expect(eventsOf(events, "JobExpired", jobId)).to.have.length(0);
      const view = await chain.c.jobCoordinator.getJob(jobId);
      expect(JobStatus[Number(view.status)], `job ${jobId}`).to.equal("Finalized");
    }
    const skipped = events.filter((e) => e.name === "JobSkipped").length;

    const txs = readStore((store) => store.allTxs()).sort((a, b) => a.nonce - b.nonce);
    const chainNonce = await chain.provider.getTransactionCount(relayerAddress, "latest");
    expect(
      txs.map((tx) => tx.nonce),
      "stored nonces",
    ).to.deep.equal(Array.from({ length: chainNonce - firstNonce }, (_, i) => firstNonce + i));
    const reverted: string[] = [];
    for (const tx of txs) {
      const receipts = (
        await Promise.all(tx.hashes.map((hash) => chain.provider.getTransactionReceipt(hash)))
      ).filter((receipt) => receipt !== null);
      expect(receipts, `receipts of ${tx.key} (nonce ${tx.nonce})`).to.have.length(1);
      const onChain = await chain.provider.getTransaction(receipts[0]!.hash);
      expect(onChain!.nonce).to.equal(tx.nonce);
      expect(onChain!.from).to.equal(relayerAddress);
      if (receipts[0]!.status !== 1 && tx.nonce >= fromNonce) reverted.push(`${tx.key} (nonce ${tx.nonce})`);
      expect(tx.status, `stored status of ${tx.key}`).to.equal(
        receipts[0]!.status === 1 ? "mined" : "failed",
      );
    }
    expect(reverted, "reverted relayer transactions").to.deep.equal([]);
    // One accept and one submit per job, never two: the idempotency keys held across the crashes.
    for (const jobId of ids) {
      expect(
        txs.filter((tx) => tx.key === `accept:${jobId}`),
        `accept txs of ${jobId}`,
      ).to.have.length(1);
      expect(
        txs.filter((tx) => tx.key === `submit:${jobId}`),
        `submit txs of ${jobId}`,
      ).to.have.length(1);
    }
    return { txs, skipped };
  }

  it(`finalizes ${WAVES * JOBS_PER_WAVE} jobs exactly once while SIGKILLed at random moments (≥ ${MIN_KILLS} kills)`, async function () {
    const t0 = Date.now();
    const warping = startWarping();
    const kills: string[] = [];
    try {
      // Each life of the relayer gets a fresh wave of jobs (requested while it starts) and is killed at a random
      // moment of its work; the last life finishes everything.
      for (let life = 0; life < MIN_KILLS; life++) {
        const wave = requestJobs(chain.c, chain.requester, voucherJobs(JOBS_PER_WAVE, `w${life}`));
        relayer = new RelayerProcess(configFile, env, logFile);
        jobIds.push(...(await wave));
        await relayer.waitForOutput(/"msg":"relayer started"/);
        const delay = Math.round(300 + random() * 3700);
        await sleep(delay);
        expect(relayer.running, `the relayer exited by itself: ${relayer.output.slice(-2000)}`).to.equal(
          true,
        );
        await relayer.stop("SIGKILL");
        const at = readStore((store) => ({ counts: store.jobCounts(), pending: store.pendingTxs().length }));
        kills.push(`+${delay} ms: ${JSON.stringify(at.counts)} pending txs ${at.pending}`);
      }
      const last = requestJobs(chain.c, chain.requester, voucherJobs(JOBS_PER_WAVE, "last"));
      relayer = new RelayerProcess(configFile, env, logFile);
      jobIds.push(...(await last));
      await waitFor(
        `all ${jobIds.length} jobs finalized`,
        async () => (await finalizedCount(jobIds)) === jobIds.length,
        {
          timeoutMs: 90_000,
          intervalMs: 500,
          failIf: () => givenUp(jobIds),
        },
      );
    } finally {
      await warping.stop();
    }
    // SIGTERM is handled (graceful stop) once the relayer has started; before, it simply ends the process.
    await relayer.waitForOutput(/"msg":"relayer started"/);
    await waitForStoreSettled(jobIds);
    await relayer.stop("SIGTERM");
    expect(relayer.exit, "a graceful stop exits 0").to.deep.equal({ code: 0, signal: null });
    console.log(
      `      seed ${SEED}, ${kills.length} kills (${Math.round((Date.now() - t0) / 1000)} s):\n        ${kills.join("\n        ")}`,
    );

    expect(jobIds).to.have.length(WAVES * JOBS_PER_WAVE);
    const { txs, skipped } = await checkExactlyOnce(jobIds, firstNonce);
    console.log(`      ${txs.length} relayer transactions, ${skipped} JobSkipped events`);

    // `cinder-relayer status` lists every job as finalized.
    const status = await runCli(["status", "--config", configFile, "--limit", "1000"], env);
    expect(status.code, status.stderr).to.equal(0);
    expect(status.stdout).to.include(`jobs by state: finalized ${jobIds.length}\n`);
    expect(status.stdout).to.match(
      new RegExp(`transactions: ${txs.length} signed, 0 pending, 0 failed or dropped`),
    );
    const rows = status.stdout.split("\n").filter((line) => /^\d+\s+provider\s/.test(line));
    expect(rows).to.have.length(jobIds.length);
    for (const row of rows) expect(row).to.match(/^\d+\s+provider\s+finalized\s/);
  });

  it("rides out a ~5 s RPC outage: backs off, never exits, then finalizes the jobs requested meanwhile", async function () {
    await RelayerProcess.killAll(); // never two relayers on one key (a failed test above may leave one)
    relayer = new RelayerProcess(configFile, env, logFile);
    await relayer.waitForOutput(/"msg":"relayer started"/);
    const pid = relayer.pid;
    const outageNonce = await chain.provider.getTransactionCount(chain.providerWallet.address, "latest");
    await sleep(1000);

    await proxy.stop();
    const outageStart = Date.now();
    const outage = await requestJobs(chain.c, chain.requester, voucherJobs(8, "outage"));
    await sleep(Math.max(0, 5000 - (Date.now() - outageStart)));
    expect(relayer.running, "the relayer exited during the outage").to.equal(true);
    expect(await finalizedCount(outage)).to.equal(0);
    await proxy.start();

    const warping = startWarping();
    try {
      await waitFor(
        "the outage's jobs finalized",
        async () => (await finalizedCount(outage)) === outage.length,
        {
          timeoutMs: 60_000,
          intervalMs: 500,
          failIf: () => givenUp(outage),
        },
      );
    } finally {
      await warping.stop();
    }
    expect(relayer.running).to.equal(true);
    expect(relayer.pid).to.equal(pid);
    expect(relayer.output.match(/"msg":"relayer started"/g)).to.have.length(1);
    const warnings = relayer.output
      .split("\n")
      .filter((line) => line.includes('"msg":"RPC call failed; retrying with backoff"'));
    expect(warnings.length, "backoff warnings in the log").to.be.greaterThan(0);
    expect(warnings.some((line) => /"attempt":1\b/.test(line))).to.equal(true);
    await waitForStoreSettled(outage);
    await relayer.stop("SIGTERM");
    expect(relayer.exit).to.deep.equal({ code: 0, signal: null });

    await checkExactlyOnce(outage, outageNonce);
  });
});
