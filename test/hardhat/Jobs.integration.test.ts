import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import type { ReentrantCallback, ReentrantStablecoin } from "../../typechain-types";
import {
  BOND,
  CHALLENGE_BOND,
  CHALLENGE_WINDOW,
  COLLATERAL_PER_USD,
  DAY,
  DISPUTE_TIMEOUT,
  FAULT_SLASH_BPS,
  FINDER_FEE_BPS,
  HOUR,
  JAIL,
  Kind,
  LATE_SLASH_BPS,
  MODEL,
  Outcome,
  PREMIUM_BPS,
  PRICE1,
  PRICE2,
  PROTOCOL_FEE_BPS,
  Skip,
  Status,
  UNITS_PER_VOUCHER,
  USDC,
  VOUCHER_PRICE,
  WAD,
  accept,
  deployJobsFixture,
  now,
  payment,
  request,
  signResult,
  submit,
  type JobsFixture,
} from "./jobsFixture";

/*
 * End-to-end job paths, each played for the three payment kinds, with every party's balances compared before and
 * after (see `snapshot`): requesters (vouchers, USDC, ComputeCredit, DailyCredit allowance and spend), providers
 * (market credit in USDC, ComputeCredit, bond / locked / open jobs / jail, engine work), the treasury's fee,
 * the coordinator's custody, the dispute module's bonds, the engine's epoch ledgers and the token supplies.
 *
 * Every test starts one minute into a fresh UTC day (day 0 below), so nothing straddles midnight by accident;
 * the tests that cross into day 1 do it on purpose.
 *
 * Expected values are derived from the fixture's constants with the protocol's rules:
 * - vouchers: escrow = ⌈maxUnits / 1 000⌉ whole vouchers; paid = ⌈unitsUsed / 1 000⌉; the rest returned;
 *   principal = paid × 1 USDC, fee = ⌈principal × 1 %⌉ to the treasury, principal − fee to the provider,
 *   principal × 10¹² USD of organic revenue and work;
 * - credits: escrow = maxUnits × cap; paid = unitsUsed × the provider's price; the rest refunded (DailyCredit:
 *   subsidy burned back into its epoch, allowance restored only on the same day);
 * - collateral = ⌈value × collateralPerUsd / 10¹⁸⌉, value = the escrowed vouchers' USD value (escrow × 1 USDC ×
 *   10¹²; never the provider's own price) for voucher jobs, maxUnits × the provider's price for credit jobs;
 *   late slash = ⌈collateral × 10 %⌉ burned; fault slash = 10 % of the bond, half to the challenger, half
 *   burned; jail 30 days.
 */

const KINDS = [Kind.Voucher, Kind.DailyCredit, Kind.ComputeCredit] as const;
const KIND_NAME: Record<Kind, string> = {
  [Kind.Voucher]: "voucher",
  [Kind.DailyCredit]: "DailyCredit",
  [Kind.ComputeCredit]: "ComputeCredit",
};
const CLASS = 1n;
const MAX_UNITS = 2_500n; // 3 vouchers
const PARTIAL_UNITS = 1_001n; // 2 vouchers
const BPS = 10_000n;
const USDC_TO_USD = 10n ** 12n;
const TRIGGER = "0xdeadbeef"; // selector that makes a ReentrantCallback proxy make its armed call

function ceilDiv(a: bigint, b: bigint) {
  return (a + b - 1n) / b;
}

// ------------------------------------------------------------------------------------------------ state

type State = Record<string, bigint>;
interface Ctx {
  f: JobsFixture;
  /** The UTC day (= engine epoch) the test starts in. */
  day: bigint;
}

/** Loads the fixture and moves to one minute past the start of the next UTC day. */
async function setup(): Promise<Ctx> {
  const f = await loadFixture(deployJobsFixture);
  const day = (await now()) / DAY + 1n;
  await time.increaseTo(day * DAY + 60n);
  return { f, day };
}

/** Every balance a job can touch, keyed "party.field" (engine ledgers "day0.field" / "day1.field"). */
async function snapshot(ctx: Ctx, extra: Record<string, string> = {}): Promise<State> {
  const { f, day } = ctx;
  const usdc = await f.usdc.getAddress();
  const accounts: Record<string, string> = {
    alice: f.alice.address,
    bob: f.bob.address,
    provider1: f.provider1.address,
    provider2: f.provider2.address,
    treasury: f.treasury.address,
    challenger: f.challenger.address,
    outsider: f.outsider.address,
    coordinator: await f.coordinator.getAddress(),
    disputes: await f.disputes.getAddress(),
    registry: await f.registry.getAddress(),
    market: await f.market.getAddress(),
    ...extra,
  };
  const reads: [string, Promise<bigint>][] = [];
  for (const [name, a] of Object.entries(accounts)) {
    reads.push([`${name}.vouchers`, f.market.balanceOf(a, CLASS)]);
    reads.push([`${name}.usdc`, f.usdc.balanceOf(a)]);
    reads.push([`${name}.usdcOwed`, f.market.owed(a, usdc)]);
    reads.push([`${name}.credit`, f.computeCredit.balanceOf(a)]);
    reads.push([`${name}.tokens`, f.token.balanceOf(a)]);
    reads.push([`${name}.allowance`, f.dailyCredit.dailyAllowance(a)]);
    reads.push([`${name}.spentToday`, f.dailyCredit.spentToday(a)]);
    for (const i of [0n, 1n]) reads.push([`${name}.work.day${i}`, f.engine.providerWork(day + i, a)]);
  }
  for (const name of ["provider1", "provider2"]) {
    const record = f.registry.getProvider(accounts[name]);
    reads.push([`${name}.bond`, record.then((r) => r.bond)]);
    reads.push([`${name}.locked`, record.then((r) => r.locked)]);
    reads.push([`${name}.openJobs`, record.then((r) => r.openJobs)]);
    reads.push([`${name}.jailedUntil`, record.then((r) => r.jailedUntil)]);
  }
  for (const i of [0n, 1n]) {
    const ledger = f.engine.epochLedger(day + i);
    for (const field of [
      "workUsd",
      "subsidisedWorkUsd",
      "voucherRevenueUsd",
      "subsidyMintedUsd",
      "organicCreditUsd",
    ] as const) {
      reads.push([`day${i}.${field}`, ledger.then((l) => l[field])]);
    }
  }
  reads.push(["supply.tokens", f.token.totalSupply()]);
  reads.push(["supply.credit", f.computeCredit.totalSupply()]);
  reads.push(["supply.vouchers", f.market["totalSupply(uint256)"](CLASS)]);
  reads.push(["market.escrowed", f.market.escrowed(CLASS)]);
  const values = await Promise.all(reads.map(([, p]) => p));
  return Object.fromEntries(reads.map(([k], i) => [k, values[i]]));
}

function changes(before: State, after: State): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(after)) {
    if (after[key] !== before[key]) out[key] = (after[key] - before[key]).toString();
  }
  return out;
}

function nonZero(d: State): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(d)) if (v !== 0n) out[key] = v.toString();
  return out;
}

/** Asserts that exactly the `expected` changes happened since `before` (every other value unchanged). */
async function expectChanges(ctx: Ctx, before: State, expected: State, extra: Record<string, string> = {}) {
  const after = await snapshot(ctx, extra);
  expect(changes(before, after)).to.deep.equal(nonZero(expected));
  return after;
}

function add(d: State, key: string, v: bigint) {
  d[key] = (d[key] ?? 0n) + v;
  return d;
}

function merge(...ds: State[]): State {
  const out: State = {};
  for (const d of ds) for (const [k, v] of Object.entries(d)) add(out, k, v);
  return out;
}

function negate(d: State): State {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, -v]));
}

// ------------------------------------------------------------------------------------------------ jobs

