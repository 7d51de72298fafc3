import { expect } from "chai";
import { ethers } from "hardhat";
import type { EventFragment, FunctionFragment } from "ethers";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ArbiterCommitteeVerifier, DisputeModule } from "../../typechain-types";
import {
  BOND,
  CHALLENGE_BOND,
  CHALLENGE_WINDOW,
  DAY,
  DISPUTE_TIMEOUT,
  FAULT_SLASH_BPS,
  FINDER_FEE_BPS,
  HOUR,
  JAIL,
  Kind,
  Outcome,
  ROLES,
  Status,
  UNITS_PER_VOUCHER,
  WAD,
  accept,
  deployJobsFixture,
  now,
  request,
  submit,
  type JobsFixture,
} from "./jobsFixture";

/*
 * DisputeModule (AccessControl only: nothing pauses, so a challenge can never be blocked)
 * ├── constructor: any zero address → ZeroAddress; each parameter outside its bounds → ParameterOutOfBounds
 * ├── challenge(jobId) (never paused, not even while the coordinator is paused)
 * │   ├── unknown job → coordinator UnknownJob
 * │   ├── job not Submitted (Requested, Accepted, Challenged, Finalized) → coordinator InvalidJobStatus
 * │   ├── at or after challengeEnds → coordinator ChallengeWindowClosed
 * │   ├── caller is the job's provider → SelfChallenge(jobId)
 * │   ├── module no longer the coordinator's DISPUTE_ROLE (replaced) → coordinator AccessControlUnauthorizedAccount
 * │   ├── no allowance / no balance → token ERC20InsufficientAllowance / ERC20InsufficientBalance
 * │   └── ok: bond pulled, dispute recorded Open with timeoutAt = openedAt + the timeout in force now,
 * │       openDisputes + 1, Challenged event, job Challenged
 * ├── resolve(jobId) (anyone, never paused; openDisputes − 1 for every outcome)
 * │   ├── no dispute / already resolved → NoOpenDispute
 * │   ├── verdict Fault → Upheld: requester refunded, faultSlashBps of the whole bond slashed (finderFeeBps to the
 * │   │                    challenger, rest burned), provider jailed, bond returned to the challenger
 * │   ├── verdict Valid → Rejected: job settles for the provider, which also gets the challenger's bond
 * │   ├── Pending, before the stored timeoutAt → NotResolvable(jobId, timeoutAt)
 * │   └── Pending, at/after the stored timeoutAt → TimedOut: job settles for the provider, bond back to the challenger
 * ├── setChallengeBond / setDisputeTimeout / setSlashing / setJailDuration / setVerifier: only admin, bounds, events;
 * │   a new bond or timeout applies to disputes opened afterwards only
 * └── JobCoordinator.setDisputeModule: the current module has open disputes → DisputesStillOpen(n); once they are
 *     resolved the switch succeeds, the new module takes new challenges and the old one can no longer challenge
 *
 * ArbiterCommitteeVerifier
 * ├── constructor: zero coordinator/admin → ZeroAddress; threshold ∉ [1, 255] → ParameterOutOfBounds
 * ├── vote: not ARBITER_ROLE → AccessControlUnauthorizedAccount; unknown job → coordinator UnknownJob;
 * │         job not Challenged → DisputeNotOpen; second vote → AlreadyVoted; a side already at the threshold →
 * │         VerdictReached(jobId, verdict); ok → Voted with running tallies
 * ├── verdict: fault votes ≥ threshold → Fault (checked first: both sides reach it only when the threshold is
 * │            lowered mid-dispute); valid votes ≥ threshold → Valid; else Pending
 * └── setThreshold: only admin, [1, 255], ThresholdUpdated
 */

const BPS = 10_000n;
const UNITS_USED = 2_000n;
const MAX_UNITS = 2_500n; // request() default
const VOUCHERS_ESCROWED = (MAX_UNITS + UNITS_PER_VOUCHER - 1n) / UNITS_PER_VOUCHER;
const VOUCHERS_PAID = (UNITS_USED + UNITS_PER_VOUCHER - 1n) / UNITS_PER_VOUCHER;
const MAX_BOND = 10n ** 27n;
const MIN_TIMEOUT = HOUR;
const MAX_TIMEOUT = 30n * DAY;
const MIN_JAIL = DAY;
const MAX_JAIL = 365n * DAY;
const UNBONDING = 7n * DAY; // CinderMarket default
const MAX_UNBONDING = 365n * DAY;
const VOUCHER_CLASS = 1n;
/** IResultVerifier.Verdict. */
const PENDING = 0n;
const VALID = 1n;
const FAULT = 2n;

/** The fault slash of a provider holding `bond` with the given parameters: [total, finder fee, burned]. */
function faultSlash(bond: bigint, slashBps = FAULT_SLASH_BPS, feeBps = FINDER_FEE_BPS) {
  const total = (bond * slashBps) / BPS;
  const fee = (total * feeBps) / BPS;
  return { total, fee, burned: total - fee };
}

function param(name: string) {
  return ethers.encodeBytes32String(name);
}

/** A voucher job (or `kind`) of provider1 with a signed result of UNITS_USED units: status Submitted. */
async function submittedJob(f: JobsFixture, kind: Kind = Kind.Voucher) {
  const jobId = await request(f, kind);
  await accept(f, jobId);
  await submit(f, jobId, UNITS_USED);
  return jobId;
}

/** A submitted job challenged by `challenger`; returns its id and the challenge's timestamp. */
async function challengedJob(f: JobsFixture, kind: Kind = Kind.Voucher) {
  const jobId = await submittedJob(f, kind);
  await (await f.disputes.connect(f.challenger).challenge(jobId)).wait();
  return { jobId, openedAt: await now() };
}

async function disputeOf(disputes: DisputeModule, jobId: bigint) {
  const d = await disputes.getDispute(jobId);
  return {
    challenger: d.challenger,
    provider: d.provider,
    openedAt: d.openedAt,
    timeoutAt: d.timeoutAt,
    outcome: d.outcome,
    bond: d.bond,
  };
}

async function jobStatus(f: JobsFixture, jobId: bigint) {
  return (await f.coordinator.getJob(jobId)).status;
}

/** A third arbiter, beyond the fixture's 13 named signers. */
async function thirdArbiter() {
  return (await ethers.getSigners())[13];
}

/** Committee of arbiter1, arbiter2 and a third signer, with threshold 2. */
async function twoOfThree(f: JobsFixture) {
  const arbiter3 = await thirdArbiter();
  await f.verifier.connect(f.admin).grantRole(ROLES.ARBITER, f.arbiter2.address);
  await f.verifier.connect(f.admin).grantRole(ROLES.ARBITER, arbiter3.address);
  await f.verifier.connect(f.admin).setThreshold(2);
  return arbiter3;
}

async function deployVerifier(f: JobsFixture, threshold = 1n) {
  const factory = await ethers.getContractFactory("ArbiterCommitteeVerifier");
  const v = await factory.deploy(await f.coordinator.getAddress(), f.admin.address, threshold);
  return v as unknown as ArbiterCommitteeVerifier;
}

function config(overrides: Partial<Record<string, bigint>> = {}) {
  return {
    challengeBond: CHALLENGE_BOND,
    disputeTimeout: DISPUTE_TIMEOUT,
    faultSlashBps: FAULT_SLASH_BPS,
    finderFeeBps: FINDER_FEE_BPS,
    jailDuration: JAIL,
    ...overrides,
  };
}

