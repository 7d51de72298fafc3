import { ethers, ignition } from "hardhat";
import CinderCore, { ROLES } from "../../deploy/modules/CinderCore";
import type { DailyCredit, ProtocolToken, StakingVault } from "../../typechain-types";

export { ROLES };

export const WAD = 10n ** 18n;
export const DAY = 24n * 3600n;

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

  const grant = 1_000_000n * WAD;
  for (const s of [alice, bob, carol, rewarder]) {
    await t.connect(treasury).transfer(s.address, grant);
    await t.connect(s).approve(await v.getAddress(), ethers.MaxUint256);
  }

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
