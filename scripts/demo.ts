/**
 * Cinder end-to-end demo on Hardhat's in-process chain.
 *
 * Deploys the staking core through the same Ignition module users deploy with, then walks one
 * user through the DIEM-style loop: stake → mint daily credit → spend the day's allowance →
 * see it reset at 00:00 UTC → earn staking rewards → burn credit → unstake through the cooldown.
 * Run: `npm run demo`.
 */
import { ethers, ignition, network } from "hardhat";
import CinderCore, { ROLES } from "../deploy/modules/CinderCore";
import type { DailyCredit, ProtocolToken, StakingVault } from "../typechain-types";

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

async function main() {
  if (network.name !== "hardhat") {
    throw new Error(`the demo runs on the in-process chain; got --network ${network.name}`);
  }
  const [admin, treasury, coordinator, alice, bob] = await ethers.getSigners();

  const deployed = await ignition.deploy(CinderCore, {
    parameters: { CinderCore: { admin: admin.address, treasury: treasury.address } },
  });
  const token = deployed.token as unknown as ProtocolToken;
  const vault = deployed.vault as unknown as StakingVault;
  const credit = deployed.credit as unknown as DailyCredit;
  const sym = await token.symbol();
  const csym = await credit.symbol();
  step(
    "Deployed the staking core (Ignition module deploy/modules/CinderCore.ts)",
    `ProtocolToken ${sym}  ${await token.getAddress()}  supply ${fmt(await token.totalSupply(), 0)} / max ${fmt(await token.maxSupply(), 0)}`,
    `StakingVault       ${await vault.getAddress()}  cooldown ${(await vault.cooldown()) / 86_400n} days`,
    `DailyCredit ${csym}    ${await credit.getAddress()}  ${usd(await credit.creditPerDay())} of inference per credit per UTC day`,
  );

  // Stand-ins for modules of later issues: the coordinator spends allowance, the treasury streams rewards.
  await (await credit.connect(admin).grantRole(ROLES.SPENDER, coordinator.address)).wait();
  await (await vault.connect(admin).grantRole(ROLES.REWARDER, treasury.address)).wait();

  const stakeAmount = ethers.parseEther("10000");
  await (await token.connect(treasury).transfer(alice.address, stakeAmount)).wait();
  await (await token.connect(alice).approve(await vault.getAddress(), stakeAmount)).wait();
  await (await vault.connect(alice).stake(stakeAmount)).wait();
  step(
    `Alice stakes ${fmt(stakeAmount, 0)} ${sym}`,
    `earning stake ${fmt(await vault.stakeOf(alice.address), 0)} ${sym}, total staked ${fmt(await vault.totalStaked(), 0)}`,
  );

  const credits = ethers.parseEther("100");
  const quote = await credit.quoteMint(credits);
  const rate = await credit.mintRate((await credit.totalSupply()) + credits);
  await (await credit.connect(alice).mint(credits, quote)).wait();
  step(
    `Alice mints ${fmt(credits, 0)} ${csym} (mint rate ${fmt(rate, 4)} ${sym} per credit at supply ${fmt(credits, 0)})`,
    `stake locked ${fmt(await vault.lockedOf(alice.address), 4)} ${sym}; credit balance ${fmt(await credit.balanceOf(alice.address), 0)} ${csym}`,
    `allowance today ${usd(await credit.dailyAllowance(alice.address))}`,
    `Venice check: mintRate(10,000) = ${fmt(await credit.mintRate(ethers.parseEther("10000")), 4)} (observed on Venice: 93.34)`,
  );

  await (await credit.connect(coordinator).spend(alice.address, ethers.parseEther("60"))).wait();
  step(
    "The coordinator spends $60 of Alice's allowance on inference jobs",
    `spent today ${usd(await credit.spentToday(alice.address))}, left today ${usd(await credit.dailyAllowance(alice.address))}`,
  );

  await (await credit.connect(alice).transfer(bob.address, ethers.parseEther("50"))).wait();
  step(
    `Alice sends 50 ${csym} to Bob mid-day (a token spends at most once per day)`,
    `Alice: balance 50, allowance ${usd(await credit.dailyAllowance(alice.address))} (min(100, 50) − 60 spent → 0)`,
    `Bob:   balance 50, allowance ${usd(await credit.dailyAllowance(bob.address))} (received tokens count from tomorrow)`,
  );

  const tomorrow = Math.floor((await now()) / DAY + 1) * DAY;
  await warpTo(tomorrow);
  step(
    `00:00 UTC: a new day (${new Date(tomorrow * 1000).toISOString()})`,
    `Alice allowance ${usd(await credit.dailyAllowance(alice.address))}, Bob allowance ${usd(await credit.dailyAllowance(bob.address))} — unused allowance did not roll over`,
  );

  const reward = ethers.parseEther("1000");
  await (await token.connect(treasury).approve(await vault.getAddress(), reward)).wait();
  await (await vault.connect(treasury).notifyReward(reward)).wait();
  await warpTo((await now()) + DAY);
  const earned = await vault.earned(alice.address);
  await (await vault.connect(alice).claim()).wait();
  step(
    `Emissions: ${fmt(reward, 0)} ${sym} streamed to stakers over one day`,
    `Alice (the only staker, locked stake included) claims ${fmt(earned, 4)} ${sym}`,
  );

  await (await credit.connect(bob).transfer(alice.address, ethers.parseEther("50"))).wait();
  const position = await credit.positionOf(alice.address);
  await (await credit.connect(alice).burn(position.credits)).wait();
  step(
    `Bob returns 50 ${csym}; Alice burns her whole position of ${fmt(position.credits, 0)} ${csym}`,
    `stake unlocked ${fmt(position.stakeLocked, 4)} ${sym}; locked now ${fmt(await vault.lockedOf(alice.address), 4)}`,
  );

  await (await vault.connect(alice).requestUnstake(stakeAmount)).wait();
  const [cooling, unlockTime] = await vault.coolingOf(alice.address);
  step(
    `Alice requests to unstake ${fmt(stakeAmount, 0)} ${sym}`,
    `cooling ${fmt(cooling, 0)} ${sym} until ${new Date(Number(unlockTime) * 1000).toISOString()} (no rewards meanwhile)`,
  );

  await warpTo(Number(unlockTime));
  const before = await token.balanceOf(alice.address);
  await (await vault.connect(alice).withdraw()).wait();
  const after = await token.balanceOf(alice.address);
  step(
    "Cooldown over: Alice withdraws",
    `received ${fmt(after - before, 0)} ${sym}; wallet ${fmt(after, 4)} ${sym} (stake + rewards)`,
  );

  console.log("\nDemo complete: stake → mint credit → spend allowance → burn → unstake.");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