describe("DisputeModule", function () {
  describe("deployment", function () {
    it("is deployed with the CinderJobs defaults and wired to the coordinator, registry and verifier", async function () {
      const f = await loadFixture(deployJobsFixture);
      expect(await f.disputes.challengeBond()).to.equal(CHALLENGE_BOND);
      expect(await f.disputes.disputeTimeout()).to.equal(DISPUTE_TIMEOUT);
      expect(await f.disputes.faultSlashBps()).to.equal(FAULT_SLASH_BPS);
      expect(await f.disputes.finderFeeBps()).to.equal(FINDER_FEE_BPS);
      expect(await f.disputes.jailDuration()).to.equal(JAIL);
      expect(await f.disputes.verifier()).to.equal(await f.verifier.getAddress());
      expect(await f.disputes.coordinator()).to.equal(await f.coordinator.getAddress());
      expect(await f.disputes.providers()).to.equal(await f.registry.getAddress());
      expect(await f.disputes.hasRole(ROLES.DEFAULT_ADMIN, f.admin.address)).to.equal(true);
      expect(await f.coordinator.disputeModule()).to.equal(await f.disputes.getAddress());
    });

    it("reports no dispute for a job never challenged", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      for (const id of [jobId, 999n]) {
        expect(await disputeOf(f.disputes, id)).to.deep.equal({
          challenger: ethers.ZeroAddress,
          provider: ethers.ZeroAddress,
          openedAt: 0n,
          timeoutAt: 0n,
          outcome: BigInt(Outcome.None),
          bond: 0n,
        });
        expect(await f.disputes.isOpen(id)).to.equal(false);
      }
      expect(await f.disputes.openDisputes()).to.equal(0n);
    });

    it("emits every initial parameter from zero at construction", async function () {
      const f = await loadFixture(deployJobsFixture);
      const factory = await ethers.getContractFactory("DisputeModule");
      const m = await factory.deploy(
        await f.coordinator.getAddress(),
        await f.registry.getAddress(),
        await f.verifier.getAddress(),
        f.admin.address,
        config(),
      );
      const tx = m.deploymentTransaction()!;
      await expect(tx).to.emit(m, "ParameterUpdated").withArgs(param("challengeBond"), 0n, CHALLENGE_BOND);
      await expect(tx).to.emit(m, "ParameterUpdated").withArgs(param("disputeTimeout"), 0n, DISPUTE_TIMEOUT);
      await expect(tx).to.emit(m, "ParameterUpdated").withArgs(param("faultSlashBps"), 0n, FAULT_SLASH_BPS);
      await expect(tx).to.emit(m, "ParameterUpdated").withArgs(param("finderFeeBps"), 0n, FINDER_FEE_BPS);
      await expect(tx).to.emit(m, "ParameterUpdated").withArgs(param("jailDuration"), 0n, JAIL);
    });

    it("rejects a zero coordinator, registry, verifier or admin", async function () {
      const f = await loadFixture(deployJobsFixture);
      const factory = await ethers.getContractFactory("DisputeModule");
      const args = [
        await f.coordinator.getAddress(),
        await f.registry.getAddress(),
        await f.verifier.getAddress(),
        f.admin.address,
      ];
      for (let i = 0; i < args.length; i++) {
        const a = [...args];
        a[i] = ethers.ZeroAddress;
        await expect(factory.deploy(a[0], a[1], a[2], a[3], config())).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
    });

    it("rejects each initial parameter outside its bounds", async function () {
      const f = await loadFixture(deployJobsFixture);
      const factory = await ethers.getContractFactory("DisputeModule");
      const args = [
        await f.coordinator.getAddress(),
        await f.registry.getAddress(),
        await f.verifier.getAddress(),
        f.admin.address,
      ] as const;
      const cases: [string, bigint, bigint, bigint][] = [
        ["challengeBond", 0n, 1n, MAX_BOND],
        ["challengeBond", MAX_BOND + 1n, 1n, MAX_BOND],
        ["disputeTimeout", MIN_TIMEOUT - 1n, MIN_TIMEOUT, MAX_TIMEOUT],
        ["disputeTimeout", MAX_TIMEOUT + 1n, MIN_TIMEOUT, MAX_TIMEOUT],
        ["faultSlashBps", BPS + 1n, 0n, BPS],
        ["finderFeeBps", BPS + 1n, 0n, BPS],
        ["jailDuration", MIN_JAIL - 1n, MIN_JAIL, MAX_JAIL],
        ["jailDuration", MAX_JAIL + 1n, MIN_JAIL, MAX_JAIL],
      ];
      for (const [name, value, min, max] of cases) {
        await expect(factory.deploy(...args, config({ [name]: value })))
          .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
          .withArgs(param(name), value, min, max);
      }
    });
  });

  describe("challenge", function () {
    it("pulls exactly the challenge bond and records an open dispute against the job's provider, timing out after disputeTimeout", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      const tx = f.disputes.connect(f.challenger).challenge(jobId);
      await expect(tx).to.changeTokenBalances(
        f.token,
        [f.challenger, f.disputes, f.provider1],
        [-CHALLENGE_BOND, CHALLENGE_BOND, 0n],
      );
      const openedAt = await now();
      expect(await disputeOf(f.disputes, jobId)).to.deep.equal({
        challenger: f.challenger.address,
        provider: f.provider1.address,
        openedAt,
        timeoutAt: openedAt + DISPUTE_TIMEOUT,
        outcome: BigInt(Outcome.Open),
        bond: CHALLENGE_BOND,
      });
      expect(await f.disputes.isOpen(jobId)).to.equal(true);
      expect(await f.disputes.openDisputes()).to.equal(1n);
    });

    it("emits Challenged and marks the job Challenged at the coordinator", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      const tx = f.disputes.connect(f.challenger).challenge(jobId);
      await expect(tx)
        .to.emit(f.disputes, "Challenged")
        .withArgs(jobId, f.challenger.address, f.provider1.address, CHALLENGE_BOND);
      await expect(tx).to.emit(f.coordinator, "JobChallenged").withArgs(jobId, f.provider1.address);
      expect(await jobStatus(f, jobId)).to.equal(Status.Challenged);
      await expect(f.coordinator.finalize(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Challenged);
    });

    it("is open to anyone, including the requester, until the last second of the window", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      const { challengeEnds } = await f.coordinator.getJob(jobId);
      await f.token.connect(f.alice).approve(await f.disputes.getAddress(), CHALLENGE_BOND);
      await time.setNextBlockTimestamp(challengeEnds - 1n);
      await expect(f.disputes.connect(f.alice).challenge(jobId))
        .to.emit(f.disputes, "Challenged")
        .withArgs(jobId, f.alice.address, f.provider1.address, CHALLENGE_BOND);
    });

    it("rejects a job whose challenge window has closed", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      const { challengeEnds } = await f.coordinator.getJob(jobId);
      expect(challengeEnds).to.equal((await now()) + CHALLENGE_WINDOW);
      await time.setNextBlockTimestamp(challengeEnds);
      await expect(f.disputes.connect(f.challenger).challenge(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "ChallengeWindowClosed")
        .withArgs(jobId, challengeEnds);
    });

    it("rejects a job that has no result yet", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await request(f, Kind.Voucher);
      await expect(f.disputes.connect(f.challenger).challenge(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Requested);
      await accept(f, jobId);
      await expect(f.disputes.connect(f.challenger).challenge(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Accepted);
    });

    it("rejects an unknown job", async function () {
      const f = await loadFixture(deployJobsFixture);
      await expect(f.disputes.connect(f.challenger).challenge(1))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(1);
    });

    it("rejects a job already challenged, keeping the first dispute", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId, openedAt } = await challengedJob(f);
      await f.token.connect(f.bob).approve(await f.disputes.getAddress(), CHALLENGE_BOND);
      await expect(f.disputes.connect(f.bob).challenge(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Challenged);
      const d = await disputeOf(f.disputes, jobId);
      expect([d.challenger, d.openedAt]).to.deep.equal([f.challenger.address, openedAt]);
    });

    it("rejects a job whose dispute is already resolved", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, false);
      await f.disputes.resolve(jobId);
      await expect(f.disputes.connect(f.challenger).challenge(jobId))
        .to.be.revertedWithCustomError(f.coordinator, "InvalidJobStatus")
        .withArgs(jobId, Status.Finalized);
    });

    it("fails without an allowance or balance for the bond, leaving the job submitted", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      const disputes = await f.disputes.getAddress();
      await expect(f.disputes.connect(f.outsider).challenge(jobId))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(disputes, 0n, CHALLENGE_BOND);
      await f.token.connect(f.bob).approve(disputes, CHALLENGE_BOND - 1n);
      await expect(f.disputes.connect(f.bob).challenge(jobId))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientAllowance")
        .withArgs(disputes, CHALLENGE_BOND - 1n, CHALLENGE_BOND);
      await f.token.connect(f.outsider).approve(disputes, CHALLENGE_BOND);
      await expect(f.disputes.connect(f.outsider).challenge(jobId))
        .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
        .withArgs(f.outsider.address, 0n, CHALLENGE_BOND);
      expect(await jobStatus(f, jobId)).to.equal(Status.Submitted);
      expect(await f.disputes.isOpen(jobId)).to.equal(false);
    });

    it("rejects a challenge by the job's own provider, leaving the job submitted", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      await f.token.connect(f.provider1).approve(await f.disputes.getAddress(), CHALLENGE_BOND);
      await expect(f.disputes.connect(f.provider1).challenge(jobId))
        .to.be.revertedWithCustomError(f.disputes, "SelfChallenge")
        .withArgs(jobId);
      expect(await jobStatus(f, jobId)).to.equal(Status.Submitted);
      expect(await f.disputes.isOpen(jobId)).to.equal(false);
      expect(await f.disputes.openDisputes()).to.equal(0n);
      // Another provider may challenge it.
      await f.token.connect(f.provider2).approve(await f.disputes.getAddress(), CHALLENGE_BOND);
      await expect(f.disputes.connect(f.provider2).challenge(jobId))
        .to.emit(f.disputes, "Challenged")
        .withArgs(jobId, f.provider2.address, f.provider1.address, CHALLENGE_BOND);
    });

    it("has no pause at all: no pause, unpause or paused in its ABI and no guardian role", async function () {
      const f = await loadFixture(deployJobsFixture);
      const functions = f.disputes.interface.fragments
        .filter((fragment): fragment is FunctionFragment => fragment.type === "function")
        .map((fragment) => fragment.name);
      expect(functions).to.include.members(["challenge", "resolve"]);
      for (const name of ["pause", "unpause", "paused"]) expect(functions).to.not.include(name);
      const events = f.disputes.interface.fragments
        .filter((fragment): fragment is EventFragment => fragment.type === "event")
        .map((fragment) => fragment.name);
      for (const name of ["Paused", "Unpaused"]) expect(events).to.not.include(name);
      expect(await f.disputes.hasRole(ROLES.GUARDIAN, f.guardian.address)).to.equal(false);
    });

    it("still challenges and resolves while the guardian has paused the coordinator", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      await f.coordinator.connect(f.guardian).pause();
      expect(await f.coordinator.paused()).to.equal(true);
      await expect(f.disputes.connect(f.challenger).challenge(jobId))
        .to.emit(f.disputes, "Challenged")
        .withArgs(jobId, f.challenger.address, f.provider1.address, CHALLENGE_BOND);
      expect(await jobStatus(f, jobId)).to.equal(Status.Challenged);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      const { total, fee } = faultSlash(BOND);
      await expect(f.disputes.resolve(jobId))
        .to.emit(f.disputes, "DisputeResolved")
        .withArgs(jobId, Outcome.Upheld, total, fee);
      expect(await jobStatus(f, jobId)).to.equal(Status.Faulted);
    });

    it("holds exactly the bonds of the open disputes", async function () {
      const f = await loadFixture(deployJobsFixture);
      const first = await challengedJob(f);
      await f.disputes.connect(f.admin).setChallengeBond(2n * CHALLENGE_BOND);
      const second = await challengedJob(f);
      expect(await f.token.balanceOf(await f.disputes.getAddress())).to.equal(3n * CHALLENGE_BOND);
      await f.verifier.connect(f.arbiter1).vote(first.jobId, true);
      await f.disputes.resolve(first.jobId);
      expect(await f.token.balanceOf(await f.disputes.getAddress())).to.equal(2n * CHALLENGE_BOND);
      expect((await f.disputes.getDispute(second.jobId)).bond).to.equal(2n * CHALLENGE_BOND);
    });
  });

  describe("resolve", function () {
    it("rejects a job without a dispute", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await submittedJob(f);
      for (const id of [jobId, 999n]) {
        await expect(f.disputes.resolve(id))
          .to.be.revertedWithCustomError(f.disputes, "NoOpenDispute")
          .withArgs(id);
      }
    });

    it("resolves a dispute only once", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      await f.disputes.connect(f.outsider).resolve(jobId);
      await expect(f.disputes.connect(f.outsider).resolve(jobId))
        .to.be.revertedWithCustomError(f.disputes, "NoOpenDispute")
        .withArgs(jobId);
    });

    it("refuses while the verdict is pending and the timeout has not passed", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId, openedAt } = await challengedJob(f);
      const timeoutAt = openedAt + DISPUTE_TIMEOUT;
      expect((await f.disputes.getDispute(jobId)).timeoutAt).to.equal(timeoutAt);
      await expect(f.disputes.resolve(jobId))
        .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
        .withArgs(jobId, timeoutAt);
      await time.setNextBlockTimestamp(timeoutAt - 1n);
      await expect(f.disputes.resolve(jobId))
        .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
        .withArgs(jobId, timeoutAt);
      expect(await f.disputes.isOpen(jobId)).to.equal(true);
    });

    describe("upheld (verdict Fault)", function () {
      it("slashes faultSlashBps of the provider's whole bond: the finder fee to the challenger, the rest burned", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const { total, fee, burned } = faultSlash(BOND);
        expect(total).to.be.greaterThan((await f.coordinator.getJob(jobId)).collateral); // the whole bond, not the job's collateral
        const supply = await f.token.totalSupply();

        const tx = f.disputes.connect(f.outsider).resolve(jobId);
        await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Upheld, total, fee);
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.challenger, f.disputes, f.registry, f.provider1, f.outsider],
          [CHALLENGE_BOND + fee, -CHALLENGE_BOND, -total, 0n, 0n],
        );
        expect(await f.token.totalSupply()).to.equal(supply - burned);
        const record = await f.registry.getProvider(f.provider1.address);
        expect(record.bond).to.equal(BOND - total);
      });

      it("jails the provider for jailDuration from the resolution", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        await f.disputes.resolve(jobId);
        const resolvedAt = await now();
        expect((await f.registry.getProvider(f.provider1.address)).jailedUntil).to.equal(resolvedAt + JAIL);
        const next = await request(f, Kind.Voucher);
        await expect(f.coordinator.connect(f.provider1).acceptJob(next))
          .to.be.revertedWithCustomError(f.coordinator, "ProviderNotEligible")
          .withArgs(next, f.provider1.address);
      });

      it("faults the job: the requester is refunded in full and the provider's collateral released", async function () {
        const f = await loadFixture(deployJobsFixture);
        const vouchersBefore = await f.market.balanceOf(f.alice.address, VOUCHER_CLASS);
        const { jobId } = await challengedJob(f);
        expect(await f.market.balanceOf(f.alice.address, VOUCHER_CLASS)).to.equal(
          vouchersBefore - VOUCHERS_ESCROWED,
        );
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        await expect(f.disputes.resolve(jobId))
          .to.emit(f.coordinator, "JobFaulted")
          .withArgs(jobId, f.provider1.address, VOUCHERS_ESCROWED);
        expect(await jobStatus(f, jobId)).to.equal(Status.Faulted);
        expect(await f.market.balanceOf(f.alice.address, VOUCHER_CLASS)).to.equal(vouchersBefore);
        const record = await f.registry.getProvider(f.provider1.address);
        expect([record.locked, record.openJobs]).to.deep.equal([0n, 0n]);
        expect(await disputeOf(f.disputes, jobId)).to.include({ outcome: BigInt(Outcome.Upheld) });
        expect(await f.disputes.isOpen(jobId)).to.equal(false);
      });

      it("refunds a ComputeCredit requester in full", async function () {
        const f = await loadFixture(deployJobsFixture);
        const creditBefore = await f.computeCredit.balanceOf(f.alice.address);
        const { jobId } = await challengedJob(f, Kind.ComputeCredit);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        await f.disputes.resolve(jobId);
        expect(await f.computeCredit.balanceOf(f.alice.address)).to.equal(creditBefore);
        expect(await jobStatus(f, jobId)).to.equal(Status.Faulted);
      });

      it("returns Upheld", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        expect(await f.disputes.resolve.staticCall(jobId)).to.equal(Outcome.Upheld);
      });

      it("decides before the timeout", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId, openedAt } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const { total, fee } = faultSlash(BOND);
        await expect(f.disputes.resolve(jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(jobId, Outcome.Upheld, total, fee);
        expect(await now()).to.be.lessThan(openedAt + DISPUTE_TIMEOUT);
      });

      it("with faultSlashBps 0 moves no bond but still jails the provider", async function () {
        const f = await loadFixture(deployJobsFixture);
        await f.disputes.connect(f.admin).setSlashing(0, FINDER_FEE_BPS);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const supply = await f.token.totalSupply();
        const tx = f.disputes.resolve(jobId);
        await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Upheld, 0n, 0n);
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.challenger, f.disputes, f.registry],
          [CHALLENGE_BOND, -CHALLENGE_BOND, 0n],
        );
        expect(await f.token.totalSupply()).to.equal(supply);
        const record = await f.registry.getProvider(f.provider1.address);
        expect(record.bond).to.equal(BOND);
        expect(record.jailedUntil).to.equal((await now()) + JAIL);
      });

      it("with finderFeeBps 0 burns the whole slash", async function () {
        const f = await loadFixture(deployJobsFixture);
        await f.disputes.connect(f.admin).setSlashing(FAULT_SLASH_BPS, 0);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const { total, fee, burned } = faultSlash(BOND, FAULT_SLASH_BPS, 0n);
        expect([fee, burned]).to.deep.equal([0n, total]);
        const supply = await f.token.totalSupply();
        const tx = f.disputes.resolve(jobId);
        await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Upheld, total, 0n);
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.challenger, f.disputes, f.registry],
          [CHALLENGE_BOND, -CHALLENGE_BOND, -total],
        );
        expect(await f.token.totalSupply()).to.equal(supply - total);
      });

      it("with finderFeeBps 10,000 pays the whole slash to the challenger and burns nothing", async function () {
        const f = await loadFixture(deployJobsFixture);
        await f.disputes.connect(f.admin).setSlashing(FAULT_SLASH_BPS, BPS);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const { total } = faultSlash(BOND, FAULT_SLASH_BPS, BPS);
        const supply = await f.token.totalSupply();
        const tx = f.disputes.resolve(jobId);
        await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Upheld, total, total);
        await expect(tx).to.changeTokenBalances(f.token, [f.challenger], [CHALLENGE_BOND + total]);
        expect(await f.token.totalSupply()).to.equal(supply);
      });

      it("with faultSlashBps 10,000 takes the whole bond", async function () {
        const f = await loadFixture(deployJobsFixture);
        await f.disputes.connect(f.admin).setSlashing(BPS, FINDER_FEE_BPS);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const { total, fee } = faultSlash(BOND, BPS);
        expect(total).to.equal(BOND);
        await expect(f.disputes.resolve(jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(jobId, Outcome.Upheld, total, fee);
        expect((await f.registry.getProvider(f.provider1.address)).bond).to.equal(0n);
      });

      it("uses the jail duration in force at resolution", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId } = await challengedJob(f);
        await f.disputes.connect(f.admin).setJailDuration(MIN_JAIL);
        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        await f.disputes.resolve(jobId);
        expect((await f.registry.getProvider(f.provider1.address)).jailedUntil).to.equal(
          (await now()) + MIN_JAIL,
        );
      });
    });

    describe("rejected (verdict Valid)", function () {
      it("settles the job for the provider and pays it the challenger's bond", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, false);
        const supply = await f.token.totalSupply();
        const tx = f.disputes.connect(f.outsider).resolve(jobId);
        await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.Rejected, 0n, 0n);
        await expect(tx)
          .to.emit(f.coordinator, "JobFinalized")
          .withArgs(jobId, f.provider1.address, VOUCHERS_PAID, VOUCHERS_ESCROWED - VOUCHERS_PAID);
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.challenger, f.disputes, f.provider1, f.registry],
          [0n, -CHALLENGE_BOND, CHALLENGE_BOND, 0n],
        );
        expect(await f.token.totalSupply()).to.equal(supply);
        expect(await jobStatus(f, jobId)).to.equal(Status.Finalized);
        const record = await f.registry.getProvider(f.provider1.address);
        expect([record.bond, record.locked, record.openJobs, record.jailedUntil]).to.deep.equal([
          BOND,
          0n,
          0n,
          0n,
        ]);
        expect(await disputeOf(f.disputes, jobId)).to.include({ outcome: BigInt(Outcome.Rejected) });
        expect(await f.disputes.isOpen(jobId)).to.equal(false);
      });

      it("takes the verdict over the timeout when both are available", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId, openedAt } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, false);
        await time.increaseTo(openedAt + DISPUTE_TIMEOUT + 1n);
        expect(await f.disputes.resolve.staticCall(jobId)).to.equal(Outcome.Rejected);
        await expect(f.disputes.resolve(jobId)).to.changeTokenBalances(
          f.token,
          [f.provider1, f.challenger],
          [CHALLENGE_BOND, 0n],
        );
      });
    });

    describe("timed out (no verdict)", function () {
      it("settles the job for the provider and returns the bond to the challenger at openedAt + disputeTimeout", async function () {
        const f = await loadFixture(deployJobsFixture);
        await twoOfThree(f);
        const { jobId, openedAt } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, true); // one of two fault votes: still pending
        await time.setNextBlockTimestamp(openedAt + DISPUTE_TIMEOUT);
        const tx = f.disputes.connect(f.outsider).resolve(jobId);
        await expect(tx).to.emit(f.disputes, "DisputeResolved").withArgs(jobId, Outcome.TimedOut, 0n, 0n);
        await expect(tx)
          .to.emit(f.coordinator, "JobFinalized")
          .withArgs(jobId, f.provider1.address, VOUCHERS_PAID, VOUCHERS_ESCROWED - VOUCHERS_PAID);
        await expect(tx).to.changeTokenBalances(
          f.token,
          [f.challenger, f.disputes, f.provider1, f.registry],
          [CHALLENGE_BOND, -CHALLENGE_BOND, 0n, 0n],
        );
        expect(await jobStatus(f, jobId)).to.equal(Status.Finalized);
        const record = await f.registry.getProvider(f.provider1.address);
        expect([record.bond, record.jailedUntil]).to.deep.equal([BOND, 0n]);
        expect(await disputeOf(f.disputes, jobId)).to.include({ outcome: BigInt(Outcome.TimedOut) });
      });

      it("returns TimedOut, also while the coordinator is paused", async function () {
        const f = await loadFixture(deployJobsFixture);
        const { jobId, openedAt } = await challengedJob(f);
        await f.coordinator.connect(f.guardian).pause();
        await time.increaseTo(openedAt + DISPUTE_TIMEOUT);
        expect(await f.disputes.resolve.staticCall(jobId)).to.equal(Outcome.TimedOut);
        await expect(f.disputes.resolve(jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(jobId, Outcome.TimedOut, 0n, 0n);
      });
    });
  });

  describe("openDisputes", function () {
    it("counts a dispute from its challenge until its resolution, whatever the outcome", async function () {
      const f = await loadFixture(deployJobsFixture);
      expect(await f.disputes.openDisputes()).to.equal(0n);
      const upheld = await challengedJob(f);
      expect(await f.disputes.openDisputes()).to.equal(1n);
      const rejected = await challengedJob(f);
      const timedOut = await challengedJob(f);
      expect(await f.disputes.openDisputes()).to.equal(3n);

      await f.verifier.connect(f.arbiter1).vote(upheld.jobId, true);
      await expect(f.disputes.resolve(upheld.jobId))
        .to.emit(f.disputes, "DisputeResolved")
        .withArgs(upheld.jobId, Outcome.Upheld, faultSlash(BOND).total, faultSlash(BOND).fee);
      expect(await f.disputes.openDisputes()).to.equal(2n);

      await f.verifier.connect(f.arbiter1).vote(rejected.jobId, false);
      await expect(f.disputes.resolve(rejected.jobId))
        .to.emit(f.disputes, "DisputeResolved")
        .withArgs(rejected.jobId, Outcome.Rejected, 0n, 0n);
      expect(await f.disputes.openDisputes()).to.equal(1n);

      await time.increaseTo(timedOut.openedAt + DISPUTE_TIMEOUT);
      await expect(f.disputes.resolve(timedOut.jobId))
        .to.emit(f.disputes, "DisputeResolved")
        .withArgs(timedOut.jobId, Outcome.TimedOut, 0n, 0n);
      expect(await f.disputes.openDisputes()).to.equal(0n);
    });

    it("is not changed by a failed challenge or a failed resolution", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId } = await challengedJob(f);
      await expect(f.disputes.connect(f.challenger).challenge(jobId)).to.be.revertedWithCustomError(
        f.coordinator,
        "InvalidJobStatus",
      );
      await expect(f.disputes.resolve(jobId)).to.be.revertedWithCustomError(f.disputes, "NotResolvable");
      await expect(f.disputes.resolve(999)).to.be.revertedWithCustomError(f.disputes, "NoOpenDispute");
      expect(await f.disputes.openDisputes()).to.equal(1n);
    });
  });

  describe("governance", function () {
    async function fixture() {
      return loadFixture(deployJobsFixture);
    }

    it("lets only the admin change any parameter or the verifier", async function () {
      const f = await fixture();
      const v = await deployVerifier(f);
      const calls = [
        () => f.disputes.connect(f.outsider).setChallengeBond(1n),
        () => f.disputes.connect(f.outsider).setDisputeTimeout(MIN_TIMEOUT),
        () => f.disputes.connect(f.outsider).setSlashing(0, 0),
        () => f.disputes.connect(f.outsider).setJailDuration(MIN_JAIL),
        () => f.disputes.connect(f.guardian).setVerifier(v),
      ];
      for (const call of calls) {
        await expect(call()).to.be.revertedWithCustomError(f.disputes, "AccessControlUnauthorizedAccount");
      }
      await expect(f.disputes.connect(f.outsider).setChallengeBond(1n))
        .to.be.revertedWithCustomError(f.disputes, "AccessControlUnauthorizedAccount")
        .withArgs(f.outsider.address, ROLES.DEFAULT_ADMIN);
    });

    describe("setChallengeBond", function () {
      it("accepts (0, 1e27], emits ParameterUpdated and applies to the next challenge only", async function () {
        const f = await fixture();
        const { jobId } = await challengedJob(f);
        await expect(f.disputes.connect(f.admin).setChallengeBond(MAX_BOND))
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("challengeBond"), CHALLENGE_BOND, MAX_BOND);
        const bond = 7n * WAD;
        await expect(f.disputes.connect(f.admin).setChallengeBond(bond))
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("challengeBond"), MAX_BOND, bond);
        expect(await f.disputes.challengeBond()).to.equal(bond);

        const next = await submittedJob(f);
        await expect(f.disputes.connect(f.challenger).challenge(next)).to.changeTokenBalance(
          f.token,
          f.challenger,
          -bond,
        );
        await time.increase(DISPUTE_TIMEOUT);
        await expect(f.disputes.resolve(jobId)).to.changeTokenBalance(f.token, f.challenger, CHALLENGE_BOND);
        await f.disputes.connect(f.admin).setChallengeBond(1n);
        expect(await f.disputes.challengeBond()).to.equal(1n);
      });

      it("rejects zero and more than 1e27", async function () {
        const f = await fixture();
        for (const value of [0n, MAX_BOND + 1n]) {
          await expect(f.disputes.connect(f.admin).setChallengeBond(value))
            .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
            .withArgs(param("challengeBond"), value, 1n, MAX_BOND);
        }
      });
    });

    describe("setDisputeTimeout", function () {
      it("accepts a timeout whose window fits the unbonding period exactly, and emits ParameterUpdated", async function () {
        const f = await fixture();
        const timeout = UNBONDING - CHALLENGE_WINDOW;
        await expect(f.disputes.connect(f.admin).setDisputeTimeout(timeout))
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("disputeTimeout"), DISPUTE_TIMEOUT, timeout);
        expect(await f.disputes.disputeTimeout()).to.equal(timeout);
        expect(await f.coordinator.slashableWindow()).to.equal(UNBONDING);
      });

      it("refuses a challenge window plus timeout longer than the registry's unbonding period", async function () {
        const f = await fixture();
        const timeout = UNBONDING - CHALLENGE_WINDOW + 1n;
        await expect(f.disputes.connect(f.admin).setDisputeTimeout(timeout))
          .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
          .withArgs(param("slashableWindow"), UNBONDING + 1n, 0n, UNBONDING);

        // The coordinator's live window counts: a longer window leaves less room for the timeout.
        const window = 2n * HOUR;
        await f.coordinator.connect(f.admin).setChallengeWindow(window);
        await expect(f.disputes.connect(f.admin).setDisputeTimeout(UNBONDING - CHALLENGE_WINDOW))
          .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
          .withArgs(param("slashableWindow"), UNBONDING - CHALLENGE_WINDOW + window, 0n, UNBONDING);
        await f.disputes.connect(f.admin).setDisputeTimeout(UNBONDING - window);
        expect(await f.disputes.disputeTimeout()).to.equal(UNBONDING - window);
      });

      it("does not shorten an open dispute when lowered, while new disputes use the new timeout", async function () {
        const f = await fixture();
        const first = await challengedJob(f);
        const firstTimeoutAt = first.openedAt + DISPUTE_TIMEOUT;
        await f.disputes.connect(f.admin).setDisputeTimeout(MIN_TIMEOUT);
        expect((await f.disputes.getDispute(first.jobId)).timeoutAt).to.equal(firstTimeoutAt);

        const second = await challengedJob(f);
        const secondTimeoutAt = second.openedAt + MIN_TIMEOUT;
        expect((await f.disputes.getDispute(second.jobId)).timeoutAt).to.equal(secondTimeoutAt);
        expect(secondTimeoutAt).to.be.lessThan(firstTimeoutAt);

        await time.setNextBlockTimestamp(secondTimeoutAt);
        await expect(f.disputes.resolve(second.jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(second.jobId, Outcome.TimedOut, 0n, 0n);
        // The first dispute, opened under the 1-day timeout, is past openedAt + 1 hour yet still running.
        expect(await now()).to.be.greaterThanOrEqual(first.openedAt + MIN_TIMEOUT);
        await expect(f.disputes.resolve(first.jobId))
          .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
          .withArgs(first.jobId, firstTimeoutAt);
        await time.setNextBlockTimestamp(firstTimeoutAt - 1n);
        await expect(f.disputes.resolve(first.jobId))
          .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
          .withArgs(first.jobId, firstTimeoutAt);
        await time.setNextBlockTimestamp(firstTimeoutAt);
        await expect(f.disputes.resolve(first.jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(first.jobId, Outcome.TimedOut, 0n, 0n);
      });

      it("does not stretch an open dispute when raised, while new disputes use the new timeout", async function () {
        const f = await fixture();
        const raised = UNBONDING - CHALLENGE_WINDOW;
        const first = await challengedJob(f);
        const firstTimeoutAt = first.openedAt + DISPUTE_TIMEOUT;
        await f.disputes.connect(f.admin).setDisputeTimeout(raised);
        expect((await f.disputes.getDispute(first.jobId)).timeoutAt).to.equal(firstTimeoutAt);

        const second = await challengedJob(f);
        const secondTimeoutAt = second.openedAt + raised;
        expect((await f.disputes.getDispute(second.jobId)).timeoutAt).to.equal(secondTimeoutAt);

        // The first dispute times out exactly when it would have under the old timeout.
        await time.setNextBlockTimestamp(firstTimeoutAt);
        await expect(f.disputes.resolve(first.jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(first.jobId, Outcome.TimedOut, 0n, 0n);
        // The second one runs past openedAt + 1 day, up to its own, longer timeout.
        await time.increaseTo(second.openedAt + DISPUTE_TIMEOUT);
        await expect(f.disputes.resolve(second.jobId))
          .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
          .withArgs(second.jobId, secondTimeoutAt);
        await time.setNextBlockTimestamp(secondTimeoutAt - 1n);
        await expect(f.disputes.resolve(second.jobId))
          .to.be.revertedWithCustomError(f.disputes, "NotResolvable")
          .withArgs(second.jobId, secondTimeoutAt);
        await time.setNextBlockTimestamp(secondTimeoutAt);
        await expect(f.disputes.resolve(second.jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(second.jobId, Outcome.TimedOut, 0n, 0n);
      });

      it("rejects less than 1 hour and more than 30 days", async function () {
        const f = await fixture();
        await f.registry.connect(f.admin).setUnbondingPeriod(MAX_UNBONDING);
        for (const value of [MIN_TIMEOUT - 1n, MAX_TIMEOUT + 1n]) {
          await expect(f.disputes.connect(f.admin).setDisputeTimeout(value))
            .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
            .withArgs(param("disputeTimeout"), value, MIN_TIMEOUT, MAX_TIMEOUT);
        }
        await f.disputes.connect(f.admin).setDisputeTimeout(MAX_TIMEOUT);
        expect(await f.disputes.disputeTimeout()).to.equal(MAX_TIMEOUT);
        await f.disputes.connect(f.admin).setDisputeTimeout(MIN_TIMEOUT);
        expect(await f.disputes.disputeTimeout()).to.equal(MIN_TIMEOUT);
      });
    });

    describe("setSlashing", function () {
      it("accepts up to 10,000 bps each and emits both parameters", async function () {
        const f = await fixture();
        const tx = f.disputes.connect(f.admin).setSlashing(BPS, 0);
        await expect(tx)
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("faultSlashBps"), FAULT_SLASH_BPS, BPS);
        await expect(tx)
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("finderFeeBps"), FINDER_FEE_BPS, 0n);
        expect([await f.disputes.faultSlashBps(), await f.disputes.finderFeeBps()]).to.deep.equal([BPS, 0n]);
        await f.disputes.connect(f.admin).setSlashing(0, BPS);
        expect([await f.disputes.faultSlashBps(), await f.disputes.finderFeeBps()]).to.deep.equal([0n, BPS]);
      });

      it("rejects more than 10,000 bps for either", async function () {
        const f = await fixture();
        await expect(f.disputes.connect(f.admin).setSlashing(BPS + 1n, 0))
          .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
          .withArgs(param("faultSlashBps"), BPS + 1n, 0n, BPS);
        await expect(f.disputes.connect(f.admin).setSlashing(0, BPS + 1n))
          .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
          .withArgs(param("finderFeeBps"), BPS + 1n, 0n, BPS);
      });
    });

    describe("setJailDuration", function () {
      it("accepts [1 day, 365 days] and emits ParameterUpdated", async function () {
        const f = await fixture();
        await expect(f.disputes.connect(f.admin).setJailDuration(MAX_JAIL))
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("jailDuration"), JAIL, MAX_JAIL);
        expect(await f.disputes.jailDuration()).to.equal(MAX_JAIL);
        await expect(f.disputes.connect(f.admin).setJailDuration(MIN_JAIL))
          .to.emit(f.disputes, "ParameterUpdated")
          .withArgs(param("jailDuration"), MAX_JAIL, MIN_JAIL);
        expect(await f.disputes.jailDuration()).to.equal(MIN_JAIL);
      });

      it("rejects less than 1 day and more than 365 days", async function () {
        const f = await fixture();
        for (const value of [MIN_JAIL - 1n, MAX_JAIL + 1n]) {
          await expect(f.disputes.connect(f.admin).setJailDuration(value))
            .to.be.revertedWithCustomError(f.disputes, "ParameterOutOfBounds")
            .withArgs(param("jailDuration"), value, MIN_JAIL, MAX_JAIL);
        }
      });
    });

    describe("setVerifier", function () {
      it("replaces the verifier, emits VerifierUpdated and rejects the zero address", async function () {
        const f = await fixture();
        const v = await deployVerifier(f);
        await expect(
          f.disputes.connect(f.admin).setVerifier(ethers.ZeroAddress),
        ).to.be.revertedWithCustomError(f.disputes, "ZeroAddress");
        await expect(f.disputes.connect(f.admin).setVerifier(v))
          .to.emit(f.disputes, "VerifierUpdated")
          .withArgs(await f.verifier.getAddress(), await v.getAddress());
        expect(await f.disputes.verifier()).to.equal(await v.getAddress());
      });

      it("lets the new verifier decide disputes already open, ignoring the old one's votes", async function () {
        const f = await fixture();
        const { jobId } = await challengedJob(f);
        await f.verifier.connect(f.arbiter1).vote(jobId, false); // the old committee finds the result valid
        const v = await deployVerifier(f);
        await v.connect(f.admin).grantRole(ROLES.ARBITER, f.arbiter2.address);
        await f.disputes.connect(f.admin).setVerifier(v);
        await expect(f.disputes.resolve(jobId)).to.be.revertedWithCustomError(f.disputes, "NotResolvable");

        await v.connect(f.arbiter2).vote(jobId, true);
        const { total, fee } = faultSlash(BOND);
        await expect(f.disputes.resolve(jobId))
          .to.emit(f.disputes, "DisputeResolved")
          .withArgs(jobId, Outcome.Upheld, total, fee);
      });
    });

    describe("replacing the module (JobCoordinator.setDisputeModule)", function () {
      /** A second DisputeModule on the fixture's coordinator, registry and verifier, with the registry's SLASHER_ROLE. */
      async function secondModule(f: JobsFixture) {
        const factory = await ethers.getContractFactory("DisputeModule");
        const m = (await factory.deploy(
          await f.coordinator.getAddress(),
          await f.registry.getAddress(),
          await f.verifier.getAddress(),
          f.admin.address,
          config(),
        )) as unknown as DisputeModule;
        await f.registry.connect(f.admin).grantRole(ROLES.SLASHER, await m.getAddress());
        await f.token.connect(f.challenger).approve(await m.getAddress(), ethers.MaxUint256);
        return m;
      }

      it("is refused while the current module has open disputes, and allowed once they are resolved", async function () {
        const f = await fixture();
        const next = await secondModule(f);
        const first = await challengedJob(f);
        const second = await challengedJob(f);
        await expect(f.coordinator.connect(f.admin).setDisputeModule(next))
          .to.be.revertedWithCustomError(f.coordinator, "DisputesStillOpen")
          .withArgs(2n);

        await f.verifier.connect(f.arbiter1).vote(first.jobId, true);
        await f.disputes.resolve(first.jobId);
        await expect(f.coordinator.connect(f.admin).setDisputeModule(next))
          .to.be.revertedWithCustomError(f.coordinator, "DisputesStillOpen")
          .withArgs(1n);

        await time.increaseTo(second.openedAt + DISPUTE_TIMEOUT);
        await f.disputes.resolve(second.jobId);
        expect(await f.disputes.openDisputes()).to.equal(0n);
        await expect(f.coordinator.connect(f.admin).setDisputeModule(next))
          .to.emit(f.coordinator, "DisputeModuleUpdated")
          .withArgs(await f.disputes.getAddress(), await next.getAddress());
        expect(await f.coordinator.disputeModule()).to.equal(await next.getAddress());
        expect(await f.coordinator.hasRole(ROLES.DISPUTE, await f.disputes.getAddress())).to.equal(false);
        expect(await f.coordinator.hasRole(ROLES.DISPUTE, await next.getAddress())).to.equal(true);
      });

      it("hands new challenges to the new module and shuts the old one out", async function () {
        const f = await fixture();
        const next = await secondModule(f);
        await f.coordinator.connect(f.admin).setDisputeModule(next);
        const jobId = await submittedJob(f);
        await expect(f.disputes.connect(f.challenger).challenge(jobId))
          .to.be.revertedWithCustomError(f.coordinator, "AccessControlUnauthorizedAccount")
          .withArgs(await f.disputes.getAddress(), ROLES.DISPUTE);

        await expect(next.connect(f.challenger).challenge(jobId)).to.changeTokenBalances(
          f.token,
          [f.challenger, next, f.disputes],
          [-CHALLENGE_BOND, CHALLENGE_BOND, 0n],
        );
        expect(await jobStatus(f, jobId)).to.equal(Status.Challenged);
        expect([await next.openDisputes(), await f.disputes.openDisputes()]).to.deep.equal([1n, 0n]);
        // The new module's open dispute now blocks switching back.
        await expect(f.coordinator.connect(f.admin).setDisputeModule(f.disputes))
          .to.be.revertedWithCustomError(f.coordinator, "DisputesStillOpen")
          .withArgs(1n);

        await f.verifier.connect(f.arbiter1).vote(jobId, true);
        const { total, fee } = faultSlash(BOND);
        await expect(next.resolve(jobId))
          .to.emit(next, "DisputeResolved")
          .withArgs(jobId, Outcome.Upheld, total, fee);
        expect(await jobStatus(f, jobId)).to.equal(Status.Faulted);
        expect(await next.openDisputes()).to.equal(0n);
      });
    });
  });
});

