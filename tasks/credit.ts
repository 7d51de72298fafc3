/**
 * Credit tasks: DailyCredit against locked stake (`cinder:mint-credit`, `cinder:burn-credit`) and ComputeCredit
 * through the BurnMintEngine (`cinder:mint-compute` burns tokens for credit, `cinder:redeem` turns credit into
 * newly minted tokens).
 */
import { task } from "hardhat/config";
import {
  formatAmount,
  formatUsd,
  loadCinder,
  parseAmount,
  revertReason,
  send,
  TaskError,
  type Cinder,
} from "./lib";
import { approveIfNeeded, eventArgs, parseRecipient, requireEnough } from "./lib";

/** Default slippage allowance when no explicit limit is given: 1 %. */
const SLIPPAGE_BPS = 100n;
const BPS = 10_000n;

/** A quote read through the contract; a revert (a paused engine, a stale oracle, a full curve) becomes one line. */
async function quote<T>(c: Cinder, what: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw new TaskError(`cannot quote ${what}: ${revertReason(c, error)}`);
  }
}

/** Stake per credit, as "90.000 CNDR per DCR". */
function formatRate(stakeLocked: bigint, credits: bigint): string {
  return `${formatAmount((stakeLocked * 10n ** 18n) / credits, "CNDR", 18, 4)} per DCR`;
}

task("cinder:mint-credit", "Mints DailyCredit (USD of inference every day) against locked stake")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("amount", "credits to mint (DCR), e.g. 1 or 0.5")
  .addOptionalParam("maxStake", "most stake to lock (CNDR; default: today's quote + 1 %)")
  .setAction(async (args: { from?: string; amount?: string; maxStake?: string }, hre) => {
    const amount = parseAmount(args.amount, "--amount");
    const maxStake = args.maxStake === undefined ? undefined : parseAmount(args.maxStake, "--max-stake");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;

    const required = await quote(c, "the mint", c.dailyCredit.quoteMint(amount));
    const limit = maxStake ?? required + (required * SLIPPAGE_BPS + BPS - 1n) / BPS;
    if (maxStake !== undefined && required > maxStake) {
      throw new TaskError(
        `minting ${args.amount} DCR locks ${formatAmount(required, "CNDR", 18, 4)} of stake now, ` +
          `above --max-stake ${args.maxStake} CNDR`,
      );
    }
    const unlocked = (await c.vault.stakeOf(me)) - (await c.vault.lockedOf(me));
    if (required > unlocked) {
      throw new TaskError(
        `minting ${args.amount} DCR locks ${formatAmount(required, "CNDR")} of stake, but your unlocked stake is ` +
          `${formatAmount(unlocked, "CNDR")}: stake more first (cinder:stake)`,
      );
    }

    const receipt = await send(c, "mint DailyCredit", c.dailyCredit.mint(amount, limit));
    const minted = eventArgs(receipt, c.dailyCredit, await c.dailyCredit.getAddress(), "CreditMinted");
    const locked = minted.stakeLocked as bigint;
    console.log(
      `minted ${formatAmount(amount, "DCR", 18, 4)} locking ${formatAmount(locked, "CNDR", 18, 4)} of stake ` +
        `(rate ${formatRate(locked, amount)}); worth ${formatUsd(
          (amount * (await c.dailyCredit.creditPerDay())) / 10n ** 18n,
        )} of inference a day`,
    );
  });

task("cinder:burn-credit", "Burns DailyCredit from your position and unlocks its stake pro rata")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("amount", "credits to burn (DCR)")
  .setAction(async (args: { from?: string; amount?: string }, hre) => {
    const amount = parseAmount(args.amount, "--amount");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const position = await c.dailyCredit.positionOf(me);
    requireEnough("--amount", args.amount!, amount, position.credits, "your minted position", "DCR");
    requireEnough("--amount", args.amount!, amount, await c.dailyCredit.balanceOf(me), "your balance", "DCR");

    const receipt = await send(c, "burn DailyCredit", c.dailyCredit.burn(amount));
    const burned = eventArgs(receipt, c.dailyCredit, await c.dailyCredit.getAddress(), "CreditBurned");
    console.log(
      `burned ${formatAmount(amount, "DCR", 18, 4)}, unlocking ${formatAmount(
        burned.stakeUnlocked as bigint,
        "CNDR",
        18,
        4,
      )} of stake`,
    );
  });

