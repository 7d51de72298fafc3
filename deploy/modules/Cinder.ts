import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { IgnitionModule, IgnitionModuleResult } from "@nomicfoundation/ignition-core";
import { ROLES } from "./CinderCore";
import CinderJobs from "./CinderJobs";

/**
 * The whole protocol under governance: deploys everything (CinderJobs and the modules below it), a
 * CinderTimelock (OpenZeppelin TimelockController) and hands every module over to it. For each module
 * the timelock receives DEFAULT_ADMIN_ROLE, the guardian GUARDIAN_ROLE (pause, not unpause) where the
 * module can pause, and the deployer renounces its admin role last, so afterwards no EOA holds an admin
 * role anywhere: every change waits `timelockDelay` (default 8 days, always longer than the unstake
 * cooldown and the unbonding period) in public, and the guardian can cancel it.
 * The sub-modules' `admin` parameter must be left at the deployer (account 0), who performs the hand-over.
 * `governed(id, base)` builds the same hand-over on top of any module that extends CinderJobs (CinderLocal
 * adds a local genesis: a mock stablecoin, the demo model and a voucher class, set up before the hand-over).
 */
export function governed<R extends IgnitionModuleResult<string> & JobsResult>(
  id: string,
  base: IgnitionModule<string, string, R>,
) {
  return buildModule(id, (m) => {
    const market = m.useModule(base);
    const deployer = m.getAccount(0);

    const guardian = m.getParameter("guardian", deployer);
    // The delay must exceed the longest exit (the timelock checks it against the values used below), so
    // a user who sees a proposal queued can always leave before it runs; the guardian may veto (cancel).
    const timelock = m.contract("CinderTimelock", [
      m.getParameter("timelockDelay", 8n * 24n * 3600n),
      [m.getParameter("proposer", deployer)],
      [m.getParameter("executor", "0x0000000000000000000000000000000000000000")],
      [guardian],
      [
        m.staticCall(market.vault, "cooldown", [], 0, { id: "read_unstake_cooldown" }),
        m.staticCall(market.providerRegistry, "unbondingPeriod", [], 0, { id: "read_unbonding_period" }),
      ],
    ]);

    const pausable = {
      vault: market.vault,
      dailyCredit: market.dailyCredit,
      engine: market.engine,
      providerRegistry: market.providerRegistry,
      voucherMarket: market.voucherMarket,
      jobCoordinator: market.jobCoordinator,
    };
    const adminOnly = {
      token: market.token,
      computeCredit: market.computeCredit,
      oracle: market.oracle,
      modelRegistry: market.modelRegistry,
      verifier: market.verifier,
      disputeModule: market.disputeModule,
    };

    for (const [name, contract] of Object.entries({ ...pausable, ...adminOnly })) {
      const handover = [
        m.call(contract, "grantRole", [ROLES.DEFAULT_ADMIN, timelock], { id: `${name}_admin_to_timelock` }),
      ];
      if (name in pausable) {
        handover.push(m.call(contract, "grantRole", [ROLES.GUARDIAN, guardian], { id: `${name}_guardian` }));
      }
      m.call(contract, "renounceRole", [ROLES.DEFAULT_ADMIN, deployer], {
        id: `${name}_deployer_renounces_admin`,
        // after every role the sub-modules wire, and after this module's own hand-over calls
        after: [base, ...handover],
      });
    }

    return { ...market, timelock };
  });
}

type JobsResult = typeof CinderJobs extends IgnitionModule<string, string, infer T> ? T : never;

export default governed("Cinder", CinderJobs);
