/**
 * Gas benchmark of the job lifecycle (`npm run bench:gas`): plays each operation on a fresh in-process chain
 * deployed through the CinderJobs module, prints a table against the targets and writes the numbers to
 * bench/gas-snapshot.json (committed; `--check` compares against it instead, failing on a rise above 2 %).
 * Every number is gasUsed of a mined transaction in steady state: not the first job of its terms, accounts
 * already holding balances, as a provider's relayer sees them day to day.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
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

const SNAPSHOT = path.join(__dirname, "..", "bench", "gas-snapshot.json");
const TOLERANCE = 0.02;

type Row = { name: string; gas: number; target?: number };

async function gasOf(tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

let requests = 0;

async function requestGas(f: JobsFixture, kind: Kind, provider?: string) {
  const deadline = BigInt(await time.latest()) + HOUR;
  return gasOf(
    f.coordinator
      .connect(f.alice)
      .requestJob(
        MODEL,
        ethers.id(`bench-input-${++requests}`),
        ethers.toUtf8Bytes("ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"),
        2_500n,
        defaultPayment(kind),
        deadline,
        provider ?? ethers.ZeroAddress,
      ),
  );
}

async function main() {
  // Start one hour into a UTC day, so the whole run stays inside one epoch.
  const today = BigInt(await time.latest()) / 86_400n;
  await time.increaseTo((today + 1n) * 86_400n + HOUR);
  const f = await deployJobsFixture();
  const rows: Row[] = [];

  // Warm-up: one job of each kind through settlement, so terms, balances and today's ledgers exist; then one
  // job of each kind left in flight (accepted, not settled), as on a live network: custody, locked collateral
  // and open-job counters are non-zero, so the numbers below are the day-to-day cost, not first-write cost.
  for (const kind of [Kind.Voucher, Kind.DailyCredit, Kind.ComputeCredit]) {
    const id = await request(f, kind);
    await accept(f, id);
    await submit(f, id, 1_200n);
  }
  await time.increase(HOUR);
  for (let id = 1n; id <= 3n; ++id) await f.coordinator.finalize(id);
  for (const kind of [Kind.Voucher, Kind.DailyCredit, Kind.ComputeCredit]) {
    await accept(
      f,
      await request(f, kind, {
        input: `in-flight-${kind}`,
        deadline: BigInt(await time.latest()) + 20n * HOUR,
      }),
    );
  }

  rows.push({ name: "requestJob (voucher, open)", gas: await requestGas(f, Kind.Voucher), target: 120_000 });
  const voucherJob = await f.coordinator.jobCount();
  rows.push({
    name: "requestJob (voucher, direct)",
    gas: await requestGas(f, Kind.Voucher, f.provider1.address),
  });
  rows.push({ name: "requestJob (DailyCredit)", gas: await requestGas(f, Kind.DailyCredit) });
  rows.push({ name: "requestJob (ComputeCredit)", gas: await requestGas(f, Kind.ComputeCredit) });
  const creditJob = await f.coordinator.jobCount();

  rows.push({
    name: "acceptJob (voucher)",
    gas: await gasOf(f.coordinator.connect(f.provider1).acceptJob(voucherJob)),
    target: 70_000,
  });
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
  rows.push({
    name: "submitResult",
    gas: await gasOf(
      f.coordinator.connect(f.provider1).submitResult(voucherJob, outputHash, 1_200n, signature),
    ),
    target: 90_000,
  });
  await submit(f, creditJob, 1_200n);
  await time.increase(HOUR);
  rows.push({
    name: "finalize (voucher)",
    gas: await gasOf(f.coordinator.finalize(voucherJob)),
    target: 70_000,
  });
  rows.push({ name: "finalize (ComputeCredit)", gas: await gasOf(f.coordinator.finalize(creditJob)) });

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
  rows.push({ name: "finalizeBatch (50 voucher jobs)", gas: batchGas });
  rows.push({ name: "finalizeBatch, per job", gas: Math.round(batchGas / 50), target: 35_000 });

  const expiring = await request(f, Kind.Voucher, { input: "late" });
  await accept(f, expiring);
  const cancelled = await request(f, Kind.Voucher, { input: "cancel" });
  rows.push({ name: "cancel (voucher)", gas: await gasOf(f.coordinator.connect(f.alice).cancel(cancelled)) });
  await time.increase(HOUR);
  rows.push({ name: "expire (accepted, late slash)", gas: await gasOf(f.coordinator.expire(expiring)) });

  const disputed = await request(f, Kind.Voucher, { input: "disputed" });
  await accept(f, disputed);
  await submit(f, disputed, 1_000n);
  rows.push({ name: "challenge", gas: await gasOf(f.disputes.connect(f.challenger).challenge(disputed)) });
  rows.push({
    name: "vote (arbiter)",
    gas: await gasOf(f.verifier.connect(f.arbiter1).vote(disputed, true)),
  });
  rows.push({ name: "resolve (fault upheld)", gas: await gasOf(f.disputes.resolve(disputed)) });

  print(rows);
  const snapshot = Object.fromEntries(rows.map((r) => [r.name, r.gas]));
  if (process.argv.includes("--check") || process.env.GAS_CHECK === "1") check(snapshot);
  else {
    writeFileSync(SNAPSHOT, JSON.stringify(snapshot, null, 2) + "\n");
    console.log(`\nsnapshot written to ${path.relative(process.cwd(), SNAPSHOT)}`);
  }
}

function print(rows: Row[]) {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n${"operation".padEnd(width)}  ${"gas".padStart(9)}  ${"target".padStart(9)}  status`);
  console.log("-".repeat(width + 32));
  for (const r of rows) {
    const target = r.target ? r.target.toLocaleString("en-US").padStart(9) : "".padStart(9);
    const status = r.target ? (r.gas <= r.target ? "ok" : `MISS (+${r.gas - r.target})`) : "";
    console.log(
      `${r.name.padEnd(width)}  ${r.gas.toLocaleString("en-US").padStart(9)}  ${target}  ${status}`,
    );
  }
}

function check(current: Record<string, number>) {
  if (!existsSync(SNAPSHOT)) throw new Error(`no snapshot at ${SNAPSHOT}: run npm run bench:gas first`);
  const saved = JSON.parse(readFileSync(SNAPSHOT, "utf8")) as Record<string, number>;
  const regressions = Object.entries(current).filter(([name, gas]) => {
    const before = saved[name];
    return before !== undefined && gas > before * (1 + TOLERANCE);
  });
  for (const [name, gas] of regressions) console.error(`gas regression: ${name} ${saved[name]} -> ${gas}`);
  if (regressions.length) process.exit(1);
  console.log(`\ngas within ${TOLERANCE * 100} % of the snapshot`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
