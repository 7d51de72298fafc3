/**
 * Cinder end to end, with real relayers and real inference, on Hardhat's in-process chain.
 *
 * Deploys the governed protocol with the local genesis (deploy/parameters/localhost.json), serves the chain over
 * JSON-RPC and starts three relayers in this process: an honest provider, a provider that lies about its results
 * (`testing.lie`) and a watcher. Then one UTC day of the economy: governance lists a voucher class through the
 * timelock; the providers bond; a staker mints daily credit, a user burns tokens for compute credit, a third buys
 * vouchers; six jobs are requested (paid each way, open and direct, prompts inline, encrypted to the provider or
 * posted to its relayer over HTTP); the relayers run stories260K and submit attested results; the watcher
 * re-executes the public ones, catches the liar and challenges it; the arbiter re-runs the prompt and votes fault;
 * the liar is slashed and jailed and the watcher paid; after the challenge window the honest relayer finalizes in
 * one batch; the provider withdraws its voucher earnings; at 00:00 UTC the epoch ledger closes, emissions are
 * distributed and claimed and the provider redeems its compute credit for tokens. A summary table ends it.
 * Run: `npm run demo` (about a minute).
 */
import { rmSync } from "node:fs";
import { formatEther, formatUnits, keccak256, toUtf8Bytes, type Signer } from "ethers";
import { ethers, network } from "hardhat";
import { DisputeOutcome, JobStatus } from "../bindings";
import type { CinderManifest } from "../deploy/manifest";
import { RelayerHttpError } from "../relayer/client";
import { decodeInputRef, promptHash, type DeliveryContext } from "../relayer/delivery";
import { createBackend } from "../relayer/inference";
import type { InferenceBackend } from "../relayer/inference/types";
import {
  buyVouchers,
  cinderAt,
  fundAccount,
  mined,
  mintComputeCredit,
  mintDailyCredit,
  PaymentKind,
  registerProvider,
  requestJob,
  STORIES_MODEL_ID,
  type Cinder,
} from "../relayer/testing/protocol";
import { deployLocal, elapsed, nextUtcDay, serveChain, step, tempDir, utc, warp } from "./demo/chain";
import { demoLogger, INFERENCE, startRelayer, waitFor, type DemoRelayer } from "./demo/relayers";
import { gasRows, scanTransactions, supplyChanges, table, type TxInfo } from "./demo/report";

const PRICE_USD = "0.0001"; // both providers: $0.0001 per output token ($100 per million)

const num = (value: string, dp: number) =>
  Number(value).toLocaleString("en-US", { minimumFractionDigits: dp, maximumFractionDigits: dp });
const cndr = (wei: bigint, dp = 2) => `${num(formatEther(wei), dp)} CNDR`;
const usd = (wei: bigint, dp = 4) => `$${num(formatEther(wei), dp)}`;
const usdc = (units: bigint) => `${num(formatUnits(units, 6), 2)} USDC`;
const short = (hex: string) => `${hex.slice(0, 10)}…`;
const capital = (name: string) => `${name[0].toUpperCase()}${name.slice(1)}`;

type Who = "alice" | "bob" | "carol";
type Pay = keyof typeof PaymentKind;
type Delivery = "inline" | "encrypted" | "http";

/** A job of the day: who pays how, for which provider, and how the prompt travels. */
interface JobSpec {
  who: Who;
  pay: Pay;
  to: "open" | "honest" | "liar";
  delivery: Delivery;
  prompt: string;
  maxUnits: number;
}

const JOBS: JobSpec[] = [
  {
    who: "alice",
    pay: "DailyCredit",
    to: "open",
    delivery: "inline",
    prompt: "Once upon a time, there was a little girl named Lily.",
    maxUnits: 96,
  },
  {
    who: "bob",
    pay: "ComputeCredit",
    to: "honest",
    delivery: "http",
    prompt: "Once upon a time, a little dog named Max found a big red ball.",
    maxUnits: 128,
  },
  {
    who: "carol",
    pay: "Voucher",
    to: "honest",
    delivery: "encrypted",
    prompt: "One day, a small bird wanted to fly over the tall tree.",
    maxUnits: 96,
  },
  {
    who: "carol",
    pay: "Voucher",
    to: "open",
    delivery: "inline",
    prompt: "Tom and Sue went to the park to play.",
    maxUnits: 64,
  },
  {
    who: "alice",
    pay: "DailyCredit",
    to: "honest",
    delivery: "encrypted",
    prompt: "The sun was shining and the cat was happy.",
    maxUnits: 64,
  },
  {
    who: "bob",
    pay: "ComputeCredit",
    to: "liar",
    delivery: "inline",
    prompt: "Once upon a time, there was a big bear who liked honey.",
    maxUnits: 96,
  },
];

