/**
 * The typed, validated deployment parameter file (`deploy/parameters/<network>.json`) and its translation into
 * Ignition module parameters. Amounts are written in human units (tokens, USD, USDC as decimal strings),
 * durations as "90s" / "15m" / "2h" / "7d" (or a number of seconds), shares in basis points. Every rule a
 * constructor enforces is checked here first, so a bad file fails before any transaction with the field's path
 * and what to do, not with a revert halfway through a deployment.
 */
import { readFileSync } from "node:fs";
import { getAddress, parseUnits } from "ethers";
import { z } from "zod";

const DURATION_UNITS: Record<string, bigint> = { s: 1n, m: 60n, h: 3600n, d: 86_400n };

/** Seconds of "90s", "15m", "2h", "7d" (a bare number is seconds), or undefined when it is not a duration. */
export function durationSeconds(text: string): bigint | undefined {
  const match = /^(\d+)([smhd])?$/.exec(text.trim());
  return match ? BigInt(match[1]) * DURATION_UNITS[match[2] ?? "s"] : undefined;
}

/** "90s", "15m", "2h", "7d" or a whole number of seconds. */
const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === "number") return BigInt(value);
  const seconds = durationSeconds(value);
  if (seconds === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `"${value}" is not a duration: write e.g. "90s", "15m", "2h" or "7d"`,
    });
    return z.NEVER;
  }
  return seconds;
});

/** A decimal amount in whole units ("1000", "0.5"), scaled to `decimals`. */
const amount = (decimals: number) =>
  z.string().transform((value, ctx) => {
    try {
      if (!/^\d+(\.\d+)?$/.test(value.trim())) throw new Error();
      return parseUnits(value.trim(), decimals);
    } catch {
      ctx.addIssue({
        code: "custom",
        message: `"${value}" is not an amount: write a non-negative decimal string such as "1000" or "0.25" (at most ${decimals} decimals)`,
      });
      return z.NEVER;
    }
  });
const tokens = amount(18);
const usd = amount(18);
const bps = (max: number) => z.number().int().min(0).max(max);

/** An address, or "deployer" for the account that deploys. */
const account = z.string().refine((value) => value === "deployer" || /^0x[0-9a-fA-F]{40}$/.test(value), {
  message: 'expected a 0x-prefixed 20-byte address or "deployer"',
});

