/**
 * The per-function sections of the gas benchmark. Each runs from the same state (the CinderJobs fixture just
 * deployed, one hour into a UTC day) and is rolled back afterwards, so a change to one section never moves
 * the numbers of another. Preparation steps are plain transactions; only `rec.tx` calls are measured.
 */
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import {
  request,
  accept,
  submit,
  Kind,
  HOUR,
  DAY,
  WAD,
  USDC,
  BOND,
  MODEL,
  OTHER_MODEL,
  PRICE1,
  PRICE2,
  type JobsFixture,
} from "../../test/hardhat/jobsFixture";
import { Recorder, signPermit } from "./recorder";

/** Accounts the fixture leaves untouched: a new staker/buyer, a new provider, a fresh signing key. */
export async function extraSigners() {
  const signers = await ethers.getSigners();
  return { carol: signers[13], dave: signers[14], erin: signers[15] };
}

type Extra = Awaited<ReturnType<typeof extraSigners>>;

const latest = async () => BigInt(await time.latest());
/** `HOUR` into UTC day `day`. */
const hourInto = (day: bigint) => day * DAY + HOUR;

async function mined(tx: Promise<{ wait(): Promise<unknown> }>) {
  await (await tx).wait();
}

/** Guards a row against silently measuring a cheaper path (nothing to claim, nothing to pay). */
function expectPositive(what: string, value: bigint) {
  if (value <= 0n)
    throw new Error(`gas benchmark setup: ${what} is zero, the row would measure another path`);
}

/**
 * Steady state of the job lifecycle: one job of each kind through settlement (terms, balances and today's
 * ledgers exist; provider1's work is recorded in today's epoch), then one job of each kind left in flight
 * (accepted, not settled): custody, locked collateral and open-job counters are non-zero. Jobs 1-6.
 */
export async function warmUp(f: JobsFixture) {
  const first = (await f.coordinator.jobCount()) + 1n;
  for (const kind of [Kind.Voucher, Kind.DailyCredit, Kind.ComputeCredit]) {
    const id = await request(f, kind);
    await accept(f, id);
    await submit(f, id, 1_200n);
  }
  await time.increase(HOUR);
  for (let id = first; id < first + 3n; ++id) await mined(f.coordinator.finalize(id));
  for (const kind of [Kind.Voucher, Kind.DailyCredit, Kind.ComputeCredit]) {
    await accept(
      f,
      await request(f, kind, { input: `in-flight-${kind}`, deadline: (await latest()) + 20n * HOUR }),
    );
  }
}