describe("ArbiterCommitteeVerifier", function () {
  describe("deployment", function () {
    it("is deployed with the fixture's arbiter, threshold 1 and the coordinator", async function () {
      const f = await loadFixture(deployJobsFixture);
      expect(await f.verifier.threshold()).to.equal(1n);
      expect(await f.verifier.coordinator()).to.equal(await f.coordinator.getAddress());
      expect(await f.verifier.ARBITER_ROLE()).to.equal(ROLES.ARBITER);
      expect(await f.verifier.hasRole(ROLES.ARBITER, f.arbiter1.address)).to.equal(true);
      expect(await f.verifier.hasRole(ROLES.DEFAULT_ADMIN, f.admin.address)).to.equal(true);
    });

    it("rejects a zero coordinator or admin and a threshold outside [1, 255]", async function () {
      const f = await loadFixture(deployJobsFixture);
      const factory = await ethers.getContractFactory("ArbiterCommitteeVerifier");
      const coordinator = await f.coordinator.getAddress();
      await expect(factory.deploy(ethers.ZeroAddress, f.admin.address, 1)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      await expect(factory.deploy(coordinator, ethers.ZeroAddress, 1)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
      for (const value of [0n, 256n]) {
        await expect(factory.deploy(coordinator, f.admin.address, value))
          .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
          .withArgs(param("threshold"), value, 1n, 255n);
      }
      const v = await factory.deploy(coordinator, f.admin.address, 255);
      await expect(v.deploymentTransaction()).to.emit(v, "ThresholdUpdated").withArgs(0n, 255n);
    });
  });

  describe("vote", function () {
    it("records an arbiter's vote with the running tallies", async function () {
      const f = await loadFixture(deployJobsFixture);
      const arbiter3 = await twoOfThree(f);
      const { jobId } = await challengedJob(f);
      expect(await f.verifier.hasVoted(jobId, f.arbiter1.address)).to.equal(false);
      await expect(f.verifier.connect(f.arbiter1).vote(jobId, true))
        .to.emit(f.verifier, "Voted")
        .withArgs(jobId, f.arbiter1.address, true, 1n, 0n);
      await expect(f.verifier.connect(f.arbiter2).vote(jobId, false))
        .to.emit(f.verifier, "Voted")
        .withArgs(jobId, f.arbiter2.address, false, 1n, 1n);
      await expect(f.verifier.connect(arbiter3).vote(jobId, true))
        .to.emit(f.verifier, "Voted")
        .withArgs(jobId, arbiter3.address, true, 2n, 1n);
      expect(await f.verifier.tally(jobId)).to.deep.equal([2n, 1n]);
      for (const a of [f.arbiter1, f.arbiter2, arbiter3]) {
        expect(await f.verifier.hasVoted(jobId, a.address)).to.equal(true);
      }
      expect(await f.verifier.hasVoted(jobId, f.outsider.address)).to.equal(false);
    });

    it("keeps tallies per job", async function () {
      const f = await loadFixture(deployJobsFixture);
      const first = await challengedJob(f);
      const second = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(first.jobId, true);
      await f.verifier.connect(f.arbiter1).vote(second.jobId, false);
      expect(await f.verifier.tally(first.jobId)).to.deep.equal([1n, 0n]);
      expect(await f.verifier.tally(second.jobId)).to.deep.equal([0n, 1n]);
      expect(await f.verifier.verdict(first.jobId)).to.equal(FAULT);
      expect(await f.verifier.verdict(second.jobId)).to.equal(VALID);
    });

    it("is refused to anyone without ARBITER_ROLE", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId } = await challengedJob(f);
      for (const s of [f.outsider, f.admin, f.challenger]) {
        await expect(f.verifier.connect(s).vote(jobId, true))
          .to.be.revertedWithCustomError(f.verifier, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.ARBITER);
      }
    });

    it("rejects a second vote by the same arbiter, either way", async function () {
      const f = await loadFixture(deployJobsFixture);
      await twoOfThree(f);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      for (const fault of [true, false]) {
        await expect(f.verifier.connect(f.arbiter1).vote(jobId, fault))
          .to.be.revertedWithCustomError(f.verifier, "AlreadyVoted")
          .withArgs(jobId, f.arbiter1.address);
      }
      expect(await f.verifier.tally(jobId)).to.deep.equal([1n, 0n]);
    });

    it("refuses any vote once a side has reached the threshold, so the first verdict stands", async function () {
      const f = await loadFixture(deployJobsFixture);
      await f.verifier.connect(f.admin).grantRole(ROLES.ARBITER, f.arbiter2.address);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, false);
      expect(await f.verifier.verdict(jobId)).to.equal(VALID);
      for (const fault of [true, false]) {
        await expect(f.verifier.connect(f.arbiter2).vote(jobId, fault))
          .to.be.revertedWithCustomError(f.verifier, "VerdictReached")
          .withArgs(jobId, VALID);
      }
      expect(await f.verifier.tally(jobId)).to.deep.equal([0n, 1n]);
      expect(await f.verifier.hasVoted(jobId, f.arbiter2.address)).to.equal(false);
      expect(await f.disputes.resolve.staticCall(jobId)).to.equal(Outcome.Rejected);
      await expect(f.disputes.resolve(jobId))
        .to.emit(f.disputes, "DisputeResolved")
        .withArgs(jobId, Outcome.Rejected, 0n, 0n);
    });

    it("refuses the last arbiter of a 2-of-3 committee once two found a fault", async function () {
      const f = await loadFixture(deployJobsFixture);
      const arbiter3 = await twoOfThree(f);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      await f.verifier.connect(f.arbiter2).vote(jobId, true);
      await expect(f.verifier.connect(arbiter3).vote(jobId, false))
        .to.be.revertedWithCustomError(f.verifier, "VerdictReached")
        .withArgs(jobId, FAULT);
      expect(await f.verifier.tally(jobId)).to.deep.equal([2n, 0n]);
    });

    it("rejects an unknown job with the coordinator's UnknownJob", async function () {
      const f = await loadFixture(deployJobsFixture);
      await expect(f.verifier.connect(f.arbiter1).vote(42, true))
        .to.be.revertedWithCustomError(f.coordinator, "UnknownJob")
        .withArgs(42);
    });

    it("rejects a job that is not under challenge", async function () {
      const f = await loadFixture(deployJobsFixture);
      const jobId = await request(f, Kind.Voucher);
      await expect(f.verifier.connect(f.arbiter1).vote(jobId, true))
        .to.be.revertedWithCustomError(f.verifier, "DisputeNotOpen")
        .withArgs(jobId);
      await accept(f, jobId);
      await expect(f.verifier.connect(f.arbiter1).vote(jobId, true))
        .to.be.revertedWithCustomError(f.verifier, "DisputeNotOpen")
        .withArgs(jobId);
      await submit(f, jobId, UNITS_USED);
      await expect(f.verifier.connect(f.arbiter1).vote(jobId, true))
        .to.be.revertedWithCustomError(f.verifier, "DisputeNotOpen")
        .withArgs(jobId);
    });

    it("rejects votes once the dispute is resolved (job finalized or faulted)", async function () {
      const f = await loadFixture(deployJobsFixture);
      await twoOfThree(f);
      const arbiter3 = await thirdArbiter();
      const valid = await challengedJob(f);
      const faulty = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(valid.jobId, false);
      await f.verifier.connect(f.arbiter2).vote(valid.jobId, false);
      await f.verifier.connect(f.arbiter1).vote(faulty.jobId, true);
      await f.verifier.connect(f.arbiter2).vote(faulty.jobId, true);
      await f.disputes.resolve(valid.jobId);
      await f.disputes.resolve(faulty.jobId);
      expect(await jobStatus(f, valid.jobId)).to.equal(Status.Finalized);
      expect(await jobStatus(f, faulty.jobId)).to.equal(Status.Faulted);
      for (const jobId of [valid.jobId, faulty.jobId]) {
        await expect(f.verifier.connect(arbiter3).vote(jobId, true))
          .to.be.revertedWithCustomError(f.verifier, "DisputeNotOpen")
          .withArgs(jobId);
      }
    });
  });

  describe("verdict", function () {
    it("is Pending for a job nobody voted on", async function () {
      const f = await loadFixture(deployJobsFixture);
      expect(await f.verifier.verdict(999)).to.equal(PENDING);
      expect(await f.verifier.tally(999)).to.deep.equal([0n, 0n]);
    });

    it("needs two fault votes of three for Fault", async function () {
      const f = await loadFixture(deployJobsFixture);
      const arbiter3 = await twoOfThree(f);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      expect(await f.verifier.verdict(jobId)).to.equal(PENDING);
      await f.verifier.connect(f.arbiter2).vote(jobId, false);
      expect(await f.verifier.verdict(jobId)).to.equal(PENDING);
      await f.verifier.connect(arbiter3).vote(jobId, true);
      expect(await f.verifier.verdict(jobId)).to.equal(FAULT);
      expect(await f.disputes.resolve.staticCall(jobId)).to.equal(Outcome.Upheld);
    });

    it("needs two valid votes of three for Valid", async function () {
      const f = await loadFixture(deployJobsFixture);
      const arbiter3 = await twoOfThree(f);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, false);
      expect(await f.verifier.verdict(jobId)).to.equal(PENDING);
      await expect(f.disputes.resolve(jobId)).to.be.revertedWithCustomError(f.disputes, "NotResolvable");
      await f.verifier.connect(arbiter3).vote(jobId, false);
      expect(await f.verifier.verdict(jobId)).to.equal(VALID);
      expect(await f.disputes.resolve.staticCall(jobId)).to.equal(Outcome.Rejected);
    });

    it("lets Fault win when both sides reach a lowered threshold, whatever the vote order", async function () {
      const f = await loadFixture(deployJobsFixture);
      await twoOfThree(f);
      const faultFirst = await challengedJob(f);
      const validFirst = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(faultFirst.jobId, true);
      await f.verifier.connect(f.arbiter2).vote(faultFirst.jobId, false);
      await f.verifier.connect(f.arbiter1).vote(validFirst.jobId, false);
      await f.verifier.connect(f.arbiter2).vote(validFirst.jobId, true);
      expect(await f.verifier.verdict(faultFirst.jobId)).to.equal(PENDING);
      expect(await f.verifier.verdict(validFirst.jobId)).to.equal(PENDING);

      await f.verifier.connect(f.admin).setThreshold(1);
      expect(await f.verifier.verdict(faultFirst.jobId)).to.equal(FAULT);
      expect(await f.verifier.verdict(validFirst.jobId)).to.equal(FAULT);
      await expect(f.verifier.connect(await thirdArbiter()).vote(validFirst.jobId, false))
        .to.be.revertedWithCustomError(f.verifier, "VerdictReached")
        .withArgs(validFirst.jobId, FAULT);
      const { total, fee } = faultSlash(BOND);
      await expect(f.disputes.resolve(validFirst.jobId))
        .to.emit(f.disputes, "DisputeResolved")
        .withArgs(validFirst.jobId, Outcome.Upheld, total, fee);
    });

    it("goes back to Pending when the threshold is raised above the votes", async function () {
      const f = await loadFixture(deployJobsFixture);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      expect(await f.verifier.verdict(jobId)).to.equal(FAULT);
      await f.verifier.connect(f.admin).setThreshold(2);
      expect(await f.verifier.verdict(jobId)).to.equal(PENDING);
    });

    it("keeps the vote of an arbiter removed after voting", async function () {
      const f = await loadFixture(deployJobsFixture);
      const arbiter3 = await twoOfThree(f);
      const { jobId } = await challengedJob(f);
      await f.verifier.connect(f.arbiter1).vote(jobId, true);
      await f.verifier.connect(f.admin).revokeRole(ROLES.ARBITER, f.arbiter1.address);
      await f.verifier.connect(arbiter3).vote(jobId, true);
      expect(await f.verifier.verdict(jobId)).to.equal(FAULT);
    });
  });

  describe("setThreshold", function () {
    it("accepts [1, 255] and emits ThresholdUpdated", async function () {
      const f = await loadFixture(deployJobsFixture);
      await expect(f.verifier.connect(f.admin).setThreshold(255))
        .to.emit(f.verifier, "ThresholdUpdated")
        .withArgs(1n, 255n);
      expect(await f.verifier.threshold()).to.equal(255n);
      await expect(f.verifier.connect(f.admin).setThreshold(1))
        .to.emit(f.verifier, "ThresholdUpdated")
        .withArgs(255n, 1n);
      expect(await f.verifier.threshold()).to.equal(1n);
    });

    it("rejects 0 and more than 255", async function () {
      const f = await loadFixture(deployJobsFixture);
      for (const value of [0n, 256n]) {
        await expect(f.verifier.connect(f.admin).setThreshold(value))
          .to.be.revertedWithCustomError(f.verifier, "ParameterOutOfBounds")
          .withArgs(param("threshold"), value, 1n, 255n);
      }
    });

    it("is refused to anyone but the admin", async function () {
      const f = await loadFixture(deployJobsFixture);
      for (const s of [f.arbiter1, f.outsider]) {
        await expect(f.verifier.connect(s).setThreshold(2))
          .to.be.revertedWithCustomError(f.verifier, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.DEFAULT_ADMIN);
      }
    });
  });
});
