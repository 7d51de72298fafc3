/**
 * Cinder end-to-end demo on Hardhat's in-process chain.
 *
 * Deploys the whole protocol under its timelock through the same Ignition modules users deploy with,
 * then plays its economy: governance lists a real model (the GGUF in ../shared/models) and a voucher
 * class through the timelock; a provider bonds; a staker mints perpetual daily credit; a user burns
 * tokens for USD compute credit; a third buys stablecoin vouchers; three jobs are paid from the three
 * sources; the epoch ledger shows organic demand vs subsidy; emissions reach stakers and providers; the
 * provider redeems credit for tokens; a late provider is slashed; everyone exits.
 * A stand-in account plays the job coordinator until that contract lands.
 * Run: `npm run demo`.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ethers, ignition, network } from "hardhat";
import Cinder from "../deploy/modules/Cinder";
import { ROLES } from "../deploy/modules/CinderCore";
import type {
  BurnMintEngine,
  CinderTimelock,
  ComputeCredit,
  DailyCredit,
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
  const [deployer, treasury, coordinator, alice, bob, carol, provider, attestor, guardian] =
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

  // Governance, through the timelock: list the model, a voucher class, and the coordinator stand-in's roles.
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
        "1000 output tokens",
      ]),
    ],
    [
      await vouchers.getAddress(),
      vouchers.interface.encodeFunctionData("createClass", [
        modelId,
        await usdcToken.getAddress(),
        1000n,
        2_000_000n, // 2 USDC per voucher (1000 output tokens)
        300, // 3 % mint premium
        expiry,
        1_000_000n,
      ]),
    ],
    [
      await credit.getAddress(),
      credit.interface.encodeFunctionData("grantRole", [ROLES.SPENDER, coordinator.address]),
    ],
    [
      await compute.getAddress(),
      compute.interface.encodeFunctionData("grantRole", [ROLES.PROTOCOL, coordinator.address]),
    ],
    [
      await engine.getAddress(),
      engine.interface.encodeFunctionData("grantRole", [ROLES.COORDINATOR, coordinator.address]),
    ],
    [
      await providers.getAddress(),
      providers.interface.encodeFunctionData("grantRole", [ROLES.COORDINATOR, coordinator.address]),
    ],
    [
      await providers.getAddress(),
      providers.interface.encodeFunctionData("grantRole", [ROLES.SLASHER, coordinator.address]),
    ],
    [
      await vouchers.getAddress(),
      vouchers.interface.encodeFunctionData("grantRole", [ROLES.REDEEMER, coordinator.address]),
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
    `voucher class 1: 1 voucher = 1000 output tokens at 2 USDC + 3 % premium, expires ${new Date(expiry * 1000).toISOString().slice(0, 10)}`,
    "roles for the job-coordinator stand-in: spend allowance, escrow credit, record work, lock/slash bonds, redeem vouchers",
  );

  const bond = ethers.parseEther("5000");
  const price = ethers.parseEther("0.002"); // $0.002 per 1000 output tokens
  await send(token.connect(treasury).transfer(provider.address, bond));
  await send(token.connect(provider).approve(await providers.getAddress(), bond));
  await send(
    providers.connect(provider).register(bond, "https://gpu.example", attestor.address, [modelId], [price]),
  );
  step(
    `A provider bonds ${fmt(bond, 0)} ${sym} and offers the model at ${usd(price * 1000n)} per million tokens`,
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
    "Carol buys 20 vouchers (20,000 output tokens) with a stablecoin: no oracle, no volatility",
    `paid ${usdc(principal + premium)}: ${usdc(principal)} escrowed for providers, ${usdc(premium)} premium to the treasury`,
  );

  // Three jobs, one per payment source. Collateral is locked while a job is open and released after.
  const collateral = ethers.parseEther("100");
  const job = async (label: string, pay: () => Promise<void>) => {
    await send(providers.connect(coordinator).lockCollateral(provider.address, collateral));
    await pay();
    await send(providers.connect(coordinator).releaseCollateral(provider.address, collateral));
    return label;
  };
  const organic = ethers.parseEther("240");
  await job("credit", async () => {
    await send(compute.connect(bob).approve(coordinator.address, organic));
    await send(compute.connect(coordinator).transferFrom(bob.address, coordinator.address, organic));
    await send(compute.connect(coordinator).transfer(provider.address, organic));
    await send(engine.connect(coordinator).recordWork(provider.address, organic, false));
  });
  const voucherJob = 5n;
  await job("vouchers", async () => {
    await send(
      vouchers.connect(carol).safeTransferFrom(carol.address, coordinator.address, 1n, voucherJob, "0x"),
    );
    await send(vouchers.connect(coordinator).redeem(coordinator.address, 1n, voucherJob, provider.address));
    await send(engine.connect(coordinator).recordWork(provider.address, voucherJob * 2n * 10n ** 18n, false));
  });
  const subsidised = ethers.parseEther("60");
  await job("daily credit", async () => {
    await send(credit.connect(coordinator).spend(alice.address, subsidised));
    await send(engine.connect(coordinator).mintSubsidisedCredits(provider.address, subsidised));
    await send(engine.connect(coordinator).recordWork(provider.address, subsidised, true));
  });
  step(
    "Three inference jobs settle, each with provider collateral locked while open:",
    `Bob pays ${usd(organic)} in ${csym} (organic); Carol redeems ${voucherJob} vouchers → provider gets ` +
      `${usdc(await usdcToken.balanceOf(provider.address))} after the ${await vouchers.protocolFeeBps()} bps fee (organic)`,
    `Alice spends ${usd(subsidised)} of daily allowance → the provider is paid in capped subsidy credit; ` +
      `Alice has ${usd(await credit.dailyAllowance(alice.address))} left today`,
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

  await send(providers.connect(coordinator).lockCollateral(provider.address, collateral));
  const lateSlash = collateral / 10n;
  await send(providers.connect(coordinator).slash(provider.address, lateSlash, ethers.ZeroAddress));
  await send(providers.connect(coordinator).releaseCollateral(provider.address, collateral));
  step(
    `A job misses its deadline: 10 % of its ${fmt(collateral, 0)} ${sym} collateral is slashed and burned`,
    `provider bond ${fmt(bond, 0)} → ${fmt((await providers.getProvider(provider.address)).bond, 0)} ${sym}`,
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
    `the provider requests exit; its bond unbonds until ${new Date(Number((await providers.getProvider(provider.address)).unbondingEnds) * 1000).toISOString()}`,
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