interface Job extends JobSpec {
  id: bigint;
}

interface Accounts {
  deployer: Signer;
  honest: Signer;
  liar: Signer;
  watcher: Signer;
  alice: Signer;
  bob: Signer;
  carol: Signer;
}

interface Relayers {
  honest: DemoRelayer;
  liar: DemoRelayer;
  watcher: DemoRelayer;
}

/** Everything the steps share. */
interface Demo {
  c: Cinder;
  manifest: CinderManifest;
  a: Accounts;
  names: Map<string, string>;
  ctx: DeliveryContext;
  day0: number;
  economyFrom: number;
  supplyStart: bigint;
  voucherClass: bigint;
  relayers?: Relayers;
  jobs: Job[];
  arbiter?: InferenceBackend;
  stats: { liarClaimed: number; watcherTokens: number; arbiterTokens: number };
}

// ------------------------------------------------------------------ setup

async function deploy(dir: string, a: Accounts, names: Map<string, string>) {
  const { manifest, file } = await deployLocal(await a.deployer.getAddress(), dir);
  const c = cinderAt(manifest, a.deployer);
  const chainId = (await ethers.provider.getNetwork()).chainId;
  const delay = Number(await c.timelock.getMinDelay());
  step(
    "Deployed CinderLocal on the in-process chain (deploy/parameters/localhost.json, governed by its timelock)",
    `CNDR supply ${cndr(await c.token.totalSupply(), 0)}; timelock delay ${delay / 3600} h; ` +
      `challenge window ${await c.jobCoordinator.challengeWindow()} s; arbiter committee: the deployer, threshold ${await c.verifier.threshold()}`,
    `local genesis: mock USDC, model stories260K, voucher class 1 (100,000 tokens per voucher)`,
  );
  const demo: Demo = {
    c,
    manifest,
    a,
    names,
    ctx: { chainId, coordinator: manifest.contracts.jobCoordinator },
    day0: 0,
    economyFrom: (await ethers.provider.getBlockNumber()) + 1,
    supplyStart: await c.token.totalSupply(),
    voucherClass: 0n,
    jobs: [],
    stats: { liarClaimed: 0, watcherTokens: 0, arbiterTokens: 0 },
  };
  return { demo, file };
}

/** Governance through the timelock: a small voucher class priced like the providers ($0.0001 per token). */
async function governance(d: Demo) {
  const { c, a } = d;
  await nextUtcDay();
  d.day0 = Number(await c.engine.currentEpoch());
  const delay = Number(await c.timelock.getMinDelay());
  const market = await c.voucherMarket.getAddress();
  const data = c.voucherMarket.interface.encodeFunctionData("createClass", [
    STORIES_MODEL_ID,
    d.manifest.extras.stablecoin,
    1_000n, // tokens per voucher
    100_000n, // 0.10 USDC per voucher
    300, // 3 % mint premium
    0n, // no expiry
    0n, // no cap
  ]);
  const salt = ethers.id("cinder-demo-voucher-class");
  await mined(c.timelock.connect(a.deployer).schedule(market, 0n, data, ethers.ZeroHash, salt, delay));
  await warp(delay);
  await mined(c.timelock.connect(a.carol).execute(market, 0n, data, ethers.ZeroHash, salt));
  d.voucherClass = await c.voucherMarket.classCount();
  step(
    `00:00 UTC, epoch ${d.day0} begins. Governance proposal: a voucher class, scheduled by the proposer, executed by anyone ${delay / 3600} h later`,
    `voucher class ${d.voucherClass}: 1 voucher = 1,000 output tokens of stories260K for 0.10 USDC + 3 % premium`,
  );
}

