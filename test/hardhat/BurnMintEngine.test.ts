import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { BurnMintEngine, IBurnMintEngine } from "../../typechain-types";
import { deployEconomy, deployEconomyFixture, DAY, ROLES, WAD } from "./fixtures";

/*
 * Branch list (EigenLayer `.tree` style) — every leaf has a test below.
 *
 * constructor
 * ├── a zero token / credit / vault / oracle / treasury / admin → ZeroAddress
 * ├── emissionPerEpoch > maxSupply → ParameterOutOfBounds("emissionPerEpoch", v, 0, maxSupply)
 * ├── halvingEpochs == 0 → ParameterOutOfBounds("halvingEpochs", 0, 1, 2^256-1)
 * ├── each setter bound (spread, cap, staker share, subsidy budget) → ParameterOutOfBounds
 * └── otherwise: genesis = deployment epoch, ParameterUpdated(·, 0, v) for the four parameters
 * mintCredits
 * ├── paused → EnforcedPause
 * ├── recipient == 0 → ZeroAddress
 * ├── oracle reverts → the oracle's error
 * ├── credit out == 0 (amount 0, or rounded to 0) → ZeroAmount
 * ├── credit out < minCreditsOut → SlippageExceeded(out, min)
 * └── otherwise: burn, credit (rounded down) to recipient, spread (rounded up) to treasury if ≠ 0, ledger, event
 * redeem
 * ├── paused → EnforcedPause ── recipient == 0 → ZeroAddress ── oracle reverts → its error
 * ├── tokens out == 0 → ZeroAmount ── tokens out < min → SlippageExceeded
 * ├── tokens out > redeemCapacity → EpochMintCapExceeded(tokens, capacity)
 * └── otherwise: burn credit, mint ⌊credit / price⌋, mintedIn, ledger, event
 * distribute
 * ├── epoch ≥ current → EpochNotFinished ── epoch < genesis → EpochBeforeGenesis ── twice → AlreadyDistributed
 * ├── no work → providers' share forgone; maxSupply headroom caps stakers first, then providers
 * ├── previous epoch → may use its reserve; older epoch → EpochMintCapExceeded if it would eat it
 * └── emitted == 0 → nothing minted; toStakers == 0 → vault not notified
 * claimEmissions: NotDistributed, AlreadyClaimed, zero share → returns 0 without event, pro-rata rounded down
 * recordWork / mintSubsidisedCredits / recordVoucherRevenue: role, ZeroAddress, ZeroAmount, budget, events
 * returnSubsidisedCredits (COORDINATOR only; works paused)
 * ├── usd == 0 → ZeroAmount ── usd > that epoch's subsidyMintedUsd → ParameterOutOfBounds("subsidyReturned", usd, 1, minted)
 * ├── caller holds less credit than usd → ERC20InsufficientBalance
 * └── otherwise: that epoch's subsidyMintedUsd −= usd (current epoch: subsidyRemaining += usd), burn the
 *     caller's credit, SubsidisedCreditsReturned(epoch, caller, usd)
 * setters: role, inclusive bounds ±1, events; setOracle must answer; setTreasury(0) → ZeroAddress
 * views: emissionFor (before genesis, halvings, ≥ 256 halvings), subsidyRatio (no work), subsidyRemaining
 *        (budget lowered below use), organicUsd, netSupplyChange, quotes
 */

const HOUR = 3_600n;
const PRICE = 2n * WAD; // CinderEconomy default FixedPriceOracle price
const CAP = 1_000_000n * WAD; // default epochMintCap
const EMISSION = 50_000n * WAD; // default emissionPerEpoch
const HALVING = 365n; // default halvingEpochs
const BUDGET = 1_000n * WAD; // default subsidyBudgetUsd
const MAX_SUPPLY = 1_000_000_000n * WAD; // CinderCore default maxSupply
/** 1.333…e18: a price at which every conversion leaves a remainder, so the rounding direction shows. */
const ODD_PRICE = 1_333_333_333_333_333_333n;

const param = (name: string) => ethers.encodeBytes32String(name);

