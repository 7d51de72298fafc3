/// <reference types="chai-as-promised" />
import { readFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployLocalFixture } from "./taskFixture";
import { formatAmount } from "../../tasks/lib";
import { formatTime, usd } from "../../tasks/lib";
import type {
  ArbiterCommitteeVerifier,
  BurnMintEngine,
  ComputeCredit,
  DailyCredit,
  DisputeModule,
  JobCoordinator,
  MockStablecoin,
  ProtocolToken,
  ProviderRegistry,
  StakingVault,
  VoucherMarket,
} from "../../typechain-types";

const WAD = 10n ** 18n;
const USDC = 10n ** 6n;
const BPS = 10_000n;
const DAY = 86_400n;
const MODEL = ethers.id("stories260K");
/** The provider's offer: $0.001 per unit, written as the task takes it. */
const PRICE_TEXT = "0.001";
const PRICE = WAD / 1000n;
const BOND_TEXT = "5000";
const BOND = 5_000n * WAD;
/** Daily credits the requester mints: $10 of allowance a day. */
const DAILY_CREDITS = 10n * WAD;
const MAX_UNITS = 2_000n;
/** localhost.json: 1 CNDR of collateral per USD a job puts at stake. */
const COLLATERAL_PER_USD = WAD;
/** Local voucher class 1 (CinderLocalSetup): 100,000 units for 1 USDC (6 decimals), i.e. $1 (18 decimals). */
const UNITS_PER_VOUCHER = 100_000n;
const VOUCHER_PRICE = 1n * USDC;
const USD_PER_VOUCHER = VOUCHER_PRICE * 10n ** 12n;
/** Collateral of a voucher job: its escrowed vouchers' USD value × collateralPerUsd, rounded up. */
const voucherCollateral = (vouchers: bigint) =>
  (vouchers * USD_PER_VOUCHER * COLLATERAL_PER_USD + WAD - 1n) / WAD;
const UNITS_USED = 1_500n;
const PROMPT = "Once upon a time";
const OUTPUT = "there was a tiny model.";
enum Status {
  None,
  Requested,
  Accepted,
  Submitted,
  Challenged,
  Finalized,
  Cancelled,
  Expired,
  Faulted,
}

/** Runs a task with console.log captured; returns what it printed. */
async function run(name: string, args: Record<string, unknown> = {}): Promise<string> {
  const lines: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => {
    lines.push(parts.map(String).join(" "));
  };
  try {
    await hre.run(name, args);
  } finally {
    console.log = original;
  }
  return lines.join("\n");
}

/** The task fails with `message` and no transaction is sent (no block is mined). */
async function rejects(name: string, args: Record<string, unknown>, message: string | RegExp) {
  const before = await ethers.provider.getBlockNumber();
  await expect(run(name, args)).to.be.rejectedWith(message);
  expect(await ethers.provider.getBlockNumber()).to.equal(before);
}

/**
 * The local deployment with funded accounts and no provider yet: account 1 = provider (10,000 CNDR), 2 = its
 * attestation signer, 3 = requester (5 vouchers of class 1, $10/day of DailyCredit, ComputeCredit from burning
 * 1,000 CNDR, nothing approved for the coordinator), 4 = challenger (1,000 CNDR), 5 = outsider (nothing).
 */
async function fundedFixture() {
  const f = await deployLocalFixture();
  const at = async <T>(name: string, address: string) =>
    (await ethers.getContractAt(name, address)) as unknown as T;
  const [deployer, provider, attester, requester, challenger, outsider] = await ethers.getSigners();
  const manifest = JSON.parse(readFileSync(path.join(f.deploymentsDir, "31337.json"), "utf8")) as {
    extras: { stablecoin: string };
  };
  const c = {
    token: await at<ProtocolToken>("ProtocolToken", f.contracts.token),
    vault: await at<StakingVault>("StakingVault", f.contracts.vault),
    dailyCredit: await at<DailyCredit>("DailyCredit", f.contracts.dailyCredit),
    computeCredit: await at<ComputeCredit>("ComputeCredit", f.contracts.computeCredit),
    engine: await at<BurnMintEngine>("BurnMintEngine", f.contracts.engine),
    registry: await at<ProviderRegistry>("ProviderRegistry", f.contracts.providerRegistry),
    market: await at<VoucherMarket>("VoucherMarket", f.contracts.voucherMarket),
    coordinator: await at<JobCoordinator>("JobCoordinator", f.contracts.jobCoordinator),
    disputes: await at<DisputeModule>("DisputeModule", f.contracts.disputeModule),
    verifier: await at<ArbiterCommitteeVerifier>("ArbiterCommitteeVerifier", f.contracts.verifier),
    usdc: await at<MockStablecoin>("MockStablecoin", manifest.extras.stablecoin),
  };
  await c.token.connect(deployer).transfer(provider.address, 10_000n * WAD);
  await c.token.connect(deployer).transfer(requester.address, 100_000n * WAD);
  await c.token.connect(deployer).transfer(challenger.address, 1_000n * WAD);

  await c.usdc.mint(requester.address, 100n * USDC);
  await c.usdc.connect(requester).approve(f.contracts.voucherMarket, ethers.MaxUint256);
  await c.market.connect(requester).buy(1, 5, ethers.MaxUint256, requester.address);
  await c.token.connect(requester).approve(f.contracts.vault, ethers.MaxUint256);
  await c.vault.connect(requester).stake(10_000n * WAD);
  await c.dailyCredit.connect(requester).mint(DAILY_CREDITS, ethers.MaxUint256);
  await c.token.connect(requester).approve(f.contracts.engine, ethers.MaxUint256);
  await c.engine.connect(requester).mintCredits(1_000n * WAD, 0, requester.address);
  return { ...f, ...c, deployer, provider, attester, requester, challenger, outsider };
}
type Funded = Awaited<ReturnType<typeof fundedFixture>>;