async function bondProviders(d: Demo) {
  const { c, a } = d;
  for (const who of ["honest", "liar"] as const) {
    const signer = a[who];
    await fundAccount(c, a.deployer, await signer.getAddress(), { cndr: "5000" });
    await registerProvider(c, signer, { modelIds: [STORIES_MODEL_ID], priceUsd: PRICE_USD, bond: "5000" });
  }
  await fundAccount(c, a.deployer, await a.watcher.getAddress(), { cndr: "500" });
  step(
    `Two providers bond 5,000 CNDR each and offer stories260K at $${PRICE_USD} per output token; a watcher gets 500 CNDR for challenge bonds`,
    `challenge bond ${cndr(await c.disputeModule.challengeBond(), 0)}; fault slash ${Number(await c.disputeModule.faultSlashBps()) / 100} % of the bond, ` +
      `${Number(await c.disputeModule.finderFeeBps()) / 100} % of it to the challenger`,
  );
}

async function startRelayers(d: Demo, rpcUrl: string, manifestFile: string, dir: string): Promise<void> {
  const t0 = Date.now();
  const roles = [
    { name: "honest", account: 1, provider: true, watcher: false },
    { name: "liar", account: 2, provider: true, watcher: false, acceptOpenRequests: false, lie: true },
    { name: "watcher", account: 3, provider: false, watcher: true },
  ];
  const results = await Promise.allSettled(
    roles.map((role) => startRelayer(role, rpcUrl, manifestFile, dir)),
  );
  const started = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    for (const relayer of started) await relayer.node.stop();
    throw failed.reason;
  }
  const [honest, liar, watcher] = started;
  d.relayers = { honest, liar, watcher };
  step(
    `Three relayers started in ${((Date.now() - t0) / 1000).toFixed(1)} s (RelayerNode, JSON-RPC ${rpcUrl}, stories260K loaded, 1 thread each)`,
    `honest  ${honest.node.address}  provider, takes open requests      ${honest.url}`,
    `liar    ${liar.node.address}  provider, direct requests only, testing.lie: true`,
    `watcher ${watcher.node.address}  watcher: re-executes others' public results, challenges mismatches`,
  );
}

// ------------------------------------------------------------------ the economy

async function fundRequesters(d: Demo) {
  const { c, a } = d;
  const alice = await a.alice.getAddress();
  await fundAccount(c, a.deployer, alice, { cndr: "2000" });
  await mintDailyCredit(c, a.alice, "2000", "10");
  step(
    "Alice stakes 2,000 CNDR and mints 10 DCR of perpetual daily credit",
    `stake locked ${cndr(await c.vault.lockedOf(alice))}; allowance today ${usd(await c.dailyCredit.dailyAllowance(alice), 2)}`,
  );

  const bob = await a.bob.getAddress();
  await fundAccount(c, a.deployer, bob, { cndr: "50" });
  const before = await c.token.totalSupply();
  await mintComputeCredit(c, a.bob, "50");
  step(
    "Bob burns 50 CNDR for USD compute credit (burn-and-mint, oracle $2/CNDR, 0.25 % spread)",
    `CNDR supply ${cndr(before, 0)} → ${cndr(await c.token.totalSupply(), 0)}; Bob holds ${usd(await c.computeCredit.balanceOf(bob), 2)} CCR`,
  );

  const carol = await a.carol.getAddress();
  await fundAccount(c, a.deployer, carol, { usdc: "10" });
  await buyVouchers(c, a.carol, d.voucherClass, 20n);
  step(
    `Carol buys 20 class-${d.voucherClass} vouchers (20,000 output tokens) with USDC`,
    `paid ${usdc(10_000_000n - (await c.stablecoin!.balanceOf(carol)))}; holds ${await c.voucherMarket.balanceOf(carol, d.voucherClass)} vouchers`,
  );
}

async function requestJobs(d: Demo) {
  const { c, a } = d;
  const r = d.relayers!;
  const lines: string[] = [];
  for (const spec of JOBS) {
    const signer = a[spec.who];
    const direct = spec.to === "open" ? undefined : r[spec.to];
    // A requester encrypts to the key the provider's relayer publishes at GET /v1/provider.
    const publicKey = spec.delivery === "encrypted" ? (await direct!.client.provider()).publicKey : undefined;
    const id = await requestJob(c, signer, {
      modelId: STORIES_MODEL_ID,
      prompt: spec.prompt,
      kind: PaymentKind[spec.pay],
      maxUnits: spec.maxUnits,
      classId: d.voucherClass,
      maxPriceUsd: PRICE_USD,
      provider: direct?.node.address,
      delivery: spec.delivery,
      providerPublicKey: publicKey,
      deadlineIn: 3600,
    });
    d.jobs.push({ ...spec, id });
    let how = spec.delivery === "encrypted" ? `encrypted to ${spec.to}'s key` : "inline (public)";
    if (spec.delivery === "http") {
      how = `HTTP POST to the relayer (${await deliverOverHttp(r.honest, signer, d.ctx, id, spec.prompt)})`;
    }
    const target = spec.to === "open" ? "open request" : `direct → ${spec.to}`;
    lines.push(
      `#${id} ${spec.who.padEnd(5)} ${spec.pay.padEnd(13)} ${target.padEnd(16)} max ${spec.maxUnits} tokens, prompt ${how}`,
    );
  }
  step(`${JOBS.length} inference requests: escrow taken on request, each paid one of three ways`, ...lines);
}

