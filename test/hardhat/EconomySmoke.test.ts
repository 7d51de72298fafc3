import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployEconomyFixture, WAD } from "./fixtures";

describe("economy smoke", () => {
  it("burns tokens for compute credit at the oracle price minus the spread", async () => {
    const { engine, computeCredit, alice, treasury } = await loadFixture(deployEconomyFixture);
    await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
    // 100 tokens × $2 = $200 gross; spread 25 bps = $0.50 to the treasury.
    expect(await computeCredit.balanceOf(alice.address)).to.equal((19950n * WAD) / 100n);
    expect(await computeCredit.balanceOf(treasury.address)).to.equal(WAD / 2n);
  });
});
