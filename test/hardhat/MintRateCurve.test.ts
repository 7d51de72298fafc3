import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture, WAD } from "./fixtures";

// MintRateCurve is an internal library: it is exercised through DailyCredit's `mintRate` and `quoteMint`
// views, with the curve set by governance (`setCurve`) where a test needs other parameters.

const BASE = 90n * WAD; // Venice launch values, the fixture's defaults
const POWER = 2n * WAD;
const TARGET = 38_000n * WAD;

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

const toNumber = (wad: bigint): number => Number(wad) / 1e18;

/** Double-precision reference of the curve, in tokens per credit: base · exp(power · (S / target)^3). */
function referenceRate(supply: bigint, base = BASE, power = POWER, target = TARGET): number {
  const ratio = Number(supply) / Number(target);
  return toNumber(base) * Math.exp(toNumber(power) * ratio ** 3);
}

/** The base rate, up to a protocol-favouring rounding margin: never below it, at most 1e-15 above. */
function expectBaseRate(rate: bigint, base = BASE): void {
  expect(rate).to.be.at.least(base);
  expect(rate - base).to.be.at.most(base / 10n ** 15n);
}

function relativeError(actualWad: bigint, expected: number): number {
  return Math.abs(toNumber(actualWad) - expected) / expected;
}

/**
 * A guaranteed lower bound (to ~1e-50 relative) of the exact curve value in wei, computed with
 * rational BigInt arithmetic: every step rounds down, so the exact rate is never below the result.
 */
function exactRateLowerBound(supply: bigint, base = BASE, power = POWER, target = TARGET): bigint {
  const ONE = 10n ** 60n;
  // y = power / 1e18 · (S / target)^3, scaled by ONE, rounded down.
  const y = (power * supply ** 3n * ONE) / (WAD * target ** 3n);
  // exp(y) = exp(y / 2^n)^(2^n), with y / 2^n small enough for a fast Taylor series.
  let n = 0;
  let z = y;
  while (z > ONE / 16n) {
    z /= 2n;
    n++;
  }
  let term = ONE;
  let sum = ONE;
  for (let i = 1n; term !== 0n; i++) {
    term = (term * z) / ONE / i;
    sum += term;
  }
  for (let i = 0; i < n; i++) sum = (sum * sum) / ONE;
  return (base * sum) / ONE;
}

