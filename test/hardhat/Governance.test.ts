import { expect } from "chai";
import { ethers, ignition } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import {
  id,
  MaxUint256,
  toUtf8Bytes,
  ZeroAddress,
  ZeroHash,
  type BaseContract,
  type Interface,
} from "ethers";
import Cinder from "../../deploy/modules/Cinder";
import { DAY, ROLES, WAD } from "./fixtures";
import { signResult } from "./jobsFixture";
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
} from "../../typechain-types";

/*
 * Governance of the whole protocol as `deploy/modules/Cinder.ts` wires it: the role map after deployment,
 * the timelock flow, the guardian's pause-only power, and the absence of an admin path to user funds.
 * One fixture deploys through the same Ignition module users run, then gives the users positions in every
 * module (stake, cooling stake, daily credit, compute credit, vouchers, provider bonds, a settled voucher job
 * whose pay the provider is owed, and an open job holding vouchers in the coordinator's custody).
 */

const TIMELOCK_DELAY = 9n * DAY; // distinct from the module default (8 days), so the parameter is checked
const UNSTAKE_COOLDOWN = 7n * DAY; // CinderCore default
const UNBONDING_PERIOD = 7n * DAY; // CinderMarket default
const HOUR = 3_600n;
const CHALLENGE_WINDOW = HOUR; // CinderJobs default
const DISPUTE_TIMEOUT = DAY; // CinderJobs default
const PROTOCOL_FEE_BPS = 100n; // CinderMarket default
const UNITS_PER_VOUCHER = 1_000n;
const MODEL_ID = id("llama-3.2-1b-instruct-q4");
const WEIGHTS_HASH = id("sha256 of the GGUF file");
const USDC = 10n ** 6n;
const VOUCHER_PRICE = 2n * USDC;
const BOND = 2_000n * WAD;

const MODULES = [
  "token",
  "vault",
  "dailyCredit",
  "computeCredit",
  "oracle",
  "engine",
  "modelRegistry",
  "providerRegistry",
  "voucherMarket",
  "jobCoordinator",
  "disputeModule",
  "verifier",
] as const;
type ModuleName = (typeof MODULES)[number];
/** Modules with a guardian pause. The DisputeModule never pauses: a paused challenge path would let wrong
 *  results finalise while their windows run out. */
const PAUSABLE = [
  "vault",
  "dailyCredit",
  "engine",
  "providerRegistry",
  "voucherMarket",
  "jobCoordinator",
] as const;
type RoleName = keyof typeof ROLES;
const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

/** Expected holders of every role on every module; a role left out must have no holder at all. */
const ROLE_MAP: Record<ModuleName, Partial<Record<RoleName, string[]>>> = {
  token: { DEFAULT_ADMIN: ["timelock"], MINTER: ["engine"] },
  vault: {
    DEFAULT_ADMIN: ["timelock"],
    GUARDIAN: ["guardian"],
    LOCKER: ["dailyCredit"],
    REWARDER: ["engine"],
  },
  dailyCredit: { DEFAULT_ADMIN: ["timelock"], GUARDIAN: ["guardian"], SPENDER: ["jobCoordinator"] },
  computeCredit: { DEFAULT_ADMIN: ["timelock"], ENGINE: ["engine"], PROTOCOL: ["jobCoordinator"] },
  oracle: { DEFAULT_ADMIN: ["timelock"] },
  engine: {
    DEFAULT_ADMIN: ["timelock"],
    GUARDIAN: ["guardian"],
    REPORTER: ["voucherMarket"],
    COORDINATOR: ["jobCoordinator"],
  },
  modelRegistry: { DEFAULT_ADMIN: ["timelock"] },
  providerRegistry: {
    DEFAULT_ADMIN: ["timelock"],
    GUARDIAN: ["guardian"],
    COORDINATOR: ["jobCoordinator"],
    SLASHER: ["jobCoordinator", "disputeModule"],
  },
  voucherMarket: { DEFAULT_ADMIN: ["timelock"], GUARDIAN: ["guardian"], REDEEMER: ["jobCoordinator"] },
  jobCoordinator: { DEFAULT_ADMIN: ["timelock"], GUARDIAN: ["guardian"], DISPUTE: ["disputeModule"] },
  disputeModule: { DEFAULT_ADMIN: ["timelock"] },
  verifier: { DEFAULT_ADMIN: ["timelock"], ARBITER: ["arbiter"] },
};

/** Mutating functions that are not DEFAULT_ADMIN_ROLE-only: user entry points, module roles, guardian. */
const NOT_ADMIN: Record<ModuleName, string[]> = {
  token: ["approve", "transfer", "transferFrom", "permit", "burn", "burnFrom", "mint", "renounceRole"],
  vault: [
    "stake",
    "stakeWithPermit",
    "requestUnstake",
    "cancelUnstake",
    "withdraw",
    "claim",
    "notifyReward",
    "lock",
    "unlock",
    "pause",
    "renounceRole",
  ],
  dailyCredit: [
    "mint",
    "burn",
    "spend",
    "refund",
    "approve",
    "transfer",
    "transferFrom",
    "permit",
    "pause",
    "renounceRole",
  ],
  computeCredit: ["mint", "burn", "approve", "transfer", "transferFrom", "renounceRole"],
  oracle: ["renounceRole"],
  engine: [
    "mintCredits",
    "redeem",
    "distribute",
    "claimEmissions",
    "recordWork",
    "mintSubsidisedCredits",
    "returnSubsidisedCredits",
    "recordVoucherRevenue",
    "pause",
    "renounceRole",
  ],
  modelRegistry: ["renounceRole"],
  providerRegistry: [
    "register",
    "increaseBond",
    "updateOffer",
    "setSigner",
    "setMetadataURI",
    "requestExit",
    "withdrawBond",
    "lockCollateral",
    "releaseCollateral",
    "slash",
    "jail",
    "pause",
    "renounceRole",
  ],
  voucherMarket: [
    "buy",
    "escrowForJob",
    "returnEscrow",
    "redeem",
    "withdraw",
    "reclaim",
    "safeTransferFrom",
    "safeBatchTransferFrom",
    "setApprovalForAll",
    "pause",
    "renounceRole",
  ],
  jobCoordinator: [
    "requestJob",
    "cancel",
    "acceptJob",
    "submitResult",
    "finalize",
    "finalizeBatch",
    "expire",
    "markChallenged",
    "resolveChallenge",
    "pause",
    "renounceRole",
  ],
  disputeModule: ["challenge", "resolve", "renounceRole"],
  verifier: ["vote", "renounceRole"],
};

