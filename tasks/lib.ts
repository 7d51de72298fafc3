/**
 * Shared plumbing of the `cinder:*` Hardhat tasks: the deployment manifest, typed contracts, the acting account,
 * argument parsing with clear errors, and human-readable amounts. Only type imports from typechain-types, so
 * the Hardhat config loads before the first compile.
 */
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { HardhatPluginError } from "hardhat/plugins";
import {
  formatUnits,
  getAddress,
  id,
  isAddress,
  isHexString,
  parseUnits,
  ZeroAddress,
  type ContractTransactionResponse,
  type Interface,
  type Log,
  type Result,
} from "ethers";
import { durationSeconds } from "../deploy/config";
import { requireManifest, type CinderManifest } from "../deploy/manifest";
import type {
  ArbiterCommitteeVerifier,
  BurnMintEngine,
  CinderTimelock,
  ComputeCredit,
  DailyCredit,
  DisputeModule,
  FixedPriceOracle,
  JobCoordinator,
  MockStablecoin,
  ModelRegistry,
  ProtocolToken,
  ProviderRegistry,
  StakingVault,
  VoucherMarket,
} from "../typechain-types";

/** A user error: printed as one clear line by Hardhat, without a stack trace. */
export class TaskError extends HardhatPluginError {
  constructor(message: string) {
    super("cinder", message);
  }
}

export interface Cinder {
  manifest: CinderManifest;
  signer: HardhatEthersSigner;
  token: ProtocolToken;
  vault: StakingVault;
  dailyCredit: DailyCredit;
  computeCredit: ComputeCredit;
  oracle: FixedPriceOracle;
  engine: BurnMintEngine;
  modelRegistry: ModelRegistry;
  providerRegistry: ProviderRegistry;
  voucherMarket: VoucherMarket;
  jobCoordinator: JobCoordinator;
  disputeModule: DisputeModule;
  verifier: ArbiterCommitteeVerifier;
  timelock: CinderTimelock;
  /** The local genesis's mock stablecoin, when the deployment has one. */
  stablecoin?: MockStablecoin;
}

/**
 * The deployment on the selected network, every contract connected to the acting account: `from` is an
 * account index ("0", "1", …) or address among the network's accounts (default: the first).
 */
export async function loadCinder(hre: HardhatRuntimeEnvironment, from?: string): Promise<Cinder> {
  const chainId = (await hre.ethers.provider.getNetwork()).chainId;
  let manifest: CinderManifest;
  try {
    manifest = requireManifest(chainId, hre.network.name);
  } catch (error) {
    throw new TaskError((error as Error).message);
  }
  const signer = await account(hre, from);
  const at = async <T>(name: string, address: string) =>
    (await hre.ethers.getContractAt(name, address, signer)) as unknown as T;
  const c = manifest.contracts;
  if ((await hre.ethers.provider.getCode(c.jobCoordinator)) === "0x") {
    throw new TaskError(
      `no contract at the manifest's JobCoordinator ${c.jobCoordinator} on chain ${chainId}: the chain was reset; ` +
        "run `npm run deploy:local` again",
    );
  }
  return {
    manifest,
    signer,
    token: await at<ProtocolToken>("ProtocolToken", c.token),
    vault: await at<StakingVault>("StakingVault", c.vault),
    dailyCredit: await at<DailyCredit>("DailyCredit", c.dailyCredit),
    computeCredit: await at<ComputeCredit>("ComputeCredit", c.computeCredit),
    oracle: await at<FixedPriceOracle>("FixedPriceOracle", c.oracle),
    engine: await at<BurnMintEngine>("BurnMintEngine", c.engine),
    modelRegistry: await at<ModelRegistry>("ModelRegistry", c.modelRegistry),
    providerRegistry: await at<ProviderRegistry>("ProviderRegistry", c.providerRegistry),
    voucherMarket: await at<VoucherMarket>("VoucherMarket", c.voucherMarket),
    jobCoordinator: await at<JobCoordinator>("JobCoordinator", c.jobCoordinator),
    disputeModule: await at<DisputeModule>("DisputeModule", c.disputeModule),
    verifier: await at<ArbiterCommitteeVerifier>("ArbiterCommitteeVerifier", c.verifier),
    timelock: await at<CinderTimelock>("CinderTimelock", c.timelock),
    stablecoin: manifest.extras.stablecoin
      ? await at<MockStablecoin>("MockStablecoin", manifest.extras.stablecoin)
      : undefined,
  };
}