/** ProtocolToken, DailyCredit and ComputeCredit as ERC-20s (transfers, allowances, permits, burns). */
export async function tokens(rec: Recorder, f: JobsFixture, { carol }: Extra) {
  const { token, dailyCredit, computeCredit, alice, bob } = f;

  await rec.tx(
    "ProtocolToken.transfer (to a holder)",
    "ProtocolToken.transfer",
    "warm",
    token.connect(alice).transfer(bob.address, WAD),
  );
  await rec.tx(
    "ProtocolToken.transfer (to a new holder)",
    "ProtocolToken.transfer",
    "cold",
    token.connect(alice).transfer(carol.address, 1_000n * WAD),
  );
  await rec.tx(
    "ProtocolToken.approve (new allowance)",
    "ProtocolToken.approve",
    "cold",
    token.connect(alice).approve(carol.address, 100n * WAD),
  );
  await rec.tx(
    "ProtocolToken.approve (change allowance)",
    "ProtocolToken.approve",
    "warm",
    token.connect(alice).approve(carol.address, 200n * WAD),
  );
  await rec.tx(
    "ProtocolToken.transferFrom (finite allowance)",
    "ProtocolToken.transferFrom",
    "warm",
    token.connect(carol).transferFrom(alice.address, bob.address, 50n * WAD),
  );
  let deadline = (await latest()) + HOUR;
  let p = await signPermit(token, bob, carol.address, 100n * WAD, deadline);
  await rec.tx(
    "ProtocolToken.permit (first nonce)",
    "ProtocolToken.permit",
    "cold",
    token.permit(bob.address, carol.address, 100n * WAD, deadline, p.v, p.r, p.s),
  );
  p = await signPermit(token, bob, carol.address, 300n * WAD, deadline);
  await rec.tx(
    "ProtocolToken.permit",
    "ProtocolToken.permit",
    "warm",
    token.permit(bob.address, carol.address, 300n * WAD, deadline, p.v, p.r, p.s),
  );
  await rec.tx("ProtocolToken.burn", "ProtocolToken.burn", "warm", token.connect(alice).burn(WAD));
  await rec.tx(
    "ProtocolToken.burnFrom (finite allowance)",
    "ProtocolToken.burnFrom",
    "warm",
    token.connect(carol).burnFrom(alice.address, 10n * WAD),
  );

  // ComputeCredit: users cannot transfer it to each other; they approve the coordinator.
  const coordinator = await f.coordinator.getAddress();
  await rec.tx(
    "ComputeCredit.approve (new allowance)",
    "ComputeCredit.approve",
    "cold",
    computeCredit.connect(carol).approve(coordinator, ethers.MaxUint256),
  );
  await rec.tx(
    "ComputeCredit.approve (change allowance)",
    "ComputeCredit.approve",
    "warm",
    computeCredit.connect(alice).approve(coordinator, 1_000_000n * WAD),
  );

  // DailyCredit: every balance change first rolls both sides' day ledgers.
  await rec.tx(
    "DailyCredit.transfer (to a holder, same day)",
    "DailyCredit.transfer",
    "warm",
    dailyCredit.connect(alice).transfer(bob.address, WAD),
  );
  await rec.tx(
    "DailyCredit.transfer (to a new holder)",
    "DailyCredit.transfer",
    "cold",
    dailyCredit.connect(alice).transfer(carol.address, WAD),
  );
  await rec.tx(
    "DailyCredit.approve (new allowance)",
    "DailyCredit.approve",
    "cold",
    dailyCredit.connect(alice).approve(carol.address, 10n * WAD),
  );
  await rec.tx(
    "DailyCredit.transferFrom (finite allowance)",
    "DailyCredit.transferFrom",
    "warm",
    dailyCredit.connect(carol).transferFrom(alice.address, bob.address, WAD),
  );
  deadline = (await latest()) + HOUR;
  p = await signPermit(dailyCredit, bob, carol.address, 10n * WAD, deadline);
  await rec.tx(
    "DailyCredit.permit (first nonce)",
    "DailyCredit.permit",
    "cold",
    dailyCredit.permit(bob.address, carol.address, 10n * WAD, deadline, p.v, p.r, p.s),
  );
  await time.increaseTo(hourInto((await latest()) / DAY + 1n));
  await rec.tx(
    "DailyCredit.transfer (first of a day: ledgers roll)",
    "DailyCredit.transfer",
    "warm",
    dailyCredit.connect(alice).transfer(bob.address, WAD),
  );
}