// ------------------------------------------------------------------------------------------ timelock helpers

interface Call {
  target: string;
  data: string;
}

interface Operation {
  id: string;
  calls: Call[];
  salt: string;
}

/** `fn(args)` on `contract`, ABI-encoded for the timelock. */
async function encode(contract: BaseContract, fn: string, args: readonly unknown[]): Promise<Call> {
  const iface: Interface = contract.interface;
  return { target: await contract.getAddress(), data: iface.encodeFunctionData(fn, args) };
}

let saltCounter = 0n;

/** The state bitmap TimelockUnexpectedOperationState reports (OpenZeppelin `_encodeStateBitmap`). */
function expectedState(state: "Waiting" | "Ready" | "Done"): string {
  const bit = { Waiting: 1n, Ready: 2n, Done: 3n }[state];
  return ethers.toBeHex(1n << bit, 32);
}

/** What the timelock helpers need: the timelock, its proposer, and an outsider to execute. */
interface Governance {
  timelock: CinderTimelock;
  proposer: HardhatEthersSigner;
  outsider: HardhatEthersSigner;
}

/** Queues `calls` (one operation, batched when several) as `from` (the proposer unless given). */
async function schedule(
  f: Governance,
  calls: Call[],
  from: HardhatEthersSigner = f.proposer,
  delay: bigint = TIMELOCK_DELAY,
): Promise<Operation> {
  const salt = ethers.toBeHex(++saltCounter, 32);
  const tl = f.timelock.connect(from);
  if (calls.length === 1) {
    const [{ target, data }] = calls;
    await tl.schedule(target, 0, data, ZeroHash, salt, delay);
    return { id: await f.timelock.hashOperation(target, 0, data, ZeroHash, salt), calls, salt };
  }
  const targets = calls.map((c) => c.target);
  const values = calls.map(() => 0n);
  const payloads = calls.map((c) => c.data);
  await tl.scheduleBatch(targets, values, payloads, ZeroHash, salt, delay);
  return { id: await f.timelock.hashOperationBatch(targets, values, payloads, ZeroHash, salt), calls, salt };
}

/** Executes a queued operation; anyone may (EXECUTOR_ROLE is open), so an outsider does by default. */
function execute(f: Governance, op: Operation, from: HardhatEthersSigner = f.outsider) {
  const tl = f.timelock.connect(from);
  if (op.calls.length === 1) {
    const [{ target, data }] = op.calls;
    return tl.execute(target, 0, data, ZeroHash, op.salt);
  }
  return tl.executeBatch(
    op.calls.map((c) => c.target),
    op.calls.map(() => 0n),
    op.calls.map((c) => c.data),
    ZeroHash,
    op.salt,
  );
}

/** Schedules, waits out the delay and executes: the only way any admin function runs. */
async function govern(f: Governance, calls: Call[]) {
  const op = await schedule(f, calls);
  await time.increase(TIMELOCK_DELAY);
  await execute(f, op);
  return op;
}

// ------------------------------------------------------------------------------------------ fixture