/** Posts a prompt to the relayer signed by the requester, retrying until the relayer has seen the job. */
async function deliverOverHttp(
  relayer: DemoRelayer,
  signer: Signer,
  ctx: DeliveryContext,
  id: bigint,
  prompt: string,
) {
  let status = "";
  await waitFor(
    `relayer ${relayer.name} to accept the prompt of job ${id} over HTTP`,
    async () => {
      try {
        status = await relayer.client.sendInput(signer, ctx, id, prompt);
        return true;
      } catch (error) {
        if (error instanceof RelayerHttpError && error.code === "UNKNOWN_JOB") return false;
        throw error;
      }
    },
    () => `relayer state: ${relayer.node.store.job(Number(id))?.state ?? "not seen"}`,
    15_000,
  );
  return status;
}

/** One line per job: on-chain status and what each relayer's store says. */
async function jobStates(d: Demo): Promise<string> {
  const lines: string[] = [];
  for (const job of d.jobs) {
    const view = await d.c.jobCoordinator.getJob(job.id);
    const stores = Object.values(d.relayers ?? {})
      .map((r) => {
        const rec = r.node.store.job(Number(job.id));
        return rec ? `${r.name}=${rec.state}${rec.error ? ` (${rec.error})` : ""}` : null;
      })
      .filter(Boolean);
    lines.push(`  job ${job.id}: on-chain ${JobStatus[Number(view.status)]}; ${stores.join(", ")}`);
  }
  return lines.join("\n");
}

async function statusOf(d: Demo, id: bigint) {
  return JobStatus[Number((await d.c.jobCoordinator.getJob(id)).status)];
}

async function awaitResults(d: Demo) {
  const r = d.relayers!;
  await waitFor(
    "every job's result on-chain (accept → inference → submitResult by the relayers)",
    async () => {
      for (const job of d.jobs)
        if ((await d.c.jobCoordinator.getJob(job.id)).challengeEnds === 0n) return false;
      return true;
    },
    () => jobStates(d),
  );
  const lines: string[] = [];
  for (const job of d.jobs) {
    const view = await d.c.jobCoordinator.getJob(job.id);
    const who = d.names.get(view.provider.toLowerCase()) as "honest" | "liar";
    const rec = r[who].node.store.job(Number(job.id))!;
    if (who === "liar") d.stats.liarClaimed += Number(view.unitsUsed);
    lines.push(
      `#${job.id} → ${who.padEnd(6)} ${String(view.unitsUsed).padStart(3)} tokens in ${String(Math.round(rec.inferenceMs ?? 0)).padStart(3)} ms, ` +
        `outputHash ${short(view.outputHash)}${who === "liar" ? `  (claims "…${rec.output!.slice(-34)}")` : ""}`,
    );
  }
  step(
    "The relayers accepted, ran stories260K (greedy, seed 42) and submitted EIP-712 attested results",
    ...lines,
  );
}

/** `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.replace(/\s+/g, " ").trim().split(" ")) {
    if (lines.length && lines[lines.length - 1].length + word.length < width)
      lines[lines.length - 1] += ` ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** The requester reads its result from the provider's relayer (a signed GET) and checks it against the chain. */
async function showStory(d: Demo) {
  const job = d.jobs.find((j) => j.delivery === "http")!;
  const out = await d.relayers!.honest.client.fetchOutput(d.a[job.who], d.ctx, job.id);
  if (!out) throw new Error(`the honest relayer has no output for job ${job.id} yet`);
  const onChain = (await d.c.jobCoordinator.getJob(job.id)).outputHash;
  const same = out.outputHash.toLowerCase() === onChain.toLowerCase();
  step(
    `${capital(job.who)} fetches the story of job #${job.id} from the relayer (signed GET): ${out.unitsUsed} tokens, ` +
      `hash ${same ? "matches" : "DIFFERS FROM"} the on-chain result`,
    ...wrap(`${job.prompt}${out.output}`, 96).map((line) => `| ${line}`),
  );
}