/** The economy fixture, deployed one hour into a fresh UTC day so the genesis epoch is known exactly. */
async function engineFixture() {
  const start = (BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR;
  await time.increaseTo(start);
  const economy = await deployEconomyFixture();
  return { ...economy, genesis: start / DAY };
}

/** Moves the chain to `offset` seconds into UTC day `epoch` (the next block is mined there). */
async function goToEpoch(epoch: bigint, offset: bigint = HOUR): Promise<void> {
  await time.increaseTo(epoch * DAY + offset);
}

type Config = IBurnMintEngine.ConfigStruct;

function defaultConfig(overrides: Partial<Config> = {}): Config {
  return {
    mintSpreadBps: 25n,
    epochMintCap: CAP,
    emissionPerEpoch: EMISSION,
    halvingEpochs: HALVING,
    stakerShareBps: 5_000n,
    subsidyBudgetUsd: BUDGET,
    ...overrides,
  };
}

/**
 * A stand-alone economy with a small token: 100,000 tokens initial supply, maxSupply 130,000, so one
 * 50,000-token emission runs into the cap. Deployed directly (not through Ignition) to vary the token.
 */
async function smallSupplyFixture() {
  const [admin, treasury, coordinator, , , alice, , , provider1, provider2] = await ethers.getSigners();
  const start = (BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR;
  await time.increaseTo(start);

  const token = await (
    await ethers.getContractFactory("ProtocolToken")
  ).deploy("Cinder", "CNDR", 100_000n * WAD, 130_000n * WAD, treasury.address, admin.address);
  const vault = await (
    await ethers.getContractFactory("StakingVault")
  ).deploy(await token.getAddress(), admin.address, 7n * DAY, DAY);
  const computeCredit = await (
    await ethers.getContractFactory("ComputeCredit")
  ).deploy("Cinder Compute Credit", "CCR", admin.address);
  const oracle = await (
    await ethers.getContractFactory("FixedPriceOracle")
  ).deploy(admin.address, PRICE, WAD / 1_000n, 1_000n * WAD);
  const engine = await (
    await ethers.getContractFactory("BurnMintEngine")
  ).deploy(
    await token.getAddress(),
    await computeCredit.getAddress(),
    await vault.getAddress(),
    await oracle.getAddress(),
    treasury.address,
    admin.address,
    defaultConfig({ epochMintCap: 100_000n * WAD }),
  );
  const engineAddress = await engine.getAddress();
  await token.connect(admin).grantRole(ROLES.MINTER, engineAddress);
  await vault.connect(admin).grantRole(ROLES.REWARDER, engineAddress);
  await computeCredit.connect(admin).grantRole(ROLES.ENGINE, engineAddress);
  await engine.connect(admin).grantRole(ROLES.COORDINATOR, coordinator.address);
  await token.connect(treasury).transfer(alice.address, 50_000n * WAD);
  await token.connect(alice).approve(engineAddress, ethers.MaxUint256);
  return {
    token,
    vault,
    computeCredit,
    oracle,
    engine,
    admin,
    treasury,
    coordinator,
    alice,
    provider1,
    provider2,
    genesis: start / DAY,
  };
}

/** The economy fixture with the mint cap lowered to 100,000 tokens and alice holding 798,000 credit. */
async function capFixture() {
  const start = (BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR;
  await time.increaseTo(start);
  const f = { ...(await deployEconomy({ epochMintCap: 100_000n * WAD })), genesis: start / DAY };
  // 400,000 tokens × $2 = $800,000 gross; spread 25 bps = $2,000; credit $798,000.
  await f.engine.connect(f.alice).mintCredits(400_000n * WAD, 0n, f.alice.address);
  return f;
}

describe("BurnMintEngine", () => {
  describe("deployment", () => {
    it("is wired with the CinderEconomy defaults and starts its schedule at the deployment's epoch", async () => {
      const { engine, oracle, treasury, admin, genesis } = await loadFixture(engineFixture);
      const cfg = await engine.config();
      expect(cfg.mintSpreadBps).to.equal(25n);
      expect(cfg.epochMintCap).to.equal(CAP);
      expect(cfg.emissionPerEpoch).to.equal(EMISSION);
      expect(cfg.halvingEpochs).to.equal(HALVING);
      expect(cfg.stakerShareBps).to.equal(5_000n);
      expect(cfg.subsidyBudgetUsd).to.equal(BUDGET);
      expect(await engine.genesisEpoch()).to.equal(genesis);
      expect(await engine.currentEpoch()).to.equal(genesis);
      expect(await engine.oracle()).to.equal(await oracle.getAddress());
      expect(await engine.treasury()).to.equal(treasury.address);
      expect(await engine.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await engine.COORDINATOR_ROLE()).to.equal(ROLES.COORDINATOR);
      expect(await engine.REPORTER_ROLE()).to.equal(ROLES.REPORTER);
      expect(await engine.GUARDIAN_ROLE()).to.equal(ROLES.GUARDIAN);
      expect(await engine.paused()).to.equal(false);
      expect(await engine.redeemCapacity()).to.equal(CAP); // no previous epoch to reserve for at genesis
      expect(await engine.subsidyRemaining()).to.equal(BUDGET);
    });

    it("emits ParameterUpdated from zero for each configured parameter", async () => {
      const { token, vault, computeCredit, oracle, treasury, admin } = await loadFixture(engineFixture);
      const factory = await ethers.getContractFactory("BurnMintEngine");
      const engine = await factory.deploy(
        await token.getAddress(),
        await computeCredit.getAddress(),
        await vault.getAddress(),
        await oracle.getAddress(),
        treasury.address,
        admin.address,
        defaultConfig({
          mintSpreadBps: 7n,
          epochMintCap: 60_000n * WAD,
          stakerShareBps: 1n,
          subsidyBudgetUsd: 3n,
        }),
      );
      const deployment = engine.deploymentTransaction();
      await expect(deployment).to.emit(engine, "ParameterUpdated").withArgs(param("mintSpreadBps"), 0n, 7n);
      await expect(deployment)
        .to.emit(engine, "ParameterUpdated")
        .withArgs(param("epochMintCap"), 0n, 60_000n * WAD);
      await expect(deployment).to.emit(engine, "ParameterUpdated").withArgs(param("stakerShareBps"), 0n, 1n);
      await expect(deployment)
        .to.emit(engine, "ParameterUpdated")
        .withArgs(param("subsidyBudgetUsd"), 0n, 3n);
    });

    it("rejects a zero address for each of token, credit, vault, oracle, treasury and admin", async () => {
      const { token, vault, computeCredit, oracle, treasury, admin } = await loadFixture(engineFixture);
      const factory = await ethers.getContractFactory("BurnMintEngine");
      const args: [string, string, string, string, string, string] = [
        await token.getAddress(),
        await computeCredit.getAddress(),
        await vault.getAddress(),
        await oracle.getAddress(),
        treasury.address,
        admin.address,
      ];
      for (let i = 0; i < args.length; i++) {
        const a = [...args] as typeof args;
        a[i] = ethers.ZeroAddress;
        await expect(factory.deploy(...a, defaultConfig())).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
    });

    it("bounds emissionPerEpoch by maxSupply, inclusive, and requires halvingEpochs ≥ 1", async () => {
      const { token, vault, computeCredit, oracle, treasury, admin } = await loadFixture(engineFixture);
      const factory = await ethers.getContractFactory("BurnMintEngine");
      const deploy = async (cfg: Config) =>
        factory.deploy(
          await token.getAddress(),
          await computeCredit.getAddress(),
          await vault.getAddress(),
          await oracle.getAddress(),
          treasury.address,
          admin.address,
          cfg,
        );
      await expect(deploy(defaultConfig({ emissionPerEpoch: MAX_SUPPLY + 1n, epochMintCap: MAX_SUPPLY })))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(param("emissionPerEpoch"), MAX_SUPPLY + 1n, 0n, MAX_SUPPLY);
      const atMax = await deploy(defaultConfig({ emissionPerEpoch: MAX_SUPPLY, epochMintCap: MAX_SUPPLY }));
      expect((await atMax.config()).emissionPerEpoch).to.equal(MAX_SUPPLY);
      await expect(deploy(defaultConfig({ halvingEpochs: 0n })))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(param("halvingEpochs"), 0n, 1n, ethers.MaxUint256);
      const everyEpoch = await deploy(defaultConfig({ halvingEpochs: 1n }));
      expect((await everyEpoch.config()).halvingEpochs).to.equal(1n);
    });

    it("applies the governance bounds to the initial spread, cap, staker share and subsidy budget", async () => {
      const { token, vault, computeCredit, oracle, treasury, admin } = await loadFixture(engineFixture);
      const factory = await ethers.getContractFactory("BurnMintEngine");
      const deploy = async (cfg: Config) =>
        factory.deploy(
          await token.getAddress(),
          await computeCredit.getAddress(),
          await vault.getAddress(),
          await oracle.getAddress(),
          treasury.address,
          admin.address,
          cfg,
        );
      const bound = "ParameterOutOfBounds";
      await expect(deploy(defaultConfig({ mintSpreadBps: 501n })))
        .to.be.revertedWithCustomError(factory, bound)
        .withArgs(param("mintSpreadBps"), 501n, 0n, 500n);
      await expect(deploy(defaultConfig({ epochMintCap: EMISSION - 1n })))
        .to.be.revertedWithCustomError(factory, bound)
        .withArgs(param("epochMintCap"), EMISSION - 1n, EMISSION, MAX_SUPPLY);
      await expect(deploy(defaultConfig({ epochMintCap: MAX_SUPPLY + 1n })))
        .to.be.revertedWithCustomError(factory, bound)
        .withArgs(param("epochMintCap"), MAX_SUPPLY + 1n, EMISSION, MAX_SUPPLY);
      await expect(deploy(defaultConfig({ stakerShareBps: 10_001n })))
        .to.be.revertedWithCustomError(factory, bound)
        .withArgs(param("stakerShareBps"), 10_001n, 0n, 10_000n);
      // $1e9 = 1e9 × 1e18 = 1e27
      await expect(deploy(defaultConfig({ subsidyBudgetUsd: 10n ** 27n + 1n })))
        .to.be.revertedWithCustomError(factory, bound)
        .withArgs(param("subsidyBudgetUsd"), 10n ** 27n + 1n, 0n, 10n ** 27n);
    });
  });

  describe("mintCredits", () => {
    it("burns the caller's tokens and mints credit at price × (1 − spread) to the recipient, the spread to the treasury", async () => {
      const { engine, token, computeCredit, alice, bob, treasury, genesis } =
        await loadFixture(engineFixture);
      const tokens = 100n * WAD;
      const gross = 200n * WAD; // 100 tokens × $2
      const spread = WAD / 2n; // $200 × 25 / 10,000 = $0.50
      const credits = 19_950n * (WAD / 100n); // $200 − $0.50 = $199.50
      const [quotedCredits, quotedSpread] = await engine.quoteMintCredits(tokens);
      expect(quotedCredits).to.equal(credits);
      expect(quotedSpread).to.equal(spread);
      expect(await engine.connect(alice).mintCredits.staticCall(tokens, credits, bob.address)).to.equal(
        credits,
      );

      const supplyBefore = await token.totalSupply();
      const tx = engine.connect(alice).mintCredits(tokens, credits, bob.address);
      await expect(tx)
        .to.emit(engine, "CreditsMinted")
        .withArgs(alice.address, bob.address, tokens, credits, spread, PRICE);
      await expect(tx).to.changeTokenBalances(token, [alice, bob], [-tokens, 0n]);
      await expect(tx).to.changeTokenBalances(computeCredit, [alice, bob, treasury], [0n, credits, spread]);
      expect(await token.totalSupply()).to.equal(supplyBefore - tokens);
      expect(await computeCredit.totalSupply()).to.equal(gross);

      const ledger = await engine.epochLedger(genesis);
      expect(ledger.organicCreditUsd).to.equal(gross); // gross of the spread
      expect(ledger.tokensBurned).to.equal(tokens);
      expect(ledger.tokensRedeemed).to.equal(0n);
      expect(await engine.organicUsd(genesis)).to.equal(gross);
      expect(await engine.netSupplyChange(genesis)).to.equal(-tokens);
      expect(await engine.mintedIn(genesis)).to.equal(0n); // burning never uses the mint cap
    });

    it("adds every purchase of the epoch to the ledger", async () => {
      const { engine, alice, bob, genesis } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await engine.connect(bob).mintCredits(30n * WAD, 0n, alice.address);
      const ledger = await engine.epochLedger(genesis);
      expect(ledger.tokensBurned).to.equal(130n * WAD);
      expect(ledger.organicCreditUsd).to.equal(260n * WAD); // 130 × $2
    });

    it("rounds the credit out down and the spread up at a price that leaves remainders", async () => {
      const { engine, oracle, computeCredit, admin, alice, treasury } = await loadFixture(engineFixture);
      await oracle.connect(admin).setPrice(ODD_PRICE);
      const tokens = WAD + 1n;
      // gross = ⌊(1e18 + 1) × 1,333,333,333,333,333,333 / 1e18⌋ = 1,333,333,333,333,333,333 + ⌊1.33…⌋
      const gross = 1_333_333_333_333_333_333n + 1n;
      // spread = ⌈1,333,333,333,333,333,334 × 25 / 10,000⌉ = ⌈3,333,333,333,333,333.335⌉
      const spread = 3_333_333_333_333_333n + 1n;
      // credit = gross − spread = ⌊gross × 0.9975⌋ = ⌊1,330,000,000,000,000,000.665⌋
      const credits = 1_330_000_000_000_000_000n;
      expect(gross - spread).to.equal(credits);
      const [quotedCredits, quotedSpread] = await engine.quoteMintCredits(tokens);
      expect(quotedCredits).to.equal(credits);
      expect(quotedSpread).to.equal(spread);
      const tx = engine.connect(alice).mintCredits(tokens, 0n, alice.address);
      await expect(tx)
        .to.emit(engine, "CreditsMinted")
        .withArgs(alice.address, alice.address, tokens, credits, spread, ODD_PRICE);
      await expect(tx).to.changeTokenBalances(computeCredit, [alice, treasury], [credits, spread]);
    });

    it("rejects a purchase whose credit rounds to zero with ZeroAmount", async () => {
      const { engine, oracle, admin, alice } = await loadFixture(engineFixture);
      await expect(engine.connect(alice).mintCredits(0n, 0n, alice.address)).to.be.revertedWithCustomError(
        engine,
        "ZeroAmount",
      );
      await oracle.connect(admin).setPrice(ODD_PRICE);
      // 1 wei × 1.33 = 1 wei gross (floored); the spread ⌈1 × 25 / 10,000⌉ = 1 wei takes all of it.
      await expect(engine.connect(alice).mintCredits(1n, 0n, alice.address)).to.be.revertedWithCustomError(
        engine,
        "ZeroAmount",
      );
      // 2 wei × 1.33 = 2 wei gross, spread 1 wei, 1 wei of credit.
      const [credits, spread] = await engine.quoteMintCredits(2n);
      expect(credits).to.equal(1n);
      expect(spread).to.equal(1n);
      await expect(engine.connect(alice).mintCredits(2n, 1n, alice.address)).to.emit(engine, "CreditsMinted");
    });

    it("reverts with SlippageExceeded(out, min) when the credit out is below minCreditsOut", async () => {
      const { engine, alice } = await loadFixture(engineFixture);
      const credits = 19_950n * (WAD / 100n); // 100 tokens × $2 × 0.9975
      await expect(engine.connect(alice).mintCredits(100n * WAD, credits + 1n, alice.address))
        .to.be.revertedWithCustomError(engine, "SlippageExceeded")
        .withArgs(credits, credits + 1n);
      await expect(engine.connect(alice).mintCredits(100n * WAD, credits, alice.address)).to.emit(
        engine,
        "CreditsMinted",
      );
    });

    it("rejects the zero recipient with ZeroAddress", async () => {
      const { engine, alice } = await loadFixture(engineFixture);
      await expect(
        engine.connect(alice).mintCredits(100n * WAD, 0n, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(engine, "ZeroAddress");
    });

    it("mints nothing to the treasury when the spread is zero", async () => {
      const { engine, computeCredit, admin, alice, treasury } = await loadFixture(engineFixture);
      await engine.connect(admin).setMintSpreadBps(0n);
      const tx = engine.connect(alice).mintCredits(100n * WAD, 200n * WAD, alice.address);
      await expect(tx)
        .to.emit(engine, "CreditsMinted")
        .withArgs(alice.address, alice.address, 100n * WAD, 200n * WAD, 0n, PRICE);
      await expect(tx).to.changeTokenBalances(computeCredit, [alice, treasury], [200n * WAD, 0n]);
    });

    it("needs the caller's token allowance to the engine", async () => {
      const { engine, token, treasury, outsider } = await loadFixture(engineFixture);
      await token.connect(treasury).transfer(outsider.address, 10n * WAD);
      await expect(engine.connect(outsider).mintCredits(10n * WAD, 0n, outsider.address))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await engine.getAddress(), 0n, 10n * WAD);
    });
  });

  describe("redeem", () => {
    it("burns the caller's credit and mints ⌊credit / price⌋ tokens to the recipient", async () => {
      const { engine, token, computeCredit, alice, bob, genesis } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address); // $199.50 of credit
      const credit = 150n * WAD;
      const tokens = 75n * WAD; // $150 / $2
      expect(await engine.quoteRedeem(credit)).to.equal(tokens);
      expect(await engine.connect(alice).redeem.staticCall(credit, tokens, bob.address)).to.equal(tokens);

      const supplyBefore = await token.totalSupply();
      const tx = engine.connect(alice).redeem(credit, tokens, bob.address);
      await expect(tx)
        .to.emit(engine, "CreditsRedeemed")
        .withArgs(alice.address, bob.address, credit, tokens, PRICE);
      await expect(tx).to.changeTokenBalances(computeCredit, [alice, bob], [-credit, 0n]);
      await expect(tx).to.changeTokenBalances(token, [alice, bob], [0n, tokens]);
      expect(await token.totalSupply()).to.equal(supplyBefore + tokens);
      expect(await engine.mintedIn(genesis)).to.equal(tokens);
      expect(await engine.redeemCapacity()).to.equal(CAP - tokens);
      const ledger = await engine.epochLedger(genesis);
      expect(ledger.tokensRedeemed).to.equal(tokens);
      expect(ledger.tokensBurned).to.equal(100n * WAD);
      // 75 redeemed − 100 burned
      expect(await engine.netSupplyChange(genesis)).to.equal(-25n * WAD);
    });

    it("rounds the tokens out down at a price that leaves a remainder", async () => {
      const { engine, oracle, admin, alice, token } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await oracle.connect(admin).setPrice(ODD_PRICE);
      // 1e18 × 1e18 / 1,333,333,333,333,333,333 = 750,000,000,000,000,000.1875 → rounded down
      const tokens = 750_000_000_000_000_000n;
      expect(await engine.quoteRedeem(WAD)).to.equal(tokens);
      const tx = engine.connect(alice).redeem(WAD, tokens, alice.address);
      await expect(tx)
        .to.emit(engine, "CreditsRedeemed")
        .withArgs(alice.address, alice.address, WAD, tokens, ODD_PRICE);
      await expect(tx).to.changeTokenBalance(token, alice, tokens);
    });

    it("reverts with ZeroAmount when no token would come out", async () => {
      const { engine, alice } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await expect(engine.connect(alice).redeem(0n, 0n, alice.address)).to.be.revertedWithCustomError(
        engine,
        "ZeroAmount",
      );
      // 1 wei of credit / $2 = 0.5 wei → 0
      await expect(engine.connect(alice).redeem(1n, 0n, alice.address)).to.be.revertedWithCustomError(
        engine,
        "ZeroAmount",
      );
    });

    it("reverts with SlippageExceeded(out, min) when the tokens out are below minTokensOut", async () => {
      const { engine, alice } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await expect(engine.connect(alice).redeem(3n, 2n, alice.address)) // 3 wei / 2 = 1 wei
        .to.be.revertedWithCustomError(engine, "SlippageExceeded")
        .withArgs(1n, 2n);
    });

    it("rejects the zero recipient with ZeroAddress", async () => {
      const { engine, alice } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await expect(engine.connect(alice).redeem(WAD, 0n, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        engine,
        "ZeroAddress",
      );
    });

    it("cannot redeem more credit than the caller holds", async () => {
      const { engine, computeCredit, alice, outsider } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await expect(engine.connect(outsider).redeem(2n * WAD, 0n, outsider.address))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InsufficientBalance")
        .withArgs(outsider.address, 0n, 2n * WAD);
    });
  });

  describe("mint cap", () => {
    it("caps redemptions within an epoch and reports the capacity left in EpochMintCapExceeded", async () => {
      const { engine, alice, genesis } = await loadFixture(capFixture);
      expect(await engine.redeemCapacity()).to.equal(100_000n * WAD); // genesis: nothing to reserve
      await engine.connect(alice).redeem(120_000n * WAD, 0n, alice.address); // 60,000 tokens
      expect(await engine.redeemCapacity()).to.equal(40_000n * WAD);
      // $80,002 / $2 = 40,001 tokens > 40,000 left
      await expect(engine.connect(alice).redeem(80_002n * WAD, 0n, alice.address))
        .to.be.revertedWithCustomError(engine, "EpochMintCapExceeded")
        .withArgs(40_001n * WAD, 40_000n * WAD);
      await engine.connect(alice).redeem(80_000n * WAD, 0n, alice.address); // exactly the 40,000 left
      expect(await engine.redeemCapacity()).to.equal(0n);
      expect(await engine.mintedIn(genesis)).to.equal(100_000n * WAD);
      await expect(engine.connect(alice).redeem(2n, 0n, alice.address)) // 1 wei of tokens
        .to.be.revertedWithCustomError(engine, "EpochMintCapExceeded")
        .withArgs(1n, 0n);
    });

    it("keeps back the previous epoch's scheduled emission until it is distributed", async () => {
      const { engine, coordinator, alice, provider1, genesis } = await loadFixture(capFixture);
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false); // full 50,000 emission
      await goToEpoch(genesis + 1n);
      // 100,000 cap − 50,000 reserved for epoch 0's emission
      expect(await engine.redeemCapacity()).to.equal(50_000n * WAD);
      await expect(engine.connect(alice).redeem(100_002n * WAD, 0n, alice.address))
        .to.be.revertedWithCustomError(engine, "EpochMintCapExceeded")
        .withArgs(50_001n * WAD, 50_000n * WAD);
      await engine.connect(alice).redeem(60_000n * WAD, 0n, alice.address); // 30,000 tokens
      expect(await engine.redeemCapacity()).to.equal(20_000n * WAD);
      await engine.distribute(genesis); // mints the 50,000 that was reserved
      expect(await engine.mintedIn(genesis + 1n)).to.equal(80_000n * WAD);
      expect(await engine.redeemCapacity()).to.equal(20_000n * WAD);
    });

    it("gives back the part of the reserve the previous epoch's emission did not use", async () => {
      const { engine, genesis } = await loadFixture(capFixture);
      await goToEpoch(genesis + 1n);
      expect(await engine.redeemCapacity()).to.equal(50_000n * WAD);
      // No work in epoch 0: only the stakers' 25,000 is minted.
      await engine.distribute(genesis);
      expect(await engine.redeemCapacity()).to.equal(75_000n * WAD);
    });

    it("refreshes the capacity every epoch", async () => {
      const { engine, alice, genesis } = await loadFixture(capFixture);
      await engine.connect(alice).redeem(200_000n * WAD, 0n, alice.address); // the whole 100,000
      expect(await engine.redeemCapacity()).to.equal(0n);
      await goToEpoch(genesis + 1n);
      expect(await engine.mintedIn(genesis + 1n)).to.equal(0n);
      expect(await engine.redeemCapacity()).to.equal(50_000n * WAD);
      await engine.distribute(genesis); // 25,000 (no work)
      await goToEpoch(genesis + 2n);
      expect(await engine.redeemCapacity()).to.equal(50_000n * WAD); // reserve for epoch 1
      await engine.distribute(genesis + 1n); // 25,000
      expect(await engine.redeemCapacity()).to.equal(75_000n * WAD);
    });

    it("always lets the previous epoch's own distribution use its reserve, even after redemptions took the rest", async () => {
      const { engine, coordinator, alice, provider1, genesis } = await loadFixture(capFixture);
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 1n);
      await engine.connect(alice).redeem(100_000n * WAD, 0n, alice.address); // all 50,000 redeemable
      expect(await engine.redeemCapacity()).to.equal(0n);
      await expect(engine.connect(alice).distribute(genesis))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis, alice.address, 25_000n * WAD, 25_000n * WAD);
      expect(await engine.mintedIn(genesis + 1n)).to.equal(100_000n * WAD); // exactly the cap
    });

    it("stops an older epoch's late distribution from eating the previous epoch's reserve", async () => {
      const { engine, coordinator, alice, provider1, genesis } = await loadFixture(capFixture);
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false); // epoch 0 emits 50,000
      await goToEpoch(genesis + 2n); // epochs 0 and 1 both undistributed
      await engine.connect(alice).redeem(80_000n * WAD, 0n, alice.address); // 40,000 tokens
      // 100,000 − 40,000 redeemed − 50,000 reserved for epoch 1 = 10,000
      expect(await engine.redeemCapacity()).to.equal(10_000n * WAD);
      await expect(engine.distribute(genesis))
        .to.be.revertedWithCustomError(engine, "EpochMintCapExceeded")
        .withArgs(50_000n * WAD, 10_000n * WAD);
      // Epoch 1 (the previous one, no work: 25,000) fits: 100,000 − 40,000 = 60,000 left without the reserve.
      await engine.distribute(genesis + 1n);
      // Now 100,000 − 40,000 − 25,000 = 35,000 left, still short of epoch 0's 50,000.
      await expect(engine.distribute(genesis))
        .to.be.revertedWithCustomError(engine, "EpochMintCapExceeded")
        .withArgs(50_000n * WAD, 35_000n * WAD);
      // A fresh epoch: 100,000 − 50,000 reserved for epoch 2 = 50,000, exactly enough.
      await goToEpoch(genesis + 3n);
      await engine.distribute(genesis);
      expect(await engine.mintedIn(genesis + 3n)).to.equal(50_000n * WAD);
      expect(await engine.redeemCapacity()).to.equal(0n); // 50,000 used + 50,000 reserved for epoch 2
    });

    it("applies a new cap from the next epoch, so a lowered cap cannot block the previous epoch's distribution", async () => {
      const { engine, admin, coordinator, alice, provider1, genesis } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(200_000n * WAD, 0n, alice.address); // $399,000 credit
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 1n);
      await engine.connect(alice).redeem(200_000n * WAD, 0n, alice.address); // 100,000 tokens, cap 1,000,000
      await expect(engine.connect(admin).setEpochMintCap(EMISSION)) // the lowest cap allowed
        .to.emit(engine, "ParameterUpdated")
        .withArgs(ethers.encodeBytes32String("epochMintCap"), 1_000_000n * WAD, EMISSION);
      // the running epoch keeps its 1,000,000 cap: the previous epoch's emission still fits
      expect((await engine.config()).epochMintCap).to.equal(1_000_000n * WAD);
      await expect(engine.distribute(genesis)).to.emit(engine, "EmissionDistributed");
      expect(await engine.mintedIn(genesis + 1n)).to.equal(100_000n * WAD + EMISSION);
      // from the next epoch on the cap is 50,000: the reserve for epoch genesis+1 (50,000) fills it
      await goToEpoch(genesis + 2n);
      expect((await engine.config()).epochMintCap).to.equal(EMISSION);
      expect(await engine.redeemCapacity()).to.equal(0n);
      await expect(engine.connect(alice).redeem(2n * WAD, 0n, alice.address))
        .to.be.revertedWithCustomError(engine, "EpochMintCapExceeded")
        .withArgs(WAD, 0n);
      await engine.distribute(genesis + 1n);
      expect(await engine.redeemCapacity()).to.equal(EMISSION / 2n); // no work in genesis+1: stakers' 25,000 only
    });
  });

  describe("distribute", () => {
    it("only distributes finished epochs", async () => {
      const { engine, genesis } = await loadFixture(engineFixture);
      await expect(engine.distribute(genesis))
        .to.be.revertedWithCustomError(engine, "EpochNotFinished")
        .withArgs(genesis, genesis);
      await expect(engine.distribute(genesis + 1n))
        .to.be.revertedWithCustomError(engine, "EpochNotFinished")
        .withArgs(genesis + 1n, genesis);
    });

    it("rejects epochs before genesis with EpochBeforeGenesis", async () => {
      const { engine, genesis } = await loadFixture(engineFixture);
      await expect(engine.distribute(genesis - 1n))
        .to.be.revertedWithCustomError(engine, "EpochBeforeGenesis")
        .withArgs(genesis - 1n, genesis);
      await expect(engine.distribute(0n))
        .to.be.revertedWithCustomError(engine, "EpochBeforeGenesis")
        .withArgs(0n, genesis);
    });

    it("distributes an epoch once, then reverts with AlreadyDistributed", async () => {
      const { engine, genesis } = await loadFixture(engineFixture);
      await goToEpoch(genesis + 1n);
      await engine.distribute(genesis);
      await expect(engine.distribute(genesis))
        .to.be.revertedWithCustomError(engine, "AlreadyDistributed")
        .withArgs(genesis);
    });

    it("splits the emission: stakerShareBps streamed to the vault, the rest held for providers", async () => {
      const { engine, token, vault, coordinator, outsider, provider1, provider2, genesis } =
        await loadFixture(engineFixture);
      await engine.connect(coordinator).recordWork(provider1.address, 300n * WAD, false);
      await engine.connect(coordinator).recordWork(provider2.address, 100n * WAD, true);
      await goToEpoch(genesis + 1n);
      const supplyBefore = await token.totalSupply();
      expect(await engine.connect(outsider).distribute.staticCall(genesis)).to.equal(EMISSION);

      const t = (genesis + 1n) * DAY + 2n * HOUR;
      await time.setNextBlockTimestamp(t);
      const tx = engine.connect(outsider).distribute(genesis);
      // 50,000 × 5,000 / 10,000 = 25,000 to stakers, 25,000 to providers
      await expect(tx)
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis, outsider.address, 25_000n * WAD, 25_000n * WAD);
      await expect(tx)
        .to.emit(vault, "RewardNotified")
        .withArgs(await engine.getAddress(), 25_000n * WAD, 25_000n * WAD, t + DAY); // streamed over one day
      await expect(tx).to.changeTokenBalances(token, [engine, vault], [25_000n * WAD, 25_000n * WAD]);
      expect(await token.totalSupply()).to.equal(supplyBefore + EMISSION);
      expect(await vault.rewardReserve()).to.equal(25_000n * WAD);

      const ledger = await engine.epochLedger(genesis);
      expect(ledger.distributed).to.equal(true);
      expect(ledger.tokensEmitted).to.equal(EMISSION);
      expect(ledger.providerPool).to.equal(25_000n * WAD);
      expect(await engine.netSupplyChange(genesis)).to.equal(EMISSION);
      expect(await engine.mintedIn(genesis + 1n)).to.equal(EMISSION); // counted in the epoch it ran
      expect(await engine.mintedIn(genesis)).to.equal(0n);
      // 25,000 × 300 / 400 and 25,000 × 100 / 400
      expect(await engine.claimableEmission(genesis, provider1.address)).to.equal(18_750n * WAD);
      expect(await engine.claimableEmission(genesis, provider2.address)).to.equal(6_250n * WAD);
      expect(await engine.claimableEmission(genesis, outsider.address)).to.equal(0n);
    });

    it("streams the stakers' share over the vault's reward period to a staker who staked", async () => {
      const { engine, vault, token, alice, genesis } = await loadFixture(engineFixture);
      await vault.connect(alice).stake(1_000n * WAD);
      const t = (genesis + 1n) * DAY + HOUR;
      await time.setNextBlockTimestamp(t);
      await engine.distribute(genesis); // no work: 25,000 to stakers only
      // rate = ⌊25,000e18 × 1e18 / 86,400⌋ and 86,400 × rate = 25e39 − 73,600 (25e39 mod 86,400 = 73,600).
      // Half a day: accumulator ⌊(25e39 − 73,600) / 2 / 1,000e18⌋ = 12.5e18 − 1 per staked token.
      await time.increaseTo(t + DAY / 2n);
      expect(await vault.earned(alice.address)).to.equal(1_000n * (12_500_000_000_000_000_000n - 1n));
      // A full day (and beyond: the stream has ended): ⌊(25e39 − 73,600) / 1,000e18⌋ = 25e18 − 1.
      await time.increaseTo(t + 2n * DAY);
      const earned = 1_000n * (25_000_000_000_000_000_000n - 1n); // 25,000 tokens less 1,000 wei of dust
      expect(await vault.earned(alice.address)).to.equal(earned);
      await expect(vault.connect(alice).claim()).to.changeTokenBalance(token, alice, earned);
    });

    it("does not mint the providers' share when no work was recorded", async () => {
      const { admin, engine, token, genesis } = await loadFixture(engineFixture);
      await goToEpoch(genesis + 1n);
      const supplyBefore = await token.totalSupply();
      await expect(engine.distribute(genesis))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis, admin.address, 25_000n * WAD, 0n);
      expect(await token.totalSupply()).to.equal(supplyBefore + 25_000n * WAD);
      expect(await token.balanceOf(await engine.getAddress())).to.equal(0n);
      expect((await engine.epochLedger(genesis)).providerPool).to.equal(0n);
    });

    it("pays everything to providers at a zero staker share, without calling the vault", async () => {
      const { engine, vault, admin, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      await engine.connect(admin).setStakerShareBps(0n);
      await engine.connect(coordinator).recordWork(provider1.address, 5n * WAD, false);
      await goToEpoch(genesis + 1n);
      const tx = engine.distribute(genesis);
      await expect(tx).to.emit(engine, "EmissionDistributed").withArgs(genesis, admin.address, 0n, EMISSION);
      await expect(tx).not.to.emit(vault, "RewardNotified");
      expect(await vault.rewardReserve()).to.equal(0n);
      expect(await engine.claimableEmission(genesis, provider1.address)).to.equal(EMISSION);
    });

    it("pays everything to stakers at a 10,000 bps staker share, leaving providers nothing to claim", async () => {
      const { engine, vault, admin, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      await engine.connect(admin).setStakerShareBps(10_000n);
      await engine.connect(coordinator).recordWork(provider1.address, 5n * WAD, false);
      await goToEpoch(genesis + 1n);
      await expect(engine.distribute(genesis))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis, admin.address, EMISSION, 0n);
      expect(await vault.rewardReserve()).to.equal(EMISSION);
      expect(await engine.claimableEmission(genesis, provider1.address)).to.equal(0n);
      await expect(engine.connect(provider1).claimEmissions([genesis])).not.to.emit(
        engine,
        "EmissionClaimed",
      );
    });

    it("mints nothing, yet marks the epoch distributed, when nothing is due", async () => {
      const { engine, token, admin, genesis } = await loadFixture(engineFixture);
      await engine.connect(admin).setStakerShareBps(0n); // and no work: nothing for anyone
      await goToEpoch(genesis + 1n);
      const supplyBefore = await token.totalSupply();
      expect(await engine.distribute.staticCall(genesis)).to.equal(0n);
      await expect(engine.distribute(genesis))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis, admin.address, 0n, 0n);
      expect(await token.totalSupply()).to.equal(supplyBefore);
      expect((await engine.epochLedger(genesis)).distributed).to.equal(true);
      expect(await engine.mintedIn(genesis + 1n)).to.equal(0n);
    });

    it("halves the emission every halvingEpochs epochs", async () => {
      const { admin, engine, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      expect(await engine.emissionFor(genesis - 1n)).to.equal(0n); // before genesis
      expect(await engine.emissionFor(genesis)).to.equal(EMISSION);
      expect(await engine.emissionFor(genesis + 364n)).to.equal(EMISSION);
      expect(await engine.emissionFor(genesis + 365n)).to.equal(25_000n * WAD);
      expect(await engine.emissionFor(genesis + 729n)).to.equal(25_000n * WAD);
      expect(await engine.emissionFor(genesis + 730n)).to.equal(12_500n * WAD);
      // 50,000e18 / 2^75 = 5e22 / 37,778,931,862,957,161,709,568 = 1.32… → 1 wei; one more halving → 0
      expect(await engine.emissionFor(genesis + 75n * 365n)).to.equal(1n);
      expect(await engine.emissionFor(genesis + 76n * 365n)).to.equal(0n);
      expect(await engine.emissionFor(genesis + 256n * 365n)).to.equal(0n); // shift guard
      expect(await engine.emissionFor(genesis + 1_000n * 365n)).to.equal(0n);

      // And distribute mints the halved amount: epoch genesis + 365 emits 25,000 (12,500 per side).
      await goToEpoch(genesis + 365n);
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 366n);
      await expect(engine.distribute(genesis + 365n))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis + 365n, admin.address, 12_500n * WAD, 12_500n * WAD);
    });

    it("caps the emission at maxSupply, serving stakers first", async () => {
      const { engine, token, vault, admin, coordinator, alice, provider1, genesis } =
        await loadFixture(smallSupplyFixture);
      const maxSupply = 130_000n * WAD;
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 1n);
      // Headroom 130,000 − 100,000 = 30,000: stakers' 25,000 in full, providers 30,000 − 25,000 = 5,000.
      await expect(engine.distribute(genesis))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis, admin.address, 25_000n * WAD, 5_000n * WAD);
      expect(await token.totalSupply()).to.equal(maxSupply);
      expect((await engine.epochLedger(genesis)).tokensEmitted).to.equal(30_000n * WAD);
      expect(await engine.claimableEmission(genesis, provider1.address)).to.equal(5_000n * WAD);

      // At maxSupply nothing more is minted.
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 2n);
      await expect(engine.distribute(genesis + 1n))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis + 1n, admin.address, 0n, 0n);
      expect(await token.totalSupply()).to.equal(maxSupply);

      // Burning 10,000 opens 10,000 of headroom, less than the stakers' 25,000: stakers get all of it.
      await engine.connect(alice).mintCredits(10_000n * WAD, 0n, alice.address);
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 3n);
      await expect(engine.distribute(genesis + 2n))
        .to.emit(engine, "EmissionDistributed")
        .withArgs(genesis + 2n, admin.address, 10_000n * WAD, 0n);
      expect(await token.totalSupply()).to.equal(maxSupply);
      expect(await vault.rewardReserve()).to.equal(35_000n * WAD);
    });

    it("leaves a redemption beyond maxSupply to the token's MaxSupplyExceeded", async () => {
      const { engine, token, coordinator, alice, provider1, genesis } = await loadFixture(smallSupplyFixture);
      await engine.connect(alice).mintCredits(40_000n * WAD, 0n, alice.address); // supply 60,000; $79,800 credit
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await goToEpoch(genesis + 1n);
      await engine.distribute(genesis); // 50,000: supply 110,000, headroom 20,000
      expect(await token.totalSupply()).to.equal(110_000n * WAD);
      // The epoch cap still has 100,000 − 50,000 = 50,000 left, but maxSupply only 20,000:
      // $79,800 / $2 = 39,900 tokens.
      expect(await engine.redeemCapacity()).to.equal(50_000n * WAD);
      await expect(engine.connect(alice).redeem(79_800n * WAD, 0n, alice.address))
        .to.be.revertedWithCustomError(token, "MaxSupplyExceeded")
        .withArgs(39_900n * WAD, 20_000n * WAD);
    });
  });

  describe("claimEmissions", () => {
    /** Epoch 0: provider1 $1 and provider2 $2 of work; epoch 1: provider1 $4; both distributed. */
    async function distributedFixture() {
      const f = await loadFixture(engineFixture);
      // provider1: $1, provider2: $2 of work: shares of 25,000 are 1/3 and 2/3, neither exact.
      await f.engine.connect(f.coordinator).recordWork(f.provider1.address, WAD, false);
      await f.engine.connect(f.coordinator).recordWork(f.provider2.address, 2n * WAD, false);
      await goToEpoch(f.genesis + 1n);
      await f.engine.distribute(f.genesis);
      await f.engine.connect(f.coordinator).recordWork(f.provider1.address, 4n * WAD, false);
      await goToEpoch(f.genesis + 2n);
      await f.engine.distribute(f.genesis + 1n);
      return f;
    }

    it("pays each provider its pro-rata share, rounded down", async () => {
      const { engine, token, provider1, provider2, genesis } = await distributedFixture();
      // ⌊25,000e18 × 1 / 3⌋ and ⌊25,000e18 × 2 / 3⌋
      const share1 = 8_333_333_333_333_333_333_333n;
      const share2 = 16_666_666_666_666_666_666_666n;
      expect(share1 + share2).to.equal(25_000n * WAD - 1n); // 1 wei of dust stays in the engine
      expect(await engine.claimableEmission(genesis, provider1.address)).to.equal(share1);
      expect(await engine.claimableEmission(genesis, provider2.address)).to.equal(share2);
      expect(await engine.connect(provider2).claimEmissions.staticCall([genesis])).to.equal(share2);
      const tx = engine.connect(provider2).claimEmissions([genesis]);
      await expect(tx).to.emit(engine, "EmissionClaimed").withArgs(provider2.address, share2);
      await expect(tx).to.changeTokenBalances(token, [provider2, engine], [share2, -share2]);
      expect(await engine.claimableEmission(genesis, provider2.address)).to.equal(0n);
    });

    it("claims several epochs in one call", async () => {
      const { engine, token, provider1, genesis } = await distributedFixture();
      // epoch 0: ⌊25,000 / 3⌋; epoch 1: provider1 did all the work, 25,000
      const total = 8_333_333_333_333_333_333_333n + 25_000n * WAD;
      const tx = engine.connect(provider1).claimEmissions([genesis, genesis + 1n]);
      await expect(tx).to.emit(engine, "EmissionClaimed").withArgs(provider1.address, total);
      await expect(tx).to.changeTokenBalance(token, provider1, total);
    });

    it("reverts with AlreadyClaimed for an epoch already claimed, also within one call", async () => {
      const { engine, provider1, genesis } = await distributedFixture();
      await engine.connect(provider1).claimEmissions([genesis]);
      await expect(engine.connect(provider1).claimEmissions([genesis]))
        .to.be.revertedWithCustomError(engine, "AlreadyClaimed")
        .withArgs(genesis, provider1.address);
      await expect(engine.connect(provider1).claimEmissions([genesis + 1n, genesis + 1n]))
        .to.be.revertedWithCustomError(engine, "AlreadyClaimed")
        .withArgs(genesis + 1n, provider1.address);
    });

    it("reverts with NotDistributed for an epoch not distributed yet", async () => {
      const { engine, provider1, genesis } = await distributedFixture();
      expect(await engine.claimableEmission(genesis + 2n, provider1.address)).to.equal(0n);
      await expect(engine.connect(provider1).claimEmissions([genesis, genesis + 2n]))
        .to.be.revertedWithCustomError(engine, "NotDistributed")
        .withArgs(genesis + 2n);
    });

    it("returns zero without an event to a provider with no work, and to an empty list", async () => {
      const { engine, token, outsider, genesis } = await distributedFixture();
      expect(await engine.claimableEmission(genesis, outsider.address)).to.equal(0n);
      expect(await engine.connect(outsider).claimEmissions.staticCall([genesis])).to.equal(0n);
      const tx = engine.connect(outsider).claimEmissions([genesis]);
      await expect(tx).not.to.emit(engine, "EmissionClaimed");
      await expect(tx).to.changeTokenBalance(token, outsider, 0n);
      expect(await engine.connect(outsider).claimEmissions.staticCall([])).to.equal(0n);
    });
  });

  describe("recordWork", () => {
    it("records work per provider and epoch and emits WorkRecorded", async () => {
      const { engine, coordinator, provider1, provider2, genesis } = await loadFixture(engineFixture);
      await expect(engine.connect(coordinator).recordWork(provider1.address, 70n * WAD, false))
        .to.emit(engine, "WorkRecorded")
        .withArgs(genesis, provider1.address, 70n * WAD, false);
      await expect(engine.connect(coordinator).recordWork(provider2.address, 30n * WAD, true))
        .to.emit(engine, "WorkRecorded")
        .withArgs(genesis, provider2.address, 30n * WAD, true);
      await engine.connect(coordinator).recordWork(provider1.address, 5n * WAD, true);
      const ledger = await engine.epochLedger(genesis);
      expect(ledger.workUsd).to.equal(105n * WAD);
      expect(ledger.subsidisedWorkUsd).to.equal(35n * WAD);
      expect(await engine.providerWork(genesis, provider1.address)).to.equal(75n * WAD);
      expect(await engine.providerWork(genesis, provider2.address)).to.equal(30n * WAD);
      expect(await engine.providerWork(genesis + 1n, provider1.address)).to.equal(0n);
    });

    it("is only for COORDINATOR_ROLE", async () => {
      const { engine, outsider, provider1 } = await loadFixture(engineFixture);
      await expect(engine.connect(outsider).recordWork(provider1.address, WAD, false))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.COORDINATOR);
    });

    it("rejects the zero provider and a zero amount", async () => {
      const { engine, coordinator, provider1 } = await loadFixture(engineFixture);
      await expect(
        engine.connect(coordinator).recordWork(ethers.ZeroAddress, WAD, false),
      ).to.be.revertedWithCustomError(engine, "ZeroAddress");
      await expect(
        engine.connect(coordinator).recordWork(provider1.address, 0n, false),
      ).to.be.revertedWithCustomError(engine, "ZeroAmount");
    });
  });

  describe("mintSubsidisedCredits", () => {
    it("mints credit to the provider from the epoch's budget and emits SubsidisedCreditsMinted", async () => {
      const { engine, computeCredit, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      const tx = engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 400n * WAD);
      await expect(tx)
        .to.emit(engine, "SubsidisedCreditsMinted")
        .withArgs(genesis, provider1.address, 400n * WAD);
      await expect(tx).to.changeTokenBalance(computeCredit, provider1, 400n * WAD);
      expect((await engine.epochLedger(genesis)).subsidyMintedUsd).to.equal(400n * WAD);
      expect(await engine.subsidyRemaining()).to.equal(600n * WAD); // $1,000 − $400
      expect(await engine.organicUsd(genesis)).to.equal(0n); // subsidy is not organic
    });

    it("reverts with SubsidyBudgetExceeded(requested, remaining) one wei over the budget", async () => {
      const { engine, coordinator, provider1 } = await loadFixture(engineFixture);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, BUDGET + 1n))
        .to.be.revertedWithCustomError(engine, "SubsidyBudgetExceeded")
        .withArgs(BUDGET + 1n, BUDGET);
      await engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 400n * WAD);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 600n * WAD + 1n))
        .to.be.revertedWithCustomError(engine, "SubsidyBudgetExceeded")
        .withArgs(600n * WAD + 1n, 600n * WAD);
      await engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 600n * WAD); // exactly the rest
      expect(await engine.subsidyRemaining()).to.equal(0n);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 1n))
        .to.be.revertedWithCustomError(engine, "SubsidyBudgetExceeded")
        .withArgs(1n, 0n);
    });

    it("refreshes the budget every epoch", async () => {
      const { engine, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(provider1.address, BUDGET);
      expect(await engine.subsidyRemaining()).to.equal(0n);
      await goToEpoch(genesis + 1n);
      expect(await engine.subsidyRemaining()).to.equal(BUDGET);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, BUDGET))
        .to.emit(engine, "SubsidisedCreditsMinted")
        .withArgs(genesis + 1n, provider1.address, BUDGET);
    });

    it("reports zero remaining when the budget is lowered below what the epoch already used", async () => {
      const { engine, admin, coordinator, provider1 } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 600n * WAD);
      await engine.connect(admin).setSubsidyBudgetUsd(500n * WAD);
      expect(await engine.subsidyRemaining()).to.equal(0n);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 1n))
        .to.be.revertedWithCustomError(engine, "SubsidyBudgetExceeded")
        .withArgs(1n, 0n);
    });

    it("is only for COORDINATOR_ROLE and rejects the zero provider and a zero amount", async () => {
      const { engine, coordinator, outsider, provider1 } = await loadFixture(engineFixture);
      await expect(engine.connect(outsider).mintSubsidisedCredits(provider1.address, WAD))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.COORDINATOR);
      await expect(
        engine.connect(coordinator).mintSubsidisedCredits(ethers.ZeroAddress, WAD),
      ).to.be.revertedWithCustomError(engine, "ZeroAddress");
      await expect(
        engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 0n),
      ).to.be.revertedWithCustomError(engine, "ZeroAmount");
    });
  });

  describe("returnSubsidisedCredits", () => {
    it("burns the caller's credit, gives it back to the epoch's budget and emits SubsidisedCreditsReturned", async () => {
      const { engine, computeCredit, coordinator, genesis } = await loadFixture(engineFixture);
      // The coordinator reserves $400 of subsidy for a job (minted to itself), which uses $250 of it.
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, 400n * WAD);
      const supply = await computeCredit.totalSupply();
      const tx = engine.connect(coordinator).returnSubsidisedCredits(genesis, 150n * WAD);
      await expect(tx)
        .to.emit(engine, "SubsidisedCreditsReturned")
        .withArgs(genesis, coordinator.address, 150n * WAD);
      await expect(tx).to.changeTokenBalance(computeCredit, coordinator, -150n * WAD);
      expect(await computeCredit.totalSupply()).to.equal(supply - 150n * WAD);
      expect((await engine.epochLedger(genesis)).subsidyMintedUsd).to.equal(250n * WAD);
      expect(await engine.subsidyRemaining()).to.equal(BUDGET - 250n * WAD);
    });

    it("makes returned budget usable again: after returning everything the whole budget can be minted", async () => {
      const { engine, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, BUDGET);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 1n))
        .to.be.revertedWithCustomError(engine, "SubsidyBudgetExceeded")
        .withArgs(1n, 0n);
      await engine.connect(coordinator).returnSubsidisedCredits(genesis, BUDGET);
      expect((await engine.epochLedger(genesis)).subsidyMintedUsd).to.equal(0n);
      expect(await engine.subsidyRemaining()).to.equal(BUDGET);
      await expect(engine.connect(coordinator).mintSubsidisedCredits(provider1.address, BUDGET))
        .to.emit(engine, "SubsidisedCreditsMinted")
        .withArgs(genesis, provider1.address, BUDGET);
    });

    it("reduces a past epoch's subsidyMintedUsd and leaves the current epoch's budget as it is", async () => {
      const { engine, computeCredit, coordinator, genesis } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, 300n * WAD);
      await goToEpoch(genesis + 1n);
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, 100n * WAD);
      await expect(engine.connect(coordinator).returnSubsidisedCredits(genesis, 200n * WAD))
        .to.emit(engine, "SubsidisedCreditsReturned")
        .withArgs(genesis, coordinator.address, 200n * WAD);
      expect((await engine.epochLedger(genesis)).subsidyMintedUsd).to.equal(100n * WAD);
      expect((await engine.epochLedger(genesis + 1n)).subsidyMintedUsd).to.equal(100n * WAD);
      expect(await engine.subsidyRemaining()).to.equal(BUDGET - 100n * WAD);
      expect(await computeCredit.balanceOf(coordinator.address)).to.equal(200n * WAD);
    });

    it("refuses more than the epoch's subsidyMintedUsd with ParameterOutOfBounds(subsidyReturned, usd, 1, minted)", async () => {
      const { engine, coordinator, genesis } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, 400n * WAD);
      await expect(engine.connect(coordinator).returnSubsidisedCredits(genesis, 400n * WAD + 1n))
        .to.be.revertedWithCustomError(engine, "ParameterOutOfBounds")
        .withArgs(param("subsidyReturned"), 400n * WAD + 1n, 1n, 400n * WAD);
      // Another epoch's subsidy does not count: an epoch with none minted takes nothing back.
      await goToEpoch(genesis + 1n);
      await expect(engine.connect(coordinator).returnSubsidisedCredits(genesis + 1n, 1n))
        .to.be.revertedWithCustomError(engine, "ParameterOutOfBounds")
        .withArgs(param("subsidyReturned"), 1n, 1n, 0n);
      await engine.connect(coordinator).returnSubsidisedCredits(genesis, 400n * WAD); // exactly all of it
      expect((await engine.epochLedger(genesis)).subsidyMintedUsd).to.equal(0n);
    });

    it("burns only the caller's own credit: ERC20InsufficientBalance when it holds less than it returns", async () => {
      const { engine, computeCredit, coordinator, provider1, genesis } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(provider1.address, 400n * WAD);
      await expect(engine.connect(coordinator).returnSubsidisedCredits(genesis, 100n * WAD))
        .to.be.revertedWithCustomError(computeCredit, "ERC20InsufficientBalance")
        .withArgs(coordinator.address, 0n, 100n * WAD);
      expect(await computeCredit.balanceOf(provider1.address)).to.equal(400n * WAD);
      expect((await engine.epochLedger(genesis)).subsidyMintedUsd).to.equal(400n * WAD);
    });

    it("is only for COORDINATOR_ROLE and rejects a zero amount", async () => {
      const { engine, coordinator, outsider, genesis } = await loadFixture(engineFixture);
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, WAD);
      await expect(engine.connect(outsider).returnSubsidisedCredits(genesis, WAD))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.COORDINATOR);
      await expect(
        engine.connect(coordinator).returnSubsidisedCredits(genesis, 0n),
      ).to.be.revertedWithCustomError(engine, "ZeroAmount");
    });
  });

  describe("recordVoucherRevenue", () => {
    it("adds voucher revenue to the epoch's organic USD and emits VoucherRevenueRecorded", async () => {
      const { engine, reporter, alice, genesis } = await loadFixture(engineFixture);
      await expect(engine.connect(reporter).recordVoucherRevenue(120n * WAD))
        .to.emit(engine, "VoucherRevenueRecorded")
        .withArgs(genesis, reporter.address, 120n * WAD);
      await engine.connect(reporter).recordVoucherRevenue(30n * WAD);
      expect((await engine.epochLedger(genesis)).voucherRevenueUsd).to.equal(150n * WAD);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address); // $200 gross
      // organic = $200 credit bought + $150 voucher revenue
      expect(await engine.organicUsd(genesis)).to.equal(350n * WAD);
    });

    it("is only for REPORTER_ROLE and rejects a zero amount", async () => {
      const { engine, reporter, coordinator } = await loadFixture(engineFixture);
      await expect(engine.connect(coordinator).recordVoucherRevenue(WAD))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(coordinator.address, ROLES.REPORTER);
      await expect(engine.connect(reporter).recordVoucherRevenue(0n)).to.be.revertedWithCustomError(
        engine,
        "ZeroAmount",
      );
    });
  });

  describe("views", () => {
    it("gives the subsidy ratio in bps of all work paid, rounded down, and 0 without work", async () => {
      const { engine, coordinator, provider1, provider2, genesis } = await loadFixture(engineFixture);
      expect(await engine.subsidyRatio(genesis)).to.equal(0n);
      await engine.connect(coordinator).recordWork(provider1.address, 700n * WAD, false);
      expect(await engine.subsidyRatio(genesis)).to.equal(0n);
      await engine.connect(coordinator).recordWork(provider2.address, 300n * WAD, true);
      expect(await engine.subsidyRatio(genesis)).to.equal(3_000n); // $300 / $1,000
      await goToEpoch(genesis + 1n);
      await engine.connect(coordinator).recordWork(provider1.address, 2n * WAD, false);
      await engine.connect(coordinator).recordWork(provider2.address, WAD, true);
      expect(await engine.subsidyRatio(genesis + 1n)).to.equal(3_333n); // 1/3 = 3,333.3… bps
      expect(await engine.subsidyRatio(genesis)).to.equal(3_000n); // past epochs stay readable
    });

    it("reports net supply change per epoch: negative when burns exceed mints, positive otherwise", async () => {
      const { engine, alice, genesis } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(1_000n * WAD, 0n, alice.address); // $1,995 credit
      await engine.connect(alice).redeem(1_000n * WAD, 0n, alice.address); // 500 tokens
      expect(await engine.netSupplyChange(genesis)).to.equal(-500n * WAD); // 500 − 1,000
      await goToEpoch(genesis + 1n);
      await engine.distribute(genesis); // 25,000 (no work)
      expect(await engine.netSupplyChange(genesis)).to.equal(24_500n * WAD); // 500 + 25,000 − 1,000
      expect(await engine.netSupplyChange(genesis + 1n)).to.equal(0n);
    });

    it("reports the current epoch as the UTC day number", async () => {
      const { engine, genesis } = await loadFixture(engineFixture);
      await time.increaseTo((genesis + 1n) * DAY - 1n); // last second of genesis
      expect(await engine.currentEpoch()).to.equal(genesis);
      await time.increaseTo((genesis + 1n) * DAY); // first second of the next day
      expect(await engine.currentEpoch()).to.equal(genesis + 1n);
    });
  });

  describe("governance", () => {
    const numeric: {
      name: string;
      set: (e: BurnMintEngine, v: bigint) => Promise<unknown>;
      get: (c: IBurnMintEngine.ConfigStructOutput) => bigint;
      min: bigint;
      max: bigint;
      initial: bigint;
    }[] = [
      {
        name: "mintSpreadBps",
        set: (e, v) => e.setMintSpreadBps(v),
        get: (c) => c.mintSpreadBps,
        min: 0n,
        max: 500n,
        initial: 25n,
      },
      {
        name: "epochMintCap",
        set: (e, v) => e.setEpochMintCap(v),
        get: (c) => c.epochMintCap,
        min: EMISSION,
        max: MAX_SUPPLY,
        initial: CAP,
      },
      {
        name: "stakerShareBps",
        set: (e, v) => e.setStakerShareBps(v),
        get: (c) => c.stakerShareBps,
        min: 0n,
        max: 10_000n,
        initial: 5_000n,
      },
      {
        name: "subsidyBudgetUsd",
        set: (e, v) => e.setSubsidyBudgetUsd(v),
        get: (c) => c.subsidyBudgetUsd,
        min: 0n,
        max: 10n ** 27n, // $1e9
        initial: BUDGET,
      },
    ];

    for (const p of numeric) {
      it(`sets ${p.name} anywhere in [${p.min}, ${p.max}] inclusive and rejects one outside`, async () => {
        const { engine, admin } = await loadFixture(engineFixture);
        const asAdmin = engine.connect(admin);
        // the mint cap takes effect from the next epoch; the other parameters at once
        const settle = async () => {
          if (p.name === "epochMintCap") await time.increase(DAY);
        };
        await expect(p.set(asAdmin, p.max))
          .to.emit(engine, "ParameterUpdated")
          .withArgs(param(p.name), p.initial, p.max);
        await settle();
        expect(p.get(await engine.config())).to.equal(p.max);
        await expect(p.set(asAdmin, p.min))
          .to.emit(engine, "ParameterUpdated")
          .withArgs(param(p.name), p.max, p.min);
        await settle();
        expect(p.get(await engine.config())).to.equal(p.min);
        await expect(p.set(asAdmin, p.max + 1n))
          .to.be.revertedWithCustomError(engine, "ParameterOutOfBounds")
          .withArgs(param(p.name), p.max + 1n, p.min, p.max);
        if (p.min > 0n) {
          await expect(p.set(asAdmin, p.min - 1n))
            .to.be.revertedWithCustomError(engine, "ParameterOutOfBounds")
            .withArgs(param(p.name), p.min - 1n, p.min, p.max);
        }
      });

      it(`lets only the admin set ${p.name}`, async () => {
        const { engine, guardian } = await loadFixture(engineFixture);
        await expect(p.set(engine.connect(guardian), p.initial))
          .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
          .withArgs(guardian.address, ROLES.DEFAULT_ADMIN);
      });
    }

    it("replaces the oracle with one that answers, and the new price applies at once", async () => {
      const { engine, oracle, admin, alice } = await loadFixture(engineFixture);
      const replacement = await (
        await ethers.getContractFactory("FixedPriceOracle")
      ).deploy(admin.address, 3n * WAD, WAD / 1_000n, 1_000n * WAD);
      const newAddress = await replacement.getAddress();
      await expect(engine.connect(admin).setOracle(newAddress))
        .to.emit(engine, "AddressUpdated")
        .withArgs(param("oracle"), await oracle.getAddress(), newAddress);
      expect(await engine.oracle()).to.equal(newAddress);
      // 10 tokens × $3 = $30; spread $0.075; credit $29.925
      const [credits, spread] = await engine.quoteMintCredits(10n * WAD);
      expect(credits).to.equal(29_925n * (WAD / 1_000n));
      expect(spread).to.equal(75n * (WAD / 1_000n));
      await expect(engine.connect(alice).mintCredits(10n * WAD, 0n, alice.address))
        .to.emit(engine, "CreditsMinted")
        .withArgs(alice.address, alice.address, 10n * WAD, credits, spread, 3n * WAD);
    });

    it("refuses an oracle that cannot answer now, with the oracle's own error, and the zero address", async () => {
      const { engine, admin } = await loadFixture(engineFixture);
      const feed = await (await ethers.getContractFactory("MockAggregator")).deploy(8);
      const chainlink = await (
        await ethers.getContractFactory("ChainlinkPriceOracle")
      ).deploy(await feed.getAddress(), HOUR);
      await expect(engine.connect(admin).setOracle(await chainlink.getAddress()))
        .to.be.revertedWithCustomError(chainlink, "InvalidAnswer")
        .withArgs(0n);
      await expect(engine.connect(admin).setOracle(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        engine,
        "ZeroAddress",
      );
    });

    it("halts both conversions with the oracle's error when the price goes stale", async () => {
      const { engine, admin, alice } = await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      const feed = await (await ethers.getContractFactory("MockAggregator")).deploy(8);
      const chainlink = await (
        await ethers.getContractFactory("ChainlinkPriceOracle")
      ).deploy(await feed.getAddress(), HOUR);
      await feed.setAnswer(250_000_000n); // $2.50 with 8 decimals
      const updatedAt = BigInt(await time.latest());
      await engine.connect(admin).setOracle(await chainlink.getAddress());
      expect(await engine.quoteRedeem(5n * WAD)).to.equal(2n * WAD); // $5 / $2.50

      const stale = updatedAt + HOUR + 1n;
      await time.setNextBlockTimestamp(stale);
      await expect(engine.connect(alice).mintCredits(WAD, 0n, alice.address))
        .to.be.revertedWithCustomError(chainlink, "StalePrice")
        .withArgs(updatedAt, HOUR, stale);
      await time.setNextBlockTimestamp(stale + 1n);
      await expect(engine.connect(alice).redeem(WAD, 0n, alice.address))
        .to.be.revertedWithCustomError(chainlink, "StalePrice")
        .withArgs(updatedAt, HOUR, stale + 1n);
    });

    it("lets only the admin replace the oracle", async () => {
      const { engine, oracle, outsider } = await loadFixture(engineFixture);
      await expect(engine.connect(outsider).setOracle(await oracle.getAddress()))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.DEFAULT_ADMIN);
    });

    it("replaces the treasury, which then receives the spread", async () => {
      const { engine, computeCredit, admin, treasury, alice, carol } = await loadFixture(engineFixture);
      await expect(engine.connect(admin).setTreasury(carol.address))
        .to.emit(engine, "AddressUpdated")
        .withArgs(param("treasury"), treasury.address, carol.address);
      expect(await engine.treasury()).to.equal(carol.address);
      await expect(engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address)).to.changeTokenBalances(
        computeCredit,
        [treasury, carol],
        [0n, WAD / 2n],
      );
    });

    it("rejects the zero treasury and lets only the admin set it", async () => {
      const { engine, admin, outsider } = await loadFixture(engineFixture);
      await expect(engine.connect(admin).setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        engine,
        "ZeroAddress",
      );
      await expect(engine.connect(outsider).setTreasury(outsider.address))
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.DEFAULT_ADMIN);
    });
  });

  describe("pause", () => {
    it("lets the guardian pause conversions only: mintCredits and redeem revert, everything else works", async () => {
      const { engine, guardian, alice, coordinator, reporter, provider1, genesis } =
        await loadFixture(engineFixture);
      await engine.connect(alice).mintCredits(100n * WAD, 0n, alice.address);
      await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
      await expect(engine.connect(guardian).pause()).to.emit(engine, "Paused").withArgs(guardian.address);
      await expect(engine.connect(alice).mintCredits(WAD, 0n, alice.address)).to.be.revertedWithCustomError(
        engine,
        "EnforcedPause",
      );
      await expect(engine.connect(alice).redeem(WAD, 0n, alice.address)).to.be.revertedWithCustomError(
        engine,
        "EnforcedPause",
      );
      await engine.connect(coordinator).recordWork(provider1.address, WAD, true);
      await engine.connect(coordinator).mintSubsidisedCredits(provider1.address, WAD);
      await engine.connect(coordinator).mintSubsidisedCredits(coordinator.address, WAD);
      await expect(engine.connect(coordinator).returnSubsidisedCredits(genesis, WAD)).to.emit(
        engine,
        "SubsidisedCreditsReturned",
      );
      await engine.connect(reporter).recordVoucherRevenue(WAD);
      await goToEpoch(genesis + 1n);
      await engine.distribute(genesis);
      await expect(engine.connect(provider1).claimEmissions([genesis]))
        .to.emit(engine, "EmissionClaimed")
        .withArgs(provider1.address, 25_000n * WAD);
    });

    it("lets only the admin unpause, after which conversions work again", async () => {
      const { engine, guardian, admin, alice, outsider } = await loadFixture(engineFixture);
      await expect(engine.connect(outsider).pause())
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.GUARDIAN);
      await engine.connect(guardian).pause();
      await expect(engine.connect(guardian).unpause())
        .to.be.revertedWithCustomError(engine, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, ROLES.DEFAULT_ADMIN);
      await expect(engine.connect(admin).unpause()).to.emit(engine, "Unpaused").withArgs(admin.address);
      await expect(engine.connect(alice).mintCredits(WAD, 0n, alice.address)).to.emit(
        engine,
        "CreditsMinted",
      );
      await expect(engine.connect(alice).redeem(WAD, 0n, alice.address)).to.emit(engine, "CreditsRedeemed");
    });
  });
});