async function governedProtocolFixture() {
  const [deployer, guardian, proposer, alice, provider, exitingProvider, coordinator, outsider, arbiter] =
    await ethers.getSigners();

  const d = await ignition.deploy(Cinder, {
    parameters: {
      Cinder: { guardian: guardian.address, proposer: proposer.address, timelockDelay: TIMELOCK_DELAY },
      CinderJobs: { arbiter: arbiter.address },
    },
  });
  const modules = {
    token: d.token as unknown as ProtocolToken,
    vault: d.vault as unknown as StakingVault,
    dailyCredit: d.dailyCredit as unknown as DailyCredit,
    computeCredit: d.computeCredit as unknown as ComputeCredit,
    oracle: d.oracle as unknown as FixedPriceOracle,
    engine: d.engine as unknown as BurnMintEngine,
    modelRegistry: d.modelRegistry as unknown as ModelRegistry,
    providerRegistry: d.providerRegistry as unknown as ProviderRegistry,
    voucherMarket: d.voucherMarket as unknown as VoucherMarket,
    jobCoordinator: d.jobCoordinator as unknown as JobCoordinator,
    disputeModule: d.disputeModule as unknown as DisputeModule,
    verifier: d.verifier as unknown as ArbiterCommitteeVerifier,
  };
  const timelock = d.timelock as unknown as CinderTimelock;
  const usdc = (await ethers.deployContract("MockStablecoin", [
    "USD Coin",
    "USDC",
    6,
  ])) as unknown as MockStablecoin;
  const {
    token,
    vault,
    dailyCredit,
    engine,
    modelRegistry,
    providerRegistry,
    voucherMarket,
    jobCoordinator,
  } = modules;

  const expiry = BigInt(await time.latest()) + 30n * DAY;
  const f = {
    ...modules,
    timelock,
    usdc,
    deployer,
    guardian,
    proposer,
    alice,
    provider,
    exitingProvider,
    coordinator,
    outsider,
    arbiter,
    classId: 1n,
    expiringClassId: 2n,
    expiry,
    settledJob: 1n,
    openJob: 2n,
    marketTreasury: await voucherMarket.treasury(), // fees credited in the fixture are owed to it
  };

  // Governance lists a model and two voucher classes (one expiring) — through the timelock, as it must.
  await govern(f, [
    await encode(modelRegistry, "registerModel", [
      MODEL_ID,
      WEIGHTS_HASH,
      "Llama 3.2 1B",
      "ipfs://m",
      "1k tokens",
    ]),
    await encode(voucherMarket, "createClass", [
      MODEL_ID,
      await usdc.getAddress(),
      1000,
      VOUCHER_PRICE,
      300,
      0,
      0,
    ]),
    await encode(voucherMarket, "createClass", [
      MODEL_ID,
      await usdc.getAddress(),
      1000,
      VOUCHER_PRICE,
      300,
      expiry,
      0,
    ]),
  ]);

  // Alice (the deployer is the treasury): stake, cooling stake, daily credit, compute credit, vouchers.
  await token.connect(deployer).transfer(alice.address, 1_000_000n * WAD);
  await token.connect(alice).approve(await vault.getAddress(), MaxUint256);
  await token.connect(alice).approve(await engine.getAddress(), MaxUint256);
  await vault.connect(alice).stake(100_000n * WAD);
  await vault.connect(alice).requestUnstake(10_000n * WAD);
  await dailyCredit.connect(alice).mint(100n * WAD, MaxUint256);
  await engine.connect(alice).mintCredits(1_000n * WAD, 0, alice.address);
  await usdc.mint(alice.address, 1_000n * USDC);
  await usdc.connect(alice).approve(await voucherMarket.getAddress(), MaxUint256);
  await voucherMarket.connect(alice).buy(f.classId, 10, MaxUint256, alice.address);
  await voucherMarket.connect(alice).buy(f.expiringClassId, 5, MaxUint256, alice.address);

  // Two bonded providers, one of them already unbonding.
  for (const p of [provider, exitingProvider]) {
    await token.connect(deployer).transfer(p.address, 10_000n * WAD);
    await token.connect(p).approve(await providerRegistry.getAddress(), MaxUint256);
    await providerRegistry
      .connect(p)
      .register(BOND, "https://provider", p.address, [MODEL_ID], [WAD / 1000n]);
  }
  await providerRegistry.connect(exitingProvider).requestExit();

  // A voucher job settled through the JobCoordinator: 2 500 units escrow 3 vouchers; the provider uses 1 500
  // units (2 vouchers, credited to it in the market, not yet withdrawn) and 1 voucher goes back to alice.
  const voucherJob = (units: bigint, deadline: bigint) =>
    jobCoordinator
      .connect(alice)
      .requestJob(
        MODEL_ID,
        id(`prompt ${units}`),
        toUtf8Bytes("ipfs://input"),
        units,
        { kind: 0, classId: f.classId, maxPricePerUnit: 0 },
        deadline,
        ZeroAddress,
      );
  await voucherMarket.connect(alice).setApprovalForAll(await jobCoordinator.getAddress(), true);
  await voucherJob(2_500n, BigInt(await time.latest()) + HOUR);
  await jobCoordinator.connect(provider).acceptJob(f.settledJob);
  const outputHash = id("output");
  const job = await jobCoordinator.getJob(f.settledJob);
  const signature = await signResult(provider, jobCoordinator, {
    jobId: f.settledJob,
    modelId: MODEL_ID,
    inputHash: job.inputHash,
    outputHash,
    unitsUsed: 1_500n,
  });
  await jobCoordinator.connect(provider).submitResult(f.settledJob, outputHash, 1_500n, signature);
  await time.increase(CHALLENGE_WINDOW);
  await jobCoordinator.finalize(f.settledJob);
  // And a job still open: 1 voucher in the coordinator's custody.
  await voucherJob(UNITS_PER_VOUCHER, BigInt(await time.latest()) + HOUR);

  return f;
}

type Fixture = Awaited<ReturnType<typeof governedProtocolFixture>>;

/** Everything users own across the protocol; no admin call may change any of it. */
async function holdings(f: Fixture) {
  const {
    token,
    vault,
    dailyCredit,
    computeCredit,
    voucherMarket,
    providerRegistry,
    jobCoordinator,
    usdc,
    alice,
  } = f;
  const [cooling, unlockTime] = await vault.coolingOf(alice.address);
  const position = await dailyCredit.positionOf(alice.address);
  const providers: Record<string, unknown> = {};
  for (const p of [f.provider, f.exitingProvider]) {
    const r = await providerRegistry.getProvider(p.address);
    providers[p.address] = {
      status: r.status,
      bond: r.bond,
      locked: r.locked,
      unbondingEnds: r.unbondingEnds,
      jailedUntil: r.jailedUntil,
      tokens: await token.balanceOf(p.address),
    };
  }
  return {
    tokens: await token.balanceOf(alice.address),
    stake: await vault.stakeOf(alice.address),
    locked: await vault.lockedOf(alice.address),
    cooling,
    unlockTime,
    earned: await vault.earned(alice.address),
    dailyCredit: await dailyCredit.balanceOf(alice.address),
    positionCredits: position.credits,
    positionStake: position.stakeLocked,
    computeCredit: await computeCredit.balanceOf(alice.address),
    vouchers: await voucherMarket.balanceOf(alice.address, f.classId),
    expiringVouchers: await voucherMarket.balanceOf(alice.address, f.expiringClassId),
    usdc: await usdc.balanceOf(alice.address),
    escrow: await voucherMarket.escrowed(f.classId),
    expiringEscrow: await voucherMarket.escrowed(f.expiringClassId),
    marketUsdc: await usdc.balanceOf(await voucherMarket.getAddress()),
    providerOwed: await voucherMarket.owed(f.provider.address, await usdc.getAddress()),
    treasuryOwed: await voucherMarket.owed(f.marketTreasury, await usdc.getAddress()),
    custody: await voucherMarket.balanceOf(await jobCoordinator.getAddress(), f.classId),
    openJob: await jobCoordinator.getJob(f.openJob).then((j) => ({
      status: j.status,
      requester: j.requester,
      provider: j.provider,
      classId: j.classId,
      maxUnits: j.maxUnits,
      escrow: j.escrow,
      deadline: j.deadline,
    })),
    vaultTokens: await token.balanceOf(await vault.getAddress()),
    registryTokens: await token.balanceOf(await providerRegistry.getAddress()),
    providers,
  };
}

/**
 * A contract whose every call returns 1 day (uint256): a stand-in for the JobCoordinator's `slashableWindow()`.
 * Runtime: PUSH3 86400, PUSH1 0, MSTORE, PUSH1 32, PUSH1 0, RETURN; prefixed by a 12-byte copy-and-return.
 */
