import { ethers, ignition } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import CinderCore, { ROLES } from "../../deploy/modules/CinderCore";
import CinderEconomy from "../../deploy/modules/CinderEconomy";
import type {
  BurnMintEngine,
  ComputeCredit,
  DailyCredit,
  FixedPriceOracle,
  ProtocolToken,
  StakingVault,
} from "../../typechain-types";

export { ROLES };

export const WAD = 10n ** 18n;
export const DAY = 24n * 3600n;

/** Sends each account 1,000,000 tokens from the treasury and approves `spenders` for all of it. */
async function fund(
  token: ProtocolToken,
  treasury: HardhatEthersSigner,
  accounts: HardhatEthersSigner[],
  spenders: string[],
) {
  for (const account of accounts) {
    await token.connect(treasury).transfer(account.address, 1_000_000n * WAD);
    for (const spender of spenders) await token.connect(account).approve(spender, ethers.MaxUint256);
  }
}

/**
 * Deploys the staking core through the same Ignition module users deploy with, then hands test-only
 * roles to named signers: `minter` (stands in for the BurnMintEngine), `rewarder` (the engine's
 * emissions), `spender` (the JobCoordinator), `guardian`. Stakers start with 1,000,000 tokens each.
 */
export async function deployCoreFixture() {
  const [admin, treasury, minter, rewarder, spender, guardian, alice, bob, carol, outsider] =
    await ethers.getSigners();

  const { token, vault, credit } = await ignition.deploy(CinderCore, {
    parameters: { CinderCore: { admin: admin.address, treasury: treasury.address } },
  });
  const t = token as unknown as ProtocolToken;
  const v = vault as unknown as StakingVault;
  const c = credit as unknown as DailyCredit;

  await t.connect(admin).grantRole(ROLES.MINTER, minter.address);
  await v.connect(admin).grantRole(ROLES.REWARDER, rewarder.address);
  await v.connect(admin).grantRole(ROLES.GUARDIAN, guardian.address);
  await c.connect(admin).grantRole(ROLES.SPENDER, spender.address);
  await c.connect(admin).grantRole(ROLES.GUARDIAN, guardian.address);

  await fund(t, treasury, [alice, bob, carol, rewarder], [await v.getAddress()]);

  return {
    token: t,
    vault: v,
    credit: c,
    admin,
    treasury,
    minter,
    rewarder,
    spender,
    guardian,
    alice,
    bob,
    carol,
    outsider,
  };
}

/**
 * The staking core plus the burn-and-mint economy (ComputeCredit, FixedPriceOracle at $2, BurnMintEngine),
 * deployed through the CinderEconomy Ignition module. Extra test roles: `coordinator` holds the engine's
 * COORDINATOR_ROLE and ComputeCredit's PROTOCOL_ROLE (stands in for the JobCoordinator), `reporter` holds
 * REPORTER_ROLE (the VoucherMarket), `guardian` may pause the engine. alice, bob and carol hold 1,000,000
 * tokens each and have approved both the vault and the engine.
 */
export async function deployEconomyFixture() {
  return deployEconomy();
}

/** {@link deployEconomyFixture} with CinderEconomy module parameters overridden (e.g. `epochMintCap`). */
export async function deployEconomy(overrides: Record<string, bigint> = {}) {
  const [
    admin,
    treasury,
    coordinator,
    reporter,
    guardian,
    alice,
    bob,
    carol,
    provider1,
    provider2,
    outsider,
  ] = await ethers.getSigners();

  const deployed = await ignition.deploy(CinderEconomy, {
    parameters: {
      CinderCore: { admin: admin.address, treasury: treasury.address },
      CinderEconomy: { admin: admin.address, treasury: treasury.address, ...overrides },
    },
  });
  const token = deployed.token as unknown as ProtocolToken;
  const vault = deployed.vault as unknown as StakingVault;
  const dailyCredit = deployed.dailyCredit as unknown as DailyCredit;
  const computeCredit = deployed.computeCredit as unknown as ComputeCredit;
  const oracle = deployed.oracle as unknown as FixedPriceOracle;
  const engine = deployed.engine as unknown as BurnMintEngine;

  await engine.connect(admin).grantRole(ROLES.COORDINATOR, coordinator.address);
  await engine.connect(admin).grantRole(ROLES.REPORTER, reporter.address);
  await engine.connect(admin).grantRole(ROLES.GUARDIAN, guardian.address);
  await computeCredit.connect(admin).grantRole(ROLES.PROTOCOL, coordinator.address);

  await fund(token, treasury, [alice, bob, carol], [await vault.getAddress(), await engine.getAddress()]);

  return {
    token,
    vault,
    dailyCredit,
    computeCredit,
    oracle,
    engine,
    admin,
    treasury,
    coordinator,
    reporter,
    guardian,
    alice,
    bob,
    carol,
    provider1,
    provider2,
    outsider,
  };
}
