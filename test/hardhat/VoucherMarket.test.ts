import { expect } from "chai";
import { ethers, ignition } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { ContractTransactionResponse } from "ethers";
import CinderMarket from "../../deploy/modules/CinderMarket";
import type {
  BurnMintEngine,
  FeeOnTransferToken,
  MockStablecoin,
  ReentrantCallback,
  VoucherMarket,
} from "../../typechain-types";
import { DAY, ROLES } from "./fixtures";

/*
 * Branch list (EigenLayer `.tree` style) — every leaf has a test below.
 *
 * constructor
 * ├── engine / treasury / admin == 0 → ZeroAddress
 * ├── protocolFeeBps > 1 000 → ParameterOutOfBounds("protocolFeeBps", v, 0, 1 000)
 * └── otherwise: admin role, treasury, engine, ParameterUpdated("protocolFeeBps", 0, v)
 * createClass (DEFAULT_ADMIN only → AccessControlUnauthorizedAccount)
 * ├── modelId == 0 / stablecoin == 0 / unitsPerVoucher == 0 / unitPrice == 0 → InvalidClass(field)
 * ├── mintPremiumBps > 1 000 → InvalidClass("mintPremiumBps")      (1 000 accepted)
 * ├── expiry ≠ 0 and ≤ now → InvalidClass("expiry")                  (now + 1 accepted)
 * ├── stablecoin decimals > 18 → InvalidClass("decimals")            (18 accepted)
 * └── otherwise: id = ++count, active, usd scale 10^(18 − decimals), ClassCreated
 * setClassActive (admin only): unknown → UnknownClass; otherwise set + ClassActivationChanged
 * buy (nonReentrant, whenNotPaused → EnforcedPause)
 * ├── vouchers == 0 → ZeroAmount ── recipient == 0 → ZeroAddress ── unknown → UnknownClass
 * ├── inactive → ClassInactive ── expiry ≠ 0 and now ≥ expiry → ClassExpired(id, expiry)
 * ├── cap ≠ 0 and vouchers > cap − minted → SupplyCapExceeded(id, vouchers, remaining)   (cap 0: unlimited)
 * ├── cost > maxCost → CostExceeded(cost, maxCost)
 * ├── stablecoin delivers less than principal → TransferShortfall(expected, received); reverting token → its error
 * ├── premium == 0 → no treasury transfer; otherwise premium (rounded up) to treasury
 * └── mint to recipient: contract that rejects → ERC1155InvalidReceiver; re-entry → ReentrancyGuardReentrantCall
 * escrowForJob (nonReentrant, REDEEMER only; works paused)
 * ├── units == 0 → ZeroAmount ── holder has not approved the caller → NotApproved(holder, caller)
 * ├── unknown → UnknownClass ── holder balance < ⌈units / unitsPerVoucher⌉ → ERC1155InsufficientBalance
 * └── otherwise: ⌈units / unitsPerVoucher⌉ vouchers holder → caller, no hook, escrow and supply unchanged;
 *     returns (modelId, unitsPerVoucher, vouchers)
 * returnEscrow (REDEEMER only; works paused)
 * ├── holder == 0 → ZeroAddress ── caller balance < vouchers → ERC1155InsufficientBalance
 * └── otherwise: caller → holder without onERC1155Received (a contract without the hook still receives)
 * redeem (nonReentrant, REDEEMER only; works paused, inactive, expired)
 * ├── vouchers == 0 → ZeroAmount ── provider == 0 → ZeroAddress
 * ├── caller ≠ holder and not approved → NotApproved(holder, caller) ── unknown → UnknownClass
 * ├── holder balance < vouchers → ERC1155InsufficientBalance
 * ├── paid == 0 (fee takes all) → nothing owed to the provider; fee == 0 → nothing owed to the treasury
 * └── otherwise: burn, paid owed to the provider, fee (rounded up) owed to the treasury, no stablecoin moves,
 *     principal × 10^(18−d) reported to the engine and returned; a frozen stablecoin cannot block it
 * withdraw (nonReentrant, anyone; works paused)
 * ├── nothing owed (in that coin) → ZeroAmount ── stablecoin refuses → its error, owed kept
 * └── otherwise: owed → 0, Withdrawn, all of it to `account` whoever calls, returns it; a second call → ZeroAmount
 * reclaim (nonReentrant; works paused and inactive)
 * ├── vouchers == 0 → ZeroAmount ── unknown → UnknownClass
 * ├── expiry == 0 or now < expiry → ClassNotExpired(id, expiry) ── balance < vouchers → ERC1155InsufficientBalance
 * └── otherwise: burn, principal (not the premium) back to the caller, VouchersReclaimed
 * setProtocolFeeBps (admin only): > 1 000 → ParameterOutOfBounds; ParameterUpdated(previous, current)
 * setTreasury (admin only): zero → ZeroAddress; TreasuryUpdated(previous, current)
 * views: getClass / quoteBuy unknown → UnknownClass; supportsInterface (ERC-165, ERC-1155, metadata, AccessControl)
 * invariant: escrowed(id) == unitPrice × totalSupply(id) (custody included); market balance == Σ escrowed + Σ owed;
 *            nothing leaks
 */

const HOUR = 3_600n;
const URI = "https://cinder.example/vouchers/{id}.json";
const MODEL = ethers.id("cinder/llama-3.2-1b-instruct-q4_k_m.gguf");
const UNITS = 1_000n; // model units (output tokens) per voucher
const DEFAULT_FEE_BPS = 100n; // CinderMarket default protocolFeeBps
const USDC_TO_USD = 10n ** 12n; // 6 → 18 decimals
const USDC_GRANT = 1_000_000n * 10n ** 6n;

/** Class 1: 2.5 USDC per voucher, 3 % premium, never expires, no cap. */
const OPEN = 1n;
const OPEN_PRICE = 2_500_000n;
const OPEN_PREMIUM_BPS = 300n;
/** Class 2: 1.000001 USDC per voucher, 2.5 % premium, expires 30 days after deployment, cap 100. */
const EXPIRING = 2n;
const EXPIRING_PRICE = 1_000_001n;
const EXPIRING_PREMIUM_BPS = 250n;
const EXPIRING_CAP = 100n;

const field = (name: string) => ethers.encodeBytes32String(name);
const ON_ERC1155_RECEIVED = ethers
  .id("onERC1155Received(address,address,uint256,uint256,bytes)")
  .slice(0, 10);
const abi = ethers.AbiCoder.defaultAbiCoder();

/**
 * The market through the CinderMarket Ignition module, deployed one hour into a fresh UTC day (so a test's
 * engine epoch is known), a 6-decimal USDC-like MockStablecoin, and the two classes above created by the admin.
 * `coordinator` holds REDEEMER_ROLE (stands in for the JobCoordinator), `guardian` GUARDIAN_ROLE. alice, bob,
 * carol and the coordinator hold 1,000,000 USDC each and have approved the market.
 */
async function marketFixture() {
  const [admin, treasury, coordinator, guardian, alice, bob, carol, provider1, provider2, outsider] =
    await ethers.getSigners();
  const start = (BigInt(await time.latest()) / DAY + 1n) * DAY + HOUR;
  await time.increaseTo(start);

  const deployed = await ignition.deploy(CinderMarket, {
    parameters: {
      CinderCore: { admin: admin.address, treasury: treasury.address },
      CinderEconomy: { admin: admin.address, treasury: treasury.address },
      CinderMarket: { admin: admin.address, treasury: treasury.address },
    },
  });
  const market = deployed.voucherMarket as unknown as VoucherMarket;
  const engine = deployed.engine as unknown as BurnMintEngine;
  const marketAddress = await market.getAddress();

  const usdc = await (await ethers.getContractFactory("MockStablecoin")).deploy("USD Coin", "USDC", 6);
  const usdcAddress = await usdc.getAddress();

  await market.connect(admin).grantRole(ROLES.REDEEMER, coordinator.address);
  await market.connect(admin).grantRole(ROLES.GUARDIAN, guardian.address);
  for (const s of [alice, bob, carol, coordinator]) {
    await usdc.mint(s.address, USDC_GRANT);
    await usdc.connect(s).approve(marketAddress, ethers.MaxUint256);
  }

  const expiry = start + 30n * DAY;
  await market.connect(admin).createClass(MODEL, usdcAddress, UNITS, OPEN_PRICE, OPEN_PREMIUM_BPS, 0n, 0n);
  await market
    .connect(admin)
    .createClass(MODEL, usdcAddress, UNITS, EXPIRING_PRICE, EXPIRING_PREMIUM_BPS, expiry, EXPIRING_CAP);

  return {
    market,
    engine,
    usdc,
    marketAddress,
    usdcAddress,
    expiry,
    start,
    admin,
    treasury,
    coordinator,
    guardian,
    alice,
    bob,
    carol,
    provider1,
    provider2,
    outsider,
  };
}

type Fixture = Awaited<ReturnType<typeof marketFixture>>;

/** `market.totalSupply(id)` (the ERC-1155 total supply overload is ambiguous by name in ethers v6). */
async function supplyOf(market: VoucherMarket, id: bigint): Promise<bigint> {
  return market["totalSupply(uint256)"](id);
}

/** Every account a test can credit through `redeem`: the fixture's signers. */
function accountsOf(f: Fixture) {
  return [
    f.admin,
    f.treasury,
    f.coordinator,
    f.guardian,
    f.alice,
    f.bob,
    f.carol,
    f.provider1,
    f.provider2,
    f.outsider,
  ];
}

/** `owed(account, coin)` of each account, in order (USDC unless another coin is given). */
async function owedOf(f: Fixture, accounts: { address: string }[], coin = f.usdcAddress): Promise<bigint[]> {
  return Promise.all(accounts.map((a) => f.market.owed(a.address, coin)));
}

/** Σ owed(account, coin) over every fixture account. */
async function owedTotal(f: Fixture, coin = f.usdcAddress): Promise<bigint> {
  return (await owedOf(f, accountsOf(f), coin)).reduce((a, b) => a + b, 0n);
}

/**
 * escrowed(id) == unitPrice × totalSupply(id) for each class (vouchers in a job's custody included), and the
 * market's USDC balance is Σ escrowed + Σ owed. Returns Σ escrowed.
 */
async function expectEscrowHolds(f: Fixture, ids: bigint[] = [OPEN, EXPIRING]): Promise<bigint> {
  let sum = 0n;
  for (const id of ids) {
    const c = await f.market.getClass(id);
    const escrow = await f.market.escrowed(id);
    expect(escrow).to.equal(c.unitPrice * (await supplyOf(f.market, id)));
    sum += escrow;
  }
  expect(await f.usdc.balanceOf(f.marketAddress)).to.equal(sum + (await owedTotal(f)));
  return sum;
}

/** Number of ERC-20 Transfer events `token` emitted in the transaction. */
async function transfersOf(token: MockStablecoin, tx: ContractTransactionResponse): Promise<number> {
  const receipt = await tx.wait();
  if (receipt === null) throw new Error("transaction was not mined");
  const address = await token.getAddress();
  const topic = token.interface.getEvent("Transfer").topicHash;
  return receipt.logs.filter((l) => l.address === address && l.topics[0] === topic).length;
}