/** StakingVault with a reward stream running, and DailyCredit positions (which lock stake). */
export async function staking(rec: Recorder, f: JobsFixture, { carol }: Extra) {
  const { token, vault, dailyCredit, engine, alice, bob, treasury, outsider } = f;
  const vaultAddress = await vault.getAddress();
  await mined(token.connect(treasury).transfer(carol.address, 10_000n * WAD));
  await mined(token.connect(carol).approve(vaultAddress, ethers.MaxUint256));
  // Next day: the keeper distributes yesterday's emission, so the stakers' reward stream runs; alice and bob
  // have claimed once since it started (their reward checkpoints are non-zero).
  const today = (await latest()) / DAY;
  await time.increaseTo(hourInto(today + 1n));
  await mined(engine.connect(outsider).distribute(today));
  await time.increase(HOUR / 2n);
  await mined(vault.connect(alice).claim());
  await mined(vault.connect(bob).claim());
  await time.increase(HOUR / 2n);

  await rec.tx(
    "StakingVault.stake (first stake)",
    "StakingVault.stake",
    "cold",
    vault.connect(carol).stake(5_000n * WAD),
  );
  await rec.tx(
    "StakingVault.stake (top-up)",
    "StakingVault.stake",
    "warm",
    vault.connect(alice).stake(1_000n * WAD),
  );
  // bob has no allowance left, so the stake goes through only if the permit does (the vault swallows a failed
  // permit and would otherwise stake on an existing allowance, measuring another path).
  await mined(token.connect(bob).approve(vaultAddress, 0));
  const deadline = (await latest()) + HOUR;
  const p = await signPermit(token, bob, vaultAddress, 1_000n * WAD, deadline);
  await rec.tx(
    "StakingVault.stakeWithPermit (top-up, first permit)",
    "StakingVault.stakeWithPermit",
    "cold",
    vault.connect(bob).stakeWithPermit(1_000n * WAD, deadline, p.v, p.r, p.s),
  );
  if ((await token.nonces(bob.address)) !== 1n) throw new Error("stakeWithPermit: the permit was not used");
  expectPositive("alice's accrued reward", await vault.earned(alice.address));
  await rec.tx("StakingVault.claim", "StakingVault.claim", "warm", vault.connect(alice).claim());
  await rec.tx(
    "StakingVault.requestUnstake (first)",
    "StakingVault.requestUnstake",
    "cold",
    vault.connect(alice).requestUnstake(100n * WAD),
  );
  await rec.tx(
    "StakingVault.requestUnstake (add to pending)",
    "StakingVault.requestUnstake",
    "warm",
    vault.connect(alice).requestUnstake(100n * WAD),
  );
  await rec.tx(
    "StakingVault.cancelUnstake",
    "StakingVault.cancelUnstake",
    "warm",
    vault.connect(alice).cancelUnstake(),
  );

  await rec.tx(
    "DailyCredit.mint (first position)",
    "DailyCredit.mint",
    "cold",
    dailyCredit.connect(carol).mint(2n * WAD, ethers.MaxUint256),
  );
  await rec.tx(
    "DailyCredit.mint (top-up, same day)",
    "DailyCredit.mint",
    "warm",
    dailyCredit.connect(carol).mint(WAD, ethers.MaxUint256),
  );
  await rec.tx(
    "DailyCredit.burn (partial)",
    "DailyCredit.burn",
    "warm",
    dailyCredit.connect(carol).burn(WAD),
  );
  await rec.tx(
    "DailyCredit.burn (close position)",
    "DailyCredit.burn",
    "warm",
    dailyCredit.connect(carol).burn(2n * WAD),
  );

  await mined(vault.connect(bob).requestUnstake(100n * WAD));
  await time.increase((await vault.cooldown()) + 1n);
  await rec.tx(
    "StakingVault.withdraw (after cooldown)",
    "StakingVault.withdraw",
    "warm",
    vault.connect(bob).withdraw(),
  );
}

