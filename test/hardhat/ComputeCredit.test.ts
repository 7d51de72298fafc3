import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { deployEconomyFixture, ROLES, WAD } from "./fixtures";

// Branches of ComputeCredit:
// constructor
//   ├── admin == 0 → ZeroAddress
//   └── else → admin gets DEFAULT_ADMIN_ROLE, nobody gets ENGINE_ROLE or PROTOCOL_ROLE
// mint(to, amount)
//   ├── caller lacks ENGINE_ROLE → AccessControlUnauthorizedAccount(caller, ENGINE_ROLE)
//   ├── to == 0 → ERC20InvalidReceiver(0)
//   └── else → _update(0, to): from == 0 skips the transfer rule, minted to anyone
// burn(from, amount)
//   ├── caller lacks ENGINE_ROLE → AccessControlUnauthorizedAccount(caller, ENGINE_ROLE)
//   ├── from == 0 → ERC20InvalidSender(0)
//   ├── amount > balance → ERC20InsufficientBalance(from, balance, amount)
//   └── else → _update(from, 0): to == 0 skips the transfer rule, burned from anyone without allowance
// transfer / transferFrom (_update with from != 0 and to != 0)
//   ├── from has PROTOCOL_ROLE → moves
//   ├── to has PROTOCOL_ROLE → moves
//   └── neither → NonTransferable(from, to) (the spender's role is irrelevant)

/** The economy fixture plus `engineSigner`, an EOA holding ENGINE_ROLE so mint and burn can be called directly. */
async function creditFixture() {
  const f = await deployEconomyFixture();
  const engineSigner = (await ethers.getSigners())[11];
  await f.computeCredit.connect(f.admin).grantRole(ROLES.ENGINE, engineSigner.address);
  return { ...f, engineSigner };
}

/** `creditFixture` where alice and bob hold 100 credit each, and the coordinator (PROTOCOL_ROLE) 50. */
async function fundedFixture() {
  const f = await creditFixture();
  await f.computeCredit.connect(f.engineSigner).mint(f.alice.address, 100n * WAD);
  await f.computeCredit.connect(f.engineSigner).mint(f.bob.address, 100n * WAD);
  await f.computeCredit.connect(f.engineSigner).mint(f.coordinator.address, 50n * WAD);
  return f;
}

