import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

/** Role identifiers, as the contracts define them (keccak256 of the role name). */
export const ROLES = {
  DEFAULT_ADMIN: "0x" + "00".repeat(32),
  MINTER: id("MINTER_ROLE"),
  REWARDER: id("REWARDER_ROLE"),
  LOCKER: id("LOCKER_ROLE"),
  SPENDER: id("SPENDER_ROLE"),
  GUARDIAN: id("GUARDIAN_ROLE"),
  ENGINE: id("ENGINE_ROLE"),
  PROTOCOL: id("PROTOCOL_ROLE"),
  COORDINATOR: id("COORDINATOR_ROLE"),
  REPORTER: id("REPORTER_ROLE"),
  SLASHER: id("SLASHER_ROLE"),
  REDEEMER: id("REDEEMER_ROLE"),
  DISPUTE: id("DISPUTE_ROLE"),
  ARBITER: id("ARBITER_ROLE"),
} as const;

/**
 * The staking core of Cinder: ProtocolToken, StakingVault and DailyCredit, with DailyCredit holding
 * the vault's LOCKER_ROLE. Every parameter is an Ignition module parameter with the default below
 * (the local/demo defaults; Venice's launch values for the credit curve).
 */
export default buildModule("CinderCore", (m) => {
  const admin = m.getParameter("admin", m.getAccount(0));
  const treasury = m.getParameter("treasury", m.getAccount(0));

  const token = m.contract("ProtocolToken", [
    m.getParameter("tokenName", "Cinder"),
    m.getParameter("tokenSymbol", "CNDR"),
    m.getParameter("initialSupply", 100_000_000n * 10n ** 18n),
    m.getParameter("maxSupply", 1_000_000_000n * 10n ** 18n),
    treasury,
    admin,
  ]);

  const vault = m.contract("StakingVault", [
    token,
    admin,
    m.getParameter("unstakeCooldown", 7n * 24n * 3600n),
    m.getParameter("rewardPeriod", 24n * 3600n),
  ]);

  const credit = m.contract("DailyCredit", [
    m.getParameter("creditName", "Cinder Daily Credit"),
    m.getParameter("creditSymbol", "DCR"),
    vault,
    admin,
    m.getParameter("creditPerDay", 10n ** 18n),
    {
      baseRate: m.getParameter("curveBaseRate", 90n * 10n ** 18n),
      power: m.getParameter("curvePower", 2n * 10n ** 18n),
      targetSupply: m.getParameter("curveTargetSupply", 38_000n * 10n ** 18n),
    },
  ]);

  m.call(vault, "grantRole", [ROLES.LOCKER, credit], { id: "vault_grant_locker_to_credit" });

  return { token, vault, credit };
});
