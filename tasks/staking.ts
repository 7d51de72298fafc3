/**
 * Staking tasks: `cinder:stake`, `cinder:unstake` (request, or `--withdraw` after the cooldown) and
 * `cinder:claim-rewards`.
 */
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import {
  approveIfNeeded,
  chainNow,
  eventArgs,
  formatAmount,
  formatDuration,
  formatTime,
  loadCinder,
  parseAmount,
  requireEnough,
  send,
  TaskError,
} from "./lib";

task("cinder:stake", "Stakes protocol tokens in the StakingVault (approves the vault if needed)")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("amount", "tokens to stake, e.g. 1000 or 2.5")
  .setAction(async (args: { from?: string; amount?: string }, hre) => {
    const amount = parseAmount(args.amount, "--amount");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    requireEnough("--amount", args.amount!, amount, await c.token.balanceOf(me), "your balance", "CNDR");

    const vault = await c.vault.getAddress();
    await approveIfNeeded(c, c.token, vault, amount, "the StakingVault");
    await send(c, "stake", c.vault.stake(amount));
    console.log(
      `staked ${formatAmount(amount, "CNDR")}: ${me} now stakes ${formatAmount(await c.vault.stakeOf(me), "CNDR")}`,
    );
  });

task("cinder:unstake", "Starts the unstake cooldown for --amount, or --withdraw what has cooled down")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("amount", "tokens to move from the earning stake into the cooldown")
  .addFlag("withdraw", "pay out the cooled-down amount instead (after the cooldown)")
  .setAction(async (args: { from?: string; amount?: string; withdraw?: boolean }, hre) => {
    if (args.withdraw && args.amount !== undefined) {
      throw new TaskError(
        "give either --amount (start a cooldown) or --withdraw (pay out after it), not both",
      );
    }
    if (!args.withdraw && args.amount === undefined) {
      throw new TaskError(
        "give --amount <CNDR> to start a cooldown, or --withdraw to pay out what has cooled down",
      );
    }
    if (args.withdraw) return withdraw(hre, args.from);

    const amount = parseAmount(args.amount, "--amount");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const staked = await c.vault.stakeOf(me);
    const locked = await c.vault.lockedOf(me);
    requireEnough(
      "--amount",
      args.amount!,
      amount,
      staked - locked,
      `your unlocked stake (${formatAmount(staked, "CNDR")} staked, ${formatAmount(locked, "CNDR")} locked by DailyCredit)`,
      "CNDR",
    );

    await send(c, "request unstake", c.vault.requestUnstake(amount));
    const [cooling, unlockTime] = await c.vault.coolingOf(me);
    console.log(
      `${formatAmount(amount, "CNDR")} stopped earning; ${formatAmount(cooling, "CNDR")} cooling, ` +
        `withdrawable at ${formatTime(unlockTime)} (cinder:unstake --withdraw)`,
    );
  });

async function withdraw(hre: HardhatRuntimeEnvironment, from?: string): Promise<void> {
  const c = await loadCinder(hre, from);
  const me = c.signer.address;
  const [cooling, unlockTime] = await c.vault.coolingOf(me);
  if (cooling === 0n)
    throw new TaskError(`${me} has nothing cooling down: start with cinder:unstake --amount`);
  // The withdrawal is mined in a later block, at a timestamp above the latest one.
  const now = await chainNow(hre);
  if (now + 1n < unlockTime) {
    throw new TaskError(
      `${formatAmount(cooling, "CNDR")} is cooling down until ${formatTime(unlockTime)} ` +
        `(in ${formatDuration(unlockTime - now)}): withdraw after that`,
    );
  }
  await send(c, "withdraw", c.vault.withdraw());
  console.log(`withdrew ${formatAmount(cooling, "CNDR")} to ${me}`);
}

task("cinder:claim-rewards", "Pays out the staking rewards the account has accrued")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    if ((await c.vault.earned(me)) === 0n) {
      console.log(`${me} has no rewards to claim (nothing sent)`);
      return;
    }
    const receipt = await send(c, "claim rewards", c.vault.claim());
    const claimed = eventArgs(receipt, c.vault, await c.vault.getAddress(), "RewardClaimed").amount as bigint;
    console.log(`claimed ${formatAmount(claimed, "CNDR", 18, 6)} of staking rewards to ${me}`);
  });