/** BurnMintEngine conversions and emissions over three epochs of provider work. */
export async function engineSection(rec: Recorder, f: JobsFixture) {
  const { engine, alice, provider1, outsider } = f;
  await warmUp(f); // provider1's work recorded in epoch D
  const d = (await latest()) / DAY;
  await time.increaseTo(hourInto(d + 1n));
  await rec.tx(
    "BurnMintEngine.distribute (first emission)",
    "BurnMintEngine.distribute",
    "cold",
    engine.connect(outsider).distribute(d),
  );
  await rec.tx(
    "BurnMintEngine.mintCredits (first of the epoch)",
    "BurnMintEngine.mintCredits",
    "cold",
    engine.connect(alice).mintCredits(100n * WAD, 0, alice.address),
  );
  await rec.tx(
    "BurnMintEngine.mintCredits",
    "BurnMintEngine.mintCredits",
    "warm",
    engine.connect(alice).mintCredits(100n * WAD, 0, alice.address),
  );
  await rec.tx(
    "BurnMintEngine.redeem (first of the epoch)",
    "BurnMintEngine.redeem",
    "cold",
    engine.connect(provider1).redeem(WAD, 0, provider1.address),
  );
  await rec.tx(
    "BurnMintEngine.redeem",
    "BurnMintEngine.redeem",
    "warm",
    engine.connect(provider1).redeem(WAD, 0, provider1.address),
  );

  // Work in epoch D+1, then the next day's distribution finds the stream and the engine's balance in place.
  const jobs: bigint[] = [];
  for (const kind of [Kind.Voucher, Kind.ComputeCredit]) {
    const id = await request(f, kind, { input: `engine-${kind}` });
    await accept(f, id);
    await submit(f, id, 1_000n);
    jobs.push(id);
  }
  await time.increase(HOUR);
  await mined(f.coordinator.finalizeBatch(jobs));
  await time.increaseTo(hourInto(d + 2n));
  await rec.tx(
    "BurnMintEngine.distribute (stream running, work recorded)",
    "BurnMintEngine.distribute",
    "warm",
    engine.connect(outsider).distribute(d + 1n),
  );
  expectPositive(
    "provider1's share of the epoch-D pool",
    await engine.claimableEmission(d, provider1.address),
  );
  expectPositive("the epoch-D+1 provider pool", (await engine.epochLedger(d + 1n)).providerPool);
  await rec.tx(
    "BurnMintEngine.claimEmissions (1 epoch)",
    "BurnMintEngine.claimEmissions",
    "warm",
    engine.connect(provider1).claimEmissions([d]),
  );
}

/** VoucherMarket: purchases, ERC-1155 transfers, provider earnings, expiry; catalog administration. */
export async function market(rec: Recorder, f: JobsFixture, { carol, dave }: Extra) {
  const { market: m, usdc, admin, alice, bob, treasury, provider1 } = f;
  await warmUp(f); // provider1 and the treasury are owed stablecoin for redeemed vouchers
  const marketAddress = await m.getAddress();
  await mined(usdc.mint(carol.address, 100n * USDC));
  await mined(usdc.connect(carol).approve(marketAddress, ethers.MaxUint256));

  await rec.tx(
    "VoucherMarket.buy (first purchase)",
    "VoucherMarket.buy",
    "cold",
    m.connect(carol).buy(1, 10, ethers.MaxUint256, carol.address),
  );
  await rec.tx(
    "VoucherMarket.buy (repeat)",
    "VoucherMarket.buy",
    "warm",
    m.connect(alice).buy(1, 10, ethers.MaxUint256, alice.address),
  );
  await rec.tx(
    "VoucherMarket.setApprovalForAll",
    "VoucherMarket.setApprovalForAll",
    "cold",
    m.connect(carol).setApprovalForAll(await f.coordinator.getAddress(), true),
  );
  await rec.tx(
    "VoucherMarket.safeTransferFrom (to a holder)",
    "VoucherMarket.safeTransferFrom",
    "warm",
    m.connect(alice).safeTransferFrom(alice.address, bob.address, 1, 1, "0x"),
  );
  await rec.tx(
    "VoucherMarket.safeTransferFrom (to a new holder)",
    "VoucherMarket.safeTransferFrom",
    "cold",
    m.connect(alice).safeTransferFrom(alice.address, dave.address, 1, 1, "0x"),
  );
  await rec.tx(
    "VoucherMarket.withdraw (provider earnings, first)",
    "VoucherMarket.withdraw",
    "cold",
    m.connect(provider1).withdraw(provider1.address, await usdc.getAddress()),
  );
  await rec.tx(
    "VoucherMarket.withdraw (treasury fees)",
    "VoucherMarket.withdraw",
    "warm",
    m.connect(treasury).withdraw(treasury.address, await usdc.getAddress()),
  );

  await rec.tx(
    "VoucherMarket.createClass (admin, expiring)",
    "VoucherMarket.createClass",
    "cold",
    m
      .connect(admin)
      .createClass(MODEL, await usdc.getAddress(), 1_000n, USDC, 300, (await latest()) + DAY, 0),
  );
  const expiring = await m.classCount();
  await mined(m.connect(alice).buy(expiring, 10, ethers.MaxUint256, alice.address));
  await mined(m.connect(bob).buy(expiring, 1, ethers.MaxUint256, bob.address));
  await rec.tx(
    "VoucherMarket.safeBatchTransferFrom (2 classes)",
    "VoucherMarket.safeBatchTransferFrom",
    "warm",
    m.connect(alice).safeBatchTransferFrom(alice.address, bob.address, [1n, expiring], [1n, 1n], "0x"),
  );
  await rec.tx(
    "VoucherMarket.setClassActive (admin)",
    "VoucherMarket.setClassActive",
    "warm",
    m.connect(admin).setClassActive(expiring, false),
  );
  await time.increase(DAY + 1n);
  await rec.tx(
    "VoucherMarket.reclaim (expired class)",
    "VoucherMarket.reclaim",
    "warm",
    m.connect(alice).reclaim(expiring, 1),
  );
}