export const deployConfigSchema = z
  .strictObject({
    module: z.enum(["Cinder", "CinderLocal"]),
    accounts: z.strictObject({
      treasury: account,
      guardian: account,
      proposer: account,
      arbiter: account,
    }),
    token: z.strictObject({
      name: z.string().min(1),
      symbol: z.string().min(1).max(11),
      initialSupply: tokens,
      maxSupply: tokens,
    }),
    staking: z.strictObject({ unstakeCooldown: duration, rewardPeriod: duration }),
    dailyCredit: z.strictObject({
      name: z.string().min(1),
      symbol: z.string().min(1).max(11),
      creditPerDayUsd: usd,
      curve: z.strictObject({ baseRate: tokens, power: tokens, targetSupply: tokens }),
    }),
    economy: z.strictObject({
      computeCreditName: z.string().min(1),
      computeCreditSymbol: z.string().min(1).max(11),
      initialPriceUsd: usd,
      minPriceUsd: usd,
      maxPriceUsd: usd,
      mintSpreadBps: bps(500),
      epochMintCap: tokens,
      emissionPerEpoch: tokens,
      halvingEpochs: z.number().int().min(1),
      stakerShareBps: bps(10_000),
      subsidyBudgetUsd: usd,
    }),
    market: z.strictObject({
      minBond: tokens,
      unbondingPeriod: duration,
      voucherURI: z.string().min(1),
      protocolFeeBps: bps(1_000),
    }),
    jobs: z.strictObject({
      challengeWindow: duration,
      minJobDuration: duration,
      maxJobDuration: duration,
      collateralPerUsd: tokens,
      lateSlashBps: bps(10_000),
      arbiterThreshold: z.number().int().min(1).max(255),
      challengeBond: tokens,
      disputeTimeout: duration,
      faultSlashBps: bps(10_000),
      finderFeeBps: bps(10_000),
      jailDuration: duration,
    }),
    governance: z.strictObject({ timelockDelay: duration }),
    genesis: z
      .strictObject({
        unitsPerVoucher: z.number().int().min(1),
        voucherPriceUsdc: amount(6),
        voucherPremiumBps: bps(1_000),
      })
      .optional(),
  })
  .superRefine((c, ctx) => {
    const rule = (ok: boolean, path: (string | number)[], message: string) => {
      if (!ok) ctx.addIssue({ code: "custom", path, message });
    };
    const HOUR = 3600n;
    const DAY = 86_400n;
    rule(
      c.token.initialSupply <= c.token.maxSupply,
      ["token", "initialSupply"],
      "must not exceed token.maxSupply",
    );
    rule(c.token.maxSupply > 0n, ["token", "maxSupply"], "must be positive");
    rule(c.staking.unstakeCooldown <= 30n * DAY, ["staking", "unstakeCooldown"], "at most 30d");
    rule(c.dailyCredit.creditPerDayUsd > 0n, ["dailyCredit", "creditPerDayUsd"], "must be positive");
    rule(
      c.economy.minPriceUsd > 0n &&
        c.economy.minPriceUsd <= c.economy.initialPriceUsd &&
        c.economy.initialPriceUsd <= c.economy.maxPriceUsd,
      ["economy", "initialPriceUsd"],
      "need 0 < minPriceUsd ≤ initialPriceUsd ≤ maxPriceUsd",
    );
    rule(
      c.economy.epochMintCap >= c.economy.emissionPerEpoch,
      ["economy", "epochMintCap"],
      "must be at least emissionPerEpoch (the cap covers a whole epoch's emission)",
    );
    rule(c.market.minBond > 0n, ["market", "minBond"], "must be positive");
    rule(c.market.unbondingPeriod <= 365n * DAY, ["market", "unbondingPeriod"], "at most 365d");
    rule(
      c.jobs.challengeWindow >= 60n && c.jobs.challengeWindow <= 7n * DAY,
      ["jobs", "challengeWindow"],
      "between 1m and 7d",
    );
    rule(
      c.jobs.minJobDuration >= 60n && c.jobs.minJobDuration <= c.jobs.maxJobDuration,
      ["jobs", "minJobDuration"],
      "at least 1m and at most jobs.maxJobDuration",
    );
    rule(c.jobs.maxJobDuration <= 30n * DAY, ["jobs", "maxJobDuration"], "at most 30d");
    rule(
      c.jobs.collateralPerUsd > 0n && c.jobs.collateralPerUsd <= 10n ** 24n,
      ["jobs", "collateralPerUsd"],
      "between 0 (exclusive) and 1000000",
    );
    rule(c.jobs.challengeBond > 0n, ["jobs", "challengeBond"], "must be positive");
    rule(
      c.jobs.disputeTimeout >= HOUR && c.jobs.disputeTimeout <= 30n * DAY,
      ["jobs", "disputeTimeout"],
      "between 1h and 30d",
    );
    rule(
      c.jobs.jailDuration >= DAY && c.jobs.jailDuration <= 365n * DAY,
      ["jobs", "jailDuration"],
      "between 1d and 365d",
    );
    rule(
      c.market.unbondingPeriod >= c.jobs.challengeWindow + c.jobs.disputeTimeout,
      ["market", "unbondingPeriod"],
      "must be at least jobs.challengeWindow + jobs.disputeTimeout, so no provider exits before its results can be slashed",
    );
    rule(
      c.governance.timelockDelay > c.staking.unstakeCooldown &&
        c.governance.timelockDelay > c.market.unbondingPeriod,
      ["governance", "timelockDelay"],
      "must be longer than staking.unstakeCooldown and market.unbondingPeriod, so users can exit before a queued change runs",
    );
    rule(
      (c.module === "CinderLocal") === (c.genesis !== undefined),
      ["genesis"],
      'required with module "CinderLocal" (the local genesis: mock USDC, demo model, voucher class), absent otherwise',
    );
  });