/** fundedFixture plus the provider registered through `cinder:register-provider`. */
async function providerFixture() {
  const f = await loadFixture(fundedFixture);
  await run("cinder:register-provider", {
    from: "1",
    bond: BOND_TEXT,
    signer: f.attester.address,
    model: "stories260K",
    price: PRICE_TEXT,
    uri: "http://provider.local",
  });
  return f;
}

/** Requests a job as the requester through the task; returns its id. */
async function requestJob(f: Funded, args: Record<string, unknown>) {
  await run("cinder:request", {
    from: "3",
    model: "stories260K",
    prompt: PROMPT,
    maxUnits: String(MAX_UNITS),
    ...args,
  });
  return f.coordinator.jobCount();
}

/** request → accept → submit through the tasks; returns the id of the Submitted job. */
async function submittedJob(f: Funded, args: Record<string, unknown>) {
  const jobId = await requestJob(f, args);
  await run("cinder:accept", { from: "1", id: String(jobId) });
  await run("cinder:submit", {
    from: "1",
    id: String(jobId),
    output: OUTPUT,
    units: String(UNITS_USED),
    signer: "2",
  });
  return jobId;
}

async function passChallengeWindow(f: Funded) {
  await time.increase(await f.coordinator.challengeWindow());
}

describe("Job tasks (cinder:register-provider, request, job, accept, submit, finalize, disputes, epoch)", function () {
  describe("cinder:register-provider", function () {
    it("bonds the tokens (approving the registry), sets the signer and offers the model at the USD price", async function () {
      const f = await loadFixture(fundedFixture);
      const before = await f.token.balanceOf(f.provider.address);
      const out = await run("cinder:register-provider", {
        from: "1",
        bond: BOND_TEXT,
        signer: f.attester.address,
        model: "stories260K",
        price: PRICE_TEXT,
      });
      const record = await f.registry.getProvider(f.provider.address);
      expect(record.status).to.equal(1n);
      expect(record.bond).to.equal(BOND);
      expect(record.signer).to.equal(f.attester.address);
      expect(await f.registry.priceOf(f.provider.address, MODEL)).to.equal(PRICE);
      expect(await f.token.balanceOf(f.provider.address)).to.equal(before - BOND);
      expect(out).to.contain(`bond      ${formatAmount(BOND, "CNDR")}`);
      expect(out).to.contain(`at ${usd(PRICE)} per unit`);
    });

    it("rejects a bad bond, model, price or signer, a short balance and a second registration, sending nothing", async function () {
      const f = await loadFixture(providerFixture);
      const ok = {
        from: "5",
        bond: "1000",
        signer: f.attester.address,
        model: "stories260K",
        price: "0.001",
      };
      const minBond = formatAmount(await f.registry.minBond(), "CNDR");
      await rejects(
        "cinder:register-provider",
        { ...ok, bond: "999" },
        `is below the minimum bond ${minBond}`,
      );
      await rejects("cinder:register-provider", { ...ok, bond: "many" }, '--bond "many" is not a number');
      await rejects(
        "cinder:register-provider",
        { ...ok, model: "gpt-17" },
        /not registered; active models: stories260K/,
      );
      await rejects("cinder:register-provider", { ...ok, price: "0" }, "--price must be greater than zero");
      await rejects(
        "cinder:register-provider",
        { ...ok, signer: ethers.ZeroAddress },
        "--signer must not be",
      );
      await rejects(
        "cinder:register-provider",
        { ...ok, signer: "0x1234" },
        '--signer "0x1234" is not an address',
      );
      await rejects("cinder:register-provider", ok, `${f.outsider.address} holds 0.00 CNDR`);
      await rejects("cinder:register-provider", { ...ok, from: "1" }, "is already registered (Active)");
    });
  });

  describe("cinder:provider-exit", function () {
    it("starts unbonding, refuses --withdraw while a job is open or unbonding runs, then pays the bond back", async function () {
      const f = await loadFixture(providerFixture);
      await rejects(
        "cinder:provider-exit",
        { from: "1", withdraw: true },
        "run cinder:provider-exit (without --withdraw)",
      );
      const jobId = await requestJob(f, { pay: "voucher" });
      await run("cinder:accept", { from: "1", id: String(jobId) });

      await run("cinder:provider-exit", { from: "1" });
      const record = await f.registry.getProvider(f.provider.address);
      const unbonding = await f.registry.unbondingPeriod();
      const window = await f.registry.slashableWindow();
      expect(record.status).to.equal(2n);
      expect(record.unbondingEnds).to.equal(
        BigInt(await time.latest()) + (unbonding > window ? unbonding : window),
      );
      await rejects("cinder:provider-exit", { from: "1" }, "is already exiting");
      await rejects(
        "cinder:provider-exit",
        { from: "1", withdraw: true },
        /unbonding ends .*; 1 open job must settle/,
      );

      await time.increaseTo(record.unbondingEnds);
      await rejects(
        "cinder:provider-exit",
        { from: "1", withdraw: true },
        /cannot withdraw the bond yet: 1 open job/,
      );
      await run("cinder:expire", { id: String(jobId) });
      const slashed = (await f.registry.getProvider(f.provider.address)).bond;
      const before = await f.token.balanceOf(f.provider.address);
      const out = await run("cinder:provider-exit", { from: "1", withdraw: true });
      expect(await f.token.balanceOf(f.provider.address)).to.equal(before + slashed);
      expect((await f.registry.getProvider(f.provider.address)).status).to.equal(0n);
      expect(out).to.contain(`withdrew its bond: ${formatAmount(slashed, "CNDR")}`);
    });
  });

  describe("a job through the tasks, for each payment kind", function () {
    it("voucher: escrows whole vouchers (approving the coordinator), pays the used ones, returns the rest", async function () {
      const f = await loadFixture(providerFixture);
      const cls = await f.market.getClass(1);
      expect([cls.unitsPerVoucher, cls.unitPrice]).to.deep.equal([UNITS_PER_VOUCHER, VOUCHER_PRICE]);
      expect(await f.coordinator.collateralPerUsd()).to.equal(COLLATERAL_PER_USD);
      const maxUnits = cls.unitsPerVoucher + 1n; // two vouchers
      const held = await f.market.balanceOf(f.requester.address, 1);
      expect(await f.market.isApprovedForAll(f.requester.address, f.contracts.jobCoordinator)).to.equal(
        false,
      );

      const out = await run("cinder:request", {
        from: "3",
        model: "stories260K",
        prompt: PROMPT,
        maxUnits: String(maxUnits),
        pay: "voucher",
      });
      const jobId = await f.coordinator.jobCount();
      expect(out).to.contain(`job ${jobId} requested (Voucher class 1)`);
      expect(out).to.contain(`inputHash ${ethers.id(PROMPT)}`);
      expect(out).to.contain("escrow    2 vouchers of class 1");
      expect(await f.market.isApprovedForAll(f.requester.address, f.contracts.jobCoordinator)).to.equal(true);
      expect(await f.market.balanceOf(f.requester.address, 1)).to.equal(held - 2n);
      let job = await f.coordinator.getJob(jobId);
      expect(job.inputHash).to.equal(ethers.id(PROMPT));
      const [requested] = await f.coordinator.queryFilter(f.coordinator.filters.JobRequested(jobId));
      expect(ethers.toUtf8String(requested.args.inputRef)).to.equal("inline:");
      expect(job.deadline - BigInt(await time.latest())).to.be.within(9n * 60n, 10n * 60n);

      await run("cinder:accept", { from: "1", id: String(jobId) });
      // The two escrowed vouchers' value, not maxUnits × the provider's price.
      const collateral = voucherCollateral(2n);
      expect((await f.registry.getProvider(f.provider.address)).locked).to.equal(collateral);
      await run("cinder:submit", {
        from: "1",
        id: String(jobId),
        output: OUTPUT,
        units: "1500",
        signer: "2",
      });
      job = await f.coordinator.getJob(jobId);
      expect(job.status).to.equal(BigInt(Status.Submitted));
      expect(job.outputHash).to.equal(ethers.id(OUTPUT));
      expect(job.unitsUsed).to.equal(1_500n);

      await passChallengeWindow(f);
      const fin = await run("cinder:finalize", { id: String(jobId) });
      expect((await f.coordinator.getJob(jobId)).status).to.equal(BigInt(Status.Finalized));
      expect(fin).to.contain(
        `job ${jobId}: provider ${f.provider.address} paid 1 voucher, requester refunded 1 voucher`,
      );
      expect(await f.market.balanceOf(f.requester.address, 1)).to.equal(held - 1n);
      const fee = (cls.unitPrice * 100n + BPS - 1n) / BPS; // protocolFeeBps 100, rounded up
      expect(await f.market.owed(f.provider.address, await f.usdc.getAddress())).to.equal(
        cls.unitPrice - fee,
      );
      expect((await f.registry.getProvider(f.provider.address)).locked).to.equal(0n);
    });

    it("daily: spends maxUnits × max price of today's allowance and restores the unused part", async function () {
      const f = await loadFixture(providerFixture);
      // Early in a fresh UTC day, so the unused allowance comes back on the day it was spent.
      await time.increaseTo((BigInt(await time.latest()) / DAY + 1n) * DAY + 60n);
      const allowance = await f.dailyCredit.dailyAllowance(f.requester.address);
      const out = await run("cinder:request", {
        from: "3",
        model: "stories260K",
        prompt: PROMPT,
        maxUnits: String(MAX_UNITS),
        pay: "daily",
        maxPrice: PRICE_TEXT,
      });
      const jobId = await f.coordinator.jobCount();
      expect(out).to.contain(`escrow    ${usd(MAX_UNITS * PRICE)} of DailyCredit allowance`);
      expect(await f.dailyCredit.dailyAllowance(f.requester.address)).to.equal(allowance - MAX_UNITS * PRICE);

      await run("cinder:accept", { from: "1", id: String(jobId) });
      await run("cinder:submit", {
        from: "1",
        id: String(jobId),
        output: OUTPUT,
        units: String(UNITS_USED),
        signer: "2",
      });
      await passChallengeWindow(f);
      await run("cinder:finalize", { id: String(jobId) });
      expect((await f.coordinator.getJob(jobId)).status).to.equal(BigInt(Status.Finalized));
      expect(await f.computeCredit.balanceOf(f.provider.address)).to.equal(UNITS_USED * PRICE);
      expect(await f.dailyCredit.dailyAllowance(f.requester.address)).to.equal(
        allowance - UNITS_USED * PRICE,
      );
    });

    it("compute: escrows at the requester's cap (approving exactly that), settles at the provider's price", async function () {
      const f = await loadFixture(providerFixture);
      const cap = 2n * PRICE;
      const balance = await f.computeCredit.balanceOf(f.requester.address);
      const out = await run("cinder:request", {
        from: "3",
        model: "stories260K",
        prompt: PROMPT,
        maxUnits: String(MAX_UNITS),
        pay: "compute",
        maxPrice: "0.002",
      });
      const jobId = await f.coordinator.jobCount();
      expect(out).to.contain(`escrow    ${usd(MAX_UNITS * cap)} of ComputeCredit`);
      expect(out).to.contain(`max price ${usd(cap)} per unit`);
      expect(await f.computeCredit.balanceOf(f.requester.address)).to.equal(balance - MAX_UNITS * cap);
      expect(await f.computeCredit.allowance(f.requester.address, f.contracts.jobCoordinator)).to.equal(0n);

      const accepted = await run("cinder:accept", { from: "1", id: String(jobId) });
      expect(accepted).to.contain(
        `collateral ${formatAmount(MAX_UNITS * PRICE, "CNDR")} locked, price ${usd(PRICE)} per unit`,
      );
      expect((await f.coordinator.getJob(jobId)).pricePerUnit).to.equal(PRICE);
      await run("cinder:submit", {
        from: "1",
        id: String(jobId),
        output: OUTPUT,
        units: String(UNITS_USED),
        signer: "2",
      });
      await passChallengeWindow(f);
      const fin = await run("cinder:finalize", { id: String(jobId) });
      expect(fin).to.contain(
        `paid ${usd(UNITS_USED * PRICE)}, requester refunded ${usd(MAX_UNITS * cap - UNITS_USED * PRICE)}`,
      );
      expect(await f.computeCredit.balanceOf(f.provider.address)).to.equal(UNITS_USED * PRICE);
      expect(await f.computeCredit.balanceOf(f.requester.address)).to.equal(balance - UNITS_USED * PRICE);
    });

    it("a direct credit request defaults its cap to the named provider's price; --prompt-file hashes the file", async function () {
      const f = await loadFixture(providerFixture);
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), "cinder-prompt-")), "prompt.txt");
      writeFileSync(file, "a prompt from a file\n");
      await run("cinder:request", {
        from: "3",
        model: "stories260K",
        promptFile: file,
        maxUnits: String(MAX_UNITS),
        pay: "compute",
        provider: f.provider.address,
        inputRef: "ipfs://bafy",
        deadline: "1h",
      });
      const job = await f.coordinator.getJob(await f.coordinator.jobCount());
      expect(job.inputHash).to.equal(ethers.id("a prompt from a file\n"));
      expect(job.provider).to.equal(f.provider.address);
      expect(job.pricePerUnit).to.equal(PRICE);
      expect(job.escrow).to.equal(MAX_UNITS * PRICE);
      expect(job.deadline - BigInt(await time.latest())).to.be.within(59n * 60n, 60n * 60n);
      const [event] = await f.coordinator.queryFilter(
        f.coordinator.filters.JobRequested(await f.coordinator.jobCount()),
      );
      expect(ethers.toUtf8String(event.args.inputRef)).to.equal("ipfs://bafy");
    });

    it("cancel refunds an unaccepted job to its requester; expire refunds a late one and slashes its provider", async function () {
      const f = await loadFixture(providerFixture);
      const held = await f.market.balanceOf(f.requester.address, 1);
      const first = await requestJob(f, { pay: "voucher" });
      await rejects(
        "cinder:cancel",
        { from: "4", id: String(first) },
        `was requested by ${f.requester.address}`,
      );
      const out = await run("cinder:cancel", { from: "3", id: String(first) });
      expect(out).to.contain(`job ${first} cancelled: refunded 1 voucher`);
      expect(await f.market.balanceOf(f.requester.address, 1)).to.equal(held);

      const second = await requestJob(f, { pay: "voucher" });
      await run("cinder:accept", { from: "1", id: String(second) });
      await rejects(
        "cinder:cancel",
        { from: "3", id: String(second) },
        `job ${second} is Accepted: cancel needs Requested`,
      );
      await rejects("cinder:expire", { id: String(second) }, `job ${second}'s deadline is`);
      const bond = (await f.registry.getProvider(f.provider.address)).bond;
      await time.increaseTo((await f.coordinator.getJob(second)).deadline);
      const expired = await run("cinder:expire", { id: String(second) });
      const collateral = voucherCollateral(1n); // MAX_UNITS fit in one voucher
      const slash = (collateral * (await f.coordinator.lateSlashBps()) + BPS - 1n) / BPS;
      expect((await f.coordinator.getJob(second)).status).to.equal(BigInt(Status.Expired));
      expect((await f.registry.getProvider(f.provider.address)).bond).to.equal(bond - slash);
      expect(await f.market.balanceOf(f.requester.address, 1)).to.equal(held);
      expect(expired).to.contain(`provider ${f.provider.address} slashed ${formatAmount(slash, "CNDR")}`);
      await rejects(
        "cinder:expire",
        { id: String(second) },
        `job ${second} is Expired: expire needs Requested or Accepted`,
      );
    });
  });

  describe("cinder:request validation", function () {
    it("rejects every bad argument and unmet precondition before sending anything", async function () {
      const f = await loadFixture(providerFixture);
      const ok = { from: "3", model: "stories260K", prompt: PROMPT, maxUnits: "2000", pay: "voucher" };
      await rejects(
        "cinder:request",
        { ...ok, prompt: undefined },
        "--prompt (or --prompt-file) is required",
      );
      await rejects("cinder:request", { ...ok, promptFile: "/nonexistent/prompt.txt" }, "not both");
      await rejects(
        "cinder:request",
        { ...ok, prompt: undefined, promptFile: "/nonexistent/p" },
        "cannot be read",
      );
      await rejects("cinder:request", { ...ok, prompt: "" }, "the prompt is empty");
      await rejects("cinder:request", { ...ok, maxUnits: "0" }, "--max-units must be at least 1");
      await rejects(
        "cinder:request",
        { ...ok, maxUnits: "4294967296" },
        "--max-units must be at most 4294967295",
      );
      await rejects(
        "cinder:request",
        { ...ok, pay: "cash" },
        '--pay "cash" is not one of voucher, daily, compute',
      );
      await rejects("cinder:request", { ...ok, pay: undefined }, "--pay is required");
      await rejects("cinder:request", { ...ok, maxPrice: "0.001" }, "--max-price is for --pay daily|compute");
      await rejects("cinder:request", { ...ok, pay: "daily", class: "1" }, "--class is for --pay voucher");
      await rejects("cinder:request", { ...ok, pay: "compute" }, "--max-price is required for --pay compute");
      await rejects("cinder:request", { ...ok, deadline: "10x" }, '--deadline "10x" is not a duration');
      await rejects(
        "cinder:request",
        { ...ok, deadline: "30s" },
        "--deadline 30s is outside the coordinator's bounds: 1m to 1d",
      );
      await rejects("cinder:request", { ...ok, deadline: "2d" }, "outside the coordinator's bounds");
      await rejects("cinder:request", { ...ok, model: "gpt-17" }, "is not registered; active models");
      await rejects("cinder:request", { ...ok, class: "7" }, "voucher class 7 does not exist (1 class)");
      await rejects(
        "cinder:request",
        { ...ok, inputRef: "x".repeat(2049) },
        "--input-ref is 2049 bytes; at most 2048",
      );
      await rejects(
        "cinder:request",
        { ...ok, provider: f.outsider.address },
        "is not a registered provider",
      );
      await rejects(
        "cinder:request",
        { ...ok, pay: "compute", maxPrice: "0.0005", provider: f.provider.address },
        `charges ${usd(PRICE)} per unit, above --max-price`,
      );
      await rejects(
        "cinder:request",
        { ...ok, from: "5" },
        `${f.outsider.address} holds 0 vouchers of class 1; this job needs 1`,
      );
      const allowance = await f.dailyCredit.dailyAllowance(f.requester.address);
      await rejects(
        "cinder:request",
        { ...ok, pay: "daily", maxPrice: "1", maxUnits: "11" },
        `DailyCredit allowance left today is ${usd(allowance)}; this job escrows ${usd(11n * WAD)}`,
      );
      await rejects(
        "cinder:request",
        { ...ok, from: "5", pay: "compute", maxPrice: "0.001" },
        `holds $0.00 of ComputeCredit; this job escrows ${usd(2_000n * PRICE)}`,
      );
      expect(await f.coordinator.jobCount()).to.equal(0n);
    });
  });

  describe("provider-side validation (accept, submit, finalize)", function () {
    it("says what status a job is in and what the action needs, and checks parties, signer, units and windows", async function () {
      const f = await loadFixture(providerFixture);
      const jobId = await requestJob(f, { pay: "compute", maxPrice: "0.0005" });
      const id = String(jobId);
      await rejects("cinder:accept", { from: "1", id: "99" }, "job 99 does not exist (1 job)");
      await rejects("cinder:accept", { from: "1", id: "zero" }, '--id "zero" is not a whole number');
      await rejects(
        "cinder:accept",
        { from: "1", id },
        `your price ${usd(PRICE)} per unit is above job ${id}'s cap`,
      );
      await rejects("cinder:accept", { from: "5", id }, `${f.outsider.address} is not a registered provider`);
      await rejects(
        "cinder:submit",
        { from: "1", id, output: OUTPUT, units: "1" },
        `job ${id} is Requested: submit needs Accepted`,
      );
      await rejects(
        "cinder:finalize",
        { id },
        `nothing to finalize: job ${id} is Requested (finalize needs Submitted)`,
      );

      const voucherJob = String(await requestJob(f, { pay: "voucher" }));
      await run("cinder:accept", { from: "1", id: voucherJob });
      await rejects(
        "cinder:accept",
        { from: "1", id: voucherJob },
        `job ${voucherJob} is Accepted: accept needs Requested`,
      );
      const submit = { from: "1", id: voucherJob, output: OUTPUT, units: "1500" };
      await rejects(
        "cinder:submit",
        submit,
        `attestation signer is ${f.attester.address}, not ${f.provider.address}: pass --signer 2`,
      );
      await rejects(
        "cinder:submit",
        { ...submit, signer: "2", units: "2001" },
        "--units 2001 is more than job",
      );
      await rejects("cinder:submit", { ...submit, signer: "2", output: undefined }, "--output is required");
      await rejects(
        "cinder:submit",
        { ...submit, signer: "2", from: "4" },
        `was accepted by ${f.provider.address}`,
      );
      await run("cinder:submit", { ...submit, signer: "2" });

      const ends = formatTime((await f.coordinator.getJob(voucherJob)).challengeEnds);
      await rejects(
        "cinder:finalize",
        { id: voucherJob },
        `nothing to finalize: job ${voucherJob}'s challenge window ends ${ends} (in `,
      );
      await rejects("cinder:finalize", { id: `${voucherJob},99` }, "job 99 does not exist (2 jobs)");
      await rejects("cinder:finalize", { id: `${voucherJob},${voucherJob}` }, "lists a job more than once");
      await passChallengeWindow(f);
      const out = await run("cinder:finalize", { id: `${id},${voucherJob}` });
      expect(out).to.contain("settled 1 job:");
      expect(out).to.contain(`job ${voucherJob}: provider ${f.provider.address} paid 1 voucher`);
      expect(out).to.contain(`skipped 1 job:\n  job ${id}: NotSubmitted: it is Requested`);
      expect((await f.coordinator.getJob(voucherJob)).status).to.equal(BigInt(Status.Finalized));
    });
  });

  describe("cinder:job", function () {
    it("prints the job's full state and its event history with block numbers", async function () {
      const f = await loadFixture(providerFixture);
      const jobId = await requestJob(f, { pay: "compute", maxPrice: PRICE_TEXT });
      const requested = await ethers.provider.getBlockNumber();
      await run("cinder:accept", { from: "1", id: String(jobId) });
      const accepted = await ethers.provider.getBlockNumber();
      await run("cinder:submit", {
        from: "1",
        id: String(jobId),
        output: OUTPUT,
        units: String(UNITS_USED),
        signer: "2",
      });
      const submitted = await ethers.provider.getBlockNumber();
      await passChallengeWindow(f);
      await run("cinder:finalize", { id: String(jobId) });
      const finalized = await ethers.provider.getBlockNumber();

      const job = await f.coordinator.getJob(jobId);
      const out = await run("cinder:job", { id: String(jobId) });
      const now = BigInt(await time.latest());
      expect(out).to.contain(`job ${jobId}: Finalized (ComputeCredit)`);
      expect(out).to.contain(`requester     ${f.requester.address}`);
      expect(out).to.contain(`provider      ${f.provider.address}`);
      expect(out).to.contain(`model         stories260K (TinyStories, llama.cpp GGUF) ${MODEL}`);
      expect(out).to.contain(`inputHash     ${ethers.id(PROMPT)}`);
      expect(out).to.contain(`outputHash    ${ethers.id(OUTPUT)}`);
      expect(out).to.contain(`units         1,500 used of 2,000 units max`);
      expect(out).to.contain(`escrow        ${usd(MAX_UNITS * PRICE)} of ComputeCredit`);
      expect(out).to.contain(`price         ${usd(PRICE)} per unit (the provider's price)`);
      expect(out).to.contain(`collateral    ${formatAmount(MAX_UNITS * PRICE, "CNDR")}`);
      expect(out).to.contain(`deadline      ${formatTime(job.deadline, now)}`);
      expect(out).to.contain(`challenge end ${formatTime(job.challengeEnds, now)}`);
      expect(out).to.match(/challenge end \S+ \S+ UTC \(\d+s ago\)/);
      expect(out).to.match(
        new RegExp(`block ${requested}\\s+JobRequested\\s+by ${f.requester.address}, open`),
      );
      expect(out).to.match(new RegExp(`block ${accepted}\\s+JobAccepted\\s+by ${f.provider.address}`));
      expect(out).to.match(new RegExp(`block ${submitted}\\s+ResultSubmitted\\s+by .*1,500 units used`));
      expect(out).to.match(
        new RegExp(
          `block ${finalized}\\s+JobFinalized\\s+provider paid \\${usd(UNITS_USED * PRICE)}, requester refunded`,
        ),
      );
    });

    it("rejects an unknown job id, naming how many jobs exist", async function () {
      const f = await loadFixture(providerFixture);
      await requestJob(f, { pay: "voucher" });
      await rejects("cinder:job", { id: "99" }, "job 99 does not exist (1 job)");
      await rejects("cinder:job", { id: "0" }, "job 0 does not exist (1 job)");
      await rejects("cinder:job", {}, "--id is required");
    });

    it("--watch prints each transition until the job reaches a terminal status", async function () {
      const f = await loadFixture(providerFixture);
      const jobId = await submittedJob(f, { pay: "voucher" });
      await passChallengeWindow(f);
      const watching = run("cinder:job", { id: String(jobId), watch: true });
      await new Promise((resolve) => setTimeout(resolve, 300));
      await (await f.coordinator.connect(f.outsider).finalize(jobId)).wait();
      const out = await watching;
      expect(out).to.contain(`watching job ${jobId}`);
      expect(out).to.match(new RegExp(`job ${jobId}: Submitted → Finalized \\(block \\d+\\)`));
      expect(out).to.match(/JobFinalized\s+provider paid 1 voucher/);
      expect(out).to.contain(`job ${jobId}: Finalized (Voucher class 1)`);

      const again = await run("cinder:job", { id: String(jobId), watch: true });
      expect(again).to.contain(`job ${jobId} is Finalized: a terminal status, nothing to watch`);
    });
  });

  describe("cinder:challenge, cinder:vote and cinder:resolve", function () {
    it("a fault vote upholds the challenge: requester refunded, provider slashed and jailed, finder fee paid", async function () {
      const f = await loadFixture(providerFixture);
      const balance = await f.computeCredit.balanceOf(f.requester.address);
      const jobId = await submittedJob(f, { pay: "compute", maxPrice: PRICE_TEXT });
      const id = String(jobId);
      const challengerBefore = await f.token.balanceOf(f.challenger.address);
      const bond = await f.disputes.challengeBond();

      await rejects("cinder:challenge", { from: "1", id }, "a provider cannot challenge its own result");
      await rejects("cinder:vote", { id, fault: true }, `job ${id} is Submitted: a vote needs Challenged`);
      await rejects("cinder:resolve", { id }, `job ${id} has no dispute (it is Submitted)`);
      await run("cinder:challenge", { from: "4", id });
      expect((await f.coordinator.getJob(jobId)).status).to.equal(BigInt(Status.Challenged));
      expect(await f.token.balanceOf(f.challenger.address)).to.equal(challengerBefore - bond);
      await rejects("cinder:challenge", { from: "4", id }, `job ${id} is already Challenged`);
      await rejects("cinder:finalize", { id }, "a challenged job settles through cinder:resolve");
      await rejects(
        "cinder:resolve",
        { id },
        /has no verdict yet \(0 fault \/ 0 valid of 1 needed\) and its dispute times out/,
      );

      await rejects(
        "cinder:vote",
        { id, fault: true, valid: true },
        "give exactly one of --fault or --valid",
      );
      await rejects("cinder:vote", { id }, "give exactly one of --fault or --valid");
      await rejects(
        "cinder:vote",
        { from: "4", id, fault: true },
        `${f.challenger.address} is not an arbiter`,
      );
      const voted = await run("cinder:vote", { id, fault: true });
      expect(voted).to.contain("1 fault / 0 valid of 1 needed; verdict Fault");
      await rejects("cinder:vote", { id, valid: true }, `already voted on job ${id}`);

      const providerBond = (await f.registry.getProvider(f.provider.address)).bond;
      const resolved = await run("cinder:resolve", { id });
      const slash = (providerBond * (await f.disputes.faultSlashBps())) / BPS;
      const finderFee = (slash * (await f.disputes.finderFeeBps())) / BPS;
      expect(resolved).to.contain(
        `resolved: Upheld → job Faulted; provider slashed ${formatAmount(slash, "CNDR")}`,
      );
      expect((await f.coordinator.getJob(jobId)).status).to.equal(BigInt(Status.Faulted));
      expect(await f.computeCredit.balanceOf(f.requester.address)).to.equal(balance);
      expect((await f.registry.getProvider(f.provider.address)).bond).to.equal(providerBond - slash);
      expect((await f.registry.getProvider(f.provider.address)).jailedUntil).to.be.greaterThan(
        BigInt(await time.latest()),
      );
      expect(await f.token.balanceOf(f.challenger.address)).to.equal(challengerBefore + finderFee);
      await rejects("cinder:resolve", { id }, `job ${id}'s dispute is already resolved: Upheld`);

      const history = await run("cinder:job", { id });
      expect(history).to.match(/Challenged\s+by 0x[0-9a-fA-F]{40}, bond 100.00 CNDR/);
      expect(history).to.match(/Voted\s+arbiter 0x[0-9a-fA-F]{40} voted fault \(tally: 1 fault, 0 valid\)/);
      expect(history).to.match(/DisputeResolved\s+Upheld/);
      expect(history).to.match(/JobFaulted\s+requester refunded/);
    });

    it("a valid vote rejects the challenge: the job settles and the challenger's bond goes to the provider", async function () {
      const f = await loadFixture(providerFixture);
      const jobId = await submittedJob(f, { pay: "voucher" });
      const id = String(jobId);
      await run("cinder:challenge", { from: "4", id });
      await run("cinder:vote", { id, valid: true });
      const providerBefore = await f.token.balanceOf(f.provider.address);
      const out = await run("cinder:resolve", { id });
      expect(out).to.contain("resolved: Rejected → job Finalized");
      expect((await f.coordinator.getJob(jobId)).status).to.equal(BigInt(Status.Finalized));
      expect(await f.token.balanceOf(f.provider.address)).to.equal(
        providerBefore + (await f.disputes.challengeBond()),
      );
    });

    it("refuses a challenge once the window has closed", async function () {
      const f = await loadFixture(providerFixture);
      const jobId = await submittedJob(f, { pay: "voucher" });
      await passChallengeWindow(f);
      await rejects(
        "cinder:challenge",
        { from: "4", id: String(jobId) },
        `job ${jobId}'s challenge window closed`,
      );
      const first = await requestJob(f, { pay: "voucher" });
      await rejects(
        "cinder:challenge",
        { from: "4", id: String(first) },
        `job ${first} is Requested: challenge needs Submitted`,
      );
    });
  });

  describe("cinder:epoch and cinder:distribute", function () {
    it("prints the epoch ledger as the engine records it, then distributes the finished epoch once", async function () {
      const f = await loadFixture(providerFixture);
      const genesis = await f.engine.genesisEpoch();
      await rejects(
        "cinder:distribute",
        { epoch: String(genesis - 1n) },
        `is before the genesis epoch ${genesis}`,
      );
      // A fresh epoch, so every job below settles in it.
      const epoch = BigInt(await time.latest()) / DAY + 1n;
      await time.increaseTo(epoch * DAY + 60n);
      await submittedJob(f, { pay: "voucher" });
      await submittedJob(f, { pay: "daily", maxPrice: PRICE_TEXT });
      await submittedJob(f, { pay: "compute", maxPrice: PRICE_TEXT });
      await passChallengeWindow(f);
      await run("cinder:finalize", { id: "1,2,3" });
      await rejects("cinder:distribute", { epoch: String(epoch) }, `epoch ${epoch} is not finished`);

      const out = await run("cinder:epoch", {});
      const ledger = await f.engine.epochLedger(epoch);
      const cls = await f.market.getClass(1);
      const voucherUsd = cls.unitPrice * 10n ** 12n; // one voucher's principal, USDC (6 decimals) → USD (18)
      const creditWork = UNITS_USED * PRICE;
      // Exact values from the constants: one voucher redeemed, $1.50 of subsidised work and $1.50 of credit work.
      expect(ledger.voucherRevenueUsd).to.equal(voucherUsd);
      expect(ledger.workUsd).to.equal(voucherUsd + 2n * creditWork);
      expect(ledger.subsidisedWorkUsd).to.equal(creditWork);
      const ratio = await f.engine.subsidyRatio(epoch);
      expect(ratio).to.equal((creditWork * BPS) / (voucherUsd + 2n * creditWork));
      expect(out).to.contain(`epoch ${epoch} (`);
      expect(out).to.contain(
        `organic USD      ${usd(await f.engine.organicUsd(epoch))} (credit bought ${usd(ledger.organicCreditUsd)} + voucher revenue ${usd(voucherUsd)})`,
      );
      expect(out).to.contain(`work USD         ${usd(ledger.workUsd)}`);
      expect(out).to.contain(
        `subsidised USD   ${usd(creditWork)} of that work (subsidy minted ${usd(ledger.subsidyMintedUsd)})`,
      );
      expect(out).to.contain(`subsidy ratio    ${ratio / 100n}.${String(ratio % 100n).padStart(2, "0")} %`);
      expect(out).to.contain(`tokens burned    ${formatAmount(ledger.tokensBurned, "CNDR")}`);
      expect(out).to.contain(`tokens redeemed  ${formatAmount(ledger.tokensRedeemed, "CNDR")}`);
      expect(out).to.contain(
        `net supply       ${formatAmount(await f.engine.netSupplyChange(epoch), "CNDR")}`,
      );
      expect(out).to.contain("distributed      no");
      expect(out).to.contain(`subsidy left     ${usd(await f.engine.subsidyRemaining())} this epoch`);
      expect(out).to.contain(`redeem capacity  ${formatAmount(await f.engine.redeemCapacity(), "CNDR")}`);
      await rejects("cinder:epoch", { epoch: String(epoch + 1n) }, `epoch ${epoch + 1n} has not started`);

      await time.increaseTo((epoch + 1n) * DAY + 60n);
      const distributed = await run("cinder:distribute", {});
      const after = await f.engine.epochLedger(epoch);
      expect(after.distributed).to.equal(true);
      expect(after.tokensEmitted).to.equal(await f.engine.emissionFor(epoch));
      expect(distributed).to.contain(
        `epoch ${epoch} distributed: ${formatAmount(after.tokensEmitted, "CNDR")} emitted`,
      );
      await rejects("cinder:distribute", { epoch: String(epoch) }, `epoch ${epoch} is already distributed`);

      const past = await run("cinder:epoch", { epoch: String(epoch) });
      expect(past).to.contain(`tokens emitted   ${formatAmount(after.tokensEmitted, "CNDR")} (provider pool`);
      expect(past).to.contain("distributed      yes");
      expect(past).not.to.contain("subsidy left");
    });
  });
});