/** ProviderRegistry: registration, bond, offers, keys, exit. */
export async function providers(rec: Recorder, f: JobsFixture, { dave, erin }: Extra) {
  const { token, registry, treasury, provider1, provider2 } = f;
  await mined(token.connect(treasury).transfer(dave.address, 20_000n * WAD));
  await mined(token.connect(dave).approve(await registry.getAddress(), ethers.MaxUint256));

  await rec.tx(
    "ProviderRegistry.register (1 model)",
    "ProviderRegistry.register",
    "cold",
    registry.connect(dave).register(BOND, "https://p3.example", erin.address, [MODEL], [PRICE1]),
  );
  await rec.tx(
    "ProviderRegistry.increaseBond",
    "ProviderRegistry.increaseBond",
    "warm",
    registry.connect(provider1).increaseBond(1_000n * WAD),
  );
  await rec.tx(
    "ProviderRegistry.updateOffer (reprice a model)",
    "ProviderRegistry.updateOffer",
    "warm",
    registry.connect(provider1).updateOffer([MODEL], [PRICE2]),
  );
  await rec.tx(
    "ProviderRegistry.updateOffer (add a model)",
    "ProviderRegistry.updateOffer",
    "cold",
    registry.connect(provider2).updateOffer([OTHER_MODEL], [PRICE2]),
  );
  await rec.tx(
    "ProviderRegistry.setSigner",
    "ProviderRegistry.setSigner",
    "warm",
    registry.connect(provider1).setSigner(erin.address),
  );
  await rec.tx(
    "ProviderRegistry.setMetadataURI",
    "ProviderRegistry.setMetadataURI",
    "warm",
    registry.connect(provider1).setMetadataURI("https://p1.example/v2"),
  );
  await rec.tx(
    "ProviderRegistry.requestExit",
    "ProviderRegistry.requestExit",
    "warm",
    registry.connect(provider2).requestExit(),
  );
  await time.increase((await registry.getProvider(provider2.address)).unbondingEnds - (await latest()) + 1n);
  await rec.tx(
    "ProviderRegistry.withdrawBond (after unbonding)",
    "ProviderRegistry.withdrawBond",
    "warm",
    registry.connect(provider2).withdrawBond(),
  );
}