/** Deploys a stablecoin with `decimals`, funds and approves `holders`, and lists a class of it. */
async function classOf(
  f: Fixture,
  decimals: number,
  unitPrice: bigint,
  premiumBps = 0n,
  holders = [f.alice],
): Promise<{ coin: MockStablecoin; id: bigint }> {
  const coin = await (await ethers.getContractFactory("MockStablecoin")).deploy("Coin", "C", decimals);
  for (const h of holders) {
    await coin.mint(h.address, 10n ** 40n);
    await coin.connect(h).approve(f.marketAddress, ethers.MaxUint256);
  }
  await f.market
    .connect(f.admin)
    .createClass(MODEL, await coin.getAddress(), UNITS, unitPrice, premiumBps, 0n, 0n);
  return { coin, id: await f.market.classCount() };
}

describe("VoucherMarket", () => {
  describe("deployment", () => {
    it("is wired by the CinderMarket module: treasury, engine, 100 bps fee, admin, and the engine's REPORTER_ROLE", async () => {
      const { market, engine, marketAddress, admin, treasury, outsider } = await loadFixture(marketFixture);
      expect(await market.treasury()).to.equal(treasury.address);
      expect(await market.engine()).to.equal(await engine.getAddress());
      expect(await market.protocolFeeBps()).to.equal(DEFAULT_FEE_BPS);
      expect(await market.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await market.hasRole(ROLES.DEFAULT_ADMIN, outsider.address)).to.equal(false);
      expect(await market.REDEEMER_ROLE()).to.equal(ROLES.REDEEMER);
      expect(await market.GUARDIAN_ROLE()).to.equal(ROLES.GUARDIAN);
      expect(await engine.hasRole(ROLES.REPORTER, marketAddress)).to.equal(true);
      expect(await market.uri(OPEN)).to.equal(URI);
      expect(await market.paused()).to.equal(false);
    });

    it("rejects a zero engine, treasury or admin with ZeroAddress", async () => {
      const { engine, treasury, admin } = await loadFixture(marketFixture);
      const factory = await ethers.getContractFactory("VoucherMarket");
      const args: [string, string, string] = [await engine.getAddress(), treasury.address, admin.address];
      for (let i = 0; i < args.length; i++) {
        const a = [...args] as typeof args;
        a[i] = ethers.ZeroAddress;
        await expect(factory.deploy(URI, ...a, DEFAULT_FEE_BPS)).to.be.revertedWithCustomError(
          factory,
          "ZeroAddress",
        );
      }
    });

    it("bounds the protocol fee at 1 000 bps, inclusive, and emits ParameterUpdated from zero", async () => {
      const { engine, treasury, admin } = await loadFixture(marketFixture);
      const factory = await ethers.getContractFactory("VoucherMarket");
      const deploy = (bps: bigint) => factory.deploy(URI, engine, treasury.address, admin.address, bps);
      await expect(deploy(1_001n))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(field("protocolFeeBps"), 1_001n, 0n, 1_000n);
      const atMax = await deploy(1_000n);
      expect(await atMax.protocolFeeBps()).to.equal(1_000n);
      await expect(atMax.deploymentTransaction())
        .to.emit(atMax, "ParameterUpdated")
        .withArgs(field("protocolFeeBps"), 0n, 1_000n);
      expect(await atMax.classCount()).to.equal(0n);
    });

    it("supports ERC-165, ERC-1155, ERC-1155 metadata and AccessControl, and nothing else", async () => {
      const { market } = await loadFixture(marketFixture);
      expect(await market.supportsInterface("0x01ffc9a7")).to.equal(true);
      expect(await market.supportsInterface("0xd9b67a26")).to.equal(true);
      expect(await market.supportsInterface("0x0e89341c")).to.equal(true);
      expect(await market.supportsInterface("0x7965db0b")).to.equal(true);
      expect(await market.supportsInterface("0xffffffff")).to.equal(false);
      expect(await market.supportsInterface("0x36372b07")).to.equal(false); // ERC-20
    });
  });

  describe("createClass", () => {
    it("lists the fixture's classes with sequential ids from 1, active, zero minted", async () => {
      const { market, usdcAddress, expiry } = await loadFixture(marketFixture);
      expect(await market.classCount()).to.equal(2n);
      expect(await market.getClass(OPEN)).to.deep.equal([
        MODEL,
        usdcAddress,
        UNITS,
        OPEN_PRICE,
        OPEN_PREMIUM_BPS,
        0n,
        0n,
        0n,
        true,
      ]);
      expect(await market.getClass(EXPIRING)).to.deep.equal([
        MODEL,
        usdcAddress,
        UNITS,
        EXPIRING_PRICE,
        EXPIRING_PREMIUM_BPS,
        expiry,
        EXPIRING_CAP,
        0n,
        true,
      ]);
    });

    it("returns the next id and emits ClassCreated with every field", async () => {
      const { market, admin, usdcAddress, start } = await loadFixture(marketFixture);
      const model = field("mistral-7b");
      const expiry = start + 7n * DAY;
      expect(
        await market
          .connect(admin)
          .createClass.staticCall(model, usdcAddress, 500n, 3_000_000n, 1_000n, expiry, 9n),
      ).to.equal(3n);
      await expect(
        market.connect(admin).createClass(model, usdcAddress, 500n, 3_000_000n, 1_000n, expiry, 9n),
      )
        .to.emit(market, "ClassCreated")
        .withArgs(3n, model, usdcAddress, 500n, 3_000_000n, 1_000n, expiry, 9n);
      expect(await market.classCount()).to.equal(3n);
      expect(await market.getClass(3n)).to.deep.equal([
        model,
        usdcAddress,
        500n,
        3_000_000n,
        1_000n,
        expiry,
        9n,
        0n,
        true,
      ]);
      await market.connect(admin).createClass(model, usdcAddress, 1n, 1n, 0n, 0n, 0n);
      expect(await market.classCount()).to.equal(4n);
    });

    it("may be called only by DEFAULT_ADMIN_ROLE", async () => {
      const { market, usdcAddress, outsider, coordinator } = await loadFixture(marketFixture);
      for (const s of [outsider, coordinator]) {
        await expect(market.connect(s).createClass(MODEL, usdcAddress, UNITS, 1n, 0n, 0n, 0n))
          .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("rejects a zero modelId, stablecoin, unitsPerVoucher or unitPrice with InvalidClass naming the field", async () => {
      const { market, admin, usdcAddress } = await loadFixture(marketFixture);
      const create = market.connect(admin).createClass;
      await expect(create(ethers.ZeroHash, usdcAddress, UNITS, 1n, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("modelId"));
      await expect(create(MODEL, ethers.ZeroAddress, UNITS, 1n, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("stablecoin"));
      await expect(create(MODEL, usdcAddress, 0n, 1n, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("unitsPerVoucher"));
      await expect(create(MODEL, usdcAddress, UNITS, 0n, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("unitPrice"));
      expect(await market.classCount()).to.equal(2n);
    });

    it("accepts a mint premium of 1 000 bps and rejects 1 001 with InvalidClass(mintPremiumBps)", async () => {
      const { market, admin, usdcAddress } = await loadFixture(marketFixture);
      await expect(market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1n, 1_001n, 0n, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("mintPremiumBps"));
      await market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1n, 1_000n, 0n, 0n);
      expect((await market.getClass(3n)).mintPremiumBps).to.equal(1_000n);
    });

    it("rejects an expiry at or before the creation block's timestamp and accepts one second later", async () => {
      const { market, admin, usdcAddress } = await loadFixture(marketFixture);
      const t = BigInt(await time.latest()) + 100n;
      // A reverted transaction is still mined, so each attempt gets its own block timestamp.
      await time.setNextBlockTimestamp(t);
      await expect(market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1n, 0n, t, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("expiry"));
      await time.setNextBlockTimestamp(t + 1n);
      await expect(market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1n, 0n, t, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("expiry"));
      await time.setNextBlockTimestamp(t + 2n);
      await market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1n, 0n, t + 3n, 0n);
      expect((await market.getClass(3n)).expiry).to.equal(t + 3n);
    });

    it("rejects a stablecoin with 19 decimals with InvalidClass(decimals) and accepts 18", async () => {
      const { market, admin } = await loadFixture(marketFixture);
      const factory = await ethers.getContractFactory("MockStablecoin");
      const nineteen = await factory.deploy("Nineteen", "N19", 19);
      const eighteen = await factory.deploy("Dai", "DAI", 18);
      await expect(market.connect(admin).createClass(MODEL, nineteen, UNITS, 1n, 0n, 0n, 0n))
        .to.be.revertedWithCustomError(market, "InvalidClass")
        .withArgs(field("decimals"));
      await market.connect(admin).createClass(MODEL, eighteen, UNITS, 1n, 0n, 0n, 0n);
      expect((await market.getClass(3n)).stablecoin).to.equal(await eighteen.getAddress());
    });
  });

  describe("setClassActive", () => {
    it("stops buying a deactivated class with ClassInactive and resumes it on reactivation, with events", async () => {
      const { market, admin, alice } = await loadFixture(marketFixture);
      await expect(market.connect(admin).setClassActive(OPEN, false))
        .to.emit(market, "ClassActivationChanged")
        .withArgs(OPEN, false);
      expect((await market.getClass(OPEN)).active).to.equal(false);
      await expect(market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, alice.address))
        .to.be.revertedWithCustomError(market, "ClassInactive")
        .withArgs(OPEN);
      // Only the deactivated class stops.
      await market.connect(alice).buy(EXPIRING, 1n, ethers.MaxUint256, alice.address);

      await expect(market.connect(admin).setClassActive(OPEN, true))
        .to.emit(market, "ClassActivationChanged")
        .withArgs(OPEN, true);
      await market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, alice.address);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(1n);
    });

    it("rejects an unknown class id (0 and count + 1) with UnknownClass", async () => {
      const { market, admin } = await loadFixture(marketFixture);
      for (const id of [0n, 3n]) {
        await expect(market.connect(admin).setClassActive(id, false))
          .to.be.revertedWithCustomError(market, "UnknownClass")
          .withArgs(id);
      }
    });

    it("may be called only by DEFAULT_ADMIN_ROLE", async () => {
      const { market, guardian } = await loadFixture(marketFixture);
      await expect(market.connect(guardian).setClassActive(OPEN, false))
        .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, ROLES.DEFAULT_ADMIN);
    });
  });

  describe("buy", () => {
    it("escrows 7 × 2.5 USDC = 17.5 USDC and sends the 3 % premium 0.525 USDC to the treasury", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, marketAddress, alice, treasury } = f;
      const principal = 17_500_000n;
      const premium = 525_000n;
      expect(await market.quoteBuy(OPEN, 7n)).to.deep.equal([principal, premium]);
      expect(await market.connect(alice).buy.staticCall(OPEN, 7n, ethers.MaxUint256, alice.address)).to.equal(
        18_025_000n,
      );

      const tx = market.connect(alice).buy(OPEN, 7n, ethers.MaxUint256, alice.address);
      await expect(tx)
        .to.emit(market, "VouchersBought")
        .withArgs(OPEN, alice.address, alice.address, 7n, principal, premium);
      await expect(tx) // the buyer is the ERC-1155 operator of the mint
        .to.emit(market, "TransferSingle")
        .withArgs(alice.address, ethers.ZeroAddress, alice.address, OPEN, 7n);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [alice, marketAddress, treasury],
        [-18_025_000n, principal, premium],
      );
      expect(await market.escrowed(OPEN)).to.equal(principal);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(7n);
      expect(await supplyOf(market, OPEN)).to.equal(7n);
      expect((await market.getClass(OPEN)).minted).to.equal(7n);
      await expectEscrowHolds(f);
    });

    it("rounds the premium up: 3 × 1.000001 USDC at 250 bps → 75 000.075 → 75 001", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, marketAddress, alice, treasury } = f;
      expect(await market.quoteBuy(EXPIRING, 3n)).to.deep.equal([3_000_003n, 75_001n]);
      await expect(
        market.connect(alice).buy(EXPIRING, 3n, ethers.MaxUint256, alice.address),
      ).to.changeTokenBalances(usdc, [alice, marketAddress, treasury], [-3_075_004n, 3_000_003n, 75_001n]);
      expect(await market.escrowed(EXPIRING)).to.equal(3_000_003n);
      await expectEscrowHolds(f);
    });

    it("passes at maxCost exactly equal to the cost and reverts one unit below with CostExceeded(cost, maxCost)", async () => {
      const { market, alice } = await loadFixture(marketFixture);
      await expect(market.connect(alice).buy(EXPIRING, 3n, 3_075_003n, alice.address))
        .to.be.revertedWithCustomError(market, "CostExceeded")
        .withArgs(3_075_004n, 3_075_003n);
      await expect(market.connect(alice).buy(EXPIRING, 3n, 3_075_004n, alice.address))
        .to.emit(market, "VouchersBought")
        .withArgs(EXPIRING, alice.address, alice.address, 3n, 3_000_003n, 75_001n);
    });

    it("makes no treasury transfer for a class with a zero premium and costs the principal only", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, usdcAddress, marketAddress, admin, alice, treasury } = f;
      await market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 4_000_000n, 0n, 0n, 0n);
      expect(await market.quoteBuy(3n, 2n)).to.deep.equal([8_000_000n, 0n]);
      const tx = await market.connect(alice).buy(3n, 2n, 8_000_000n, alice.address);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [alice, marketAddress, treasury],
        [-8_000_000n, 8_000_000n, 0n],
      );
      expect(await transfersOf(usdc, tx)).to.equal(1);
      await expectEscrowHolds(f, [OPEN, EXPIRING, 3n]);
    });

    it("mints to a recipient other than the buyer, who pays", async () => {
      const { market, usdc, marketAddress, alice, bob, treasury } = await loadFixture(marketFixture);
      const tx = market.connect(alice).buy(OPEN, 2n, ethers.MaxUint256, bob.address);
      await expect(tx)
        .to.emit(market, "VouchersBought")
        .withArgs(OPEN, alice.address, bob.address, 2n, 5_000_000n, 150_000n);
      await expect(tx).to.changeTokenBalances(
        usdc,
        [alice, bob, marketAddress, treasury],
        [-5_150_000n, 0n, 5_000_000n, 150_000n],
      );
      expect(await market.balanceOf(bob.address, OPEN)).to.equal(2n);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(0n);
    });

    it("rejects zero vouchers with ZeroAmount, a zero recipient with ZeroAddress, an unknown class with UnknownClass", async () => {
      const { market, alice } = await loadFixture(marketFixture);
      await expect(
        market.connect(alice).buy(OPEN, 0n, ethers.MaxUint256, alice.address),
      ).to.be.revertedWithCustomError(market, "ZeroAmount");
      await expect(
        market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(market, "ZeroAddress");
      for (const id of [0n, 3n]) {
        await expect(market.connect(alice).buy(id, 1n, ethers.MaxUint256, alice.address))
          .to.be.revertedWithCustomError(market, "UnknownClass")
          .withArgs(id);
      }
    });

    it("caps vouchers ever minted: SupplyCapExceeded(id, requested, remaining), and burned vouchers do not free cap", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdcAddress, admin, alice, bob, coordinator, provider1 } = f;
      await market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1_000_000n, 200n, 0n, 10n);
      const capped = 3n;
      await market.connect(alice).buy(capped, 6n, ethers.MaxUint256, alice.address);
      await expect(market.connect(bob).buy(capped, 5n, ethers.MaxUint256, bob.address))
        .to.be.revertedWithCustomError(market, "SupplyCapExceeded")
        .withArgs(capped, 5n, 4n);
      await market.connect(bob).buy(capped, 4n, ethers.MaxUint256, bob.address); // exactly up to the cap
      expect((await market.getClass(capped)).minted).to.equal(10n);

      await market.connect(alice).setApprovalForAll(coordinator.address, true);
      await market.connect(coordinator).redeem(alice.address, capped, 4n, provider1.address);
      expect(await supplyOf(market, capped)).to.equal(6n);
      expect((await market.getClass(capped)).minted).to.equal(10n);
      await expect(market.connect(bob).buy(capped, 1n, ethers.MaxUint256, bob.address))
        .to.be.revertedWithCustomError(market, "SupplyCapExceeded")
        .withArgs(capped, 1n, 0n);
      await expectEscrowHolds(f, [OPEN, EXPIRING, capped]);
    });

    it("leaves a class with a zero cap unlimited", async () => {
      const { market, alice } = await loadFixture(marketFixture);
      await market.connect(alice).buy(OPEN, 200_000n, ethers.MaxUint256, alice.address); // 500,000 USDC + premium
      expect((await market.getClass(OPEN)).minted).to.equal(200_000n);
    });

    it("sells at expiry − 1 and reverts at exactly the expiry second with ClassExpired(id, expiry)", async () => {
      const { market, alice, expiry } = await loadFixture(marketFixture);
      await time.setNextBlockTimestamp(expiry - 1n);
      await market.connect(alice).buy(EXPIRING, 1n, ethers.MaxUint256, alice.address);
      expect(await market.balanceOf(alice.address, EXPIRING)).to.equal(1n);
      await time.setNextBlockTimestamp(expiry);
      await expect(market.connect(alice).buy(EXPIRING, 1n, ethers.MaxUint256, alice.address))
        .to.be.revertedWithCustomError(market, "ClassExpired")
        .withArgs(EXPIRING, expiry);
      await time.increase(365n * DAY);
      await expect(market.connect(alice).buy(EXPIRING, 1n, ethers.MaxUint256, alice.address))
        .to.be.revertedWithCustomError(market, "ClassExpired")
        .withArgs(EXPIRING, expiry);
      // A class without expiry still sells a year later.
      await market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, alice.address);
    });

    it("stops while paused with EnforcedPause, pause by the guardian only, unpause by the admin only", async () => {
      const { market, guardian, admin, alice, outsider } = await loadFixture(marketFixture);
      await expect(market.connect(outsider).pause())
        .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, ROLES.GUARDIAN);
      await market.connect(guardian).pause();
      await expect(
        market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, alice.address),
      ).to.be.revertedWithCustomError(market, "EnforcedPause");
      await expect(market.connect(guardian).unpause())
        .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, ROLES.DEFAULT_ADMIN);
      await market.connect(admin).unpause();
      await market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, alice.address);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(1n);
    });

    it("reverts with ERC1155InvalidReceiver for a contract recipient without onERC1155Received", async () => {
      const { market, usdcAddress, alice } = await loadFixture(marketFixture);
      // The USDC mock is a contract with no receiver hook (and no fallback).
      await expect(market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, usdcAddress))
        .to.be.revertedWithCustomError(market, "ERC1155InvalidReceiver")
        .withArgs(usdcAddress);
      expect(await market.escrowed(OPEN)).to.equal(0n);
    });

    it("reverts with ERC1155InvalidReceiver for a contract recipient answering the wrong selector", async () => {
      const { market, alice } = await loadFixture(marketFixture);
      const rejecting = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      await rejecting.setAnswer(ON_ERC1155_RECEIVED, abi.encode(["bytes4"], ["0xdeadbeef"]));
      await expect(market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, await rejecting.getAddress()))
        .to.be.revertedWithCustomError(market, "ERC1155InvalidReceiver")
        .withArgs(await rejecting.getAddress());
      expect(await market.escrowed(OPEN)).to.equal(0n);
      expect((await market.getClass(OPEN)).minted).to.equal(0n);
    });

    it("mints to a contract recipient that answers onERC1155Received with its selector", async () => {
      const f = await loadFixture(marketFixture);
      const { market, alice } = f;
      const receiver = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      await receiver.setAnswer(ON_ERC1155_RECEIVED, abi.encode(["bytes4"], [ON_ERC1155_RECEIVED]));
      await market.connect(alice).buy(OPEN, 2n, ethers.MaxUint256, await receiver.getAddress());
      expect(await market.balanceOf(await receiver.getAddress(), OPEN)).to.equal(2n);
      await expectEscrowHolds(f);
    });

    it("blocks re-entry from the recipient's onERC1155Received with ReentrancyGuardReentrantCall", async () => {
      const { market, marketAddress, alice } = await loadFixture(marketFixture);
      const receiver: ReentrantCallback = await (
        await ethers.getContractFactory("ReentrantCallback")
      ).deploy();
      const receiverAddress = await receiver.getAddress();
      await receiver.setAnswer(ON_ERC1155_RECEIVED, abi.encode(["bytes4"], [ON_ERC1155_RECEIVED]));
      await receiver.arm(
        marketAddress,
        market.interface.encodeFunctionData("buy", [OPEN, 1n, ethers.MaxUint256, receiverAddress]),
        ON_ERC1155_RECEIVED,
      );
      await expect(
        market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, receiverAddress),
      ).to.be.revertedWithCustomError(market, "ReentrancyGuardReentrantCall");
    });
  });

  describe("reentrancy", () => {
    it("shares one lock across entry points: a REDEEMER recipient cannot redeem, reclaim, escrow or withdraw from inside a buy", async () => {
      const { market, marketAddress, usdcAddress, admin, alice, coordinator, provider1, expiry } =
        await loadFixture(marketFixture);
      const receiver = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      const receiverAddress = await receiver.getAddress();
      await receiver.setAnswer(ON_ERC1155_RECEIVED, abi.encode(["bytes4"], [ON_ERC1155_RECEIVED]));
      await market.connect(alice).buy(EXPIRING, 2n, ethers.MaxUint256, receiverAddress);
      await market.connect(admin).grantRole(ROLES.REDEEMER, receiverAddress);
      // alice holds OPEN vouchers the receiver may escrow; provider1 is owed a redemption.
      await market.connect(alice).buy(OPEN, 2n, ethers.MaxUint256, alice.address);
      await market.connect(alice).setApprovalForAll(receiverAddress, true);
      await market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, coordinator.address);
      await market.connect(coordinator).redeem(coordinator.address, OPEN, 1n, provider1.address);
      await time.increaseTo(expiry); // EXPIRING can now be reclaimed; OPEN still sells
      // Without the lock, each re-entry below would succeed (own vouchers, role held, class expired, approval
      // given, something owed).
      const reentries = [
        market.interface.encodeFunctionData("redeem", [receiverAddress, EXPIRING, 1n, provider1.address]),
        market.interface.encodeFunctionData("reclaim", [EXPIRING, 1n]),
        market.interface.encodeFunctionData("escrowForJob", [alice.address, OPEN, UNITS]),
        market.interface.encodeFunctionData("withdraw", [provider1.address, usdcAddress]),
      ];
      for (const payload of reentries) {
        await receiver.arm(marketAddress, payload, ON_ERC1155_RECEIVED);
        await expect(
          market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, receiverAddress),
        ).to.be.revertedWithCustomError(market, "ReentrancyGuardReentrantCall");
      }
      expect(await market.balanceOf(receiverAddress, EXPIRING)).to.equal(2n);
      expect(await market.balanceOf(receiverAddress, OPEN)).to.equal(0n);
      // Disarmed, the same calls go through one after another.
      await receiver.arm(ethers.ZeroAddress, "0x", "0x00000000");
      await market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, receiverAddress);
      expect(await market.balanceOf(receiverAddress, OPEN)).to.equal(1n);
    });
  });

  describe("buy with non-standard stablecoins", () => {
    async function feeTokenClass(f: Fixture, feeBps: bigint): Promise<FeeOnTransferToken> {
      const token = await (await ethers.getContractFactory("FeeOnTransferToken")).deploy(feeBps);
      await token.mint(f.alice.address, USDC_GRANT);
      await token.connect(f.alice).approve(f.marketAddress, ethers.MaxUint256);
      await f.market
        .connect(f.admin)
        .createClass(MODEL, await token.getAddress(), UNITS, 1_000_000n, 300n, 0n, 0n);
      return token;
    }

    it("rejects a fee-on-transfer stablecoin with TransferShortfall(expected, received)", async () => {
      const f = await loadFixture(marketFixture);
      await feeTokenClass(f, 100n); // 1 % of 3,000,000 skimmed → 2,970,000 arrives
      await expect(f.market.connect(f.alice).buy(3n, 3n, ethers.MaxUint256, f.alice.address))
        .to.be.revertedWithCustomError(f.market, "TransferShortfall")
        .withArgs(3_000_000n, 2_970_000n);
    });

    it("rejects a token that reports success without moving funds with TransferShortfall(expected, 0)", async () => {
      const f = await loadFixture(marketFixture);
      const fake = await (await ethers.getContractFactory("ReentrantCallback")).deploy(); // answers `true` to all
      await f.market
        .connect(f.admin)
        .createClass(MODEL, await fake.getAddress(), UNITS, 1_000_000n, 0n, 0n, 0n);
      await expect(f.market.connect(f.alice).buy(3n, 2n, ethers.MaxUint256, f.alice.address))
        .to.be.revertedWithCustomError(f.market, "TransferShortfall")
        .withArgs(2_000_000n, 0n);
    });

    it("blocks re-entry from the stablecoin's transferFrom with ReentrancyGuardReentrantCall", async () => {
      const f = await loadFixture(marketFixture);
      const hostile = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      await f.market
        .connect(f.admin)
        .createClass(MODEL, await hostile.getAddress(), UNITS, 1_000_000n, 0n, 0n, 0n);
      const transferFrom = ethers.id("transferFrom(address,address,uint256)").slice(0, 10);
      await hostile.arm(
        f.marketAddress,
        f.market.interface.encodeFunctionData("buy", [OPEN, 1n, ethers.MaxUint256, f.alice.address]),
        transferFrom,
      );
      await expect(
        f.market.connect(f.alice).buy(3n, 1n, ethers.MaxUint256, f.alice.address),
      ).to.be.revertedWithCustomError(f.market, "ReentrancyGuardReentrantCall");
    });

    it("bubbles a frozen stablecoin's TransfersFrozen and changes nothing", async () => {
      const f = await loadFixture(marketFixture);
      const token = await feeTokenClass(f, 0n);
      // Works while not frozen (no fee): proves the class itself is buyable.
      await f.market.connect(f.alice).buy(3n, 1n, ethers.MaxUint256, f.alice.address);
      await token.setFrozen(true);
      const before = {
        alice: await token.balanceOf(f.alice.address),
        market: await token.balanceOf(f.marketAddress),
        treasury: await token.balanceOf(f.treasury.address),
      };
      await expect(
        f.market.connect(f.alice).buy(3n, 2n, ethers.MaxUint256, f.alice.address),
      ).to.be.revertedWithCustomError(token, "TransfersFrozen");
      expect(await token.balanceOf(f.alice.address)).to.equal(before.alice);
      expect(await token.balanceOf(f.marketAddress)).to.equal(before.market);
      expect(await token.balanceOf(f.treasury.address)).to.equal(before.treasury);
      expect(await f.market.escrowed(3n)).to.equal(1_000_000n);
      expect((await f.market.getClass(3n)).minted).to.equal(1n);
      expect(await supplyOf(f.market, 3n)).to.equal(1n);
      expect(await f.market.balanceOf(f.alice.address, 3n)).to.equal(1n);
    });
  });

  describe("voucher transfers", () => {
    it("lets holders transfer vouchers freely; escrow follows the class, not the holder", async () => {
      const f = await loadFixture(marketFixture);
      const { market, alice, bob, carol, coordinator, provider1 } = f;
      await market.connect(alice).buy(OPEN, 5n, ethers.MaxUint256, alice.address);
      await expect(market.connect(alice).safeTransferFrom(alice.address, bob.address, OPEN, 3n, "0x"))
        .to.emit(market, "TransferSingle")
        .withArgs(alice.address, alice.address, bob.address, OPEN, 3n);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(2n);
      expect(await market.balanceOf(bob.address, OPEN)).to.equal(3n);
      await expectEscrowHolds(f);

      // An operator moves vouchers only with approval.
      await expect(market.connect(carol).safeTransferFrom(bob.address, carol.address, OPEN, 1n, "0x"))
        .to.be.revertedWithCustomError(market, "ERC1155MissingApprovalForAll")
        .withArgs(carol.address, bob.address);
      await market.connect(bob).setApprovalForAll(carol.address, true);
      await market.connect(carol).safeTransferFrom(bob.address, carol.address, OPEN, 1n, "0x");
      expect(await market.balanceOf(carol.address, OPEN)).to.equal(1n);

      // The new holder's vouchers redeem like any other.
      await market.connect(bob).setApprovalForAll(coordinator.address, true);
      await market.connect(coordinator).redeem(bob.address, OPEN, 2n, provider1.address);
      expect(await market.balanceOf(bob.address, OPEN)).to.equal(0n);
      await expectEscrowHolds(f);
    });
  });

  describe("redeem", () => {
    /** alice buys 10 EXPIRING vouchers and approves the coordinator; bob buys 7 for the coordinator. */
    async function boughtFixture() {
      const f = await marketFixture();
      await f.market.connect(f.alice).buy(EXPIRING, 10n, ethers.MaxUint256, f.alice.address);
      await f.market.connect(f.alice).setApprovalForAll(f.coordinator.address, true);
      await f.market.connect(f.bob).buy(EXPIRING, 7n, ethers.MaxUint256, f.coordinator.address);
      return f;
    }

    it("burns the holder's vouchers and credits principal − ceil(1 %) to the provider and the fee to the treasury, moving no stablecoin", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, usdc, marketAddress, alice, coordinator, provider1, treasury } = f;
      // 3 × 1.000001 = 3.000003 USDC; fee ceil(30 000.03) = 30 001; paid 2 970 002.
      const tx = market.connect(coordinator).redeem(alice.address, EXPIRING, 3n, provider1.address);
      await expect(tx)
        .to.emit(market, "VouchersRedeemed")
        .withArgs(EXPIRING, alice.address, provider1.address, 3n, 2_970_002n, 30_001n);
      await expect(tx)
        .to.emit(market, "TransferSingle")
        .withArgs(coordinator.address, alice.address, ethers.ZeroAddress, EXPIRING, 3n);
      // Credited, not pushed: the principal stays in the market until each party withdraws it.
      await expect(tx).to.changeTokenBalances(
        usdc,
        [marketAddress, provider1, treasury, alice, coordinator],
        [0n, 0n, 0n, 0n, 0n],
      );
      expect(await owedOf(f, [provider1, treasury, alice, coordinator])).to.deep.equal([
        2_970_002n,
        30_001n,
        0n,
        0n,
      ]);
      expect(await market.balanceOf(alice.address, EXPIRING)).to.equal(7n);
      expect(await supplyOf(market, EXPIRING)).to.equal(14n);
      expect(await market.escrowed(EXPIRING)).to.equal(14n * EXPIRING_PRICE);
      expect((await market.getClass(EXPIRING)).minted).to.equal(17n);
      await expectEscrowHolds(f);
    });

    it("reports principal × 10^12 (USDC → 18-decimal USD) to the engine's voucher revenue and organic USD, and returns it", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, engine, marketAddress, coordinator, provider2 } = f;
      const epoch = await engine.currentEpoch();
      const before = await engine.epochLedger(epoch);
      const organicBefore = await engine.organicUsd(epoch);
      const usd = 5_000_005n * USDC_TO_USD; // 5 × 1.000001 USDC, the principal (fee included)
      expect(
        await market
          .connect(coordinator)
          .redeem.staticCall(coordinator.address, EXPIRING, 5n, provider2.address),
      ).to.equal(usd);
      await expect(market.connect(coordinator).redeem(coordinator.address, EXPIRING, 5n, provider2.address))
        .to.emit(engine, "VoucherRevenueRecorded")
        .withArgs(epoch, marketAddress, usd);
      const after = await engine.epochLedger(epoch);
      expect(after.voucherRevenueUsd - before.voucherRevenueUsd).to.equal(usd);
      expect((await engine.organicUsd(epoch)) - organicBefore).to.equal(usd);
      expect(after.organicCreditUsd).to.equal(before.organicCreditUsd);
      expect(after.workUsd).to.equal(before.workUsd);
      expect(await engine.currentEpoch()).to.equal(epoch);
    });

    it("scales the reported revenue by 10^(18 − decimals): ×1 for an 18-decimal coin, ×10^18 for a 0-decimal one", async () => {
      const f = await loadFixture(marketFixture);
      const { market, engine, coordinator, provider1 } = f;
      const dai = await classOf(f, 18, 10n ** 18n, 0n, [coordinator]);
      const whole = await classOf(f, 0, 3n, 0n, [coordinator]);
      await market.connect(coordinator).buy(dai.id, 2n, ethers.MaxUint256, coordinator.address);
      await market.connect(coordinator).buy(whole.id, 1n, ethers.MaxUint256, coordinator.address);
      const epoch = await engine.currentEpoch();
      expect(
        await market
          .connect(coordinator)
          .redeem.staticCall(coordinator.address, dai.id, 2n, provider1.address),
      ).to.equal(2n * 10n ** 18n);
      await expect(market.connect(coordinator).redeem(coordinator.address, dai.id, 2n, provider1.address))
        .to.emit(engine, "VoucherRevenueRecorded")
        .withArgs(epoch, await market.getAddress(), 2n * 10n ** 18n);
      expect(
        await market
          .connect(coordinator)
          .redeem.staticCall(coordinator.address, whole.id, 1n, provider1.address),
      ).to.equal(3n * 10n ** 18n);
      await expect(market.connect(coordinator).redeem(coordinator.address, whole.id, 1n, provider1.address))
        .to.emit(engine, "VoucherRevenueRecorded")
        .withArgs(epoch, await market.getAddress(), 3n * 10n ** 18n);
      // Owed per coin: the provider is owed each class's principal less the fee, in that class's own coin.
      const daiPrincipal = 2n * 10n ** 18n;
      const daiFee = (daiPrincipal * DEFAULT_FEE_BPS) / 10_000n; // exact
      expect(await market.owed(provider1.address, await dai.coin.getAddress())).to.equal(
        daiPrincipal - daiFee,
      );
      // 3 whole units at 1 %: the fee ⌈0.03⌉ = 1 unit.
      expect(await market.owed(provider1.address, await whole.coin.getAddress())).to.equal(2n);
      expect(await market.owed(provider1.address, f.usdcAddress)).to.equal(0n);
    });

    it("redeems the caller's own vouchers without approval", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, coordinator, provider1 } = f;
      // 7 × 1.000001 = 7.000007; fee ceil(70 000.07) = 70 001.
      await market.connect(coordinator).redeem(coordinator.address, EXPIRING, 7n, provider1.address);
      expect(await owedOf(f, [provider1, f.treasury])).to.deep.equal([6_930_006n, 70_001n]);
      expect(await market.balanceOf(coordinator.address, EXPIRING)).to.equal(0n);
      await expectEscrowHolds(f);
    });

    it("refuses another holder's vouchers without setApprovalForAll with NotApproved(holder, operator)", async () => {
      const { market, alice, bob, carol, coordinator, provider1 } = await loadFixture(boughtFixture);
      await market.connect(bob).buy(OPEN, 2n, ethers.MaxUint256, bob.address);
      await expect(market.connect(coordinator).redeem(bob.address, OPEN, 1n, provider1.address))
        .to.be.revertedWithCustomError(market, "NotApproved")
        .withArgs(bob.address, coordinator.address);
      // Approving someone else does not help.
      await market.connect(bob).setApprovalForAll(carol.address, true);
      await expect(market.connect(coordinator).redeem(bob.address, OPEN, 1n, provider1.address))
        .to.be.revertedWithCustomError(market, "NotApproved")
        .withArgs(bob.address, coordinator.address);
      // Revoking an approval takes effect.
      await market.connect(alice).setApprovalForAll(coordinator.address, false);
      await expect(market.connect(coordinator).redeem(alice.address, EXPIRING, 1n, provider1.address))
        .to.be.revertedWithCustomError(market, "NotApproved")
        .withArgs(alice.address, coordinator.address);
    });

    it("may be called only by REDEEMER_ROLE, even by the holder or an approved operator", async () => {
      const { market, alice, bob, admin, provider1 } = await loadFixture(boughtFixture);
      await market.connect(alice).setApprovalForAll(bob.address, true);
      for (const s of [alice, bob, admin]) {
        await expect(market.connect(s).redeem(alice.address, EXPIRING, 1n, provider1.address))
          .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.REDEEMER);
      }
    });

    it("rejects zero vouchers with ZeroAmount, a zero provider with ZeroAddress, an unknown class with UnknownClass", async () => {
      const { market, alice, coordinator, provider1 } = await loadFixture(boughtFixture);
      await expect(
        market.connect(coordinator).redeem(alice.address, EXPIRING, 0n, provider1.address),
      ).to.be.revertedWithCustomError(market, "ZeroAmount");
      await expect(
        market.connect(coordinator).redeem(alice.address, EXPIRING, 1n, ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(market, "ZeroAddress");
      await expect(market.connect(coordinator).redeem(coordinator.address, 9n, 1n, provider1.address))
        .to.be.revertedWithCustomError(market, "UnknownClass")
        .withArgs(9n);
    });

    it("reverts with ERC1155InsufficientBalance when the holder has fewer vouchers than redeemed", async () => {
      const { market, alice, coordinator, provider1 } = await loadFixture(boughtFixture);
      await expect(market.connect(coordinator).redeem(alice.address, EXPIRING, 11n, provider1.address))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(alice.address, 10n, 11n, EXPIRING);
    });

    // BUG (contracts/VoucherMarket.sol:172-173, same in reclaim at 188-189): escrow is decremented before the
    // burn, so when the class's whole supply is below `vouchers` the subtraction underflows and the call
    // panics (0x11) instead of the documented ERC1155InsufficientBalance. Fails until the burn comes first.
    it("reverts with ERC1155InsufficientBalance, not a panic, when the whole class supply is below the amount", async () => {
      const { market, alice, coordinator, provider1 } = await loadFixture(boughtFixture);
      await market.connect(coordinator).redeem(alice.address, EXPIRING, 10n, provider1.address);
      await market.connect(coordinator).redeem(coordinator.address, EXPIRING, 7n, provider1.address);
      // Nobody holds any voucher of the class any more: escrow 0.
      await expect(market.connect(coordinator).redeem(coordinator.address, EXPIRING, 1n, provider1.address))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(coordinator.address, 0n, 1n, EXPIRING);
      await expect(market.connect(coordinator).redeem(coordinator.address, OPEN, 1n, provider1.address))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(coordinator.address, 0n, 1n, OPEN);
    });

    it("owes the treasury nothing at a zero protocol fee: the provider is owed the whole principal", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, usdc, admin, coordinator, provider1, treasury } = f;
      await market.connect(admin).setProtocolFeeBps(0n);
      const tx = await market
        .connect(coordinator)
        .redeem(coordinator.address, EXPIRING, 2n, provider1.address);
      await expect(tx)
        .to.emit(market, "VouchersRedeemed")
        .withArgs(EXPIRING, coordinator.address, provider1.address, 2n, 2_000_002n, 0n);
      expect(await owedOf(f, [provider1, treasury])).to.deep.equal([2_000_002n, 0n]);
      expect(await transfersOf(usdc, tx)).to.equal(0);
      await expect(market.withdraw(treasury.address, f.usdcAddress)).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      await expectEscrowHolds(f);
    });

    it("owes the provider nothing when the rounded-up fee takes the whole principal (price 1 at 1 000 bps)", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, usdcAddress, admin, alice, coordinator, provider1, treasury } = f;
      await market.connect(admin).createClass(MODEL, usdcAddress, UNITS, 1n, 0n, 0n, 0n);
      await market.connect(admin).setProtocolFeeBps(1_000n);
      await market.connect(alice).buy(3n, 1n, 1n, coordinator.address);
      // fee = ceil(1 × 1 000 / 10 000) = ceil(0.1) = 1; paid = 0.
      const tx = await market.connect(coordinator).redeem(coordinator.address, 3n, 1n, provider1.address);
      await expect(tx)
        .to.emit(market, "VouchersRedeemed")
        .withArgs(3n, coordinator.address, provider1.address, 1n, 0n, 1n);
      expect(await owedOf(f, [provider1, treasury])).to.deep.equal([0n, 1n]);
      expect(await transfersOf(usdc, tx)).to.equal(0);
      await expect(market.withdraw(provider1.address, usdcAddress)).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      await expectEscrowHolds(f, [OPEN, EXPIRING, 3n]);
    });

    it("keeps working after expiry for vouchers the coordinator holds, while buying has stopped", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, usdc, bob, coordinator, provider2, expiry } = f;
      await time.increaseTo(expiry + DAY);
      await expect(market.connect(bob).buy(EXPIRING, 1n, ethers.MaxUint256, bob.address))
        .to.be.revertedWithCustomError(market, "ClassExpired")
        .withArgs(EXPIRING, expiry);
      // 4 × 1.000001 = 4.000004; fee ceil(40 000.04) = 40 001.
      await market.connect(coordinator).redeem(coordinator.address, EXPIRING, 4n, provider2.address);
      expect(await owedOf(f, [provider2, f.treasury])).to.deep.equal([3_960_003n, 40_001n]);
      // ...and the provider withdraws after expiry too.
      await expect(market.withdraw(provider2.address, f.usdcAddress)).to.changeTokenBalance(
        usdc,
        provider2,
        3_960_003n,
      );
      expect(await market.balanceOf(coordinator.address, EXPIRING)).to.equal(3n);
      await expectEscrowHolds(f);
    });

    it("keeps working while paused and on a deactivated class", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, admin, guardian, alice, coordinator, provider1 } = f;
      await market.connect(guardian).pause();
      await market.connect(admin).setClassActive(EXPIRING, false);
      await expect(market.connect(coordinator).redeem(alice.address, EXPIRING, 1n, provider1.address))
        .to.emit(market, "VouchersRedeemed")
        .withArgs(EXPIRING, alice.address, provider1.address, 1n, 990_000n, 10_001n);
      expect(await market.balanceOf(alice.address, EXPIRING)).to.equal(9n);
      await expectEscrowHolds(f);
    });

    it("applies a new protocol fee to the next redemption", async () => {
      const f = await loadFixture(boughtFixture);
      const { market, admin, coordinator, provider1, treasury } = f;
      await market.connect(admin).setProtocolFeeBps(1_000n);
      // 3.000003 × 10 % = 300 000.3 → 300 001; paid 2 700 002.
      await market.connect(coordinator).redeem(coordinator.address, EXPIRING, 3n, provider1.address);
      expect(await owedOf(f, [provider1, treasury])).to.deep.equal([2_700_002n, 300_001n]);
    });

    it("settles even when the stablecoin refuses every transfer: the provider and treasury are owed, not paid", async () => {
      const f = await loadFixture(marketFixture);
      const { market, admin, alice, coordinator, provider1, treasury, marketAddress } = f;
      const frozen = await (await ethers.getContractFactory("FeeOnTransferToken")).deploy(0n);
      const coin = await frozen.getAddress();
      await frozen.mint(alice.address, USDC_GRANT);
      await frozen.connect(alice).approve(marketAddress, ethers.MaxUint256);
      await market.connect(admin).createClass(MODEL, coin, UNITS, 1_000_000n, 0n, 0n, 0n);
      await market.connect(alice).buy(3n, 4n, ethers.MaxUint256, coordinator.address);
      await frozen.setFrozen(true); // e.g. the provider or the treasury is blacklisted

      // 4 USDC-like; fee 1 % = 40 000.
      await expect(market.connect(coordinator).redeem(coordinator.address, 3n, 4n, provider1.address))
        .to.emit(market, "VouchersRedeemed")
        .withArgs(3n, coordinator.address, provider1.address, 4n, 3_960_000n, 40_000n);
      expect(await market.owed(provider1.address, coin)).to.equal(3_960_000n);
      expect(await market.owed(treasury.address, coin)).to.equal(40_000n);
      // The payout waits: a refused withdrawal keeps what is owed.
      await expect(market.withdraw(provider1.address, coin)).to.be.revertedWithCustomError(
        frozen,
        "TransfersFrozen",
      );
      expect(await market.owed(provider1.address, coin)).to.equal(3_960_000n);
      await frozen.setFrozen(false);
      await expect(market.withdraw(provider1.address, coin)).to.changeTokenBalances(
        frozen,
        [marketAddress, provider1],
        [-3_960_000n, 3_960_000n],
      );
      expect(await frozen.balanceOf(marketAddress)).to.equal(40_000n); // the treasury's, still owed
    });
  });

  describe("escrowForJob", () => {
    /** alice buys 10 OPEN vouchers and approves the coordinator; bob buys 4 and approves no one. */
    async function holdingFixture() {
      const f = await marketFixture();
      await f.market.connect(f.alice).buy(OPEN, 10n, ethers.MaxUint256, f.alice.address);
      await f.market.connect(f.alice).setApprovalForAll(f.coordinator.address, true);
      await f.market.connect(f.bob).buy(OPEN, 4n, ethers.MaxUint256, f.bob.address);
      return f;
    }

    it("moves ⌈units / unitsPerVoucher⌉ vouchers from the holder to the caller and returns (modelId, unitsPerVoucher, vouchers)", async () => {
      const f = await loadFixture(holdingFixture);
      const { market, usdc, marketAddress, alice, coordinator } = f;
      let held = 10n;
      let custody = 0n;
      for (const units of [1n, UNITS, UNITS + 1n, 2_500n]) {
        const vouchers = (units + UNITS - 1n) / UNITS; // 1, 1, 2, 3
        expect(
          await market.connect(coordinator).escrowForJob.staticCall(alice.address, OPEN, units),
        ).to.deep.equal([MODEL, UNITS, vouchers]);
        const tx = market.connect(coordinator).escrowForJob(alice.address, OPEN, units);
        await expect(tx)
          .to.emit(market, "TransferSingle")
          .withArgs(coordinator.address, alice.address, coordinator.address, OPEN, vouchers);
        await expect(tx).to.changeTokenBalances(usdc, [marketAddress, alice, coordinator], [0n, 0n, 0n]);
        held -= vouchers;
        custody += vouchers;
        expect(await market.balanceOf(alice.address, OPEN)).to.equal(held);
        expect(await market.balanceOf(coordinator.address, OPEN)).to.equal(custody);
      }
      expect(custody).to.equal(7n);
      // Custody is not redemption: supply and escrow still count the vouchers.
      expect(await supplyOf(market, OPEN)).to.equal(14n);
      expect(await market.escrowed(OPEN)).to.equal(14n * OPEN_PRICE);
      await expectEscrowHolds(f);
    });

    it("takes the holder's whole balance and reverts one voucher over with ERC1155InsufficientBalance(holder, balance, needed, id)", async () => {
      const { market, alice, coordinator } = await loadFixture(holdingFixture);
      await expect(market.connect(coordinator).escrowForJob(alice.address, OPEN, 10n * UNITS + 1n))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(alice.address, 10n, 11n, OPEN);
      await market.connect(coordinator).escrowForJob(alice.address, OPEN, 10n * UNITS);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(0n);
      expect(await market.balanceOf(coordinator.address, OPEN)).to.equal(10n);
    });

    it("refuses a holder that has not approved the caller with NotApproved(holder, caller), also after approving someone else or revoking", async () => {
      const { market, alice, bob, carol, coordinator } = await loadFixture(holdingFixture);
      await expect(market.connect(coordinator).escrowForJob(bob.address, OPEN, UNITS))
        .to.be.revertedWithCustomError(market, "NotApproved")
        .withArgs(bob.address, coordinator.address);
      await market.connect(bob).setApprovalForAll(carol.address, true);
      await expect(market.connect(coordinator).escrowForJob(bob.address, OPEN, UNITS))
        .to.be.revertedWithCustomError(market, "NotApproved")
        .withArgs(bob.address, coordinator.address);
      await market.connect(alice).setApprovalForAll(coordinator.address, false);
      await expect(market.connect(coordinator).escrowForJob(alice.address, OPEN, UNITS))
        .to.be.revertedWithCustomError(market, "NotApproved")
        .withArgs(alice.address, coordinator.address);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(10n);
      expect(await market.balanceOf(bob.address, OPEN)).to.equal(4n);
    });

    it("rejects zero units with ZeroAmount and an unknown class with UnknownClass", async () => {
      const { market, alice, coordinator } = await loadFixture(holdingFixture);
      await expect(
        market.connect(coordinator).escrowForJob(alice.address, OPEN, 0n),
      ).to.be.revertedWithCustomError(market, "ZeroAmount");
      for (const id of [0n, 3n]) {
        await expect(market.connect(coordinator).escrowForJob(alice.address, id, UNITS))
          .to.be.revertedWithCustomError(market, "UnknownClass")
          .withArgs(id);
      }
    });

    it("may be called only by REDEEMER_ROLE, even by the holder or an operator it approved", async () => {
      const { market, alice, bob, admin } = await loadFixture(holdingFixture);
      await market.connect(alice).setApprovalForAll(bob.address, true);
      for (const s of [alice, bob, admin]) {
        await expect(market.connect(s).escrowForJob(alice.address, OPEN, UNITS))
          .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.REDEEMER);
      }
    });

    it("takes vouchers into a contract caller's custody without calling its onERC1155Received", async () => {
      const { market, marketAddress, admin, alice } = await loadFixture(holdingFixture);
      // A REDEEMER contract whose hook answers the wrong selector: a safe transfer to it would revert.
      const custodian = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      const custodianAddress = await custodian.getAddress();
      await custodian.setAnswer(ON_ERC1155_RECEIVED, abi.encode(["bytes4"], ["0xdeadbeef"]));
      await market.connect(admin).grantRole(ROLES.REDEEMER, custodianAddress);
      await market.connect(alice).setApprovalForAll(custodianAddress, true);
      await expect(market.connect(alice).safeTransferFrom(alice.address, custodianAddress, OPEN, 1n, "0x"))
        .to.be.revertedWithCustomError(market, "ERC1155InvalidReceiver")
        .withArgs(custodianAddress);
      // The custodian calls escrowForJob when poked with any selector other than the hook's.
      const poke = ethers.id("poke()").slice(0, 10);
      await custodian.arm(
        marketAddress,
        market.interface.encodeFunctionData("escrowForJob", [alice.address, OPEN, 2n * UNITS]),
        poke,
      );
      await alice.sendTransaction({ to: custodianAddress, data: poke });
      expect(await market.balanceOf(custodianAddress, OPEN)).to.equal(2n);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(8n);
    });

    it("keeps working, with returnEscrow, while the market is paused and on a deactivated class", async () => {
      const f = await loadFixture(holdingFixture);
      const { market, admin, guardian, alice, coordinator } = f;
      await market.connect(guardian).pause();
      await market.connect(admin).setClassActive(OPEN, false);
      await market.connect(coordinator).escrowForJob(alice.address, OPEN, 3n * UNITS);
      await market.connect(coordinator).returnEscrow(alice.address, OPEN, 2n);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(9n);
      expect(await market.balanceOf(coordinator.address, OPEN)).to.equal(1n);
      await expectEscrowHolds(f);
    });
  });

  describe("returnEscrow", () => {
    /** `holdingFixture`'s alice, with 3 of her 10 OPEN vouchers in the coordinator's custody for a job. */
    async function custodyFixture() {
      const f = await marketFixture();
      await f.market.connect(f.alice).buy(OPEN, 10n, ethers.MaxUint256, f.alice.address);
      await f.market.connect(f.alice).setApprovalForAll(f.coordinator.address, true);
      await f.market.connect(f.coordinator).escrowForJob(f.alice.address, OPEN, 3n * UNITS);
      return f;
    }

    it("moves vouchers from the caller's custody back to the holder; escrow and supply do not change", async () => {
      const f = await loadFixture(custodyFixture);
      const { market, usdc, marketAddress, alice, coordinator } = f;
      const tx = market.connect(coordinator).returnEscrow(alice.address, OPEN, 2n);
      await expect(tx)
        .to.emit(market, "TransferSingle")
        .withArgs(coordinator.address, coordinator.address, alice.address, OPEN, 2n);
      await expect(tx).to.changeTokenBalances(usdc, [marketAddress, alice], [0n, 0n]);
      expect(await market.balanceOf(alice.address, OPEN)).to.equal(9n);
      expect(await market.balanceOf(coordinator.address, OPEN)).to.equal(1n);
      expect(await supplyOf(market, OPEN)).to.equal(10n);
      expect(await market.escrowed(OPEN)).to.equal(10n * OPEN_PRICE);
      await expectEscrowHolds(f);
    });

    it("delivers to a contract without onERC1155Received (a MockStablecoin), which a safe transfer cannot reach", async () => {
      const { market, usdcAddress, coordinator } = await loadFixture(custodyFixture);
      await expect(
        market.connect(coordinator).safeTransferFrom(coordinator.address, usdcAddress, OPEN, 1n, "0x"),
      )
        .to.be.revertedWithCustomError(market, "ERC1155InvalidReceiver")
        .withArgs(usdcAddress);
      await market.connect(coordinator).returnEscrow(usdcAddress, OPEN, 3n);
      expect(await market.balanceOf(usdcAddress, OPEN)).to.equal(3n);
      expect(await market.balanceOf(coordinator.address, OPEN)).to.equal(0n);
    });

    it("never calls the holder's hook: a holder whose onERC1155Received reverts still receives", async () => {
      const { market, marketAddress, coordinator } = await loadFixture(custodyFixture);
      const holder = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      const holderAddress = await holder.getAddress();
      // Its hook calls buy(OPEN, 0, …), which reverts with ZeroAmount.
      await holder.arm(
        marketAddress,
        market.interface.encodeFunctionData("buy", [OPEN, 0n, 0n, holderAddress]),
        ON_ERC1155_RECEIVED,
      );
      await expect(
        market.connect(coordinator).safeTransferFrom(coordinator.address, holderAddress, OPEN, 1n, "0x"),
      ).to.be.revertedWithCustomError(market, "ZeroAmount");
      await market.connect(coordinator).returnEscrow(holderAddress, OPEN, 1n);
      expect(await market.balanceOf(holderAddress, OPEN)).to.equal(1n);
    });

    it("rejects a zero holder with ZeroAddress and more than the caller holds with ERC1155InsufficientBalance(caller, balance, needed, id)", async () => {
      const { market, alice, coordinator } = await loadFixture(custodyFixture);
      await expect(
        market.connect(coordinator).returnEscrow(ethers.ZeroAddress, OPEN, 1n),
      ).to.be.revertedWithCustomError(market, "ZeroAddress");
      await expect(market.connect(coordinator).returnEscrow(alice.address, OPEN, 4n))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(coordinator.address, 3n, 4n, OPEN);
      // Only the caller's own custody: alice's vouchers cannot be "returned" to someone else.
      await expect(market.connect(coordinator).returnEscrow(alice.address, EXPIRING, 1n))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(coordinator.address, 0n, 1n, EXPIRING);
    });

    it("may be called only by REDEEMER_ROLE, even by a voucher holder", async () => {
      const { market, alice, bob, admin } = await loadFixture(custodyFixture);
      for (const s of [alice, admin]) {
        await expect(market.connect(s).returnEscrow(bob.address, OPEN, 1n))
          .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
          .withArgs(s.address, ROLES.REDEEMER);
      }
      expect(await market.balanceOf(bob.address, OPEN)).to.equal(0n);
    });
  });

  describe("withdraw", () => {
    /** alice buys 10 OPEN vouchers for the coordinator, who redeems 4 to provider1: 9.9 USDC and 0.1 USDC owed. */
    async function owedFixture() {
      const f = await marketFixture();
      await f.market.connect(f.alice).buy(OPEN, 10n, ethers.MaxUint256, f.coordinator.address);
      await f.market.connect(f.coordinator).redeem(f.coordinator.address, OPEN, 4n, f.provider1.address);
      return f;
    }
    const PAID = (4n * OPEN_PRICE * (10_000n - DEFAULT_FEE_BPS)) / 10_000n; // 9 900 000, exact
    const FEE = 4n * OPEN_PRICE - PAID; // 100 000

    it("pays the account everything it is owed in that stablecoin, whoever calls, emits Withdrawn and returns the amount", async () => {
      const f = await loadFixture(owedFixture);
      const { market, usdc, usdcAddress, marketAddress, coordinator, provider1, outsider } = f;
      await market.connect(coordinator).redeem(coordinator.address, OPEN, 2n, provider1.address); // credits add up
      const owed = PAID + PAID / 2n;
      expect(await market.owed(provider1.address, usdcAddress)).to.equal(owed);
      expect(await market.connect(outsider).withdraw.staticCall(provider1.address, usdcAddress)).to.equal(
        owed,
      );
      const tx = market.connect(outsider).withdraw(provider1.address, usdcAddress);
      await expect(tx).to.emit(market, "Withdrawn").withArgs(provider1.address, usdcAddress, owed);
      await expect(tx).to.changeTokenBalances(usdc, [marketAddress, provider1, outsider], [-owed, owed, 0n]);
      expect(await market.owed(provider1.address, usdcAddress)).to.equal(0n);
      await expectEscrowHolds(f);
    });

    it("cannot pay twice: a second withdrawal reverts with ZeroAmount, and only new credit is paid later", async () => {
      const f = await loadFixture(owedFixture);
      const { market, usdc, usdcAddress, treasury, coordinator, provider1 } = f;
      await expect(market.connect(treasury).withdraw(treasury.address, usdcAddress)).to.changeTokenBalance(
        usdc,
        treasury,
        FEE,
      );
      await expect(
        market.connect(treasury).withdraw(treasury.address, usdcAddress),
      ).to.be.revertedWithCustomError(market, "ZeroAmount");
      await market.withdraw(provider1.address, usdcAddress);
      await expect(market.withdraw(provider1.address, usdcAddress)).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      await market.connect(coordinator).redeem(coordinator.address, OPEN, 4n, provider1.address);
      await expect(market.withdraw(provider1.address, usdcAddress)).to.changeTokenBalance(
        usdc,
        provider1,
        PAID,
      );
      await expectEscrowHolds(f);
    });

    it("reverts with ZeroAmount for an account owed nothing and for a stablecoin the account is not owed in", async () => {
      const f = await loadFixture(owedFixture);
      const { market, usdcAddress, provider1, provider2 } = f;
      const other = await classOf(f, 18, 10n ** 18n);
      const otherCoin = await other.coin.getAddress();
      await expect(market.withdraw(provider2.address, usdcAddress)).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      await expect(market.withdraw(provider1.address, otherCoin)).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      expect(await market.owed(provider1.address, usdcAddress)).to.equal(PAID);
    });

    it("keeps each stablecoin's credit apart: withdrawing one coin leaves the other owed", async () => {
      const f = await loadFixture(owedFixture);
      const { market, usdc, usdcAddress, coordinator, provider1 } = f;
      const dai = await classOf(f, 18, 10n ** 18n, 0n, [coordinator]);
      const daiAddress = await dai.coin.getAddress();
      await market.connect(coordinator).buy(dai.id, 3n, ethers.MaxUint256, coordinator.address);
      await market.connect(coordinator).redeem(coordinator.address, dai.id, 3n, provider1.address);
      const daiOwed = 3n * 10n ** 18n - (3n * 10n ** 18n * DEFAULT_FEE_BPS) / 10_000n;
      expect(await market.owed(provider1.address, daiAddress)).to.equal(daiOwed);

      await expect(market.withdraw(provider1.address, usdcAddress)).to.changeTokenBalance(
        usdc,
        provider1,
        PAID,
      );
      expect(await market.owed(provider1.address, daiAddress)).to.equal(daiOwed);
      await expect(market.withdraw(provider1.address, daiAddress))
        .to.emit(market, "Withdrawn")
        .withArgs(provider1.address, daiAddress, daiOwed);
      expect(await dai.coin.balanceOf(provider1.address)).to.equal(daiOwed);
    });

    it("is never paused", async () => {
      const f = await loadFixture(owedFixture);
      const { market, usdc, usdcAddress, guardian, provider1 } = f;
      await market.connect(guardian).pause();
      await expect(market.withdraw(provider1.address, usdcAddress)).to.changeTokenBalance(
        usdc,
        provider1,
        PAID,
      );
    });
  });

  describe("reclaim", () => {
    it("refuses a class that never expires with ClassNotExpired(id, 0)", async () => {
      const { market, alice } = await loadFixture(marketFixture);
      await market.connect(alice).buy(OPEN, 1n, ethers.MaxUint256, alice.address);
      await time.increase(10n * 365n * DAY);
      await expect(market.connect(alice).reclaim(OPEN, 1n))
        .to.be.revertedWithCustomError(market, "ClassNotExpired")
        .withArgs(OPEN, 0n);
    });

    it("refuses at expiry − 1 with ClassNotExpired(id, expiry) and returns the principal only at exactly expiry", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, marketAddress, alice, treasury, expiry } = f;
      await market.connect(alice).buy(EXPIRING, 3n, ethers.MaxUint256, alice.address); // paid 3 075 004
      await time.setNextBlockTimestamp(expiry - 1n);
      await expect(market.connect(alice).reclaim(EXPIRING, 3n))
        .to.be.revertedWithCustomError(market, "ClassNotExpired")
        .withArgs(EXPIRING, expiry);

      await time.setNextBlockTimestamp(expiry);
      const tx = market.connect(alice).reclaim(EXPIRING, 3n);
      await expect(tx).to.emit(market, "VouchersReclaimed").withArgs(EXPIRING, alice.address, 3n, 3_000_003n);
      await expect(tx)
        .to.emit(market, "TransferSingle")
        .withArgs(alice.address, alice.address, ethers.ZeroAddress, EXPIRING, 3n);
      // The 75 001 premium stays with the treasury.
      await expect(tx).to.changeTokenBalances(
        usdc,
        [alice, marketAddress, treasury],
        [3_000_003n, -3_000_003n, 0n],
      );
      expect(await market.balanceOf(alice.address, EXPIRING)).to.equal(0n);
      expect(await supplyOf(market, EXPIRING)).to.equal(0n);
      expect(await market.escrowed(EXPIRING)).to.equal(0n);
      await expectEscrowHolds(f);
    });

    it("reclaims part of a holding, only the caller's own vouchers", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, alice, bob, expiry } = f;
      await market.connect(alice).buy(EXPIRING, 5n, ethers.MaxUint256, alice.address);
      await market.connect(bob).buy(EXPIRING, 2n, ethers.MaxUint256, bob.address);
      await time.increaseTo(expiry);
      await expect(market.connect(alice).reclaim(EXPIRING, 2n)).to.changeTokenBalance(
        usdc,
        alice,
        2_000_002n,
      );
      expect(await market.balanceOf(alice.address, EXPIRING)).to.equal(3n);
      expect(await market.balanceOf(bob.address, EXPIRING)).to.equal(2n);
      await expect(market.connect(bob).reclaim(EXPIRING, 3n))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(bob.address, 2n, 3n, EXPIRING);
      await expectEscrowHolds(f);
    });

    // BUG (contracts/VoucherMarket.sol:188-189): as in redeem, escrow is decremented before the burn, so
    // reclaiming more than the class's whole supply panics (0x11) instead of ERC1155InsufficientBalance.
    it("reverts with ERC1155InsufficientBalance, not a panic, when reclaiming more than the class's whole supply", async () => {
      const { market, alice, expiry } = await loadFixture(marketFixture);
      await market.connect(alice).buy(EXPIRING, 2n, ethers.MaxUint256, alice.address);
      await time.increaseTo(expiry);
      await expect(market.connect(alice).reclaim(EXPIRING, 3n))
        .to.be.revertedWithCustomError(market, "ERC1155InsufficientBalance")
        .withArgs(alice.address, 2n, 3n, EXPIRING);
    });

    it("rejects zero vouchers with ZeroAmount and an unknown class with UnknownClass", async () => {
      const { market, alice, expiry } = await loadFixture(marketFixture);
      await time.increaseTo(expiry);
      await expect(market.connect(alice).reclaim(EXPIRING, 0n)).to.be.revertedWithCustomError(
        market,
        "ZeroAmount",
      );
      await expect(market.connect(alice).reclaim(7n, 1n))
        .to.be.revertedWithCustomError(market, "UnknownClass")
        .withArgs(7n);
    });

    it("keeps working while paused and on a deactivated class", async () => {
      const f = await loadFixture(marketFixture);
      const { market, usdc, admin, guardian, alice, expiry } = f;
      await market.connect(alice).buy(EXPIRING, 4n, ethers.MaxUint256, alice.address);
      await market.connect(guardian).pause();
      await market.connect(admin).setClassActive(EXPIRING, false);
      await time.increaseTo(expiry);
      await expect(market.connect(alice).reclaim(EXPIRING, 4n)).to.changeTokenBalance(
        usdc,
        alice,
        4_000_004n,
      );
      await expectEscrowHolds(f);
    });
  });

  describe("governance setters", () => {
    it("sets the protocol fee up to 1 000 bps inclusive, rejects 1 001 with ParameterOutOfBounds, emits ParameterUpdated", async () => {
      const { market, admin } = await loadFixture(marketFixture);
      await expect(market.connect(admin).setProtocolFeeBps(1_000n))
        .to.emit(market, "ParameterUpdated")
        .withArgs(field("protocolFeeBps"), DEFAULT_FEE_BPS, 1_000n);
      expect(await market.protocolFeeBps()).to.equal(1_000n);
      await expect(market.connect(admin).setProtocolFeeBps(1_001n))
        .to.be.revertedWithCustomError(market, "ParameterOutOfBounds")
        .withArgs(field("protocolFeeBps"), 1_001n, 0n, 1_000n);
      await expect(market.connect(admin).setProtocolFeeBps(0n))
        .to.emit(market, "ParameterUpdated")
        .withArgs(field("protocolFeeBps"), 1_000n, 0n);
      expect(await market.protocolFeeBps()).to.equal(0n);
    });

    it("sets the treasury, rejects zero with ZeroAddress, emits TreasuryUpdated, and sends later premiums and fees there", async () => {
      const { market, usdc, usdcAddress, admin, treasury, outsider, alice, coordinator, provider1 } =
        await loadFixture(marketFixture);
      await expect(market.connect(admin).setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        market,
        "ZeroAddress",
      );
      await expect(market.connect(admin).setTreasury(outsider.address))
        .to.emit(market, "TreasuryUpdated")
        .withArgs(treasury.address, outsider.address);
      expect(await market.treasury()).to.equal(outsider.address);
      await expect(
        market.connect(alice).buy(OPEN, 7n, ethers.MaxUint256, coordinator.address),
      ).to.changeTokenBalances(usdc, [outsider, treasury], [525_000n, 0n]);
      // 7 × 2.5 = 17.5 USDC; fee 1 % = 175 000 exactly.
      await market.connect(coordinator).redeem(coordinator.address, OPEN, 7n, provider1.address);
      expect(await market.owed(outsider.address, usdcAddress)).to.equal(175_000n);
      expect(await market.owed(treasury.address, usdcAddress)).to.equal(0n);
      expect(await market.owed(provider1.address, usdcAddress)).to.equal(17_325_000n);
    });

    it("leaves fees credited before a treasury change owed to the old treasury", async () => {
      const { market, usdc, usdcAddress, admin, treasury, outsider, alice, coordinator, provider1 } =
        await loadFixture(marketFixture);
      await market.connect(alice).buy(OPEN, 2n, ethers.MaxUint256, coordinator.address);
      await market.connect(coordinator).redeem(coordinator.address, OPEN, 1n, provider1.address); // fee 25 000
      await market.connect(admin).setTreasury(outsider.address);
      await market.connect(coordinator).redeem(coordinator.address, OPEN, 1n, provider1.address);
      expect(await market.owed(treasury.address, usdcAddress)).to.equal(25_000n);
      expect(await market.owed(outsider.address, usdcAddress)).to.equal(25_000n);
      await expect(market.withdraw(treasury.address, usdcAddress)).to.changeTokenBalance(
        usdc,
        treasury,
        25_000n,
      );
    });

    it("lets only DEFAULT_ADMIN_ROLE set the fee and the treasury", async () => {
      const { market, guardian, outsider } = await loadFixture(marketFixture);
      await expect(market.connect(guardian).setProtocolFeeBps(0n))
        .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, ROLES.DEFAULT_ADMIN);
      await expect(market.connect(guardian).setTreasury(outsider.address))
        .to.be.revertedWithCustomError(market, "AccessControlUnauthorizedAccount")
        .withArgs(guardian.address, ROLES.DEFAULT_ADMIN);
    });
  });

  describe("views", () => {
    it("getClass and quoteBuy reject an unknown class with UnknownClass; escrowed of an unknown class is 0", async () => {
      const { market } = await loadFixture(marketFixture);
      await expect(market.getClass(3n)).to.be.revertedWithCustomError(market, "UnknownClass").withArgs(3n);
      await expect(market.quoteBuy(0n, 1n))
        .to.be.revertedWithCustomError(market, "UnknownClass")
        .withArgs(0n);
      expect(await market.escrowed(3n)).to.equal(0n);
    });

    it("quotes ignoring activity, expiry and cap: a quote is arithmetic only", async () => {
      const { market, admin, expiry } = await loadFixture(marketFixture);
      await market.connect(admin).setClassActive(EXPIRING, false);
      await time.increaseTo(expiry);
      // 1 000 × 1.000001 = 1 000.001 USDC; premium 2.5 % = 25 000 025 exactly.
      expect(await market.quoteBuy(EXPIRING, 1_000n)).to.deep.equal([1_000_001_000n, 25_000_025n]);
    });
  });

  describe("no-leak accounting", () => {
    it("pays out exactly the principal escrowed: Σ paid + Σ reclaimed + Σ fees == Σ principal, balance == Σ escrowed + Σ owed at every step", async () => {
      const f = await loadFixture(marketFixture);
      const {
        market,
        usdc,
        usdcAddress,
        admin,
        alice,
        bob,
        carol,
        coordinator,
        provider1,
        provider2,
        treasury,
        outsider,
        expiry,
      } = f;
      const bal = (a: { address: string }) => usdc.balanceOf(a.address);

      let principalIn = 0n;
      let premiums = 0n;
      let paid = 0n;
      let fees = 0n;
      let reclaimed = 0n;

      const buy = async (
        who: typeof alice,
        id: bigint,
        n: bigint,
        to: typeof alice,
        principal: bigint,
        premium: bigint,
      ) => {
        const t0 = await bal(treasury);
        await expect(market.connect(who).buy(id, n, principal + premium, to.address))
          .to.emit(market, "VouchersBought")
          .withArgs(id, who.address, to.address, n, principal, premium);
        expect((await bal(treasury)) - t0).to.equal(premium);
        principalIn += principal;
        premiums += premium;
        await expectEscrowHolds(f);
      };
      const redeem = async (
        holder: typeof alice,
        id: bigint,
        n: bigint,
        provider: typeof alice,
        fee: bigint,
      ) => {
        const principal = (await market.getClass(id)).unitPrice * n;
        const [p0, t0] = await owedOf(f, [provider, treasury]);
        const balance0 = await usdc.balanceOf(f.marketAddress);
        await market.connect(coordinator).redeem(holder.address, id, n, provider.address);
        const [p1, t1] = await owedOf(f, [provider, treasury]);
        expect(t1 - t0).to.equal(fee);
        expect(p1 - p0 + (t1 - t0)).to.equal(principal);
        expect(await usdc.balanceOf(f.marketAddress)).to.equal(balance0); // nothing pushed
        paid += p1 - p0;
        fees += t1 - t0;
        await expectEscrowHolds(f);
      };
      const reclaim = async (holder: typeof alice, id: bigint, n: bigint, principal: bigint) => {
        const h0 = await bal(holder);
        await market.connect(holder).reclaim(id, n);
        expect((await bal(holder)) - h0).to.equal(principal);
        reclaimed += principal;
        await expectEscrowHolds(f);
      };
      const withdraw = async (account: typeof alice) => {
        const owed = await market.owed(account.address, usdcAddress);
        const b0 = await bal(account);
        await market.connect(outsider).withdraw(account.address, usdcAddress); // anyone may trigger it
        expect((await bal(account)) - b0).to.equal(owed);
        expect(await market.owed(account.address, usdcAddress)).to.equal(0n);
        await expectEscrowHolds(f);
      };

      for (const s of [alice, bob, carol])
        await market.connect(s).setApprovalForAll(coordinator.address, true);

      // Buys: premium = ceil(principal × bps / 10 000).
      await buy(alice, EXPIRING, 10n, alice, 10_000_010n, 250_001n); // 250 000.25 → 250 001
      await buy(bob, EXPIRING, 7n, coordinator, 7_000_007n, 175_001n); // 175 000.175 → 175 001
      await buy(carol, EXPIRING, 3n, carol, 3_000_003n, 75_001n);
      await buy(carol, OPEN, 5n, carol, 12_500_000n, 375_000n);
      await buy(alice, OPEN, 4n, bob, 10_000_000n, 300_000n);

      // A job of 2 500 units: ⌈2 500 / 1 000⌉ = 3 of alice's vouchers into custody; 2 used, 1 returned.
      await market.connect(coordinator).escrowForJob(alice.address, EXPIRING, 2_500n);
      await expectEscrowHolds(f);
      await market.connect(coordinator).returnEscrow(alice.address, EXPIRING, 1n);
      await expectEscrowHolds(f);
      await redeem(coordinator, EXPIRING, 2n, provider1, 20_001n); // 20 000.02 → 20 001
      expect(await market.balanceOf(alice.address, EXPIRING)).to.equal(8n);

      // Partial redemptions to two providers at 1 %, then at 0.37 %.
      await redeem(alice, EXPIRING, 3n, provider1, 30_001n); // 30 000.03 → 30 001
      await redeem(coordinator, EXPIRING, 5n, provider2, 50_001n); // 50 000.05 → 50 001
      await redeem(carol, OPEN, 2n, provider1, 50_000n);
      await withdraw(provider1);
      await market.connect(admin).setProtocolFeeBps(37n);
      await redeem(bob, OPEN, 1n, provider2, 9_250n); // 2 500 000 × 0.37 % = 9 250
      await redeem(carol, EXPIRING, 1n, provider2, 3_701n); // 3 700.0037 → 3 701
      await withdraw(treasury);

      // Expiry: holders of EXPIRING reclaim the rest; the coordinator still redeems what it holds.
      await time.increaseTo(expiry);
      await reclaim(alice, EXPIRING, 5n, 5_000_005n);
      await reclaim(carol, EXPIRING, 2n, 2_000_002n);
      await redeem(coordinator, EXPIRING, 1n, provider1, 3_701n); // 3 700.0037 → 3 701
      await reclaim(coordinator, EXPIRING, 1n, 1_000_001n);
      expect(await supplyOf(market, EXPIRING)).to.equal(0n);
      expect(await market.escrowed(EXPIRING)).to.equal(0n);

      // OPEN never expires: drain it by redemption.
      await redeem(carol, OPEN, 3n, provider1, 27_750n);
      await redeem(bob, OPEN, 3n, provider2, 27_750n);
      expect(await supplyOf(market, OPEN)).to.equal(0n);

      // Escrow is empty: the market now holds exactly what it owes.
      expect(await usdc.balanceOf(f.marketAddress)).to.equal(await owedTotal(f));
      for (const account of [provider1, provider2, treasury]) await withdraw(account);

      expect(principalIn).to.equal(42_500_020n);
      expect(reclaimed).to.equal(8_000_008n);
      expect(fees).to.equal(222_155n);
      expect(paid).to.equal(34_277_857n);
      expect(paid + reclaimed + fees).to.equal(principalIn);
      expect(premiums).to.equal(1_175_003n);
      expect(await usdc.balanceOf(f.marketAddress)).to.equal(0n);
      expect(await bal(treasury)).to.equal(premiums + fees);
      expect((await bal(provider1)) + (await bal(provider2))).to.equal(paid);
    });
  });
});