async function awaitWatcher(d: Demo) {
  const { watcher } = d.relayers!;
  const done = ["verified", "settled", "challenged", "faulted"];
  const liarJob = d.jobs.find((j) => j.to === "liar")!;
  await waitFor(
    "the watcher to re-execute every public result and challenge the liar's",
    async () =>
      d.jobs.every((j) => done.includes(watcher.node.store.job(Number(j.id))?.state ?? "")) &&
      (await statusOf(d, liarJob.id)) === "Challenged",
    () => jobStates(d),
  );
  const lines = d.jobs.map((job) => {
    const rec = watcher.node.store.job(Number(job.id))!;
    if (rec.output !== null) d.stats.watcherTokens += rec.unitsUsed ?? 0;
    if (rec.state === "verified")
      return `#${job.id} re-executed: ${rec.unitsUsed} tokens, same output hash: verified`;
    if (rec.state === "challenged") {
      return `#${job.id} re-executed: ${rec.unitsUsed} tokens, hash ${short(rec.outputHash!)} ≠ claimed ${short(rec.claimedHash!)} → challenged`;
    }
    return `#${job.id} not re-executable: ${rec.error ?? rec.state}`;
  });
  step("The watcher follows every result inside its challenge window", ...lines);
}

/** The arbiter re-runs the challenged prompt from its on-chain inputRef, votes, and anyone resolves. */
async function arbitrate(d: Demo) {
  const { c, a } = d;
  const job = d.jobs.find((j) => j.to === "liar")!;
  const view = await c.jobCoordinator.getJob(job.id);
  const [requested] = await c.jobCoordinator.queryFilter(
    c.jobCoordinator.filters.JobRequested(job.id),
    d.economyFrom,
  );
  const { prompt } = decodeInputRef(requested.args.inputRef);
  if (prompt === undefined || promptHash(prompt) !== view.inputHash.toLowerCase()) {
    throw new Error(
      `job ${job.id}: the on-chain inputRef does not hold the prompt of inputHash ${view.inputHash}`,
    );
  }
  d.arbiter = createBackend(INFERENCE, demoLogger("arbiter"));
  await d.arbiter.load();
  const maxTokens = Math.min(Number(view.maxUnits), INFERENCE.maxTokens);
  const result = await d.arbiter.generate(prompt, { maxTokens, seed: INFERENCE.seed });
  d.stats.arbiterTokens += result.tokens;
  const fault =
    keccak256(toUtf8Bytes(result.text)) !== view.outputHash || result.tokens !== Number(view.unitsUsed);

  const liar = await a.liar.getAddress();
  const watcher = await a.watcher.getAddress();
  const bob = await a.bob.getAddress();
  const bondBefore = (await c.providerRegistry.getProvider(liar)).bond;
  const watcherBefore = await c.token.balanceOf(watcher);
  const bobBefore = await c.computeCredit.balanceOf(bob);
  await mined(c.verifier.connect(a.deployer).vote(job.id, fault));
  const receipt = await mined(c.disputeModule.connect(a.deployer).resolve(job.id));
  const resolved = receipt.logs
    .map((log) => c.disputeModule.interface.parseLog(log))
    .find((parsed) => parsed?.name === "DisputeResolved")!;
  const record = await c.providerRegistry.getProvider(liar);
  step(
    `The arbiter re-runs job #${job.id}'s public prompt: ${result.tokens} tokens, hash ${short(keccak256(toUtf8Bytes(result.text)))} → ` +
      `votes ${fault ? "FAULT" : "valid"} (threshold 1); resolve → ${DisputeOutcome[Number(resolved.args.outcome)]}`,
    `liar: bond ${cndr(bondBefore)} → ${cndr(record.bond)} (slashed ${cndr(resolved.args.slashed)}), jailed until ${utc(record.jailedUntil)}, ` +
      `eligible: ${await c.providerRegistry.isEligible(liar, STORIES_MODEL_ID)}`,
    `watcher: ${cndr(watcherBefore)} → ${cndr(await c.token.balanceOf(watcher))} (its bond back + a finder fee of ${cndr(resolved.args.finderFee)})`,
    `Bob refunded in full: +${usd((await c.computeCredit.balanceOf(bob)) - bobBefore)} CCR (the escrow); job #${job.id} ${await statusOf(d, job.id)}`,
  );
}

