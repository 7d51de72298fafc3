/**
 * Gas benchmark of every user-facing function (`npm run bench:gas`): plays each operation on a fresh in-process
 * chain deployed through the CinderJobs module, prints the job-lifecycle table against the README's targets
 * and a table of every row, and writes the numbers to bench/gas-snapshot.json (committed).
 *
 * `npm run bench:gas:check` (GAS_CHECK=1) compares against the snapshot instead, prints old → new with the
 * change of every row, and fails when a row rose more than 2 %, when a snapshot row is no longer measured or
 * when a measured row is not in the snapshot. GAS_SNAPSHOT=<file> reads / writes another snapshot file.
 * Both modes also fail when a state-changing function of a Cinder contract has neither a row nor a reason in
 * scripts/gas/coverage.ts.
 *
 * Determinism: the chain starts at a fixed instant (2100-01-01 01:00 UTC) and every block is stamped one second
 * after the previous one (scripts/gas/clock.ts), accounts and signatures are fixed, and each section starts
 * from the same snapshot of the chain. Two runs give the same gas to the unit.
 *
 * The job-lifecycle rows are steady state: not the first job of its terms, accounts already holding balances,
 * as a provider's relayer sees them day to day. Each row says whether its storage is warm (the state it
 * updates exists) or cold (first-time cost); see scripts/gas/report.ts.
 */
import { ethers } from "hardhat";
import { time, takeSnapshot } from "@nomicfoundation/hardhat-network-helpers";
import path from "node:path";
import {
  deployJobsFixture,
  request,
  accept,
  submit,
  Kind,
  HOUR,
  defaultPayment,
  MODEL,
  signResult,
  type JobsFixture,
} from "../test/hardhat/jobsFixture";
import { pinClock } from "./gas/clock";
import { Recorder, gasOf } from "./gas/recorder";
import { compare, printAll, printTargets, readSnapshot, verdict, writeSnapshot } from "./gas/report";
import { CONTRACTS, coverageProblems, coverageSummary } from "./gas/coverage";
import {
  extraSigners,
  warmUp,
  tokens,
  staking,
  engineSection,
  market,
  providers,
  jobs,
  models,
  type Section,
} from "./gas/sections";

const SNAPSHOT = process.env.GAS_SNAPSHOT
  ? path.resolve(process.env.GAS_SNAPSHOT)
  : path.join(__dirname, "..", "bench", "gas-snapshot.json");
/** 2100-01-01 01:00 UTC: one hour into a UTC day, so the lifecycle stays inside one epoch. */
const START = 4_102_444_800n + HOUR;
const LIFECYCLE = "job lifecycle (steady state)";

let requests = 0;

async function requestJob(f: JobsFixture, kind: Kind, provider?: string) {
  const deadline = BigInt(await time.latest()) + HOUR;
  return f.coordinator
    .connect(f.alice)
    .requestJob(
      MODEL,
      ethers.id(`bench-input-${++requests}`),
      ethers.toUtf8Bytes("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"),
      2_500n,
      defaultPayment(kind),
      deadline,
      provider ?? ethers.ZeroAddress,
    );
}