async function deploySlashingWindowStub(f: Fixture): Promise<string> {
  const tx = await f.deployer.sendTransaction({
    data: "0x600c600c600039600c6000f3" + "62015180600052602060" + "00f3",
  });
  const receipt = await tx.wait();
  return receipt!.contractAddress!;
}

/** Every DEFAULT_ADMIN_ROLE-only function of every module, with valid arguments. */
async function adminCalls(f: Fixture): Promise<Record<ModuleName, [string, unknown[]][]>> {
  const stand = f.coordinator.address;
  const someRole = id("GOVERNANCE_TEST_ROLE");
  const roles: [string, unknown[]][] = [
    ["grantRole", [someRole, stand]],
    ["revokeRole", [someRole, stand]],
  ];
  const newOracle = await ethers.deployContract("FixedPriceOracle", [
    await f.timelock.getAddress(),
    3n * WAD,
    WAD / 1000n,
    1000n * WAD,
  ]);
  return {
    token: [...roles],
    vault: [["setCooldown", [14n * DAY]], ["setRewardPeriod", [2n * DAY]], ["unpause", []], ...roles],
    dailyCredit: [["setCurve", [100n * WAD, 3n * WAD, 40_000n * WAD]], ["unpause", []], ...roles],
    computeCredit: [...roles],
    oracle: [["setPrice", [3n * WAD]], ...roles],
    engine: [
      ["setMintSpreadBps", [100]],
      ["setEpochMintCap", [2_000_000n * WAD]],
      ["setStakerShareBps", [6_000]],
      ["setSubsidyBudgetUsd", [2_000n * WAD]],
      ["setOracle", [await newOracle.getAddress()]],
      ["setTreasury", [stand]],
      ["unpause", []],
      ...roles,
    ],
    modelRegistry: [
      ["registerModel", [id("second model"), WEIGHTS_HASH, "Qwen", "ipfs://q", "1k tokens"]],
      ["updateModel", [MODEL_ID, id("new weights"), "ipfs://m2", "1k tokens"]],
      ["setActive", [MODEL_ID, false]],
      ...roles,
    ],
    providerRegistry: [
      ["setMinBond", [5_000n * WAD]],
      ["setUnbondingPeriod", [10n * DAY]],
      ["setSlashingWindowSource", [await deploySlashingWindowStub(f)]],
      ["unpause", []],
      ...roles,
    ],
    voucherMarket: [
      ["createClass", [MODEL_ID, await f.usdc.getAddress(), 500, 3n * USDC, 200, 0, 100]],
      ["setClassActive", [f.classId, false]],
      ["setProtocolFeeBps", [500]],
      ["setTreasury", [stand]],
      ["unpause", []],
      ...roles,
    ],
    jobCoordinator: [
      ["setChallengeWindow", [2n * HOUR]],
      ["setJobDurationBounds", [120n, 2n * DAY]],
      ["setCollateralPerUsd", [2n * WAD]],
      ["setLateSlashBps", [500]],
      ["setDisputeModule", [await f.disputeModule.getAddress()]],
      ["unpause", []],
      ...roles,
    ],
    disputeModule: [
      ["setChallengeBond", [200n * WAD]],
      ["setDisputeTimeout", [2n * DAY]],
      ["setSlashing", [2_000, 4_000]],
      ["setJailDuration", [60n * DAY]],
      ["setVerifier", [await f.verifier.getAddress()]],
      ...roles,
    ],
    verifier: [["setThreshold", [2]], ...roles],
  };
}

function mutatingFunctions(contract: BaseContract): string[] {
  const names: string[] = [];
  (contract.interface as Interface).forEachFunction((fn) => {
    if (fn.stateMutability !== "view" && fn.stateMutability !== "pure") names.push(fn.name);
  });
  return names.sort();
}

// ------------------------------------------------------------------------------------------ tests

