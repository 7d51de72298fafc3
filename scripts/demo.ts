/**
 * Cinder end-to-end demo on Hardhat's in-process chain.
 *
 * Deploys the protocol through the same Ignition modules users deploy with, then plays its economy:
 * staking and perpetual daily credit (DIEM), burn-and-mint (tokens → USD compute credit → provider
 * redeems for tokens), a subsidised job paid from daily allowance, the epoch ledger with its subsidy
 * ratio, emissions to stakers and providers, and finally burning credit and unstaking through the
 * cooldown. A stand-in account plays the job coordinator until that contract lands.
 * Run: `npm run demo`.
 */
import { ethers, ignition, network } from "hardhat";
import CinderEconomy from "../deploy/modules/CinderEconomy";
import { ROLES } from "../deploy/modules/CinderCore";
import type {
  BurnMintEngine,
  ComputeCredit,
  DailyCredit,
  ProtocolToken,
  StakingVault,
} from "../typechain-types";

const DAY = 86_400;
const fmt = (wei: bigint, decimals = 2) => Number(ethers.formatEther(wei)).toFixed(decimals);
const usd = (wei: bigint) => `$${fmt(wei)}`;

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
  await warpTo(day * DAY);
  return day;
}

async function main() {
  if (network.name !== "hardhat") {
    throw new Error(`the demo runs on the in-process chain; got --network ${network.name}`);
  }
  const [admin, treasury, coordinator, alice, bob, provider] = await ethers.getSigners();
  const send = async (tx: Promise<{ wait(): Promise<unknown> }>) => (await tx).wait();

  const deployed = await ignition.deploy(CinderEconomy, {
    parameters: {
      CinderCore: { admin: admin.address, treasury: treasury.address },
      CinderEconomy: { admin: admin.address, treasury: treasury.address },
    },
  });
  const token = deployed.token as unknown as ProtocolToken;
  const vault = deployed.vault as unknown as StakingVault;
  const credit = deployed.dailyCredit as unknown as DailyCredit;
  const compute = deployed.computeCredit as unknown as ComputeCredit;
  const engine = deployed.engine as unknown as BurnMintEngine;
  const sym = await token.symbol();
  const dsym = await credit.symbol();
  const csym = await compute.symbol();
  const cfg = await engine.config();
  step(
    "Deployed Cinder (Ignition modules deploy/modules/CinderCore.ts + CinderEconomy.ts)",
    `ProtocolToken  ${sym}   supply ${fmt(await token.totalSupply(), 0)} / max ${fmt(await token.maxSupply(), 0)}`,
    `StakingVault         cooldown ${(await vault.cooldown()) / 86_400n} days`,
    `DailyCredit    ${dsym}    ${usd(await credit.creditPerDay())} of inference per credit per UTC day`,
    `ComputeCredit  ${csym}    USD compute credit; token price ${usd(await deployed.oracle.price())} (FixedPriceOracle)`,
    `BurnMintEngine       spread ${cfg.mintSpreadBps} bps, emission ${fmt(cfg.emissionPerEpoch, 0)} ${sym}/epoch, ` +
      `stakers ${Number(cfg.stakerShareBps) / 100}%, subsidy budget ${usd(cfg.subsidyBudgetUsd)}/epoch`,
  );

  // Stand-in for the JobCoordinator of a later issue: it escrows and pays credit, spends allowance,
  // records work and mints capped subsidy.
  await send(credit.connect(admin).grantRole(ROLES.SPENDER, coordinator.address));
  await send(compute.connect(admin).grantRole(ROLES.PROTOCOL, coordinator.address));
  await send(engine.connect(admin).grantRole(ROLES.COORDINATOR, coordinator.address));

  const day0 = Number(await engine.currentEpoch());
  const stakeAmount = ethers.parseEther("10000");
  await send(token.connect(treasury).transfer(alice.address, stakeAmount));
  await send(token.connect(alice).approve(await vault.getAddress(), stakeAmount));
  await send(vault.connect(alice).stake(stakeAmount));
  step(
    `Alice stakes ${fmt(stakeAmount, 0)} ${sym}`,
    `total staked ${fmt(await vault.totalStaked(), 0)} ${sym}`,
  );

  const credits = ethers.parseEther("100");
  const quote = await credit.quoteMint(credits);
  const rate = await credit.mintRate((await credit.totalSupply()) + credits);
  await send(credit.connect(alice).mint(credits, quote));
  step(
    `Alice mints ${fmt(credits, 0)} ${dsym} of perpetual daily credit (rate ${fmt(rate, 4)} ${sym} per credit)`,
    `stake locked ${fmt(await vault.lockedOf(alice.address), 4)} ${sym}; allowance today ${usd(await credit.dailyAllowance(alice.address))}`,
    `curve check: mintRate(10,000) = ${fmt(await credit.mintRate(ethers.parseEther("10000")), 4)} (Venice observed 93.34)`,
  );

  const bobTokens = ethers.parseEther("500");
  await send(token.connect(treasury).transfer(bob.address, bobTokens));
  await send(token.connect(bob).approve(await engine.getAddress(), bobTokens));
  const supplyBefore = await token.totalSupply();
  await send(engine.connect(bob).mintCredits(bobTokens, 0n, bob.address));
  step(
    `Bob burns ${fmt(bobTokens, 0)} ${sym} for USD compute credit (burn-and-mint)`,
    `token supply ${fmt(supplyBefore, 0)} → ${fmt(await token.totalSupply(), 0)}`,
    `Bob holds ${fmt(await compute.balanceOf(bob.address))} ${csym} ($); treasury spread ${fmt(await compute.balanceOf(treasury.address))} ${csym}`,
  );

  const organicJob = ethers.parseEther("240");
  await send(compute.connect(bob).approve(coordinator.address, organicJob));
  await send(compute.connect(coordinator).transferFrom(bob.address, coordinator.address, organicJob));
  await send(compute.connect(coordinator).transfer(provider.address, organicJob));
  await send(engine.connect(coordinator).recordWork(provider.address, organicJob, false));
  step(
    `Bob's inference job: ${usd(organicJob)} of credit escrowed and paid to the provider (organic demand)`,
    `provider holds ${fmt(await compute.balanceOf(provider.address))} ${csym}`,
  );

  const subsidisedJob = ethers.parseEther("60");
  await send(credit.connect(coordinator).spend(alice.address, subsidisedJob));
  await send(engine.connect(coordinator).mintSubsidisedCredits(provider.address, subsidisedJob));
  await send(engine.connect(coordinator).recordWork(provider.address, subsidisedJob, true));
  step(
    `Alice's job is paid from her daily allowance: ${usd(subsidisedJob)} spent, the provider is paid in subsidised credit`,
    `Alice left today ${usd(await credit.dailyAllowance(alice.address))}; subsidy budget left ${usd(await engine.subsidyRemaining())}`,
  );

  await send(credit.connect(alice).transfer(bob.address, ethers.parseEther("50")));
  step(
    `Alice sends 50 ${dsym} to Bob mid-day (a token spends at most once per day)`,
    `Alice allowance ${usd(await credit.dailyAllowance(alice.address))} (min(100, 50) − 60 spent), ` +
      `Bob allowance ${usd(await credit.dailyAllowance(bob.address))} (received tokens count from tomorrow)`,
  );

  const day1 = await nextUtcDay();
  const ledger = await engine.epochLedger(day0);
  step(
    `00:00 UTC, epoch ${day1}. The epoch-${day0} ledger, public on-chain:`,
    `organic USD ${usd(await engine.organicUsd(day0))}, work paid to providers ${usd(ledger.workUsd)}, of which subsidised ${usd(ledger.subsidisedWorkUsd)}`,
    `subsidy ratio ${Number(await engine.subsidyRatio(day0)) / 100}%  ·  tokens burned ${fmt(ledger.tokensBurned, 0)}  ·  net supply change ${fmt(await engine.netSupplyChange(day0), 0)} ${sym}`,
    `allowances reset: Alice ${usd(await credit.dailyAllowance(alice.address))}, Bob ${usd(await credit.dailyAllowance(bob.address))} (no roll-over)`,
  );

  await send(engine.connect(bob).distribute(day0));
  const after = await engine.epochLedger(day0);
  const claimable = await engine.claimableEmission(day0, provider.address);
  await send(engine.connect(provider).claimEmissions([day0]));
  step(
    `Anyone distributes epoch ${day0}'s emission: ${fmt(after.tokensEmitted, 0)} ${sym}`,
    `${fmt(after.tokensEmitted - after.providerPool, 0)} streamed to stakers over a day, ${fmt(after.providerPool, 0)} to providers by work`,
    `the provider claims ${fmt(claimable, 0)} ${sym}; epoch-${day0} net supply change now ${fmt(await engine.netSupplyChange(day0), 0)} ${sym}`,
  );

  const providerCredit = await compute.balanceOf(provider.address);
  const tokensOut = await engine.quoteRedeem(providerCredit);
  await send(engine.connect(provider).redeem(providerCredit, tokensOut, provider.address));
  step(
    `The provider redeems ${fmt(providerCredit)} ${csym} for ${fmt(tokensOut, 4)} newly minted ${sym}`,
    `redeem capacity left this epoch ${fmt(await engine.redeemCapacity(), 0)} ${sym} (circuit breaker)`,
  );

  await warpTo((await now()) + DAY);
  const earned = await vault.earned(alice.address);
  await send(vault.connect(alice).claim());
  step(`A day later Alice, the only staker, claims ${fmt(earned, 4)} ${sym} of streamed emissions`);

  await send(credit.connect(bob).transfer(alice.address, ethers.parseEther("50")));
  const position = await credit.positionOf(alice.address);
  await send(credit.connect(alice).burn(position.credits));
  await send(vault.connect(alice).requestUnstake(stakeAmount));
  const [cooling, unlockTime] = await vault.coolingOf(alice.address);
  step(
    `Bob returns 50 ${dsym}; Alice burns her ${fmt(position.credits, 0)} ${dsym}, unlocking ${fmt(position.stakeLocked, 4)} ${sym}, and requests to unstake`,
    `cooling ${fmt(cooling, 0)} ${sym} until ${new Date(Number(unlockTime) * 1000).toISOString()} (no rewards meanwhile)`,
  );

  await warpTo(Number(unlockTime));
  const before = await token.balanceOf(alice.address);
  await send(vault.connect(alice).withdraw());
  step(
    "Cooldown over: Alice withdraws",
    `received ${fmt((await token.balanceOf(alice.address)) - before, 0)} ${sym}; wallet ${fmt(await token.balanceOf(alice.address), 4)} ${sym}`,
  );

  console.log(
    "\nDemo complete: stake → daily credit → burn-and-mint → jobs → epoch ledger → emissions → redeem → unstake.",
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