async function finalize(d: Demo) {
  const { c } = d;
  const { honest } = d.relayers!;
  const window = Number(await c.jobCoordinator.challengeWindow());
  await warp(window + 1);
  const honestJobs = d.jobs.filter((j) => j.to !== "liar");
  await waitFor(
    "the honest relayer to finalize its jobs after the challenge window",
    () =>
      honestJobs.every((job) => honest.node.store.job(Number(job.id))?.state === "finalized") &&
      honest.node.health().pendingTxs === 0,
    () => jobStates(d),
  );
  const events = await c.jobCoordinator.queryFilter(c.jobCoordinator.filters.JobFinalized(), d.economyFrom);
  const batches = new Map<string, number>();
  for (const ev of events) batches.set(ev.transactionHash, (batches.get(ev.transactionHash) ?? 0) + 1);
  const batchText: string[] = [];
  for (const [hash, jobs] of batches) {
    const receipt = await ethers.provider.getTransactionReceipt(hash);
    batchText.push(`${jobs} jobs, ${Number(receipt!.gasUsed).toLocaleString("en-US")} gas`);
  }
  const lines = events.map((ev) => {
    const job = d.jobs.find((j) => j.id === ev.args.jobId)!;
    const paid = job.pay === "Voucher" ? `${ev.args.paid} voucher(s)` : usd(ev.args.paid);
    const refund = job.pay === "Voucher" ? `${ev.args.refunded} voucher(s)` : usd(ev.args.refunded);
    return `#${job.id} ${job.pay.padEnd(13)} paid ${paid.padEnd(12)} refunded ${refund}`;
  });
  step(
    `${window + 1} s later the windows close: the honest relayer settles ${honestJobs.length} jobs in ${batches.size} finalizeBatch ` +
      `(${batchText.join("; ")})`,
    ...lines,
  );
}

async function stopRelayers(d: Demo) {
  if (!d.relayers) return;
  const counts = Object.values(d.relayers).map(
    (r) =>
      `${r.name}: ${Object.entries(r.node.store.jobCounts())
        .map(([state, n]) => `${n} ${state}`)
        .join(", ")}`,
  );
  for (const r of Object.values(d.relayers)) await r.node.stop();
  d.relayers = undefined;
  step("The relayers stop (their job stores as they end)", ...counts);
}

async function providerEarnings(d: Demo) {
  const { c, a } = d;
  const honest = await a.honest.getAddress();
  const stablecoin = d.manifest.extras.stablecoin;
  const owed = await c.voucherMarket.owed(honest, stablecoin);
  await mined(c.voucherMarket.connect(a.honest).withdraw(honest, stablecoin));
  step(
    "The honest provider withdraws its voucher earnings in USDC (no oracle, no volatility)",
    `owed ${usdc(owed)} after the ${Number(await c.voucherMarket.protocolFeeBps()) / 100} % protocol fee → wallet ${usdc(await c.stablecoin!.balanceOf(honest))}; ` +
      `it also holds ${usd(await c.computeCredit.balanceOf(honest))} CCR from the credit-paid jobs`,
  );
}

async function closeEpoch(d: Demo) {
  const { c, a } = d;
  await nextUtcDay();
  const day1 = Number(await c.engine.currentEpoch());
  const ledger = await c.engine.epochLedger(d.day0);
  step(
    `00:00 UTC, epoch ${day1}. The epoch-${d.day0} ledger, public on-chain:`,
    `organic USD ${usd(await c.engine.organicUsd(d.day0))} (credit bought ${usd(ledger.organicCreditUsd)} + voucher revenue ${usd(ledger.voucherRevenueUsd)})`,
    `work paid to providers ${usd(ledger.workUsd)}, of which subsidised ${usd(ledger.subsidisedWorkUsd)} → subsidy ratio ${Number(await c.engine.subsidyRatio(d.day0)) / 100} %`,
    `tokens burned for credit ${cndr(ledger.tokensBurned)}; net supply change ${cndr(await c.engine.netSupplyChange(d.day0))}`,
  );

  const honest = await a.honest.getAddress();
  await mined(c.engine.connect(a.carol).distribute(d.day0));
  const distributed = await c.engine.epochLedger(d.day0);
  const claimable = await c.engine.claimableEmission(d.day0, honest);
  await mined(c.engine.connect(a.honest).claimEmissions([d.day0]));
  const credit = await c.computeCredit.balanceOf(honest);
  const tokensOut = await c.engine.quoteRedeem(credit);
  await mined(c.engine.connect(a.honest).redeem(credit, tokensOut, honest));
  step(
    `Anyone distributes epoch ${d.day0}'s emission of ${cndr(distributed.tokensEmitted, 0)}`,
    `${cndr(distributed.tokensEmitted - distributed.providerPool, 0)} streams to stakers (Alice) over a day; ` +
      `the honest provider claims ${cndr(claimable)} for its work (the liar's faulted job earned nothing)`,
    `the provider redeems ${usd(credit)} CCR for ${cndr(tokensOut, 4)} newly minted (burn-and-mint)`,
  );
}

