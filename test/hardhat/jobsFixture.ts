import { ethers, ignition } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import CinderJobs from "../../deploy/modules/CinderJobs";
import { resultTypedData } from "../../bindings/attestation";
import { ROLES, WAD, DAY } from "./fixtures";
import type {
  ArbiterCommitteeVerifier,
  BurnMintEngine,
  ComputeCredit,
  DailyCredit,
  DisputeModule,
  JobCoordinator,
  MockStablecoin,
  ModelRegistry,
  ProtocolToken,
  ProviderRegistry,
  StakingVault,
  VoucherMarket,
} from "../../typechain-types";

export { ROLES, WAD, DAY };

export const HOUR = 3600n;
/** The model every fixture job runs: the repository's tiny GGUF model. */
export const MODEL = ethers.id("stories260K");
/** A second active model, which no voucher class covers. */
export const OTHER_MODEL = ethers.id("other-model");
export const USDC = 10n ** 6n;
/** Provider prices, USD (18 decimals) per model unit. */
export const PRICE1 = WAD / 1000n; // $0.001 per unit
export const PRICE2 = (2n * WAD) / 1000n; // $0.002 per unit
export const BOND = 10_000n * WAD;
/** Voucher class 1: 1,000 units of MODEL for $1 (USDC, 6 decimals), 3 % premium. */
export const UNITS_PER_VOUCHER = 1_000n;
export const VOUCHER_PRICE = 1n * USDC;
export const PREMIUM_BPS = 300n;
/** CinderJobs defaults. */
export const CHALLENGE_WINDOW = HOUR;
export const DISPUTE_TIMEOUT = DAY;
export const COLLATERAL_PER_USD = WAD;
export const LATE_SLASH_BPS = 1_000n;
export const CHALLENGE_BOND = 100n * WAD;
export const FAULT_SLASH_BPS = 1_000n;
export const FINDER_FEE_BPS = 5_000n;
export const JAIL = 30n * DAY;
export const PROTOCOL_FEE_BPS = 100n;

export enum Kind {
  Voucher = 0,
  DailyCredit = 1,
  ComputeCredit = 2,
}
export enum Status {
  None,
  Requested,
  Accepted,
  Submitted,
  Challenged,
  Finalized,
  Cancelled,
  Expired,
  Faulted,
}
export enum Skip {
  NotSubmitted,
  WindowOpen,
  Challenged,
}
export enum Outcome {
  None,
  Open,
  Upheld,
  Rejected,
  TimedOut,
}

/**
 * The whole protocol up to the job lifecycle, deployed through the CinderJobs Ignition module (and so with the
 * real role wiring), administered by `admin` (no timelock, so tests can change parameters at once):
 * - MODEL and OTHER_MODEL registered; voucher class 1 = 1,000 units of MODEL for 1 USDC (6 decimals);
 * - provider1 (signer1) and provider2 (signer2) registered with a 10,000-token bond, offering MODEL at
 *   PRICE1 / PRICE2 per unit (provider1 also OTHER_MODEL at PRICE1);
 * - alice and bob (requesters) each hold 100 vouchers (coordinator approved), 100 DailyCredit ($100/day) and
 *   ~$19,950 of ComputeCredit (coordinator approved);
 * - challenger holds 10,000 tokens and approved the DisputeModule; arbiter1 is the verifier's arbiter
 *   (threshold 1); `guardian` may pause the coordinator.
 */
export async function deployJobsFixture() {
  const [
    admin,
    treasury,
    guardian,
    alice,
    bob,
    provider1,
    signer1,
    provider2,
    signer2,
    challenger,
    arbiter1,
    arbiter2,
    outsider,
  ] = await ethers.getSigners();

  const d = await ignition.deploy(CinderJobs, {
    parameters: {
      CinderCore: { admin: admin.address, treasury: treasury.address },
      CinderEconomy: { admin: admin.address, treasury: treasury.address },
      CinderMarket: { admin: admin.address, treasury: treasury.address },
      CinderJobs: { admin: admin.address, arbiter: arbiter1.address },
    },
  });
  const token = d.token as unknown as ProtocolToken;
  const vault = d.vault as unknown as StakingVault;
  const dailyCredit = d.dailyCredit as unknown as DailyCredit;
  const computeCredit = d.computeCredit as unknown as ComputeCredit;
  const engine = d.engine as unknown as BurnMintEngine;
  const models = d.modelRegistry as unknown as ModelRegistry;
  const registry = d.providerRegistry as unknown as ProviderRegistry;
  const market = d.voucherMarket as unknown as VoucherMarket;
  const coordinator = d.jobCoordinator as unknown as JobCoordinator;
  const disputes = d.disputeModule as unknown as DisputeModule;
  const verifier = d.verifier as unknown as ArbiterCommitteeVerifier;

  const usdc = (await (
    await ethers.getContractFactory("MockStablecoin")
  ).deploy("USD Coin", "USDC", 6)) as unknown as MockStablecoin;

  await models
    .connect(admin)
    .registerModel(MODEL, ethers.id("stories260K.gguf"), "stories260K", "", "1 token");
  await models.connect(admin).registerModel(OTHER_MODEL, ethers.id("other.gguf"), "Other", "", "1 token");
  await market
    .connect(admin)
    .createClass(MODEL, await usdc.getAddress(), UNITS_PER_VOUCHER, VOUCHER_PRICE, Number(PREMIUM_BPS), 0, 0);
  await coordinator.connect(admin).grantRole(ROLES.GUARDIAN, guardian.address);

  const addr = {
    vault: await vault.getAddress(),
    engine: await engine.getAddress(),
    registry: await registry.getAddress(),
    market: await market.getAddress(),
    coordinator: await coordinator.getAddress(),
    disputes: await disputes.getAddress(),
  };

  for (const provider of [provider1, provider2]) {
    await token.connect(treasury).transfer(provider.address, 100_000n * WAD);
    await token.connect(provider).approve(addr.registry, ethers.MaxUint256);
  }
  await registry
    .connect(provider1)
    .register(BOND, "https://p1.example", signer1.address, [MODEL, OTHER_MODEL], [PRICE1, PRICE1]);
  await registry.connect(provider2).register(BOND, "https://p2.example", signer2.address, [MODEL], [PRICE2]);

  for (const user of [alice, bob]) {
    await token.connect(treasury).transfer(user.address, 1_000_000n * WAD);
    await usdc.mint(user.address, 1_000n * USDC);
    await usdc.connect(user).approve(addr.market, ethers.MaxUint256);
    await market.connect(user).buy(1, 100, ethers.MaxUint256, user.address);
    await market.connect(user).setApprovalForAll(addr.coordinator, true);

    await token.connect(user).approve(addr.vault, ethers.MaxUint256);
    await vault.connect(user).stake(500_000n * WAD);
    await dailyCredit.connect(user).mint(100n * WAD, ethers.MaxUint256);

    await token.connect(user).approve(addr.engine, ethers.MaxUint256);
    await engine.connect(user).mintCredits(10_000n * WAD, 0, user.address);
    await computeCredit.connect(user).approve(addr.coordinator, ethers.MaxUint256);
  }
  await token.connect(treasury).transfer(challenger.address, 10_000n * WAD);
  await token.connect(challenger).approve(addr.disputes, ethers.MaxUint256);

  return {
    token,
    vault,
    dailyCredit,
    computeCredit,
    engine,
    models,
    registry,
    market,
    coordinator,
    disputes,
    verifier,
    usdc,
    admin,
    treasury,
    guardian,
    alice,
    bob,
    provider1,
    signer1,
    provider2,
    signer2,
    challenger,
    arbiter1,
    arbiter2,
    outsider,
  };
}

