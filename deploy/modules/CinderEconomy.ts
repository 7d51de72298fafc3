import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CinderCore, { ROLES } from "./CinderCore";

const WAD = 10n ** 18n;

/**
 * The burn-and-mint economy on top of the staking core: ComputeCredit, a price oracle and the
 * BurnMintEngine, wired with MINTER_ROLE on the token, REWARDER_ROLE on the vault and ENGINE_ROLE on
 * the credit. The oracle here is the governance-set FixedPriceOracle (local networks); a Chainlink
 * feed plugs in through `engine.setOracle` (ChainlinkPriceOracle).
 */
export default buildModule("CinderEconomy", (m) => {
  const { token, vault, credit: dailyCredit } = m.useModule(CinderCore);
  const admin = m.getParameter("admin", m.getAccount(0));
  const treasury = m.getParameter("treasury", m.getAccount(0));

  const computeCredit = m.contract("ComputeCredit", [
    m.getParameter("computeCreditName", "Cinder Compute Credit"),
    m.getParameter("computeCreditSymbol", "CCR"),
    admin,
  ]);

  const oracle = m.contract("FixedPriceOracle", [
    admin,
    m.getParameter("initialPrice", 2n * WAD),
    m.getParameter("minPrice", WAD / 1000n),
    m.getParameter("maxPrice", 1000n * WAD),
  ]);

  const engine = m.contract("BurnMintEngine", [
    token,
    computeCredit,
    vault,
    oracle,
    treasury,
    admin,
    {
      mintSpreadBps: m.getParameter("mintSpreadBps", 25n),
      epochMintCap: m.getParameter("epochMintCap", 1_000_000n * WAD),
      emissionPerEpoch: m.getParameter("emissionPerEpoch", 50_000n * WAD),
      halvingEpochs: m.getParameter("halvingEpochs", 365n),
      stakerShareBps: m.getParameter("stakerShareBps", 5_000n),
      subsidyBudgetUsd: m.getParameter("subsidyBudgetUsd", 1_000n * WAD),
    },
  ]);

  m.call(token, "grantRole", [ROLES.MINTER, engine], { id: "token_grant_minter_to_engine" });
  m.call(vault, "grantRole", [ROLES.REWARDER, engine], { id: "vault_grant_rewarder_to_engine" });
  m.call(computeCredit, "grantRole", [ROLES.ENGINE, engine], { id: "credit_grant_engine" });

  return { token, vault, dailyCredit, computeCredit, oracle, engine };
});