// ------------------------------------------------------------------ summary

/** Prints a titled block of lines. */
function section(title: string, lines: string[]): void {
  console.log([`\n${title}`, ...lines].join("\n  "));
}

async function summary(d: Demo) {
  const head = await ethers.provider.getBlockNumber();
  const txs = await scanTransactions(ethers.provider, d.manifest, d.economyFrom, head);
  console.log("\n================================ SUMMARY ================================");
  await jobsSummary(d);
  gasSummary(d, txs);
  await supplySummary(d, txs, head);
  console.log(`\nruntime ${elapsed().toFixed(1)} s (this script, after Hardhat's compile check)`);
}

/** Jobs by outcome, tokens, and the USD each payment method paid to providers. */
async function jobsSummary(d: Demo) {
  const { c } = d;
  const klass = await c.voucherMarket.getClass(d.voucherClass);
  const finalized = await c.jobCoordinator.queryFilter(
    c.jobCoordinator.filters.JobFinalized(),
    d.economyFrom,
  );
  const paidOf = new Map(finalized.map((ev) => [ev.args.jobId, ev.args.paid]));
  const paidUsd: Record<Pay, bigint> = { Voucher: 0n, DailyCredit: 0n, ComputeCredit: 0n };
  const outcomes: Record<string, number> = {};
  let billed = 0;
  const rows: string[][] = [];
  for (const job of d.jobs) {
    const view = await c.jobCoordinator.getJob(job.id);
    const status = JobStatus[Number(view.status)];
    outcomes[status] = (outcomes[status] ?? 0) + 1;
    const paid = paidOf.get(job.id) ?? 0n;
    const usdPaid = job.pay === "Voucher" ? paid * klass.unitPrice * 10n ** 12n : paid;
    paidUsd[job.pay] += usdPaid;
    if (status === "Finalized") billed += Number(view.unitsUsed);
    rows.push([
      `#${job.id}`,
      job.who,
      job.pay,
      job.delivery,
      job.to === "open" ? `open → ${d.names.get(view.provider.toLowerCase())}` : job.to,
      status,
      String(view.unitsUsed),
      job.pay === "Voucher" ? `${paid} vch = ${usd(usdPaid)}` : usd(usdPaid),
    ]);
  }
  section("Jobs", [
    ...table(["job", "requester", "payment", "delivery", "provider", "outcome", " tokens", " paid"], rows),
    `by outcome: ${Object.entries(outcomes)
      .map(([status, n]) => `${n} ${status}`)
      .join(", ")}`,
    `tokens generated: ${billed} billed; ${d.stats.liarClaimed} by the liar (refunded); ` +
      `${d.stats.watcherTokens} re-executed by the watcher; ${d.stats.arbiterTokens} by the arbiter`,
  ]);
  section(
    "USD paid to providers, by payment method",
    table(
      ["method", " USD", "source"],
      [
        ["DailyCredit", usd(paidUsd.DailyCredit), "subsidised: minted from the epoch's subsidy budget"],
        ["ComputeCredit", usd(paidUsd.ComputeCredit), "organic: credit bought by burning CNDR"],
        [
          "Voucher",
          usd(paidUsd.Voucher),
          `organic: USDC principal of whole vouchers (${klass.unitsPerVoucher} tokens each)`,
        ],
      ],
    ),
  );
}