describe("MintRateCurve", () => {
  describe("rate against an off-chain reference", () => {
    it("matches base·exp(power·(S/target)^3) within 1e-9 on the launch curve for seeded S from 0 to 3.5 × target", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      const rand = xorshift32(0xc1d3);
      // power 2: exponent 2 · 3.5^3 = 85.75 (the curve's top, exponents 90 to 100, is tested below)
      const samples = [0n, 1n, WAD, TARGET / 2n, TARGET, 3n * TARGET, (7n * TARGET) / 2n];
      for (let i = 0; i < 120; i++)
        samples.push(BigInt(Math.floor(rand() * 3.5 * 1e9)) * (TARGET / 10n ** 9n));
      for (const s of samples) {
        const rate = await credit.mintRate(s);
        expect(relativeError(rate, referenceRate(s)), `S = ${s}`).to.be.at.most(1e-9);
      }
    });

    it("matches the reference within 1e-9 from 0 to 4× target when power is 1", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      await credit.connect(admin).setCurve(BASE, WAD, TARGET);
      const rand = xorshift32(0x5eed);
      const samples = [0n, TARGET, 4n * TARGET];
      for (let i = 0; i < 80; i++) samples.push(BigInt(Math.floor(rand() * 4 * 1e9)) * (TARGET / 10n ** 9n));
      for (const s of samples) {
        const rate = await credit.mintRate(s);
        expect(relativeError(rate, referenceRate(s, BASE, WAD)), `S = ${s}`).to.be.at.most(1e-9);
      }
    });

    it("matches the reference within 1e-9 for seeded random curves across the governance bounds", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      const rand = xorshift32(0xbadc0de);
      const logUniform = (lo: number, hi: number) =>
        Math.exp(Math.log(lo) + rand() * (Math.log(hi) - Math.log(lo)));
      for (let c = 0; c < 12; c++) {
        // base from 0.001 to 1e6 tokens (below that the 1-wei grid of the result dominates the error),
        // power from 0 to 10, target from 1 to 1e12 credits.
        const base = BigInt(Math.round(logUniform(1e-3, 1e6) * 1e6)) * 10n ** 12n;
        const power = BigInt(Math.round(rand() * 10 * 1e9)) * 10n ** 9n;
        const target = BigInt(Math.round(logUniform(1, 1e12) * 1e3)) * 10n ** 15n;
        await credit.connect(admin).setCurve(base, power, target);
        // exponents up to 60 keep the double-precision reference comfortably accurate
        const maxRatio = power === 0n ? 4 : Math.min(4, Math.cbrt(60 / toNumber(power)));
        for (let i = 0; i < 10; i++) {
          const s = (BigInt(Math.floor(rand() * maxRatio * 1e9)) * target) / 10n ** 9n;
          const rate = await credit.mintRate(s);
          expect(
            relativeError(rate, referenceRate(s, base, power, target)),
            `base ${base} power ${power} target ${target} S ${s}`,
          ).to.be.at.most(1e-9);
        }
      }
    });

    it("reproduces Venice's observed 93.34 tokens per credit at a supply of 10 000 on the launch curve", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      const rate = await credit.mintRate(10_000n * WAD);
      // rounded to the cent, half up
      expect((rate + 5n * 10n ** 15n) / 10n ** 16n).to.equal(9334n);
      expect(relativeError(rate, 90 * Math.exp(2 * (10_000 / 38_000) ** 3))).to.be.at.most(1e-9);
    });

    it("is the base rate at zero supply and base·e^power at the target supply", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      expectBaseRate(await credit.mintRate(0n));
      expect(relativeError(await credit.mintRate(TARGET), 90 * Math.E ** 2)).to.be.at.most(1e-12);
    });

    it("is flat at the base rate when power is zero", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      await credit.connect(admin).setCurve(BASE, 0n, TARGET);
      for (const s of [0n, 1n, TARGET, 1000n * TARGET, 10n ** 6n * TARGET]) {
        expectBaseRate(await credit.mintRate(s));
      }
    });

    it("never decreases as supply grows", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      // a coarse sweep over the whole curve, then 1-wei steps where the curve is flattest
      let previous = 0n;
      for (let i = 0n; i <= 175n; i++) {
        const rate = await credit.mintRate((i * TARGET) / 50n); // 0 to 3.5 × target
        expect(rate, `step ${i}`).to.be.at.least(previous);
        previous = rate;
      }
      previous = 0n;
      for (let s = 0n; s < 40n; s++) {
        const rate = await credit.mintRate(s);
        expect(rate, `S = ${s} wei`).to.be.at.least(previous);
        previous = rate;
      }
    });
  });

  describe("stake rounding", () => {
    it("quotes a mint as amount × mintRate(supply after the mint), rounded up", async () => {
      const { credit, vault, alice } = await loadFixture(deployCoreFixture);
      await vault.connect(alice).stake(100_000n * WAD);
      const existing = 123n * WAD + 456n;
      await credit.connect(alice).mint(existing, ethers.MaxUint256);
      const rand = xorshift32(0x7a7a);
      for (let i = 0; i < 40; i++) {
        const amount = BigInt(Math.floor(rand() * 2 ** 32)) * BigInt(Math.floor(rand() * 2 ** 32)) + 1n;
        const quote = await credit.quoteMint(amount);
        const exact = amount * (await credit.mintRate(existing + amount)); // × 1e18
        expect(quote * WAD, `amount ${amount}`).to.be.at.least(exact);
        expect((quote - 1n) * WAD, `amount ${amount}`).to.be.below(exact);
      }
    });

    it("locks 91 wei for a 1-wei mint: the exact 90.000…-wei stake rounds up", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      // exact stake = 90 · exp(2 · (1e-18 / 38 000)^3) wei, a hair above 90
      expect(await credit.quoteMint(1n)).to.equal(91n);
    });
  });

  describe("SupplyBeyondCurve", () => {
    it("refuses a supply whose exponent exceeds 100 with SupplyBeyondCurve(supply)", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      // 2 · 3.685^3 = 100.08 (2 · 3.684^3 = 99.997 is still served: see below)
      const outside = (3685n * TARGET) / 1000n;
      await expect(credit.mintRate(outside))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(outside);
      await expect(credit.quoteMint(outside))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(outside);
    });

    it("refuses a supply beyond 1e6 × target even when the exponent would stay small", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      // power 1e-18: at S = 1e6 × target the exponent is 1e-18 · 1e18 = 1, far below 100
      await credit.connect(admin).setCurve(BASE, 1n, TARGET);
      const edge = 10n ** 6n * TARGET;
      expect(relativeError(await credit.mintRate(edge), 90 * Math.E)).to.be.at.most(1e-9);
      await expect(credit.mintRate(edge + 1n))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(edge + 1n);
      // with power 0 the exponent is always 0: only the ratio guard stops the supply
      await credit.connect(admin).setCurve(BASE, 0n, TARGET);
      expectBaseRate(await credit.mintRate(edge));
      await expect(credit.mintRate(edge + 1n))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(edge + 1n);
    });

    it("refuses the largest uint256 supply without overflowing", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      await expect(credit.mintRate(ethers.MaxUint256))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(ethers.MaxUint256);
    });
  });

  // baseRate × e^exponent (in wad) exceeds 2^256 above exponent ≈ 90 for the launch base: the product is
  // taken at full precision, so the curve is served right up to MAX_EXPONENT = 100.
  describe("the whole curve up to the exponent limit", () => {
    it("serves every supply whose exponent is at most 100 on the launch curve", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      // 2 · (S/target)^3 from 90 to 99.997
      for (const permille of [3557n, 3560n, 3600n, 3650n, 3684n]) {
        const s = (permille * TARGET) / 1000n;
        let rate: bigint;
        try {
          rate = await credit.mintRate(s);
        } catch (e) {
          expect.fail(
            `S = ${permille}‰ of target (exponent ${2 * (Number(permille) / 1000) ** 3}): ${String(e)}`,
          );
        }
        expect(relativeError(rate, referenceRate(s)), `S = ${s}`).to.be.at.most(1e-9);
      }
    });

    it("serves an exponent of exactly 100 and refuses one wei of supply more", async () => {
      const { credit, admin } = await loadFixture(deployCoreFixture);
      // power 0.8 at S = 5 × target: exponent = 0.8 · 125 = 100 exactly
      const power = (8n * WAD) / 10n;
      await credit.connect(admin).setCurve(BASE, power, TARGET);
      const edge = 5n * TARGET;
      expect(relativeError(await credit.mintRate(edge), 90 * Math.exp(100))).to.be.at.most(1e-9);
      await expect(credit.mintRate(edge + 1n))
        .to.be.revertedWithCustomError(credit, "SupplyBeyondCurve")
        .withArgs(edge + 1n);
    });
  });

  // solady's expWad approximates and can land a few wei below exp(x); the curve lifts it so that no mint
  // locks less stake than the exact curve asks.
  describe("rounding against the exact curve", () => {
    it("never prices below the exact curve, so no mint locks less stake than the curve asks", async () => {
      const { credit } = await loadFixture(deployCoreFixture);
      const rand = xorshift32(0x1dea);
      const rateBelow: string[] = [];
      const stakeBelow: string[] = [];
      for (let i = 0; i < 300; i++) {
        // supply 0, so a mint of S credits is priced at S
        const s = BigInt(Math.floor(rand() * 5e12)) * 10n ** 9n + BigInt(Math.floor(rand() * 1e9)); // to 5 000 credits
        const floor = exactRateLowerBound(s);
        const rate = await credit.mintRate(s);
        if (rate < floor) rateBelow.push(`S ${s}: rate ${rate} < exact ${floor}`);
        const quote = await credit.quoteMint(s);
        if (quote * WAD < s * floor)
          stakeBelow.push(`mint ${s}: stake ${quote} < exact ${(s * floor) / WAD}`);
      }
      expect(
        stakeBelow.length,
        `${stakeBelow.length} of 300 stakes below the exact one, e.g. ${stakeBelow[0]}`,
      ).to.equal(0);
      expect(
        rateBelow.length,
        `${rateBelow.length} of 300 rates below the exact curve, e.g. ${rateBelow[0]}`,
      ).to.equal(0);
    });
  });
});
