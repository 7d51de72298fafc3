/**
 * The BurnMintEngine's epochs (one UTC day each): `cinder:epoch` prints an epoch's public ledger (organic vs
 * subsidised demand, tokens burned, redeemed and emitted), `cinder:distribute` mints a finished epoch's emission.
 */
import { task } from "hardhat/config";
import { TaskError, formatAmount, loadCinder, parseInteger, send, type Cinder } from "./lib";
import { chainNow, formatTime, usd } from "./lib";

const DAY = 86_400n;

function epochDate(epoch: bigint): string {
  return new Date(Number(epoch * DAY) * 1000).toISOString().slice(0, 10);
}

/** bps → "12.34 %". */
function percent(bps: bigint): string {
  return `${bps / 100n}.${String(bps % 100n).padStart(2, "0")} %`;
}

function signedAmount(value: bigint, symbol: string): string {
  return `${value > 0n ? "+" : ""}${formatAmount(value, symbol)}`;
}

async function epochArg(c: Cinder, value: string | undefined, fallback: bigint): Promise<bigint> {
  if (value === undefined) return fallback;
  return parseInteger(value, "--epoch");
}

task("cinder:epoch", "An epoch's ledger: organic and subsidised USD, tokens burned, redeemed and emitted")
  .addOptionalParam("epoch", "epoch number (UTC day since 1970; default: the current epoch)")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { epoch?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const current = await c.engine.currentEpoch();
    const epoch = await epochArg(c, args.epoch, current);
    if (epoch > current) {
      throw new TaskError(
        `epoch ${epoch} has not started: the current epoch is ${current} (${epochDate(current)})`,
      );
    }
    const genesis = await c.engine.genesisEpoch();
    const symbol = await c.token.symbol();
    const l = await c.engine.epochLedger(epoch);
    const organic = await c.engine.organicUsd(epoch);
    const ratio = await c.engine.subsidyRatio(epoch);
    const net = await c.engine.netSupplyChange(epoch);
    const now = await chainNow(hre);
    const state =
      epoch === current
        ? `current, ends ${formatTime((epoch + 1n) * DAY, now)}`
        : epoch < genesis
          ? "before genesis"
          : "finished";
    const rows: [string, string][] = [
      [
        "organic USD",
        `${usd(organic)} (credit bought ${usd(l.organicCreditUsd)} + voucher revenue ${usd(l.voucherRevenueUsd)})`,
      ],
      ["work USD", `${usd(l.workUsd)} settled by providers`],
      [
        "subsidised USD",
        `${usd(l.subsidisedWorkUsd)} of that work (subsidy minted ${usd(l.subsidyMintedUsd)})`,
      ],
      ["subsidy ratio", percent(ratio)],
      ["tokens burned", formatAmount(l.tokensBurned, symbol)],
      ["tokens redeemed", formatAmount(l.tokensRedeemed, symbol)],
      [
        "tokens emitted",
        `${formatAmount(l.tokensEmitted, symbol)}` +
          (l.distributed ? ` (provider pool ${formatAmount(l.providerPool, symbol)})` : ""),
      ],
      ["net supply", `${signedAmount(net, symbol)}${net < 0n ? " (deflationary)" : ""}`],
      [
        "distributed",
        l.distributed
          ? "yes"
          : `no (scheduled emission ${formatAmount(await c.engine.emissionFor(epoch), symbol)}` +
            (epoch < current && epoch >= genesis ? `: cinder:distribute --epoch ${epoch})` : ")"),
      ],
    ];
    if (epoch === current) {
      rows.push(["subsidy left", `${usd(await c.engine.subsidyRemaining())} this epoch`]);
      rows.push(["redeem capacity", formatAmount(await c.engine.redeemCapacity(), symbol)]);
    }
    console.log(`epoch ${epoch} (${epochDate(epoch)} UTC, ${state})`);
    for (const [k, v] of rows) console.log(`  ${k.padEnd(17)}${v}`);
  });

task(
  "cinder:distribute",
  "Mints a finished epoch's emission: stakers' share streamed, providers' pool by work",
)
  .addOptionalParam("epoch", "epoch number (default: the previous epoch)")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { epoch?: string; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const now = await chainNow(hre);
    const current = now / DAY;
    const epoch = await epochArg(c, args.epoch, current - 1n);
    if (epoch >= current) {
      throw new TaskError(
        `epoch ${epoch} is not finished: the current epoch is ${current}, which ends ${formatTime((current + 1n) * DAY, now)}`,
      );
    }
    const genesis = await c.engine.genesisEpoch();
    if (epoch < genesis) {
      throw new TaskError(
        `epoch ${epoch} is before the genesis epoch ${genesis} (${epochDate(genesis)}): it has no emission` +
          (genesis < current
            ? `; the first finished epoch is ${genesis}`
            : `; the first ends ${formatTime((genesis + 1n) * DAY, now)}`),
      );
    }
    const ledger = await c.engine.epochLedger(epoch);
    const symbol = await c.token.symbol();
    if (ledger.distributed) {
      throw new TaskError(
        `epoch ${epoch} is already distributed: ${formatAmount(ledger.tokensEmitted, symbol)} emitted ` +
          `(provider pool ${formatAmount(ledger.providerPool, symbol)})`,
      );
    }
    const receipt = await send(c, `distribute(${epoch})`, c.engine.distribute(epoch));
    let toStakers = 0n;
    let toProviders = 0n;
    for (const log of receipt.logs) {
      try {
        const parsed = c.engine.interface.parseLog(log);
        if (parsed?.name === "EmissionDistributed") {
          toStakers = parsed.args.toStakers as bigint;
          toProviders = parsed.args.toProviders as bigint;
        }
      } catch {
        // another contract's event
      }
    }
    console.log(
      `epoch ${epoch} distributed: ${formatAmount(toStakers + toProviders, symbol)} emitted, ` +
        `${formatAmount(toStakers, symbol)} to stakers (streamed by the vault), ` +
        `${formatAmount(toProviders, symbol)} to providers by work` +
        (ledger.workUsd === 0n
          ? " (no work recorded: the providers' share is not minted)"
          : " (claimEmissions)"),
    );
  });
