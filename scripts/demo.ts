/**
 * Cinder end-to-end demo on Hardhat's in-process chain.
 *
 * Deploys the whole protocol under its timelock through the same Ignition modules users deploy with,
 * then plays its economy: governance lists a real model (the GGUF in ../shared/models) and a voucher
 * class through the timelock; a provider bonds; a staker mints perpetual daily credit; a user burns
 * tokens for USD compute credit; a third buys stablecoin vouchers; three jobs are paid from the three
 * sources; the epoch ledger shows organic demand vs subsidy; emissions reach stakers and providers; the
 * provider redeems credit for tokens; a late job is slashed; a wrong result is challenged, voted down by
 * the arbiter committee and slashed; everyone exits. Jobs go through the JobCoordinator with EIP-712 attested
 * results (the relayer of issue 7 will produce them with the embedded model).
 * Run: `npm run demo`.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ethers, ignition, network } from "hardhat";
import Cinder from "../deploy/modules/Cinder";
import { resultTypedData } from "../bindings/attestation";
import { ROLES } from "../deploy/modules/CinderCore";
import type {
  ArbiterCommitteeVerifier,
  BurnMintEngine,
  CinderTimelock,
  ComputeCredit,
  DailyCredit,
  DisputeModule,
  JobCoordinator,
  ModelRegistry,
  ProtocolToken,
  ProviderRegistry,
  StakingVault,
  VoucherMarket,
} from "../typechain-types";

const DAY = 86_400;
const MODEL_FILE = path.join(__dirname, "..", "..", "shared", "models", "stories260K.gguf");
const fmt = (wei: bigint, decimals = 2) => Number(ethers.formatEther(wei)).toFixed(decimals);
const usd = (wei: bigint) => `$${fmt(wei)}`;
const usdc = (units: bigint) => `${ethers.formatUnits(units, 6)} USDC`;

let stepNo = 0;
function step(title: string, ...lines: string[]) {
  stepNo += 1;
  console.log(`\n[${stepNo}] ${title}`);
  for (const line of lines) console.log(`    ${line}`);
}

async function now(): Promise<number> {
  const block = await ethers.provider.getBlock("latest");
  if (!block) throw new Error("no latest block");
  return block.timestamp;
}

async function warpTo(timestamp: number) {
  await network.provider.send("evm_setNextBlockTimestamp", [timestamp]);
  await network.provider.send("evm_mine", []);
}

async function nextUtcDay(): Promise<number> {
  const day = Math.floor((await now()) / DAY) + 1;
  await warpTo(day * DAY + 60);
  return day;
}

/** sha256 of the demo model's weights: what providers and watchers check they serve. */
function weightsHash(): { hash: string; source: string } {
  if (fs.existsSync(MODEL_FILE)) {
    const digest = createHash("sha256").update(fs.readFileSync(MODEL_FILE)).digest("hex");
    return { hash: `0x${digest}`, source: path.relative(process.cwd(), MODEL_FILE) };
  }
  // The published sha256 of stories260K.gguf (see ../shared/models/README.md).
  return {
    hash: "0x270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
    source: "published hash (model file not found)",
  };
}

