import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse } from "ethers";
import { deployCoreFixture, DAY, ROLES, WAD } from "./fixtures";
import { signPermit } from "./permit";

const HOUR = 3600n;
const COOLDOWN = 7n * DAY; // CinderCore default `unstakeCooldown`
const PERIOD = DAY; // CinderCore default `rewardPeriod`
/** 8,640 tokens over one day: exactly 0.1 token per second. */
const REWARD = 8_640n * WAD;
/** REWARD × 1e18 / PERIOD = 8640e36 / 86400 = 1e35 (0.1 token per second, scaled by 1e18). */
const RATE = 10n ** 35n;
const COOLDOWN_PARAM = ethers.encodeBytes32String("cooldown");
const PERIOD_PARAM = ethers.encodeBytes32String("rewardPeriod");

/**
 * The shared core fixture plus two plain signers holding the vault's LOCKER_ROLE (`locker`,
 * `otherLocker`) and `dave`, who holds tokens but has not approved the vault (for permit tests).
 */
async function vaultFixture() {
  const core = await deployCoreFixture();
  const signers = await ethers.getSigners();
  const locker = signers[10];
  const otherLocker = signers[11];
  const dave = signers[12];
  await core.vault.connect(core.admin).grantRole(ROLES.LOCKER, locker.address);
  await core.vault.connect(core.admin).grantRole(ROLES.LOCKER, otherLocker.address);
  await core.token.connect(core.treasury).transfer(dave.address, 1_000_000n * WAD);
  return { ...core, locker, otherLocker, dave };
}