/** The acting account: an index or an address among the network's accounts. */
export async function account(hre: HardhatRuntimeEnvironment, from?: string): Promise<HardhatEthersSigner> {
  const signers = await hre.ethers.getSigners();
  if (signers.length === 0)
    throw new TaskError(`network "${hre.network.name}" has no accounts: set DEPLOYER_KEY`);
  if (from === undefined || from === "") return signers[0];
  if (/^\d+$/.test(from)) {
    const index = Number(from);
    if (index >= signers.length) {
      throw new TaskError(`--from ${from}: the network has accounts 0 to ${signers.length - 1}`);
    }
    return signers[index];
  }
  if (!isAddress(from)) throw new TaskError(`--from "${from}" is neither an account index nor an address`);
  const found = signers.find((s) => s.address.toLowerCase() === from.toLowerCase());
  if (!found)
    throw new TaskError(`--from ${from} is not one of the network's accounts (no key to sign with)`);
  return found;
}

/** A positive decimal amount ("12.5") in `decimals`; `what` names the argument in errors. */
export function parseAmount(
  value: string | undefined,
  what: string,
  decimals = 18,
  allowZero = false,
): bigint {
  if (value === undefined || value === "") throw new TaskError(`${what} is required`);
  const text = value.trim().replace(/_/g, "");
  if (!/^\d+(\.\d+)?$/.test(text)) {
    throw new TaskError(`${what} "${value}" is not a number: write a decimal amount such as 100 or 2.5`);
  }
  let parsed: bigint;
  try {
    parsed = parseUnits(text, decimals);
  } catch {
    throw new TaskError(`${what} "${value}" has more than ${decimals} decimals`);
  }
  if (parsed === 0n && !allowZero) throw new TaskError(`${what} must be greater than zero`);
  return parsed;
}

/** A non-negative whole number ("42"). */
export function parseInteger(value: string | undefined, what: string, min = 0n, max?: bigint): bigint {
  if (value === undefined || value === "") throw new TaskError(`${what} is required`);
  if (!/^\d+$/.test(value.trim())) throw new TaskError(`${what} "${value}" is not a whole number`);
  const parsed = BigInt(value.trim());
  if (parsed < min) throw new TaskError(`${what} must be at least ${min}`);
  if (max !== undefined && parsed > max) throw new TaskError(`${what} must be at most ${max}`);
  return parsed;
}

export function parseAddress(value: string | undefined, what: string): string {
  if (value === undefined || value === "") throw new TaskError(`${what} is required`);
  if (!isAddress(value)) throw new TaskError(`${what} "${value}" is not an address`);
  return getAddress(value);
}

/** A model id: a 0x-prefixed 32-byte id, or a name hashed with keccak256 (as `id("stories260K")`). */
export function parseModelId(value: string | undefined): string {
  if (value === undefined || value === "") throw new TaskError("--model is required");
  if (value.startsWith("0x")) {
    if (!isHexString(value, 32)) throw new TaskError(`--model "${value}" is not a 32-byte id`);
    return value;
  }
  return id(value);
}

/** "1,234.56 CNDR" (18-decimal amounts by default). */
export function formatAmount(value: bigint, symbol: string, decimals = 18, places = 2): string {
  const negative = value < 0n;
  const text = formatUnits(negative ? -value : value, decimals);
  const [whole, fraction = ""] = text.split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const shown = places > 0 ? `${grouped}.${(fraction + "0".repeat(places)).slice(0, places)}` : grouped;
  return `${negative ? "-" : ""}${shown}${symbol ? ` ${symbol}` : ""}`;
}

/** "$12.34" for an 18-decimal USD amount. */
export function formatUsd(value: bigint, places = 2): string {
  const text = formatAmount(value < 0n ? -value : value, "", 18, places);
  return `${value < 0n ? "-" : ""}$${text}`;
}

/**
 * Sends a transaction and waits for it; a revert becomes a one-line TaskError naming the custom error and its
 * arguments, decoded against every Cinder contract (a coordinator call may fail inside the VoucherMarket).
 */
export async function send<R extends { gasUsed: bigint; blockNumber: number }>(
  c: Cinder,
  what: string,
  tx: Promise<{ hash: string; wait(): Promise<R | null> }>,
): Promise<R> {
  try {
    const sent = await tx;
    const receipt = await sent.wait();
    if (!receipt) throw new Error("no receipt");
    console.log(`${what}: tx ${sent.hash} (block ${receipt.blockNumber}, gas ${receipt.gasUsed})`);
    return receipt;
  } catch (error) {
    throw new TaskError(`${what} failed: ${revertReason(c, error)}`);
  }
}

/** The most useful line of an ethers/Hardhat error: the custom error with arguments when there is one. */
export function revertReason(c: Cinder, error: unknown): string {
  const e = error as {
    revert?: { name: string; args: unknown[] };
    data?: string;
    shortMessage?: string;
    message?: string;
  };
  if (e.revert) return `${e.revert.name}(${e.revert.args.map(String).join(", ")})`;
  if (typeof e.data === "string" && e.data.length >= 10) {
    for (const contract of Object.values(c)) {
      const iface = (
        contract as { interface?: { parseError(data: string): { name: string; args: unknown[] } | null } }
      )?.interface;
      const parsed = iface?.parseError?.(e.data);
      if (parsed) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    }
  }
  return e.shortMessage ?? e.message ?? String(error);
}

