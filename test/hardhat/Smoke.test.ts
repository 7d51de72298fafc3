import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployCoreFixture, WAD } from "./fixtures";

describe("smoke", () => {
  it("deploys the staking core and mints credit against stake", async () => {
    const { vault, credit, alice } = await loadFixture(deployCoreFixture);
    await vault.connect(alice).stake(10_000n * WAD);
    const quote = await credit.quoteMint(10n * WAD);
    await credit.connect(alice).mint(10n * WAD, quote);
    expect(await vault.lockedOf(alice.address)).to.equal(quote);
    expect(await credit.dailyAllowance(alice.address)).to.equal(10n * WAD);
  });
});
