import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { deployEconomyFixture, DAY, WAD } from "./fixtures";

/*
 * The acceptance scenario of the burn-and-mint engine: six epochs in which the oracle price rises from
 * $2 to $4 and falls to $1, demand (tokens burned for credit) runs below and above the 50,000-token
 * daily emission, and the subsidised share of provider income moves 0 → 50 % → 20 % → 0 → 25 % → 0.
 * Each epoch's ledger is checked against amounts computed by hand, with the supply bounds
 * (maxSupply, the per-epoch mint cap) asserted at every step. Unit tests: BurnMintEngine.test.ts.
 */

const HOUR = 3_600n;
const CAP = 1_000_000n * WAD; // CinderEconomy default epochMintCap
const EMISSION = 50_000n * WAD; // CinderEconomy default emissionPerEpoch
const MAX_SUPPLY = 1_000_000_000n * WAD; // CinderCore default maxSupply

/** The economy fixture, deployed one hour into a fresh UTC day so the genesis epoch is known exactly. */
async function engineFixture() {
  const start = (BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR;
  await time.increaseTo(start);
  const economy = await deployEconomyFixture();
  return { ...economy, genesis: start / DAY };
}

/** Moves the chain one hour into UTC day `epoch`. */
async function goToEpoch(epoch: bigint): Promise<void> {
  await time.increaseTo(epoch * DAY + HOUR);
}

describe("BurnMintEngine economy over six epochs", () => {
  /** One epoch of the scenario; every amount hand-computed in the comments. */
  interface Step {
    price: bigint; // oracle price during the epoch
    burn: bigint; // tokens alice burns for credit paid to provider1 (demand)
    credit: bigint; // credit provider1 receives: burn × price × 0.9975
    spread: bigint; // credit to the treasury: burn × price × 0.0025
    subsidy: bigint; // subsidised credit minted to provider2 (and recorded as subsidised work)
    redeem1: bigint; // credit provider1 redeems
    redeem2: bigint; // credit provider2 redeems
    redeemed: bigint; // tokens minted to redeemers: (redeem1 + redeem2) / price
    ratio: bigint; // subsidyRatio in bps: subsidy / (credit + subsidy)
    mintedIn: bigint; // previous epoch's emission (50,000) distributed in this epoch + redeemed
    net: bigint; // netSupplyChange: redeemed + this epoch's emission (50,000) − burn
  }

  const e = (tokens: string) => ethers.parseEther(tokens);
  const steps: Step[] = [
    // E0, $2: 5,000 burned → $10,000 gross, $25 spread, $9,975 credit; provider1 redeems it: 9,975 / 2.
    {
      price: 2n * WAD,
      burn: e("5000"),
      credit: e("9975"),
      spread: e("25"),
      subsidy: 0n,
      redeem1: e("9975"),
      redeem2: 0n,
      redeemed: e("4987.5"),
      ratio: 0n,
      mintedIn: e("4987.5"), // nothing to distribute at genesis
      net: e("49987.5"), // 4,987.5 + 50,000 − 5,000
    },
    // E1, $3 (rising): 20,000 burned → $60,000 gross, $150 spread, $59,850 credit; as much again subsidised.
    // Both providers redeem: 2 × 59,850 / 3 = 39,900.
    {
      price: 3n * WAD,
      burn: e("20000"),
      credit: e("59850"),
      spread: e("150"),
      subsidy: e("59850"),
      redeem1: e("59850"),
      redeem2: e("59850"),
      redeemed: e("39900"),
      ratio: 5_000n, // 59,850 / 119,700
      mintedIn: e("89900"), // 50,000 + 39,900
      net: e("69900"), // 39,900 + 50,000 − 20,000
    },
    // E2, $4 (peak), demand far above emissions: 200,000 burned → $800,000 gross, $2,000 spread,
    // $798,000 credit, which provider1 holds; $199,500 subsidised, redeemed by provider2: 199,500 / 4.
    {
      price: 4n * WAD,
      burn: e("200000"),
      credit: e("798000"),
      spread: e("2000"),
      subsidy: e("199500"),
      redeem1: 0n,
      redeem2: e("199500"),
      redeemed: e("49875"),
      ratio: 2_000n, // 199,500 / 997,500
      mintedIn: e("99875"), // 50,000 + 49,875
      net: e("-100125"), // 49,875 + 50,000 − 200,000: deflationary
    },
    // E3, $3 (falling): 100,000 burned → $300,000 gross, $750 spread, $299,250 credit, held;
    // provider1 cashes out E2's $798,000 at $3: 266,000 tokens.
    {
      price: 3n * WAD,
      burn: e("100000"),
      credit: e("299250"),
      spread: e("750"),
      subsidy: 0n,
      redeem1: e("798000"),
      redeem2: 0n,
      redeemed: e("266000"),
      ratio: 0n,
      mintedIn: e("316000"), // 50,000 + 266,000
      net: e("216000"), // 266,000 + 50,000 − 100,000
    },
    // E4, $1.50: 30,000 burned → $45,000 gross, $112.50 spread, $44,887.50 credit; $14,962.50 subsidised.
    // provider1 redeems E3's $299,250 and E4's $44,887.50, provider2 its subsidy:
    // (299,250 + 44,887.5 + 14,962.5) / 1.5 = 359,100 / 1.5 = 239,400.
    {
      price: (3n * WAD) / 2n,
      burn: e("30000"),
      credit: e("44887.5"),
      spread: e("112.5"),
      subsidy: e("14962.5"),
      redeem1: e("344137.5"),
      redeem2: e("14962.5"),
      redeemed: e("239400"),
      ratio: 2_500n, // 14,962.5 / 59,850
      mintedIn: e("289400"), // 50,000 + 239,400
      net: e("259400"), // 239,400 + 50,000 − 30,000
    },
    // E5, $1 (trough), demand high again: 400,000 burned → $400,000 gross, $1,000 spread, $399,000 credit,
    // held; no redemptions.
    {
      price: WAD,
      burn: e("400000"),
      credit: e("399000"),
      spread: e("1000"),
      subsidy: 0n,
      redeem1: 0n,
      redeem2: 0n,
      redeemed: 0n,
      ratio: 0n,
      mintedIn: e("50000"), // E4's emission only
      net: e("-350000"), // 0 + 50,000 − 400,000: deflationary
    },
  ];

  it("tracks net supply, subsidy ratio and the mint cap per epoch as price and demand move", async () => {
    const {
      engine,
      token,
      vault,
      oracle,
      computeCredit,
      admin,
      coordinator,
      alice,
      bob,
      provider1,
      provider2,
      genesis,
    } = await loadFixture(engineFixture);
    const initialSupply = 100_000_000n * WAD;
    expect(await token.totalSupply()).to.equal(initialSupply);
    await engine.connect(admin).setSubsidyBudgetUsd(200_000n * WAD); // room for E2's $199,500
    await vault.connect(bob).stake(100_000n * WAD); // a staker to receive the stakers' half

    for (let k = 0; k < steps.length; k++) {
      const s = steps[k];
      const epoch = genesis + BigInt(k);
      const supplyAtStart = await token.totalSupply();
      if (k > 0) {
        await goToEpoch(epoch);
        // The keeper distributes the previous epoch first: 25,000 to the vault, 25,000 to providers.
        await expect(engine.distribute(epoch - 1n))
          .to.emit(engine, "EmissionDistributed")
          .withArgs(epoch - 1n, admin.address, 25_000n * WAD, 25_000n * WAD);
      }
      if ((await oracle.price()) !== s.price) await oracle.connect(admin).setPrice(s.price);

      await expect(engine.connect(alice).mintCredits(s.burn, s.credit, provider1.address))
        .to.emit(engine, "CreditsMinted")
        .withArgs(
          alice.address,
          provider1.address,
          s.burn,
          s.credit,
          (s.burn * s.price) / WAD - s.credit,
          s.price,
        );
      await engine.connect(coordinator).recordWork(provider1.address, s.credit, false);
      if (s.subsidy !== 0n) {
        await engine.connect(coordinator).mintSubsidisedCredits(provider2.address, s.subsidy);
        await engine.connect(coordinator).recordWork(provider2.address, s.subsidy, true);
      }
      let redeemed = 0n;
      for (const [provider, amount] of [
        [provider1, s.redeem1],
        [provider2, s.redeem2],
      ] as const) {
        if (amount === 0n) continue;
        const before = await token.balanceOf(provider.address);
        await engine.connect(provider).redeem(amount, 0n, provider.address);
        redeemed += (await token.balanceOf(provider.address)) - before;
      }
      expect(redeemed).to.equal(s.redeemed);

      const supplyAtEnd = await token.totalSupply();
      // Within the epoch supply moves by what was minted in it minus what was burned.
      expect(supplyAtEnd - supplyAtStart).to.equal(s.mintedIn - s.burn);
      if (s.net < 0n) expect(supplyAtEnd).to.be.lessThan(supplyAtStart); // burn > mint: deflationary epoch
      expect(supplyAtEnd).to.be.at.most(MAX_SUPPLY);
      expect(await engine.mintedIn(epoch)).to.equal(s.mintedIn);
      expect(await engine.mintedIn(epoch)).to.be.at.most(CAP);
      expect(await engine.subsidyRatio(epoch)).to.equal(s.ratio);
      expect(await engine.organicUsd(epoch)).to.equal(s.credit + s.spread); // gross of the spread
    }
    await goToEpoch(genesis + 6n);
    await engine.distribute(genesis + 5n);
    expect(await engine.mintedIn(genesis + 6n)).to.equal(EMISSION);

    // Per-epoch ledger, now that every epoch's emission is known.
    let sumNet = 0n;
    for (let k = 0; k < steps.length; k++) {
      const s = steps[k];
      const epoch = genesis + BigInt(k);
      const ledger = await engine.epochLedger(epoch);
      expect(ledger.tokensBurned).to.equal(s.burn);
      expect(ledger.tokensRedeemed).to.equal(s.redeemed);
      expect(ledger.tokensEmitted).to.equal(EMISSION);
      expect(ledger.subsidyMintedUsd).to.equal(s.subsidy);
      expect(ledger.workUsd).to.equal(s.credit + s.subsidy);
      expect(ledger.subsidisedWorkUsd).to.equal(s.subsidy);
      expect(await engine.netSupplyChange(epoch)).to.equal(s.net);
      sumNet += s.net;
    }
    const netOf = async (k: bigint) => engine.netSupplyChange(genesis + k);
    expect(await netOf(2n)).to.be.lessThan(0n);
    expect(await netOf(5n)).to.be.lessThan(0n);
    expect(await netOf(0n)).to.be.greaterThan(0n);

    // Supply = initial + Σ net: 49,987.5 + 69,900 − 100,125 + 216,000 + 259,400 − 350,000 = 145,162.5
    expect(sumNet).to.equal(e("145162.5"));
    expect(await token.totalSupply()).to.equal(initialSupply + e("145162.5"));
    expect(await token.totalSupply()).to.be.at.most(MAX_SUPPLY);

    // Emissions: 6 × 25,000 streamed to the vault; providers' halves by work share.
    expect(await vault.rewardReserve()).to.equal(150_000n * WAD);
    const all = [0n, 1n, 2n, 3n, 4n, 5n].map((k) => genesis + k);
    // provider1: 25,000 + 12,500 (half of E1) + 20,000 (80 % of E2) + 25,000 + 18,750 (75 % of E4) + 25,000
    await expect(engine.connect(provider1).claimEmissions(all))
      .to.emit(engine, "EmissionClaimed")
      .withArgs(provider1.address, e("126250"));
    // provider2: 12,500 + 5,000 (20 % of E2) + 6,250 (25 % of E4)
    await expect(engine.connect(provider2).claimEmissions(all))
      .to.emit(engine, "EmissionClaimed")
      .withArgs(provider2.address, e("23750"));
    expect(await token.balanceOf(await engine.getAddress())).to.equal(0n); // every share exact, no dust

    // Credit still held: provider1 keeps E5's $399,000; the treasury holds the spreads.
    expect(await computeCredit.balanceOf(provider1.address)).to.equal(e("399000"));
    // 25 + 150 + 2,000 + 750 + 112.5 + 1,000
    expect(await computeCredit.balanceOf(await engine.treasury())).to.equal(e("4037.5"));
  });
});
