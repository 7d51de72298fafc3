/**
 * `cinder:status`: everything Cinder holds for one account (tokens, stake, credits, today's allowance, vouchers,
 * provider record, jobs) and a line on the protocol (epoch, oracle price, token supply).
 */
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { formatUnits, MaxUint256 } from "ethers";
import type { IPriceOracle } from "../typechain-types";
import { formatAmount, formatUsd, loadCinder, revertReason, type Cinder } from "./lib";
import { chainNow, formatDuration, formatTime, parseRecipient } from "./lib";
import { stablecoinAt, type Stablecoin } from "./vouchers";
import { JobStatus, PaymentKindName, ProviderStatus } from "../bindings/enums";

const PROVIDER_STATUS = ProviderStatus;
const JOB_STATUS = JobStatus;
const PAYMENT_KIND = PaymentKindName;
/** Blocks per log query: public RPC endpoints cap the range of `eth_getLogs`. */
const LOG_CHUNK = 10_000;

function line(label: string, value: string): void {
  console.log(`  ${label.padEnd(14)}${value}`);
}

/** "$0.001" for a USD price per unit (18 decimals), without rounding it away. */
function formatUnitPrice(value: bigint): string {
  return `$${formatUnits(value, 18).replace(/\.0$/, "")}`;
}

/** "100,000" for a whole count. */
function formatCount(value: bigint): string {
  return formatAmount(value, "", 0, 0);
}

function formatBps(bps: bigint): string {
  return `${(Number(bps) / 100).toString()} %`;
}

/** "until <time> (withdrawable now)" / "(in 59m 12s)". */
function formatDue(time: bigint, now: bigint, whenDue: string): string {
  return `${formatTime(time)} (${time <= now ? whenDue : `in ${formatDuration(time - now)}`})`;
}

async function modelName(c: Cinder, modelId: string, names: Map<string, string>): Promise<string> {
  let name = names.get(modelId);
  if (name === undefined) {
    try {
      name = (await c.modelRegistry.getModel(modelId)).name;
    } catch {
      name = modelId;
    }
    names.set(modelId, name);
  }
  return name;
}

/** Ids of the jobs `who` requested, was named for, or accepted, from the manifest's start block on. */
async function jobIdsOf(
  hre: HardhatRuntimeEnvironment,
  c: Cinder,
  who: string,
): Promise<Map<bigint, Set<string>>> {
  const roles = new Map<bigint, Set<string>>();
  const add = (id: bigint, role: string) => roles.set(id, (roles.get(id) ?? new Set()).add(role));
  const latest = await hre.ethers.provider.getBlockNumber();
  const lower = who.toLowerCase();
  for (let from = c.manifest.startBlock; from <= latest; from += LOG_CHUNK) {
    const to = Math.min(from + LOG_CHUNK - 1, latest);
    for (const log of await c.jobCoordinator.queryFilter(c.jobCoordinator.filters.JobRequested(), from, to)) {
      if (log.args.requester.toLowerCase() === lower) add(log.args.jobId, "requester");
      if (log.args.terms.provider.toLowerCase() === lower) add(log.args.jobId, "provider");
    }
    const accepted = c.jobCoordinator.filters.JobAccepted(undefined, who);
    for (const log of await c.jobCoordinator.queryFilter(accepted, from, to)) add(log.args.jobId, "provider");
  }
  return roles;
}

async function printProtocol(hre: HardhatRuntimeEnvironment, c: Cinder, now: bigint): Promise<void> {
  const network = await hre.ethers.provider.getNetwork();
  const block = await hre.ethers.provider.getBlockNumber();
  console.log(
    `Cinder on ${hre.network.name} (chain ${network.chainId}), latest block ${block}, now ${formatTime(now)}`,
  );
  let price: string;
  try {
    const oracle = (await hre.ethers.getContractAt(
      "IPriceOracle",
      await c.engine.oracle(),
    )) as unknown as IPriceOracle;
    price = `${formatUsd(await oracle.price(), 4)} per CNDR`;
  } catch (error) {
    price = `unavailable (${revertReason(c, error)})`;
  }
  console.log(
    `protocol: epoch ${await c.engine.currentEpoch()} · oracle price ${price} · supply ` +
      `${formatAmount(await c.token.totalSupply(), "CNDR")} of at most ${formatAmount(await c.token.maxSupply(), "CNDR")}`,
  );
}

async function printVouchers(
  hre: HardhatRuntimeEnvironment,
  c: Cinder,
  who: string,
  now: bigint,
): Promise<void> {
  const names = new Map<string, string>();
  const coins = new Map<string, Stablecoin>();
  const coin = async (address: string) => {
    let found = coins.get(address);
    if (!found) coins.set(address, (found = await stablecoinAt(hre, c, address)));
    return found;
  };
  if (c.manifest.extras.stablecoin) await coin(c.manifest.extras.stablecoin);

  const count = await c.voucherMarket.classCount();
  if (count === 0n) line("vouchers", "no voucher class listed");
  for (let id = 1n; id <= count; id++) {
    const k = await c.voucherMarket.getClass(id);
    const s = await coin(k.stablecoin);
    const held = await c.voucherMarket.balanceOf(who, id);
    const expiry =
      k.expiry === 0n ? "no expiry" : `${k.expiry <= now ? "expired" : "expires"} ${formatTime(k.expiry)}`;
    const cap = k.supplyCap === 0n ? `${k.minted} sold, no cap` : `${k.minted} of ${k.supplyCap} sold`;
    line(
      id === 1n ? "vouchers" : "",
      `class ${id}: ${held} held · ${await modelName(c, k.modelId, names)}, ${formatCount(k.unitsPerVoucher)} units per voucher ` +
        `at ${formatAmount(k.unitPrice, s.symbol, s.decimals)} + ${formatBps(k.mintPremiumBps)} premium, ${expiry}, ` +
        `${cap}${k.active ? "" : ", not on sale"}`,
    );
  }
  const owed: string[] = [];
  for (const s of coins.values()) {
    owed.push(formatAmount(await c.voucherMarket.owed(who, s.address), s.symbol, s.decimals));
  }
  if (owed.length)
    line("earnings", `${owed.join(", ")} owed by the VoucherMarket (cinder:withdraw-earnings)`);
}

