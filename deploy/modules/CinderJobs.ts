import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CinderMarket from "./CinderMarket";
import { ROLES } from "./CinderCore";

const WAD = 10n ** 18n;
const HOUR = 3600n;
const DAY = 24n * HOUR;

/**
 * The job lifecycle on top of the market: JobCoordinator (escrowed jobs, attested results, batch settlement),
 * ArbiterCommitteeVerifier (M-of-N arbiters) and DisputeModule (challenges, fault slashing), with every role
 * they need:
 * - coordinator: ProviderRegistry COORDINATOR + SLASHER (late slashes), VoucherMarket REDEEMER, DailyCredit
 *   SPENDER, ComputeCredit PROTOCOL, BurnMintEngine COORDINATOR; it is the registry's slashing-window source;
 * - dispute module: ProviderRegistry SLASHER, the coordinator's DISPUTE_ROLE (through `setDisputeModule`);
 * - arbiters: the verifier's ARBITER_ROLE.
 * Defaults: 1-hour challenge window, 1-day dispute timeout (together well inside the 7-day unbonding),
 * jobs of 1 minute to 1 day, 1 token of collateral per USD of job value, 10 % late slash, 100-token challenger
 * bond, 10 % fault slash with half to the finder, 30-day jail, one arbiter (parameter `arbiter`, default the
 * deployer) with threshold 1.
 */
export default buildModule("CinderJobs", (m) => {
  const market = m.useModule(CinderMarket);
  const admin = m.getParameter("admin", m.getAccount(0));

  const jobCoordinator = m.contract("JobCoordinator", [
    market.providerRegistry,
    market.voucherMarket,
    market.dailyCredit,
    market.computeCredit,
    market.engine,
    admin,
    {
      challengeWindow: m.getParameter("challengeWindow", HOUR),
      minJobDuration: m.getParameter("minJobDuration", 60n),
      maxJobDuration: m.getParameter("maxJobDuration", DAY),
      collateralPerUsd: m.getParameter("collateralPerUsd", WAD),
      lateSlashBps: m.getParameter("lateSlashBps", 1_000n),
    },
  ]);
  const verifier = m.contract("ArbiterCommitteeVerifier", [
    jobCoordinator,
    admin,
    m.getParameter("arbiterThreshold", 1n),
  ]);
  const disputeModule = m.contract("DisputeModule", [
    jobCoordinator,
    market.providerRegistry,
    verifier,
    admin,
    {
      challengeBond: m.getParameter("challengeBond", 100n * WAD),
      disputeTimeout: m.getParameter("disputeTimeout", DAY),
      faultSlashBps: m.getParameter("faultSlashBps", 1_000n),
      finderFeeBps: m.getParameter("finderFeeBps", 5_000n),
      jailDuration: m.getParameter("jailDuration", 30n * DAY),
    },
  ]);

  const grants = [
    ["registry_coordinator", market.providerRegistry, ROLES.COORDINATOR, jobCoordinator],
    ["registry_slasher_coordinator", market.providerRegistry, ROLES.SLASHER, jobCoordinator],
    ["registry_slasher_dispute", market.providerRegistry, ROLES.SLASHER, disputeModule],
    ["market_redeemer", market.voucherMarket, ROLES.REDEEMER, jobCoordinator],
    ["daily_spender", market.dailyCredit, ROLES.SPENDER, jobCoordinator],
    ["credit_protocol", market.computeCredit, ROLES.PROTOCOL, jobCoordinator],
    ["engine_coordinator", market.engine, ROLES.COORDINATOR, jobCoordinator],
  ];
  for (const [id, contract, role, account] of grants) {
    m.call(
      contract as typeof market.engine,
      "grantRole",
      [role as string, account as typeof jobCoordinator],
      {
        id: id as string,
      },
    );
  }

  m.call(jobCoordinator, "setDisputeModule", [disputeModule]);
  m.call(market.providerRegistry, "setSlashingWindowSource", [jobCoordinator], {
    id: "registry_window_source",
  });
  // The first arbiter; more are appointed (and the threshold raised) through the timelock.
  m.call(verifier, "grantRole", [ROLES.ARBITER, m.getParameter("arbiter", m.getAccount(0))], {
    id: "verifier_arbiter",
  });

  return { ...market, jobCoordinator, disputeModule, verifier };
});