describe("BurnMintEngine reentrancy guard", () => {
  /**
   * An engine whose token, vault and oracle are one ReentrantCallback (contracts/mocks) answering
   * maxSupply 1e27, totalSupply 0 and price $2; ComputeCredit is the real one. `arm(payload, fn)` makes the
   * double call `payload` back into the engine from inside the engine's call of `fn` on it.
   */
  async function reentrantFixture() {
    const [admin, treasury, coordinator, provider1] = await ethers.getSigners();
    const start = (BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR;
    await time.increaseTo(start);
    const double = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
    const coder = ethers.AbiCoder.defaultAbiCoder();
    const selector = (signature: string) => ethers.id(signature).slice(0, 10);
    await double.setAnswer(selector("maxSupply()"), coder.encode(["uint256"], [10n ** 27n]));
    await double.setAnswer(selector("totalSupply()"), coder.encode(["uint256"], [0n]));
    await double.setAnswer(selector("price()"), coder.encode(["uint256"], [2n * WAD]));
    await double.setAnswer(selector("allowance(address,address)"), coder.encode(["uint256"], [0n]));
    const r = await double.getAddress();
    const computeCredit = await (
      await ethers.getContractFactory("ComputeCredit")
    ).deploy("Cinder Compute Credit", "CCR", admin.address);
    const engine = await (
      await ethers.getContractFactory("BurnMintEngine")
    ).deploy(r, await computeCredit.getAddress(), r, r, treasury.address, admin.address, defaultConfig());
    await computeCredit.connect(admin).grantRole(ROLES.ENGINE, await engine.getAddress());
    await engine.connect(admin).grantRole(ROLES.COORDINATOR, coordinator.address);
    const arm = async (payload: string, fn = "price()") =>
      double.arm(payload === "0x" ? ethers.ZeroAddress : await engine.getAddress(), payload, selector(fn));
    return { engine, arm, admin, coordinator, provider1, genesis: start / DAY };
  }

  it("rejects re-entering mintCredits and redeem from the oracle call", async () => {
    const { engine, arm, admin } = await loadFixture(reentrantFixture);
    await engine.connect(admin).mintCredits(WAD, 0n, admin.address); // unarmed: works
    await arm(engine.interface.encodeFunctionData("mintCredits", [WAD, 0n, admin.address]));
    await expect(engine.connect(admin).mintCredits(WAD, 0n, admin.address)).to.be.revertedWithCustomError(
      engine,
      "ReentrancyGuardReentrantCall",
    );
    await arm(engine.interface.encodeFunctionData("redeem", [WAD, 0n, admin.address]));
    await expect(engine.connect(admin).redeem(WAD, 0n, admin.address)).to.be.revertedWithCustomError(
      engine,
      "ReentrancyGuardReentrantCall",
    );
  });

  it("rejects re-entering distribute from the token mint and claimEmissions from the token transfer", async () => {
    const { engine, arm, coordinator, provider1, genesis } = await loadFixture(reentrantFixture);
    await engine.connect(coordinator).recordWork(provider1.address, WAD, false);
    await goToEpoch(genesis + 1n);
    await arm(engine.interface.encodeFunctionData("distribute", [genesis]), "mint(address,uint256)");
    await expect(engine.distribute(genesis)).to.be.revertedWithCustomError(
      engine,
      "ReentrancyGuardReentrantCall",
    );
    await arm("0x"); // disarmed: the distribution goes through and funds provider1's claim
    await engine.distribute(genesis);
    await arm(
      engine.interface.encodeFunctionData("claimEmissions", [[genesis]]),
      "transfer(address,uint256)",
    );
    await expect(engine.connect(provider1).claimEmissions([genesis])).to.be.revertedWithCustomError(
      engine,
      "ReentrancyGuardReentrantCall",
    );
  });
});
