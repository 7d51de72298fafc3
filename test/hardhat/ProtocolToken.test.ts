import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { deployCoreFixture, ROLES, WAD } from "./fixtures";
import { signPermit } from "./permit";

const INITIAL_SUPPLY = 100_000_000n * WAD; // CinderCore default
const MAX_SUPPLY = 1_000_000_000n * WAD; // CinderCore default
const HEADROOM = 900_000_000n * WAD; // MAX_SUPPLY − INITIAL_SUPPLY

describe("ProtocolToken", () => {
  describe("deployment", () => {
    it("is the Cinder (CNDR) token with 18 decimals, a 100M supply and a 1B cap", async () => {
      const { token } = await loadFixture(deployCoreFixture);
      expect(await token.name()).to.equal("Cinder");
      expect(await token.symbol()).to.equal("CNDR");
      expect(await token.decimals()).to.equal(18n);
      expect(await token.totalSupply()).to.equal(INITIAL_SUPPLY);
      expect(await token.maxSupply()).to.equal(MAX_SUPPLY);
      expect(await token.MINTER_ROLE()).to.equal(ethers.id("MINTER_ROLE"));
    });

    it("mints the whole initial supply to the treasury and nothing to the admin", async () => {
      const { treasury, admin } = await loadFixture(deployCoreFixture);
      const factory = await ethers.getContractFactory("ProtocolToken");
      const token = await factory.deploy(
        "Test",
        "TST",
        5_000n * WAD,
        9_000n * WAD,
        treasury.address,
        admin.address,
      );
      await expect(token.deploymentTransaction())
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, treasury.address, 5_000n * WAD);
      expect(await token.balanceOf(treasury.address)).to.equal(5_000n * WAD);
      expect(await token.balanceOf(admin.address)).to.equal(0n);
      expect(await token.totalSupply()).to.equal(5_000n * WAD);
      expect(await token.maxSupply()).to.equal(9_000n * WAD);
    });

    it("gives DEFAULT_ADMIN_ROLE to the admin only, and MINTER_ROLE to nobody", async () => {
      const { treasury, admin } = await loadFixture(deployCoreFixture);
      const factory = await ethers.getContractFactory("ProtocolToken");
      const token = await factory.deploy("Test", "TST", 1n, 2n, treasury.address, admin.address);
      expect(await token.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await token.hasRole(ROLES.DEFAULT_ADMIN, treasury.address)).to.equal(false);
      expect(await token.hasRole(ROLES.MINTER, admin.address)).to.equal(false);
      expect(await token.hasRole(ROLES.MINTER, treasury.address)).to.equal(false);
    });

    it("rejects a zero treasury or a zero admin with ZeroAddress", async () => {
      const { treasury, admin } = await loadFixture(deployCoreFixture);
      const factory = await ethers.getContractFactory("ProtocolToken");
      await expect(
        factory.deploy("Test", "TST", 1n, 2n, ethers.ZeroAddress, admin.address),
      ).to.be.revertedWithCustomError(factory, "ZeroAddress");
      await expect(
        factory.deploy("Test", "TST", 1n, 2n, treasury.address, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });

    it("rejects an initial supply above the max supply with InitialSupplyAboveMax, and accepts it equal", async () => {
      const { treasury, admin, minter } = await loadFixture(deployCoreFixture);
      const factory = await ethers.getContractFactory("ProtocolToken");
      await expect(factory.deploy("Test", "TST", 1_000n + 1n, 1_000n, treasury.address, admin.address))
        .to.be.revertedWithCustomError(factory, "InitialSupplyAboveMax")
        .withArgs(1_001n, 1_000n);

      const full = await factory.deploy("Test", "TST", 1_000n, 1_000n, treasury.address, admin.address);
      expect(await full.totalSupply()).to.equal(1_000n);
      await full.connect(admin).grantRole(ROLES.MINTER, minter.address);
      await expect(full.connect(minter).mint(minter.address, 1n))
        .to.be.revertedWithCustomError(full, "MaxSupplyExceeded")
        .withArgs(1n, 0n);
    });
  });

  describe("mint", () => {
    it("lets a MINTER_ROLE holder mint new supply to any address", async () => {
      const { token, minter, alice } = await loadFixture(deployCoreFixture);
      const before = await token.balanceOf(alice.address);
      await expect(token.connect(minter).mint(alice.address, 42n * WAD))
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 42n * WAD);
      expect(await token.balanceOf(alice.address)).to.equal(before + 42n * WAD);
      expect(await token.totalSupply()).to.equal(INITIAL_SUPPLY + 42n * WAD);
    });

    it("refuses a mint from an account without MINTER_ROLE, the admin and the treasury included", async () => {
      const { token, admin, treasury, outsider } = await loadFixture(deployCoreFixture);
      for (const caller of [outsider, admin, treasury]) {
        await expect(token.connect(caller).mint(caller.address, 1n))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.MINTER);
      }
    });

    it("mints up to exactly maxSupply and rejects 1 wei beyond with MaxSupplyExceeded(requested, available)", async () => {
      const { token, minter, alice } = await loadFixture(deployCoreFixture);
      await token.connect(minter).mint(alice.address, HEADROOM - 5n);
      await expect(token.connect(minter).mint(alice.address, 6n))
        .to.be.revertedWithCustomError(token, "MaxSupplyExceeded")
        .withArgs(6n, 5n);
      await token.connect(minter).mint(alice.address, 5n);
      expect(await token.totalSupply()).to.equal(MAX_SUPPLY);
      await expect(token.connect(minter).mint(alice.address, 1n))
        .to.be.revertedWithCustomError(token, "MaxSupplyExceeded")
        .withArgs(1n, 0n);
    });

    it("rejects an over-cap mint in one go, reporting the whole headroom as available", async () => {
      const { token, minter, alice } = await loadFixture(deployCoreFixture);
      await expect(token.connect(minter).mint(alice.address, HEADROOM + 1n))
        .to.be.revertedWithCustomError(token, "MaxSupplyExceeded")
        .withArgs(HEADROOM + 1n, HEADROOM);
      expect(await token.totalSupply()).to.equal(INITIAL_SUPPLY);
    });

    it("stops a minter once the admin revokes MINTER_ROLE", async () => {
      const { token, admin, minter } = await loadFixture(deployCoreFixture);
      await token.connect(minter).mint(minter.address, 1n);
      await token.connect(admin).revokeRole(ROLES.MINTER, minter.address);
      await expect(token.connect(minter).mint(minter.address, 1n))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(minter.address, ROLES.MINTER);
    });
  });

  describe("burn", () => {
    it("destroys the caller's tokens and reduces total supply", async () => {
      const { token, alice } = await loadFixture(deployCoreFixture);
      const before = await token.balanceOf(alice.address);
      await expect(token.connect(alice).burn(300n * WAD))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 300n * WAD);
      expect(await token.balanceOf(alice.address)).to.equal(before - 300n * WAD);
      expect(await token.totalSupply()).to.equal(INITIAL_SUPPLY - 300n * WAD);
      expect(await token.maxSupply()).to.equal(MAX_SUPPLY);
    });

    it("turns burned tokens back into mint headroom under the cap", async () => {
      const { token, minter, alice } = await loadFixture(deployCoreFixture);
      await token.connect(minter).mint(minter.address, HEADROOM);
      await token.connect(alice).burn(700n);
      await expect(token.connect(minter).mint(alice.address, 701n))
        .to.be.revertedWithCustomError(token, "MaxSupplyExceeded")
        .withArgs(701n, 700n);
      await token.connect(minter).mint(alice.address, 700n);
      expect(await token.totalSupply()).to.equal(MAX_SUPPLY);
    });

    it("rejects burning more than the balance with ERC20InsufficientBalance", async () => {
      const { token, outsider } = await loadFixture(deployCoreFixture);
      await expect(token.connect(outsider).burn(1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
        .withArgs(outsider.address, 0n, 1n);
    });

    it("burnFrom destroys another holder's tokens, spends the allowance and frees cap headroom", async () => {
      const { token, minter, alice, bob } = await loadFixture(deployCoreFixture);
      await token.connect(minter).mint(minter.address, HEADROOM);
      await token.connect(alice).approve(bob.address, 500n);
      const before = await token.balanceOf(alice.address);
      await expect(token.connect(bob).burnFrom(alice.address, 200n))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 200n);
      expect(await token.balanceOf(alice.address)).to.equal(before - 200n);
      expect(await token.allowance(alice.address, bob.address)).to.equal(300n);
      expect(await token.totalSupply()).to.equal(MAX_SUPPLY - 200n);
      await expect(token.connect(minter).mint(bob.address, 201n))
        .to.be.revertedWithCustomError(token, "MaxSupplyExceeded")
        .withArgs(201n, 200n);
    });

    it("rejects burnFrom beyond the allowance with ERC20InsufficientAllowance", async () => {
      const { token, alice, bob } = await loadFixture(deployCoreFixture);
      await expect(token.connect(bob).burnFrom(alice.address, 1n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 0n, 1n);
      await token.connect(alice).approve(bob.address, 10n);
      await expect(token.connect(bob).burnFrom(alice.address, 11n))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 10n, 11n);
    });
  });

  describe("permit (ERC-2612)", () => {
    it("uses the token name and version 1 as its EIP-712 domain", async () => {
      const { token } = await loadFixture(deployCoreFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const domain = { name: "Cinder", version: "1", chainId, verifyingContract: await token.getAddress() };
      expect(await token.DOMAIN_SEPARATOR()).to.equal(ethers.TypedDataEncoder.hashDomain(domain));
    });

    it("sets an allowance from an off-chain signature submitted by anyone, and bumps the nonce", async () => {
      const { token, alice, bob, outsider } = await loadFixture(deployCoreFixture);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 250n * WAD, deadline);
      await expect(token.connect(outsider).permit(alice.address, bob.address, 250n * WAD, deadline, v, r, s))
        .to.emit(token, "Approval")
        .withArgs(alice.address, bob.address, 250n * WAD);
      expect(await token.allowance(alice.address, bob.address)).to.equal(250n * WAD);
      expect(await token.nonces(alice.address)).to.equal(1n);
      await expect(
        token.connect(bob).transferFrom(alice.address, bob.address, 250n * WAD),
      ).to.changeTokenBalances(token, [alice, bob], [-250n * WAD, 250n * WAD]);
    });

    it("rejects a replayed permit with ERC2612InvalidSigner", async () => {
      const { token, alice, bob } = await loadFixture(deployCoreFixture);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 250n * WAD, deadline);
      await token.permit(alice.address, bob.address, 250n * WAD, deadline, v, r, s);
      await expect(token.permit(alice.address, bob.address, 250n * WAD, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
        .withArgs(anyValue, alice.address);
    });

    it("rejects a permit signed by someone other than the owner with ERC2612InvalidSigner(signer, owner)", async () => {
      const { token, alice, bob } = await loadFixture(deployCoreFixture);
      const deadline = BigInt(await time.latest()) + 3_600n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 250n * WAD, deadline, bob);
      await expect(token.permit(alice.address, bob.address, 250n * WAD, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612InvalidSigner")
        .withArgs(bob.address, alice.address);
    });

    it("rejects a permit past its deadline with ERC2612ExpiredSignature", async () => {
      const { token, alice, bob } = await loadFixture(deployCoreFixture);
      const deadline = BigInt(await time.latest()) + 60n;
      const { v, r, s } = await signPermit(token, alice, bob.address, 250n * WAD, deadline);
      await time.increaseTo(deadline + 1n);
      await expect(token.permit(alice.address, bob.address, 250n * WAD, deadline, v, r, s))
        .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });
  });
});