export type JobsFixture = Awaited<ReturnType<typeof deployJobsFixture>>;

/** Signs a result attestation (EIP-712 `Result`) for `coordinator` with `signer`. */
export async function signResult(
  signer: HardhatEthersSigner,
  coordinator: JobCoordinator | string,
  result: { jobId: bigint; modelId: string; inputHash: string; outputHash: string; unitsUsed: bigint },
  chainId?: bigint,
) {
  const verifyingContract = typeof coordinator === "string" ? coordinator : await coordinator.getAddress();
  const { domain, types } = resultTypedData(
    chainId ?? (await ethers.provider.getNetwork()).chainId,
    verifyingContract,
  );
  return signer.signTypedData(domain, types, result);
}

/** The payment argument of `requestJob`. */
export function payment(kind: Kind, classIdOrCap: bigint) {
  return kind === Kind.Voucher
    ? { kind, classId: classIdOrCap, maxPricePerUnit: 0n }
    : { kind, classId: 0n, maxPricePerUnit: classIdOrCap };
}

/** The default payment of each kind: voucher class 1, or credit with a cap of PRICE2 per unit. */
export function defaultPayment(kind: Kind) {
  return payment(kind, kind === Kind.Voucher ? 1n : PRICE2);
}

export async function now() {
  return BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
}

/**
 * Requests a job from `requester` (default alice) and returns its id. Defaults: MODEL, input "hello", 2,500 units
 * (3 vouchers), deadline in 1 hour, open request.
 */
export async function request(
  f: JobsFixture,
  kind: Kind,
  opts: {
    requester?: HardhatEthersSigner;
    maxUnits?: bigint;
    deadline?: bigint;
    provider?: string;
    modelId?: string;
    input?: string;
    pay?: ReturnType<typeof payment>;
  } = {},
) {
  const requester = opts.requester ?? f.alice;
  const deadline = opts.deadline ?? (await now()) + HOUR;
  const tx = await f.coordinator
    .connect(requester)
    .requestJob(
      opts.modelId ?? MODEL,
      ethers.id(opts.input ?? "hello"),
      ethers.toUtf8Bytes("ipfs://input"),
      opts.maxUnits ?? 2_500n,
      opts.pay ?? defaultPayment(kind),
      deadline,
      opts.provider ?? ethers.ZeroAddress,
    );
  await tx.wait();
  return f.coordinator.jobCount();
}

/** Accepts `jobId` as `provider` (default provider1). */
export async function accept(f: JobsFixture, jobId: bigint, provider?: HardhatEthersSigner) {
  await (await f.coordinator.connect(provider ?? f.provider1).acceptJob(jobId)).wait();
}

/** Submits a correctly signed result for `jobId` by its provider (provider1/signer1 unless given). */
export async function submit(
  f: JobsFixture,
  jobId: bigint,
  unitsUsed: bigint,
  opts: { provider?: HardhatEthersSigner; signer?: HardhatEthersSigner; output?: string } = {},
) {
  const job = await f.coordinator.getJob(jobId);
  const outputHash = ethers.id(opts.output ?? "world");
  const signature = await signResult(opts.signer ?? f.signer1, f.coordinator, {
    jobId,
    modelId: job.modelId,
    inputHash: job.inputHash,
    outputHash,
    unitsUsed,
  });
  await (
    await f.coordinator
      .connect(opts.provider ?? f.provider1)
      .submitResult(jobId, outputHash, unitsUsed, signature)
  ).wait();
  return { outputHash, signature };
}