/** Gas by call, and what one job costs end to end. */
function gasSummary(d: Demo, txs: TxInfo[]) {
  const rows = gasRows(txs, d.names);
  const perJob = (prefix: string) => {
    const matching = rows.filter((row) => row.label.startsWith(prefix));
    const gas = matching.reduce((sum, row) => sum + (row.gasPerJob ?? row.gasPerTx) * BigInt(row.txs), 0n);
    const count = matching.reduce((sum, row) => sum + row.txs, 0);
    return count ? gas / BigInt(count) : 0n;
  };
  const lifecycle = {
    request: perJob("jobCoordinator.requestJob"),
    accept: perJob("jobCoordinator.acceptJob"),
    submit: perJob("jobCoordinator.submitResult"),
    finalize: rows.find((row) => row.label === "jobCoordinator.finalizeBatch")?.gasPerJob ?? 0n,
  };
  const total = Object.values(lifecycle).reduce((sum, gas) => sum + gas, 0n);
  const g = (gas: bigint) => gas.toLocaleString("en-US");
  section("Gas per step (every transaction since deployment, the relayers' included)", [
    ...table(
      ["call", "sent by", " txs", " gas/tx", " gas/job"],
      rows.map((row) => [
        row.label,
        row.senders,
        String(row.txs),
        g(row.gasPerTx),
        row.gasPerJob === null ? "" : g(row.gasPerJob),
      ]),
    ),
    `one job end to end: request ${g(lifecycle.request)} + accept ${g(lifecycle.accept)} + submit ${g(lifecycle.submit)} + ` +
      `finalize ${g(lifecycle.finalize)} (batched) = ${g(total)} gas`,
  ]);
}

/** CNDR minted and burned since deployment, and the engine's subsidy ratio. */
async function supplySummary(d: Demo, txs: TxInfo[], head: number) {
  const { c } = d;
  const supply = await supplyChanges(ethers.provider, d.manifest, txs, d.economyFrom, head);
  const supplyEnd = await c.token.totalSupply();
  const sum = (m: Map<string, bigint>) => [...m.values()].reduce((total, v) => total + v, 0n);
  section("CNDR supply", [
    ...table(
      ["", "by", " CNDR"],
      [
        ...[...supply.minted].map(([label, v]) => ["minted", label, cndr(v, 4)]),
        ...[...supply.burned].map(([label, v]) => ["burned", label, cndr(-v, 4)]),
      ],
    ),
    `${cndr(d.supplyStart, 4)} → ${cndr(supplyEnd, 4)}: minted ${cndr(sum(supply.minted), 4)}, ` +
      `burned ${cndr(sum(supply.burned), 4)}, net ${cndr(supplyEnd - d.supplyStart, 4)}`,
  ]);
  const ledger = await c.engine.epochLedger(d.day0);
  section(`Engine ledger, epoch ${d.day0}`, [
    `organic ${usd(await c.engine.organicUsd(d.day0))}; work ${usd(ledger.workUsd)}, of which subsidised ` +
      `${usd(ledger.subsidisedWorkUsd)} → subsidy ratio ${Number(await c.engine.subsidyRatio(d.day0)) / 100} %`,
  ]);
}

// ------------------------------------------------------------------ main

async function main() {
  if (network.name !== "hardhat") {
    throw new Error(`the demo runs on the in-process chain; drop --network (got ${network.name})`);
  }
  const signers = await ethers.getSigners();
  const [deployer, honest, liar, watcher, alice, bob, carol] = signers;
  const a: Accounts = { deployer, honest, liar, watcher, alice, bob, carol };
  const names = new Map<string, string>();
  for (const [name, signer] of Object.entries(a)) names.set((await signer.getAddress()).toLowerCase(), name);

  const dir = tempDir();
  let chain: Awaited<ReturnType<typeof serveChain>> | undefined;
  let d: Demo | undefined;
  try {
    const deployed = await deploy(dir, a, names);
    d = deployed.demo;
    chain = await serveChain();
    await governance(d);
    await bondProviders(d);
    await startRelayers(d, chain.url, deployed.file, dir);
    await fundRequesters(d);
    await requestJobs(d);
    await awaitResults(d);
    await showStory(d);
    await awaitWatcher(d);
    await arbitrate(d);
    await finalize(d);
    await stopRelayers(d);
    await providerEarnings(d);
    await closeEpoch(d);
    await summary(d);
  } finally {
    if (d?.relayers) for (const r of Object.values(d.relayers)) await r?.node.stop().catch(() => undefined);
    await d?.arbiter?.close().catch(() => undefined);
    await chain?.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