type Requester = "alice" | "bob";
type ProviderName = "provider1" | "provider2";
const PRICE: Record<ProviderName, bigint> = { provider1: PRICE1, provider2: PRICE2 };

interface Terms {
  kind: Kind;
  requester: Requester;
  provider: ProviderName;
  maxUnits: bigint;
  /** Requester's USD cap per unit (credit kinds). */
  cap: bigint;
  /** The accepting provider's price per unit. */
  price: bigint;
}

function terms(kind: Kind, o: Partial<Omit<Terms, "kind" | "price">> = {}): Terms {
  const provider = o.provider ?? "provider1";
  return {
    kind,
    requester: o.requester ?? "alice",
    provider,
    maxUnits: o.maxUnits ?? MAX_UNITS,
    cap: o.cap ?? PRICE2,
    price: PRICE[provider],
  };
}

function signerOf(f: JobsFixture, name: Requester | ProviderName) {
  return f[name];
}

function attestorOf(f: JobsFixture, provider: ProviderName) {
  return provider === "provider1" ? f.signer1 : f.signer2;
}

/** Escrow of a job: whole vouchers, or USD. */
function escrowOf(t: Terms) {
  return t.kind === Kind.Voucher ? ceilDiv(t.maxUnits, UNITS_PER_VOUCHER) : t.maxUnits * t.cap;
}

/** Collateral of a job: its value at stake for the requester in USD × collateralPerUsd, rounded up. */
function collateralOf(t: Terms) {
  const value = t.kind === Kind.Voucher ? escrowOf(t) * VOUCHER_PRICE * USDC_TO_USD : t.maxUnits * t.price;
  return ceilDiv(value * COLLATERAL_PER_USD, WAD);
}

/** What a settled job pays the provider and refunds the requester, in the job's escrow unit. */
function payoutOf(t: Terms, unitsUsed: bigint) {
  const paid = t.kind === Kind.Voucher ? ceilDiv(unitsUsed, UNITS_PER_VOUCHER) : unitsUsed * t.price;
  return { paid, refunded: escrowOf(t) - paid };
}

/** Changes of a request: the escrow moves from the requester into the coordinator's custody. */
function requested(t: Terms): State {
  const d: State = {};
  const e = escrowOf(t);
  const r = t.requester;
  if (t.kind === Kind.Voucher) {
    add(d, `${r}.vouchers`, -e);
    add(d, "coordinator.vouchers", e);
  } else if (t.kind === Kind.DailyCredit) {
    add(d, `${r}.spentToday`, e);
    add(d, `${r}.allowance`, -e);
    add(d, "day0.subsidyMintedUsd", e);
    add(d, "supply.credit", e);
    add(d, "coordinator.credit", e);
  } else {
    add(d, `${r}.credit`, -e);
    add(d, "coordinator.credit", e);
  }
  return d;
}

/** Changes of a full refund on the day of the request (cancel, expiry, upheld challenge). */
function refundedInFull(t: Terms): State {
  return negate(requested(t));
}

function accepted(t: Terms): State {
  return { [`${t.provider}.locked`]: collateralOf(t), [`${t.provider}.openJobs`]: 1n };
}

function released(t: Terms): State {
  return negate(accepted(t));
}

/** Changes of a voucher redemption of `vouchers` for `provider`, work recorded on `workDay`. */
function redeemed(provider: ProviderName, vouchers: bigint, workDay = 0n): State {
  const d: State = {};
  if (vouchers === 0n) return d;
  const principal = vouchers * VOUCHER_PRICE;
  const fee = ceilDiv(principal * PROTOCOL_FEE_BPS, BPS);
  const usd = principal * USDC_TO_USD;
  add(d, `${provider}.usdcOwed`, principal - fee);
  add(d, "treasury.usdcOwed", fee);
  add(d, `day${workDay}.voucherRevenueUsd`, usd);
  add(d, `day${workDay}.workUsd`, usd);
  add(d, `${provider}.work.day${workDay}`, usd);
  add(d, "supply.vouchers", -vouchers);
  add(d, "market.escrowed", -principal);
  return d;
}

/**
 * Changes of a settlement (finalize or rejected / timed-out challenge) apart from the voucher redemption, which a
 * batch aggregates per provider: collateral released, refund, credit paid, credit work recorded on `workDay`.
 * `sameDay`: settled on the UTC day of the request (the DailyCredit allowance comes back only then).
 */
function settledExceptRedemption(
  t: Terms,
  unitsUsed: bigint,
  o: { workDay?: bigint; sameDay?: boolean } = {},
) {
  const workDay = o.workDay ?? 0n;
  const sameDay = o.sameDay ?? true;
  const d = released(t);
  const e = escrowOf(t);
  const { paid, refunded } = payoutOf(t, unitsUsed);
  const r = t.requester;
  if (t.kind === Kind.Voucher) {
    add(d, "coordinator.vouchers", -e);
    add(d, `${r}.vouchers`, refunded);
    return d;
  }
  add(d, "coordinator.credit", -e);
  add(d, `${t.provider}.credit`, paid);
  add(d, `${t.provider}.work.day${workDay}`, paid);
  add(d, `day${workDay}.workUsd`, paid);
  if (t.kind === Kind.DailyCredit) {
    add(d, `day${workDay}.subsidisedWorkUsd`, paid);
    add(d, "day0.subsidyMintedUsd", -refunded);
    add(d, "supply.credit", -refunded);
    if (sameDay) {
      add(d, `${r}.spentToday`, -refunded);
      add(d, `${r}.allowance`, refunded);
    }
  } else {
    add(d, `${r}.credit`, refunded);
  }
  return d;
}

/** Changes of a single job's settlement, redemption included. */
function settled(t: Terms, unitsUsed: bigint, o: { workDay?: bigint; sameDay?: boolean } = {}) {
  const d = settledExceptRedemption(t, unitsUsed, o);
  if (t.kind !== Kind.Voucher) return d;
  return merge(d, redeemed(t.provider, payoutOf(t, unitsUsed).paid, o.workDay ?? 0n));
}

/** Requests (and by default accepts) a job on `t`'s terms; returns its id. */
async function open(ctx: Ctx, t: Terms, o: { deadline?: bigint; accept?: boolean; named?: boolean } = {}) {
  const { f } = ctx;
  const jobId = await request(f, t.kind, {
    requester: signerOf(f, t.requester),
    maxUnits: t.maxUnits,
    deadline: o.deadline,
    provider: o.named ? signerOf(f, t.provider).address : undefined,
    pay: payment(t.kind, t.kind === Kind.Voucher ? CLASS : t.cap),
  });
  if (o.accept ?? true) await accept(f, jobId, signerOf(f, t.provider));
  return jobId;
}

async function submitFor(ctx: Ctx, t: Terms, jobId: bigint, unitsUsed: bigint) {
  return submit(ctx.f, jobId, unitsUsed, {
    provider: signerOf(ctx.f, t.provider),
    signer: attestorOf(ctx.f, t.provider),
  });
}

