import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { JobCoordinator } from "../../typechain-types";
import {
  BOND,
  CHALLENGE_WINDOW,
  COLLATERAL_PER_USD,
  DAY,
  DISPUTE_TIMEOUT,
  HOUR,
  Kind,
  LATE_SLASH_BPS,
  MODEL,
  OTHER_MODEL,
  PRICE1,
  PRICE2,
  PROTOCOL_FEE_BPS,
  ROLES,
  Skip,
  Status,
  PREMIUM_BPS,
  UNITS_PER_VOUCHER,
  USDC,
  VOUCHER_PRICE,
  WAD,
  accept,
  defaultPayment,
  deployJobsFixture,
  now,
  payment,
  request,
  signResult,
  submit,
  type JobsFixture,
} from "./jobsFixture";

/*
 * Branch list (EigenLayer `.tree` style) — every leaf has a test below.
 *
 * constructor
 * ├── any of registry / market / daily / credit / engine / admin == 0 → ZeroAddress
 * ├── challengeWindow ∉ [1 min, 7 days] → ParameterOutOfBounds("challengeWindow", v, 60, 7 days)
 * ├── minJobDuration < 1 min or > max → ParameterOutOfBounds("minJobDuration", v, 60, max)
 * ├── maxJobDuration > 30 days → ParameterOutOfBounds("maxJobDuration", v, min, 30 days)
 * ├── collateralPerUsd ∉ (0, 1e24] → ParameterOutOfBounds("collateralPerUsd", v, 1, 1e24)
 * ├── lateSlashBps > 10 000 → ParameterOutOfBounds("lateSlashBps", v, 0, 10 000)
 * └── otherwise: admin role, parameters stored, no dispute module (slashableWindow = challengeWindow)
 * requestJob (whenNotPaused → EnforcedPause)
 * ├── inputHash == 0 → EmptyHash ── maxUnits == 0 → ZeroAmount ── maxUnits > 2^32−1 → ParameterOutOfBounds("maxUnits")
 * ├── inputRef > MAX_INPUT_REF → InputRefTooLong(len, max)                      (MAX_INPUT_REF accepted)
 * ├── deadline ∉ [now + min, now + max] → InvalidDeadline(deadline, earliest, latest) (both ends accepted)
 * ├── open request: model unknown or inactive → ModelMismatch(model, 0)
 * ├── direct request: provider not eligible (not offering, unregistered, jailed) → ProviderNotEligible(0, provider)
 * ├── voucher: not approved → VoucherMarket NotApproved ── class of another model → ModelMismatch(model, classModel)
 * │   └── ceil(maxUnits / unitsPerVoucher) vouchers requester → coordinator
 * ├── credit: classId ≠ 0, cap == 0, cap > 2^96−1 → InvalidPayment                (2^96−1 accepted)
 * ├── DailyCredit: allowance spent (InsufficientDailyAllowance), same USD of subsidised credit minted here
 * ├── ComputeCredit: maxUnits × cap pulled (ERC-20 allowance / balance errors)
 * ├── terms table: (model, class) terms reused; credit and voucher terms of one model coexist
 * └── JobRequested(jobId, requester, model, terms, inputRef); ids from 1; jobCount
 * acceptJob (whenNotPaused)
 * ├── unknown → UnknownJob ── not Requested → InvalidJobStatus ── now ≥ deadline → DeadlinePassed
 * ├── named provider ≠ caller, or caller ineligible (jailed / unregistered / not offering / exiting / model
 * │   deactivated) → ProviderNotEligible(jobId, caller)
 * ├── credit: price > cap → PriceAboveCap(price, cap) (price == cap accepted); price stored
 * ├── collateral = ceil(value × collateralPerUsd / 1e18), rounded up, value = what the requester has at stake:
 * │   ├── voucher: ceil(maxUnits / unitsPerVoucher) × the class's price in USD (stablecoin decimals scaled to 18),
 * │   │   whatever the provider's own price (even 1 wei); same USD price in 6 or 18 decimals → same collateral
 * │   └── credit: maxUnits × the provider's price
 * ├── collateral > free bond → InsufficientFreeBond(provider, free, collateral)
 * └── collateral locked (registry locked, openJobs), JobAccepted(jobId, provider, collateral, price | 0)
 * submitResult (never paused)
 * ├── unknown → UnknownJob ── not Accepted → InvalidJobStatus ── caller ≠ provider → NotJobParty
 * ├── now ≥ deadline → DeadlinePassed ── outputHash == 0 → EmptyHash ── units > maxUnits → UnitsExceedMax
 * ├── signature not by the provider's signer (wrong key, other fields, other contract, malformed) → InvalidAttestation
 * └── Submitted, challengeEnds = now + challengeWindow, ResultSubmitted
 * finalize (never paused): unknown → UnknownJob; not Submitted → InvalidJobStatus; now < challengeEnds →
 *   ChallengeWindowOpen; otherwise pays used units, refunds the rest, releases collateral, JobFinalized
 * finalizeBatch: 0 or > 100 ids → InvalidBatchSize; settles ready jobs, skips the rest with a reason, each job once
 * expire (never paused): unknown → UnknownJob; not Requested/Accepted → InvalidJobStatus; now < deadline →
 *   DeadlineNotReached; full refund; accepted: ceil(collateral × lateSlashBps / 10 000) burned, collateral released
 * cancel: unknown → UnknownJob; not Requested → InvalidJobStatus; not the requester → NotJobParty; full refund
 * markChallenged / resolveChallenge: only DISPUTE_ROLE; status and window checks; valid → Finalized, fault → Faulted
 * governance (only DEFAULT_ADMIN): setChallengeWindow, setJobDurationBounds, setCollateralPerUsd, setLateSlashBps
 *   (bounds, ParameterUpdated), setDisputeModule (ZeroAddress, slashable window ≤ unbonding, role moved,
 *   DisputeModuleUpdated); pause only GUARDIAN, unpause only admin
 * views: getJob (UnknownJob, full view at each stage), jobCount, resultDigest (EIP-712), slashableWindow, constants
 */

const MAX_UINT32 = 2n ** 32n - 1n;
const MAX_UINT96 = 2n ** 96n - 1n;
const MAX_INPUT_REF = 2_048n;
const MAX_BATCH = 100n;
const MIN_WINDOW = 60n;
const MAX_WINDOW = 7n * DAY;
const MAX_JOB_DURATION = 30n * DAY;
const MAX_COLLATERAL_PER_USD = 10n ** 24n;
const BPS = 10_000n;
const UNBONDING = 7n * DAY; // CinderMarket default
const MIN_JOB_DURATION = 60n; // CinderJobs default
const MAX_JOB = DAY; // CinderJobs default
const UNITS = 2_500n; // the `request` helper's default maxUnits
const INPUT_REF = ethers.hexlify(ethers.toUtf8Bytes("ipfs://input"));
const INPUT_HASH = ethers.id("hello");
const OUTPUT_HASH = ethers.id("world");
const ZERO_HASH = ethers.ZeroHash;

const param = (name: string) => ethers.encodeBytes32String(name);
const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;
const vouchersFor = (units: bigint) => ceilDiv(units, UNITS_PER_VOUCHER);
/** Voucher class 1's value per voucher in USD (18 decimals): its USDC (6 decimals) price scaled up. */
const USD_PER_VOUCHER = (VOUCHER_PRICE * WAD) / USDC;
/** Collateral of a credit job: ceil(maxUnits × the provider's price × collateralPerUsd / 1e18). */
const creditCollateral = (maxUnits: bigint, price: bigint, perUsd = COLLATERAL_PER_USD) =>
  ceilDiv(maxUnits * price * perUsd, WAD);
/** Collateral of a class-1 voucher job: ceil(escrowed vouchers × USD per voucher × collateralPerUsd / 1e18). */
const voucherCollateral = (maxUnits: bigint, perUsd = COLLATERAL_PER_USD) =>
  ceilDiv(vouchersFor(maxUnits) * USD_PER_VOUCHER * perUsd, WAD);

const RESULT_TYPES = {
  Result: [
    { name: "jobId", type: "uint256" },
    { name: "modelId", type: "bytes32" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "unitsUsed", type: "uint256" },
  ],
};
/** The coordinator's EIP-712 domain, built independently of the contract. */
async function domainOf(coordinator: JobCoordinator) {
  return {
    name: "Cinder JobCoordinator",
    version: "1",
    chainId: (await ethers.provider.getNetwork()).chainId,
    verifyingContract: await coordinator.getAddress(),
  };
}

type Config = {
  challengeWindow: bigint;
  minJobDuration: bigint;
  maxJobDuration: bigint;
  collateralPerUsd: bigint;
  lateSlashBps: bigint;
};
const CONFIG: Config = {
  challengeWindow: CHALLENGE_WINDOW,
  minJobDuration: MIN_JOB_DURATION,
  maxJobDuration: MAX_JOB,
  collateralPerUsd: COLLATERAL_PER_USD,
  lateSlashBps: LATE_SLASH_BPS,
};