async function latest(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** Runs `action` as the transaction of a block mined at exactly `timestamp`. */
async function at<T>(timestamp: bigint, action: () => Promise<T>): Promise<T> {
  await time.setNextBlockTimestamp(timestamp);
  return action();
}

async function logsOf(tx: ContractTransactionResponse) {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("transaction was not mined");
  return receipt.logs;
}

/** A vault (cooldown 0) over the re-entering token, with a stake, a reward stream and a cooling amount. */
async function reentrantVaultFixture() {
  const [admin, rewarder, alice] = await ethers.getSigners();
  // The token double calls back into the vault on every transfer/transferFrom (contracts/mocks).
  const mock = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
  const vault = await (
    await ethers.getContractFactory("StakingVault")
  ).deploy(await mock.getAddress(), admin.address, 0n, PERIOD);
  await vault.connect(admin).grantRole(ROLES.REWARDER, rewarder.address);
  await vault.connect(alice).stake(10n * WAD);
  await vault.connect(rewarder).notifyReward(REWARD);
  await time.increase(HOUR);
  await vault.connect(alice).requestUnstake(1n * WAD);
  return { vault, arm: mock.arm, rewarder, alice };
}

describe("StakingVault", () => {
  describe("deployment", () => {
    it("is wired to the protocol token with the CinderCore defaults: 7-day cooldown, 1-day reward period", async () => {
      const { vault, token, credit, admin } = await loadFixture(vaultFixture);
      expect(await vault.token()).to.equal(await token.getAddress());
      expect(await vault.cooldown()).to.equal(7n * 24n * 3600n);
      expect(await vault.rewardPeriod()).to.equal(24n * 3600n);
      expect(await vault.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await vault.hasRole(ROLES.LOCKER, await credit.getAddress())).to.equal(true);
      expect(await vault.REWARDER_ROLE()).to.equal(ethers.id("REWARDER_ROLE"));
      expect(await vault.LOCKER_ROLE()).to.equal(ethers.id("LOCKER_ROLE"));
      expect(await vault.GUARDIAN_ROLE()).to.equal(ethers.id("GUARDIAN_ROLE"));
      expect(await vault.totalStaked()).to.equal(0n);
      expect(await vault.totalCooling()).to.equal(0n);
      expect(await vault.rewardReserve()).to.equal(0n);
      expect(await vault.rewardRate()).to.equal(0n);
      expect(await vault.periodFinish()).to.equal(0n);
      expect(await vault.rewardPerToken()).to.equal(0n);
      expect(await vault.paused()).to.equal(false);
    });

    it("emits CooldownUpdated and RewardPeriodUpdated from zero to the constructor values", async () => {
      const { token, admin } = await loadFixture(vaultFixture);
      const factory = await ethers.getContractFactory("StakingVault");
      const vault = await factory.deploy(await token.getAddress(), admin.address, 3n * DAY, 2n * HOUR);
      const deployment = vault.deploymentTransaction();
      await expect(deployment)
        .to.emit(vault, "CooldownUpdated")
        .withArgs(0n, 3n * DAY);
      await expect(deployment)
        .to.emit(vault, "RewardPeriodUpdated")
        .withArgs(0n, 2n * HOUR);
      expect(await vault.cooldown()).to.equal(3n * DAY);
      expect(await vault.rewardPeriod()).to.equal(2n * HOUR);
    });

    it("rejects a zero token or a zero admin with ZeroAddress", async () => {
      const { token, admin } = await loadFixture(vaultFixture);
      const factory = await ethers.getContractFactory("StakingVault");
      await expect(
        factory.deploy(ethers.ZeroAddress, admin.address, COOLDOWN, PERIOD),
      ).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(
        factory.deploy(await token.getAddress(), ethers.ZeroAddress, COOLDOWN, PERIOD),
      ).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });

    it("accepts a cooldown of 0 to exactly 30 days and rejects 30 days + 1 second", async () => {
      const { token, admin } = await loadFixture(vaultFixture);
      const factory = await ethers.getContractFactory("StakingVault");
      const tokenAddress = await token.getAddress();
      const max = 30n * DAY;
      await expect(factory.deploy(tokenAddress, admin.address, max + 1n, PERIOD))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(COOLDOWN_PARAM, max + 1n, 0n, max);
      expect(await (await factory.deploy(tokenAddress, admin.address, max, PERIOD)).cooldown()).to.equal(max);
      expect(await (await factory.deploy(tokenAddress, admin.address, 0n, PERIOD)).cooldown()).to.equal(0n);
    });

    it("accepts a reward period of exactly 1 hour to 30 days and rejects anything outside", async () => {
      const { token, admin } = await loadFixture(vaultFixture);
      const factory = await ethers.getContractFactory("StakingVault");
      const tokenAddress = await token.getAddress();
      const min = 3600n;
      const max = 2_592_000n;
      await expect(factory.deploy(tokenAddress, admin.address, COOLDOWN, min - 1n))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(PERIOD_PARAM, min - 1n, min, max);
      await expect(factory.deploy(tokenAddress, admin.address, COOLDOWN, max + 1n))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(PERIOD_PARAM, max + 1n, min, max);
      expect(
        await (await factory.deploy(tokenAddress, admin.address, COOLDOWN, min)).rewardPeriod(),
      ).to.equal(min);
      expect(
        await (await factory.deploy(tokenAddress, admin.address, COOLDOWN, max)).rewardPeriod(),
      ).to.equal(max);
    });
  });

  describe("stake", () => {
    it("moves the tokens into the vault, credits the earning stake and emits Staked", async () => {
      const { vault, token, alice } = await loadFixture(vaultFixture);
      const tx = vault.connect(alice).stake(1_000n * WAD);
      await expect(tx)
        .to.emit(vault, "Staked")
        .withArgs(alice.address, 1_000n * WAD);
      await expect(tx).to.changeTokenBalances(token, [alice, vault], [-1_000n * WAD, 1_000n * WAD]);
      expect(await vault.stakeOf(alice.address)).to.equal(1_000n * WAD);
      expect(await vault.totalStaked()).to.equal(1_000n * WAD);
    });

    it("adds a second stake to the first", async () => {
      const { vault, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).stake(250n * WAD);
      await vault.connect(bob).stake(5n * WAD);
      expect(await vault.stakeOf(alice.address)).to.equal(1_250n * WAD);
      expect(await vault.stakeOf(bob.address)).to.equal(5n * WAD);
      expect(await vault.totalStaked()).to.equal(1_255n * WAD);
    });

    it("rejects a zero amount with ZeroAmount", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await expect(vault.connect(alice).stake(0n)).to.be.revertedWithCustomError(vault, "ZeroAmount");
    });

    it("fails in the token transfer when the staker has not approved the vault", async () => {
      const { vault, token, dave } = await loadFixture(vaultFixture);
      await expect(vault.connect(dave).stake(1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await vault.getAddress(), 0n, 1n);
    });
  });

  describe("stakeWithPermit", () => {
    it("stakes in one transaction with an ERC-2612 permit instead of an approval", async () => {
      const { vault, token, dave } = await loadFixture(vaultFixture);
      const vaultAddress = await vault.getAddress();
      const deadline = (await latest()) + HOUR;
      const { v, r, s } = await signPermit(token, dave, vaultAddress, 500n * WAD, deadline);
      const tx = vault.connect(dave).stakeWithPermit(500n * WAD, deadline, v, r, s);
      await expect(tx)
        .to.emit(vault, "Staked")
        .withArgs(dave.address, 500n * WAD);
      await expect(tx).to.changeTokenBalances(token, [dave, vault], [-500n * WAD, 500n * WAD]);
      expect(await vault.stakeOf(dave.address)).to.equal(500n * WAD);
      expect(await token.nonces(dave.address)).to.equal(1n);
      expect(await token.allowance(dave.address, vaultAddress)).to.equal(0n);
    });

    it("still stakes when a front-runner already consumed the permit and the allowance suffices", async () => {
      const { vault, token, dave, outsider } = await loadFixture(vaultFixture);
      const vaultAddress = await vault.getAddress();
      const deadline = (await latest()) + HOUR;
      const { v, r, s } = await signPermit(token, dave, vaultAddress, 500n * WAD, deadline);
      await token.connect(outsider).permit(dave.address, vaultAddress, 500n * WAD, deadline, v, r, s);
      expect(await token.nonces(dave.address)).to.equal(1n);

      await expect(vault.connect(dave).stakeWithPermit(500n * WAD, deadline, v, r, s))
        .to.emit(vault, "Staked")
        .withArgs(dave.address, 500n * WAD);
      expect(await vault.stakeOf(dave.address)).to.equal(500n * WAD);
      // The replayed permit failed inside the vault and was ignored: the nonce did not move again.
      expect(await token.nonces(dave.address)).to.equal(1n);
      expect(await token.allowance(dave.address, vaultAddress)).to.equal(0n);
    });

    it("stakes on an existing approval even with a worthless signature", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await expect(vault.connect(alice).stakeWithPermit(7n * WAD, 0n, 27, ethers.ZeroHash, ethers.ZeroHash))
        .to.emit(vault, "Staked")
        .withArgs(alice.address, 7n * WAD);
      expect(await vault.stakeOf(alice.address)).to.equal(7n * WAD);
    });

    it("fails in the token transfer when the permit is invalid and there is no allowance", async () => {
      const { vault, token, dave } = await loadFixture(vaultFixture);
      const vaultAddress = await vault.getAddress();
      const deadline = (await latest()) + HOUR;
      // Signed for 500, used for 600: the signature does not match and the permit is skipped.
      const { v, r, s } = await signPermit(token, dave, vaultAddress, 500n * WAD, deadline);
      await expect(vault.connect(dave).stakeWithPermit(600n * WAD, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(vaultAddress, 0n, 600n * WAD);
    });

    it("fails in the token transfer when the permit has expired and there is no allowance", async () => {
      const { vault, token, dave } = await loadFixture(vaultFixture);
      const vaultAddress = await vault.getAddress();
      const deadline = (await latest()) + 10n;
      const { v, r, s } = await signPermit(token, dave, vaultAddress, 500n * WAD, deadline);
      await time.increaseTo(deadline + 1n);
      await expect(vault.connect(dave).stakeWithPermit(500n * WAD, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(vaultAddress, 0n, 500n * WAD);
    });

    it("rejects a zero amount with ZeroAmount", async () => {
      const { vault, token, dave } = await loadFixture(vaultFixture);
      const deadline = (await latest()) + HOUR;
      const { v, r, s } = await signPermit(token, dave, await vault.getAddress(), 0n, deadline);
      await expect(vault.connect(dave).stakeWithPermit(0n, deadline, v, r, s)).to.be.revertedWithCustomError(
        vault,
        "ZeroAmount",
      );
    });
  });

  describe("requestUnstake", () => {
    it("moves unlocked stake into the cooldown, withdrawable at request time + cooldown", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await expect(at(t, () => vault.connect(alice).requestUnstake(400n * WAD)))
        .to.emit(vault, "UnstakeRequested")
        .withArgs(alice.address, 400n * WAD, 400n * WAD, t + COOLDOWN);
      expect(await vault.stakeOf(alice.address)).to.equal(600n * WAD);
      expect(await vault.coolingOf(alice.address)).to.deep.equal([400n * WAD, t + COOLDOWN]);
      expect(await vault.totalStaked()).to.equal(600n * WAD);
      expect(await vault.totalCooling()).to.equal(400n * WAD);
    });

    it("adds a further request to the cooling amount and restarts the cooldown for all of it", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t1 = (await latest()) + 100n;
      await at(t1, () => vault.connect(alice).requestUnstake(100n * WAD));
      const t2 = t1 + 3n * DAY;
      await expect(at(t2, () => vault.connect(alice).requestUnstake(50n * WAD)))
        .to.emit(vault, "UnstakeRequested")
        .withArgs(alice.address, 50n * WAD, 150n * WAD, t2 + COOLDOWN);
      expect(await vault.coolingOf(alice.address)).to.deep.equal([150n * WAD, t2 + COOLDOWN]);
      expect(await vault.stakeOf(alice.address)).to.equal(850n * WAD);

      // The first request's original unlock time no longer frees it.
      await time.setNextBlockTimestamp(t1 + COOLDOWN);
      await expect(vault.connect(alice).withdraw())
        .to.be.revertedWithCustomError(vault, "CooldownNotElapsed")
        .withArgs(alice.address, t2 + COOLDOWN, t1 + COOLDOWN);
    });

    it("rejects a zero amount with ZeroAmount", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await expect(vault.connect(alice).requestUnstake(0n)).to.be.revertedWithCustomError(
        vault,
        "ZeroAmount",
      );
    });

    it("rejects more than the unlocked earning stake with InsufficientUnlockedStake", async () => {
      const { vault, alice, bob } = await loadFixture(vaultFixture);
      await expect(vault.connect(bob).requestUnstake(1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(bob.address, 0n, 1n);
      await vault.connect(alice).stake(1_000n * WAD);
      await expect(vault.connect(alice).requestUnstake(1_000n * WAD + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(alice.address, 1_000n * WAD, 1_000n * WAD + 1n);
      // Stake already cooling down is no longer unstakeable.
      await vault.connect(alice).requestUnstake(700n * WAD);
      await expect(vault.connect(alice).requestUnstake(300n * WAD + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(alice.address, 300n * WAD, 300n * WAD + 1n);
      await vault.connect(alice).requestUnstake(300n * WAD);
      expect(await vault.stakeOf(alice.address)).to.equal(0n);
      expect((await vault.coolingOf(alice.address))[0]).to.equal(1_000n * WAD);
    });
  });

  describe("cancelUnstake", () => {
    it("returns the whole cooling amount to the earning stake and clears the cooldown", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).requestUnstake(300n * WAD);
      await vault.connect(alice).requestUnstake(100n * WAD);
      await expect(vault.connect(alice).cancelUnstake())
        .to.emit(vault, "UnstakeCancelled")
        .withArgs(alice.address, 400n * WAD);
      expect(await vault.stakeOf(alice.address)).to.equal(1_000n * WAD);
      expect(await vault.coolingOf(alice.address)).to.deep.equal([0n, 0n]);
      expect(await vault.totalStaked()).to.equal(1_000n * WAD);
      expect(await vault.totalCooling()).to.equal(0n);
    });

    it("rejects a caller with nothing cooling down with NoPendingUnstake", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await expect(vault.connect(alice).cancelUnstake())
        .to.be.revertedWithCustomError(vault, "NoPendingUnstake")
        .withArgs(alice.address);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).requestUnstake(1_000n * WAD);
      await vault.connect(alice).cancelUnstake();
      await expect(vault.connect(alice).cancelUnstake())
        .to.be.revertedWithCustomError(vault, "NoPendingUnstake")
        .withArgs(alice.address);
    });

    it("lets the cancelled amount earn again from the moment of cancellation, and not before", async () => {
      const { vault, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(bob).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + PERIOD / 4n, () => vault.connect(alice).requestUnstake(1_000n * WAD));
      await at(t + PERIOD / 2n, () => vault.connect(alice).cancelUnstake());
      await time.increaseTo(t + PERIOD);
      // Quarter 1: 2,160 split 50/50. Quarter 2: bob alone gets 2,160. Second half: 4,320 split 50/50.
      expect(await vault.earned(alice.address)).to.equal(1_080n * WAD + 2_160n * WAD);
      expect(await vault.earned(bob.address)).to.equal(1_080n * WAD + 2_160n * WAD + 2_160n * WAD);
    });
  });

  describe("withdraw", () => {
    it("refuses to pay out one second before unlockTime with CooldownNotElapsed, and pays at unlockTime", async () => {
      const { vault, token, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(alice).requestUnstake(400n * WAD));
      const unlockTime = t + COOLDOWN;

      await time.setNextBlockTimestamp(unlockTime - 1n);
      await expect(vault.connect(alice).withdraw())
        .to.be.revertedWithCustomError(vault, "CooldownNotElapsed")
        .withArgs(alice.address, unlockTime, unlockTime - 1n);

      await time.setNextBlockTimestamp(unlockTime);
      const tx = vault.connect(alice).withdraw();
      await expect(tx)
        .to.emit(vault, "Withdrawn")
        .withArgs(alice.address, 400n * WAD);
      await expect(tx).to.changeTokenBalances(token, [vault, alice], [-400n * WAD, 400n * WAD]);
      expect(await vault.coolingOf(alice.address)).to.deep.equal([0n, 0n]);
      expect(await vault.totalCooling()).to.equal(0n);
      // The rest of the stake is untouched.
      expect(await vault.stakeOf(alice.address)).to.equal(600n * WAD);
      expect(await vault.totalStaked()).to.equal(600n * WAD);
    });

    it("returns the amount paid out", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).requestUnstake(123n * WAD);
      await time.increase(COOLDOWN + 1n);
      expect(await vault.connect(alice).withdraw.staticCall()).to.equal(123n * WAD);
    });

    it("rejects a caller with nothing cooling down with NoPendingUnstake, also after a withdrawal", async () => {
      const { vault, alice } = await loadFixture(vaultFixture);
      await expect(vault.connect(alice).withdraw())
        .to.be.revertedWithCustomError(vault, "NoPendingUnstake")
        .withArgs(alice.address);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).requestUnstake(1_000n * WAD);
      await time.increase(COOLDOWN);
      await vault.connect(alice).withdraw();
      await expect(vault.connect(alice).withdraw())
        .to.be.revertedWithCustomError(vault, "NoPendingUnstake")
        .withArgs(alice.address);
    });

    it("pays out in the same second as the request when the cooldown is zero", async () => {
      const { vault, token, admin, alice } = await loadFixture(vaultFixture);
      await vault.connect(admin).setCooldown(0n);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 10n;
      await expect(at(t, () => vault.connect(alice).requestUnstake(1_000n * WAD)))
        .to.emit(vault, "UnstakeRequested")
        .withArgs(alice.address, 1_000n * WAD, 1_000n * WAD, t);
      await expect(vault.connect(alice).withdraw()).to.changeTokenBalance(token, alice, 1_000n * WAD);
    });
  });

  describe("claim", () => {
    it("pays the accrued rewards out, emits RewardClaimed and lowers the reward reserve", async () => {
      const { vault, token, rewarder, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      // A quarter of the way: 21,600 s × 0.1 token/s.
      const tx = at(t + PERIOD / 4n, () => vault.connect(alice).claim());
      await expect(tx)
        .to.emit(vault, "RewardClaimed")
        .withArgs(alice.address, 2_160n * WAD);
      await expect(tx).to.changeTokenBalances(token, [vault, alice], [-2_160n * WAD, 2_160n * WAD]);
      expect(await vault.rewardReserve()).to.equal(REWARD - 2_160n * WAD);

      await time.increaseTo(t + PERIOD + 1_000n);
      expect(await vault.connect(alice).claim.staticCall()).to.equal(6_480n * WAD);
      await expect(vault.connect(alice).claim())
        .to.emit(vault, "RewardClaimed")
        .withArgs(alice.address, 6_480n * WAD);
      expect(await vault.rewardReserve()).to.equal(0n);
      expect(await vault.earned(alice.address)).to.equal(0n);
      // The stake itself stays in the vault.
      expect(await token.balanceOf(await vault.getAddress())).to.equal(1_000n * WAD);
    });

    it("is a no-op returning 0 that emits nothing when nothing has accrued", async () => {
      const { vault, token, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(rewarder).notifyReward(REWARD);
      expect(await vault.connect(bob).claim.staticCall()).to.equal(0n);
      const balanceBefore = await token.balanceOf(bob.address);
      const reserveBefore = await vault.rewardReserve();
      expect(await logsOf(await vault.connect(bob).claim())).to.have.length(0);
      expect(await token.balanceOf(bob.address)).to.equal(balanceBefore);
      expect(await vault.rewardReserve()).to.equal(reserveBefore);
    });

    it("pays nothing on a second claim once the stream is exhausted", async () => {
      const { vault, rewarder, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await time.increaseTo(t + 2n * PERIOD);
      await vault.connect(alice).claim();
      expect(await logsOf(await vault.connect(alice).claim())).to.have.length(0);
    });
  });

  describe("notifyReward", () => {
    it("pulls the reward from the rewarder and streams it over rewardPeriod", async () => {
      const { vault, token, rewarder } = await loadFixture(vaultFixture);
      const t = (await latest()) + 100n;
      const tx = at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await expect(tx)
        .to.emit(vault, "RewardNotified")
        .withArgs(rewarder.address, REWARD, REWARD, t + PERIOD);
      await expect(tx).to.changeTokenBalances(token, [rewarder, vault], [-REWARD, REWARD]);
      expect(await vault.rewardRate()).to.equal(RATE);
      expect(await vault.periodFinish()).to.equal(t + PERIOD);
      expect(await vault.rewardReserve()).to.equal(REWARD);
    });

    it("can be called only by REWARDER_ROLE", async () => {
      const { vault, admin, outsider } = await loadFixture(vaultFixture);
      for (const caller of [outsider, admin]) {
        await expect(vault.connect(caller).notifyReward(REWARD))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.REWARDER);
      }
    });

    it("rejects a zero amount with ZeroAmount", async () => {
      const { vault, rewarder } = await loadFixture(vaultFixture);
      await expect(vault.connect(rewarder).notifyReward(0n)).to.be.revertedWithCustomError(
        vault,
        "ZeroAmount",
      );
    });

    it("fails in the token transfer when the rewarder has not approved the vault", async () => {
      const { vault, token, admin, dave } = await loadFixture(vaultFixture);
      await vault.connect(admin).grantRole(ROLES.REWARDER, dave.address);
      await expect(vault.connect(dave).notifyReward(REWARD))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await vault.getAddress(), 0n, REWARD);
    });
  });

  describe("reward streaming", () => {
    it("streams a reward linearly over the reward period to a lone staker, then stops", async () => {
      const { vault, rewarder, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await time.increaseTo(t + PERIOD / 4n);
      expect(await vault.earned(alice.address)).to.equal(2_160n * WAD);
      // 2,160 tokens over 1,000 staked: 2.16 tokens per staked token, scaled by 1e18.
      expect(await vault.rewardPerToken()).to.equal(2_160_000_000_000_000_000n);
      await time.increaseTo(t + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(REWARD);
      await time.increaseTo(t + 3n * PERIOD);
      expect(await vault.earned(alice.address)).to.equal(REWARD);
    });

    it("splits a stream between two stakers pro rata to their stakes", async () => {
      const { vault, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(bob).stake(3_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await time.increaseTo(t + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(2_160n * WAD); // 1/4 of 8,640
      expect(await vault.earned(bob.address)).to.equal(6_480n * WAD); // 3/4 of 8,640
    });

    it("pays a staker who joins half-way through a stream only the second half's share", async () => {
      const { vault, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + PERIOD / 2n, () => vault.connect(bob).stake(1_000n * WAD));
      await time.increaseTo(t + PERIOD);
      // First half (4,320) to alice alone; second half (4,320) split 50/50.
      expect(await vault.earned(alice.address)).to.equal(4_320n * WAD + 2_160n * WAD);
      expect(await vault.earned(bob.address)).to.equal(2_160n * WAD);
    });

    it("lets a stake placed one second before notifyReward earn only what streams while it stays", async () => {
      const { vault, token, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t - 1n, () => vault.connect(bob).stake(9_000n * WAD));
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + 1n, () => vault.connect(bob).requestUnstake(9_000n * WAD));
      // One second at 0.1 token/s, of which bob holds 90%: 0.09 token out of 8,640.
      await expect(at(t + 2n, () => vault.connect(bob).claim())).to.changeTokenBalance(
        token,
        bob,
        90_000_000_000_000_000n,
      );
      await time.increaseTo(t + PERIOD);
      // Alice: 10% of the first second plus every later second alone.
      expect(await vault.earned(alice.address)).to.equal(
        10_000_000_000_000_000n + (PERIOD - 1n) * (WAD / 10n),
      );
    });

    it("pays nothing to stake while it cools down", async () => {
      const { vault, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(bob).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + PERIOD / 2n, () => vault.connect(alice).requestUnstake(1_000n * WAD));
      expect(await vault.earned(alice.address)).to.equal(2_160n * WAD);
      await time.increaseTo(t + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(2_160n * WAD);
      expect(await vault.earned(bob.address)).to.equal(2_160n * WAD + 4_320n * WAD);
    });

    it("rolls the undistributed leftover of an active stream into a new notifyReward", async () => {
      const { vault, rewarder, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      const t2 = t + PERIOD / 4n;
      // 3/4 of the first 8,640 (6,480) is still to stream; with a new 8,640 that makes 15,120.
      await expect(at(t2, () => vault.connect(rewarder).notifyReward(REWARD)))
        .to.emit(vault, "RewardNotified")
        .withArgs(rewarder.address, REWARD, 15_120n * WAD, t2 + PERIOD);
      expect(await vault.rewardRate()).to.equal((15_120n * WAD * WAD) / PERIOD); // 0.175 token/s
      expect(await vault.rewardRate()).to.equal(175n * 10n ** 33n);
      expect(await vault.periodFinish()).to.equal(t2 + PERIOD);
      expect(await vault.rewardReserve()).to.equal(17_280n * WAD);
      await time.increaseTo(t2 + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(17_280n * WAD);
    });

    it("carries rewards streamed while nothing is staked into the next stream instead of losing them", async () => {
      const { vault, rewarder, alice } = await loadFixture(vaultFixture);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + PERIOD / 2n, () => vault.connect(alice).stake(1_000n * WAD));
      await time.increaseTo(t + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(4_320n * WAD);

      // The first half (4,320) streamed to nobody and joins the next stream.
      const t2 = t + PERIOD + 500n;
      await expect(at(t2, () => vault.connect(rewarder).notifyReward(REWARD)))
        .to.emit(vault, "RewardNotified")
        .withArgs(rewarder.address, REWARD, 12_960n * WAD, t2 + PERIOD);
      await time.increaseTo(t2 + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(17_280n * WAD);
      expect(await vault.rewardReserve()).to.equal(17_280n * WAD);
    });

    it("carries the rest of a stream into the next one when every staker leaves mid-stream", async () => {
      const { vault, rewarder, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + PERIOD / 4n, () => vault.connect(alice).requestUnstake(1_000n * WAD));
      const t2 = t + 2n * PERIOD;
      // 3/4 of the first stream (6,480) found no staker.
      await expect(at(t2, () => vault.connect(rewarder).notifyReward(REWARD)))
        .to.emit(vault, "RewardNotified")
        .withArgs(rewarder.address, REWARD, 15_120n * WAD, t2 + PERIOD);
      await at(t2 + 1n, () => vault.connect(bob).stake(1_000n * WAD));
      await time.increaseTo(t2 + 1n + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(2_160n * WAD);
      // Bob joined one second late: 15,120 less that second (0.175 token), which carries on again.
      expect(await vault.earned(bob.address)).to.equal(15_120n * WAD - 175_000_000_000_000_000n);
    });
  });

  describe("locks", () => {
    it("lets a LOCKER_ROLE holder lock part of an account's stake, tracked per locker", async () => {
      const { vault, alice, locker, otherLocker } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await expect(vault.connect(locker).lock(alice.address, 600n * WAD))
        .to.emit(vault, "StakeLocked")
        .withArgs(alice.address, locker.address, 600n * WAD);
      await expect(vault.connect(otherLocker).lock(alice.address, 100n * WAD))
        .to.emit(vault, "StakeLocked")
        .withArgs(alice.address, otherLocker.address, 100n * WAD);
      expect(await vault.lockedOf(alice.address)).to.equal(700n * WAD);
      expect(await vault.lockedBy(alice.address, locker.address)).to.equal(600n * WAD);
      expect(await vault.lockedBy(alice.address, otherLocker.address)).to.equal(100n * WAD);
      expect(await vault.stakeOf(alice.address)).to.equal(1_000n * WAD);
    });

    it("releases a lock with unlock and emits StakeUnlocked", async () => {
      const { vault, alice, locker, otherLocker } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(locker).lock(alice.address, 600n * WAD);
      await vault.connect(otherLocker).lock(alice.address, 100n * WAD);
      await expect(vault.connect(locker).unlock(alice.address, 250n * WAD))
        .to.emit(vault, "StakeUnlocked")
        .withArgs(alice.address, locker.address, 250n * WAD);
      expect(await vault.lockedBy(alice.address, locker.address)).to.equal(350n * WAD);
      expect(await vault.lockedBy(alice.address, otherLocker.address)).to.equal(100n * WAD);
      expect(await vault.lockedOf(alice.address)).to.equal(450n * WAD);
    });

    it("lets only LOCKER_ROLE holders lock and unlock", async () => {
      const { vault, admin, alice, outsider } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      for (const caller of [outsider, admin, alice]) {
        await expect(vault.connect(caller).lock(alice.address, 1n))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.LOCKER);
        await expect(vault.connect(caller).unlock(alice.address, 1n))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.LOCKER);
      }
    });

    it("rejects a zero amount to lock or unlock with ZeroAmount", async () => {
      const { vault, alice, locker } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(locker).lock(alice.address, 10n);
      await expect(vault.connect(locker).lock(alice.address, 0n)).to.be.revertedWithCustomError(
        vault,
        "ZeroAmount",
      );
      await expect(vault.connect(locker).unlock(alice.address, 0n)).to.be.revertedWithCustomError(
        vault,
        "ZeroAmount",
      );
    });

    it("refuses to lock more than the unlocked earning stake with InsufficientUnlockedStake", async () => {
      const { vault, alice, bob, locker, otherLocker } = await loadFixture(vaultFixture);
      await expect(vault.connect(locker).lock(bob.address, 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(bob.address, 0n, 1n);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).requestUnstake(200n * WAD); // cooling stake cannot be locked
      await vault.connect(otherLocker).lock(alice.address, 500n * WAD); // nor stake another module locked
      await expect(vault.connect(locker).lock(alice.address, 300n * WAD + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(alice.address, 300n * WAD, 300n * WAD + 1n);
      await vault.connect(locker).lock(alice.address, 300n * WAD);
      expect(await vault.lockedOf(alice.address)).to.equal(800n * WAD);
    });

    it("does not let one locker unlock another locker's lock (InsufficientLockedStake)", async () => {
      const { vault, alice, locker, otherLocker } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(locker).lock(alice.address, 600n * WAD);
      await expect(vault.connect(otherLocker).unlock(alice.address, 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientLockedStake")
        .withArgs(alice.address, otherLocker.address, 0n, 1n);
      await expect(vault.connect(locker).unlock(alice.address, 600n * WAD + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientLockedStake")
        .withArgs(alice.address, locker.address, 600n * WAD, 600n * WAD + 1n);
      await vault.connect(locker).unlock(alice.address, 600n * WAD);
      expect(await vault.lockedOf(alice.address)).to.equal(0n);
    });

    it("keeps locked stake earning but refuses to unstake it until unlocked", async () => {
      const { vault, rewarder, alice, locker } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(locker).lock(alice.address, 600n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await time.increaseTo(t + PERIOD);
      expect(await vault.earned(alice.address)).to.equal(REWARD);

      await expect(vault.connect(alice).requestUnstake(400n * WAD + 1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(alice.address, 400n * WAD, 400n * WAD + 1n);
      await vault.connect(alice).requestUnstake(400n * WAD);
      await expect(vault.connect(alice).requestUnstake(1n))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(alice.address, 0n, 1n);
      await vault.connect(locker).unlock(alice.address, 600n * WAD);
      await vault.connect(alice).requestUnstake(600n * WAD);
      expect(await vault.stakeOf(alice.address)).to.equal(0n);
    });
  });

  describe("governance parameters", () => {
    it("lets the admin set the cooldown anywhere from 0 to 30 days, emitting CooldownUpdated", async () => {
      const { vault, admin } = await loadFixture(vaultFixture);
      await expect(vault.connect(admin).setCooldown(30n * DAY))
        .to.emit(vault, "CooldownUpdated")
        .withArgs(COOLDOWN, 30n * DAY);
      expect(await vault.cooldown()).to.equal(30n * DAY);
      await expect(vault.connect(admin).setCooldown(0n))
        .to.emit(vault, "CooldownUpdated")
        .withArgs(30n * DAY, 0n);
      expect(await vault.cooldown()).to.equal(0n);
    });

    it("rejects a cooldown above 30 days with ParameterOutOfBounds", async () => {
      const { vault, admin } = await loadFixture(vaultFixture);
      await expect(vault.connect(admin).setCooldown(30n * DAY + 1n))
        .to.be.revertedWithCustomError(vault, "ParameterOutOfBounds")
        .withArgs(COOLDOWN_PARAM, 30n * DAY + 1n, 0n, 2_592_000n);
    });

    it("applies a new cooldown only to requests made after the change", async () => {
      const { vault, admin, alice, bob } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(bob).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(alice).requestUnstake(1_000n * WAD));
      await at(t + 1n, () => vault.connect(admin).setCooldown(DAY));
      await at(t + 2n, () => vault.connect(bob).requestUnstake(1_000n * WAD));
      expect((await vault.coolingOf(alice.address))[1]).to.equal(t + COOLDOWN);
      expect((await vault.coolingOf(bob.address))[1]).to.equal(t + 2n + DAY);
    });

    it("lets the admin set the reward period from exactly 1 hour to 30 days, emitting RewardPeriodUpdated", async () => {
      const { vault, admin } = await loadFixture(vaultFixture);
      await expect(vault.connect(admin).setRewardPeriod(3_600n))
        .to.emit(vault, "RewardPeriodUpdated")
        .withArgs(PERIOD, 3_600n);
      await expect(vault.connect(admin).setRewardPeriod(30n * DAY))
        .to.emit(vault, "RewardPeriodUpdated")
        .withArgs(3_600n, 30n * DAY);
      expect(await vault.rewardPeriod()).to.equal(30n * DAY);
    });

    it("rejects a reward period below 1 hour or above 30 days with ParameterOutOfBounds", async () => {
      const { vault, admin } = await loadFixture(vaultFixture);
      await expect(vault.connect(admin).setRewardPeriod(3_599n))
        .to.be.revertedWithCustomError(vault, "ParameterOutOfBounds")
        .withArgs(PERIOD_PARAM, 3_599n, 3_600n, 2_592_000n);
      await expect(vault.connect(admin).setRewardPeriod(2_592_001n))
        .to.be.revertedWithCustomError(vault, "ParameterOutOfBounds")
        .withArgs(PERIOD_PARAM, 2_592_001n, 3_600n, 2_592_000n);
    });

    it("streams the next notified reward over the new reward period", async () => {
      const { vault, admin, rewarder, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(admin).setRewardPeriod(HOUR);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(360n * WAD));
      expect(await vault.periodFinish()).to.equal(t + HOUR);
      expect(await vault.rewardRate()).to.equal(10n ** 17n * WAD); // 0.1 token/s
      await time.increaseTo(t + HOUR / 2n);
      expect(await vault.earned(alice.address)).to.equal(180n * WAD);
    });

    it("lets only the admin change the parameters", async () => {
      const { vault, guardian, outsider } = await loadFixture(vaultFixture);
      for (const caller of [outsider, guardian]) {
        await expect(vault.connect(caller).setCooldown(DAY))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
        await expect(vault.connect(caller).setRewardPeriod(DAY))
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });
  });

  describe("pause", () => {
    it("is switched on by the guardian only", async () => {
      const { vault, admin, guardian, outsider } = await loadFixture(vaultFixture);
      for (const caller of [outsider, admin]) {
        await expect(vault.connect(caller).pause())
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.GUARDIAN);
      }
      await expect(vault.connect(guardian).pause()).to.emit(vault, "Paused").withArgs(guardian.address);
      expect(await vault.paused()).to.equal(true);
    });

    it("is switched off by the admin only", async () => {
      const { vault, admin, guardian, outsider } = await loadFixture(vaultFixture);
      await vault.connect(guardian).pause();
      for (const caller of [outsider, guardian]) {
        await expect(vault.connect(caller).unpause())
          .to.be.revertedWithCustomError(vault, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
      await expect(vault.connect(admin).unpause()).to.emit(vault, "Unpaused").withArgs(admin.address);
      expect(await vault.paused()).to.equal(false);
    });

    it("rejects pausing twice with EnforcedPause and unpausing an active vault with ExpectedPause", async () => {
      const { vault, admin, guardian } = await loadFixture(vaultFixture);
      await expect(vault.connect(admin).unpause()).to.be.revertedWithCustomError(vault, "ExpectedPause");
      await vault.connect(guardian).pause();
      await expect(vault.connect(guardian).pause()).to.be.revertedWithCustomError(vault, "EnforcedPause");
    });

    it("blocks stake, stakeWithPermit and cancelUnstake while paused, and lets them through after unpause", async () => {
      const { vault, token, admin, guardian, alice, dave } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      await vault.connect(alice).requestUnstake(100n * WAD);
      const deadline = (await latest()) + DAY;
      const { v, r, s } = await signPermit(token, dave, await vault.getAddress(), 5n * WAD, deadline);
      await vault.connect(guardian).pause();

      await expect(vault.connect(alice).stake(1n)).to.be.revertedWithCustomError(vault, "EnforcedPause");
      await expect(
        vault.connect(dave).stakeWithPermit(5n * WAD, deadline, v, r, s),
      ).to.be.revertedWithCustomError(vault, "EnforcedPause");
      await expect(vault.connect(alice).cancelUnstake()).to.be.revertedWithCustomError(
        vault,
        "EnforcedPause",
      );

      await vault.connect(admin).unpause();
      await vault.connect(alice).stake(1n);
      await vault.connect(dave).stakeWithPermit(5n * WAD, deadline, v, r, s);
      await vault.connect(alice).cancelUnstake();
      expect(await vault.stakeOf(alice.address)).to.equal(1_000n * WAD + 1n);
      expect(await vault.stakeOf(dave.address)).to.equal(5n * WAD);
    });

    it("never blocks requestUnstake, withdraw or claim, so a pause cannot trap funds", async () => {
      const { vault, token, rewarder, guardian, alice } = await loadFixture(vaultFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(REWARD));
      await at(t + 1n, () => vault.connect(guardian).pause());

      await expect(at(t + PERIOD, () => vault.connect(alice).requestUnstake(1_000n * WAD)))
        .to.emit(vault, "UnstakeRequested")
        .withArgs(alice.address, 1_000n * WAD, 1_000n * WAD, t + PERIOD + COOLDOWN);
      await expect(vault.connect(alice).claim()).to.changeTokenBalance(token, alice, REWARD);
      await time.setNextBlockTimestamp(t + PERIOD + COOLDOWN);
      await expect(vault.connect(alice).withdraw()).to.changeTokenBalance(token, alice, 1_000n * WAD);
      expect(await vault.paused()).to.equal(true);
    });
  });

  describe("reentrancy", () => {
    it("rejects re-entry into every value-moving entry point from a token callback", async () => {
      const { vault, arm, rewarder, alice } = await loadFixture(reentrantVaultFixture);
      const vaultAddress = await vault.getAddress();
      const payloads = [
        vault.interface.encodeFunctionData("stake", [1n]),
        vault.interface.encodeFunctionData("stakeWithPermit", [1n, 0n, 0, ethers.ZeroHash, ethers.ZeroHash]),
        vault.interface.encodeFunctionData("requestUnstake", [1n]),
        vault.interface.encodeFunctionData("cancelUnstake"),
        vault.interface.encodeFunctionData("withdraw"),
        vault.interface.encodeFunctionData("claim"),
        vault.interface.encodeFunctionData("notifyReward", [1n]),
      ];
      const outerCalls = [
        () => vault.connect(alice).stake(1n), // token.transferFrom
        () => vault.connect(alice).stakeWithPermit(1n, 0n, 0, ethers.ZeroHash, ethers.ZeroHash), // transferFrom
        () => vault.connect(alice).withdraw(), // token.transfer
        () => vault.connect(alice).claim(), // token.transfer
        () => vault.connect(rewarder).notifyReward(1n), // token.transferFrom
      ];
      for (const payload of payloads) {
        await arm(vaultAddress, payload, "0x00000000");
        for (const call of outerCalls) {
          await expect(call()).to.be.revertedWithCustomError(vault, "ReentrancyGuardReentrantCall");
        }
      }
      // Disarmed, the same calls go through: the reverts above came from the re-entry alone.
      await arm(ethers.ZeroAddress, "0x", "0x00000000");
      for (const call of outerCalls) await call();
      expect(await vault.stakeOf(alice.address)).to.equal(9n * WAD + 2n);
    });
  });

  describe("accounting", () => {
    it("keeps balance = totalStaked + totalCooling + rewardReserve and Σ earned ≤ rewardReserve through a mixed scenario", async () => {
      const { vault, token, rewarder, alice, bob, carol, locker } = await loadFixture(vaultFixture);
      const stakers = [alice, bob, carol];
      const vaultAddress = await vault.getAddress();
      let claimed = 0n;

      const check = async () => {
        const [staked, cooling, reserve, balance] = await Promise.all([
          vault.totalStaked(),
          vault.totalCooling(),
          vault.rewardReserve(),
          token.balanceOf(vaultAddress),
        ]);
        expect(balance).to.equal(staked + cooling + reserve);
        let sumEarned = 0n;
        let sumStaked = 0n;
        let sumCooling = 0n;
        for (const s of stakers) {
          sumEarned += await vault.earned(s.address);
          sumStaked += await vault.stakeOf(s.address);
          sumCooling += (await vault.coolingOf(s.address))[0];
          expect(await vault.lockedOf(s.address)).to.be.lte(await vault.stakeOf(s.address));
        }
        expect(sumEarned).to.be.lte(reserve);
        expect(sumStaked).to.equal(staked);
        expect(sumCooling).to.equal(cooling);
      };
      const claim = async (s: HardhatEthersSigner, when: bigint) => {
        const before = await token.balanceOf(s.address);
        await at(when, () => vault.connect(s).claim());
        claimed += (await token.balanceOf(s.address)) - before;
      };

      // Odd amounts so that every division rounds.
      const r1 = 1_000n * WAD + 7n;
      const r2 = 333n * WAD + 1n;
      await vault.connect(alice).stake(1_234n * WAD + 567n);
      await vault.connect(bob).stake(3_000n * WAD + 1n);
      await check();
      const t = (await latest()) + 100n;
      await at(t, () => vault.connect(rewarder).notifyReward(r1));
      await check();
      await at(t + 1_001n, () => vault.connect(carol).stake(500n * WAD + 3n));
      await check();
      await at(t + 2_003n, () => vault.connect(alice).requestUnstake(400n * WAD + 9n));
      await check();
      await at(t + 2_500n, () => vault.connect(locker).lock(bob.address, 1_000n * WAD));
      await check();
      await claim(bob, t + 3_007n);
      await check();
      await at(t + 5_011n, () => vault.connect(rewarder).notifyReward(r2));
      await check();
      await at(t + 6_013n, () => vault.connect(alice).cancelUnstake());
      await check();
      await at(t + 7_019n, () => vault.connect(carol).requestUnstake(500n * WAD + 3n));
      await check();
      await claim(carol, t + 40_000n);
      await check();
      await at(t + 7_019n + COOLDOWN, () => vault.connect(carol).withdraw());
      await check();
      await at(t + 7_019n + COOLDOWN + 1n, () => vault.connect(locker).unlock(bob.address, 1_000n * WAD));
      await check();

      // Both streams are over and someone was staked throughout: everything but rounding dust is paid.
      for (const s of stakers) await claim(s, (await latest()) + 1n);
      await check();
      const reserve = await vault.rewardReserve();
      expect(claimed + reserve).to.equal(r1 + r2);
      expect(reserve).to.be.lt(10n ** 6n);
      expect(await token.balanceOf(vaultAddress)).to.equal(1_234n * WAD + 567n + 3_000n * WAD + 1n + reserve);
    });
  });
});