task("cinder:mint-compute", "Burns protocol tokens for ComputeCredit (USD) at the oracle price")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("tokens", "protocol tokens to burn (CNDR)")
  .addOptionalParam("minOut", "least credit to accept, USD (default: today's quote − 1 %)")
  .addOptionalParam("recipient", "who receives the credit (default: the acting account)")
  .setAction(async (args: { from?: string; tokens?: string; minOut?: string; recipient?: string }, hre) => {
    const tokens = parseAmount(args.tokens, "--tokens");
    const minOut = args.minOut === undefined ? undefined : parseAmount(args.minOut, "--min-out");
    const recipientArg = parseRecipient(args.recipient, "--recipient");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const recipient = recipientArg ?? me;
    requireEnough("--tokens", args.tokens!, tokens, await c.token.balanceOf(me), "your balance", "CNDR");

    const [credits] = await quote(c, "the credit", c.engine.quoteMintCredits(tokens));
    if (credits === 0n) throw new TaskError(`--tokens ${args.tokens} CNDR buys no credit at today's price`);
    if (minOut !== undefined && credits < minOut) {
      throw new TaskError(
        `--tokens ${args.tokens} CNDR buys ${formatUsd(credits, 4)} of credit now, below --min-out ${args.minOut}`,
      );
    }
    const least = minOut ?? credits - (credits * SLIPPAGE_BPS) / BPS;

    await approveIfNeeded(c, c.token, await c.engine.getAddress(), tokens, "the BurnMintEngine");
    const receipt = await send(c, "mint ComputeCredit", c.engine.mintCredits(tokens, least, recipient));
    const minted = eventArgs(receipt, c.engine, await c.engine.getAddress(), "CreditsMinted");
    console.log(
      `burned ${formatAmount(tokens, "CNDR")} at ${formatUsd(minted.price as bigint, 4)}/CNDR: ` +
        `${formatUsd(minted.credits as bigint, 4)} of ComputeCredit to ${recipient} ` +
        `(spread ${formatUsd(minted.spread as bigint, 4)} to the treasury)`,
    );
  });

task("cinder:redeem", "Redeems ComputeCredit (USD) for newly minted protocol tokens at the oracle price")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("credits", "credit to redeem, USD")
  .addOptionalParam("minOut", "least tokens to accept, CNDR (default: today's quote − 1 %)")
  .addOptionalParam("recipient", "who receives the tokens (default: the acting account)")
  .setAction(async (args: { from?: string; credits?: string; minOut?: string; recipient?: string }, hre) => {
    const credits = parseAmount(args.credits, "--credits");
    const minOut = args.minOut === undefined ? undefined : parseAmount(args.minOut, "--min-out");
    const recipientArg = parseRecipient(args.recipient, "--recipient");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const recipient = recipientArg ?? me;
    const balance = await c.computeCredit.balanceOf(me);
    if (credits > balance) {
      throw new TaskError(
        `--credits ${args.credits} USD exceeds your ComputeCredit balance of ${formatUsd(balance, 4)}`,
      );
    }

    const tokens = await quote(c, "the redemption", c.engine.quoteRedeem(credits));
    if (tokens === 0n) throw new TaskError(`--credits ${args.credits} USD redeems no token at today's price`);
    if (minOut !== undefined && tokens < minOut) {
      throw new TaskError(
        `--credits ${args.credits} USD redeems ${formatAmount(tokens, "CNDR", 18, 4)} now, ` +
          `below --min-out ${args.minOut} CNDR`,
      );
    }
    const capacity = await c.engine.redeemCapacity();
    if (tokens > capacity) {
      throw new TaskError(
        `redeeming ${args.credits} USD mints ${formatAmount(tokens, "CNDR")}, but this epoch can mint only ` +
          `${formatAmount(capacity, "CNDR")} more: redeem less, or wait for the next epoch`,
      );
    }
    const least = minOut ?? tokens - (tokens * SLIPPAGE_BPS) / BPS;

    const receipt = await send(c, "redeem ComputeCredit", c.engine.redeem(credits, least, recipient));
    const redeemed = eventArgs(receipt, c.engine, await c.engine.getAddress(), "CreditsRedeemed");
    console.log(
      `redeemed ${formatUsd(credits, 4)} of ComputeCredit at ${formatUsd(redeemed.price as bigint, 4)}/CNDR: ` +
        `${formatAmount(redeemed.tokensMinted as bigint, "CNDR", 18, 4)} minted to ${recipient}`,
    );
  });