/** The jobs fixture, deployed one hour into a fresh UTC day, so DailyCredit days and engine epochs never roll. */
async function fixture() {
  await time.increaseTo((BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR);
  const f = await deployJobsFixture();
  // A DISPUTE_ROLE holder to drive markChallenged / resolveChallenge directly.
  await f.coordinator.connect(f.admin).grantRole(ROLES.DISPUTE, f.arbiter2.address);
  return { ...f, disputer: f.arbiter2 };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

type JobView = Awaited<ReturnType<JobCoordinator["getJob"]>>;
/** A job view as a plain object, so one deep equality checks every field. */
function plain(v: JobView) {
  return {
    status: Number(v.status),
    kind: Number(v.kind),
    requester: v.requester,
    provider: v.provider,
    modelId: v.modelId,
    inputHash: v.inputHash,
    outputHash: v.outputHash,
    classId: v.classId,
    maxUnits: v.maxUnits,
    unitsUsed: v.unitsUsed,
    deadline: v.deadline,
    challengeEnds: v.challengeEnds,
    escrow: v.escrow,
    pricePerUnit: v.pricePerUnit,
    collateral: v.collateral,
    fundedDay: v.fundedDay,
  };
}
async function viewOf(f: JobsFixture, jobId: bigint) {
  return plain(await f.coordinator.getJob(jobId));
}

/** Requests with the coordinator call directly (for revert checks), defaults as the fixture's `request`. */
function requestTx(
  f: JobsFixture,
  o: {
    from?: HardhatEthersSigner;
    modelId?: string;
    inputHash?: string;
    inputRef?: string | Uint8Array;
    maxUnits?: bigint;
    pay?: ReturnType<typeof payment>;
    deadline: bigint;
    provider?: string;
  },
) {
  return f.coordinator
    .connect(o.from ?? f.alice)
    .requestJob(
      o.modelId ?? MODEL,
      o.inputHash ?? INPUT_HASH,
      o.inputRef ?? INPUT_REF,
      o.maxUnits ?? UNITS,
      o.pay ?? defaultPayment(Kind.Voucher),
      o.deadline,
      o.provider ?? ethers.ZeroAddress,
    );
}

/** Requests, accepts (provider1) and submits (`unitsUsed`) a job; returns its id and challenge end. */
async function submitted(
  f: Fixture,
  kind: Kind,
  unitsUsed = 1_500n,
  opts: Parameters<typeof request>[2] = {},
) {
  const jobId = await request(f, kind, opts);
  await accept(f, jobId);
  await submit(f, jobId, unitsUsed);
  return { jobId, challengeEnds: (await f.coordinator.getJob(jobId)).challengeEnds };
}

async function deployCoordinator(f: JobsFixture, config: Partial<Config> = {}, addresses?: string[]) {
  const factory = await ethers.getContractFactory("JobCoordinator");
  const a = addresses ?? [
    await f.registry.getAddress(),
    await f.market.getAddress(),
    await f.dailyCredit.getAddress(),
    await f.computeCredit.getAddress(),
    await f.engine.getAddress(),
    f.admin.address,
  ];
  return factory.deploy(a[0], a[1], a[2], a[3], a[4], a[5], { ...CONFIG, ...config });
}

describe("JobCoordinator", () => {
  describe("constructor", () => {
    it("stores the parameters, grants the admin and starts without a dispute module", async () => {
      const f = await loadFixture(fixture);
      const config = {
        challengeWindow: 2n * HOUR,
        minJobDuration: 5n * 60n,
        maxJobDuration: 2n * DAY,
        collateralPerUsd: 3n * WAD,
        lateSlashBps: 250n,
      };
      const c = await deployCoordinator(f, config);
      expect(await c.challengeWindow()).to.equal(config.challengeWindow);
      expect(await c.jobDurationBounds()).to.deep.equal([config.minJobDuration, config.maxJobDuration]);
      expect(await c.collateralPerUsd()).to.equal(config.collateralPerUsd);
      expect(await c.lateSlashBps()).to.equal(config.lateSlashBps);
      expect(await c.disputeModule()).to.equal(ethers.ZeroAddress);
      expect(await c.slashableWindow()).to.equal(config.challengeWindow);
      expect(await c.jobCount()).to.equal(0n);
      expect(await c.hasRole(ROLES.DEFAULT_ADMIN, f.admin.address)).to.equal(true);
      expect(await c.hasRole(ROLES.DEFAULT_ADMIN, f.outsider.address)).to.equal(false);
      const deployment = c.deploymentTransaction()!;
      await expect(deployment)
        .to.emit(c, "ParameterUpdated")
        .withArgs(param("challengeWindow"), 0n, config.challengeWindow);
      await expect(deployment)
        .to.emit(c, "ParameterUpdated")
        .withArgs(param("lateSlashBps"), 0n, config.lateSlashBps);
    });

    it("rejects a zero address for every dependency and the admin", async () => {
      const f = await loadFixture(fixture);
      const factory = await ethers.getContractFactory("JobCoordinator");
      const good = [
        await f.registry.getAddress(),
        await f.market.getAddress(),
        await f.dailyCredit.getAddress(),
        await f.computeCredit.getAddress(),
        await f.engine.getAddress(),
        f.admin.address,
      ];
      for (let i = 0; i < good.length; i++) {
        const addresses = good.map((a, j) => (j === i ? ethers.ZeroAddress : a));
        await expect(deployCoordinator(f, {}, addresses)).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
    });

    it("rejects every parameter outside its bounds and accepts the bounds themselves", async () => {
      const f = await loadFixture(fixture);
      const factory = await ethers.getContractFactory("JobCoordinator");
      const out = (config: Partial<Config>) =>
        expect(deployCoordinator(f, config)).to.be.revertedWithCustomError(factory, "ParameterOutOfBounds");

      await out({ challengeWindow: MIN_WINDOW - 1n }).withArgs(
        param("challengeWindow"),
        MIN_WINDOW - 1n,
        MIN_WINDOW,
        MAX_WINDOW,
      );
      await out({ challengeWindow: MAX_WINDOW + 1n }).withArgs(
        param("challengeWindow"),
        MAX_WINDOW + 1n,
        MIN_WINDOW,
        MAX_WINDOW,
      );
      await out({ minJobDuration: 59n }).withArgs(param("minJobDuration"), 59n, 60n, MAX_JOB);
      await out({ minJobDuration: MAX_JOB + 1n }).withArgs(
        param("minJobDuration"),
        MAX_JOB + 1n,
        60n,
        MAX_JOB,
      );
      await out({ maxJobDuration: MAX_JOB_DURATION + 1n }).withArgs(
        param("maxJobDuration"),
        MAX_JOB_DURATION + 1n,
        MIN_JOB_DURATION,
        MAX_JOB_DURATION,
      );
      await out({ collateralPerUsd: 0n }).withArgs(param("collateralPerUsd"), 0n, 1n, MAX_COLLATERAL_PER_USD);
      await out({ collateralPerUsd: MAX_COLLATERAL_PER_USD + 1n }).withArgs(
        param("collateralPerUsd"),
        MAX_COLLATERAL_PER_USD + 1n,
        1n,
        MAX_COLLATERAL_PER_USD,
      );
      await out({ lateSlashBps: BPS + 1n }).withArgs(param("lateSlashBps"), BPS + 1n, 0n, BPS);

      // No dispute module yet, so even the longest window is accepted.
      const atBounds = await deployCoordinator(f, {
        challengeWindow: MAX_WINDOW,
        minJobDuration: MAX_JOB_DURATION,
        maxJobDuration: MAX_JOB_DURATION,
        collateralPerUsd: MAX_COLLATERAL_PER_USD,
        lateSlashBps: BPS,
      });
      expect(await atBounds.challengeWindow()).to.equal(MAX_WINDOW);
      expect(await atBounds.jobDurationBounds()).to.deep.equal([MAX_JOB_DURATION, MAX_JOB_DURATION]);
      const atLowerBounds = await deployCoordinator(f, {
        challengeWindow: MIN_WINDOW,
        minJobDuration: 60n,
        maxJobDuration: 60n,
        collateralPerUsd: 1n,
        lateSlashBps: 0n,
      });
      expect(await atLowerBounds.collateralPerUsd()).to.equal(1n);
      expect(await atLowerBounds.lateSlashBps()).to.equal(0n);
    });
  });

  describe("deployment through CinderJobs", () => {
    it("wires the defaults and gives the DisputeModule DISPUTE_ROLE", async () => {
      const f = await loadFixture(fixture);
      const c = f.coordinator;
      expect(await c.challengeWindow()).to.equal(CHALLENGE_WINDOW);
      expect(await c.jobDurationBounds()).to.deep.equal([MIN_JOB_DURATION, MAX_JOB]);
      expect(await c.collateralPerUsd()).to.equal(COLLATERAL_PER_USD);
      expect(await c.lateSlashBps()).to.equal(LATE_SLASH_BPS);
      expect(await c.disputeModule()).to.equal(await f.disputes.getAddress());
      expect(await c.hasRole(ROLES.DISPUTE, await f.disputes.getAddress())).to.equal(true);
      expect(await c.DISPUTE_ROLE()).to.equal(ROLES.DISPUTE);
      expect(await c.MAX_INPUT_REF()).to.equal(MAX_INPUT_REF);
      expect(await c.MAX_BATCH()).to.equal(MAX_BATCH);
      expect(await c.RESULT_TYPEHASH()).to.equal(
        ethers.id(
          "Result(uint256 jobId,bytes32 modelId,bytes32 inputHash,bytes32 outputHash,uint256 unitsUsed)",
        ),
      );
    });
  });

  describe("requestJob", () => {
    describe("voucher payment", () => {
      it("moves ceil(maxUnits / unitsPerVoucher) vouchers from the requester into the coordinator's custody", async () => {
        const f = await loadFixture(fixture);
        const coordinator = await f.coordinator.getAddress();
        let held = 0n;
        for (const maxUnits of [1n, UNITS_PER_VOUCHER, UNITS_PER_VOUCHER + 1n, UNITS]) {
          const before = await f.market.balanceOf(f.alice.address, 1n);
          const jobId = await request(f, Kind.Voucher, { maxUnits });
          held += vouchersFor(maxUnits);
          expect(await f.market.balanceOf(f.alice.address, 1n)).to.equal(before - vouchersFor(maxUnits));
          expect(await f.market.balanceOf(coordinator, 1n)).to.equal(held);
          expect((await f.coordinator.getJob(jobId)).escrow).to.equal(vouchersFor(maxUnits));
        }
        expect(vouchersFor(UNITS)).to.equal(3n);
      });

      it("emits JobRequested with the terms and the input reference", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        await expect(requestTx(f, { deadline }))
          .to.emit(f.coordinator, "JobRequested")
          .withArgs(
            1n,
            f.alice.address,
            MODEL,
            [ethers.ZeroAddress, Kind.Voucher, 1n, INPUT_HASH, UNITS, vouchersFor(UNITS), deadline],
            INPUT_REF,
          );
      });

      it("rejects a voucher class of another model", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        await expect(requestTx(f, { modelId: OTHER_MODEL, deadline }))
          .to.be.revertedWithCustomError(f.coordinator, "ModelMismatch")
          .withArgs(OTHER_MODEL, MODEL);
        // Also for a direct request to a provider offering OTHER_MODEL.
        await expect(requestTx(f, { modelId: OTHER_MODEL, deadline, provider: f.provider1.address }))
          .to.be.revertedWithCustomError(f.coordinator, "ModelMismatch")
          .withArgs(OTHER_MODEL, MODEL);
      });

      it("fails with the market's NotApproved when the requester has not approved the coordinator", async () => {
        const f = await loadFixture(fixture);
        await f.market.connect(f.alice).setApprovalForAll(await f.coordinator.getAddress(), false);
        await expect(requestTx(f, { deadline: (await now()) + HOUR }))
          .to.be.revertedWithCustomError(f.market, "NotApproved")
          .withArgs(f.alice.address, await f.coordinator.getAddress());
      });

      it("fails with the market's errors for an unknown class or too few vouchers", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        await expect(requestTx(f, { pay: payment(Kind.Voucher, 7n), deadline }))
          .to.be.revertedWithCustomError(f.market, "UnknownClass")
          .withArgs(7n);
        // alice holds 100 vouchers: 100,001 units need 101.
        await expect(requestTx(f, { maxUnits: 100n * UNITS_PER_VOUCHER + 1n, deadline }))
          .to.be.revertedWithCustomError(f.market, "ERC1155InsufficientBalance")
          .withArgs(f.alice.address, 100n, 101n, 1n);
      });
    });

    describe("DailyCredit payment", () => {
      it("spends maxUnits × cap of the allowance and mints the same subsidised credit to the coordinator", async () => {
        const f = await loadFixture(fixture);
        const coordinator = await f.coordinator.getAddress();
        const escrow = UNITS * PRICE2;
        const allowance = await f.dailyCredit.dailyAllowance(f.alice.address);
        const epoch = await f.engine.currentEpoch();
        const subsidy = (await f.engine.epochLedger(epoch)).subsidyMintedUsd;
        const aliceCredit = await f.computeCredit.balanceOf(f.alice.address);

        const jobId = await request(f, Kind.DailyCredit);

        expect(await f.dailyCredit.spentToday(f.alice.address)).to.equal(escrow);
        expect(await f.dailyCredit.dailyAllowance(f.alice.address)).to.equal(allowance - escrow);
        expect(await f.computeCredit.balanceOf(coordinator)).to.equal(escrow);
        expect((await f.engine.epochLedger(epoch)).subsidyMintedUsd).to.equal(subsidy + escrow);
        expect(await f.computeCredit.balanceOf(f.alice.address)).to.equal(aliceCredit);
        const job = await f.coordinator.getJob(jobId);
        expect(job.escrow).to.equal(escrow);
        expect(job.fundedDay).to.equal(await f.dailyCredit.currentDay());
      });

      it("fails with InsufficientDailyAllowance when the escrow exceeds today's allowance", async () => {
        const f = await loadFixture(fixture);
        const allowance = await f.dailyCredit.dailyAllowance(f.alice.address);
        const maxUnits = allowance / PRICE2 + 1n;
        await expect(
          requestTx(f, { maxUnits, pay: defaultPayment(Kind.DailyCredit), deadline: (await now()) + HOUR }),
        )
          .to.be.revertedWithCustomError(f.dailyCredit, "InsufficientDailyAllowance")
          .withArgs(f.alice.address, allowance, maxUnits * PRICE2);
        // The whole allowance is fine.
        await request(f, Kind.DailyCredit, { maxUnits: allowance / PRICE2 });
        expect(await f.dailyCredit.dailyAllowance(f.alice.address)).to.equal(allowance % PRICE2);
      });
    });

    describe("ComputeCredit payment", () => {
      it("pulls maxUnits × cap of ComputeCredit into escrow", async () => {
        const f = await loadFixture(fixture);
        const escrow = UNITS * PRICE2;
        const tx = requestTx(f, { pay: defaultPayment(Kind.ComputeCredit), deadline: (await now()) + HOUR });
        await expect(tx).to.changeTokenBalances(f.computeCredit, [f.alice, f.coordinator], [-escrow, escrow]);
        const job = await f.coordinator.getJob(1n);
        expect(job.escrow).to.equal(escrow);
        expect(job.fundedDay).to.equal(0n);
        expect(await f.dailyCredit.spentToday(f.alice.address)).to.equal(0n);
      });

      it("fails with the token's error without an allowance", async () => {
        const f = await loadFixture(fixture);
        await f.computeCredit.connect(f.alice).approve(await f.coordinator.getAddress(), 0n);
        await expect(
          requestTx(f, { pay: defaultPayment(Kind.ComputeCredit), deadline: (await now()) + HOUR }),
        )
          .to.be.revertedWithCustomError(f.computeCredit, "ERC20InsufficientAllowance")
          .withArgs(await f.coordinator.getAddress(), 0n, UNITS * PRICE2);
      });
    });

    describe("validation", () => {
      it("rejects an empty input hash", async () => {
        const f = await loadFixture(fixture);
        await expect(
          requestTx(f, { inputHash: ZERO_HASH, deadline: (await now()) + HOUR }),
        ).to.be.revertedWithCustomError(f.coordinator, "EmptyHash");
      });

      it("rejects zero units and more than 2^32 − 1 units", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        const pay = payment(Kind.ComputeCredit, 1n); // 1 wei per unit: any unit count is affordable
        await expect(requestTx(f, { maxUnits: 0n, pay, deadline })).to.be.revertedWithCustomError(
          f.coordinator,
          "ZeroAmount",
        );
        await expect(requestTx(f, { maxUnits: MAX_UINT32 + 1n, pay, deadline }))
          .to.be.revertedWithCustomError(f.coordinator, "ParameterOutOfBounds")
          .withArgs(param("maxUnits"), MAX_UINT32 + 1n, 1n, MAX_UINT32);
        await requestTx(f, { maxUnits: MAX_UINT32, pay, deadline });
        const job = await f.coordinator.getJob(1n);
        expect(job.maxUnits).to.equal(MAX_UINT32);
        expect(job.escrow).to.equal(MAX_UINT32);
      });

      it("rejects an input reference longer than MAX_INPUT_REF and accepts one of exactly that length", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        await expect(requestTx(f, { inputRef: new Uint8Array(Number(MAX_INPUT_REF) + 1), deadline }))
          .to.be.revertedWithCustomError(f.coordinator, "InputRefTooLong")
          .withArgs(MAX_INPUT_REF + 1n, MAX_INPUT_REF);
        const longest = ethers.hexlify(new Uint8Array(Number(MAX_INPUT_REF)).fill(0xab));
        await expect(requestTx(f, { inputRef: longest, deadline }))
          .to.emit(f.coordinator, "JobRequested")
          .withArgs(
            1n,
            f.alice.address,
            MODEL,
            [ethers.ZeroAddress, Kind.Voucher, 1n, INPUT_HASH, UNITS, vouchersFor(UNITS), deadline],
            longest,
          );
      });

      it("rejects a deadline before now + minJobDuration or after now + maxJobDuration", async () => {
        const f = await loadFixture(fixture);
        /** Requests in a block at `t` (a fresh timestamp each time: a reverted request mines a block too). */
        const at = async (t: bigint, deadline: bigint) => {
          await time.setNextBlockTimestamp(t);
          return requestTx(f, { deadline });
        };
        let t = BigInt(await time.latest()) + 100n;
        for (const offset of [MIN_JOB_DURATION - 1n, MAX_JOB + 1n]) {
          const deadline = t + offset;
          await expect(at(t, deadline))
            .to.be.revertedWithCustomError(f.coordinator, "InvalidDeadline")
            .withArgs(deadline, t + MIN_JOB_DURATION, t + MAX_JOB);
          t += 1n;
        }
        // Both ends are accepted.
        await at(t, t + MIN_JOB_DURATION);
        await at(t + 1n, t + 1n + MAX_JOB);
        expect((await f.coordinator.getJob(1n)).deadline).to.equal(t + MIN_JOB_DURATION);
        expect((await f.coordinator.getJob(2n)).deadline).to.equal(t + 1n + MAX_JOB);
      });

      it("rejects an open request for an unknown or inactive model", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        const unknown = ethers.id("unknown-model");
        const pay = defaultPayment(Kind.ComputeCredit);
        await expect(requestTx(f, { modelId: unknown, pay, deadline }))
          .to.be.revertedWithCustomError(f.coordinator, "ModelMismatch")
          .withArgs(unknown, ZERO_HASH);
        await f.models.connect(f.admin).setActive(OTHER_MODEL, false);
        await expect(requestTx(f, { modelId: OTHER_MODEL, pay, deadline }))
          .to.be.revertedWithCustomError(f.coordinator, "ModelMismatch")
          .withArgs(OTHER_MODEL, ZERO_HASH);
        await f.models.connect(f.admin).setActive(OTHER_MODEL, true);
        await requestTx(f, { modelId: OTHER_MODEL, pay, deadline });
        expect((await f.coordinator.getJob(1n)).modelId).to.equal(OTHER_MODEL);
      });

      it("rejects a direct request to a provider that is not eligible for the model", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        const pay = defaultPayment(Kind.ComputeCredit);
        // Not offering the model.
        await expect(requestTx(f, { modelId: OTHER_MODEL, pay, deadline, provider: f.provider2.address }))
          .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
          .withArgs(0n, f.provider2.address);
        // Not registered.
        await expect(requestTx(f, { pay, deadline, provider: f.outsider.address }))
          .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
          .withArgs(0n, f.outsider.address);
        // Jailed.
        await f.registry.connect(f.admin).grantRole(ROLES.SLASHER, f.admin.address);
        await f.registry.connect(f.admin).jail(f.provider1.address, (await now()) + DAY);
        await expect(requestTx(f, { pay, deadline, provider: f.provider1.address }))
          .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
          .withArgs(0n, f.provider1.address);
        // An eligible provider is fine.
        await requestTx(f, { pay, deadline, provider: f.provider2.address });
        expect((await f.coordinator.getJob(1n)).provider).to.equal(f.provider2.address);
      });

      it("rejects a credit payment with a voucher class, a zero cap or a cap above 2^96 − 1", async () => {
        const f = await loadFixture(fixture);
        const deadline = (await now()) + HOUR;
        for (const kind of [Kind.DailyCredit, Kind.ComputeCredit]) {
          for (const pay of [
            { kind, classId: 1n, maxPricePerUnit: PRICE2 },
            { kind, classId: 0n, maxPricePerUnit: 0n },
            { kind, classId: 0n, maxPricePerUnit: MAX_UINT96 + 1n },
          ]) {
            await expect(requestTx(f, { pay, deadline })).to.be.revertedWithCustomError(
              f.coordinator,
              "InvalidPayment",
            );
          }
        }
        // 2^96 − 1 passes the check (and then fails only because alice cannot pay it).
        const balance = await f.computeCredit.balanceOf(f.alice.address);
        await expect(requestTx(f, { maxUnits: 1n, pay: payment(Kind.ComputeCredit, MAX_UINT96), deadline }))
          .to.be.revertedWithCustomError(f.computeCredit, "ERC20InsufficientBalance")
          .withArgs(f.alice.address, balance, MAX_UINT96);
      });

      it("is paused by the guardian and resumes when the admin unpauses", async () => {
        const f = await loadFixture(fixture);
        await f.coordinator.connect(f.guardian).pause();
        for (const kind of [Kind.Voucher, Kind.DailyCredit, Kind.ComputeCredit]) {
          await expect(
            requestTx(f, { pay: defaultPayment(kind), deadline: (await now()) + HOUR }),
          ).to.be.revertedWithCustomError(f.coordinator, "EnforcedPause");
        }
        await f.coordinator.connect(f.admin).unpause();
        expect(await request(f, Kind.Voucher)).to.equal(1n);
      });
    });

    it("numbers jobs from 1 and counts them", async () => {
      const f = await loadFixture(fixture);
      expect(await f.coordinator.jobCount()).to.equal(0n);
      expect(await request(f, Kind.Voucher)).to.equal(1n);
      expect(await request(f, Kind.DailyCredit, { requester: f.bob })).to.equal(2n);
      expect(await request(f, Kind.ComputeCredit)).to.equal(3n);
      expect(await f.coordinator.jobCount()).to.equal(3n);
      expect((await f.coordinator.getJob(2n)).requester).to.equal(f.bob.address);
    });

    it("records the named provider of a direct request in the event and the view", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      const pay = defaultPayment(Kind.ComputeCredit);
      await expect(requestTx(f, { pay, deadline, provider: f.provider2.address }))
        .to.emit(f.coordinator, "JobRequested")
        .withArgs(
          1n,
          f.alice.address,
          MODEL,
          [f.provider2.address, Kind.ComputeCredit, 0n, INPUT_HASH, UNITS, UNITS * PRICE2, deadline],
          INPUT_REF,
        );
      expect((await f.coordinator.getJob(1n)).provider).to.equal(f.provider2.address);
    });

    describe("terms table", () => {
      it("gives every job its own model and class, whichever terms were recorded before", async () => {
        const f = await loadFixture(fixture);
        const credit = defaultPayment(Kind.ComputeCredit);
        const jobs = [
          { kind: Kind.Voucher, modelId: MODEL, classId: 1n, maxUnits: 1_500n },
          { kind: Kind.ComputeCredit, modelId: MODEL, classId: 0n, maxUnits: 700n },
          { kind: Kind.DailyCredit, modelId: OTHER_MODEL, classId: 0n, maxUnits: 300n },
          { kind: Kind.Voucher, modelId: MODEL, classId: 1n, maxUnits: 4_200n },
          { kind: Kind.ComputeCredit, modelId: OTHER_MODEL, classId: 0n, maxUnits: 900n },
          { kind: Kind.ComputeCredit, modelId: MODEL, classId: 0n, maxUnits: 1_100n },
        ];
        for (const j of jobs) {
          const pay = j.kind === Kind.Voucher ? payment(Kind.Voucher, 1n) : { ...credit, kind: j.kind };
          await request(f, j.kind, { modelId: j.modelId, maxUnits: j.maxUnits, pay });
        }
        for (const [i, j] of jobs.entries()) {
          const v = await f.coordinator.getJob(BigInt(i + 1));
          expect(v.modelId).to.equal(j.modelId);
          expect(v.classId).to.equal(j.classId);
          expect(Number(v.kind)).to.equal(j.kind);
          expect(v.escrow).to.equal(j.kind === Kind.Voucher ? vouchersFor(j.maxUnits) : j.maxUnits * PRICE2);
        }
      });

      it("settles a credit job and a voucher job of the same model side by side", async () => {
        const f = await loadFixture(fixture);
        const voucherJob = (await submitted(f, Kind.Voucher, 1_500n)).jobId;
        const creditJob = (await submitted(f, Kind.ComputeCredit, 1_500n)).jobId;
        await time.increase(CHALLENGE_WINDOW);
        await expect(f.coordinator.finalize(voucherJob))
          .to.emit(f.coordinator, "JobFinalized")
          .withArgs(
            voucherJob,
            f.provider1.address,
            vouchersFor(1_500n),
            vouchersFor(UNITS) - vouchersFor(1_500n),
          );
        await expect(f.coordinator.finalize(creditJob))
          .to.emit(f.coordinator, "JobFinalized")
          .withArgs(creditJob, f.provider1.address, 1_500n * PRICE1, UNITS * PRICE2 - 1_500n * PRICE1);
        expect((await f.coordinator.getJob(voucherJob)).classId).to.equal(1n);
        expect((await f.coordinator.getJob(creditJob)).classId).to.equal(0n);
      });
    });
  });

  describe("getJob", () => {
    it("reverts for job 0 and ids beyond jobCount", async () => {
      const f = await loadFixture(fixture);
      await request(f, Kind.Voucher);
      for (const id of [0n, 2n]) {
        await expect(f.coordinator.getJob(id))
          .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
          .withArgs(id);
      }
    });

    it("reports a voucher job in full at each stage", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      await requestTx(f, { deadline });
      const requested = {
        status: Status.Requested,
        kind: Kind.Voucher,
        requester: f.alice.address,
        provider: ethers.ZeroAddress,
        modelId: MODEL,
        inputHash: INPUT_HASH,
        outputHash: ZERO_HASH,
        classId: 1n,
        maxUnits: UNITS,
        unitsUsed: 0n,
        deadline,
        challengeEnds: 0n,
        escrow: vouchersFor(UNITS),
        pricePerUnit: 0n,
        collateral: 0n,
        fundedDay: 0n,
      };
      expect(await viewOf(f, 1n)).to.deep.equal(requested);

      await accept(f, 1n);
      const accepted = {
        ...requested,
        status: Status.Accepted,
        provider: f.provider1.address,
        collateral: voucherCollateral(UNITS),
      };
      expect(await viewOf(f, 1n)).to.deep.equal(accepted);

      await submit(f, 1n, 1_234n);
      const submittedView = {
        ...accepted,
        status: Status.Submitted,
        outputHash: OUTPUT_HASH,
        unitsUsed: 1_234n,
        challengeEnds: BigInt(await time.latest()) + CHALLENGE_WINDOW,
      };
      expect(await viewOf(f, 1n)).to.deep.equal(submittedView);

      await time.increase(CHALLENGE_WINDOW);
      await f.coordinator.finalize(1n);
      expect(await viewOf(f, 1n)).to.deep.equal({ ...submittedView, status: Status.Finalized });
    });

    it("reports a DailyCredit job in full at each stage, with the provider's price once accepted", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      await requestTx(f, { deadline, pay: defaultPayment(Kind.DailyCredit), provider: f.provider1.address });
      const requested = {
        status: Status.Requested,
        kind: Kind.DailyCredit,
        requester: f.alice.address,
        provider: f.provider1.address,
        modelId: MODEL,
        inputHash: INPUT_HASH,
        outputHash: ZERO_HASH,
        classId: 0n,
        maxUnits: UNITS,
        unitsUsed: 0n,
        deadline,
        challengeEnds: 0n,
        escrow: UNITS * PRICE2,
        pricePerUnit: PRICE2,
        collateral: 0n,
        fundedDay: await f.dailyCredit.currentDay(),
      };
      expect(await viewOf(f, 1n)).to.deep.equal(requested);

      await accept(f, 1n);
      const accepted = {
        ...requested,
        status: Status.Accepted,
        pricePerUnit: PRICE1,
        collateral: creditCollateral(UNITS, PRICE1),
      };
      expect(await viewOf(f, 1n)).to.deep.equal(accepted);

      await submit(f, 1n, 2_000n);
      const submittedView = {
        ...accepted,
        status: Status.Submitted,
        outputHash: OUTPUT_HASH,
        unitsUsed: 2_000n,
        challengeEnds: BigInt(await time.latest()) + CHALLENGE_WINDOW,
      };
      expect(await viewOf(f, 1n)).to.deep.equal(submittedView);

      await time.increase(CHALLENGE_WINDOW);
      await f.coordinator.finalize(1n);
      expect(await viewOf(f, 1n)).to.deep.equal({ ...submittedView, status: Status.Finalized });
    });

    it("reports a ComputeCredit job with the requester's cap until acceptance", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.ComputeCredit, { pay: payment(Kind.ComputeCredit, PRICE2 + 7n) });
      const before = await viewOf(f, jobId);
      expect([before.kind, before.escrow, before.pricePerUnit, before.fundedDay]).to.deep.equal([
        Kind.ComputeCredit,
        UNITS * (PRICE2 + 7n),
        PRICE2 + 7n,
        0n,
      ]);
      await accept(f, jobId, f.provider2);
      const after = await viewOf(f, jobId);
      expect([after.provider, after.escrow, after.pricePerUnit, after.collateral]).to.deep.equal([
        f.provider2.address,
        UNITS * (PRICE2 + 7n),
        PRICE2,
        creditCollateral(UNITS, PRICE2),
      ]);
    });
  });

  describe("acceptJob", () => {
    it("locks ceil(maxUnits × price × collateralPerUsd / 1e18) of the provider's bond for a credit job", async () => {
      const f = await loadFixture(fixture);
      // 3 wei of bond per USD: 2,500 units × $0.001 = $2.5 → 7.5 wei, rounded up to 8.
      const perUsd = 3n;
      await f.coordinator.connect(f.admin).setCollateralPerUsd(perUsd);
      const jobId = await request(f, Kind.ComputeCredit);
      const collateral = creditCollateral(UNITS, PRICE1, perUsd);
      expect(collateral).to.equal(8n);
      await expect(f.coordinator.connect(f.provider1).acceptJob(jobId))
        .to.emit(f.coordinator, "JobAccepted")
        .withArgs(jobId, f.provider1.address, collateral, PRICE1);
      const p = await f.registry.getProvider(f.provider1.address);
      expect(p.locked).to.equal(collateral);
      expect(p.openJobs).to.equal(1n);
      expect(await f.registry.freeBond(f.provider1.address)).to.equal(BOND - collateral);
    });

    it("prices a credit job's collateral at the provider's price and stores that price", async () => {
      const f = await loadFixture(fixture);
      const first = await request(f, Kind.ComputeCredit);
      const second = await request(f, Kind.DailyCredit);
      await expect(f.coordinator.connect(f.provider1).acceptJob(first))
        .to.emit(f.coordinator, "JobAccepted")
        .withArgs(first, f.provider1.address, creditCollateral(UNITS, PRICE1), PRICE1);
      // Price equal to the cap is accepted.
      await expect(f.coordinator.connect(f.provider2).acceptJob(second))
        .to.emit(f.coordinator, "JobAccepted")
        .withArgs(second, f.provider2.address, creditCollateral(UNITS, PRICE2), PRICE2);
      expect((await f.coordinator.getJob(first)).pricePerUnit).to.equal(PRICE1);
      expect((await f.coordinator.getJob(second)).pricePerUnit).to.equal(PRICE2);
      const p1 = await f.registry.getProvider(f.provider1.address);
      const p2 = await f.registry.getProvider(f.provider2.address);
      expect([p1.locked, p1.openJobs]).to.deep.equal([creditCollateral(UNITS, PRICE1), 1n]);
      expect([p2.locked, p2.openJobs]).to.deep.equal([creditCollateral(UNITS, PRICE2), 1n]);
    });

    it("prices a voucher job's collateral at the escrowed vouchers' USD value, whatever the provider's price", async () => {
      const f = await loadFixture(fixture);
      // 3 wei of bond per USD: 2,500 units escrow 3 whole $1 vouchers = $3 at stake → 9 wei, for both providers
      // (not 2,500 × their own prices: $2.5 → 8 wei for provider1, $5 → 15 wei for provider2).
      const perUsd = 3n;
      await f.coordinator.connect(f.admin).setCollateralPerUsd(perUsd);
      const collateral = voucherCollateral(UNITS, perUsd);
      expect(collateral).to.equal(vouchersFor(UNITS) * perUsd);
      for (const provider of [f.provider1, f.provider2]) {
        const jobId = await request(f, Kind.Voucher);
        await expect(f.coordinator.connect(provider).acceptJob(jobId))
          .to.emit(f.coordinator, "JobAccepted")
          .withArgs(jobId, provider.address, collateral, 0n);
        expect((await f.coordinator.getJob(jobId)).collateral).to.equal(collateral);
        const p = await f.registry.getProvider(provider.address);
        expect([p.locked, p.openJobs]).to.deep.equal([collateral, 1n]);
        expect(await f.registry.freeBond(provider.address)).to.equal(BOND - collateral);
      }
    });

    it("locks the full voucher value from a provider pricing the model at 1 wei, so its free bond caps its voucher jobs", async () => {
      const f = await loadFixture(fixture);
      await f.registry.connect(f.provider1).updateOffer([MODEL], [1n]);
      expect(await f.registry.eligiblePrice(f.provider1.address, MODEL)).to.equal(1n);
      // 1,000 tokens per USD: each 2,500-unit job escrows 3 vouchers ($3) and locks 3,000 tokens (at the provider's
      // 1-wei price it would lock 2,500 × 1 wei × 1,000 = 2,500,000 wei and the bond would cover any number of jobs).
      const perUsd = 1_000n * WAD;
      await f.coordinator.connect(f.admin).setCollateralPerUsd(perUsd);
      const collateral = voucherCollateral(UNITS, perUsd);
      expect(collateral).to.equal(3_000n * WAD);
      const covered = BOND / collateral;
      expect(covered).to.equal(3n);
      for (let i = 0n; i < covered; i++) {
        const jobId = await request(f, Kind.Voucher);
        await expect(f.coordinator.connect(f.provider1).acceptJob(jobId))
          .to.emit(f.coordinator, "JobAccepted")
          .withArgs(jobId, f.provider1.address, collateral, 0n);
      }
      const free = BOND - covered * collateral;
      const p = await f.registry.getProvider(f.provider1.address);
      expect([p.locked, p.openJobs]).to.deep.equal([covered * collateral, covered]);
      expect(await f.registry.freeBond(f.provider1.address)).to.equal(free);

      const next = await request(f, Kind.Voucher);
      await expect(f.coordinator.connect(f.provider1).acceptJob(next))
        .to.be.revertedWithCustomError(f.registry, "InsufficientFreeBond")
        .withArgs(f.provider1.address, free, collateral);
      // The job stays open for a provider with free bond.
      await accept(f, next, f.provider2);
      expect((await f.coordinator.getJob(next)).collateral).to.equal(collateral);
    });

    it("gives the same collateral for the same USD price in a 6-decimal and an 18-decimal stablecoin", async () => {
      const f = await loadFixture(fixture);
      const dai = await (await ethers.getContractFactory("MockStablecoin")).deploy("Dai", "DAI", 18);
      // Class 2: class 1's terms priced in DAI: $1 = 10^18 of an 18-decimal stablecoin (10^6 of USDC).
      const daiPrice = VOUCHER_PRICE * 10n ** 12n;
      expect(daiPrice).to.equal(USD_PER_VOUCHER);
      await f.market
        .connect(f.admin)
        .createClass(MODEL, await dai.getAddress(), UNITS_PER_VOUCHER, daiPrice, Number(PREMIUM_BPS), 0, 0);
      const daiClass = await f.market.classCount();
      await dai.mint(f.alice.address, 10n * WAD);
      await dai.connect(f.alice).approve(await f.market.getAddress(), ethers.MaxUint256);
      await f.market.connect(f.alice).buy(daiClass, vouchersFor(UNITS), ethers.MaxUint256, f.alice.address);

      const usdcJob = await request(f, Kind.Voucher);
      const daiJob = await request(f, Kind.Voucher, { pay: payment(Kind.Voucher, daiClass) });
      expect((await f.coordinator.getJob(daiJob)).classId).to.equal(daiClass);
      const collateral = voucherCollateral(UNITS);
      for (const jobId of [usdcJob, daiJob]) {
        await expect(f.coordinator.connect(f.provider1).acceptJob(jobId))
          .to.emit(f.coordinator, "JobAccepted")
          .withArgs(jobId, f.provider1.address, collateral, 0n);
      }
      expect((await f.registry.getProvider(f.provider1.address)).locked).to.equal(2n * collateral);
    });

    it("rejects a provider whose price is above the requester's cap", async () => {
      const f = await loadFixture(fixture);
      const cap = PRICE2 - 1n;
      for (const kind of [Kind.DailyCredit, Kind.ComputeCredit]) {
        const jobId = await request(f, kind, { pay: payment(kind, cap) });
        await expect(f.coordinator.connect(f.provider2).acceptJob(jobId))
          .to.be.revertedWithCustomError(f.coordinator, "PriceAboveCap")
          .withArgs(PRICE2, cap);
        await accept(f, jobId); // provider1's PRICE1 is under the cap
      }
    });

    it("rejects an unknown job and a job that is not requested", async () => {
      const f = await loadFixture(fixture);
      await expect(f.coordinator.connect(f.provider1).acceptJob(1n))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const accepted = await request(f, Kind.Voucher);
      await accept(f, accepted);
      await expect(f.coordinator.connect(f.provider2).acceptJob(accepted))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(accepted, Status.Accepted);
      const cancelled = await request(f, Kind.Voucher);
      await f.coordinator.connect(f.alice).cancel(cancelled);
      await expect(f.coordinator.connect(f.provider1).acceptJob(cancelled))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(cancelled, Status.Cancelled);
    });

    it("rejects acceptance at or after the deadline and accepts one second before", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      const late = await request(f, Kind.Voucher, { deadline });
      const onTime = await request(f, Kind.Voucher, { deadline });
      await time.setNextBlockTimestamp(deadline - 1n);
      await accept(f, onTime);
      await time.setNextBlockTimestamp(deadline);
      await expect(f.coordinator.connect(f.provider1).acceptJob(late))
        .to.be.revertedWithCustomError(f.coordinator, "DeadlinePassed")
        .withArgs(late, deadline);
    });

    it("lets only the named provider accept a direct request", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher, { provider: f.provider1.address });
      await expect(f.coordinator.connect(f.provider2).acceptJob(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
        .withArgs(jobId, f.provider2.address);
      await accept(f, jobId, f.provider1);
      expect((await f.coordinator.getJob(jobId)).provider).to.equal(f.provider1.address);
    });

    it("rejects a provider that is unregistered, not offering the model, jailed or exiting", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      const other = await request(f, Kind.ComputeCredit, { modelId: OTHER_MODEL });
      const notEligible = (caller: HardhatEthersSigner, id: bigint) =>
        expect(f.coordinator.connect(caller).acceptJob(id))
          .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
          .withArgs(id, caller.address);

      await notEligible(f.outsider, jobId);
      await notEligible(f.provider2, other);
      await f.registry.connect(f.admin).grantRole(ROLES.SLASHER, f.admin.address);
      await f.registry.connect(f.admin).jail(f.provider1.address, (await now()) + 10n * 60n);
      await notEligible(f.provider1, jobId);
      await f.registry.connect(f.provider2).requestExit();
      await notEligible(f.provider2, jobId);
      // Once the jail ends provider1 may accept again.
      await time.increase(10n * 60n);
      await accept(f, jobId);
    });

    it("rejects every provider once the model is deactivated after the request", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher, { provider: f.provider1.address });
      await f.models.connect(f.admin).setActive(MODEL, false);
      await expect(f.coordinator.connect(f.provider1).acceptJob(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
        .withArgs(jobId, f.provider1.address);
    });

    it("fails with InsufficientFreeBond when the collateral exceeds the free bond", async () => {
      const f = await loadFixture(fixture);
      // 2,000 units escrow 2 vouchers ($2) × 5,000 tokens per USD = 10,000 tokens: exactly the whole bond.
      const perUsd = 5_000n * WAD;
      await f.coordinator.connect(f.admin).setCollateralPerUsd(perUsd);
      expect(voucherCollateral(2_000n, perUsd)).to.equal(BOND);
      const first = await request(f, Kind.Voucher, { maxUnits: 2_000n });
      const second = await request(f, Kind.ComputeCredit, { maxUnits: 1n });
      await accept(f, first);
      await expect(f.coordinator.connect(f.provider1).acceptJob(second))
        .to.be.revertedWithCustomError(f.registry, "InsufficientFreeBond")
        .withArgs(f.provider1.address, 0n, creditCollateral(1n, PRICE1, perUsd));
    });

    it("is paused by the guardian", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      await f.coordinator.connect(f.guardian).pause();
      await expect(f.coordinator.connect(f.provider1).acceptJob(jobId)).to.be.revertedWithCustomError(
        f.coordinator,
        "EnforcedPause",
      );
    });
  });

  describe("submitResult", () => {
    /** signer1's attestation of `unitsUsed` for `jobId` (MODEL, INPUT_HASH, OUTPUT_HASH). */
    async function signed(f: Fixture, jobId: bigint, unitsUsed: bigint) {
      return signResult(f.signer1, f.coordinator, {
        jobId,
        modelId: MODEL,
        inputHash: INPUT_HASH,
        outputHash: OUTPUT_HASH,
        unitsUsed,
      });
    }

    it("records the result and opens the challenge window from the submission time", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      const signature = await signed(f, jobId, 1_000n);
      const t = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(t);
      await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT_HASH, 1_000n, signature))
        .to.emit(f.coordinator, "ResultSubmitted")
        .withArgs(jobId, f.provider1.address, OUTPUT_HASH, 1_000n, t + CHALLENGE_WINDOW);
      const job = await f.coordinator.getJob(jobId);
      expect([Number(job.status), job.outputHash, job.unitsUsed, job.challengeEnds]).to.deep.equal([
        Status.Submitted,
        OUTPUT_HASH,
        1_000n,
        t + CHALLENGE_WINDOW,
      ]);
    });

    it("accepts zero units and exactly maxUnits, and rejects maxUnits + 1", async () => {
      const f = await loadFixture(fixture);
      const a = await request(f, Kind.Voucher);
      const b = await request(f, Kind.Voucher);
      await accept(f, a);
      await accept(f, b);
      await expect(
        f.coordinator
          .connect(f.provider1)
          .submitResult(a, OUTPUT_HASH, UNITS + 1n, await signed(f, a, UNITS + 1n)),
      )
        .to.be.revertedWithCustomError(f.coordinator, "UnitsExceedMax")
        .withArgs(UNITS + 1n, UNITS);
      await submit(f, a, UNITS);
      await submit(f, b, 0n);
      expect((await f.coordinator.getJob(a)).unitsUsed).to.equal(UNITS);
      expect(Number((await f.coordinator.getJob(b)).status)).to.equal(Status.Submitted);
    });

    it("works while the coordinator is paused", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      await f.coordinator.connect(f.guardian).pause();
      await submit(f, jobId, 1_000n);
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Submitted);
    });

    it("rejects an unknown job and a job that is not accepted", async () => {
      const f = await loadFixture(fixture);
      await expect(
        f.coordinator.connect(f.provider1).submitResult(1n, OUTPUT_HASH, 1n, await signed(f, 1n, 1n)),
      )
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const jobId = await request(f, Kind.Voucher);
      const signature = await signed(f, jobId, 1n);
      await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT_HASH, 1n, signature))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Requested);
      await accept(f, jobId);
      await f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT_HASH, 1n, signature);
      await expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT_HASH, 1n, signature))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Submitted);
    });

    it("rejects a caller other than the job's provider, even with a valid attestation", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      const signature = await signed(f, jobId, 1n);
      for (const caller of [f.provider2, f.signer1, f.alice]) {
        await expect(f.coordinator.connect(caller).submitResult(jobId, OUTPUT_HASH, 1n, signature))
          .to.be.revertedWithCustomError(f.coordinator, "NotJobParty")
          .withArgs(jobId, caller.address);
      }
    });

    it("rejects a result at or after the deadline and accepts one a second before", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      const late = await request(f, Kind.Voucher, { deadline });
      const onTime = await request(f, Kind.Voucher, { deadline });
      await accept(f, late);
      await accept(f, onTime);
      const lateSig = await signed(f, late, 1n);
      const onTimeSig = await signed(f, onTime, 1n);
      await time.setNextBlockTimestamp(deadline - 1n);
      await f.coordinator.connect(f.provider1).submitResult(onTime, OUTPUT_HASH, 1n, onTimeSig);
      await time.setNextBlockTimestamp(deadline);
      await expect(f.coordinator.connect(f.provider1).submitResult(late, OUTPUT_HASH, 1n, lateSig))
        .to.be.revertedWithCustomError(f.coordinator, "DeadlinePassed")
        .withArgs(late, deadline);
    });

    it("rejects an empty output hash", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      const signature = await signResult(f.signer1, f.coordinator, {
        jobId,
        modelId: MODEL,
        inputHash: INPUT_HASH,
        outputHash: ZERO_HASH,
        unitsUsed: 1n,
      });
      await expect(
        f.coordinator.connect(f.provider1).submitResult(jobId, ZERO_HASH, 1n, signature),
      ).to.be.revertedWithCustomError(f.coordinator, "EmptyHash");
    });

    it("rejects a signature that is not the provider's signer's attestation of exactly this result", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      const result = {
        jobId,
        modelId: MODEL,
        inputHash: INPUT_HASH,
        outputHash: OUTPUT_HASH,
        unitsUsed: 100n,
      };
      // What the coordinator recovers from: the job's own fields and the submitted output and units.
      const digest = ethers.TypedDataEncoder.hash(await domainOf(f.coordinator), RESULT_TYPES, result);
      const invalid = (signature: string, recovered = ethers.recoverAddress(digest, signature)) =>
        expect(f.coordinator.connect(f.provider1).submitResult(jobId, OUTPUT_HASH, 100n, signature))
          .to.be.revertedWithCustomError(f.coordinator, "InvalidAttestation")
          .withArgs(jobId, recovered, f.signer1.address);

      // The provider's own key, or another provider's signer.
      for (const wrong of [f.provider1, f.signer2]) {
        const signature = await signResult(wrong, f.coordinator, result);
        expect(ethers.recoverAddress(digest, signature)).to.equal(wrong.address);
        await invalid(signature);
      }
      // signer1's attestation of other units, another output, another job or another model.
      for (const other of [
        { ...result, unitsUsed: 99n },
        { ...result, outputHash: ethers.id("other output") },
        { ...result, jobId: jobId + 1n },
        { ...result, modelId: OTHER_MODEL },
        { ...result, inputHash: ethers.id("other input") },
      ]) {
        await invalid(await signResult(f.signer1, f.coordinator, other));
      }
      // The same result for another coordinator or another chain.
      await invalid(await signResult(f.signer1, f.outsider.address, result));
      await invalid(await signResult(f.signer1, f.coordinator, result, 1n));
      // Malformed signatures recover nothing.
      await invalid("0x", ethers.ZeroAddress);
      await invalid("0x" + "11".repeat(65), ethers.ZeroAddress);
      // The right one goes through.
      await f.coordinator
        .connect(f.provider1)
        .submitResult(jobId, OUTPUT_HASH, 100n, await signResult(f.signer1, f.coordinator, result));
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Submitted);
    });
  });

  describe("finalize", () => {
    it("pays the used vouchers, returns the rest and releases the collateral after the window", async () => {
      const f = await loadFixture(fixture);
      const { jobId, challengeEnds } = await submitted(f, Kind.Voucher, 1_500n);
      const paid = vouchersFor(1_500n);
      const refunded = vouchersFor(UNITS) - paid;
      const aliceBefore = await f.market.balanceOf(f.alice.address, 1n);
      await time.setNextBlockTimestamp(challengeEnds);
      await expect(f.coordinator.connect(f.outsider).finalize(jobId))
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(jobId, f.provider1.address, paid, refunded);
      expect(await f.market.balanceOf(f.alice.address, 1n)).to.equal(aliceBefore + refunded);
      expect(await f.market.balanceOf(await f.coordinator.getAddress(), 1n)).to.equal(0n);
      const principal = paid * VOUCHER_PRICE;
      const fee = ceilDiv(principal * PROTOCOL_FEE_BPS, BPS);
      expect(await f.market.owed(f.provider1.address, await f.usdc.getAddress())).to.equal(principal - fee);
      const p = await f.registry.getProvider(f.provider1.address);
      expect([p.locked, p.openJobs]).to.deep.equal([0n, 0n]);
    });

    it("pays ComputeCredit at the provider's price and refunds the rest", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.ComputeCredit, 1_500n);
      const paid = 1_500n * PRICE1;
      const refunded = UNITS * PRICE2 - paid;
      await time.increase(CHALLENGE_WINDOW);
      const tx = f.coordinator.finalize(jobId);
      await expect(tx)
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(jobId, f.provider1.address, paid, refunded);
      await expect(tx).to.changeTokenBalances(
        f.computeCredit,
        [f.provider1, f.alice, f.coordinator],
        [paid, refunded, -(paid + refunded)],
      );
    });

    it("pays subsidised credit, burns the unused part and restores the allowance for a DailyCredit job", async () => {
      const f = await loadFixture(fixture);
      const epoch = await f.engine.currentEpoch();
      const { jobId } = await submitted(f, Kind.DailyCredit, 1_500n);
      const paid = 1_500n * PRICE1;
      await time.increase(CHALLENGE_WINDOW);
      const tx = f.coordinator.finalize(jobId);
      await expect(tx)
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(jobId, f.provider1.address, paid, UNITS * PRICE2 - paid);
      await expect(tx).to.changeTokenBalances(
        f.computeCredit,
        [f.provider1, f.coordinator],
        [paid, -UNITS * PRICE2],
      );
      expect(await f.dailyCredit.spentToday(f.alice.address)).to.equal(paid);
      expect((await f.engine.epochLedger(epoch)).subsidyMintedUsd).to.equal(paid);
    });

    it("rejects an unknown job, a job without a result and a job already finalized", async () => {
      const f = await loadFixture(fixture);
      await expect(f.coordinator.finalize(1n))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const jobId = await request(f, Kind.Voucher);
      await expect(f.coordinator.finalize(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Requested);
      await accept(f, jobId);
      await expect(f.coordinator.finalize(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Accepted);
      await submit(f, jobId, 1n);
      await time.increase(CHALLENGE_WINDOW);
      await f.coordinator.finalize(jobId);
      await expect(f.coordinator.finalize(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Finalized);
    });

    it("rejects finalisation until the challenge window has ended", async () => {
      const f = await loadFixture(fixture);
      const { jobId, challengeEnds } = await submitted(f, Kind.Voucher);
      await time.setNextBlockTimestamp(challengeEnds - 1n);
      await expect(f.coordinator.finalize(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "ChallengeWindowOpen")
        .withArgs(jobId, challengeEnds);
      await time.setNextBlockTimestamp(challengeEnds);
      await f.coordinator.finalize(jobId);
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Finalized);
    });

    it("works while the coordinator is paused", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.ComputeCredit);
      await f.coordinator.connect(f.guardian).pause();
      await time.increase(CHALLENGE_WINDOW);
      await expect(f.coordinator.finalize(jobId)).to.emit(f.coordinator, "JobFinalized");
    });
  });

  describe("finalizeBatch", () => {
    it("rejects an empty batch and one above MAX_BATCH, and takes MAX_BATCH ids", async () => {
      const f = await loadFixture(fixture);
      await expect(f.coordinator.finalizeBatch([]))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidBatchSize")
        .withArgs(0n, MAX_BATCH);
      const ids = (n: bigint) => Array.from({ length: Number(n) }, (_, i) => BigInt(i + 1));
      await expect(f.coordinator.finalizeBatch(ids(MAX_BATCH + 1n)))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidBatchSize")
        .withArgs(MAX_BATCH + 1n, MAX_BATCH);
      const [settled, skipped] = await f.coordinator.finalizeBatch.staticCall(ids(MAX_BATCH));
      expect(settled).to.equal(0n);
      expect(skipped).to.deep.equal(ids(MAX_BATCH));
    });

    it("settles every ready job once and skips the others with their reason", async () => {
      const f = await loadFixture(fixture);
      const ready = await submitted(f, Kind.Voucher, 1_000n);
      const readyToo = await submitted(f, Kind.ComputeCredit, 2_000n);
      const challenged = await submitted(f, Kind.Voucher, 1_000n);
      await f.coordinator.connect(f.disputer).markChallenged(challenged.jobId);
      const requested = await request(f, Kind.Voucher);
      await time.increaseTo(readyToo.challengeEnds);
      const open = await submitted(f, Kind.Voucher, 1_000n);
      const batch = [ready.jobId, open.jobId, challenged.jobId, requested, 99n, readyToo.jobId, ready.jobId];

      const [settled, skipped] = await f.coordinator.finalizeBatch.staticCall(batch);
      expect(settled).to.equal(2n);
      expect(skipped).to.deep.equal([open.jobId, challenged.jobId, requested, 99n, ready.jobId]);

      const tx = f.coordinator.connect(f.outsider).finalizeBatch(batch);
      await expect(tx)
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(ready.jobId, f.provider1.address, 1n, vouchersFor(UNITS) - 1n);
      await expect(tx)
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(readyToo.jobId, f.provider1.address, 2_000n * PRICE1, UNITS * PRICE2 - 2_000n * PRICE1);
      for (const [id, reason] of [
        [open.jobId, Skip.WindowOpen],
        [challenged.jobId, Skip.Challenged],
        [requested, Skip.NotSubmitted],
        [99n, Skip.NotSubmitted],
        [ready.jobId, Skip.NotSubmitted],
      ] as const) {
        await expect(tx).to.emit(f.coordinator, "JobSkipped").withArgs(id, reason);
      }
      expect(Number((await f.coordinator.getJob(ready.jobId)).status)).to.equal(Status.Finalized);
      expect(Number((await f.coordinator.getJob(readyToo.jobId)).status)).to.equal(Status.Finalized);
      expect(Number((await f.coordinator.getJob(open.jobId)).status)).to.equal(Status.Submitted);
      // Both settled jobs' collateral released; the two still open keep theirs.
      const p = await f.registry.getProvider(f.provider1.address);
      expect(p.openJobs).to.equal(2n);
      expect(p.locked).to.equal(2n * voucherCollateral(UNITS));
    });

    it("works while the coordinator is paused", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.Voucher);
      await f.coordinator.connect(f.guardian).pause();
      await time.increase(CHALLENGE_WINDOW);
      await expect(f.coordinator.finalizeBatch([jobId])).to.emit(f.coordinator, "JobFinalized");
    });
  });

  describe("expire", () => {
    it("refunds a requested job in full without slashing anyone", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      const jobId = await request(f, Kind.Voucher, { deadline });
      const before = await f.market.balanceOf(f.alice.address, 1n);
      await time.setNextBlockTimestamp(deadline);
      await expect(f.coordinator.connect(f.outsider).expire(jobId))
        .to.emit(f.coordinator, "JobExpired")
        .withArgs(jobId, ethers.ZeroAddress, vouchersFor(UNITS), 0n);
      expect(await f.market.balanceOf(f.alice.address, 1n)).to.equal(before + vouchersFor(UNITS));
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Expired);
    });

    it("burns ceil(collateral × lateSlashBps / 10 000) of an accepted job's provider and releases the rest", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.ComputeCredit);
      await accept(f, jobId);
      const collateral = creditCollateral(UNITS, PRICE1);
      const slashed = ceilDiv(collateral * LATE_SLASH_BPS, BPS);
      const supply = await f.token.totalSupply();
      await time.increase(HOUR);
      const tx = f.coordinator.expire(jobId);
      await expect(tx)
        .to.emit(f.coordinator, "JobExpired")
        .withArgs(jobId, f.provider1.address, UNITS * PRICE2, slashed);
      await expect(tx).to.changeTokenBalances(f.computeCredit, [f.alice], [UNITS * PRICE2]);
      const p = await f.registry.getProvider(f.provider1.address);
      expect([p.bond, p.locked, p.openJobs]).to.deep.equal([BOND - slashed, 0n, 0n]);
      expect(await f.token.totalSupply()).to.equal(supply - slashed);
    });

    it("rounds the late slash up", async () => {
      const f = await loadFixture(fixture);
      await f.coordinator.connect(f.admin).setCollateralPerUsd(3n);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      await time.increase(HOUR);
      // 3 vouchers × $1 × 3 wei = 9 wei of collateral; 9 × 1,000 / 10,000 = 0.9 → 1.
      const collateral = voucherCollateral(UNITS, 3n);
      expect(collateral).to.equal(9n);
      expect((collateral * LATE_SLASH_BPS) / BPS).to.equal(0n);
      await expect(f.coordinator.expire(jobId))
        .to.emit(f.coordinator, "JobExpired")
        .withArgs(jobId, f.provider1.address, vouchersFor(UNITS), 1n);
    });

    it("slashes nothing with a zero late slash and everything locked with 10 000 bps", async () => {
      const f = await loadFixture(fixture);
      const a = await request(f, Kind.Voucher);
      const b = await request(f, Kind.Voucher);
      await accept(f, a);
      await accept(f, b);
      const collateral = voucherCollateral(UNITS);
      await time.increase(HOUR);
      await f.coordinator.connect(f.admin).setLateSlashBps(0n);
      await expect(f.coordinator.expire(a))
        .to.emit(f.coordinator, "JobExpired")
        .withArgs(a, f.provider1.address, vouchersFor(UNITS), 0n);
      await f.coordinator.connect(f.admin).setLateSlashBps(BPS);
      await expect(f.coordinator.expire(b))
        .to.emit(f.coordinator, "JobExpired")
        .withArgs(b, f.provider1.address, vouchersFor(UNITS), collateral);
      const p = await f.registry.getProvider(f.provider1.address);
      expect([p.bond, p.locked, p.openJobs]).to.deep.equal([BOND - collateral, 0n, 0n]);
    });

    it("rejects expiry before the deadline", async () => {
      const f = await loadFixture(fixture);
      const deadline = (await now()) + HOUR;
      const jobId = await request(f, Kind.Voucher, { deadline });
      await time.setNextBlockTimestamp(deadline - 1n);
      await expect(f.coordinator.expire(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "DeadlineNotReached")
        .withArgs(jobId, deadline);
    });

    it("rejects an unknown job and jobs that are submitted, cancelled or already expired", async () => {
      const f = await loadFixture(fixture);
      await expect(f.coordinator.expire(1n))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const { jobId: done } = await submitted(f, Kind.Voucher);
      const cancelled = await request(f, Kind.Voucher);
      await f.coordinator.connect(f.alice).cancel(cancelled);
      const expired = await request(f, Kind.Voucher);
      await time.increase(HOUR);
      await f.coordinator.expire(expired);
      for (const [id, status] of [
        [done, Status.Submitted],
        [cancelled, Status.Cancelled],
        [expired, Status.Expired],
      ] as const) {
        await expect(f.coordinator.expire(id))
          .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
          .withArgs(id, status);
      }
    });

    it("works while the coordinator is paused", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.DailyCredit);
      await accept(f, jobId);
      await f.coordinator.connect(f.guardian).pause();
      await time.increase(HOUR);
      await expect(f.coordinator.expire(jobId)).to.emit(f.coordinator, "JobExpired");
      expect(await f.dailyCredit.spentToday(f.alice.address)).to.equal(0n);
    });
  });

  describe("cancel", () => {
    it("refunds the requester's vouchers in full", async () => {
      const f = await loadFixture(fixture);
      const before = await f.market.balanceOf(f.alice.address, 1n);
      const jobId = await request(f, Kind.Voucher);
      await expect(f.coordinator.connect(f.alice).cancel(jobId))
        .to.emit(f.coordinator, "JobCancelled")
        .withArgs(jobId, vouchersFor(UNITS));
      expect(await f.market.balanceOf(f.alice.address, 1n)).to.equal(before);
      expect(await f.market.balanceOf(await f.coordinator.getAddress(), 1n)).to.equal(0n);
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Cancelled);
    });

    it("restores the DailyCredit allowance and burns the reserved subsidy", async () => {
      const f = await loadFixture(fixture);
      const epoch = await f.engine.currentEpoch();
      const allowance = await f.dailyCredit.dailyAllowance(f.alice.address);
      const jobId = await request(f, Kind.DailyCredit);
      await expect(f.coordinator.connect(f.alice).cancel(jobId))
        .to.emit(f.coordinator, "JobCancelled")
        .withArgs(jobId, UNITS * PRICE2);
      expect(await f.dailyCredit.dailyAllowance(f.alice.address)).to.equal(allowance);
      expect(await f.dailyCredit.spentToday(f.alice.address)).to.equal(0n);
      expect(await f.computeCredit.balanceOf(await f.coordinator.getAddress())).to.equal(0n);
      expect((await f.engine.epochLedger(epoch)).subsidyMintedUsd).to.equal(0n);
    });

    it("returns ComputeCredit in full, also while paused", async () => {
      const f = await loadFixture(fixture);
      const jobId = await request(f, Kind.ComputeCredit);
      await f.coordinator.connect(f.guardian).pause();
      await expect(f.coordinator.connect(f.alice).cancel(jobId)).to.changeTokenBalances(
        f.computeCredit,
        [f.alice, f.coordinator],
        [UNITS * PRICE2, -UNITS * PRICE2],
      );
    });

    it("rejects an unknown job, a caller other than the requester and a job already accepted", async () => {
      const f = await loadFixture(fixture);
      await expect(f.coordinator.connect(f.alice).cancel(1n))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const jobId = await request(f, Kind.Voucher);
      for (const caller of [f.bob, f.provider1]) {
        await expect(f.coordinator.connect(caller).cancel(jobId))
          .to.be.revertedWithCustomError(f.coordinator, "NotJobParty")
          .withArgs(jobId, caller.address);
      }
      await accept(f, jobId);
      await expect(f.coordinator.connect(f.alice).cancel(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Accepted);
    });
  });

  describe("markChallenged and resolveChallenge", () => {
    it("are only for DISPUTE_ROLE", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.Voucher);
      for (const caller of [f.outsider, f.admin, f.alice]) {
        await expect(f.coordinator.connect(caller).markChallenged(jobId))
          .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DISPUTE);
        await expect(f.coordinator.connect(caller).resolveChallenge(jobId, true))
          .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DISPUTE);
      }
    });

    it("marks a submitted job challenged inside its window and returns the provider", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.Voucher);
      expect(await f.coordinator.connect(f.disputer).markChallenged.staticCall(jobId)).to.equal(
        f.provider1.address,
      );
      await expect(f.coordinator.connect(f.disputer).markChallenged(jobId))
        .to.emit(f.coordinator, "JobChallenged")
        .withArgs(jobId, f.provider1.address);
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Challenged);
      await time.increase(CHALLENGE_WINDOW);
      await expect(f.coordinator.finalize(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Challenged);
    });

    it("refuses to mark an unknown job, a job not submitted, or once the window has closed", async () => {
      const f = await loadFixture(fixture);
      const d = f.coordinator.connect(f.disputer);
      await expect(d.markChallenged(1n))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const jobId = await request(f, Kind.Voucher);
      await accept(f, jobId);
      await expect(d.markChallenged(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Accepted);
      await submit(f, jobId, 1n);
      const { challengeEnds } = await f.coordinator.getJob(jobId);
      await time.setNextBlockTimestamp(challengeEnds);
      await expect(d.markChallenged(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "ChallengeWindowClosed")
        .withArgs(jobId, challengeEnds);
    });

    it("pays a challenged job like finalize when the result is valid", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.ComputeCredit, 1_500n);
      await f.coordinator.connect(f.disputer).markChallenged(jobId);
      const paid = 1_500n * PRICE1;
      const tx = f.coordinator.connect(f.disputer).resolveChallenge(jobId, true);
      await expect(tx)
        .to.emit(f.coordinator, "JobFinalized")
        .withArgs(jobId, f.provider1.address, paid, UNITS * PRICE2 - paid);
      await expect(tx).to.changeTokenBalances(
        f.computeCredit,
        [f.provider1, f.alice],
        [paid, UNITS * PRICE2 - paid],
      );
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Finalized);
      const p = await f.registry.getProvider(f.provider1.address);
      expect([p.locked, p.openJobs]).to.deep.equal([0n, 0n]);
    });

    it("refunds the requester in full and releases the collateral when the result is faulty", async () => {
      const f = await loadFixture(fixture);
      const { jobId } = await submitted(f, Kind.Voucher, 1_500n);
      await f.coordinator.connect(f.disputer).markChallenged(jobId);
      const before = await f.market.balanceOf(f.alice.address, 1n);
      await expect(f.coordinator.connect(f.disputer).resolveChallenge(jobId, false))
        .to.emit(f.coordinator, "JobFaulted")
        .withArgs(jobId, f.provider1.address, vouchersFor(UNITS));
      expect(await f.market.balanceOf(f.alice.address, 1n)).to.equal(before + vouchersFor(UNITS));
      expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Faulted);
      const p = await f.registry.getProvider(f.provider1.address);
      expect([p.bond, p.locked, p.openJobs]).to.deep.equal([BOND, 0n, 0n]);
    });

    it("refuses to resolve an unknown job or one that is not challenged", async () => {
      const f = await loadFixture(fixture);
      const d = f.coordinator.connect(f.disputer);
      await expect(d.resolveChallenge(1n, true))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1n);
      const { jobId } = await submitted(f, Kind.Voucher);
      await expect(d.resolveChallenge(jobId, false))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Submitted);
      await d.markChallenged(jobId);
      await d.resolveChallenge(jobId, false);
      await expect(d.resolveChallenge(jobId, true))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Faulted);
    });
  });

  describe("governance", () => {
    it("lets only the admin change parameters", async () => {
      const f = await loadFixture(fixture);
      const c = f.coordinator.connect(f.guardian);
      const calls = [
        () => c.setChallengeWindow(2n * HOUR),
        () => c.setJobDurationBounds(120n, 2n * DAY),
        () => c.setCollateralPerUsd(2n * WAD),
        () => c.setLateSlashBps(500n),
        () => c.setDisputeModule(f.outsider.address),
      ];
      for (const call of calls) {
        await expect(call())
          .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
          .withArgs(f.guardian.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("lets only the guardian pause and only the admin unpause", async () => {
      const f = await loadFixture(fixture);
      await expect(f.coordinator.connect(f.admin).pause())
        .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
        .withArgs(f.admin.address, ROLES.GUARDIAN);
      await f.coordinator.connect(f.guardian).pause();
      await expect(f.coordinator.connect(f.guardian).unpause())
        .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
        .withArgs(f.guardian.address, ROLES.DEFAULT_ADMIN);
      await f.coordinator.connect(f.admin).unpause();
      expect(await f.coordinator.paused()).to.equal(false);
    });

    describe("setChallengeWindow", () => {
      it("enforces [1 minute, 7 days] and emits ParameterUpdated", async () => {
        const f = await loadFixture(fixture);
        const c = f.coordinator.connect(f.admin);
        for (const window of [MIN_WINDOW - 1n, MAX_WINDOW + 1n]) {
          await expect(c.setChallengeWindow(window))
            .to.be.revertedWithCustomError(f.coordinator, "ParameterOutOfBounds")
            .withArgs(param("challengeWindow"), window, MIN_WINDOW, MAX_WINDOW);
        }
        await expect(c.setChallengeWindow(MIN_WINDOW))
          .to.emit(f.coordinator, "ParameterUpdated")
          .withArgs(param("challengeWindow"), CHALLENGE_WINDOW, MIN_WINDOW);
        expect(await f.coordinator.challengeWindow()).to.equal(MIN_WINDOW);
        expect(await f.coordinator.slashableWindow()).to.equal(MIN_WINDOW + DISPUTE_TIMEOUT);
      });

      it("keeps the window plus the dispute timeout within the unbonding period", async () => {
        const f = await loadFixture(fixture);
        const c = f.coordinator.connect(f.admin);
        const longest = UNBONDING - DISPUTE_TIMEOUT;
        await expect(c.setChallengeWindow(longest + 1n))
          .to.be.revertedWithCustomError(f.coordinator, "ParameterOutOfBounds")
          .withArgs(param("slashableWindow"), UNBONDING + 1n, 0n, UNBONDING);
        await c.setChallengeWindow(longest);
        expect(await f.coordinator.slashableWindow()).to.equal(UNBONDING);
      });

      it("applies to results submitted afterwards", async () => {
        const f = await loadFixture(fixture);
        await f.coordinator.connect(f.admin).setChallengeWindow(2n * HOUR);
        const { challengeEnds } = await submitted(f, Kind.Voucher);
        expect(challengeEnds).to.equal(BigInt(await time.latest()) + 2n * HOUR);
      });
    });

    describe("setJobDurationBounds", () => {
      it("enforces 1 minute ≤ min ≤ max ≤ 30 days", async () => {
        const f = await loadFixture(fixture);
        const c = f.coordinator.connect(f.admin);
        const oob = (min: bigint, max: bigint) =>
          expect(c.setJobDurationBounds(min, max)).to.be.revertedWithCustomError(
            f.coordinator,
            "ParameterOutOfBounds",
          );
        await oob(59n, HOUR).withArgs(param("minJobDuration"), 59n, 60n, HOUR);
        await oob(HOUR + 1n, HOUR).withArgs(param("minJobDuration"), HOUR + 1n, 60n, HOUR);
        await oob(HOUR, MAX_JOB_DURATION + 1n).withArgs(
          param("maxJobDuration"),
          MAX_JOB_DURATION + 1n,
          HOUR,
          MAX_JOB_DURATION,
        );
        await c.setJobDurationBounds(MAX_JOB_DURATION, MAX_JOB_DURATION);
        expect(await f.coordinator.jobDurationBounds()).to.deep.equal([MAX_JOB_DURATION, MAX_JOB_DURATION]);
      });

      it("emits both updates and applies to new requests", async () => {
        const f = await loadFixture(fixture);
        await expect(f.coordinator.connect(f.admin).setJobDurationBounds(HOUR, 2n * DAY))
          .to.emit(f.coordinator, "ParameterUpdated")
          .withArgs(param("minJobDuration"), MIN_JOB_DURATION, HOUR)
          .and.to.emit(f.coordinator, "ParameterUpdated")
          .withArgs(param("maxJobDuration"), MAX_JOB, 2n * DAY);
        const t = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(t);
        await expect(requestTx(f, { deadline: t + HOUR - 1n }))
          .to.be.revertedWithCustomError(f.coordinator, "InvalidDeadline")
          .withArgs(t + HOUR - 1n, t + HOUR, t + 2n * DAY);
        expect(await request(f, Kind.Voucher, { deadline: (await now()) + 2n * DAY })).to.equal(1n);
      });
    });

    describe("setCollateralPerUsd", () => {
      it("enforces (0, 1e24], emits ParameterUpdated and applies to later acceptances", async () => {
        const f = await loadFixture(fixture);
        const c = f.coordinator.connect(f.admin);
        for (const value of [0n, MAX_COLLATERAL_PER_USD + 1n]) {
          await expect(c.setCollateralPerUsd(value))
            .to.be.revertedWithCustomError(f.coordinator, "ParameterOutOfBounds")
            .withArgs(param("collateralPerUsd"), value, 1n, MAX_COLLATERAL_PER_USD);
        }
        await expect(c.setCollateralPerUsd(MAX_COLLATERAL_PER_USD))
          .to.emit(f.coordinator, "ParameterUpdated")
          .withArgs(param("collateralPerUsd"), COLLATERAL_PER_USD, MAX_COLLATERAL_PER_USD);
        await expect(c.setCollateralPerUsd(2n * WAD))
          .to.emit(f.coordinator, "ParameterUpdated")
          .withArgs(param("collateralPerUsd"), MAX_COLLATERAL_PER_USD, 2n * WAD);
        const jobId = await request(f, Kind.Voucher);
        await accept(f, jobId);
        expect((await f.coordinator.getJob(jobId)).collateral).to.equal(voucherCollateral(UNITS, 2n * WAD));
      });
    });

    describe("setLateSlashBps", () => {
      it("enforces ≤ 10 000 bps and emits ParameterUpdated", async () => {
        const f = await loadFixture(fixture);
        const c = f.coordinator.connect(f.admin);
        await expect(c.setLateSlashBps(BPS + 1n))
          .to.be.revertedWithCustomError(f.coordinator, "ParameterOutOfBounds")
          .withArgs(param("lateSlashBps"), BPS + 1n, 0n, BPS);
        await expect(c.setLateSlashBps(BPS))
          .to.emit(f.coordinator, "ParameterUpdated")
          .withArgs(param("lateSlashBps"), LATE_SLASH_BPS, BPS);
        expect(await f.coordinator.lateSlashBps()).to.equal(BPS);
      });
    });

    describe("setDisputeModule", () => {
      /** A DisputeModule for the fixture's coordinator with `timeout` as its dispute timeout. */
      async function disputeModule(f: Fixture, timeout: bigint) {
        const factory = await ethers.getContractFactory("DisputeModule");
        return factory.deploy(
          await f.coordinator.getAddress(),
          await f.registry.getAddress(),
          await f.verifier.getAddress(),
          f.admin.address,
          {
            challengeBond: 100n * WAD,
            disputeTimeout: timeout,
            faultSlashBps: 1_000n,
            finderFeeBps: 5_000n,
            jailDuration: 30n * DAY,
          },
        );
      }

      it("moves DISPUTE_ROLE from the previous module to the new one", async () => {
        const f = await loadFixture(fixture);
        const previous = await f.disputes.getAddress();
        const next = await disputeModule(f, 2n * DAY);
        const nextAddress = await next.getAddress();
        await expect(f.coordinator.connect(f.admin).setDisputeModule(nextAddress))
          .to.emit(f.coordinator, "DisputeModuleUpdated")
          .withArgs(previous, nextAddress);
        expect(await f.coordinator.disputeModule()).to.equal(nextAddress);
        expect(await f.coordinator.hasRole(ROLES.DISPUTE, previous)).to.equal(false);
        expect(await f.coordinator.hasRole(ROLES.DISPUTE, nextAddress)).to.equal(true);
        expect(await f.coordinator.slashableWindow()).to.equal(CHALLENGE_WINDOW + 2n * DAY);

        // The old module can no longer challenge; the new one can.
        const { jobId } = await submitted(f, Kind.Voucher);
        await expect(f.disputes.connect(f.challenger).challenge(jobId))
          .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
          .withArgs(previous, ROLES.DISPUTE);
        await f.token.connect(f.challenger).approve(nextAddress, ethers.MaxUint256);
        await next.connect(f.challenger).challenge(jobId);
        expect(Number((await f.coordinator.getJob(jobId)).status)).to.equal(Status.Challenged);
      });

      it("keeps the role when the same module is set again", async () => {
        const f = await loadFixture(fixture);
        const current = await f.disputes.getAddress();
        await expect(f.coordinator.connect(f.admin).setDisputeModule(current))
          .to.emit(f.coordinator, "DisputeModuleUpdated")
          .withArgs(current, current);
        expect(await f.coordinator.hasRole(ROLES.DISPUTE, current)).to.equal(true);
      });

      it("refuses a module whose timeout would make the slashable window exceed the unbonding period", async () => {
        const f = await loadFixture(fixture);
        const tooLong = await disputeModule(f, UNBONDING - CHALLENGE_WINDOW + 1n);
        await expect(f.coordinator.connect(f.admin).setDisputeModule(await tooLong.getAddress()))
          .to.be.revertedWithCustomError(f.coordinator, "ParameterOutOfBounds")
          .withArgs(param("slashableWindow"), UNBONDING + 1n, 0n, UNBONDING);
        const longest = await disputeModule(f, UNBONDING - CHALLENGE_WINDOW);
        await f.coordinator.connect(f.admin).setDisputeModule(await longest.getAddress());
        expect(await f.coordinator.slashableWindow()).to.equal(UNBONDING);
      });

      it("refuses the zero address", async () => {
        const f = await loadFixture(fixture);
        await expect(
          f.coordinator.connect(f.admin).setDisputeModule(ethers.ZeroAddress),
        ).to.be.revertedWithCustomError(f.coordinator, "ZeroAddress");
      });

      it("checks the window of a coordinator deployed with the longest challenge window", async () => {
        const f = await loadFixture(fixture);
        const c = await deployCoordinator(f, { challengeWindow: MAX_WINDOW });
        await expect(c.connect(f.admin).setDisputeModule(await f.disputes.getAddress()))
          .to.be.revertedWithCustomError(c, "ParameterOutOfBounds")
          .withArgs(param("slashableWindow"), MAX_WINDOW + DISPUTE_TIMEOUT, 0n, UNBONDING);
        await c.connect(f.admin).setChallengeWindow(UNBONDING - DISPUTE_TIMEOUT);
        await expect(c.connect(f.admin).setDisputeModule(await f.disputes.getAddress()))
          .to.emit(c, "DisputeModuleUpdated")
          .withArgs(ethers.ZeroAddress, await f.disputes.getAddress());
        expect(await c.slashableWindow()).to.equal(UNBONDING);
      });
    });
  });

  describe("views", () => {
    it("resultDigest is the EIP-712 hash of the Result under the coordinator's domain", async () => {
      const f = await loadFixture(fixture);
      const domain = await domainOf(f.coordinator);
      const value = {
        jobId: 42n,
        modelId: MODEL,
        inputHash: INPUT_HASH,
        outputHash: OUTPUT_HASH,
        unitsUsed: 1_234n,
      };
      expect(
        await f.coordinator.resultDigest(
          value.jobId,
          value.modelId,
          value.inputHash,
          value.outputHash,
          value.unitsUsed,
        ),
      ).to.equal(ethers.TypedDataEncoder.hash(domain, RESULT_TYPES, value));
      const [, name, version, chainId, verifyingContract] = await f.coordinator.eip712Domain();
      expect([name, version, chainId, verifyingContract]).to.deep.equal([
        domain.name,
        domain.version,
        domain.chainId,
        domain.verifyingContract,
      ]);
    });

    it("slashableWindow is the challenge window plus the dispute timeout", async () => {
      const f = await loadFixture(fixture);
      expect(await f.coordinator.slashableWindow()).to.equal(CHALLENGE_WINDOW + DISPUTE_TIMEOUT);
      await f.disputes.connect(f.admin).setDisputeTimeout(2n * DAY);
      expect(await f.coordinator.slashableWindow()).to.equal(CHALLENGE_WINDOW + 2n * DAY);
    });
  });
});