/** The original benchmark: the job lifecycle in steady state, against the README's targets. */
async function lifecycle(rec: Recorder, f: JobsFixture) {
  await warmUp(f);
  const J = "JobCoordinator";

  await rec.tx("requestJob (voucher, open)", `${J}.requestJob`, "warm", requestJob(f, Kind.Voucher), 120_000);
  const voucherJob = await f.coordinator.jobCount();
  await rec.tx(
    "requestJob (voucher, direct)",
    `${J}.requestJob`,
    "warm",
    requestJob(f, Kind.Voucher, f.provider1.address),
  );
  await rec.tx("requestJob (DailyCredit)", `${J}.requestJob`, "warm", requestJob(f, Kind.DailyCredit));
  await rec.tx("requestJob (ComputeCredit)", `${J}.requestJob`, "warm", requestJob(f, Kind.ComputeCredit));
  const creditJob = await f.coordinator.jobCount();

  await rec.tx(
    "acceptJob (voucher)",
    `${J}.acceptJob`,
    "warm",
    f.coordinator.connect(f.provider1).acceptJob(voucherJob),
    70_000,
  );
  await accept(f, creditJob);
  const job = await f.coordinator.getJob(voucherJob);
  const outputHash = ethers.id("output");
  const signature = await signResult(f.signer1, f.coordinator, {
    jobId: voucherJob,
    modelId: job.modelId,
    inputHash: job.inputHash,
    outputHash,
    unitsUsed: 1_200n,
  });
  await rec.tx(
    "submitResult",
    `${J}.submitResult`,
    "warm",
    f.coordinator.connect(f.provider1).submitResult(voucherJob, outputHash, 1_200n, signature),
    90_000,
  );
  await submit(f, creditJob, 1_200n);
  await time.increase(HOUR);
  await rec.tx("finalize (voucher)", `${J}.finalize`, "warm", f.coordinator.finalize(voucherJob), 70_000);
  await rec.tx("finalize (ComputeCredit)", `${J}.finalize`, "warm", f.coordinator.finalize(creditJob));

  // A batch of 50 voucher jobs of one provider, as its relayer settles them.
  const batch: bigint[] = [];
  for (let i = 0; i < 50; ++i) {
    const id = await request(f, Kind.Voucher, { maxUnits: 1_000n, input: `batch-${i}` });
    await accept(f, id);
    await submit(f, id, 1_000n);
    batch.push(id);
  }
  await time.increase(HOUR);
  const batchGas = await gasOf(f.coordinator.finalizeBatch(batch));
  rec.add({
    name: "finalizeBatch (50 voucher jobs)",
    fn: `${J}.finalizeBatch`,
    storage: "warm",
    gas: batchGas,
  });
  rec.add({
    name: "finalizeBatch, per job",
    fn: `${J}.finalizeBatch`,
    storage: "warm",
    gas: Math.round(batchGas / 50),
    target: 35_000,
  });

  const expiring = await request(f, Kind.Voucher, { input: "late" });
  await accept(f, expiring);
  const cancelled = await request(f, Kind.Voucher, { input: "cancel" });
  await rec.tx("cancel (voucher)", `${J}.cancel`, "warm", f.coordinator.connect(f.alice).cancel(cancelled));
  await time.increase(HOUR);
  await rec.tx("expire (accepted, late slash)", `${J}.expire`, "warm", f.coordinator.expire(expiring));

  const disputed = await request(f, Kind.Voucher, { input: "disputed" });
  await accept(f, disputed);
  await submit(f, disputed, 1_000n);
  await rec.tx(
    "challenge",
    "DisputeModule.challenge",
    "warm",
    f.disputes.connect(f.challenger).challenge(disputed),
  );
  await rec.tx(
    "vote (arbiter)",
    "ArbiterCommitteeVerifier.vote",
    "warm",
    f.verifier.connect(f.arbiter1).vote(disputed, true),
  );
  await rec.tx("resolve (fault upheld)", "DisputeModule.resolve", "warm", f.disputes.resolve(disputed));
}

const SECTIONS: [string, Section][] = [
  ["ERC-20 tokens: transfers, allowances, permits, burns", tokens],
  ["staking and daily credit", staking],
  ["burn-and-mint engine", engineSection],
  ["voucher market (ERC-1155)", market],
  ["provider registry", providers],
  ["jobs and disputes: other paths", jobs],
  ["model registry (governance, optional)", models],
];

async function main() {
  const checking = process.env.GAS_CHECK === "1" || process.argv.includes("--check");
  pinClock();
  if (BigInt(await time.latest()) >= START) throw new Error("the benchmark's fixed start is in the past");
  await time.increaseTo(START);
  const f = await deployJobsFixture();
  const extra = await extraSigners();
  const base = await takeSnapshot();

  const rec = new Recorder();
  rec.section = LIFECYCLE;
  await lifecycle(rec, f);
  for (const [name, section] of SECTIONS) {
    await base.restore();
    rec.section = name;
    await section(rec, f, extra);
  }
  const rows = rec.rows;

  printTargets(rows.filter((r) => r.section === LIFECYCLE));
  const problems = await coverageProblems(rows.map((r) => r.fn));
  const coverage = await coverageSummary(rows.map((r) => r.fn));
  const label = path.relative(process.cwd(), SNAPSHOT);
  let exitCode = 0;
  if (checking) {
    exitCode = verdict(compare(rows, readSnapshot(SNAPSHOT), label), rows.length);
  } else {
    printAll(rows);
    writeSnapshot(SNAPSHOT, rows);
    console.log(`\n${rows.length} rows written to ${label}`);
  }
  console.log(
    `\n${coverage.total} state-changing functions in the ABIs of ${CONTRACTS.length} contracts: ` +
      `${coverage.measured} with rows of their own, ${coverage.inside} role-gated module calls measured inside ` +
      `those rows, ${coverage.governance} governance functions (parameters, roles, pause) without a row ` +
      `(reasons in scripts/gas/coverage.ts)`,
  );
  if (problems.length) {
    console.error("\ngas coverage FAILED:");
    for (const p of problems) console.error(`  ${p}`);
    exitCode = 1;
  }
  process.exit(exitCode);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