async function timestampOf(tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  return BigInt((await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp);
}

async function expectEmptyCustody(f: JobsFixture) {
  const coordinator = await f.coordinator.getAddress();
  expect(await f.market.balanceOf(coordinator, CLASS)).to.equal(0n);
  expect(await f.computeCredit.balanceOf(coordinator)).to.equal(0n);
}

/** Decoded coordinator events of a transaction, in order, as [name, ...args] tuples. */
async function coordinatorEvents(f: JobsFixture, tx: ContractTransactionResponse, names: string[]) {
  const receipt = await tx.wait();
  const address = await f.coordinator.getAddress();
  const out: unknown[][] = [];
  for (const log of receipt!.logs) {
    if (log.address !== address) continue;
    const parsed = f.coordinator.interface.parseLog(log);
    if (parsed && names.includes(parsed.name)) out.push([parsed.name, ...parsed.args.toArray()]);
  }
  return out;
}

// ================================================================================================= tests

describe("Jobs integration: every path, every payment kind", () => {
  for (const kind of KINDS) {
    const name = KIND_NAME[kind];

    describe(`${name} jobs`, () => {
      // ------------------------------------------------------------------------------------- 1. happy path

      describe("settlement after the challenge window", () => {
        it(`${name}: a job that uses every unit at the capped price pays the provider the whole escrow`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind, { provider: "provider2" }); // price == cap: nothing to refund
          const s0 = await snapshot(ctx);

          const jobId = await open(ctx, t, { accept: false });
          const s1 = await expectChanges(ctx, s0, requested(t));
          expect((await f.coordinator.getJob(jobId)).escrow).to.equal(escrowOf(t));

          await accept(f, jobId, f.provider2);
          const s2 = await expectChanges(ctx, s1, accepted(t));
          expect((await f.coordinator.getJob(jobId)).collateral).to.equal(collateralOf(t));

          await submitFor(ctx, t, jobId, MAX_UNITS);
          const s3 = await expectChanges(ctx, s2, {});

          const { challengeEnds } = await f.coordinator.getJob(jobId);
          await time.setNextBlockTimestamp(challengeEnds - 1n);
          await expect(f.coordinator.connect(f.outsider).finalize(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "ChallengeWindowOpen")
            .withArgs(jobId, challengeEnds);

          const { paid, refunded } = payoutOf(t, MAX_UNITS);
          expect(refunded).to.equal(0n);
          expect(paid).to.equal(escrowOf(t));
          await time.setNextBlockTimestamp(challengeEnds);
          await expect(f.coordinator.connect(f.outsider).finalize(jobId))
            .to.emit(f.coordinator, "JobFinalized")
            .withArgs(jobId, f.provider2.address, paid, 0n);
          await expectChanges(ctx, s3, settled(t, MAX_UNITS));

          // End to end: the requester paid exactly the escrow, the provider got it (less the voucher fee).
          await expectChanges(ctx, s0, merge(requested(t), accepted(t), settled(t, MAX_UNITS)));
          expect((await f.coordinator.getJob(jobId)).status).to.equal(Status.Finalized);
          await expectEmptyCustody(f);
        });

        it(`${name}: a provider priced below the cap is paid at its own price for full usage`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind, { provider: "provider1" });
          const s0 = await snapshot(ctx);
          const jobId = await open(ctx, t);
          await submitFor(ctx, t, jobId, MAX_UNITS);
          await time.increase(CHALLENGE_WINDOW);

          const { paid, refunded } = payoutOf(t, MAX_UNITS);
          // Vouchers: all three are spent; credits: the cap difference (PRICE2 − PRICE1) × units comes back.
          expect(refunded).to.equal(kind === Kind.Voucher ? 0n : MAX_UNITS * (PRICE2 - PRICE1));
          await expect(f.coordinator.finalize(jobId))
            .to.emit(f.coordinator, "JobFinalized")
            .withArgs(jobId, f.provider1.address, paid, refunded);
          await expectChanges(ctx, s0, merge(requested(t), accepted(t), settled(t, MAX_UNITS)));
          await expectEmptyCustody(f);
        });

        // --------------------------------------------------------------------------------- 2. partial usage

        it(`${name}: partial usage pays only the units used and refunds the rest`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const jobId = await open(ctx, t);
          await submitFor(ctx, t, jobId, PARTIAL_UNITS);
          await time.increase(CHALLENGE_WINDOW);
          const s1 = await snapshot(ctx);

          const { paid, refunded } = payoutOf(t, PARTIAL_UNITS);
          if (kind === Kind.Voucher) {
            // 1,001 units start a second voucher, which is spent whole; the third comes back.
            expect([paid, refunded]).to.deep.equal([2n, 1n]);
          } else {
            expect(paid).to.equal(PARTIAL_UNITS * PRICE1);
            expect(refunded).to.equal(MAX_UNITS * PRICE2 - PARTIAL_UNITS * PRICE1);
          }
          const tx = await f.coordinator.finalize(jobId);
          await expect(tx)
            .to.emit(f.coordinator, "JobFinalized")
            .withArgs(jobId, f.provider1.address, paid, refunded);
          if (kind === Kind.DailyCredit) {
            const coordinator = await f.coordinator.getAddress();
            await expect(tx)
              .to.emit(f.dailyCredit, "AllowanceRefunded")
              .withArgs(f.alice.address, coordinator, ctx.day, refunded);
            await expect(tx)
              .to.emit(f.engine, "SubsidisedCreditsReturned")
              .withArgs(ctx.day, coordinator, refunded);
          }
          await expectChanges(ctx, s1, settled(t, PARTIAL_UNITS));
          await expectChanges(ctx, s0, merge(requested(t), accepted(t), settled(t, PARTIAL_UNITS)));
          if (kind === Kind.DailyCredit) {
            // Same day: only what the job used stays spent, and only that much subsidy stays minted.
            expect(await f.dailyCredit.spentToday(f.alice)).to.equal(paid);
            expect((await f.engine.epochLedger(ctx.day)).subsidyMintedUsd).to.equal(paid);
          }
          await expectEmptyCustody(f);
        });

        it(`${name}: a result that used no units pays nothing, refunds everything and frees the collateral`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const jobId = await open(ctx, t);
          await submitFor(ctx, t, jobId, 0n);
          await time.increase(CHALLENGE_WINDOW);
          await expect(f.coordinator.finalize(jobId))
            .to.emit(f.coordinator, "JobFinalized")
            .withArgs(jobId, f.provider1.address, 0n, escrowOf(t));
          // Nothing paid: the net change is zero for everyone (no work recorded, no voucher redeemed).
          await expectChanges(ctx, s0, {});
        });

        if (kind === Kind.DailyCredit) {
          it("DailyCredit: settled on the next UTC day, the unused subsidy still returns but the allowance does not", async () => {
            const ctx = await setup();
            const { f, day } = ctx;
            const t = terms(kind);
            const jobId = await open(ctx, t);
            await submitFor(ctx, t, jobId, PARTIAL_UNITS);
            expect(await f.dailyCredit.spentToday(f.alice)).to.equal(escrowOf(t));

            await time.increaseTo((day + 1n) * DAY + 60n);
            const s1 = await snapshot(ctx);
            const fullAllowance = s1["alice.allowance"];
            const { paid, refunded } = payoutOf(t, PARTIAL_UNITS);
            const coordinator = await f.coordinator.getAddress();
            const tx = await f.coordinator.finalize(jobId);
            await expect(tx)
              .to.emit(f.coordinator, "JobFinalized")
              .withArgs(jobId, f.provider1.address, paid, refunded);
            await expect(tx)
              .to.emit(f.engine, "SubsidisedCreditsReturned")
              .withArgs(day, coordinator, refunded);
            await expect(tx).not.to.emit(f.dailyCredit, "AllowanceRefunded");
            // Work lands in day 1; the refund comes out of day 0's subsidy; day 1's allowance is untouched.
            await expectChanges(ctx, s1, settled(t, PARTIAL_UNITS, { workDay: 1n, sameDay: false }));
            expect(await f.dailyCredit.dailyAllowance(f.alice)).to.equal(fullAllowance);
            expect(await f.dailyCredit.spentToday(f.alice)).to.equal(0n);
            expect((await f.engine.epochLedger(day)).subsidyMintedUsd).to.equal(paid);
            expect((await f.engine.epochLedger(day + 1n)).subsidyMintedUsd).to.equal(0n);
            await expectEmptyCustody(f);
          });
        }
      });

      // ------------------------------------------------------------------------------------------ 3. cancel

      describe("cancel", () => {
        it(`${name}: the requester cancels an unaccepted job and gets the whole escrow back`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const jobId = await open(ctx, t, { accept: false });

          await expect(f.coordinator.connect(f.bob).cancel(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "NotJobParty")
            .withArgs(jobId, f.bob.address);
          await expect(f.coordinator.connect(f.alice).cancel(jobId))
            .to.emit(f.coordinator, "JobCancelled")
            .withArgs(jobId, escrowOf(t));
          await expectChanges(ctx, s0, {});
          expect((await f.coordinator.getJob(jobId)).status).to.equal(Status.Cancelled);

          // Terminal: no second refund, no acceptance.
          await expect(f.coordinator.connect(f.alice).cancel(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
            .withArgs(jobId, Status.Cancelled);
          await expect(f.coordinator.connect(f.provider1).acceptJob(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
            .withArgs(jobId, Status.Cancelled);
          await expectChanges(ctx, s0, {});
        });

        it(`${name}: an accepted job can no longer be cancelled`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const jobId = await open(ctx, t);
          const s1 = await snapshot(ctx);
          await expect(f.coordinator.connect(f.alice).cancel(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
            .withArgs(jobId, Status.Accepted);
          await expectChanges(ctx, s1, {});
        });
      });

      // ------------------------------------------------------------------------------------------ 4. expire

      describe("expiry", () => {
        it(`${name}: an unaccepted job expires at its deadline with a full refund and no slash`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const jobId = await open(ctx, t, { accept: false });
          const { deadline } = await f.coordinator.getJob(jobId);

          await time.setNextBlockTimestamp(deadline - 1n);
          await expect(f.coordinator.connect(f.outsider).expire(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "DeadlineNotReached")
            .withArgs(jobId, deadline);
          await time.setNextBlockTimestamp(deadline);
          await expect(f.coordinator.connect(f.outsider).expire(jobId))
            .to.emit(f.coordinator, "JobExpired")
            .withArgs(jobId, ethers.ZeroAddress, escrowOf(t), 0n);
          await expectChanges(ctx, s0, {});
          expect((await f.coordinator.getJob(jobId)).status).to.equal(Status.Expired);
          await expect(f.coordinator.connect(f.provider1).acceptJob(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
            .withArgs(jobId, Status.Expired);
        });

        it(`${name}: an accepted job without a result expires with a full refund and a burned late slash`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const jobId = await open(ctx, t);
          const { deadline } = await f.coordinator.getJob(jobId);
          const collateral = collateralOf(t);
          const slash = ceilDiv(collateral * LATE_SLASH_BPS, BPS);
          expect(slash).to.be.greaterThan(0n);

          await time.setNextBlockTimestamp(deadline);
          const signature = await signResult(f.signer1, f.coordinator, {
            jobId,
            modelId: MODEL,
            inputHash: ethers.id("hello"),
            outputHash: ethers.id("late"),
            unitsUsed: 1n,
          });
          await expect(
            f.coordinator.connect(f.provider1).submitResult(jobId, ethers.id("late"), 1n, signature),
          )
            .to.be.revertedWithCustomError(f.coordinator, "DeadlinePassed")
            .withArgs(jobId, deadline);

          await expect(f.coordinator.connect(f.outsider).expire(jobId))
            .to.emit(f.coordinator, "JobExpired")
            .withArgs(jobId, f.provider1.address, escrowOf(t), slash);
          await expectChanges(ctx, s0, {
            "provider1.bond": -slash,
            "registry.tokens": -slash,
            "supply.tokens": -slash,
          });
          const record = await f.registry.getProvider(f.provider1);
          expect([record.bond, record.locked, record.openJobs]).to.deep.equal([BOND - slash, 0n, 0n]);
          expect(await f.registry.isEligible(f.provider1, MODEL)).to.equal(true); // late is not jailed
          await expectEmptyCustody(f);
          await expect(f.coordinator.expire(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
            .withArgs(jobId, Status.Expired);
        });
      });

      // -------------------------------------------------------------------------------------- 5-7. disputes

      describe("challenges", () => {
        /** A submitted job under challenge by `challenger`; returns its id and the dispute's opening time. */
        async function challenged(ctx: Ctx, t: Terms, unitsUsed: bigint) {
          const { f } = ctx;
          const jobId = await open(ctx, t);
          await submitFor(ctx, t, jobId, unitsUsed);
          const tx = await f.disputes.connect(f.challenger).challenge(jobId);
          await expect(tx)
            .to.emit(f.disputes, "Challenged")
            .withArgs(jobId, f.challenger.address, f.provider1.address, CHALLENGE_BOND);
          await expect(tx).to.emit(f.coordinator, "JobChallenged").withArgs(jobId, f.provider1.address);
          return { jobId, openedAt: await timestampOf(tx) };
        }

        it(`${name}: an upheld challenge refunds the requester, slashes and jails the provider, rewards the challenger`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const { jobId } = await challenged(ctx, t, MAX_UNITS);
          await expectChanges(
            ctx,
            s0,
            merge(requested(t), accepted(t), {
              "challenger.tokens": -CHALLENGE_BOND,
              "disputes.tokens": CHALLENGE_BOND,
            }),
          );

          // A challenged job cannot be finalized, even after its window.
          await time.increase(CHALLENGE_WINDOW);
          await expect(f.coordinator.finalize(jobId))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
            .withArgs(jobId, Status.Challenged);

          await f.verifier.connect(f.arbiter1).vote(jobId, true);
          const total = (BOND * FAULT_SLASH_BPS) / BPS;
          const fee = (total * FINDER_FEE_BPS) / BPS;
          const tx = await f.disputes.connect(f.outsider).resolve(jobId);
          await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Upheld, total, fee);
          await expect(tx)
            .to.emit(f.coordinator, "JobFaulted")
            .withArgs(jobId, f.provider1.address, escrowOf(t));
          const resolvedAt = await timestampOf(tx);

          // The request, acceptance, full refund and release cancel out; what remains is the fault's price.
          await expectChanges(
            ctx,
            s0,
            merge(requested(t), accepted(t), refundedInFull(t), released(t), {
              "provider1.bond": -total,
              "provider1.jailedUntil": resolvedAt + JAIL,
              "registry.tokens": -total,
              "challenger.tokens": fee, // bond returned + finder's fee
              "supply.tokens": -(total - fee), // the rest burned
            }),
          );
          const record = await f.registry.getProvider(f.provider1);
          expect([record.bond, record.locked, record.openJobs]).to.deep.equal([BOND - total, 0n, 0n]);
          expect(record.jailedUntil).to.equal(resolvedAt + JAIL);
          expect(await f.registry.isEligible(f.provider1, MODEL)).to.equal(false);
          expect((await f.coordinator.getJob(jobId)).status).to.equal(Status.Faulted);
          expect((await f.disputes.getDispute(jobId)).outcome).to.equal(Outcome.Upheld);
          await expectEmptyCustody(f);

          // Jailed: cannot take new work until the term ends.
          const next = await open(ctx, terms(kind), { accept: false });
          await expect(f.coordinator.connect(f.provider1).acceptJob(next))
            .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
            .withArgs(next, f.provider1.address);
        });

        it(`${name}: a rejected challenge pays the provider as usual plus the challenger's bond`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const t = terms(kind);
          const s0 = await snapshot(ctx);
          const { jobId } = await challenged(ctx, t, PARTIAL_UNITS);
          await f.verifier.connect(f.arbiter1).vote(jobId, false);

          const { paid, refunded } = payoutOf(t, PARTIAL_UNITS);
          const tx = await f.disputes.connect(f.outsider).resolve(jobId);
          await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Rejected, 0n, 0n);
          await expect(tx)
            .to.emit(f.coordinator, "JobFinalized")
            .withArgs(jobId, f.provider1.address, paid, refunded);
          await expectChanges(
            ctx,
            s0,
            merge(requested(t), accepted(t), settled(t, PARTIAL_UNITS), {
              "challenger.tokens": -CHALLENGE_BOND,
              "provider1.tokens": CHALLENGE_BOND,
            }),
          );
          expect((await f.coordinator.getJob(jobId)).status).to.equal(Status.Finalized);
          expect(await f.registry.isEligible(f.provider1, MODEL)).to.equal(true);
          await expectEmptyCustody(f);
        });

        it(`${name}: an undecided challenge resolves for the provider after the timeout and returns the bond`, async () => {
          const ctx = await setup();
          const { f, day } = ctx;
          const t = terms(kind);
          const { jobId, openedAt } = await challenged(ctx, t, PARTIAL_UNITS);
          const timeoutAt = openedAt + DISPUTE_TIMEOUT;

          await expect(f.disputes.resolve(jobId))
            .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
            .withArgs(jobId, timeoutAt);
          await time.setNextBlockTimestamp(timeoutAt - 1n);
          await expect(f.disputes.resolve(jobId))
            .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
            .withArgs(jobId, timeoutAt);

          // The timeout lands on day 1: work is recorded there; DailyCredit's subsidy returns to day 0.
          await time.increaseTo(timeoutAt);
          expect(timeoutAt / DAY).to.equal(day + 1n);
          const s1 = await snapshot(ctx);
          const { paid, refunded } = payoutOf(t, PARTIAL_UNITS);
          const tx = await f.disputes.connect(f.outsider).resolve(jobId);
          await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.TimedOut, 0n, 0n);
          await expect(tx)
            .to.emit(f.coordinator, "JobFinalized")
            .withArgs(jobId, f.provider1.address, paid, refunded);
          await expectChanges(
            ctx,
            s1,
            merge(settled(t, PARTIAL_UNITS, { workDay: 1n, sameDay: false }), {
              "challenger.tokens": CHALLENGE_BOND,
              "disputes.tokens": -CHALLENGE_BOND,
            }),
          );
          expect((await f.disputes.getDispute(jobId)).outcome).to.equal(Outcome.TimedOut);
          await expectEmptyCustody(f);
        });

        // ---------------------------------------------------------------------- 10. finalize after resolve

        it(`${name}: a resolved job cannot be finalized or resolved again`, async () => {
          const ctx = await setup();
          const { f } = ctx;
          const faulted = (await challenged(ctx, terms(kind), MAX_UNITS)).jobId;
          const valid = (await challenged(ctx, terms(kind), MAX_UNITS)).jobId;
          await f.verifier.connect(f.arbiter1).vote(faulted, true);
          await f.verifier.connect(f.arbiter1).vote(valid, false);
          await f.disputes.resolve(valid); // before `faulted`, which jails provider1
          await f.disputes.resolve(faulted);
          await time.increase(CHALLENGE_WINDOW);
          const s1 = await snapshot(ctx);

          for (const [jobId, status] of [
            [faulted, Status.Faulted],
            [valid, Status.Finalized],
          ] as const) {
            await expect(f.coordinator.finalize(jobId))
              .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
              .withArgs(jobId, status);
            await expect(f.disputes.resolve(jobId))
              .to.be.revertedWithCustomError(f.disputes, "NoOpenDispute")
              .withArgs(jobId);
            await expect(f.disputes.connect(f.challenger).challenge(jobId))
              .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
              .withArgs(jobId, status);
          }
          await expectChanges(ctx, s1, {});
        });
      });

      // ------------------------------------------------------------------------------- 10. double finalize

      it(`${name}: a second finalize reverts and pays nothing more`, async () => {
        const ctx = await setup();
        const { f } = ctx;
        const t = terms(kind);
        const jobId = await open(ctx, t);
        await submitFor(ctx, t, jobId, PARTIAL_UNITS);
        await time.increase(CHALLENGE_WINDOW);
        await f.coordinator.finalize(jobId);
        const s1 = await snapshot(ctx);
        await expect(f.coordinator.finalize(jobId))
          .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
          .withArgs(jobId, Status.Finalized);
        const [settledCount, skipped] = await f.coordinator.finalizeBatch.staticCall([jobId, jobId]);
        expect(settledCount).to.equal(0n);
        expect(skipped).to.deep.equal([jobId, jobId]);
        await f.coordinator.finalizeBatch([jobId, jobId]);
        await expectChanges(ctx, s1, {});
      });

      // ---------------------------------------------------------------------------------------- 12. pause

      it(`${name}: a paused coordinator blocks new requests and acceptances but never an exit`, async () => {
        const ctx = await setup();
        const { f } = ctx;
        const t = terms(kind);
        const later = (await now()) + 3n * HOUR;
        const toFinalize = await open(ctx, t);
        await submitFor(ctx, t, toFinalize, PARTIAL_UNITS);
        const toSubmit = await open(ctx, t, { deadline: later });
        const toCancel = await open(ctx, t, { accept: false });
        const toExpire = await open(ctx, t);
        const toAccept = await open(ctx, t, { accept: false, deadline: later });
        const toResolve = await open(ctx, t);
        await submitFor(ctx, t, toResolve, MAX_UNITS);
        await f.disputes.connect(f.challenger).challenge(toResolve);

        await f.coordinator.connect(f.guardian).pause();

        await expect(request(f, kind)).to.be.revertedWithCustomError(f.coordinator, "EnforcedPause");
        await expect(f.coordinator.connect(f.provider1).acceptJob(toAccept)).to.be.revertedWithCustomError(
          f.coordinator,
          "EnforcedPause",
        );

        // Exits: submit, cancel, finalize, expire, dispute resolution.
        await submitFor(ctx, t, toSubmit, MAX_UNITS);
        await expect(f.coordinator.connect(f.alice).cancel(toCancel))
          .to.emit(f.coordinator, "JobCancelled")
          .withArgs(toCancel, escrowOf(t));
        await time.increase(CHALLENGE_WINDOW);
        const { paid, refunded } = payoutOf(t, PARTIAL_UNITS);
        await expect(f.coordinator.finalize(toFinalize))
          .to.emit(f.coordinator, "JobFinalized")
          .withArgs(toFinalize, f.provider1.address, paid, refunded);
        await expect(f.coordinator.expire(toExpire))
          .to.emit(f.coordinator, "JobExpired")
          .withArgs(
            toExpire,
            f.provider1.address,
            escrowOf(t),
            ceilDiv(collateralOf(t) * LATE_SLASH_BPS, BPS),
          );
        await f.verifier.connect(f.arbiter1).vote(toResolve, false);
        await expect(f.disputes.resolve(toResolve))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(toResolve, Outcome.Rejected, 0n, 0n);
        const full = payoutOf(t, MAX_UNITS);
        await expect(f.coordinator.finalize(toSubmit))
          .to.emit(f.coordinator, "JobFinalized")
          .withArgs(toSubmit, f.provider1.address, full.paid, full.refunded);

        const statuses = await Promise.all(
          [toFinalize, toSubmit, toCancel, toExpire, toAccept, toResolve].map(async (id) =>
            Number((await f.coordinator.getJob(id)).status),
          ),
        );
        expect(statuses).to.deep.equal([
          Status.Finalized,
          Status.Finalized,
          Status.Cancelled,
          Status.Expired,
          Status.Requested,
          Status.Finalized,
        ]);
      });
    });
  }

  // ---------------------------------------------------------------------------------------- 8. finalizeBatch

  describe("finalizeBatch", () => {
    for (const kind of KINDS) {
      const name = KIND_NAME[kind];

      it(`${name}: settles only the ready jobs, skips the others with their reason and pays each once`, async () => {
        const ctx = await setup();
        const { f } = ctx;
        const t = terms(kind);
        const deadline = (await now()) + 12n * HOUR;
        const ready = await open(ctx, t, { deadline });
        const windowOpen = await open(ctx, t, { deadline });
        const underChallenge = await open(ctx, t, { deadline });
        const notSubmitted = await open(ctx, t, { deadline });
        const alreadyFinal = await open(ctx, t, { deadline });
        const unknown = 999n;
        await submitFor(ctx, t, ready, PARTIAL_UNITS);
        await submitFor(ctx, t, alreadyFinal, MAX_UNITS);
        await submitFor(ctx, t, underChallenge, MAX_UNITS);
        await f.disputes.connect(f.challenger).challenge(underChallenge);
        await time.increase(CHALLENGE_WINDOW);
        await f.coordinator.finalize(alreadyFinal);
        await submitFor(ctx, t, windowOpen, MAX_UNITS);

        const ids = [ready, windowOpen, underChallenge, notSubmitted, unknown, ready, alreadyFinal];
        const [count, skipped] = await f.coordinator.connect(f.outsider).finalizeBatch.staticCall(ids);
        expect(count).to.equal(1n);
        expect(skipped).to.deep.equal([
          windowOpen,
          underChallenge,
          notSubmitted,
          unknown,
          ready,
          alreadyFinal,
        ]);

        const s1 = await snapshot(ctx);
        const tx = await f.coordinator.connect(f.outsider).finalizeBatch(ids);
        const { paid, refunded } = payoutOf(t, PARTIAL_UNITS);
        expect(await coordinatorEvents(f, tx, ["JobFinalized", "JobSkipped"])).to.deep.equal([
          ["JobFinalized", ready, f.provider1.address, paid, refunded],
          ["JobSkipped", windowOpen, BigInt(Skip.WindowOpen)],
          ["JobSkipped", underChallenge, BigInt(Skip.Challenged)],
          ["JobSkipped", notSubmitted, BigInt(Skip.NotSubmitted)],
          ["JobSkipped", unknown, BigInt(Skip.NotSubmitted)],
          ["JobSkipped", ready, BigInt(Skip.NotSubmitted)],
          ["JobSkipped", alreadyFinal, BigInt(Skip.NotSubmitted)],
        ]);
        // Exactly one settlement: `ready`, once.
        await expectChanges(ctx, s1, settled(t, PARTIAL_UNITS));
        expect((await f.coordinator.getJob(ready)).status).to.equal(Status.Finalized);
        expect((await f.coordinator.getJob(windowOpen)).status).to.equal(Status.Submitted);
        expect((await f.coordinator.getJob(underChallenge)).status).to.equal(Status.Challenged);
        expect((await f.coordinator.getJob(notSubmitted)).status).to.equal(Status.Accepted);
      });
    }

    it("aggregates a batch across two providers and all kinds: each provider is paid exactly its own jobs", async () => {
      const ctx = await setup();
      const { f } = ctx;
      const jobs: [Terms, bigint][] = [
        [terms(Kind.Voucher, { requester: "alice", provider: "provider1" }), PARTIAL_UNITS],
        [terms(Kind.Voucher, { requester: "bob", provider: "provider1" }), MAX_UNITS],
        [terms(Kind.Voucher, { requester: "alice", provider: "provider2" }), 500n],
        [terms(Kind.ComputeCredit, { requester: "alice", provider: "provider1" }), 2_000n],
        [terms(Kind.ComputeCredit, { requester: "bob", provider: "provider2" }), MAX_UNITS],
        [terms(Kind.DailyCredit, { requester: "bob", provider: "provider2" }), 1_234n],
        [terms(Kind.DailyCredit, { requester: "alice", provider: "provider1" }), 700n],
      ];
      const s0 = await snapshot(ctx);
      const ids: bigint[] = [];
      for (const [t, used] of jobs) {
        const id = await open(ctx, t);
        await submitFor(ctx, t, id, used);
        ids.push(id);
      }
      await time.increase(CHALLENGE_WINDOW);
      const s1 = await snapshot(ctx);
      expect(s1["provider1.openJobs"]).to.equal(4n);
      expect(s1["provider2.openJobs"]).to.equal(3n);

      const [count, skipped] = await f.coordinator.finalizeBatch.staticCall(ids);
      expect(count).to.equal(BigInt(jobs.length));
      expect(skipped).to.deep.equal([]);
      const tx = await f.coordinator.finalizeBatch(ids);

      // Expected: each job's refund and credit; vouchers redeemed once per (provider, class), fee on the sum.
      const expected: State[] = [];
      const vouchersOf: Record<ProviderName, bigint> = { provider1: 0n, provider2: 0n };
      const finalized: unknown[][] = [];
      jobs.forEach(([t, used], i) => {
        expected.push(settledExceptRedemption(t, used));
        const { paid, refunded } = payoutOf(t, used);
        if (t.kind === Kind.Voucher) vouchersOf[t.provider] += paid;
        finalized.push(["JobFinalized", ids[i], f[t.provider].address, paid, refunded]);
      });
      expected.push(redeemed("provider1", vouchersOf.provider1), redeemed("provider2", vouchersOf.provider2));
      expect(vouchersOf).to.deep.equal({ provider1: 2n + 3n, provider2: 1n });
      expect(await coordinatorEvents(f, tx, ["JobFinalized", "JobSkipped"])).to.deep.equal(finalized);
      await expectChanges(ctx, s1, merge(...expected));

      // Each provider's own sum, spelled out.
      const s2 = await snapshot(ctx);
      const fee = (v: bigint) => ceilDiv(v * VOUCHER_PRICE * PROTOCOL_FEE_BPS, BPS);
      expect(s2["provider1.usdcOwed"] - s0["provider1.usdcOwed"]).to.equal(5n * VOUCHER_PRICE - fee(5n));
      expect(s2["provider2.usdcOwed"] - s0["provider2.usdcOwed"]).to.equal(1n * VOUCHER_PRICE - fee(1n));
      expect(s2["provider1.credit"] - s0["provider1.credit"]).to.equal((2_000n + 700n) * PRICE1);
      expect(s2["provider2.credit"] - s0["provider2.credit"]).to.equal((MAX_UNITS + 1_234n) * PRICE2);
      expect(s2["provider1.work.day0"] - s0["provider1.work.day0"]).to.equal(
        5n * VOUCHER_PRICE * USDC_TO_USD + (2_000n + 700n) * PRICE1,
      );
      expect(s2["provider2.work.day0"] - s0["provider2.work.day0"]).to.equal(
        1n * VOUCHER_PRICE * USDC_TO_USD + (MAX_UNITS + 1_234n) * PRICE2,
      );
      expect(s2["day0.subsidisedWorkUsd"] - s0["day0.subsidisedWorkUsd"]).to.equal(
        700n * PRICE1 + 1_234n * PRICE2,
      );
      expect([
        s2["provider1.openJobs"],
        s2["provider1.locked"],
        s2["provider2.openJobs"],
        s2["provider2.locked"],
      ]).to.deep.equal([0n, 0n, 0n, 0n]);
      await expectEmptyCustody(f);
    });

    it("rejects an empty batch and one above MAX_BATCH", async () => {
      const { f } = await setup();
      const max = await f.coordinator.MAX_BATCH();
      await expect(f.coordinator.finalizeBatch([]))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidBatchSize")
        .withArgs(0n, max);
      const tooMany = Array.from({ length: Number(max) + 1 }, (_, i) => BigInt(i + 1));
      await expect(f.coordinator.finalizeBatch(tooMany))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidBatchSize")
        .withArgs(max + 1n, max);
    });
  });

  // ---------------------------------------------------------------------------------------- 9. signatures

  describe("result attestations", () => {
    const OUTPUT = ethers.id("world");
    const UNITS = 1_500n;

    /** An accepted voucher job of provider1 and a helper that signs a Result for it, overridable field by field. */
    async function acceptedJob() {
      const ctx = await setup();
      const { f } = ctx;
      const jobId = await open(ctx, terms(Kind.Voucher));
      const job = await f.coordinator.getJob(jobId);
      const sign = (
        o: {
          signer?: HardhatEthersSigner;
          jobId?: bigint;
          outputHash?: string;
          unitsUsed?: bigint;
          chainId?: bigint;
          verifyingContract?: string;
        } = {},
      ) =>
        signResult(
          o.signer ?? f.signer1,
          o.verifyingContract ?? f.coordinator,
          {
            jobId: o.jobId ?? jobId,
            modelId: job.modelId,
            inputHash: job.inputHash,
            outputHash: o.outputHash ?? OUTPUT,
            unitsUsed: o.unitsUsed ?? UNITS,
          },
          o.chainId,
        );
      /** The address the coordinator recovers from `signature` for the submitted (OUTPUT, UNITS). */
      const recovered = async (signature: string) =>
        ethers.recoverAddress(
          await f.coordinator.resultDigest(jobId, job.modelId, job.inputHash, OUTPUT, UNITS),
          signature,
        );
      return { ctx, f, jobId, sign, recovered };
    }

    it("rejects every signature that is not the attestation signer's over exactly this result", async () => {
      const { ctx, f, jobId, sign, recovered } = await acceptedJob();
      const { chainId } = await ethers.provider.getNetwork();
      const cases: [string, string][] = [
        ["provider's main key", await sign({ signer: f.provider1 })],
        ["another chain id", await sign({ chainId: chainId + 1n })],
        ["another coordinator", await sign({ verifyingContract: await f.market.getAddress() })],
        ["another job id", await sign({ jobId: jobId + 1n })],
        ["other units", await sign({ unitsUsed: UNITS - 1n })],
        ["another output", await sign({ outputHash: ethers.id("other") })],
        ["another provider's signer", await sign({ signer: f.signer2 })],
      ];
      const s0 = await snapshot(ctx);
      for (const [, signature] of cases) {
        const who = await recovered(signature);
        expect(who).to.not.equal(f.signer1.address);
        await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT, UNITS, signature))
          .to.be.revertedWithCustomError(f.coordinator, "InvalidAttestation")
          .withArgs(jobId, who, f.signer1.address);
      }
      expect(await recovered(cases[0][1])).to.equal(f.provider1.address);
      // A malformed signature recovers nobody.
      await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT, UNITS, "0x1234"))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidAttestation")
        .withArgs(jobId, ethers.ZeroAddress, f.signer1.address);
      await expectChanges(ctx, s0, {});
      expect((await f.coordinator.getJob(jobId)).status).to.equal(Status.Accepted);
    });

    it("accepts the valid signature once; a replay after submission fails on the status", async () => {
      const { f, jobId, sign } = await acceptedJob();
      const signature = await sign();
      await expect(f.coordinator.connect(f.outsider).submitResult(jobId, OUTPUT, UNITS, signature))
        .to.be.revertedWithCustomError(f.coordinator, "NotJobParty")
        .withArgs(jobId, f.outsider.address);
      const tx = await f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT, UNITS, signature);
      const challengeEnds = (await timestampOf(tx)) + CHALLENGE_WINDOW;
      await expect(tx)
        .to.emit(f.coordinator, "ResultSubmitted")
        .withArgs(jobId, f.provider1.address, OUTPUT, UNITS, challengeEnds);
      await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT, UNITS, signature))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Submitted);
      const job = await f.coordinator.getJob(jobId);
      expect([job.outputHash, job.unitsUsed, job.challengeEnds]).to.deep.equal([
        OUTPUT,
        UNITS,
        challengeEnds,
      ]);
    });

    it("a valid signature for one job cannot be replayed on another job with identical terms", async () => {
      const { ctx, f, jobId, sign, recovered } = await acceptedJob();
      const other = await open(ctx, terms(Kind.Voucher));
      const forFirst = await sign();
      await f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT, UNITS, forFirst);
      const job = await f.coordinator.getJob(other);
      const who = ethers.recoverAddress(
        await f.coordinator.resultDigest(other, job.modelId, job.inputHash, OUTPUT, UNITS),
        forFirst,
      );
      expect(who).to.not.equal(await recovered(forFirst));
      await expect(f.coordinator.connect(f.provider1).submitResult(other, OUTPUT, UNITS, forFirst))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidAttestation")
        .withArgs(other, who, f.signer1.address);
    });

    it("after registry.setSigner the new signer's attestation is accepted and the old one's refused", async () => {
      const { f, jobId, sign, recovered } = await acceptedJob();
      const rotated = f.arbiter2; // any fresh key
      await f.registry.connect(f.provider1).setSigner(rotated.address);
      expect(await f.registry.signerOf(f.provider1)).to.equal(rotated.address);

      const old = await sign();
      await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT, UNITS, old))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidAttestation")
        .withArgs(jobId, await recovered(old), rotated.address);
      expect(await recovered(old)).to.equal(f.signer1.address);
      await expect(
        f.coordinator
          .connect(f.provider1)
          .submitResult(jobId, OUTPUT, UNITS, await sign({ signer: rotated })),
      )
        .to.emit(f.coordinator, "ResultSubmitted")
        .withArgs(jobId, f.provider1.address, OUTPUT, UNITS, anyValue);
    });
  });

  // ---------------------------------------------------------------------------------------- 11. reentrancy

  describe("reentrancy and hostile counterparties", () => {
    const CLASS2 = 2n;

    /** Voucher class 2 paid in a stablecoin that re-enters on transfer; alice holds 10 of its vouchers. */
    async function hostileClass() {
      const ctx = await setup();
      const { f } = ctx;
      const rToken = (await (
        await ethers.getContractFactory("ReentrantStablecoin")
      ).deploy()) as unknown as ReentrantStablecoin;
      await f.market
        .connect(f.admin)
        .createClass(
          MODEL,
          await rToken.getAddress(),
          UNITS_PER_VOUCHER,
          VOUCHER_PRICE,
          Number(PREMIUM_BPS),
          0,
          0,
        );
      await rToken.mint(f.alice.address, 100n * USDC);
      await rToken.connect(f.alice).approve(await f.market.getAddress(), ethers.MaxUint256);
      await f.market.connect(f.alice).buy(CLASS2, 10n, ethers.MaxUint256, f.alice.address);
      const t = terms(Kind.Voucher);
      const job = async () => {
        const id = await request(f, Kind.Voucher, { pay: payment(Kind.Voucher, CLASS2) });
        await accept(f, id, f.provider1);
        await submitFor(ctx, t, id, MAX_UNITS);
        return id;
      };
      const principal = escrowOf(t) * VOUCHER_PRICE;
      const fee = ceilDiv(principal * PROTOCOL_FEE_BPS, BPS);
      return { ctx, f, rToken, job, pay: principal - fee, fee };
    }

    it("a stablecoin re-entering coordinator.finalize during market.withdraw fails and pays nothing twice", async () => {
      const { f, rToken, job, pay, fee } = await hostileClass();
      const a = await job();
      const b = await job();
      await time.increase(CHALLENGE_WINDOW);
      await f.coordinator.finalize(a);
      expect(await f.market.owed(f.provider1, rToken)).to.equal(pay);

      // While withdraw runs, the token tries to settle job b: its redemption hits the market's lock.
      await rToken.arm(
        await f.coordinator.getAddress(),
        f.coordinator.interface.encodeFunctionData("finalize", [b]),
      );
      await expect(f.market.connect(f.outsider).withdraw(f.provider1, rToken))
        .to.emit(f.market, "Withdrawn")
        .withArgs(f.provider1.address, await rToken.getAddress(), pay);
      expect(await rToken.attempted()).to.equal(true);
      expect(await rToken.innerSucceeded()).to.equal(false);
      expect(await rToken.innerReturnData()).to.equal(
        f.market.interface.getError("ReentrancyGuardReentrantCall")!.selector,
      );
      expect(await rToken.balanceOf(f.provider1)).to.equal(pay);
      expect(await f.market.owed(f.provider1, rToken)).to.equal(0n);
      expect((await f.coordinator.getJob(b)).status).to.equal(Status.Submitted);

      // Job b then settles normally, exactly once.
      await f.coordinator.finalize(b);
      await expect(f.coordinator.finalize(b))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(b, Status.Finalized);
      await f.market.withdraw(f.provider1, rToken);
      expect(await rToken.balanceOf(f.provider1)).to.equal(2n * pay);
      expect(await f.market.owed(f.treasury, rToken)).to.equal(2n * fee);
      // Market holds exactly the principal of the 4 vouchers left plus the treasury's credit.
      expect(await rToken.balanceOf(f.market)).to.equal(4n * VOUCHER_PRICE + 2n * fee);
      expect(await f.market.escrowed(CLASS2)).to.equal(4n * VOUCHER_PRICE);
    });

    it("a stablecoin re-entering market.withdraw during market.withdraw fails with ReentrancyGuardReentrantCall", async () => {
      const { f, rToken, job, pay, fee } = await hostileClass();
      const a = await job();
      await time.increase(CHALLENGE_WINDOW);
      await f.coordinator.finalize(a);
      const market = await f.market.getAddress();
      const reentrancy = f.market.interface.getError("ReentrancyGuardReentrantCall")!.selector;

      for (const [account, other] of [
        [f.provider1, f.treasury], // re-enter for another account that is owed
        [f.treasury, f.treasury], // re-enter for the same account
      ] as const) {
        const owedBefore = await f.market.owed(account, rToken);
        const balanceBefore = await rToken.balanceOf(account);
        await rToken.arm(
          market,
          f.market.interface.encodeFunctionData("withdraw", [other.address, await rToken.getAddress()]),
        );
        await f.market.connect(f.outsider).withdraw(account, rToken);
        expect(await rToken.attempted()).to.equal(true);
        expect(await rToken.innerSucceeded()).to.equal(false);
        expect(await rToken.innerReturnData()).to.equal(reentrancy);
        expect((await rToken.balanceOf(account)) - balanceBefore).to.equal(owedBefore);
        expect(await f.market.owed(account, rToken)).to.equal(0n);
      }
      expect(await rToken.balanceOf(f.provider1)).to.equal(pay);
      // The treasury got its fee and its premium from the purchase, nothing more.
      const premium = ceilDiv(10n * VOUCHER_PRICE * PREMIUM_BPS, BPS);
      expect(await rToken.balanceOf(f.treasury)).to.equal(fee + premium);
      expect(await rToken.balanceOf(f.market)).to.equal(await f.market.escrowed(CLASS2));
    });

    it("a requester contract that rejects ERC-1155 transfers still gets its unused vouchers back", async () => {
      const ctx = await setup();
      const { f } = ctx;
      const proxy = (await (
        await ethers.getContractFactory("ReentrantCallback")
      ).deploy()) as unknown as ReentrantCallback;
      const proxyAddress = await proxy.getAddress();
      const receivedSelector = ethers
        .id("onERC1155Received(address,address,uint256,uint256,bytes)")
        .slice(0, 10);
      const coder = ethers.AbiCoder.defaultAbiCoder();
      const call = async (target: string, data: string) => {
        await proxy.arm(target, data, TRIGGER);
        await f.outsider.sendTransaction({ to: proxyAddress, data: TRIGGER });
      };

      // The contract accepts vouchers only while it buys them, then refuses every ERC-1155 transfer.
      await proxy.setAnswer(receivedSelector, coder.encode(["bytes4"], [receivedSelector]));
      await f.market.connect(f.alice).buy(CLASS, 6n, ethers.MaxUint256, proxyAddress);
      await proxy.setAnswer(receivedSelector, coder.encode(["bytes4"], ["0xffffffff"]));
      await expect(f.market.connect(f.alice).safeTransferFrom(f.alice, proxyAddress, CLASS, 1n, "0x"))
        .to.be.revertedWithCustomError(f.market, "ERC1155InvalidReceiver")
        .withArgs(proxyAddress);

      await call(
        await f.market.getAddress(),
        f.market.interface.encodeFunctionData("setApprovalForAll", [await f.coordinator.getAddress(), true]),
      );
      const requestData = async () =>
        f.coordinator.interface.encodeFunctionData("requestJob", [
          MODEL,
          ethers.id("hello"),
          ethers.toUtf8Bytes("ipfs://input"),
          MAX_UNITS,
          payment(Kind.Voucher, CLASS),
          (await now()) + HOUR,
          ethers.ZeroAddress,
        ]);
      const coordinator = await f.coordinator.getAddress();
      const escrow = ceilDiv(MAX_UNITS, UNITS_PER_VOUCHER);

      // Cancel: the whole escrow comes back without a hook.
      await call(coordinator, await requestData());
      const cancelled = await f.coordinator.jobCount();
      expect((await f.coordinator.getJob(cancelled)).requester).to.equal(proxyAddress);
      expect(await f.market.balanceOf(proxyAddress, CLASS)).to.equal(6n - escrow);
      await call(coordinator, f.coordinator.interface.encodeFunctionData("cancel", [cancelled]));
      expect((await f.coordinator.getJob(cancelled)).status).to.equal(Status.Cancelled);
      expect(await f.market.balanceOf(proxyAddress, CLASS)).to.equal(6n);

      // Partial settlement: the unused voucher comes back without a hook.
      await call(coordinator, await requestData());
      const settledJob = await f.coordinator.jobCount();
      await accept(f, settledJob, f.provider1);
      await submit(f, settledJob, PARTIAL_UNITS);
      await time.increase(CHALLENGE_WINDOW);
      const { paid, refunded } = payoutOf(terms(Kind.Voucher), PARTIAL_UNITS);
      await expect(f.coordinator.finalize(settledJob))
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(settledJob, f.provider1.address, paid, refunded);
      expect(await f.market.balanceOf(proxyAddress, CLASS)).to.equal(6n - paid);
      await expectEmptyCustody(f);
    });
  });

  // ---------------------------------------------------------------------------------------- 13. withdraw

  describe("provider payout in stablecoin", () => {
    it("anyone can trigger market.withdraw for the provider and the treasury; the USDC goes to them, once", async () => {
      const ctx = await setup();
      const { f } = ctx;
      const t = terms(Kind.Voucher);
      const jobId = await open(ctx, t);
      await submitFor(ctx, t, jobId, MAX_UNITS);
      await time.increase(CHALLENGE_WINDOW);
      await f.coordinator.finalize(jobId);

      const principal = escrowOf(t) * VOUCHER_PRICE;
      const fee = ceilDiv(principal * PROTOCOL_FEE_BPS, BPS);
      const usdc = await f.usdc.getAddress();
      const s0 = await snapshot(ctx);
      expect(s0["provider1.usdcOwed"]).to.equal(principal - fee);
      expect(s0["treasury.usdcOwed"]).to.equal(fee);

      await expect(f.market.connect(f.outsider).withdraw(f.provider1, usdc))
        .to.emit(f.market, "Withdrawn")
        .withArgs(f.provider1.address, usdc, principal - fee);
      await expect(f.market.connect(f.bob).withdraw(f.treasury, usdc))
        .to.emit(f.market, "Withdrawn")
        .withArgs(f.treasury.address, usdc, fee);
      await expectChanges(ctx, s0, {
        "provider1.usdcOwed": -(principal - fee),
        "provider1.usdc": principal - fee,
        "treasury.usdcOwed": -fee,
        "treasury.usdc": fee,
        "market.usdc": -principal,
      });
      await expect(f.market.connect(f.outsider).withdraw(f.provider1, usdc)).to.be.revertedWithCustomError(
        f.market,
        "ZeroAmount",
      );
      // Invariant: the market holds exactly the escrow of the vouchers still in circulation.
      expect(await f.usdc.balanceOf(f.market)).to.equal(await f.market.escrowed(CLASS));
    });
  });
});