async function printProvider(c: Cinder, who: string, now: bigint): Promise<void> {
  const p = await c.providerRegistry.getProvider(who);
  if (p.status === 0n) {
    line("provider", "not registered");
    return;
  }
  const jailed = p.jailedUntil > now ? `jailed until ${formatDue(p.jailedUntil, now, "")}` : "not jailed";
  const exiting =
    p.status === 2n ? `, unbonding ends ${formatDue(p.unbondingEnds, now, "bond withdrawable")}` : "";
  line(
    "provider",
    `${PROVIDER_STATUS[Number(p.status)]}, bond ${formatAmount(p.bond, "CNDR")} (${formatAmount(p.locked, "CNDR")} ` +
      `locked), ${p.openJobs} open job${p.openJobs === 1n ? "" : "s"}, ${jailed}${exiting}, signer ${p.signer}`,
  );
  const names = new Map<string, string>();
  const offers: string[] = [];
  for (const modelId of await c.providerRegistry.offeredModels(who)) {
    const price = await c.providerRegistry.priceOf(who, modelId);
    offers.push(`${await modelName(c, modelId, names)} at ${formatUnitPrice(price)} per unit`);
  }
  line("", `offers: ${offers.length ? offers.join("; ") : "none"}`);
}

async function printJobs(hre: HardhatRuntimeEnvironment, c: Cinder, who: string, now: bigint): Promise<void> {
  const roles = await jobIdsOf(hre, c, who);
  if (roles.size === 0) {
    line("jobs", "none");
    return;
  }
  const ids = [...roles.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let first = true;
  for (const id of ids) {
    const job = await c.jobCoordinator.getJob(id);
    const status = JOB_STATUS[Number(job.status)];
    const kind = PAYMENT_KIND[Number(job.kind)];
    const amount =
      job.kind === 0n
        ? `${job.escrow} voucher${job.escrow === 1n ? "" : "s"} of class ${job.classId}`
        : formatUsd(job.escrow, 4);
    // The escrow is held while the job is open (Requested to Challenged), then paid out or refunded.
    const escrow = job.status <= 4n ? `escrow ${amount} held` : `escrowed ${amount}`;
    const due =
      job.status === 1n || job.status === 2n
        ? `, deadline ${formatDue(job.deadline, now, "passed")}`
        : job.status === 3n
          ? `, challenge window ends ${formatDue(job.challengeEnds, now, "ended")}`
          : "";
    line(
      first ? "jobs" : "",
      `#${id} (${[...roles.get(id)!].join(" and ")}) ${status}, ${kind}, ${formatCount(job.unitsUsed)}/${formatCount(job.maxUnits)} units, ` +
        `${escrow}${due}`,
    );
    first = false;
  }
}

task(
  "cinder:status",
  "Balances, stake, credits, today's allowance, vouchers, provider record and jobs of an account",
)
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("account", "address to inspect (default: the acting account)")
  .setAction(async (args: { from?: string; account?: string }, hre) => {
    const target = parseRecipient(args.account, "--account");
    const c = await loadCinder(hre, args.from);
    const who = target ?? c.signer.address;
    const now = await chainNow(hre);
    await printProtocol(hre, c, now);

    const coordinator = await c.jobCoordinator.getAddress();
    // Independent reads, fetched at once (a remote RPC answers each in a round trip).
    const [balance, staked, locked, earned, [cooling, unlockTime], credit, position, allowanceToday, spent] =
      await Promise.all([
        c.token.balanceOf(who),
        c.vault.stakeOf(who),
        c.vault.lockedOf(who),
        c.vault.earned(who),
        c.vault.coolingOf(who),
        c.dailyCredit.balanceOf(who),
        c.dailyCredit.positionOf(who),
        c.dailyCredit.dailyAllowance(who),
        c.dailyCredit.spentToday(who),
      ]);
    const [computeCredit, coordinatorAllowance] = await Promise.all([
      c.computeCredit.balanceOf(who),
      c.computeCredit.allowance(who, coordinator),
    ]);

    console.log(`account ${who}`);
    line("CNDR", formatAmount(balance, "CNDR"));
    line(
      "stake",
      `${formatAmount(staked, "CNDR")} staked (${formatAmount(locked, "CNDR")} locked by DailyCredit), ` +
        (cooling === 0n
          ? "nothing cooling"
          : `${formatAmount(cooling, "CNDR")} cooling until ${formatDue(unlockTime, now, "withdrawable now")}`) +
        `, ${formatAmount(earned, "CNDR", 18, 6)} rewards to claim`,
    );
    line(
      "DailyCredit",
      `${formatAmount(credit, "DCR")}; position ${formatAmount(position.credits, "DCR")} locking ` +
        `${formatAmount(position.stakeLocked, "CNDR")}; today ${formatUsd(allowanceToday)} left, ${formatUsd(spent)} spent`,
    );
    line(
      "ComputeCredit",
      `${formatUsd(computeCredit)}; coordinator allowance ` +
        (coordinatorAllowance === MaxUint256 ? "unlimited" : formatUsd(coordinatorAllowance)),
    );
    await printVouchers(hre, c, who, now);
    await printProvider(c, who, now);
    await printJobs(hre, c, who, now);
  });