describe("Governance (Cinder module: timelock admin, guardian pause)", () => {
  describe("role map after deployment", () => {
    it("gives the timelock DEFAULT_ADMIN_ROLE on every module and no EOA an admin role anywhere", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const timelock = await f.timelock.getAddress();
      const eoas = await ethers.getSigners(); // the deployer key first
      for (const name of MODULES) {
        expect(await f[name].hasRole(ROLES.DEFAULT_ADMIN, timelock), name).to.equal(true);
        const admins = await Promise.all(
          eoas.map((eoa) => f[name].hasRole(ROLES.DEFAULT_ADMIN, eoa.address)),
        );
        expect(admins, `${name}: an EOA holds DEFAULT_ADMIN_ROLE`).to.deep.equal(eoas.map(() => false));
      }
    });

    it("makes the timelock the only admin of the verifier, whose role members are enumerable, and appoints one arbiter", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { verifier } = f;
      expect(await verifier.getRoleMemberCount(ROLES.DEFAULT_ADMIN)).to.equal(1n);
      expect(await verifier.getRoleMember(ROLES.DEFAULT_ADMIN, 0)).to.equal(await f.timelock.getAddress());
      expect(await verifier.getRoleMembers(ROLES.ARBITER)).to.deep.equal([f.arbiter.address]);
      expect(await verifier.threshold()).to.equal(1n);
      expect(await verifier.coordinator()).to.equal(await f.jobCoordinator.getAddress());
    });

    it("wires the job lifecycle: the coordinator's dispute module, the module's verifier, and a slashable window of challenge window + dispute timeout", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { jobCoordinator, disputeModule, verifier, providerRegistry } = f;
      const coordinatorAddress = await jobCoordinator.getAddress();
      expect(await jobCoordinator.disputeModule()).to.equal(await disputeModule.getAddress());
      expect(await disputeModule.coordinator()).to.equal(coordinatorAddress);
      expect(await disputeModule.providers()).to.equal(await providerRegistry.getAddress());
      expect(await disputeModule.verifier()).to.equal(await verifier.getAddress());
      expect(await jobCoordinator.challengeWindow()).to.equal(CHALLENGE_WINDOW);
      expect(await disputeModule.disputeTimeout()).to.equal(DISPUTE_TIMEOUT);
      // The registry reads the window from the coordinator, its slashing-window source.
      expect(await jobCoordinator.slashableWindow()).to.equal(CHALLENGE_WINDOW + DISPUTE_TIMEOUT);
      expect(await providerRegistry.slashableWindow()).to.equal(HOUR + DAY);
      expect(await providerRegistry.unbondingPeriod()).to.be.greaterThanOrEqual(HOUR + DAY);
    });

    it("gives the coordinator and the dispute module exactly the roles the job lifecycle needs", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const coordinator = await f.jobCoordinator.getAddress();
      const dispute = await f.disputeModule.getAddress();
      expect(await f.providerRegistry.hasRole(ROLES.COORDINATOR, coordinator)).to.equal(true);
      expect(await f.providerRegistry.hasRole(ROLES.SLASHER, coordinator)).to.equal(true);
      expect(await f.voucherMarket.hasRole(ROLES.REDEEMER, coordinator)).to.equal(true);
      expect(await f.dailyCredit.hasRole(ROLES.SPENDER, coordinator)).to.equal(true);
      expect(await f.computeCredit.hasRole(ROLES.PROTOCOL, coordinator)).to.equal(true);
      expect(await f.engine.hasRole(ROLES.COORDINATOR, coordinator)).to.equal(true);
      expect(await f.providerRegistry.hasRole(ROLES.SLASHER, dispute)).to.equal(true);
      expect(await f.jobCoordinator.hasRole(ROLES.DISPUTE, dispute)).to.equal(true);
      // ...and nothing more: the dispute module cannot settle jobs, the coordinator cannot resolve disputes.
      expect(await f.providerRegistry.hasRole(ROLES.COORDINATOR, dispute)).to.equal(false);
      expect(await f.jobCoordinator.hasRole(ROLES.DISPUTE, coordinator)).to.equal(false);

      // The roles work end to end: the fixture's voucher job settled and its provider is owed 2 vouchers' principal
      // less the protocol fee (rounded up), while 1 voucher of the open job sits in the coordinator's custody.
      const principal = 2n * VOUCHER_PRICE;
      const fee = (principal * PROTOCOL_FEE_BPS + 9_999n) / 10_000n;
      const usdc = await f.usdc.getAddress();
      expect(await f.voucherMarket.owed(f.provider.address, usdc)).to.equal(principal - fee);
      expect(await f.voucherMarket.balanceOf(coordinator, f.classId)).to.equal(1n);
      expect((await f.providerRegistry.getProvider(f.provider.address)).openJobs).to.equal(0n);
    });

    it("gives the guardian GUARDIAN_ROLE on the pausable modules only", async () => {
      const f = await loadFixture(governedProtocolFixture);
      for (const name of MODULES) {
        const pausable = (PAUSABLE as readonly string[]).includes(name);
        expect(await f[name].hasRole(ROLES.GUARDIAN, f.guardian.address), name).to.equal(pausable);
      }
    });

    it("wires exactly the protocol roles between modules and grants no role to any other account", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const candidates: Record<string, string> = {
        deployer: f.deployer.address,
        guardian: f.guardian.address,
        proposer: f.proposer.address,
        arbiter: f.arbiter.address,
        alice: f.alice.address,
        provider: f.provider.address,
        exitingProvider: f.exitingProvider.address,
        coordinatorEOA: f.coordinator.address,
        outsider: f.outsider.address,
        timelock: await f.timelock.getAddress(),
        zero: ZeroAddress,
      };
      for (const name of MODULES) candidates[name] = await f[name].getAddress();
      const entries = Object.entries(candidates);

      for (const name of MODULES) {
        for (const role of ROLE_NAMES) {
          const held = await Promise.all(entries.map(([, address]) => f[name].hasRole(ROLES[role], address)));
          const holders = entries.filter((_, i) => held[i]).map(([who]) => who);
          expect(holders.sort(), `${name} ${role}_ROLE`).to.deep.equal(
            [...(ROLE_MAP[name][role] ?? [])].sort(),
          );
        }
      }
    });

    it("lets only the engine mint the protocol token", async () => {
      const f = await loadFixture(governedProtocolFixture);
      expect(await f.token.MINTER_ROLE()).to.equal(ROLES.MINTER);
      expect(await f.token.hasRole(ROLES.MINTER, await f.engine.getAddress())).to.equal(true);
      for (const s of await ethers.getSigners()) {
        expect(await f.token.hasRole(ROLES.MINTER, s.address), s.address).to.equal(false);
        await expect(f.token.connect(s).mint(s.address, 1))
          .to.be.revertedWithCustomError(f.token, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.MINTER);
      }
      expect(await f.token.hasRole(ROLES.MINTER, await f.timelock.getAddress())).to.equal(false);
    });

    it("configures the timelock: the parameter delay, proposer proposes and cancels, the guardian only cancels, anyone executes, self-administered", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const tl = f.timelock;
      const [proposerRole, cancellerRole, executorRole] = await Promise.all([
        tl.PROPOSER_ROLE(),
        tl.CANCELLER_ROLE(),
        tl.EXECUTOR_ROLE(),
      ]);
      expect(await tl.getMinDelay()).to.equal(TIMELOCK_DELAY);
      expect(await tl.hasRole(proposerRole, f.proposer.address)).to.equal(true);
      expect(await tl.hasRole(cancellerRole, f.proposer.address)).to.equal(true);
      expect(await tl.hasRole(executorRole, ZeroAddress)).to.equal(true);
      expect(await tl.hasRole(ROLES.DEFAULT_ADMIN, await tl.getAddress())).to.equal(true);
      for (const eoa of [f.deployer, f.guardian, f.proposer]) {
        expect(await tl.hasRole(ROLES.DEFAULT_ADMIN, eoa.address), eoa.address).to.equal(false);
      }
      expect(await tl.hasRole(cancellerRole, f.guardian.address)).to.equal(true);
      for (const eoa of [f.deployer, f.guardian]) {
        expect(await tl.hasRole(proposerRole, eoa.address), eoa.address).to.equal(false);
      }
      expect(await tl.hasRole(cancellerRole, f.deployer.address)).to.equal(false);
    });
  });

  describe("timelock flow", () => {
    it("executes a scheduled parameter change only once minDelay has passed, and then it takes effect", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const call = await encode(f.engine, "setMintSpreadBps", [50]);
      const op = await schedule(f, [call]);
      const readyAt = await f.timelock.getTimestamp(op.id);
      expect(readyAt).to.equal(BigInt(await time.latest()) + TIMELOCK_DELAY);

      await expect(execute(f, op))
        .to.be.revertedWithCustomError(f.timelock, "TimelockUnexpectedOperationState")
        .withArgs(op.id, expectedState("Ready"));
      await time.setNextBlockTimestamp(readyAt - 1n);
      await expect(execute(f, op))
        .to.be.revertedWithCustomError(f.timelock, "TimelockUnexpectedOperationState")
        .withArgs(op.id, expectedState("Ready"));
      expect((await f.engine.config()).mintSpreadBps).to.equal(25n);

      await time.setNextBlockTimestamp(readyAt);
      await expect(execute(f, op))
        .to.emit(f.timelock, "CallExecuted")
        .withArgs(op.id, 0, call.target, 0, call.data);
      expect((await f.engine.config()).mintSpreadBps).to.equal(50n);
      expect(await f.timelock.isOperationDone(op.id)).to.equal(true);
      await expect(execute(f, op))
        .to.be.revertedWithCustomError(f.timelock, "TimelockUnexpectedOperationState")
        .withArgs(op.id, expectedState("Ready"));
    });

    it("refuses to schedule with a delay below minDelay", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const call = await encode(f.engine, "setMintSpreadBps", [50]);
      await expect(schedule(f, [call], f.proposer, TIMELOCK_DELAY - 1n))
        .to.be.revertedWithCustomError(f.timelock, "TimelockInsufficientDelay")
        .withArgs(TIMELOCK_DELAY - 1n, TIMELOCK_DELAY);
    });

    it("applies model, bond and curve changes in one timelocked batch", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const modelId = id("qwen2.5-0.5b");
      await govern(f, [
        await encode(f.modelRegistry, "registerModel", [
          modelId,
          WEIGHTS_HASH,
          "Qwen",
          "ipfs://q",
          "1k tokens",
        ]),
        await encode(f.providerRegistry, "setMinBond", [5_000n * WAD]),
        await encode(f.dailyCredit, "setCurve", [100n * WAD, 3n * WAD, 40_000n * WAD]),
      ]);
      expect(await f.modelRegistry.isActive(modelId)).to.equal(true);
      expect((await f.modelRegistry.getModel(modelId)).weightsHash).to.equal(WEIGHTS_HASH);
      expect(await f.providerRegistry.minBond()).to.equal(5_000n * WAD);
      expect(await f.dailyCredit.curve()).to.deep.equal([100n * WAD, 3n * WAD, 40_000n * WAD]);
    });

    it("rejects the same setters called directly by the deployer, the guardian or the proposer", async () => {
      const f = await loadFixture(governedProtocolFixture);
      for (const eoa of [f.deployer, f.guardian, f.proposer]) {
        await expect(f.engine.connect(eoa).setMintSpreadBps(50))
          .to.be.revertedWithCustomError(f.engine, "AccessControlUnauthorizedAccount")
          .withArgs(eoa.address, ROLES.DEFAULT_ADMIN);
        await expect(
          f.modelRegistry.connect(eoa).registerModel(id("m"), WEIGHTS_HASH, "M", "ipfs://m", "1k tokens"),
        )
          .to.be.revertedWithCustomError(f.modelRegistry, "AccessControlUnauthorizedAccount")
          .withArgs(eoa.address, ROLES.DEFAULT_ADMIN);
        await expect(f.providerRegistry.connect(eoa).setMinBond(5_000n * WAD))
          .to.be.revertedWithCustomError(f.providerRegistry, "AccessControlUnauthorizedAccount")
          .withArgs(eoa.address, ROLES.DEFAULT_ADMIN);
        await expect(f.dailyCredit.connect(eoa).setCurve(100n * WAD, 3n * WAD, 40_000n * WAD))
          .to.be.revertedWithCustomError(f.dailyCredit, "AccessControlUnauthorizedAccount")
          .withArgs(eoa.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("lets no one but the proposer schedule", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const call = await encode(f.engine, "setMintSpreadBps", [50]);
      const proposerRole = await f.timelock.PROPOSER_ROLE();
      for (const s of [f.deployer, f.guardian, f.outsider]) {
        await expect(schedule(f, [call], s))
          .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, proposerRole);
      }
    });

    it("never executes a cancelled operation, and only the proposer or the guardian can cancel", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const op = await schedule(f, [await encode(f.engine, "setMintSpreadBps", [50])]);
      const cancellerRole = await f.timelock.CANCELLER_ROLE();
      for (const s of [f.deployer, f.outsider]) {
        await expect(f.timelock.connect(s).cancel(op.id))
          .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, cancellerRole);
      }
      await expect(f.timelock.connect(f.proposer).cancel(op.id))
        .to.emit(f.timelock, "Cancelled")
        .withArgs(op.id);
      await time.increase(TIMELOCK_DELAY);
      await expect(execute(f, op))
        .to.be.revertedWithCustomError(f.timelock, "TimelockUnexpectedOperationState")
        .withArgs(op.id, expectedState("Ready"));
      expect((await f.engine.config()).mintSpreadBps).to.equal(25n);
    });

    it("grants a new module role (REDEEMER_ROLE to the coordinator) only through the timelock", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const coordinator = f.coordinator.address;
      await expect(f.voucherMarket.connect(f.deployer).grantRole(ROLES.REDEEMER, coordinator))
        .to.be.revertedWithCustomError(f.voucherMarket, "AccessControlUnauthorizedAccount")
        .withArgs(f.deployer.address, ROLES.DEFAULT_ADMIN);

      const op = await schedule(f, [
        await encode(f.voucherMarket, "grantRole", [ROLES.REDEEMER, coordinator]),
      ]);
      await expect(execute(f, op)).to.be.revertedWithCustomError(
        f.timelock,
        "TimelockUnexpectedOperationState",
      );
      await time.increase(TIMELOCK_DELAY);
      await expect(execute(f, op))
        .to.emit(f.voucherMarket, "RoleGranted")
        .withArgs(ROLES.REDEEMER, coordinator, await f.timelock.getAddress());

      // The new role works: the coordinator redeems the vouchers alice approved it for.
      await f.voucherMarket.connect(f.alice).setApprovalForAll(coordinator, true);
      const held = await f.voucherMarket.balanceOf(f.alice.address, f.classId);
      await expect(
        f.voucherMarket.connect(f.coordinator).redeem(f.alice.address, f.classId, 1, f.provider.address),
      ).to.emit(f.voucherMarket, "VouchersRedeemed");
      expect(await f.voucherMarket.balanceOf(f.alice.address, f.classId)).to.equal(held - 1n);
    });

    it("changes the timelock's own delay only through a timelocked call to itself", async () => {
      const f = await loadFixture(governedProtocolFixture);
      await expect(f.timelock.connect(f.proposer).updateDelay(10n * DAY))
        .to.be.revertedWithCustomError(f.timelock, "TimelockUnauthorizedCaller")
        .withArgs(f.proposer.address);
      await govern(f, [await encode(f.timelock, "updateDelay", [10n * DAY])]);
      expect(await f.timelock.getMinDelay()).to.equal(10n * DAY);
    });
  });

  describe("guardian", () => {
    for (const name of PAUSABLE) {
      it(`can pause the ${name} at once but never unpause it`, async () => {
        const f = await loadFixture(governedProtocolFixture);
        const m = f[name];
        await expect(m.connect(f.outsider).pause())
          .to.be.revertedWithCustomError(m, "AccessControlUnauthorizedAccount")
          .withArgs(f.outsider.address, ROLES.GUARDIAN);
        await expect(m.connect(f.guardian).pause()).to.emit(m, "Paused").withArgs(f.guardian.address);
        expect(await m.paused()).to.equal(true);
        for (const s of [f.guardian, f.deployer, f.proposer]) {
          await expect(m.connect(s).unpause())
            .to.be.revertedWithCustomError(m, "AccessControlUnauthorizedAccount")
            .withArgs(s.address, ROLES.DEFAULT_ADMIN);
        }
        expect(await m.paused()).to.equal(true);
      });
    }

    it("lifts a pause on any module only through the timelock", async () => {
      const f = await loadFixture(governedProtocolFixture);
      for (const name of PAUSABLE) await f[name].connect(f.guardian).pause();
      const op = await schedule(f, await Promise.all(PAUSABLE.map((name) => encode(f[name], "unpause", []))));
      await time.increase(TIMELOCK_DELAY);
      const tx = execute(f, op);
      for (const name of PAUSABLE) {
        await expect(tx)
          .to.emit(f[name], "Unpaused")
          .withArgs(await f.timelock.getAddress());
        expect(await f[name].paused(), name).to.equal(false);
      }
    });

    it("leaves vault exits open while it is paused: request unstake, withdraw, claim", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { vault, alice } = f;
      await vault.connect(f.guardian).pause();
      await expect(vault.connect(alice).stake(WAD)).to.be.revertedWithCustomError(vault, "EnforcedPause");

      await expect(vault.connect(alice).requestUnstake(1_000n * WAD)).to.emit(vault, "UnstakeRequested");
      await time.increase(UNSTAKE_COOLDOWN);
      await expect(vault.connect(alice).withdraw())
        .to.emit(vault, "Withdrawn")
        .withArgs(alice.address, 11_000n * WAD);
      await expect(vault.connect(alice).claim()).not.to.be.reverted;
    });

    it("leaves daily credit burns (and transfers) open while it is paused", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { dailyCredit, vault, alice } = f;
      await dailyCredit.connect(f.guardian).pause();
      await expect(dailyCredit.connect(alice).mint(WAD, MaxUint256)).to.be.revertedWithCustomError(
        dailyCredit,
        "EnforcedPause",
      );
      await expect(dailyCredit.connect(alice).transfer(f.outsider.address, WAD)).not.to.be.reverted;
      const locked = await vault.lockedOf(alice.address);
      const unlocked = (locked * 99n) / 100n; // pro rata, rounded down
      await expect(dailyCredit.connect(alice).burn(99n * WAD))
        .to.emit(dailyCredit, "CreditBurned")
        .withArgs(alice.address, 99n * WAD, unlocked);
      expect(await vault.lockedOf(alice.address)).to.equal(locked - unlocked);
    });

    it("halts both engine conversions while it is paused but still distributes emissions", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { engine, alice } = f;
      await engine.connect(f.guardian).pause();
      await expect(engine.connect(alice).mintCredits(WAD, 0, alice.address)).to.be.revertedWithCustomError(
        engine,
        "EnforcedPause",
      );
      await expect(engine.connect(alice).redeem(WAD, 0, alice.address)).to.be.revertedWithCustomError(
        engine,
        "EnforcedPause",
      );
      await expect(engine.distribute(await engine.genesisEpoch())).to.emit(engine, "EmissionDistributed");
    });

    it("leaves provider exits open while the registry is paused: request exit, withdraw bond", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { providerRegistry, provider, exitingProvider } = f;
      await providerRegistry.connect(f.guardian).pause();
      await expect(
        providerRegistry.connect(f.outsider).register(BOND, "", f.outsider.address, [], []),
      ).to.be.revertedWithCustomError(providerRegistry, "EnforcedPause");

      await expect(providerRegistry.connect(provider).requestExit()).to.emit(
        providerRegistry,
        "ExitRequested",
      );
      await time.increase(UNBONDING_PERIOD);
      await expect(providerRegistry.connect(exitingProvider).withdrawBond())
        .to.emit(providerRegistry, "BondWithdrawn")
        .withArgs(exitingProvider.address, BOND);
    });

    it("leaves a requester's cancel open while the coordinator is paused, and provider payouts while the market is", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { jobCoordinator, voucherMarket, alice, provider } = f;
      await jobCoordinator.connect(f.guardian).pause();
      await voucherMarket.connect(f.guardian).pause();
      await expect(jobCoordinator.connect(provider).acceptJob(f.openJob)).to.be.revertedWithCustomError(
        jobCoordinator,
        "EnforcedPause",
      );
      const held = await voucherMarket.balanceOf(alice.address, f.classId);
      await expect(jobCoordinator.connect(alice).cancel(f.openJob)).to.emit(jobCoordinator, "JobCancelled");
      expect(await voucherMarket.balanceOf(alice.address, f.classId)).to.equal(held + 1n);

      const owed = await voucherMarket.owed(provider.address, await f.usdc.getAddress());
      expect(owed).to.be.greaterThan(0n);
      await expect(voucherMarket.withdraw(provider.address, await f.usdc.getAddress())).to.changeTokenBalance(
        f.usdc,
        provider,
        owed,
      );
    });

    it("leaves voucher reclaims (and transfers) open while the market is paused", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { voucherMarket, alice } = f;
      await voucherMarket.connect(f.guardian).pause();
      await expect(
        voucherMarket.connect(alice).buy(f.classId, 1, MaxUint256, alice.address),
      ).to.be.revertedWithCustomError(voucherMarket, "EnforcedPause");
      await expect(
        voucherMarket.connect(alice).safeTransferFrom(alice.address, f.outsider.address, f.classId, 1, "0x"),
      ).not.to.be.reverted;

      await time.increaseTo(f.expiry);
      await expect(voucherMarket.connect(alice).reclaim(f.expiringClassId, 5)).to.changeTokenBalances(
        f.usdc,
        [alice, voucherMarket],
        [5n * VOUCHER_PRICE, -5n * VOUCHER_PRICE],
      );
    });
  });

  describe("no admin path to user funds", () => {
    it("restricts exactly the listed functions of every module to DEFAULT_ADMIN_ROLE", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const calls = await adminCalls(f);
      for (const name of MODULES) {
        const admin = [...new Set(calls[name].map(([fn]) => fn))];
        expect([...admin, ...NOT_ADMIN[name]].sort(), `${name}: review new functions`).to.deep.equal(
          mutatingFunctions(f[name]),
        );
        for (const [fn, args] of calls[name]) {
          const { target, data } = await encode(f[name], fn, args);
          await expect(f.outsider.sendTransaction({ to: target, data }), `${name}.${fn}`)
            .to.be.revertedWithCustomError(f[name], "AccessControlUnauthorizedAccount")
            .withArgs(f.outsider.address, ROLES.DEFAULT_ADMIN);
        }
      }
    });

    it("moves no user balance in any module when the timelock executes every admin function", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const calls = await adminCalls(f);
      for (const name of PAUSABLE) await f[name].connect(f.guardian).pause(); // so that `unpause` is valid

      const ops: [string, Operation][] = [];
      for (const name of MODULES) {
        for (const [fn, args] of calls[name]) {
          ops.push([`${name}.${fn}`, await schedule(f, [await encode(f[name], fn, args)])]);
        }
      }
      await time.increase(TIMELOCK_DELAY);

      const before = await holdings(f);
      for (const [label, op] of ops) {
        await expect(execute(f, op), label).to.emit(f.timelock, "CallExecuted");
        expect(await holdings(f), `after ${label}`).to.deep.equal(before);
      }
    });

    // DEFAULT_ADMIN_ROLE administers the fund-moving module roles (SLASHER, COORDINATOR and LOCKER, ENGINE on
    // ComputeCredit, SPENDER). A malicious proposal granting one of them is stopped by time and veto: the
    // delay always exceeds the longest exit, and the guardian can cancel.
    it("lets a provider unbond and withdraw its whole bond before a queued slashing proposal can run", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { providerRegistry, provider, outsider } = f;
      const op = await schedule(f, [
        await encode(providerRegistry, "grantRole", [ROLES.SLASHER, await f.timelock.getAddress()]),
        await encode(providerRegistry, "slash", [provider.address, BOND, outsider.address]),
      ]);
      await providerRegistry.connect(provider).requestExit(); // the provider reacts at once
      const { unbondingEnds } = await providerRegistry.getProvider(provider.address);
      const readyAt = await f.timelock.getTimestamp(op.id);
      expect(unbondingEnds).to.be.lessThan(readyAt);

      await time.increaseTo(unbondingEnds);
      await expect(providerRegistry.connect(provider).withdrawBond())
        .to.emit(providerRegistry, "BondWithdrawn")
        .withArgs(provider.address, BOND);
      await time.increaseTo(readyAt);
      await expect(execute(f, op)).to.changeTokenBalance(f.token, outsider, 0n);
    });

    it("lets the guardian veto a queued proposal", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const { providerRegistry, provider, outsider, guardian } = f;
      const op = await schedule(f, [
        await encode(providerRegistry, "grantRole", [ROLES.SLASHER, await f.timelock.getAddress()]),
        await encode(providerRegistry, "slash", [provider.address, BOND, outsider.address]),
      ]);
      expect(await f.timelock.hasRole(await f.timelock.CANCELLER_ROLE(), guardian.address)).to.equal(true);
      await expect(f.timelock.connect(guardian).cancel(op.id))
        .to.emit(f.timelock, "Cancelled")
        .withArgs(op.id);
      await time.increase(TIMELOCK_DELAY);
      await expect(execute(f, op)).to.be.revertedWithCustomError(
        f.timelock,
        "TimelockUnexpectedOperationState",
      );
    });

    it("keeps the delay above the longest exit, at deployment and on every update", async () => {
      const f = await loadFixture(governedProtocolFixture);
      const floor = await f.timelock.EXIT_FLOOR();
      expect(floor).to.equal(7n * DAY); // max(unstake cooldown 7 days, unbonding 7 days)
      const factory = await ethers.getContractFactory("CinderTimelock");
      await expect(factory.deploy(7n * DAY, [], [], [], [7n * DAY, 3n * DAY]))
        .to.be.revertedWithCustomError(factory, "DelayNotAboveExitFloor")
        .withArgs(7n * DAY, 7n * DAY);
      const lowered = await schedule(f, [await encode(f.timelock, "updateDelay", [floor])]);
      await time.increase(TIMELOCK_DELAY);
      await expect(execute(f, lowered)).to.be.revertedWithCustomError(f.timelock, "DelayNotAboveExitFloor");
    });
  });
});