describe("ComputeCredit", () => {
  describe("deployment", () => {
    it("is the Cinder Compute Credit (CCR) with 18 decimals and no supply", async () => {
      const { computeCredit } = await loadFixture(deployEconomyFixture);
      expect(await computeCredit.name()).to.equal("Cinder Compute Credit");
      expect(await computeCredit.symbol()).to.equal("CCR");
      expect(await computeCredit.decimals()).to.equal(18n);
      expect(await computeCredit.totalSupply()).to.equal(0n);
    });

    it("names its roles ENGINE_ROLE and PROTOCOL_ROLE", async () => {
      const { computeCredit } = await loadFixture(deployEconomyFixture);
      expect(await computeCredit.ENGINE_ROLE()).to.equal(ethers.id("ENGINE_ROLE"));
      expect(await computeCredit.PROTOCOL_ROLE()).to.equal(ethers.id("PROTOCOL_ROLE"));
    });

    it("is wired so that only the engine mints and burns and only the coordinator is a protocol contract", async () => {
      const { computeCredit, engine, admin, coordinator, alice } = await loadFixture(deployEconomyFixture);
      const engineAddress = await engine.getAddress();
      expect(await computeCredit.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await computeCredit.hasRole(ROLES.ENGINE, engineAddress)).to.equal(true);
      expect(await computeCredit.hasRole(ROLES.ENGINE, admin.address)).to.equal(false);
      expect(await computeCredit.hasRole(ROLES.PROTOCOL, coordinator.address)).to.equal(true);
      expect(await computeCredit.hasRole(ROLES.PROTOCOL, engineAddress)).to.equal(false);
      expect(await computeCredit.hasRole(ROLES.PROTOCOL, alice.address)).to.equal(false);
    });

    it("gives DEFAULT_ADMIN_ROLE to the admin and no ENGINE_ROLE or PROTOCOL_ROLE to anyone", async () => {
      const [deployer, admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("ComputeCredit");
      const credit = await factory.connect(deployer).deploy("Credit", "CRD", admin.address);
      expect(await credit.name()).to.equal("Credit");
      expect(await credit.symbol()).to.equal("CRD");
      expect(await credit.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await credit.hasRole(ROLES.DEFAULT_ADMIN, deployer.address)).to.equal(false);
      for (const who of [admin.address, deployer.address]) {
        expect(await credit.hasRole(ROLES.ENGINE, who)).to.equal(false);
        expect(await credit.hasRole(ROLES.PROTOCOL, who)).to.equal(false);
      }
    });

    it("rejects a zero admin with ZeroAddress", async () => {
      const factory = await ethers.getContractFactory("ComputeCredit");
      await expect(factory.deploy("Credit", "CRD", ethers.ZeroAddress)).to.be.revertedWithCustomError(
        factory,
        "ZeroAddress",
      );
    });
  });

  describe("mint", () => {
    it("lets ENGINE_ROLE mint to a plain user, raising balance and supply", async () => {
      const { computeCredit, engineSigner, alice } = await loadFixture(creditFixture);
      await expect(computeCredit.connect(engineSigner).mint(alice.address, 7n * WAD))
        .to.emit(computeCredit, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 7n * WAD);
      await computeCredit.connect(engineSigner).mint(alice.address, 3n);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(7n * WAD + 3n);
      expect(await computeCredit.totalSupply()).to.equal(7n * WAD + 3n);
    });

    it("is how the engine pays for burned tokens: mintCredits credits the recipient and the treasury", async () => {
      const { computeCredit, engine, alice, bob, treasury } = await loadFixture(creditFixture);
      await engine.connect(alice).mintCredits(10n * WAD, 0n, bob.address);
      // 10 tokens × $2 = $20; spread 25 bps = $0.05 to the treasury, $19.95 to bob.
      expect(await computeCredit.balanceOf(bob.address)).to.equal(1995n * (WAD / 100n));
      expect(await computeCredit.balanceOf(treasury.address)).to.equal(5n * (WAD / 100n));
      expect(await computeCredit.balanceOf(alice.address)).to.equal(0n);
      expect(await computeCredit.totalSupply()).to.equal(20n * WAD);
    });

    it("rejects minting by anyone without ENGINE_ROLE, even the admin or a protocol contract", async () => {
      const { computeCredit, admin, coordinator, alice } = await loadFixture(creditFixture);
      for (const caller of [admin, coordinator, alice]) {
        await expect(computeCredit.connect(caller).mint(alice.address, 1n))
          .to.be.revertedWithCustomError(computeCredit, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.ENGINE);
      }
      expect(await computeCredit.totalSupply()).to.equal(0n);
    });

    it("stops minting once ENGINE_ROLE is revoked", async () => {
      const { computeCredit, admin, engineSigner, alice } = await loadFixture(creditFixture);
      await computeCredit.connect(engineSigner).mint(alice.address, 1n);
      await computeCredit.connect(admin).revokeRole(ROLES.ENGINE, engineSigner.address);
      await expect(computeCredit.connect(engineSigner).mint(alice.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "AccessControlUnauthorizedAccount")
        .withArgs(engineSigner.address, ROLES.ENGINE);
    });

    it("rejects minting to the zero address with ERC20InvalidReceiver", async () => {
      const { computeCredit, engineSigner } = await loadFixture(creditFixture);
      await expect(computeCredit.connect(engineSigner).mint(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("burn", () => {
    it("lets ENGINE_ROLE burn a holder's credit without any allowance", async () => {
      const { computeCredit, engineSigner, alice } = await loadFixture(fundedFixture);
      expect(await computeCredit.allowance(alice.address, engineSigner.address)).to.equal(0n);
      await expect(computeCredit.connect(engineSigner).burn(alice.address, 40n * WAD))
        .to.emit(computeCredit, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 40n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(60n * WAD);
      // 100 + 100 + 50 minted, 40 burned
      expect(await computeCredit.totalSupply()).to.equal(210n * WAD);
    });

    it("burns a holder's whole balance, down to zero", async () => {
      const { computeCredit, engineSigner, alice } = await loadFixture(fundedFixture);
      await computeCredit.connect(engineSigner).burn(alice.address, 100n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(0n);
    });

    it("is how the engine takes credit back: redeem burns the redeemer's credit", async () => {
      const { computeCredit, engine, alice } = await loadFixture(creditFixture);
      await engine.connect(alice).mintCredits(10n * WAD, 0n, alice.address); // $19.95 to alice
      await engine.connect(alice).redeem(995n * (WAD / 100n), 0n, alice.address);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(10n * WAD);
    });

    it("rejects burning by anyone without ENGINE_ROLE, even the admin, a protocol contract or the holder", async () => {
      const { computeCredit, admin, coordinator, alice } = await loadFixture(fundedFixture);
      for (const caller of [admin, coordinator, alice]) {
        await expect(computeCredit.connect(caller).burn(alice.address, 1n))
          .to.be.revertedWithCustomError(computeCredit, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.ENGINE);
      }
      expect(await computeCredit.balanceOf(alice.address)).to.equal(100n * WAD);
    });

    it("rejects burning more than the balance with ERC20InsufficientBalance", async () => {
      const { computeCredit, engineSigner, alice, carol } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(engineSigner).burn(alice.address, 100n * WAD + 1n))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InsufficientBalance")
        .withArgs(alice.address, 100n * WAD, 100n * WAD + 1n);
      await expect(computeCredit.connect(engineSigner).burn(carol.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InsufficientBalance")
        .withArgs(carol.address, 0n, 1n);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(100n * WAD);
    });

    it("rejects burning from the zero address with ERC20InvalidSender", async () => {
      const { computeCredit, engineSigner } = await loadFixture(creditFixture);
      await expect(computeCredit.connect(engineSigner).burn(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InvalidSender")
        .withArgs(ethers.ZeroAddress);
    });
  });

  describe("transfers between users", () => {
    it("rejects a user-to-user transfer with NonTransferable(from, to)", async () => {
      const { computeCredit, alice, bob } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(alice).transfer(bob.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, bob.address);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(100n * WAD);
      expect(await computeCredit.balanceOf(bob.address)).to.equal(100n * WAD);
    });

    it("rejects even a zero-amount user-to-user transfer", async () => {
      const { computeCredit, carol, bob } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(carol).transfer(bob.address, 0n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(carol.address, bob.address);
    });

    it("rejects a user sending credit to themselves", async () => {
      const { computeCredit, alice } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(alice).transfer(alice.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, alice.address);
    });

    it("rejects a user-to-user transferFrom with NonTransferable(from, to), leaving the allowance", async () => {
      const { computeCredit, alice, bob, carol } = await loadFixture(fundedFixture);
      await computeCredit.connect(alice).approve(bob.address, 10n * WAD);
      await expect(computeCredit.connect(bob).transferFrom(alice.address, bob.address, 10n * WAD))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, bob.address);
      await expect(computeCredit.connect(bob).transferFrom(alice.address, carol.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, carol.address);
      expect(await computeCredit.allowance(alice.address, bob.address)).to.equal(10n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(100n * WAD);
    });

    it("rejects a user-to-user transferFrom even when the spender is a protocol contract", async () => {
      const { computeCredit, coordinator, alice, bob } = await loadFixture(fundedFixture);
      await computeCredit.connect(alice).approve(coordinator.address, 10n * WAD);
      await expect(computeCredit.connect(coordinator).transferFrom(alice.address, bob.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, bob.address);
    });

    it("checks the allowance before the transfer rule: no allowance fails with ERC20InsufficientAllowance", async () => {
      const { computeCredit, alice, bob } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(bob).transferFrom(alice.address, bob.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 0n, 1n);
    });
  });

  describe("transfers with a protocol contract", () => {
    it("lets a user send credit directly to a protocol contract", async () => {
      const { computeCredit, alice, coordinator } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(alice).transfer(coordinator.address, 30n * WAD))
        .to.emit(computeCredit, "Transfer")
        .withArgs(alice.address, coordinator.address, 30n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(70n * WAD);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(80n * WAD);
    });

    it("lets a protocol contract escrow a user's credit with approve + transferFrom", async () => {
      const { computeCredit, alice, coordinator } = await loadFixture(fundedFixture);
      await computeCredit.connect(alice).approve(coordinator.address, 25n * WAD);
      await expect(
        computeCredit.connect(coordinator).transferFrom(alice.address, coordinator.address, 20n * WAD),
      )
        .to.emit(computeCredit, "Transfer")
        .withArgs(alice.address, coordinator.address, 20n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(80n * WAD);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(70n * WAD);
      expect(await computeCredit.allowance(alice.address, coordinator.address)).to.equal(5n * WAD);
    });

    it("lets a protocol contract pay a user out", async () => {
      const { computeCredit, coordinator, provider1 } = await loadFixture(fundedFixture);
      await expect(computeCredit.connect(coordinator).transfer(provider1.address, 12n * WAD))
        .to.emit(computeCredit, "Transfer")
        .withArgs(coordinator.address, provider1.address, 12n * WAD);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(38n * WAD);
      expect(await computeCredit.balanceOf(provider1.address)).to.equal(12n * WAD);
    });

    it("lets any approved spender move a user's credit into a protocol contract", async () => {
      const { computeCredit, alice, bob, coordinator } = await loadFixture(fundedFixture);
      await computeCredit.connect(alice).approve(bob.address, 5n * WAD);
      await computeCredit.connect(bob).transferFrom(alice.address, coordinator.address, 5n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(95n * WAD);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(55n * WAD);
      expect(await computeCredit.balanceOf(bob.address)).to.equal(100n * WAD);
    });

    it("lets one protocol contract pay another", async () => {
      const { computeCredit, admin, coordinator, reporter } = await loadFixture(fundedFixture);
      await computeCredit.connect(admin).grantRole(ROLES.PROTOCOL, reporter.address);
      await computeCredit.connect(coordinator).transfer(reporter.address, 50n * WAD);
      expect(await computeCredit.balanceOf(reporter.address)).to.equal(50n * WAD);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(0n);
    });

    it("makes a user a valid counterparty once governance grants PROTOCOL_ROLE", async () => {
      const { computeCredit, admin, alice, bob } = await loadFixture(fundedFixture);
      await computeCredit.connect(admin).grantRole(ROLES.PROTOCOL, bob.address);
      await computeCredit.connect(alice).transfer(bob.address, 1n);
      expect(await computeCredit.balanceOf(bob.address)).to.equal(100n * WAD + 1n);
    });

    it("rejects both directions once PROTOCOL_ROLE is revoked", async () => {
      const { computeCredit, admin, alice, coordinator, provider1 } = await loadFixture(fundedFixture);
      await computeCredit.connect(alice).approve(coordinator.address, 10n * WAD);
      await computeCredit.connect(admin).revokeRole(ROLES.PROTOCOL, coordinator.address);

      await expect(computeCredit.connect(coordinator).transfer(provider1.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(coordinator.address, provider1.address);
      await expect(computeCredit.connect(alice).transfer(coordinator.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, coordinator.address);
      await expect(computeCredit.connect(coordinator).transferFrom(alice.address, coordinator.address, 1n))
        .to.be.revertedWithCustomError(computeCredit, "NonTransferable")
        .withArgs(alice.address, coordinator.address);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(50n * WAD);
      expect(await computeCredit.balanceOf(alice.address)).to.equal(100n * WAD);
    });

    it("lets only the admin grant PROTOCOL_ROLE", async () => {
      const { computeCredit, alice, coordinator } = await loadFixture(fundedFixture);
      for (const caller of [alice, coordinator]) {
        await expect(computeCredit.connect(caller).grantRole(ROLES.PROTOCOL, alice.address))
          .to.be.revertedWithCustomError(computeCredit, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });
  });
});