// ---------------------------------------------------------------- shared by the tasks

/** An optional non-zero address argument (`--recipient`, `--to`, `--account`); undefined when not given. */
export function parseRecipient(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  const address = parseAddress(value, flag);
  if (address === ZeroAddress) throw new TaskError(`${flag} is the zero address`);
  return address;
}

/** Throws before anything is sent when `need` exceeds `have`: "--amount 5 CNDR exceeds your balance of 3.00 CNDR". */
export function requireEnough(
  flag: string,
  typed: string,
  need: bigint,
  have: bigint,
  what: string,
  symbol: string,
  decimals = 18,
): void {
  if (need > have) {
    throw new TaskError(
      `${flag} ${typed.trim()} ${symbol} exceeds ${what} of ${formatAmount(have, symbol, decimals)}`,
    );
  }
}

/** An ERC-20 the tasks approve: the protocol token, ComputeCredit or a stablecoin. */
export interface Approvable {
  allowance(owner: string, spender: string): Promise<bigint>;
  approve(spender: string, amount: bigint): Promise<ContractTransactionResponse>;
}

/** Approves `spender` for `amount` of the acting account's `token`, unless the allowance already covers it. */
export async function approveIfNeeded(
  c: Cinder,
  token: Approvable,
  spender: string,
  amount: bigint,
  what: string,
): Promise<void> {
  if ((await token.allowance(c.signer.address, spender)) >= amount) return;
  await send(c, `approve ${what}`, token.approve(spender, amount));
}

/** The arguments of the first `name` event `contract` emitted in `receipt`. */
export function eventArgs(
  receipt: { logs: readonly Log[] },
  contract: { interface: Interface },
  address: string,
  name: string,
): Result {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== address.toLowerCase()) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed?.name === name) return parsed.args;
  }
  throw new TaskError(`the transaction succeeded but emitted no ${name} event`);
}

export function plural(n: bigint | number, word: string, words = `${word}s`): string {
  return `${n.toLocaleString("en-US")} ${BigInt(n) === 1n ? word : words}`;
}

/** "90s", "10m", "2h", "1d" or a whole number of seconds. */
export function parseDuration(value: string | undefined, what: string): bigint {
  if (value === undefined || value === "") throw new TaskError(`${what} is required`);
  const seconds = durationSeconds(value);
  if (seconds === undefined)
    throw new TaskError(`${what} "${value}" is not a duration: write e.g. 90s, 10m, 2h or 1d`);
  if (seconds === 0n) throw new TaskError(`${what} must be longer than zero`);
  return seconds;
}

/** "1d 2h", "4m 5s", "45s": the two largest non-zero units. */
export function formatDuration(seconds: bigint): string {
  let rest = seconds < 0n ? -seconds : seconds;
  if (rest === 0n) return "0s";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400n],
    ["h", 3_600n],
    ["m", 60n],
    ["s", 1n],
  ] as const) {
    const n = rest / size;
    rest %= size;
    if (n > 0n) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(" ");
}

/** "2026-01-01 00:10:00 UTC", followed by " (in 4m)" / " (3m ago)" when `now` is given. */
export function formatTime(timestamp: bigint, now?: bigint): string {
  const utc = new Date(Number(timestamp) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  if (now === undefined) return utc;
  const delta = timestamp - now;
  const relative =
    delta > 0n ? `in ${formatDuration(delta)}` : delta < 0n ? `${formatDuration(-delta)} ago` : "now";
  return `${utc} (${relative})`;
}

/**
 * The chain's "now" as the next transaction will see it, at the least: the latest block's timestamp, or the wall
 * clock when the chain has been idle (automining Hardhat and real chains stamp new blocks no earlier than that).
 */
export async function chainNow(hre: HardhatRuntimeEnvironment): Promise<bigint> {
  const latest = await hre.ethers.provider.getBlock("latest");
  const wall = BigInt(Math.floor(Date.now() / 1000));
  const block = BigInt(latest?.timestamp ?? 0);
  return block > wall ? block : wall;
}

/** USD with 2 decimals, or as many as the value needs (up to 6 from one cent, 18 below it: per-unit prices). */
export function usd(value: bigint): string {
  const abs = value < 0n ? -value : value;
  const cap = abs >= 10n ** 16n ? 6 : 18;
  let places = 2;
  while (places < cap && abs % 10n ** BigInt(18 - places) !== 0n) places++;
  return formatUsd(value, places);
}
