/**
 * Protocol actions for the relayer's tests, benchmark and demo, in plain ethers (no Hardhat runtime): register a
 * provider, fund an account, buy vouchers, mint compute and daily credit, and request jobs paid by each method
 * with the prompt inline, encrypted to the provider, or delivered over HTTP. Works against the in-process chain
 * (through Hardhat's signers) and against a `hardhat node` process (through wallets).
 */
import {
  id,
  MaxUint256,
  parseUnits,
  ZeroAddress,
  type ContractTransactionResponse,
  type Signer,
} from "ethers";
import { connectCinder, type CinderContracts } from "../../bindings";
import type { CinderManifest } from "../../deploy/manifest";
import { encodeInlineRef, encryptInputRef, promptHash } from "../delivery";

export type Cinder = CinderContracts;

/** The local genesis's model: keccak256("stories260K"). */
export const STORIES_MODEL_ID = id("stories260K");

export const PaymentKind = { Voucher: 0, DailyCredit: 1, ComputeCredit: 2 } as const;
export type PaymentKindValue = (typeof PaymentKind)[keyof typeof PaymentKind];

/** Sends and waits for one transaction; throws if it reverted. */
export async function mined(tx: Promise<ContractTransactionResponse>) {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw new Error("transaction reverted");
  return receipt;
}

/** Every contract of a deployment, connected to `runner`. */
export function cinderAt(manifest: CinderManifest, runner: Signer): Cinder {
  return connectCinder(manifest, runner);
}

/** Sends CNDR from `from` (the deployer holds the genesis supply) and mints mock USDC (local genesis only). */
export async function fundAccount(
  c: Cinder,
  from: Signer,
  to: string,
  amounts: { cndr?: string; usdc?: string },
): Promise<void> {
  if (amounts.cndr) await mined(c.token.connect(from).transfer(to, parseUnits(amounts.cndr, 18)));
  if (amounts.usdc) {
    if (!c.stablecoin) throw new Error("this deployment has no mock stablecoin (deploy CinderLocal)");
    await mined(c.stablecoin.connect(from).mint(to, parseUnits(amounts.usdc, 6)));
  }
}

/** Bonds `bond` CNDR and offers `modelIds` at `priceUsd` per unit, with `attestationSigner` (default: itself). */
export async function registerProvider(
  c: Cinder,
  provider: Signer,
  options: { modelIds: string[]; priceUsd: string; bond?: string; attestationSigner?: string; uri?: string },
): Promise<void> {
  const bond = parseUnits(options.bond ?? "5000", 18);
  const address = await provider.getAddress();
  await mined(c.token.connect(provider).approve(await c.providerRegistry.getAddress(), bond));
  await mined(
    c.providerRegistry.connect(provider).register(
      bond,
      options.uri ?? "",
      options.attestationSigner ?? address,
      options.modelIds,
      options.modelIds.map(() => parseUnits(options.priceUsd, 18)),
    ),
  );
}

/** Buys `count` vouchers of `classId` with mock USDC and lets the coordinator escrow them. */
export async function buyVouchers(c: Cinder, buyer: Signer, classId: bigint, count: bigint): Promise<void> {
  const to = await buyer.getAddress();
  if (!c.stablecoin) throw new Error("this deployment has no mock stablecoin (deploy CinderLocal)");
  await mined(c.stablecoin.connect(buyer).approve(await c.voucherMarket.getAddress(), MaxUint256));
  await mined(c.voucherMarket.connect(buyer).buy(classId, count, MaxUint256, to));
  await mined(c.voucherMarket.connect(buyer).setApprovalForAll(await c.jobCoordinator.getAddress(), true));
}

/** Burns `tokens` CNDR for ComputeCredit at the oracle price and approves the coordinator to escrow it. */
export async function mintComputeCredit(c: Cinder, account: Signer, tokens: string): Promise<void> {
  const to = await account.getAddress();
  const amount = parseUnits(tokens, 18);
  await mined(c.token.connect(account).approve(await c.engine.getAddress(), amount));
  await mined(c.engine.connect(account).mintCredits(amount, 0n, to));
  await mined(c.computeCredit.connect(account).approve(await c.jobCoordinator.getAddress(), MaxUint256));
}

/** Stakes `stake` CNDR and mints `credit` DailyCredit against it (1 credit = $1 of inference a day). */
export async function mintDailyCredit(
  c: Cinder,
  account: Signer,
  stake: string,
  credit: string,
): Promise<void> {
  const amount = parseUnits(stake, 18);
  await mined(c.token.connect(account).approve(await c.vault.getAddress(), amount));
  await mined(c.vault.connect(account).stake(amount));
  await mined(c.dailyCredit.connect(account).mint(parseUnits(credit, 18), MaxUint256));
}

export interface JobRequest {
  modelId: string;
  prompt: string;
  kind: PaymentKindValue;
  maxUnits: number;
  /** Voucher class (vouchers). */
  classId?: bigint;
  /** USD per unit cap, as a decimal string (credit payments). */
  maxPriceUsd?: string;
  /** Named provider (a direct request); omit for an open request. */
  provider?: string;
  /** How the prompt reaches the provider: inline in `inputRef` (public), encrypted to `providerPublicKey`, or by HTTP. */
  delivery?: "inline" | "encrypted" | "http";
  providerPublicKey?: string;
  /** Seconds from the latest block to the deadline (default 600). */
  deadlineIn?: number;
  /** Explicit nonce (for pipelined requests from one account). */
  nonce?: number;
}

/** The calldata arguments of a request (no transaction). */
export async function requestArgs(c: Cinder, job: JobRequest) {
  const block = await c.jobCoordinator.runner!.provider!.getBlock("latest");
  const deadline = BigInt(block!.timestamp + (job.deadlineIn ?? 600));
  const delivery = job.delivery ?? "inline";
  let inputRef = "0x";
  if (delivery === "inline") inputRef = encodeInlineRef(job.prompt);
  else if (delivery === "encrypted") {
    if (!job.providerPublicKey) throw new Error("an encrypted request needs providerPublicKey");
    inputRef = encryptInputRef(job.providerPublicKey, job.prompt);
  }
  const payment = {
    kind: job.kind,
    classId: job.kind === PaymentKind.Voucher ? (job.classId ?? 1n) : 0n,
    maxPricePerUnit: job.kind === PaymentKind.Voucher ? 0n : parseUnits(job.maxPriceUsd ?? "0.001", 18),
  };
  return [
    job.modelId,
    promptHash(job.prompt),
    inputRef,
    BigInt(job.maxUnits),
    payment,
    deadline,
    job.provider ?? ZeroAddress,
  ] as const;
}

/** Requests a job as `requester`; returns its id. */
export async function requestJob(c: Cinder, requester: Signer, job: JobRequest): Promise<bigint> {
  const args = await requestArgs(c, job);
  const overrides = job.nonce === undefined ? {} : { nonce: job.nonce };
  const receipt = await mined(c.jobCoordinator.connect(requester).requestJob(...args, overrides));
  for (const log of receipt.logs) {
    const parsed = c.jobCoordinator.interface.parseLog(log);
    if (parsed?.name === "JobRequested") return parsed.args.jobId as bigint;
  }
  throw new Error("requestJob logged no JobRequested event");
}
