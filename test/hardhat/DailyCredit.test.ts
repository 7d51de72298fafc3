import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { DailyCredit } from "../../typechain-types";
import { DAY, deployCoreFixture, ROLES, WAD } from "./fixtures";

const CREDIT = WAD; // one credit, 18 decimals
const USD = WAD; // one US dollar, 18 decimals
const STAKE = 500_000n * WAD; // staked by alice, bob and carol in `stakedFixture`
const CURVE = { baseRate: 90n * WAD, power: 2n * WAD, targetSupply: 38_000n * WAD };
const MAX_BASE_RATE = 10n ** 6n * WAD;
const MAX_POWER = 10n * WAD;
const MIN_TARGET = WAD;
const MAX_TARGET = 10n ** 12n * WAD;
const NOON = 12n * 3600n;

const name32 = (name: string) => ethers.encodeBytes32String(name);

/** Deterministic xorshift32; returns floats in [0, 1). */
function xorshift32(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Double-precision reference of the launch curve, tokens per credit at supply S (wei). */
function referenceRate(supply: bigint, baseRate = CURVE.baseRate): number {
  const ratio = Number(supply) / Number(CURVE.targetSupply);
  return (Number(baseRate) / 1e18) * Math.exp(2 * ratio ** 3);
}

/** |stake / amount − rate| / rate, with stake and amount in wei and the rate in tokens per credit. */
function rateError(stake: bigint, amount: bigint, rate: number): number {
  return Math.abs(Number(stake) / Number(amount) - rate) / rate;
}

const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** The core suite, with alice, bob and carol each staking 500 000 tokens. */
async function stakedFixture() {
  const f = await deployCoreFixture();
  for (const s of [f.alice, f.bob, f.carol]) await f.vault.connect(s).stake(STAKE);
  return f;
}

/**
 * `stakedFixture`, then alice and bob mint 10 credits each, and the chain moves to noon of the next UTC
 * day: both hold 10 credits since the day's start.
 */
async function holdersFixture() {
  const f = await stakedFixture();
  await mintAs(f.credit, f.alice, 10n * CREDIT);
  await mintAs(f.credit, f.bob, 10n * CREDIT);
  await goTo((await today()) + 1n);
  return f;
}

async function mintAs(credit: DailyCredit, signer: HardhatEthersSigner, amount: bigint): Promise<bigint> {
  const quote = await credit.quoteMint(amount);
  await credit.connect(signer).mint(amount, quote);
  return quote;
}

async function today(): Promise<bigint> {
  return BigInt(await time.latest()) / DAY;
}

/** Mines an empty block `second` seconds into UTC day `day` (views read the latest block's time). */
async function goTo(day: bigint, second = NOON): Promise<void> {
  await time.increaseTo(day * DAY + second);
}

describe("DailyCredit", () => {
  describe("constructor", () => {
    async function deploy(vault: string, admin: string, creditPerDay: bigint, curve = CURVE) {
      const factory = await ethers.getContractFactory("DailyCredit");
      return {
        factory,
        deployment: factory.deploy("Cinder Daily Credit", "DCR", vault, admin, creditPerDay, curve),
      };
    }

    it("starts with the vault, creditPerDay, curve and admin it was given, and no supply", async () => {
      const { credit, vault, admin } = await loadFixture(deployCoreFixture);
      expect(await credit.vault()).to.equal(await vault.getAddress());
      expect(await credit.creditPerDay()).to.equal(USD);
      expect(await credit.curve()).to.deep.equal([CURVE.baseRate, CURVE.power, CURVE.targetSupply]);
      expect(await credit.hasRole(ROLES.DEFAULT_ADMIN, admin)).to.equal(true);
      expect(await credit.name()).to.equal("Cinder Daily Credit");
      expect(await credit.symbol()).to.equal("DCR");
      expect(await credit.decimals()).to.equal(18n);
      expect(await credit.totalSupply()).to.equal(0n);
    });

    it("refuses a zero vault with ZeroAddress", async () => {
      const { admin } = await loadFixture(deployCoreFixture);
      const { factory, deployment } = await deploy(ethers.ZeroAddress, admin.address, USD);
      await expect(deployment).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });

    it("refuses a zero admin with ZeroAddress", async () => {
      const { vault } = await loadFixture(deployCoreFixture);
      const { factory, deployment } = await deploy(await vault.getAddress(), ethers.ZeroAddress, USD);
      await expect(deployment).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });

    it("refuses a zero creditPerDay with ZeroAmount", async () => {
      const { vault, admin } = await loadFixture(deployCoreFixture);
      const { factory, deployment } = await deploy(await vault.getAddress(), admin.address, 0n);
      await expect(deployment).to.be.revertedWithCustomError(factory, "ZeroAmount");
    });

    it("refuses an initial curve outside the governance bounds with ParameterOutOfBounds", async () => {
      const { vault, admin } = await loadFixture(deployCoreFixture);
      const cases = [
        { curve: { ...CURVE, baseRate: 0n }, args: [name32("baseRate"), 0n, 1n, MAX_BASE_RATE] },
        {
          curve: { ...CURVE, power: MAX_POWER + 1n },
          args: [name32("power"), MAX_POWER + 1n, 0n, MAX_POWER],
        },
        {
          curve: { ...CURVE, targetSupply: MIN_TARGET - 1n },
          args: [name32("targetSupply"), MIN_TARGET - 1n, MIN_TARGET, MAX_TARGET],
        },
      ];
      for (const { curve, args } of cases) {
        const { factory, deployment } = await deploy(await vault.getAddress(), admin.address, USD, curve);
        await expect(deployment)
          .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
          .withArgs(...args);
      }
    });
  });

  describe("mint", () => {
    it("locks exactly quoteMint's stake of the caller in the vault, on DailyCredit's account", async () => {
      const { credit, vault, alice } = await loadFixture(stakedFixture);
      const amount = 10n * CREDIT + 7n;
      const quote = await credit.quoteMint(amount);
      expect(rateError(quote, amount, referenceRate(amount))).to.be.at.most(1e-9);
      expect(await credit.connect(alice).mint.staticCall(amount, quote)).to.equal(quote);

      await expect(credit.connect(alice).mint(amount, quote))
        .to.emit(vault, "StakeLocked")
        .withArgs(alice.address, await credit.getAddress(), quote);
      expect(await vault.lockedBy(alice, credit)).to.equal(quote);
      expect(await vault.lockedOf(alice)).to.equal(quote);
      expect(await vault.stakeOf(alice)).to.equal(STAKE); // locked, not moved
      expect(await credit.balanceOf(alice)).to.equal(amount);
      expect(await credit.totalSupply()).to.equal(amount);
    });

    it("prices a mint at the supply after it: 10 000 credits from zero supply lock 10 000 × 93.34 tokens", async () => {
      const { credit, vault, alice, bob } = await loadFixture(stakedFixture);
      await vault.connect(alice).stake(STAKE); // 1 000 000 staked
      const quote = await mintAs(credit, alice, 10_000n * CREDIT);
      expect(rateError(quote, 10_000n * CREDIT, 93.34)).to.be.at.most(0.0001);
      expect(rateError(quote, 10_000n * CREDIT, referenceRate(10_000n * CREDIT))).to.be.at.most(1e-9);
      // and bob's mint of 2 000 more is priced at a supply of 12 000
      const bobQuote = await mintAs(credit, bob, 2_000n * CREDIT);
      expect(rateError(bobQuote, 2_000n * CREDIT, referenceRate(12_000n * CREDIT))).to.be.at.most(1e-9);
      expect(rateError(bobQuote, 2_000n * CREDIT, referenceRate(2_000n * CREDIT))).to.be.above(1e-3);
    });

    it("records the minted credits and the stake they lock in the minter's position, summed over mints", async () => {
      const { credit, alice, bob } = await loadFixture(stakedFixture);
      const q1 = await mintAs(credit, alice, 3n * CREDIT);
      const q2 = await mintAs(credit, alice, 5n * CREDIT + 1n);
      expect(await credit.positionOf(alice)).to.deep.equal([8n * CREDIT + 1n, q1 + q2]);
      expect(await credit.positionOf(bob)).to.deep.equal([0n, 0n]);
    });

    it("emits CreditMinted with the account, amount, stake locked and rate", async () => {
      const { credit, alice, bob } = await loadFixture(stakedFixture);
      await mintAs(credit, bob, 100n * CREDIT);
      const amount = 42n * CREDIT;
      const quote = await credit.quoteMint(amount);
      const rate = await credit.mintRate(142n * CREDIT);
      await expect(credit.connect(alice).mint(amount, quote))
        .to.emit(credit, "CreditMinted")
        .withArgs(alice.address, amount, quote, rate);
    });

    it("refuses a mint whose stake exceeds maxStakeToLock by 1 wei with StakeLimitExceeded(required, max)", async () => {
      const { credit, alice } = await loadFixture(stakedFixture);
      const quote = await credit.quoteMint(10n * CREDIT);
      await expect(credit.connect(alice).mint(10n * CREDIT, quote - 1n))
        .to.be.revertedWithCustomError(credit, "StakeLimitExceeded")
        .withArgs(quote, quote - 1n);
      await expect(credit.connect(alice).mint(10n * CREDIT, quote)).to.not.be.reverted;
    });

    it("refuses a mint beyond the caller's unlocked stake with the vault's InsufficientUnlockedStake", async () => {
      const { credit, vault, alice, outsider } = await loadFixture(stakedFixture);
      const one = await credit.quoteMint(CREDIT);
      await expect(credit.connect(outsider).mint(CREDIT, one))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(outsider.address, 0n, one);

      // alice locks most of her stake; what is left is less than the next mint needs
      const locked = await mintAs(credit, alice, 5_000n * CREDIT);
      const next = await credit.quoteMint(1_000n * CREDIT);
      expect(next).to.be.above(STAKE - locked);
      await expect(credit.connect(alice).mint(1_000n * CREDIT, next))
        .to.be.revertedWithCustomError(vault, "InsufficientUnlockedStake")
        .withArgs(alice.address, STAKE - locked, next);
      expect(await credit.positionOf(alice)).to.deep.equal([5_000n * CREDIT, locked]);
      expect(await credit.balanceOf(alice)).to.equal(5_000n * CREDIT);
    });

    it("refuses a zero amount with ZeroAmount", async () => {
      const { credit, alice } = await loadFixture(stakedFixture);
      await expect(credit.connect(alice).mint(0n, ethers.MaxUint256)).to.be.revertedWithCustomError(
        credit,
        "ZeroAmount",
      );
    });

    it("refuses a mint that would take supply beyond the curve with SupplyBeyondCurve(supply after)", async () => {
      const { credit, alice } = await loadFixture(stakedFixture);
      await mintAs(credit, alice, CREDIT);
      const amount = 4n * CURVE.targetSupply; // exponent 2 · 4^3 = 128 > 100
      await expect(credit.connect(alice).mint(amount, ethers.MaxUint256))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(amount + CREDIT);
    });

    it("refuses to mint while paused with EnforcedPause, and mints again once unpaused", async () => {
      const { credit, alice, guardian, admin } = await loadFixture(stakedFixture);
      await credit.connect(guardian).pause();
      await expect(credit.connect(alice).mint(CREDIT, ethers.MaxUint256)).to.be.revertedWithCustomError(
        credit,
        "EnforcedPause",
      );
      await credit.connect(admin).unpause();
      await expect(credit.connect(alice).mint(CREDIT, ethers.MaxUint256)).to.not.be.reverted;
    });
  });

  describe("burn", () => {
    it("unlocks the position pro rata, rounded down, and releases the remainder when it closes", async () => {
      const { credit, vault, admin, alice } = await loadFixture(stakedFixture);
      // flat curves: 1 credit at 90 + 1 wei, then 2 credits at 90 each lock 270e18 + 1 wei
      await credit.connect(admin).setCurve(90n * WAD + 1n, 0n, CURVE.targetSupply);
      await mintAs(credit, alice, CREDIT);
      await credit.connect(admin).setCurve(90n * WAD, 0n, CURVE.targetSupply);
      await mintAs(credit, alice, 2n * CREDIT);
      const [credits, stake] = await credit.positionOf(alice);
      expect(credits).to.equal(3n * CREDIT);
      const first = stake / 3n; // a third, rounded down
      const second = (stake - first) / 2n; // half of the rest, rounded down
      // rounding matters: a third of the stake, or half of the rest, is a fraction of a wei
      expect(stake % 3n !== 0n || (stake - first) % 2n !== 0n).to.equal(true);

      expect(await credit.connect(alice).burn.staticCall(CREDIT)).to.equal(first);
      await expect(credit.connect(alice).burn(CREDIT))
        .to.emit(credit, "CreditBurned")
        .withArgs(alice.address, CREDIT, first);
      expect(await credit.positionOf(alice)).to.deep.equal([2n * CREDIT, stake - first]);
      expect(await vault.lockedBy(alice, credit)).to.equal(stake - first);
      await expect(credit.connect(alice).burn(CREDIT))
        .to.emit(credit, "CreditBurned")
        .withArgs(alice.address, CREDIT, second);
      // the last credit closes the position and takes both rounding remainders with it
      await expect(credit.connect(alice).burn(CREDIT))
        .to.emit(credit, "CreditBurned")
        .withArgs(alice.address, CREDIT, stake - first - second);
      expect(await credit.positionOf(alice)).to.deep.equal([0n, 0n]);
      expect(await vault.lockedBy(alice, credit)).to.equal(0n);
      expect(await credit.balanceOf(alice)).to.equal(0n);
    });

    it("leaves no stake locked once a position built from several mints and partial burns is closed", async () => {
      const { credit, vault, alice, bob } = await loadFixture(stakedFixture);
      let locked = 0n;
      for (const amount of [7n * CREDIT + 777n, CREDIT + 1n, 13n * CREDIT + 333_333n]) {
        locked += await mintAs(credit, alice, amount);
        await mintAs(credit, bob, 3n * CREDIT); // moves the supply between alice's mints
      }
      let unlocked = 0n;
      for (const amount of [5n * CREDIT + 1n, 3n, 2n * CREDIT + 12_345n]) {
        unlocked += await credit.connect(alice).burn.staticCall(amount);
        await credit.connect(alice).burn(amount);
      }
      const [rest] = await credit.positionOf(alice);
      unlocked += await credit.connect(alice).burn.staticCall(rest);
      await credit.connect(alice).burn(rest);

      expect(unlocked).to.equal(locked);
      expect(await credit.positionOf(alice)).to.deep.equal([0n, 0n]);
      expect(await vault.lockedBy(alice, credit)).to.equal(0n);
      expect(await vault.lockedOf(alice)).to.equal(0n);
      // the whole stake can leave again
      await expect(vault.connect(alice).requestUnstake(STAKE)).to.not.be.reverted;
    });

    it("burns the credits but unlocks nothing when the pro-rata stake is less than one wei", async () => {
      const { credit, vault, admin, alice } = await loadFixture(stakedFixture);
      await credit.connect(admin).setCurve(1n, 0n, CURVE.targetSupply); // 1e-18 tokens of stake per credit
      await mintAs(credit, alice, 10n * CREDIT);
      const [, stake] = await credit.positionOf(alice);
      expect(stake).to.be.below(100n); // 10 wei

      // 1 % of the position is less than one wei of stake
      await expect(credit.connect(alice).burn(CREDIT / 10n))
        .to.emit(credit, "CreditBurned")
        .withArgs(alice.address, CREDIT / 10n, 0n)
        .and.not.to.emit(vault, "StakeUnlocked");
      expect(await credit.positionOf(alice)).to.deep.equal([10n * CREDIT - CREDIT / 10n, stake]);
      expect(await credit.balanceOf(alice)).to.equal(10n * CREDIT - CREDIT / 10n);
      expect(await vault.lockedBy(alice, credit)).to.equal(stake);
    });

    it("refuses to burn more than the position with BurnExceedsPosition(account, position, amount)", async () => {
      const { credit, alice } = await loadFixture(stakedFixture);
      await mintAs(credit, alice, 10n * CREDIT);
      await expect(credit.connect(alice).burn(10n * CREDIT + 1n))
        .to.be.revertedWithCustomError(credit, "BurnExceedsPosition")
        .withArgs(alice.address, 10n * CREDIT, 10n * CREDIT + 1n);
    });

    it("gives credits received by transfer no position, so the receiver cannot burn them", async () => {
      const { credit, alice, outsider } = await loadFixture(stakedFixture);
      await mintAs(credit, alice, 10n * CREDIT);
      await credit.connect(alice).transfer(outsider, 4n * CREDIT);
      expect(await credit.positionOf(outsider)).to.deep.equal([0n, 0n]);
      await expect(credit.connect(outsider).burn(CREDIT))
        .to.be.revertedWithCustomError(credit, "BurnExceedsPosition")
        .withArgs(outsider.address, 0n, CREDIT);
    });

    it("refuses to burn position credits that were transferred away with ERC20InsufficientBalance", async () => {
      const { credit, alice, bob } = await loadFixture(stakedFixture);
      await mintAs(credit, alice, 10n * CREDIT);
      await credit.connect(alice).transfer(bob, 4n * CREDIT);
      await expect(credit.connect(alice).burn(10n * CREDIT))
        .to.be.revertedWithCustomError(credit, "ERC20InsufficientBalance")
        .withArgs(alice.address, 6n * CREDIT, 10n * CREDIT);
    });

    it("refuses a zero amount with ZeroAmount", async () => {
      const { credit, alice } = await loadFixture(stakedFixture);
      await mintAs(credit, alice, CREDIT);
      await expect(credit.connect(alice).burn(0n)).to.be.revertedWithCustomError(credit, "ZeroAmount");
    });

    it("stays open while paused, so a pause never traps locked stake", async () => {
      const { credit, vault, alice, guardian } = await loadFixture(stakedFixture);
      const quote = await mintAs(credit, alice, 10n * CREDIT);
      await credit.connect(guardian).pause();
      await expect(credit.connect(alice).burn(10n * CREDIT))
        .to.emit(credit, "CreditBurned")
        .withArgs(alice.address, 10n * CREDIT, quote);
      expect(await vault.lockedBy(alice, credit)).to.equal(0n);
    });
  });

  describe("daily allowance", () => {
    it("makes newly minted credits spendable the same day, on top of the credits held at the day's start", async () => {
      const { credit, spender, alice, carol } = await loadFixture(holdersFixture);
      await mintAs(credit, carol, 7n * CREDIT);
      expect(await credit.dailyAllowance(carol)).to.equal(7n * USD);
      await credit.connect(spender).spend(carol, 7n * USD);
      expect(await credit.dailyAllowance(carol)).to.equal(0n);

      await mintAs(credit, alice, 3n * CREDIT);
      expect(await credit.dailyAllowance(alice)).to.equal(13n * USD);
    });

    it("does not let the receiver spend credits received by transfer until the next UTC day", async () => {
      const { credit, spender, alice, bob, carol } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(alice).transfer(carol, 4n * CREDIT);
      await credit.connect(alice).transfer(bob, 2n * CREDIT);
      expect(await credit.dailyAllowance(carol)).to.equal(0n);
      expect(await credit.dailyAllowance(bob)).to.equal(10n * USD); // his own 10, not the 2 received
      await expect(credit.connect(spender).spend(carol, 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(carol.address, 0n, 1n);

      await goTo(day + 1n, 0n); // 00:00:00 UTC
      expect(await credit.dailyAllowance(carol)).to.equal(4n * USD);
      expect(await credit.dailyAllowance(bob)).to.equal(12n * USD);
      expect(await credit.dailyAllowance(alice)).to.equal(4n * USD);
      await credit.connect(spender).spend(carol, 4n * USD);
    });

    it("stops counting credits sent away at once", async () => {
      const { credit, spender, alice, carol } = await loadFixture(holdersFixture);
      await credit.connect(alice).transfer(carol, 3n * CREDIT);
      expect(await credit.dailyAllowance(alice)).to.equal(7n * USD);
      await credit.connect(alice).transfer(carol, 7n * CREDIT);
      expect(await credit.dailyAllowance(alice)).to.equal(0n);
      await expect(credit.connect(spender).spend(alice, 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(alice.address, 0n, 1n);
    });

    it("floors the allowance at zero when credits already spent are sent away", async () => {
      const { credit, spender, alice, carol } = await loadFixture(holdersFixture);
      await credit.connect(spender).spend(alice, 8n * USD);
      await credit.connect(alice).transfer(carol, 5n * CREDIT); // budget 5 < spent 8
      expect(await credit.dailyAllowance(alice)).to.equal(0n);
      await expect(credit.connect(spender).spend(alice, 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(alice.address, 0n, 1n);
      await credit.connect(carol).transfer(alice, 5n * CREDIT);
      expect(await credit.dailyAllowance(alice)).to.equal(2n * USD);
    });

    it("never lets a credit spent today be spent again today by the account it is sent to", async () => {
      const { credit, spender, alice, bob, carol } = await loadFixture(holdersFixture);
      await credit.connect(spender).spend(alice, 10n * USD);
      await credit.connect(alice).transfer(carol, 6n * CREDIT);
      await credit.connect(alice).transfer(bob, 4n * CREDIT);
      expect(await credit.dailyAllowance(carol)).to.equal(0n);
      expect(await credit.dailyAllowance(bob)).to.equal(10n * USD); // only his own 10
      await credit.connect(bob).transfer(carol, 14n * CREDIT); // and a second hop changes nothing
      expect(await credit.dailyAllowance(carol)).to.equal(0n);
      expect(await credit.dailyAllowance(bob)).to.equal(0n);
    });

    it("restores no more than was left unspent when credits go away and come back the same day", async () => {
      const { credit, spender, alice, bob, carol } = await loadFixture(holdersFixture);
      await credit.connect(spender).spend(alice, 4n * USD);
      await credit.connect(alice).transfer(bob, 10n * CREDIT);
      await credit.connect(bob).transfer(alice, 10n * CREDIT); // A → B → A
      expect(await credit.dailyAllowance(alice)).to.equal(6n * USD);
      expect(await credit.dailyAllowance(bob)).to.equal(10n * USD);

      await credit.connect(alice).transfer(bob, 10n * CREDIT);
      await credit.connect(bob).transfer(carol, 10n * CREDIT);
      await credit.connect(carol).transfer(alice, 10n * CREDIT); // A → B → C → A
      await credit.connect(alice).transfer(alice, 10n * CREDIT); // to itself
      expect(await credit.dailyAllowance(alice)).to.equal(6n * USD);
      expect(await credit.dailyAllowance(bob)).to.equal(10n * USD);
      expect(await credit.dailyAllowance(carol)).to.equal(0n);
    });

    it("gives no extra allowance for minting, spending, burning and minting again the same day", async () => {
      const { credit, spender, alice, carol } = await loadFixture(holdersFixture);
      // a fresh minter
      await mintAs(credit, carol, 10n * CREDIT);
      await credit.connect(spender).spend(carol, 10n * USD);
      await credit.connect(carol).burn(10n * CREDIT);
      await mintAs(credit, carol, 10n * CREDIT);
      expect(await credit.dailyAllowance(carol)).to.equal(0n);
      await expect(credit.connect(spender).spend(carol, 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(carol.address, 0n, 1n);
      // a holder since yesterday
      await credit.connect(spender).spend(alice, 10n * USD);
      await credit.connect(alice).burn(10n * CREDIT);
      await mintAs(credit, alice, 10n * CREDIT);
      expect(await credit.dailyAllowance(alice)).to.equal(0n);
    });

    it("resets at exactly 00:00 UTC and does not roll unused allowance over", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(spender).spend(alice, 4n * USD);

      // 23:59:59 still belongs to the day
      await time.setNextBlockTimestamp((day + 1n) * DAY - 1n);
      await expect(credit.connect(spender).spend(alice, USD))
        .to.emit(credit, "AllowanceSpent")
        .withArgs(alice.address, spender.address, day, USD);
      expect(await credit.spentToday(alice)).to.equal(5n * USD);
      expect(await credit.dailyAllowance(alice)).to.equal(5n * USD);

      // 00:00:00 starts the next day: 10 again, not 15, not 5
      await time.setNextBlockTimestamp((day + 1n) * DAY);
      await mine();
      expect(await credit.currentDay()).to.equal(day + 1n);
      expect(await credit.dailyAllowance(alice)).to.equal(10n * USD);
      expect(await credit.spentToday(alice)).to.equal(0n);
      await expect(credit.connect(spender).spend(alice, 10n * USD + 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(alice.address, 10n * USD, 10n * USD + 1n);
      await expect(credit.connect(spender).spend(alice, 10n * USD))
        .to.emit(credit, "AllowanceSpent")
        .withArgs(alice.address, spender.address, day + 1n, 10n * USD);

      // three idle days later: still 10
      await goTo(day + 4n);
      expect(await credit.dailyAllowance(alice)).to.equal(10n * USD);
    });

    it("is worth creditPerDay USD per credit, rounded down", async () => {
      const { vault, admin, spender, alice } = await loadFixture(stakedFixture);
      const factory = await ethers.getContractFactory("DailyCredit");
      const credit = await factory.deploy(
        "Credit",
        "C",
        await vault.getAddress(),
        admin.address,
        (5n * USD) / 2n,
        CURVE,
      );
      await vault.connect(admin).grantRole(ROLES.LOCKER, await credit.getAddress());
      await credit.connect(admin).grantRole(ROLES.SPENDER, spender.address);
      expect(await credit.creditPerDay()).to.equal((5n * USD) / 2n);

      await mintAs(credit, alice, 4n * CREDIT);
      expect(await credit.dailyAllowance(alice)).to.equal(10n * USD);
      await credit.connect(alice).transfer(admin, 4n * CREDIT - 3n);
      expect(await credit.dailyAllowance(alice)).to.equal(7n); // 3 wei × 2.5 = 7.5 wei
      await credit.connect(spender).spend(alice, 7n);
      expect(await credit.dailyAllowance(alice)).to.equal(0n);
    });

    it("reports today's UTC day and spending through currentDay and spentToday", async () => {
      const { credit, spender, alice, bob } = await loadFixture(holdersFixture);
      expect(await credit.currentDay()).to.equal(BigInt(await time.latest()) / DAY);
      await credit.connect(spender).spend(alice, 3n * USD);
      await credit.connect(spender).spend(alice, 2n * USD + 5n);
      expect(await credit.spentToday(alice)).to.equal(5n * USD + 5n);
      expect(await credit.spentToday(bob)).to.equal(0n);
      await goTo((await today()) + 1n, 0n);
      expect(await credit.spentToday(alice)).to.equal(0n);
    });
  });

  describe("spend", () => {
    it("may be called only by SPENDER_ROLE", async () => {
      const { credit, alice, admin, outsider } = await loadFixture(holdersFixture);
      for (const caller of [outsider, alice, admin]) {
        await expect(credit.connect(caller).spend(alice, USD))
          .to.be.revertedWithCustomError(credit, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.SPENDER);
      }
    });

    it("refuses a zero amount with ZeroAmount", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      await expect(credit.connect(spender).spend(alice, 0n)).to.be.revertedWithCustomError(
        credit,
        "ZeroAmount",
      );
    });

    it("refuses 1 wei over the remaining allowance with InsufficientDailyAllowance(account, available, needed)", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      await credit.connect(spender).spend(alice, 3n);
      const available = 10n * USD - 3n;
      await expect(credit.connect(spender).spend(alice, available + 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(alice.address, available, available + 1n);
      await credit.connect(spender).spend(alice, available);
      expect(await credit.dailyAllowance(alice)).to.equal(0n);
    });

    it("emits AllowanceSpent with the account, spender, UTC day (timestamp / 86 400) and amount", async () => {
      const { credit, spender, bob } = await loadFixture(holdersFixture);
      const at = BigInt(await time.latest()) + 100n;
      await time.setNextBlockTimestamp(at);
      await expect(credit.connect(spender).spend(bob, 6n * USD))
        .to.emit(credit, "AllowanceSpent")
        .withArgs(bob.address, spender.address, at / 86_400n, 6n * USD);
    });
  });

  describe("refund", () => {
    it("may be called only by SPENDER_ROLE", async () => {
      const { credit, spender, alice, admin, outsider } = await loadFixture(holdersFixture);
      await credit.connect(spender).spend(alice, 4n * USD);
      const day = await today();
      for (const caller of [outsider, alice, admin]) {
        await expect(credit.connect(caller).refund(alice, day, USD))
          .to.be.revertedWithCustomError(credit, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.SPENDER);
      }
      expect(await credit.spentToday(alice)).to.equal(4n * USD);
    });

    it("restores part of today's spending, returns it and emits AllowanceRefunded(account, spender, day, usd)", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(spender).spend(alice, 6n * USD);
      expect(await credit.connect(spender).refund.staticCall(alice, day, 4n * USD)).to.equal(4n * USD);
      await expect(credit.connect(spender).refund(alice, day, 4n * USD))
        .to.emit(credit, "AllowanceRefunded")
        .withArgs(alice.address, spender.address, day, 4n * USD);
      expect(await credit.spentToday(alice)).to.equal(2n * USD);
      expect(await credit.dailyAllowance(alice)).to.equal(8n * USD);
      // The restored allowance is spendable again today, to the wei.
      await expect(credit.connect(spender).spend(alice, 8n * USD + 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(alice.address, 8n * USD, 8n * USD + 1n);
      await credit.connect(spender).spend(alice, 8n * USD);
      expect(await credit.dailyAllowance(alice)).to.equal(0n);
    });

    it("caps the refund at what was spent today: never more allowance than creditPerDay × balance", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(spender).spend(alice, 3n * USD);
      expect(await credit.connect(spender).refund.staticCall(alice, day, 5n * USD)).to.equal(3n * USD);
      await expect(credit.connect(spender).refund(alice, day, 5n * USD))
        .to.emit(credit, "AllowanceRefunded")
        .withArgs(alice.address, spender.address, day, 3n * USD);
      expect(await credit.spentToday(alice)).to.equal(0n);
      expect(await credit.dailyAllowance(alice)).to.equal(10n * USD);
      // Nothing left to refund.
      expect(await credit.connect(spender).refund.staticCall(alice, day, USD)).to.equal(0n);
      await credit.connect(spender).refund(alice, day, USD);
      expect(await credit.dailyAllowance(alice)).to.equal(10n * USD);
    });

    it("returns 0 and changes nothing for another day: yesterday's spending never comes back, nor a future day's", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(spender).spend(alice, 4n * USD);
      await goTo(day + 1n);
      await credit.connect(spender).spend(alice, 3n * USD);
      for (const other of [day, day + 2n]) {
        expect(await credit.connect(spender).refund.staticCall(alice, other, 4n * USD)).to.equal(0n);
        await expect(credit.connect(spender).refund(alice, other, 4n * USD)).not.to.emit(
          credit,
          "AllowanceRefunded",
        );
      }
      expect(await credit.spentToday(alice)).to.equal(3n * USD);
      expect(await credit.dailyAllowance(alice)).to.equal(7n * USD);
    });

    it("returns 0 and changes nothing when the account's ledger is of an older day (nothing spent today)", async () => {
      const { credit, spender, alice } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(spender).spend(alice, 4n * USD); // the ledger now holds day `day`, spent 4
      await goTo(day + 1n);
      expect(await credit.connect(spender).refund.staticCall(alice, day + 1n, 4n * USD)).to.equal(0n);
      await expect(credit.connect(spender).refund(alice, day + 1n, 4n * USD)).not.to.emit(
        credit,
        "AllowanceRefunded",
      );
      expect(await credit.spentToday(alice)).to.equal(0n);
      expect(await credit.dailyAllowance(alice)).to.equal(10n * USD);
      await expect(credit.connect(spender).spend(alice, 10n * USD + 1n))
        .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
        .withArgs(alice.address, 10n * USD, 10n * USD + 1n);
    });

    it("refunds only the account named: another account's spending is untouched", async () => {
      const { credit, spender, alice, bob } = await loadFixture(holdersFixture);
      const day = await today();
      await credit.connect(spender).spend(alice, 2n * USD);
      await credit.connect(spender).spend(bob, 5n * USD);
      await credit.connect(spender).refund(bob, day, 5n * USD);
      expect(await credit.spentToday(bob)).to.equal(0n);
      expect(await credit.spentToday(alice)).to.equal(2n * USD);
    });
  });

  describe("setCurve", () => {
    it("may be called only by the admin", async () => {
      const { credit, guardian, outsider } = await loadFixture(deployCoreFixture);
      for (const caller of [outsider, guardian]) {
        await expect(credit.connect(caller).setCurve(CURVE.baseRate, CURVE.power, CURVE.targetSupply))
          .to.be.revertedWithCustomError(credit, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("refuses each parameter 1 wei outside its bounds with ParameterOutOfBounds(name, value, min, max)", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      const { baseRate, power, targetSupply } = CURVE;
      const cases: [bigint, bigint, bigint, unknown[]][] = [
        [0n, power, targetSupply, [name32("baseRate"), 0n, 1n, MAX_BASE_RATE]],
        [
          MAX_BASE_RATE + 1n,
          power,
          targetSupply,
          [name32("baseRate"), MAX_BASE_RATE + 1n, 1n, MAX_BASE_RATE],
        ],
        [baseRate, MAX_POWER + 1n, targetSupply, [name32("power"), MAX_POWER + 1n, 0n, MAX_POWER]],
        [baseRate, power, MIN_TARGET - 1n, [name32("targetSupply"), MIN_TARGET - 1n, MIN_TARGET, MAX_TARGET]],
        [baseRate, power, MAX_TARGET + 1n, [name32("targetSupply"), MAX_TARGET + 1n, MIN_TARGET, MAX_TARGET]],
      ];
      for (const [b, p, t, args] of cases) {
        await expect(credit.connect(admin).setCurve(b, p, t))
          .to.be.revertedWithCustomError(credit, "ParameterOutOfBounds")
          .withArgs(...args);
      }
      expect(await credit.curve()).to.deep.equal([baseRate, power, targetSupply]);
    });

    it("accepts each parameter at its bounds", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      await credit.connect(admin).setCurve(1n, 0n, MIN_TARGET);
      expect(await credit.curve()).to.deep.equal([1n, 0n, MIN_TARGET]);
      await credit.connect(admin).setCurve(MAX_BASE_RATE, MAX_POWER, MAX_TARGET);
      expect(await credit.curve()).to.deep.equal([MAX_BASE_RATE, MAX_POWER, MAX_TARGET]);
    });

    it("emits CurveUpdated and curve() returns the new parameters", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      await expect(credit.connect(admin).setCurve(120n * WAD, 3n * WAD, 50_000n * WAD))
        .to.emit(credit, "CurveUpdated")
        .withArgs(120n * WAD, 3n * WAD, 50_000n * WAD);
      expect(await credit.curve()).to.deep.equal([120n * WAD, 3n * WAD, 50_000n * WAD]);
    });

    it("prices only future mints: an existing position keeps its locked stake", async () => {
      const { credit, vault, admin, alice, bob } = await loadFixture(stakedFixture);
      const aliceStake = await mintAs(credit, alice, 10n * CREDIT);
      await credit.connect(admin).setCurve(2n * CURVE.baseRate, CURVE.power, CURVE.targetSupply);

      expect(await credit.positionOf(alice)).to.deep.equal([10n * CREDIT, aliceStake]);
      expect(await vault.lockedBy(alice, credit)).to.equal(aliceStake);
      const bobStake = await mintAs(credit, bob, 10n * CREDIT);
      expect(
        rateError(bobStake, 10n * CREDIT, referenceRate(20n * CREDIT, 2n * CURVE.baseRate)),
      ).to.be.at.most(1e-9);
      // burning unlocks what was locked, not a re-priced amount
      await expect(credit.connect(alice).burn(10n * CREDIT))
        .to.emit(credit, "CreditBurned")
        .withArgs(alice.address, 10n * CREDIT, aliceStake);
    });
  });

  describe("invariant: seeded random scenario", () => {
    it("keeps each allowance on the day-ledger formula and Σ spent ≤ creditPerDay × (supply at day start + minted that day)", async () => {
      const { credit, vault, spender, alice, bob, carol, outsider } = await loadFixture(stakedFixture);
      const rand = xorshift32(0xd1e5);
      const randBelow = (max: bigint) => (max * BigInt(Math.floor(rand() * 1e9))) / 1_000_000_000n; // [0, max)
      const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];

      // The model: the balance at the day's start is snapshot at 00:00 for every account; burns offset mints.
      type Account = {
        signer: HardhatEthersSigner;
        balance: bigint;
        dayStart: bigint;
        minted: bigint;
        burned: bigint;
        spent: bigint;
        credits: bigint;
        stake: bigint;
      };
      const accounts: Account[] = [alice, bob, carol, outsider].map((signer) => ({
        signer,
        balance: 0n,
        dayStart: 0n,
        minted: 0n,
        burned: 0n,
        spent: 0n,
        credits: 0n,
        stake: 0n,
      }));
      const minters = accounts.slice(0, 3); // outsider has no stake: only receives, sends and spends
      const creditPerDay = await credit.creditPerDay();
      const allowance = (a: Account) => {
        const fresh = a.minted > a.burned ? a.minted - a.burned : 0n;
        const budget = (min(a.dayStart + fresh, a.balance) * creditPerDay) / WAD;
        return budget > a.spent ? budget - a.spent : 0n;
      };
      let t = BigInt(await time.latest());
      let day = t / DAY;
      let supplyAtDayStart = 0n;
      let mintedToday = 0n;
      let spentToday = 0n;
      const seen = { days: 1, mints: 0, transfers: 0, spends: 0, refusedSpends: 0, burns: 0 };

      for (let step = 0; step < 120; step++) {
        // Time: mostly minutes, sometimes up to a day and a half. The action lands right after `t`, same day.
        t += 2n + BigInt(Math.floor(rand() < 0.12 ? rand() * 1.5 * 86_400 : rand() * 900));
        if (t % DAY > DAY - 10n) t += 10n; // keep clear of midnight
        await time.increaseTo(t);
        if (t / DAY !== day) {
          day = t / DAY;
          seen.days++;
          for (const a of accounts) [a.dayStart, a.minted, a.burned, a.spent] = [a.balance, 0n, 0n, 0n];
          supplyAtDayStart = accounts.reduce((sum, a) => sum + a.balance, 0n);
          mintedToday = 0n;
          spentToday = 0n;
        }

        const holders = accounts.filter((a) => a.balance > 0n);
        const burners = minters.filter((a) => a.credits > 0n && a.balance > 0n);
        const r = rand();
        if (r < 0.25 || holders.length === 0) {
          const a = pick(minters);
          const amount = BigInt(1 + Math.floor(rand() * 40e6)) * 10n ** 12n; // up to 40 credits
          const quote = await credit.quoteMint(amount);
          const supplyAfter = accounts.reduce((sum, x) => sum + x.balance, 0n) + amount;
          expect(rateError(quote, amount, referenceRate(supplyAfter))).to.be.at.most(1e-9);
          await credit.connect(a.signer).mint(amount, quote);
          a.balance += amount;
          a.minted += amount;
          a.credits += amount;
          a.stake += quote;
          mintedToday += amount;
          seen.mints++;
        } else if (r < 0.5) {
          const from = pick(holders);
          const to = pick(accounts);
          const amount = rand() < 0.2 ? from.balance : randBelow(from.balance) + 1n;
          await credit.connect(from.signer).transfer(to.signer, amount);
          from.balance -= amount;
          to.balance += amount;
          seen.transfers++;
        } else if (r < 0.85 || burners.length === 0) {
          const a = pick(accounts);
          const available = allowance(a);
          const u = rand();
          const usd =
            available > 0n && u < 0.6
              ? randBelow(available) + 1n
              : available > 0n && u < 0.8
                ? available
                : available + 1n + randBelow(5n * USD);
          if (usd <= available) {
            await credit.connect(spender).spend(a.signer, usd);
            a.spent += usd;
            spentToday += usd;
            seen.spends++;
          } else {
            await expect(credit.connect(spender).spend(a.signer, usd))
              .to.be.revertedWithCustomError(credit, "InsufficientDailyAllowance")
              .withArgs(a.signer.address, available, usd);
            seen.refusedSpends++;
          }
        } else {
          const a = pick(burners);
          const burnable = min(a.credits, a.balance);
          const amount = rand() < 0.3 ? burnable : randBelow(burnable) + 1n;
          const unlocked = amount === a.credits ? a.stake : (a.stake * amount) / a.credits;
          await expect(credit.connect(a.signer).burn(amount))
            .to.emit(credit, "CreditBurned")
            .withArgs(a.signer.address, amount, unlocked);
          a.balance -= amount;
          a.burned += amount;
          a.credits -= amount;
          a.stake -= unlocked;
          seen.burns++;
        }

        for (const a of accounts) {
          expect(await credit.balanceOf(a.signer), `step ${step} balance`).to.equal(a.balance);
          expect(await credit.dailyAllowance(a.signer), `step ${step} allowance`).to.equal(allowance(a));
          expect(await credit.spentToday(a.signer), `step ${step} spentToday`).to.equal(a.spent);
        }
        for (const a of minters) {
          expect(await credit.positionOf(a.signer), `step ${step} position`).to.deep.equal([
            a.credits,
            a.stake,
          ]);
          expect(await vault.lockedBy(a.signer, credit), `step ${step} locked`).to.equal(a.stake);
        }
        expect(await credit.totalSupply()).to.equal(accounts.reduce((sum, a) => sum + a.balance, 0n));
        // DESIGN.md invariant 3
        expect(spentToday * WAD, `step ${step} Σ spent`).to.be.at.most(
          creditPerDay * (supplyAtDayStart + mintedToday),
        );
      }
      // the scenario exercised what it claims to
      expect(seen.days).to.be.at.least(4);
      for (const count of [seen.mints, seen.transfers, seen.spends, seen.refusedSpends, seen.burns]) {
        expect(count).to.be.at.least(5);
      }
    });
  });

  describe("reentrancy guard", () => {
    it("rejects re-entry into mint or burn from a vault callback with ReentrancyGuardReentrantCall", async () => {
      const { admin, alice } = await loadFixture(deployCoreFixture);
      // A hostile vault (contracts/mocks/ReentrantCallback) calls DailyCredit back from vault.lock.
      const hostile = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      const credit = await (
        await ethers.getContractFactory("DailyCredit")
      ).deploy("C", "C", hostile, admin.address, USD, CURVE);
      for (const payload of [
        credit.interface.encodeFunctionData("mint", [1n, ethers.MaxUint256]),
        credit.interface.encodeFunctionData("burn", [1n]),
      ]) {
        await hostile.arm(await credit.getAddress(), payload, "0x00000000");
        await expect(credit.connect(alice).mint(CREDIT, ethers.MaxUint256)).to.be.revertedWithCustomError(
          credit,
          "ReentrancyGuardReentrantCall",
        );
      }
    });
  });

  // The plain DESIGN.md formula counted a re-mint of burned received credits as fresh "minted today" credit,
  // letting the same locked stake buy k days of inference in one day across k accounts. Burns now offset
  // mints within the day.
  describe("burning and re-minting cannot refresh received credits", () => {
    it("does not let credits spent today be spent again today by a minter who receives, burns and re-mints them", async () => {
      const { credit, spender, alice, bob } = await loadFixture(stakedFixture);
      // day D: alice and bob mint 10 each; bob hands his 10 to alice
      await mintAs(credit, alice, 10n * CREDIT);
      await mintAs(credit, bob, 10n * CREDIT);
      await credit.connect(bob).transfer(alice, 10n * CREDIT);
      await goTo((await today()) + 1n);

      // day D + 1: 20 credits exist all day; alice spends all 20 and sends 10 of them to bob
      await credit.connect(spender).spend(alice, 20n * USD);
      await credit.connect(alice).transfer(bob, 10n * CREDIT);
      expect(await credit.dailyAllowance(bob)).to.equal(0n); // received today: not spendable
      // bob closes his position with the received credits and mints 10 again with the freed stake
      await credit.connect(bob).burn(10n * CREDIT);
      await mintAs(credit, bob, 10n * CREDIT);
      expect(await credit.totalSupply()).to.equal(20n * CREDIT);

      expect(await credit.dailyAllowance(bob), "bob's allowance after burning and re-minting").to.equal(0n);
    });
  });
});