async function main() {
  if (network.name !== "hardhat") {
    throw new Error(`the demo runs on the in-process chain; got --network ${network.name}`);
  }
  const [deployer, treasury, challenger, alice, bob, carol, provider, attestor, guardian] =
    await ethers.getSigners();
  const send = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();

  const d = await ignition.deploy(Cinder, {
    parameters: {
      CinderCore: { treasury: treasury.address },
      CinderEconomy: { treasury: treasury.address },
      CinderMarket: { treasury: treasury.address },
      Cinder: { guardian: guardian.address },
    },
  });
  const token = d.token as unknown as ProtocolToken;
  const vault = d.vault as unknown as StakingVault;
  const credit = d.dailyCredit as unknown as DailyCredit;
  const compute = d.computeCredit as unknown as ComputeCredit;
  const engine = d.engine as unknown as BurnMintEngine;
  const models = d.modelRegistry as unknown as ModelRegistry;
  const providers = d.providerRegistry as unknown as ProviderRegistry;
  const vouchers = d.voucherMarket as unknown as VoucherMarket;
  const timelock = d.timelock as unknown as CinderTimelock;
  const jobs = d.jobCoordinator as unknown as JobCoordinator;
  const disputes = d.disputeModule as unknown as DisputeModule;
  const committee = d.verifier as unknown as ArbiterCommitteeVerifier;
  const sym = await token.symbol();
  const dsym = await credit.symbol();
  const csym = await compute.symbol();
  const cfg = await engine.config();
  const delay = Number(await timelock.getMinDelay());
  step(
    "Deployed Cinder under its timelock (Ignition module deploy/modules/Cinder.ts)",
    `ProtocolToken ${sym}: supply ${fmt(await token.totalSupply(), 0)} / max ${fmt(await token.maxSupply(), 0)}; ` +
      `unstake cooldown ${(await vault.cooldown()) / 86_400n} days`,
    `DailyCredit ${dsym}: ${usd(await credit.creditPerDay())} of inference per credit per UTC day`,
    `ComputeCredit ${csym}: USD credit at ${usd(await d.oracle.price())}/${sym}; spread ${cfg.mintSpreadBps} bps; ` +
      `emission ${fmt(cfg.emissionPerEpoch, 0)} ${sym}/epoch (${Number(cfg.stakerShareBps) / 100}% to stakers)`,
    `every module's admin: the timelock (${delay / 3600} h delay); the deployer kept no admin role: ` +
      `${await engine.hasRole(ROLES.DEFAULT_ADMIN, deployer.address)}`,
  );

  // Governance, through the timelock: list the model and a voucher class.
  const usdcToken = await (await ethers.getContractFactory("MockStablecoin")).deploy("USD Coin", "USDC", 6);
  const { hash, source } = weightsHash();
  const modelId = ethers.id("stories260K");
  const expiry = (await now()) + 90 * DAY;
  const calls: [string, string][] = [
    [
      await models.getAddress(),
      models.interface.encodeFunctionData("registerModel", [
        modelId,
        hash,
        "stories260K (TinyStories, llama.cpp GGUF)",
        "ipfs://stories260K",
        "1 output token",
      ]),
    ],
    [
      await vouchers.getAddress(),
      vouchers.interface.encodeFunctionData("createClass", [
        modelId,
        await usdcToken.getAddress(),
        100_000n,
        1_000_000n, // 1 USDC per voucher of 100,000 output tokens
        300, // 3 % mint premium
        expiry,
        1_000_000n,
      ]),
    ],
  ];
  const targets = calls.map(([t]) => t);
  const data = calls.map(([, c]) => c);
  const values = calls.map(() => 0n);
  const salt = ethers.id("cinder-demo-setup");
  await send(timelock.connect(deployer).scheduleBatch(targets, values, data, ethers.ZeroHash, salt, delay));
  await warpTo((await now()) + delay);
  await send(timelock.connect(bob).executeBatch(targets, values, data, ethers.ZeroHash, salt));
  const model = await models.getModel(modelId);
  step(
    `Governance proposal (${calls.length} calls) scheduled, executable ${delay / 3600} h later by anyone, executed`,
    `model "${model.name}" weights sha256 ${model.weightsHash.slice(0, 18)}… (${source}), unit "${model.unit}"`,
    `voucher class 1: 1 voucher = 100,000 output tokens at 1 USDC + 3 % premium, expires ${new Date(expiry * 1000).toISOString().slice(0, 10)}`,
  );

  const bond = ethers.parseEther("5000");
  const price = ethers.parseEther("0.00001"); // $0.00001 per output token: $10 per million
  await send(token.connect(treasury).transfer(provider.address, bond));
  await send(token.connect(provider).approve(await providers.getAddress(), bond));
  await send(
    providers.connect(provider).register(bond, "https://gpu.example", attestor.address, [modelId], [price]),
  );
  step(
    `A provider bonds ${fmt(bond, 0)} ${sym} and offers the model at ${usd(price * 1_000_000n)} per million tokens`,
    `eligible for jobs: ${await providers.isEligible(provider.address, modelId)}; attestation key ${attestor.address.slice(0, 10)}…`,
  );

  const day0 = Number(await engine.currentEpoch());
  const stakeAmount = ethers.parseEther("10000");
  await send(token.connect(treasury).transfer(alice.address, stakeAmount));
  await send(token.connect(alice).approve(await vault.getAddress(), stakeAmount));
  await send(vault.connect(alice).stake(stakeAmount));
  const dailyCredits = ethers.parseEther("100");
  const quote = await credit.quoteMint(dailyCredits);
  await send(credit.connect(alice).mint(dailyCredits, quote));
  step(
    `Alice stakes ${fmt(stakeAmount, 0)} ${sym} and mints ${fmt(dailyCredits, 0)} ${dsym} of perpetual daily credit`,
    `stake locked ${fmt(await vault.lockedOf(alice.address), 4)} ${sym} (curve rate ${fmt(await credit.mintRate(dailyCredits), 4)}); ` +
      `allowance today ${usd(await credit.dailyAllowance(alice.address))}`,
    `curve check: mintRate(10,000) = ${fmt(await credit.mintRate(ethers.parseEther("10000")), 4)} (Venice observed 93.34)`,
  );

  const bobTokens = ethers.parseEther("500");
  await send(token.connect(treasury).transfer(bob.address, bobTokens));
  await send(token.connect(bob).approve(await engine.getAddress(), bobTokens));
  const supplyBefore = await token.totalSupply();
  await send(engine.connect(bob).mintCredits(bobTokens, 0n, bob.address));
  step(
    `Bob burns ${fmt(bobTokens, 0)} ${sym} for USD compute credit (burn-and-mint)`,
    `token supply ${fmt(supplyBefore, 0)} → ${fmt(await token.totalSupply(), 0)}; Bob holds ${fmt(await compute.balanceOf(bob.address))} ${csym}; ` +
      `treasury spread ${fmt(await compute.balanceOf(treasury.address))} ${csym}`,
  );

  await send(usdcToken.mint(carol.address, 100_000_000n));
  await send(usdcToken.connect(carol).approve(await vouchers.getAddress(), 100_000_000n));
  const [principal, premium] = await vouchers.quoteBuy(1n, 20n);
  await send(vouchers.connect(carol).buy(1n, 20n, principal + premium, carol.address));
  step(
    "Carol buys 20 vouchers (2,000,000 output tokens) with a stablecoin: no oracle, no volatility",
    `paid ${usdc(principal + premium)}: ${usdc(principal)} escrowed for providers, ${usdc(premium)} premium to the treasury`,
  );

  // Three jobs, one per payment source, through the JobCoordinator: escrow on request, collateral on acceptance,
  // an EIP-712 attested result, settlement after the challenge window.
  const jobsAddress = await jobs.getAddress();
  await send(compute.connect(bob).approve(jobsAddress, ethers.MaxUint256));
  await send(vouchers.connect(carol).setApprovalForAll(jobsAddress, true));
  const window = Number(await jobs.challengeWindow());
  const attest = async (jobId: bigint, output: string, unitsUsed: bigint) => {
    const job = await jobs.getJob(jobId);
    const outputHash = ethers.id(output);
    const { domain, types } = resultTypedData((await ethers.provider.getNetwork()).chainId, jobsAddress);
    const signature = await attestor.signTypedData(domain, types, {
      jobId,
      modelId: job.modelId,
      inputHash: job.inputHash,
      outputHash,
      unitsUsed,
    });
    await send(jobs.connect(provider).submitResult(jobId, outputHash, unitsUsed, signature));
  };
  const requestJob = async (
    requester: typeof alice,
    prompt: string,
    maxUnits: bigint,
    pay: { kind: number; classId: bigint; maxPricePerUnit: bigint },
  ) => {
    await send(
      jobs
        .connect(requester)
        .requestJob(
          modelId,
          ethers.id(prompt),
          ethers.toUtf8Bytes(`ipfs://prompt/${ethers.id(prompt).slice(2, 14)}`),
          maxUnits,
          pay,
          (await now()) + 3600,
          ethers.ZeroAddress,
        ),
    );
    const jobId = await jobs.jobCount();
    await send(jobs.connect(provider).acceptJob(jobId));
    return jobId;
  };
  const creditJob = await requestJob(bob, "Once upon a time, Bob", 1_000_000n, {
    kind: 2,
    classId: 0n,
    maxPricePerUnit: price,
  });
  const voucherJob = await requestJob(carol, "Once upon a time, Carol", 500_000n, {
    kind: 0,
    classId: 1n,
    maxPricePerUnit: 0n,
  });
  const dailyJob = await requestJob(alice, "Once upon a time, Alice", 2_000_000n, {
    kind: 1,
    classId: 0n,
    maxPricePerUnit: price,
  });
  const locked = (await providers.getProvider(provider.address)).locked;
  await attest(creditJob, "story for Bob", 800_000n);
  await attest(voucherJob, "story for Carol", 420_000n);
  await attest(dailyJob, "story for Alice", 1_500_000n);
  await warpTo((await now()) + window);
  const allowanceBefore = await credit.dailyAllowance(alice.address);
  await send(jobs.connect(bob).finalizeBatch([creditJob, voucherJob, dailyJob]));
  await send(vouchers.connect(bob).withdraw(provider.address, await usdcToken.getAddress()));
  step(
    "Three inference jobs, one per payment source, settle in one finalizeBatch after the challenge window:",
    `while open, ${fmt(locked, 2)} ${sym} of the provider's bond was locked as collateral (1 ${sym} per USD of job value)`,
    `Bob: $10.00 ${csym} escrowed, 800,000 tokens used → provider paid ${usd(800_000n * price)}, Bob refunded ${usd(200_000n * price)} (organic)`,
    `Carol: 5 vouchers escrowed, 420,000 tokens used → 5 whole vouchers redeemed; the provider withdraws ` +
      `${usdc(await usdcToken.balanceOf(provider.address))} after the ${await vouchers.protocolFeeBps()} bps fee (organic)`,
    `Alice: $20.00 of daily allowance escrowed, 1,500,000 tokens used → provider paid ${usd(1_500_000n * price)} in subsidised ${csym}; ` +
      `the unused part comes back today: allowance ${usd(allowanceBefore)} → ${usd(await credit.dailyAllowance(alice.address))}`,
  );

  await send(credit.connect(alice).transfer(bob.address, ethers.parseEther("50")));
  step(
    `Alice sends 50 ${dsym} to Bob mid-day (a token spends at most once per day)`,
    `Alice allowance ${usd(await credit.dailyAllowance(alice.address))}, Bob allowance ${usd(await credit.dailyAllowance(bob.address))} ` +
      "(received tokens count from tomorrow)",
  );

  const day1 = await nextUtcDay();
  const ledger = await engine.epochLedger(day0);
  step(
    `00:00 UTC, epoch ${day1}. The epoch-${day0} ledger, public on-chain:`,
    `organic USD ${usd(await engine.organicUsd(day0))} (credit bought ${usd(ledger.organicCreditUsd)} + vouchers ${usd(ledger.voucherRevenueUsd)})`,
    `work paid to providers ${usd(ledger.workUsd)}, of which subsidised ${usd(ledger.subsidisedWorkUsd)} → ` +
      `subsidy ratio ${Number(await engine.subsidyRatio(day0)) / 100}%`,
    `tokens burned ${fmt(ledger.tokensBurned, 0)}, net supply change ${fmt(await engine.netSupplyChange(day0), 0)} ${sym} (deflationary so far)`,
    `allowances reset: Alice ${usd(await credit.dailyAllowance(alice.address))}, Bob ${usd(await credit.dailyAllowance(bob.address))} (no roll-over)`,
  );

  await send(engine.connect(bob).distribute(day0));
  const distributed = await engine.epochLedger(day0);
  const claimable = await engine.claimableEmission(day0, provider.address);
  await send(engine.connect(provider).claimEmissions([day0]));
  const providerCredit = await compute.balanceOf(provider.address);
  const tokensOut = await engine.quoteRedeem(providerCredit);
  await send(engine.connect(provider).redeem(providerCredit, tokensOut, provider.address));
  step(
    `Anyone distributes epoch ${day0}'s emission of ${fmt(distributed.tokensEmitted, 0)} ${sym}`,
    `${fmt(distributed.tokensEmitted - distributed.providerPool, 0)} streams to stakers over a day; the provider claims ${fmt(claimable, 0)} by work`,
    `the provider redeems ${fmt(providerCredit)} ${csym} for ${fmt(tokensOut, 4)} newly minted ${sym} ` +
      `(redeem capacity left this epoch ${fmt(await engine.redeemCapacity(), 0)})`,
  );

  const lateJob = await requestJob(bob, "a job the provider forgets", 1_000_000n, {
    kind: 2,
    classId: 0n,
    maxPricePerUnit: price,
  });
  const lateCollateral = (await jobs.getJob(lateJob)).collateral;
  const bondBefore = (await providers.getProvider(provider.address)).bond;
  await warpTo((await now()) + 3600);
  await send(jobs.connect(carol).expire(lateJob));
  step(
    `A job misses its deadline: anyone expires it; Bob is refunded in full and ${Number(await jobs.lateSlashBps()) / 100} % of its ` +
      `${fmt(lateCollateral)} ${sym} collateral is burned`,
    `provider bond ${fmt(bondBefore)} → ${fmt((await providers.getProvider(provider.address)).bond)} ${sym}`,
  );

  const badJob = await requestJob(bob, "Once upon a time, a watcher", 1_000_000n, {
    kind: 2,
    classId: 0n,
    maxPricePerUnit: price,
  });
  await attest(badJob, "not what the model says", 1_000_000n);
  const bond0 = (await providers.getProvider(provider.address)).bond;
  await send(token.connect(treasury).transfer(challenger.address, await disputes.challengeBond()));
  await send(token.connect(challenger).approve(await disputes.getAddress(), ethers.MaxUint256));
  const challengerBefore = await token.balanceOf(challenger.address);
  await send(disputes.connect(challenger).challenge(badJob));
  // The deployer is the committee's first arbiter (CinderJobs `arbiter` parameter); it re-ran the prompt.
  await send(committee.connect(deployer).vote(badJob, true));
  await send(disputes.connect(carol).resolve(badJob));
  const after = await providers.getProvider(provider.address);
  step(
    "A watcher re-executes a job, finds a different output and challenges it with a bond; the arbiter committee agrees:",
    `provider bond ${fmt(bond0)} → ${fmt(after.bond)} ${sym} (${Number(await disputes.faultSlashBps()) / 100} % slashed: ` +
      `${Number(await disputes.finderFeeBps()) / 100} % of it to the challenger, the rest burned)`,
    `challenger gains ${fmt((await token.balanceOf(challenger.address)) - challengerBefore)} ${sym} (bond returned + finder fee); ` +
      `Bob refunded in full; provider jailed until ${new Date(Number(after.jailedUntil) * 1000).toISOString().slice(0, 10)}`,
  );

  await warpTo((await now()) + DAY);
  const earned = await vault.earned(alice.address);
  await send(vault.connect(alice).claim());
  await send(credit.connect(bob).transfer(alice.address, ethers.parseEther("50")));
  const position = await credit.positionOf(alice.address);
  await send(credit.connect(alice).burn(position.credits));
  await send(vault.connect(alice).requestUnstake(stakeAmount));
  await send(providers.connect(provider).requestExit());
  step(
    `Alice, the only staker, claims ${fmt(earned, 4)} ${sym} of streamed emissions, burns her ${dsym} and requests to unstake`,
    `the jailed provider requests exit; its bond unbonds until ${new Date(Number((await providers.getProvider(provider.address)).unbondingEnds) * 1000).toISOString()}`,
  );

  const [, unlockTime] = await vault.coolingOf(alice.address);
  await warpTo(Number(unlockTime));
  const aliceBefore = await token.balanceOf(alice.address);
  await send(vault.connect(alice).withdraw());
  const providerBefore = await token.balanceOf(provider.address);
  await send(providers.connect(provider).withdrawBond());
  step(
    "Cooldown and unbonding over: everyone exits",
    `Alice withdraws ${fmt((await token.balanceOf(alice.address)) - aliceBefore, 0)} ${sym}; ` +
      `the provider withdraws its ${fmt((await token.balanceOf(provider.address)) - providerBefore, 0)} ${sym} bond`,
  );

  console.log(
    "\nDemo complete: governance → bonds → daily credit → burn-and-mint → vouchers → jobs → epoch ledger → emissions → slashing → exits.",
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
