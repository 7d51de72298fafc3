/// <reference types="chai-as-promised" />
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Network } from "ethers";
import { deployLocalFixture } from "./taskFixture";
import { signResult } from "./jobsFixture";
import { formatAmount, formatUsd } from "../../tasks/lib";
import { formatTime } from "../../tasks/lib";
import type {
  BurnMintEngine,
  ComputeCredit,
  DailyCredit,
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
const MODEL = ethers.id("stories260K");
/** Pays a job with vouchers of class 1. */
const voucherPayment = { kind: 0, classId: 1n, maxPricePerUnit: 0n };

/** The local deployment (deploy/parameters/localhost.json) with typed contracts and named accounts. */
async function localFixture() {
  const f = await deployLocalFixture();
  const at = async <T>(name: string, address: string) =>
    (await ethers.getContractAt(name, address)) as unknown as T;
  const [deployer, alice, bob, provider, providerSigner, outsider] = await ethers.getSigners();
  const manifest = JSON.parse(readFileSync(path.join(f.deploymentsDir, "31337.json"), "utf8")) as {
    extras: { stablecoin: string };
  };
  return {
    ...f,
    deployer,
    alice,
    bob,
    provider,
    providerSigner,
    outsider,
    token: await at<ProtocolToken>("ProtocolToken", f.contracts.token),
    vault: await at<StakingVault>("StakingVault", f.contracts.vault),
    dailyCredit: await at<DailyCredit>("DailyCredit", f.contracts.dailyCredit),
    computeCredit: await at<ComputeCredit>("ComputeCredit", f.contracts.computeCredit),
    engine: await at<BurnMintEngine>("BurnMintEngine", f.contracts.engine),
    registry: await at<ProviderRegistry>("ProviderRegistry", f.contracts.providerRegistry),
    market: await at<VoucherMarket>("VoucherMarket", f.contracts.voucherMarket),
    coordinator: await at<JobCoordinator>("JobCoordinator", f.contracts.jobCoordinator),
    usdc: await at<MockStablecoin>("MockStablecoin", manifest.extras.stablecoin),
  };
}
type Local = Awaited<ReturnType<typeof localFixture>>;

/**
 * A settled voucher job: `provider` registered (bond 1,000 CNDR, signer `providerSigner`, stories260K at $0.001
 * per unit); alice bought 2 vouchers and requested job 1 for 100,000 units (one voucher), which the provider
 * accepted, answered with all 100,000 units, and which was finalized after the challenge window.
 */
async function settledJobFixture() {
  const f = await load(localFixture);
  await run("cinder:faucet", { from: "1" });
  await run("cinder:faucet", { from: "3", usdc: "0" });
  await f.token.connect(f.provider).approve(f.contracts.providerRegistry, f.config.market.minBond);
  await f.registry
    .connect(f.provider)
    .register(f.config.market.minBond, "http://provider", f.providerSigner.address, [MODEL], [WAD / 1000n]);
  await run("cinder:buy-voucher", { from: "1", class: "1", vouchers: "2" });
  await run("cinder:approve-coordinator", { from: "1" });
  const units = BigInt(f.config.genesis!.unitsPerVoucher);
  const inputHash = ethers.id("Once upon a time");
  const deadline = BigInt(await time.latest()) + 3600n;
  await f.coordinator
    .connect(f.alice)
    .requestJob(MODEL, inputHash, "0x", units, voucherPayment, deadline, ethers.ZeroAddress);
  await f.coordinator.connect(f.provider).acceptJob(1);
  const outputHash = ethers.id("there was a dragon");
  const signature = await signResult(f.providerSigner, f.coordinator, {
    jobId: 1n,
    modelId: MODEL,
    inputHash,
    outputHash,
    unitsUsed: units,
  });
  await f.coordinator.connect(f.provider).submitResult(1, outputHash, units, signature);
  await time.increase(f.config.jobs.challengeWindow);
  await f.coordinator.finalize(1);
  return { ...f, units };
}

/** Loads a fixture and points the tasks at its manifest (another fixture may have moved the variable). */
async function load<T extends { deploymentsDir: string }>(fixture: () => Promise<T>): Promise<T> {
  const f = await loadFixture(fixture);
  process.env.CINDER_DEPLOYMENTS_DIR = f.deploymentsDir;
  return f;
}

/** Runs a task and returns what it printed. */
async function run(name: string, args: Record<string, unknown> = {}): Promise<string> {
  const printed: string[] = [];
  const original = console.log;
  console.log = (...parts: unknown[]) => void printed.push(parts.map(String).join(" "));
  try {
    await hre.run(name, args);
  } finally {
    console.log = original;
  }
  return printed.join("\n");
}

/** Expects the task to fail with `message` before sending anything: no block was mined. */
async function rejects(name: string, args: Record<string, unknown>, message: string): Promise<void> {
  const before = await ethers.provider.getBlockNumber();
  await expect(run(name, args), `${name} ${JSON.stringify(args)}`).to.be.rejectedWith(message);
  expect(await ethers.provider.getBlockNumber(), "a transaction was sent").to.equal(before);
}

/** The generic amount errors every amount flag reports, naming the flag. */
function badAmounts(flag: string, decimals = 18) {
  return [
    ["abc", `${flag} "abc" is not a number`],
    ["-1", `${flag} "-1" is not a number`],
    ["0", `${flag} must be greater than zero`],
    [`1.${"0".repeat(decimals)}1`, `has more than ${decimals} decimals`],
  ] as const;
}

/** ComputeCredit bought by burning `tokens` (whole CNDR) at the local price, after the spread. */
function creditFor(f: Local, tokens: bigint): { credits: bigint; spread: bigint } {
  const gross = tokens * f.config.economy.initialPriceUsd;
  const spread = (gross * BigInt(f.config.economy.mintSpreadBps) + BPS - 1n) / BPS;
  return { credits: gross - spread, spread };
}

async function stake(from: string, amount: string) {
  await run("cinder:stake", { from, amount });
}

describe("user tasks", function () {
  describe("cinder:faucet", function () {
    it("sends 10,000 CNDR from account 0 and mints 1,000 USDC to the acting account by default", async function () {
      const f = await load(localFixture);
      const treasuryBefore = await f.token.balanceOf(f.deployer.address);
      const out = await run("cinder:faucet", { from: "1" });
      expect(await f.token.balanceOf(f.alice.address)).to.equal(10_000n * WAD);
      expect(await f.token.balanceOf(f.deployer.address)).to.equal(treasuryBefore - 10_000n * WAD);
      expect(await f.usdc.balanceOf(f.alice.address)).to.equal(1_000n * USDC);
      expect(out).to.contain(`funded ${f.alice.address} with 10,000.00 CNDR and 1,000.00 USDC`);
    });

    it("funds --to with the amounts given, and 0 skips a token", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { to: f.bob.address, cndr: "2.5", usdc: "0" });
      expect(await f.token.balanceOf(f.bob.address)).to.equal((5n * WAD) / 2n);
      expect(await f.usdc.balanceOf(f.bob.address)).to.equal(0n);
      await run("cinder:faucet", { to: f.bob.address, cndr: "0", usdc: "0.25" });
      expect(await f.token.balanceOf(f.bob.address)).to.equal((5n * WAD) / 2n);
      expect(await f.usdc.balanceOf(f.bob.address)).to.equal(USDC / 4n);
    });

    it("rejects bad amounts, a bad recipient and more CNDR than the treasury holds, sending nothing", async function () {
      const f = await load(localFixture);
      for (const [value, message] of badAmounts("--cndr").filter(([v]) => v !== "0")) {
        await rejects("cinder:faucet", { cndr: value }, message);
      }
      await rejects("cinder:faucet", { usdc: "1.0000001" }, `--usdc "1.0000001" has more than 6 decimals`);
      await rejects(
        "cinder:faucet",
        { cndr: "0", usdc: "0" },
        "--cndr and --usdc are both 0: nothing to send",
      );
      await rejects("cinder:faucet", { to: "0x1234" }, `--to "0x1234" is not an address`);
      await rejects("cinder:faucet", { to: ethers.ZeroAddress }, "--to is the zero address");
      await rejects("cinder:faucet", { from: "99" }, "--from 99: the network has accounts 0 to 19");
      const supply = await f.token.balanceOf(f.deployer.address);
      await rejects(
        "cinder:faucet",
        { to: f.bob.address, cndr: "100000001" },
        `--cndr 100000001 CNDR exceeds the local treasury's (account 0) balance of ${formatAmount(supply, "CNDR")}`,
      );
    });

    it("refuses to run on any chain but the local one (31337)", async function () {
      await load(localFixture);
      const provider = hre.ethers.provider as unknown as { getNetwork(): Promise<Network> };
      const getNetwork = provider.getNetwork;
      provider.getNetwork = async () => new Network("sepolia", 11_155_111n);
      try {
        await rejects("cinder:faucet", {}, "cinder:faucet only runs on a local network (chain 31337)");
      } finally {
        provider.getNetwork = getNetwork;
      }
    });
  });

  describe("cinder:stake, cinder:unstake, cinder:claim-rewards", function () {
    it("stakes --amount, approving the vault first", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      expect(await f.token.allowance(f.alice.address, f.contracts.vault)).to.equal(0n);
      const out = await run("cinder:stake", { from: "1", amount: "1234.5" });
      const amount = 12_345n * (WAD / 10n);
      expect(await f.vault.stakeOf(f.alice.address)).to.equal(amount);
      expect(await f.token.balanceOf(f.alice.address)).to.equal(10_000n * WAD - amount);
      expect(await f.token.allowance(f.alice.address, f.contracts.vault)).to.equal(0n);
      expect(out).to.contain(`now stakes 1,234.50 CNDR`);
    });

    it("rejects a bad or missing --amount and more than the balance, sending nothing", async function () {
      await load(localFixture);
      await run("cinder:faucet", { from: "1", cndr: "3", usdc: "0" });
      await rejects("cinder:stake", { from: "1" }, "--amount is required");
      for (const [value, message] of badAmounts("--amount")) {
        await rejects("cinder:stake", { from: "1", amount: value }, message);
      }
      await rejects(
        "cinder:stake",
        { from: "1", amount: "5" },
        "--amount 5 CNDR exceeds your balance of 3.00 CNDR",
      );
      await rejects(
        "cinder:stake",
        { from: "20", amount: "1" },
        "--from 20: the network has accounts 0 to 19",
      );
      await rejects("cinder:stake", { from: "bob", amount: "1" }, `--from "bob" is neither an account index`);
    });

    it("moves --amount into the cooldown, which ends after the configured unstake cooldown", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      const out = await run("cinder:unstake", { from: "1", amount: "400" });
      const [cooling, unlockTime] = await f.vault.coolingOf(f.alice.address);
      expect(cooling).to.equal(400n * WAD);
      expect(unlockTime).to.equal(BigInt(await time.latest()) + f.config.staking.unstakeCooldown);
      expect(await f.vault.stakeOf(f.alice.address)).to.equal(600n * WAD);
      expect(out).to.contain(`400.00 CNDR cooling, withdrawable at ${formatTime(unlockTime)}`);
    });

    it("never unstakes stake locked by DailyCredit, and needs exactly one of --amount and --withdraw", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      await run("cinder:mint-credit", { from: "1", amount: "1" });
      const locked = await f.vault.lockedOf(f.alice.address);
      await rejects(
        "cinder:unstake",
        { from: "1", amount: "1000" },
        `--amount 1000 CNDR exceeds your unlocked stake (1,000.00 CNDR staked, ${formatAmount(locked, "CNDR")} ` +
          `locked by DailyCredit) of ${formatAmount(1000n * WAD - locked, "CNDR")}`,
      );
      for (const [value, message] of badAmounts("--amount")) {
        await rejects("cinder:unstake", { from: "1", amount: value }, message);
      }
      await rejects(
        "cinder:unstake",
        { from: "1" },
        "give --amount <CNDR> to start a cooldown, or --withdraw",
      );
      await rejects("cinder:unstake", { from: "1", amount: "1", withdraw: true }, "not both");
    });

    it("--withdraw refuses before the unlock time, naming it, and pays the cooled amount after", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      await rejects("cinder:unstake", { from: "1", withdraw: true }, "has nothing cooling down");
      await run("cinder:unstake", { from: "1", amount: "250" });
      const [, unlockTime] = await f.vault.coolingOf(f.alice.address);
      await rejects(
        "cinder:unstake",
        { from: "1", withdraw: true },
        `250.00 CNDR is cooling down until ${formatTime(unlockTime)}`,
      );

      await time.increaseTo(unlockTime - 1n); // the withdrawal's block is mined at the unlock time
      const before = await f.token.balanceOf(f.alice.address);
      const out = await run("cinder:unstake", { from: "1", withdraw: true });
      expect(await f.token.balanceOf(f.alice.address)).to.equal(before + 250n * WAD);
      expect((await f.vault.coolingOf(f.alice.address))[0]).to.equal(0n);
      expect(out).to.contain(`withdrew 250.00 CNDR to ${f.alice.address}`);
    });

    it("claims the accrued staking rewards, and sends nothing when there are none", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      const before = await ethers.provider.getBlockNumber();
      expect(await run("cinder:claim-rewards", { from: "1" })).to.contain(
        "has no rewards to claim (nothing sent)",
      );
      expect(await ethers.provider.getBlockNumber()).to.equal(before);

      // The deployment epoch's emission is distributed once it ends; the stakers' share streams over a period.
      const epoch = await f.engine.currentEpoch();
      await time.increase(86_400);
      await f.engine.distribute(epoch);
      await time.increase(f.config.staking.rewardPeriod + 1n); // the stream has ended: earned stops growing
      const earned = await f.vault.earned(f.alice.address);
      const stakersShare =
        (f.config.economy.emissionPerEpoch * BigInt(f.config.economy.stakerShareBps)) / BPS;
      expect(earned).to.be.greaterThan(0n).and.at.most(stakersShare);

      const balance = await f.token.balanceOf(f.alice.address);
      const out = await run("cinder:claim-rewards", { from: "1" });
      expect(await f.token.balanceOf(f.alice.address)).to.equal(balance + earned);
      expect(await f.vault.earned(f.alice.address)).to.equal(0n);
      expect(out).to.contain(`claimed ${formatAmount(earned, "CNDR", 18, 6)} of staking rewards`);
    });
  });

  describe("cinder:mint-credit, cinder:burn-credit", function () {
    it("mints --amount DailyCredit, locking the quoted stake, and prints the stake and rate", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      const quote = await f.dailyCredit.quoteMint(2n * WAD);
      const out = await run("cinder:mint-credit", { from: "1", amount: "2" });
      expect(await f.dailyCredit.balanceOf(f.alice.address)).to.equal(2n * WAD);
      expect(await f.vault.lockedOf(f.alice.address)).to.equal(quote);
      const position = await f.dailyCredit.positionOf(f.alice.address);
      expect([position.credits, position.stakeLocked]).to.deep.equal([2n * WAD, quote]);
      // Near zero supply the curve's rate is its base rate: 90 CNDR per credit.
      expect(quote).to.be.at.least(2n * f.config.dailyCredit.curve.baseRate);
      expect(out).to.contain(`minted 2.0000 DCR locking ${formatAmount(quote, "CNDR", 18, 4)} of stake`);
      expect(out).to.contain(`(rate ${formatAmount(quote / 2n, "CNDR", 18, 4)} per DCR)`);
      expect(out).to.contain("worth $2.00 of inference a day");
    });

    it("refuses a --max-stake below the quote, more than the unlocked stake and bad amounts, sending nothing", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "100");
      const quote = await f.dailyCredit.quoteMint(WAD);
      await rejects(
        "cinder:mint-credit",
        { from: "1", amount: "1", maxStake: "89" },
        `minting 1 DCR locks ${formatAmount(quote, "CNDR", 18, 4)} of stake now, above --max-stake 89 CNDR`,
      );
      await rejects(
        "cinder:mint-credit",
        { from: "1", amount: "2" },
        `locks ${formatAmount(await f.dailyCredit.quoteMint(2n * WAD), "CNDR")} of stake, but your unlocked ` +
          "stake is 100.00 CNDR: stake more first (cinder:stake)",
      );
      for (const [value, message] of badAmounts("--amount")) {
        await rejects("cinder:mint-credit", { from: "1", amount: value }, message);
      }
      await rejects(
        "cinder:mint-credit",
        { from: "1", amount: "1", maxStake: "x" },
        `--max-stake "x" is not a number`,
      );
      expect(await f.dailyCredit.balanceOf(f.alice.address)).to.equal(0n);
    });

    it("burns --amount and unlocks the position's stake pro rata", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      await run("cinder:mint-credit", { from: "1", amount: "3" });
      const locked = (await f.dailyCredit.positionOf(f.alice.address)).stakeLocked;
      const out = await run("cinder:burn-credit", { from: "1", amount: "1" });
      const unlocked = locked / 3n; // pro rata, rounded down
      expect(await f.vault.lockedOf(f.alice.address)).to.equal(locked - unlocked);
      expect(await f.dailyCredit.balanceOf(f.alice.address)).to.equal(2n * WAD);
      expect((await f.dailyCredit.positionOf(f.alice.address)).credits).to.equal(2n * WAD);
      expect(out).to.contain(
        `burned 1.0000 DCR, unlocking ${formatAmount(unlocked, "CNDR", 18, 4)} of stake`,
      );
    });

    it("refuses to burn more than the position or the balance holds, sending nothing", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await stake("1", "1000");
      await run("cinder:mint-credit", { from: "1", amount: "1" });
      await rejects(
        "cinder:burn-credit",
        { from: "1", amount: "1.5" },
        "--amount 1.5 DCR exceeds your minted position of 1.00 DCR",
      );
      await f.dailyCredit.connect(f.alice).transfer(f.bob.address, WAD / 2n);
      await rejects(
        "cinder:burn-credit",
        { from: "1", amount: "1" },
        "--amount 1 DCR exceeds your balance of 0.50 DCR",
      );
      for (const [value, message] of badAmounts("--amount")) {
        await rejects("cinder:burn-credit", { from: "1", amount: value }, message);
      }
    });
  });

  describe("cinder:mint-compute, cinder:redeem", function () {
    it("burns --tokens for ComputeCredit at the oracle price, the spread to the treasury", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      const supply = await f.token.totalSupply();
      const treasuryCredit = await f.computeCredit.balanceOf(f.deployer.address);
      const out = await run("cinder:mint-compute", { from: "1", tokens: "100" });

      const { credits, spread } = creditFor(f, 100n);
      expect(await f.computeCredit.balanceOf(f.alice.address)).to.equal(credits);
      expect(await f.computeCredit.balanceOf(f.deployer.address)).to.equal(treasuryCredit + spread);
      expect(await f.token.balanceOf(f.alice.address)).to.equal(9_900n * WAD);
      expect(await f.token.totalSupply()).to.equal(supply - 100n * WAD);
      expect(out).to.contain(`${formatUsd(credits, 4)} of ComputeCredit to ${f.alice.address}`);
      expect(out).to.contain(`(spread ${formatUsd(spread, 4)} to the treasury)`);
    });

    it("credits --recipient instead of the acting account", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await run("cinder:mint-compute", { from: "1", tokens: "10", recipient: f.bob.address });
      expect(await f.computeCredit.balanceOf(f.bob.address)).to.equal(creditFor(f, 10n).credits);
      expect(await f.computeCredit.balanceOf(f.alice.address)).to.equal(0n);
    });

    it("refuses a --min-out above the quote, more than the balance and bad arguments, sending nothing", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", cndr: "50", usdc: "0" });
      await rejects(
        "cinder:mint-compute",
        { from: "1", tokens: "10", minOut: "20" },
        `--tokens 10 CNDR buys ${formatUsd(creditFor(f, 10n).credits, 4)} of credit now, below --min-out 20`,
      );
      await rejects(
        "cinder:mint-compute",
        { from: "1", tokens: "51" },
        "--tokens 51 CNDR exceeds your balance of 50.00 CNDR",
      );
      for (const [value, message] of badAmounts("--tokens")) {
        await rejects("cinder:mint-compute", { from: "1", tokens: value }, message);
      }
      await rejects(
        "cinder:mint-compute",
        { from: "1", tokens: "1", minOut: "-1" },
        `--min-out "-1" is not a number`,
      );
      await rejects(
        "cinder:mint-compute",
        { from: "1", tokens: "1", recipient: "bob" },
        `--recipient "bob" is not an address`,
      );
      expect(await f.token.balanceOf(f.alice.address)).to.equal(50n * WAD);
    });

    it("redeems --credits for newly minted tokens at the oracle price", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await run("cinder:mint-compute", { from: "1", tokens: "100" });
      const credit = await f.computeCredit.balanceOf(f.alice.address);
      const [balance, supply] = [await f.token.balanceOf(f.alice.address), await f.token.totalSupply()];
      const out = await run("cinder:redeem", { from: "1", credits: "10" });
      const minted = (10n * WAD * WAD) / f.config.economy.initialPriceUsd;
      expect(await f.computeCredit.balanceOf(f.alice.address)).to.equal(credit - 10n * WAD);
      expect(await f.token.balanceOf(f.alice.address)).to.equal(balance + minted);
      expect(await f.token.totalSupply()).to.equal(supply + minted);
      expect(out).to.contain(`${formatAmount(minted, "CNDR", 18, 4)} minted to ${f.alice.address}`);
    });

    it("refuses to redeem more than the credit balance or below --min-out, sending nothing", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", usdc: "0" });
      await run("cinder:mint-compute", { from: "1", tokens: "10" });
      await rejects(
        "cinder:redeem",
        { from: "1", credits: "20" },
        `--credits 20 USD exceeds your ComputeCredit balance of ${formatUsd(creditFor(f, 10n).credits, 4)}`,
      );
      await rejects(
        "cinder:redeem",
        { from: "1", credits: "10", minOut: "5.1" },
        `--credits 10 USD redeems ${formatAmount((10n * WAD * WAD) / f.config.economy.initialPriceUsd, "CNDR", 18, 4)} ` +
          "now, below --min-out 5.1 CNDR",
      );
      for (const [value, message] of badAmounts("--credits")) {
        await rejects("cinder:redeem", { from: "1", credits: value }, message);
      }
      expect(await f.computeCredit.balanceOf(f.alice.address)).to.equal(creditFor(f, 10n).credits);
    });
  });

  describe("cinder:buy-voucher, cinder:approve-coordinator, cinder:withdraw-earnings", function () {
    it("buys --vouchers of a class: principal into escrow, premium to the treasury", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", cndr: "0" });
      const treasuryUsdc = await f.usdc.balanceOf(f.deployer.address);
      const out = await run("cinder:buy-voucher", { from: "1", class: "1", vouchers: "3" });
      const principal = 3n * f.config.genesis!.voucherPriceUsdc;
      const premium = (principal * BigInt(f.config.genesis!.voucherPremiumBps) + BPS - 1n) / BPS;
      expect(await f.market.balanceOf(f.alice.address, 1)).to.equal(3n);
      expect(await f.usdc.balanceOf(f.alice.address)).to.equal(1_000n * USDC - principal - premium);
      expect(await f.market.escrowed(1)).to.equal(principal);
      expect(await f.usdc.balanceOf(f.deployer.address)).to.equal(treasuryUsdc + premium);
      expect(out).to.contain(`principal ${formatAmount(principal, "USDC", 6)} escrowed`);
      expect(out).to.contain(`premium ${formatAmount(premium, "USDC", 6)} to the treasury`);
    });

    it("sends the vouchers to --recipient", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", cndr: "0" });
      await run("cinder:buy-voucher", { from: "1", class: "1", vouchers: "1", recipient: f.bob.address });
      expect(await f.market.balanceOf(f.bob.address, 1)).to.equal(1n);
      expect(await f.market.balanceOf(f.alice.address, 1)).to.equal(0n);
    });

    it("rejects an unknown class, a bad count, a low --max-cost and more than the balance, sending nothing", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1", cndr: "0", usdc: "2" });
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "7", vouchers: "1" },
        "voucher class 7 does not exist (1 class listed)",
      );
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "0", vouchers: "1" },
        "voucher class 0 does not exist (1 class listed)",
      );
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "one", vouchers: "1" },
        `--class "one" is not a whole number`,
      );
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "1", vouchers: "0" },
        "--vouchers must be at least 1",
      );
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "1", vouchers: "1.5" },
        `--vouchers "1.5" is not a whole number`,
      );
      await rejects("cinder:buy-voucher", { from: "1", class: "1" }, "--vouchers is required");
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "1", vouchers: "1", maxCost: "1" },
        "1 vouchers cost 1.03 USDC (premium included), above --max-cost 1",
      );
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "1", vouchers: "1", maxCost: "1.0000001" },
        `--max-cost "1.0000001" has more than 6 decimals`,
      );
      await rejects(
        "cinder:buy-voucher",
        { from: "1", class: "1", vouchers: "2" },
        "2 vouchers cost 2.06 USDC, above your balance of 2.00 USDC",
      );
      expect(await f.market.balanceOf(f.alice.address, 1)).to.equal(0n);
    });

    it("approves the coordinator for vouchers and ComputeCredit once; a second run sends nothing", async function () {
      const f = await load(localFixture);
      const out = await run("cinder:approve-coordinator", { from: "1" });
      expect(await f.market.isApprovedForAll(f.alice.address, f.contracts.jobCoordinator)).to.equal(true);
      expect(await f.computeCredit.allowance(f.alice.address, f.contracts.jobCoordinator)).to.equal(
        ethers.MaxUint256,
      );
      expect(out).to.contain(
        `the JobCoordinator ${f.contracts.jobCoordinator} may escrow ${f.alice.address}'s`,
      );
      const before = await ethers.provider.getBlockNumber();
      expect(await run("cinder:approve-coordinator", { from: "1" })).to.contain(
        "already done (nothing sent)",
      );
      expect(await ethers.provider.getBlockNumber()).to.equal(before);
    });

    it("pays a provider the voucher principal it earned, minus the protocol fee, whoever runs it", async function () {
      const f = await load(settledJobFixture);
      const principal = f.config.genesis!.voucherPriceUsdc; // one voucher paid for the job's units
      const fee = (principal * BigInt(f.config.market.protocolFeeBps) + BPS - 1n) / BPS;
      expect(await f.market.owed(f.provider.address, f.usdc)).to.equal(principal - fee);
      const out = await run("cinder:withdraw-earnings", { from: "2", account: f.provider.address });
      expect(await f.usdc.balanceOf(f.provider.address)).to.equal(principal - fee);
      expect(await f.market.owed(f.provider.address, f.usdc)).to.equal(0n);
      expect(await f.usdc.balanceOf(f.bob.address)).to.equal(0n);
      expect(out).to.contain(`paid ${formatAmount(principal - fee, "USDC", 6)} to ${f.provider.address}`);

      // The treasury (account 0) collects its fee the same way, by default for the acting account.
      await run("cinder:withdraw-earnings", {});
      expect(await f.market.owed(f.deployer.address, f.usdc)).to.equal(0n);
    });

    it("refuses when nothing is owed or an argument is bad, sending nothing", async function () {
      const f = await load(settledJobFixture);
      await rejects(
        "cinder:withdraw-earnings",
        { from: "1" },
        `the VoucherMarket owes ${f.alice.address} nothing in USDC`,
      );
      await rejects("cinder:withdraw-earnings", { account: "0xabc" }, `--account "0xabc" is not an address`);
      await rejects(
        "cinder:withdraw-earnings",
        { stablecoin: f.alice.address },
        `${f.alice.address} is not an ERC-20 token with a symbol and decimals`,
      );
    });
  });

  describe("cinder:status", function () {
    it("prints the acting account's tokens, stake, credits, allowance, vouchers and the protocol line", async function () {
      const f = await load(localFixture);
      await run("cinder:faucet", { from: "1" });
      await stake("1", "500");
      await run("cinder:mint-credit", { from: "1", amount: "1" });
      await run("cinder:unstake", { from: "1", amount: "100" });
      await run("cinder:mint-compute", { from: "1", tokens: "10" });
      await run("cinder:buy-voucher", { from: "1", class: "1", vouchers: "2" });
      const locked = await f.vault.lockedOf(f.alice.address);
      const [, unlockTime] = await f.vault.coolingOf(f.alice.address);

      const out = await run("cinder:status", { from: "1" });
      const lines = out.split("\n");
      expect(lines[1]).to.equal(
        `protocol: epoch ${await f.engine.currentEpoch()} · oracle price $2.0000 per CNDR · supply ` +
          `${formatAmount(await f.token.totalSupply(), "CNDR")} of at most 1,000,000,000.00 CNDR`,
      );
      expect(lines[2]).to.equal(`account ${f.alice.address}`);
      expect(out).to.contain(`CNDR          ${formatAmount(10_000n * WAD - 510n * WAD, "CNDR")}`);
      expect(out).to.contain(
        `stake         400.00 CNDR staked (${formatAmount(locked, "CNDR")} locked by DailyCredit), 100.00 CNDR ` +
          `cooling until ${formatTime(unlockTime)} (in `,
      );
      expect(out).to.contain(
        `DailyCredit   1.00 DCR; position 1.00 DCR locking ${formatAmount(locked, "CNDR")}; today $1.00 left, $0.00 spent`,
      );
      expect(out).to.contain(
        `ComputeCredit ${formatUsd(creditFor(f, 10n).credits)}; coordinator allowance $0.00`,
      );
      expect(out).to.contain(
        "vouchers      class 1: 2 held · stories260K (TinyStories, llama.cpp GGUF), 100,000 units per voucher at " +
          "1.00 USDC + 3 % premium, no expiry, 2 sold, no cap",
      );
      expect(out).to.contain("earnings      0.00 USDC owed by the VoucherMarket");
      expect(out).to.contain("provider      not registered");
      expect(out).to.contain("jobs          none");
    });

    it("inspects --account without its key: provider record, earnings and jobs on both sides", async function () {
      const f = await load(settledJobFixture);
      const principal = f.config.genesis!.voucherPriceUsdc;
      const fee = (principal * BigInt(f.config.market.protocolFeeBps) + BPS - 1n) / BPS;
      const provider = await run("cinder:status", { from: "1", account: f.provider.address });
      expect(provider).to.contain(`account ${f.provider.address}`);
      expect(provider).to.contain(
        `provider      Active, bond 1,000.00 CNDR (0.00 CNDR locked), 0 open jobs, not jailed, signer ${f.providerSigner.address}`,
      );
      expect(provider).to.contain("offers: stories260K (TinyStories, llama.cpp GGUF) at $0.001 per unit");
      expect(provider).to.contain(
        `earnings      ${formatAmount(principal - fee, "USDC", 6)} owed by the VoucherMarket`,
      );
      expect(provider).to.contain(
        "jobs          #1 (provider) Finalized, Voucher, 100,000/100,000 units, escrowed 1 voucher of class 1",
      );

      // alice's second job is still open: its voucher is held in escrow until the deadline.
      const deadline = BigInt(await time.latest()) + 3600n;
      await f.coordinator
        .connect(f.alice)
        .requestJob(MODEL, ethers.id("again"), "0x", 50_000n, voucherPayment, deadline, ethers.ZeroAddress);
      const requester = await run("cinder:status", { from: "1" });
      expect(requester).to.contain(
        "jobs          #1 (requester) Finalized, Voucher, 100,000/100,000 units, escrowed 1 voucher of class 1",
      );
      expect(requester).to.contain(
        `#2 (requester) Requested, Voucher, 0/50,000 units, escrow 1 voucher of class 1 held, deadline ` +
          `${formatTime(deadline)} (in `,
      );
      expect(requester).to.contain("vouchers      class 1: 0 held");
      expect(await run("cinder:status", { from: "2" })).to.contain("jobs          none");
    });

    it("rejects a bad --account or --from", async function () {
      await load(localFixture);
      await rejects("cinder:status", { account: "0x12" }, `--account "0x12" is not an address`);
      await rejects("cinder:status", { from: "25" }, "--from 25: the network has accounts 0 to 19");
    });
  });
});