/** JobCoordinator and dispute paths the lifecycle table leaves out. */
export async function jobs(rec: Recorder, f: JobsFixture) {
  const { coordinator, disputes, verifier, alice, provider1, challenger, arbiter1, outsider } = f;
  await warmUp(f);
  const daily = await request(f, Kind.DailyCredit, { input: "jobs-daily" });
  await rec.tx(
    "acceptJob (DailyCredit)",
    "JobCoordinator.acceptJob",
    "warm",
    coordinator.connect(provider1).acceptJob(daily),
  );
  const credit = await request(f, Kind.ComputeCredit, { input: "jobs-credit" });
  await rec.tx(
    "acceptJob (ComputeCredit)",
    "JobCoordinator.acceptJob",
    "warm",
    coordinator.connect(provider1).acceptJob(credit),
  );
  await submit(f, daily, 1_200n);
  await submit(f, credit, 1_200n);

  const dailyCancelled = await request(f, Kind.DailyCredit, { input: "jobs-daily-cancel" });
  await rec.tx(
    "cancel (DailyCredit)",
    "JobCoordinator.cancel",
    "warm",
    coordinator.connect(alice).cancel(dailyCancelled),
  );
  const creditCancelled = await request(f, Kind.ComputeCredit, { input: "jobs-credit-cancel" });
  await rec.tx(
    "cancel (ComputeCredit)",
    "JobCoordinator.cancel",
    "warm",
    coordinator.connect(alice).cancel(creditCancelled),
  );
  const unaccepted = await request(f, Kind.Voucher, { input: "jobs-unaccepted" });

  const rejected = await request(f, Kind.Voucher, { input: "jobs-rejected" });
  await accept(f, rejected);
  await submit(f, rejected, 1_000n);
  await mined(disputes.connect(challenger).challenge(rejected));
  await rec.tx(
    "vote (arbiter, result valid)",
    "ArbiterCommitteeVerifier.vote",
    "warm",
    verifier.connect(arbiter1).vote(rejected, false),
  );
  await rec.tx(
    "resolve (challenge rejected)",
    "DisputeModule.resolve",
    "warm",
    disputes.connect(outsider).resolve(rejected),
  );
  const timedOut = await request(f, Kind.Voucher, { input: "jobs-timed-out" });
  await accept(f, timedOut);
  await submit(f, timedOut, 1_000n);
  await mined(disputes.connect(challenger).challenge(timedOut));

  await time.increase(HOUR);
  await rec.tx(
    "finalize (DailyCredit)",
    "JobCoordinator.finalize",
    "warm",
    coordinator.connect(outsider).finalize(daily),
  );
  await rec.tx(
    "expire (requested, never accepted)",
    "JobCoordinator.expire",
    "warm",
    coordinator.connect(outsider).expire(unaccepted),
  );
  await time.increase(await disputes.disputeTimeout());
  await rec.tx(
    "resolve (timed out)",
    "DisputeModule.resolve",
    "warm",
    disputes.connect(outsider).resolve(timedOut),
  );
}

/** ModelRegistry administration (governance; optional, measured for completeness). */
export async function models(rec: Recorder, f: JobsFixture) {
  const { models: registry, admin } = f;
  const id = ethers.id("bench-model");
  await rec.tx(
    "ModelRegistry.registerModel (admin)",
    "ModelRegistry.registerModel",
    "cold",
    registry.connect(admin).registerModel(id, ethers.id("bench-model.gguf"), "bench model", "", "1 token"),
  );
  await rec.tx(
    "ModelRegistry.updateModel (admin)",
    "ModelRegistry.updateModel",
    "warm",
    registry.connect(admin).updateModel(id, ethers.id("bench-model-v2.gguf"), "ipfs://bench", "1 token"),
  );
  await rec.tx(
    "ModelRegistry.setActive (admin)",
    "ModelRegistry.setActive",
    "warm",
    registry.connect(admin).setActive(id, false),
  );
}

export type Section = (rec: Recorder, f: JobsFixture, extra: Extra) => Promise<void>;
