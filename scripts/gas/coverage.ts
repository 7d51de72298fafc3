/**
 * "Every user-facing function" made checkable: each state-changing function in the ABI of a Cinder contract is
 * either measured by a row of the benchmark or listed here with the reason it has no row of its own. A new
 * external function fails the benchmark until it gets a row or a reason.
 */
import { artifacts } from "hardhat";

export const CONTRACTS = [
  "ProtocolToken",
  "StakingVault",
  "DailyCredit",
  "ComputeCredit",
  "BurnMintEngine",
  "VoucherMarket",
  "ProviderRegistry",
  "ModelRegistry",
  "JobCoordinator",
  "DisputeModule",
  "ArbiterCommitteeVerifier",
] as const;

const GOVERNANCE = "governance (DEFAULT_ADMIN_ROLE, the timelock): a parameter, not a user path";
const ROLES = "AccessControl role management (governance)";
const PAUSE = "GuardianPausable emergency switch (guardian pauses, governance unpauses)";

/** Functions with no row of their own, by contract, with the reason. */
export const EXCLUDED: Record<string, Record<string, string>> = {
  "*": { grantRole: ROLES, revokeRole: ROLES, renounceRole: ROLES, pause: PAUSE, unpause: PAUSE },
  ProtocolToken: {
    mint: "MINTER_ROLE (the engine): inside BurnMintEngine.redeem and distribute",
  },
  StakingVault: {
    notifyReward: "REWARDER_ROLE (the engine): inside BurnMintEngine.distribute",
    lock: "LOCKER_ROLE (DailyCredit): inside DailyCredit.mint",
    unlock: "LOCKER_ROLE (DailyCredit): inside DailyCredit.burn",
    setCooldown: GOVERNANCE,
    setRewardPeriod: GOVERNANCE,
  },
  DailyCredit: {
    spend: "SPENDER_ROLE (the coordinator): inside requestJob (DailyCredit)",
    refund: "SPENDER_ROLE (the coordinator): inside finalize / cancel (DailyCredit)",
    setCurve: GOVERNANCE,
  },
  ComputeCredit: {
    mint: "ENGINE_ROLE: inside BurnMintEngine.mintCredits",
    burn: "ENGINE_ROLE: inside BurnMintEngine.redeem",
    transfer:
      "users cannot transfer credit to each other (a PROTOCOL_ROLE contract must be a party): the coordinator's transfers are inside finalize / cancel (ComputeCredit)",
    transferFrom:
      "only to a PROTOCOL_ROLE contract: the coordinator's pull is inside requestJob (ComputeCredit)",
  },
  BurnMintEngine: {
    recordWork: "COORDINATOR_ROLE: inside finalize / finalizeBatch",
    mintSubsidisedCredits: "COORDINATOR_ROLE: inside requestJob (DailyCredit)",
    returnSubsidisedCredits: "COORDINATOR_ROLE: inside finalize / cancel (DailyCredit)",
    recordVoucherRevenue: "REPORTER_ROLE (the market): inside finalize (voucher)",
    setEpochMintCap: GOVERNANCE,
    setMintSpreadBps: GOVERNANCE,
    setOracle: GOVERNANCE,
    setStakerShareBps: GOVERNANCE,
    setSubsidyBudgetUsd: GOVERNANCE,
    setTreasury: GOVERNANCE,
  },
  VoucherMarket: {
    escrowForJob: "REDEEMER_ROLE (the coordinator): inside requestJob (voucher)",
    returnEscrow: "REDEEMER_ROLE (the coordinator): inside cancel (voucher) and finalize",
    redeem: "REDEEMER_ROLE (the coordinator): inside finalize (voucher) and finalizeBatch",
    setProtocolFeeBps: GOVERNANCE,
    setTreasury: GOVERNANCE,
  },
  ProviderRegistry: {
    lockCollateral: "COORDINATOR_ROLE: inside acceptJob",
    releaseCollateral: "COORDINATOR_ROLE: inside finalize, expire and resolve",
    slash: "SLASHER_ROLE: inside expire (late slash) and resolve (fault upheld)",
    jail: "SLASHER_ROLE: inside resolve (fault upheld)",
    setMinBond: GOVERNANCE,
    setUnbondingPeriod: GOVERNANCE,
    setSlashingWindowSource: GOVERNANCE,
  },
  ModelRegistry: {},
  JobCoordinator: {
    markChallenged: "DISPUTE_ROLE (the dispute module): inside DisputeModule.challenge",
    resolveChallenge: "DISPUTE_ROLE (the dispute module): inside DisputeModule.resolve",
    setChallengeWindow: GOVERNANCE,
    setCollateralPerUsd: GOVERNANCE,
    setDisputeModule: GOVERNANCE,
    setJobDurationBounds: GOVERNANCE,
    setLateSlashBps: GOVERNANCE,
  },
  DisputeModule: {
    setChallengeBond: GOVERNANCE,
    setDisputeTimeout: GOVERNANCE,
    setJailDuration: GOVERNANCE,
    setSlashing: GOVERNANCE,
    setVerifier: GOVERNANCE,
  },
  ArbiterCommitteeVerifier: { setThreshold: GOVERNANCE },
};

/** State-changing functions of `contract`'s ABI. */
async function mutating(contract: string) {
  const { abi } = await artifacts.readArtifact(contract);
  return new Set(
    (abi as { type: string; name?: string; stateMutability?: string }[])
      .filter((f) => f.type === "function" && f.stateMutability !== "view" && f.stateMutability !== "pure")
      .map((f) => f.name!),
  );
}

/**
 * Problems with the coverage of `measured` (`Contract.function` names): functions with neither a row nor a
 * reason, rows naming no such function, reasons for functions that no longer exist or that have a row.
 */
export async function coverageProblems(measured: Iterable<string>) {
  const problems: string[] = [];
  const rows = new Set(measured);
  const known = new Set<string>();
  for (const contract of CONTRACTS) {
    const fns = await mutating(contract);
    const excluded = { ...EXCLUDED["*"], ...EXCLUDED[contract] };
    for (const fn of fns) {
      const key = `${contract}.${fn}`;
      known.add(key);
      const reason = excluded[fn];
      if (rows.has(key) && reason && !(fn in EXCLUDED["*"])) {
        problems.push(`${key} has a row and an exclusion reason: drop one`);
      }
      if (!rows.has(key) && !reason) problems.push(`${key} is neither measured nor excluded with a reason`);
    }
    for (const fn of Object.keys(EXCLUDED[contract] ?? {})) {
      if (!fns.has(fn)) problems.push(`${contract}.${fn} is excluded but not in the ABI any more`);
    }
  }
  for (const key of rows) if (!known.has(key)) problems.push(`row measures ${key}, which is not in the ABIs`);
  return problems;
}

/** State-changing functions by how they are covered: own row, inside a user row, governance (no row). */
export async function coverageSummary(measured: Iterable<string>) {
  const rows = new Set(measured);
  const summary = { total: 0, measured: 0, inside: 0, governance: 0 };
  for (const contract of CONTRACTS) {
    for (const fn of await mutating(contract)) {
      ++summary.total;
      const reason = EXCLUDED[contract]?.[fn] ?? EXCLUDED["*"][fn];
      if (rows.has(`${contract}.${fn}`)) ++summary.measured;
      else if (reason === GOVERNANCE || reason === ROLES || reason === PAUSE) ++summary.governance;
      else if (reason) ++summary.inside;
    }
  }
  return summary;
}