export type DeployConfig = z.output<typeof deployConfigSchema>;

/** Reads and validates a parameter file; throws one error listing every problem by field path. */
export function loadDeployConfig(file: string): DeployConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new Error(`cannot read deployment parameters ${file}: ${(error as Error).message}`);
  }
  return parseDeployConfig(raw, file);
}

export function parseDeployConfig(raw: unknown, source = "parameters"): DeployConfig {
  const parsed = deployConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  - ${issue.path.join(".") || "(root)"}: ${issue.message}`,
    );
    throw new Error(`invalid deployment parameters in ${source}:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/** The Ignition parameters of every module for `config`, with "deployer" resolved to `deployer`. */
export function ignitionParameters(config: DeployConfig, deployer: string) {
  const who = (value: string) => (value === "deployer" ? deployer : getAddress(value));
  const treasury = who(config.accounts.treasury);
  const core = {
    admin: deployer,
    treasury,
    tokenName: config.token.name,
    tokenSymbol: config.token.symbol,
    initialSupply: config.token.initialSupply,
    maxSupply: config.token.maxSupply,
    unstakeCooldown: config.staking.unstakeCooldown,
    rewardPeriod: config.staking.rewardPeriod,
    creditName: config.dailyCredit.name,
    creditSymbol: config.dailyCredit.symbol,
    creditPerDay: config.dailyCredit.creditPerDayUsd,
    curveBaseRate: config.dailyCredit.curve.baseRate,
    curvePower: config.dailyCredit.curve.power,
    curveTargetSupply: config.dailyCredit.curve.targetSupply,
  };
  const economy = {
    admin: deployer,
    treasury,
    computeCreditName: config.economy.computeCreditName,
    computeCreditSymbol: config.economy.computeCreditSymbol,
    initialPrice: config.economy.initialPriceUsd,
    minPrice: config.economy.minPriceUsd,
    maxPrice: config.economy.maxPriceUsd,
    mintSpreadBps: BigInt(config.economy.mintSpreadBps),
    epochMintCap: config.economy.epochMintCap,
    emissionPerEpoch: config.economy.emissionPerEpoch,
    halvingEpochs: BigInt(config.economy.halvingEpochs),
    stakerShareBps: BigInt(config.economy.stakerShareBps),
    subsidyBudgetUsd: config.economy.subsidyBudgetUsd,
  };
  const market = {
    admin: deployer,
    treasury,
    minBond: config.market.minBond,
    unbondingPeriod: config.market.unbondingPeriod,
    voucherURI: config.market.voucherURI,
    protocolFeeBps: BigInt(config.market.protocolFeeBps),
  };
  const jobs = {
    admin: deployer,
    challengeWindow: config.jobs.challengeWindow,
    minJobDuration: config.jobs.minJobDuration,
    maxJobDuration: config.jobs.maxJobDuration,
    collateralPerUsd: config.jobs.collateralPerUsd,
    lateSlashBps: BigInt(config.jobs.lateSlashBps),
    arbiterThreshold: BigInt(config.jobs.arbiterThreshold),
    challengeBond: config.jobs.challengeBond,
    disputeTimeout: config.jobs.disputeTimeout,
    faultSlashBps: BigInt(config.jobs.faultSlashBps),
    finderFeeBps: BigInt(config.jobs.finderFeeBps),
    jailDuration: config.jobs.jailDuration,
    arbiter: who(config.accounts.arbiter),
  };
  const governance = {
    guardian: who(config.accounts.guardian),
    proposer: who(config.accounts.proposer),
    timelockDelay: config.governance.timelockDelay,
  };
  const parameters: Record<string, Record<string, string | bigint>> = {
    CinderCore: core,
    CinderEconomy: economy,
    CinderMarket: market,
    CinderJobs: jobs,
    [config.module]: governance,
  };
  if (config.genesis) {
    parameters.CinderLocalSetup = {
      unitsPerVoucher: BigInt(config.genesis.unitsPerVoucher),
      voucherPrice: config.genesis.voucherPriceUsdc,
      voucherPremiumBps: BigInt(config.genesis.voucherPremiumBps),
    };
  }
  return parameters;
}
