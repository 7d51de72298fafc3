import { expect } from "chai";
import { ethers, ignition } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { AddressLike } from "ethers";
import CinderMarket from "../../deploy/modules/CinderMarket";
import type {
  ModelRegistry,
  ProtocolToken,
  ProviderRegistry,
  ReentrantCallback,
} from "../../typechain-types";
import { DAY, ROLES, WAD } from "./fixtures";

const MIN_BOND = 1_000n * WAD; // CinderMarket default `minBond`
const UNBONDING = 7n * DAY; // CinderMarket default `unbondingPeriod`
const MAX_UNBONDING = 365n * DAY;
const MAX_MIN_BOND = 10n ** 27n;
const MAX_MODELS = 32n;
const BOND = 5_000n * WAD; // alice's bond in the registered fixture

const LLAMA = ethers.encodeBytes32String("llama-3.2-1b-instruct-q4");
const QWEN = ethers.encodeBytes32String("qwen2.5-0.5b-instruct-q8");
const MISTRAL = ethers.encodeBytes32String("mistral-7b-instruct-q4");
const UNKNOWN = ethers.encodeBytes32String("never-registered");
/** USD (18 decimals) per 1,000 output tokens. */
const LLAMA_PRICE = 2n * 10n ** 15n;
const QWEN_PRICE = 10n ** 15n;
const MISTRAL_PRICE = 5n * 10n ** 15n;

const NONE = 0;
const ACTIVE = 1;
const EXITING = 2;

const MIN_BOND_PARAM = ethers.encodeBytes32String("minBond");
const UNBONDING_PARAM = ethers.encodeBytes32String("unbondingPeriod");
const WINDOW_SELECTOR = ethers.id("slashableWindow()").slice(0, 10);

function encodeWindow(seconds: bigint): string {
  return ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [seconds]);
}

async function latest(): Promise<bigint> {
  return BigInt(await time.latest());
}

/** Runs `action` as the transaction of a block mined at exactly `timestamp`. */
async function at<T>(timestamp: bigint, action: () => Promise<T>): Promise<T> {
  await time.setNextBlockTimestamp(timestamp);
  return action();
}

/** The provider record as a plain object, so a whole record compares with one deep equality. */
async function recordOf(registry: ProviderRegistry, provider: AddressLike) {
  const r = await registry.getProvider(provider);
  return {
    status: Number(r.status),
    signer: r.signer,
    registeredAt: r.registeredAt,
    unbondingEnds: r.unbondingEnds,
    jailedUntil: r.jailedUntil,
    bond: r.bond,
    locked: r.locked,
    metadataURI: r.metadataURI,
  };
}

const EMPTY_RECORD = {
  status: NONE,
  signer: ethers.ZeroAddress,
  registeredAt: 0n,
  unbondingEnds: 0n,
  jailedUntil: 0n,
  bond: 0n,
  locked: 0n,
  metadataURI: "",
};

/**
 * The market deployed through the CinderMarket Ignition module (minBond 1,000 tokens, unbonding 7 days) with
 * LLAMA, QWEN and MISTRAL registered (active) by the admin. `coordinator` holds COORDINATOR_ROLE, `slasher`
 * SLASHER_ROLE and `guardian` GUARDIAN_ROLE on the ProviderRegistry. alice, bob and carol hold 100,000 tokens
 * each and have approved the registry; `windowSource` is a fake ISlashingWindow answering 3 days, not yet
 * set on the registry.
 */
async function registryFixture() {
  const [
    admin,
    treasury,
    coordinator,
    slasher,
    guardian,
    alice,
    bob,
    carol,
    aliceSigner,
    bobSigner,
    recipient,
    outsider,
  ] = await ethers.getSigners();
  const deployed = await ignition.deploy(CinderMarket, {
    parameters: {
      CinderCore: { admin: admin.address, treasury: treasury.address },
      CinderEconomy: { admin: admin.address, treasury: treasury.address },
      CinderMarket: { admin: admin.address, treasury: treasury.address },
    },
  });
  const token = deployed.token as unknown as ProtocolToken;
  const models = deployed.modelRegistry as unknown as ModelRegistry;
  const registry = deployed.providerRegistry as unknown as ProviderRegistry;

  const unit = "1000 output tokens";
  await models.connect(admin).registerModel(LLAMA, ethers.id("llama.gguf"), "Llama 3.2 1B", "", unit);
  await models.connect(admin).registerModel(QWEN, ethers.id("qwen.gguf"), "Qwen 2.5 0.5B", "", unit);
  await models.connect(admin).registerModel(MISTRAL, ethers.id("mistral.gguf"), "Mistral 7B", "", unit);

  await registry.connect(admin).grantRole(ROLES.COORDINATOR, coordinator.address);
  await registry.connect(admin).grantRole(ROLES.SLASHER, slasher.address);
  await registry.connect(admin).grantRole(ROLES.GUARDIAN, guardian.address);

  const registryAddress = await registry.getAddress();
  for (const s of [alice, bob, carol]) {
    await token.connect(treasury).transfer(s.address, 100_000n * WAD);
    await token.connect(s).approve(registryAddress, ethers.MaxUint256);
  }

  const windowSource = (await (
    await ethers.getContractFactory("ReentrantCallback")
  ).deploy()) as unknown as ReentrantCallback;
  await windowSource.setAnswer(WINDOW_SELECTOR, encodeWindow(3n * DAY));

  return {
    token,
    models,
    registry,
    windowSource,
    admin,
    treasury,
    coordinator,
    slasher,
    guardian,
    alice,
    bob,
    carol,
    aliceSigner,
    bobSigner,
    recipient,
    outsider,
  };
}

/** {@link registryFixture} with alice registered at `registeredAt`: 5,000-token bond, LLAMA and QWEN offered. */
async function registeredFixture() {
  const f = await registryFixture();
  const registeredAt = (await latest()) + 10n;
  await at(registeredAt, () =>
    f.registry
      .connect(f.alice)
      .register(
        BOND,
        "https://alice.example",
        f.aliceSigner.address,
        [LLAMA, QWEN],
        [LLAMA_PRICE, QWEN_PRICE],
      ),
  );
  return { ...f, registeredAt };
}

/** {@link registryFixture} plus 30 more active models: 33 in all, one more than a provider may offer. */
async function manyModelsFixture() {
  const f = await registryFixture();
  const extra: string[] = [];
  for (let i = 0; i < 30; ++i) {
    const id = ethers.encodeBytes32String(`model-${i}`);
    await f.models
      .connect(f.admin)
      .registerModel(id, ethers.id(`model-${i}.gguf`), `Model ${i}`, "", "1 unit");
    extra.push(id);
  }
  const all = [LLAMA, QWEN, MISTRAL, ...extra]; // 33 ids
  return { ...f, all };
}

describe("ProviderRegistry", () => {
  describe("deployment", () => {
    it("is wired by CinderMarket to the token and ModelRegistry with minBond 1,000 tokens and 7-day unbonding", async () => {
      const { registry, token, models, admin, outsider } = await loadFixture(registryFixture);
      expect(await registry.token()).to.equal(await token.getAddress());
      expect(await registry.models()).to.equal(await models.getAddress());
      expect(await registry.minBond()).to.equal(MIN_BOND);
      expect(await registry.unbondingPeriod()).to.equal(UNBONDING);
      expect(await registry.slashableWindow()).to.equal(0n);
      expect(await registry.MAX_MODELS()).to.equal(MAX_MODELS);
      expect(await registry.COORDINATOR_ROLE()).to.equal(ethers.id("COORDINATOR_ROLE"));
      expect(await registry.SLASHER_ROLE()).to.equal(ethers.id("SLASHER_ROLE"));
      expect(await registry.GUARDIAN_ROLE()).to.equal(ethers.id("GUARDIAN_ROLE"));
      expect(await registry.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await registry.hasRole(ROLES.DEFAULT_ADMIN, outsider.address)).to.equal(false);
      expect(await registry.paused()).to.equal(false);
      expect(await recordOf(registry, outsider.address)).to.deep.equal(EMPTY_RECORD);
    });

    it("emits ParameterUpdated for minBond and unbondingPeriod from zero to the constructor values", async () => {
      const { token, models, admin } = await loadFixture(registryFixture);
      const factory = await ethers.getContractFactory("ProviderRegistry");
      const registry = await factory.deploy(
        await token.getAddress(),
        await models.getAddress(),
        admin.address,
        7n,
        DAY,
      );
      const deployment = registry.deploymentTransaction();
      await expect(deployment).to.emit(registry, "ParameterUpdated").withArgs(MIN_BOND_PARAM, 0n, 7n);
      await expect(deployment).to.emit(registry, "ParameterUpdated").withArgs(UNBONDING_PARAM, 0n, DAY);
    });

    it("rejects a zero token, ModelRegistry or admin with ZeroAddress", async () => {
      const { token, models, admin } = await loadFixture(registryFixture);
      const factory = await ethers.getContractFactory("ProviderRegistry");
      const t = await token.getAddress();
      const m = await models.getAddress();
      const zero = ethers.ZeroAddress;
      for (const args of [
        [zero, m, admin.address],
        [t, zero, admin.address],
        [t, m, zero],
      ] as const) {
        await expect(
          factory.deploy(args[0], args[1], args[2], MIN_BOND, UNBONDING),
        ).to.be.revertedWithCustomError(factory, "ZeroAddress");
      }
    });

    it("accepts a minimum bond from 1 to 1e27 and rejects 0 and 1e27 + 1 with ParameterOutOfBounds", async () => {
      const { token, models, admin } = await loadFixture(registryFixture);
      const factory = await ethers.getContractFactory("ProviderRegistry");
      const t = await token.getAddress();
      const m = await models.getAddress();
      for (const bad of [0n, MAX_MIN_BOND + 1n]) {
        await expect(factory.deploy(t, m, admin.address, bad, UNBONDING))
          .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
          .withArgs(MIN_BOND_PARAM, bad, 1n, MAX_MIN_BOND);
      }
      for (const good of [1n, MAX_MIN_BOND]) {
        const registry = await factory.deploy(t, m, admin.address, good, UNBONDING);
        expect(await registry.minBond()).to.equal(good);
      }
    });

    it("accepts an unbonding period from 0 to 365 days and rejects 365 days + 1 second with ParameterOutOfBounds", async () => {
      const { token, models, admin } = await loadFixture(registryFixture);
      const factory = await ethers.getContractFactory("ProviderRegistry");
      const t = await token.getAddress();
      const m = await models.getAddress();
      await expect(factory.deploy(t, m, admin.address, MIN_BOND, MAX_UNBONDING + 1n))
        .to.be.revertedWithCustomError(factory, "ParameterOutOfBounds")
        .withArgs(UNBONDING_PARAM, MAX_UNBONDING + 1n, 0n, MAX_UNBONDING);
      for (const good of [0n, MAX_UNBONDING]) {
        const registry = await factory.deploy(t, m, admin.address, MIN_BOND, good);
        expect(await registry.unbondingPeriod()).to.equal(good);
      }
    });
  });

  describe("register", () => {
    it("pulls the bond, stores an Active record with its offers and emits ProviderRegistered and OfferUpdated", async () => {
      const { registry, token, alice, aliceSigner } = await loadFixture(registryFixture);
      const t = (await latest()) + 50n;
      const tx = at(t, () =>
        registry
          .connect(alice)
          .register(
            BOND,
            "https://alice.example",
            aliceSigner.address,
            [LLAMA, QWEN],
            [LLAMA_PRICE, QWEN_PRICE],
          ),
      );
      await expect(tx)
        .to.emit(registry, "ProviderRegistered")
        .withArgs(alice.address, BOND, aliceSigner.address, "https://alice.example");
      await expect(tx).to.emit(registry, "OfferUpdated").withArgs(alice.address, LLAMA, LLAMA_PRICE);
      await expect(tx).to.emit(registry, "OfferUpdated").withArgs(alice.address, QWEN, QWEN_PRICE);
      await expect(tx).to.changeTokenBalances(token, [alice, registry], [-BOND, BOND]);

      expect(await recordOf(registry, alice.address)).to.deep.equal({
        status: ACTIVE,
        signer: aliceSigner.address,
        registeredAt: t,
        unbondingEnds: 0n,
        jailedUntil: 0n,
        bond: BOND,
        locked: 0n,
        metadataURI: "https://alice.example",
      });
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA, QWEN]);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(LLAMA_PRICE);
      expect(await registry.priceOf(alice.address, QWEN)).to.equal(QWEN_PRICE);
      expect(await registry.priceOf(alice.address, MISTRAL)).to.equal(0n);
      expect(await registry.freeBond(alice.address)).to.equal(BOND);
    });

    it("accepts a bond of exactly minBond and rejects minBond − 1 with BondTooSmall", async () => {
      const { registry, token, alice, bob, aliceSigner } = await loadFixture(registryFixture);
      await expect(registry.connect(alice).register(MIN_BOND - 1n, "", aliceSigner.address, [], []))
        .to.be.revertedWithCustomError(registry, "BondTooSmall")
        .withArgs(MIN_BOND - 1n, MIN_BOND);
      await expect(
        registry.connect(bob).register(MIN_BOND, "", aliceSigner.address, [], []),
      ).to.changeTokenBalances(token, [bob, registry], [-MIN_BOND, MIN_BOND]);
      expect((await registry.getProvider(bob.address)).bond).to.equal(MIN_BOND);
    });

    it("registers with no offers at all, leaving the provider eligible for nothing", async () => {
      const { registry, alice, aliceSigner } = await loadFixture(registryFixture);
      await registry.connect(alice).register(MIN_BOND, "", aliceSigner.address, [], []);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([]);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      expect((await registry.getProvider(alice.address)).status).to.equal(ACTIVE);
    });

    it("rejects a zero attestation signer with ZeroAddress", async () => {
      const { registry, alice } = await loadFixture(registryFixture);
      await expect(
        registry.connect(alice).register(BOND, "", ethers.ZeroAddress, [LLAMA], [LLAMA_PRICE]),
      ).to.be.revertedWithCustomError(registry, "ZeroAddress");
    });

    it("rejects an Active provider registering again with AlreadyRegistered", async () => {
      const { registry, token, alice, aliceSigner } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).register(BOND, "", aliceSigner.address, [], []))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(alice.address);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(BOND);
    });

    it("rejects an Exiting provider registering again with AlreadyRegistered (it must withdraw first)", async () => {
      const { registry, alice, aliceSigner } = await loadFixture(registeredFixture);
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING + 1n);
      await expect(registry.connect(alice).register(BOND, "", aliceSigner.address, [], []))
        .to.be.revertedWithCustomError(registry, "AlreadyRegistered")
        .withArgs(alice.address);
      expect((await registry.getProvider(alice.address)).status).to.equal(EXITING);
    });

    it("rejects model and price arrays of different lengths with InvalidOffer(models, prices)", async () => {
      const { registry, alice, aliceSigner } = await loadFixture(registryFixture);
      await expect(
        registry.connect(alice).register(BOND, "", aliceSigner.address, [LLAMA, QWEN], [LLAMA_PRICE]),
      )
        .to.be.revertedWithCustomError(registry, "InvalidOffer")
        .withArgs(2n, 1n);
      await expect(registry.connect(alice).register(BOND, "", aliceSigner.address, [], [LLAMA_PRICE]))
        .to.be.revertedWithCustomError(registry, "InvalidOffer")
        .withArgs(0n, 1n);
    });

    it("rejects a priced offer for a deactivated or unregistered model with ModelNotActive", async () => {
      const { registry, models, admin, alice, aliceSigner } = await loadFixture(registryFixture);
      await models.connect(admin).setActive(QWEN, false);
      await expect(
        registry
          .connect(alice)
          .register(BOND, "", aliceSigner.address, [LLAMA, QWEN], [LLAMA_PRICE, QWEN_PRICE]),
      )
        .to.be.revertedWithCustomError(registry, "ModelNotActive")
        .withArgs(QWEN);
      await expect(registry.connect(alice).register(BOND, "", aliceSigner.address, [UNKNOWN], [1n]))
        .to.be.revertedWithCustomError(registry, "ModelNotActive")
        .withArgs(UNKNOWN);
    });

    it("ignores price-0 entries: they add no offer and need no active model", async () => {
      const { registry, models, admin, alice, aliceSigner } = await loadFixture(registryFixture);
      await models.connect(admin).setActive(QWEN, false);
      const tx = registry
        .connect(alice)
        .register(BOND, "", aliceSigner.address, [LLAMA, QWEN, UNKNOWN], [LLAMA_PRICE, 0n, 0n]);
      await expect(tx).to.emit(registry, "OfferUpdated").withArgs(alice.address, QWEN, 0n);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA]);
      expect(await registry.priceOf(alice.address, QWEN)).to.equal(0n);
      expect(await registry.priceOf(alice.address, UNKNOWN)).to.equal(0n);
    });

    it("lists a model named twice once, at the last price given", async () => {
      const { registry, alice, aliceSigner } = await loadFixture(registryFixture);
      await registry
        .connect(alice)
        .register(BOND, "", aliceSigner.address, [LLAMA, LLAMA], [LLAMA_PRICE, 7n]);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA]);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(7n);
    });

    it("accepts exactly MAX_MODELS = 32 offers and rejects 33 with InvalidOffer(33, 32)", async () => {
      const { registry, alice, bob, aliceSigner, all } = await loadFixture(manyModelsFixture);
      const prices = all.map(() => LLAMA_PRICE);
      await expect(registry.connect(alice).register(BOND, "", aliceSigner.address, all, prices))
        .to.be.revertedWithCustomError(registry, "InvalidOffer")
        .withArgs(33n, MAX_MODELS);
      await registry
        .connect(bob)
        .register(BOND, "", aliceSigner.address, all.slice(0, 32), prices.slice(0, 32));
      expect(await registry.offeredModels(bob.address)).to.deep.equal(all.slice(0, 32));
    });

    it("fails in the token transfer when the provider has not approved the bond", async () => {
      const { registry, token, treasury, outsider, aliceSigner } = await loadFixture(registryFixture);
      await token.connect(treasury).transfer(outsider.address, BOND);
      await expect(registry.connect(outsider).register(BOND, "", aliceSigner.address, [], []))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(await registry.getAddress(), 0n, BOND);
    });
  });

  describe("increaseBond", () => {
    it("pulls the amount, adds it to the bond and the free bond, and emits BondIncreased with the new bond", async () => {
      const { registry, token, alice } = await loadFixture(registeredFixture);
      const tx = registry.connect(alice).increaseBond(250n * WAD);
      await expect(tx)
        .to.emit(registry, "BondIncreased")
        .withArgs(alice.address, 250n * WAD, BOND + 250n * WAD);
      await expect(tx).to.changeTokenBalances(token, [alice, registry], [-250n * WAD, 250n * WAD]);
      expect((await registry.getProvider(alice.address)).bond).to.equal(BOND + 250n * WAD);
      expect(await registry.freeBond(alice.address)).to.equal(BOND + 250n * WAD);
    });

    it("rejects a zero amount with ZeroAmount", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).increaseBond(0n)).to.be.revertedWithCustomError(
        registry,
        "ZeroAmount",
      );
    });

    it("rejects an unregistered or Exiting caller with InvalidStatus", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(bob).increaseBond(1n))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(alice).increaseBond(1n))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, EXITING);
    });
  });

  describe("updateOffer", () => {
    it("adds a new model, changes a price without listing the model twice, and emits OfferUpdated", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).updateOffer([MISTRAL], [MISTRAL_PRICE]))
        .to.emit(registry, "OfferUpdated")
        .withArgs(alice.address, MISTRAL, MISTRAL_PRICE);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA, QWEN, MISTRAL]);

      await expect(registry.connect(alice).updateOffer([LLAMA], [3n * LLAMA_PRICE]))
        .to.emit(registry, "OfferUpdated")
        .withArgs(alice.address, LLAMA, 3n * LLAMA_PRICE);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(3n * LLAMA_PRICE);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA, QWEN, MISTRAL]);
    });

    it("withdraws an offer with price 0: offeredModels shrinks and the provider is no longer eligible for it", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await registry.connect(alice).updateOffer([MISTRAL], [MISTRAL_PRICE]);
      await expect(registry.connect(alice).updateOffer([LLAMA], [0n]))
        .to.emit(registry, "OfferUpdated")
        .withArgs(alice.address, LLAMA, 0n);
      const offered = [...(await registry.offeredModels(alice.address))];
      expect(offered).to.have.lengthOf(2);
      expect(offered).to.have.members([QWEN, MISTRAL]);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(0n);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      expect(await registry.isEligible(alice.address, QWEN)).to.equal(true);

      // Removing the last entry of the list works as well.
      await registry.connect(alice).updateOffer([QWEN, MISTRAL], [0n, 0n]);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([]);
    });

    it("lists a withdrawn model again, once, when it is re-offered", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await registry.connect(alice).updateOffer([LLAMA], [0n]);
      await registry.connect(alice).updateOffer([LLAMA], [LLAMA_PRICE + 1n]);
      const offered = [...(await registry.offeredModels(alice.address))];
      expect(offered).to.have.lengthOf(2);
      expect(offered).to.have.members([LLAMA, QWEN]);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(LLAMA_PRICE + 1n);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(true);
    });

    it("treats price 0 for a model not offered as a no-op", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await registry.connect(alice).updateOffer([MISTRAL, UNKNOWN], [0n, 0n]);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA, QWEN]);
    });

    it("lets a provider withdraw its offer for a model the ModelRegistry has deactivated", async () => {
      const { registry, models, admin, alice } = await loadFixture(registeredFixture);
      await models.connect(admin).setActive(LLAMA, false);
      await registry.connect(alice).updateOffer([LLAMA], [0n]);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([QWEN]);
    });

    it("rejects a price > 0 for a deactivated model with ModelNotActive, also for a model already offered", async () => {
      const { registry, models, admin, alice } = await loadFixture(registeredFixture);
      await models.connect(admin).setActive(MISTRAL, false);
      await expect(registry.connect(alice).updateOffer([MISTRAL], [MISTRAL_PRICE]))
        .to.be.revertedWithCustomError(registry, "ModelNotActive")
        .withArgs(MISTRAL);
      await models.connect(admin).setActive(LLAMA, false);
      await expect(registry.connect(alice).updateOffer([LLAMA], [2n * LLAMA_PRICE]))
        .to.be.revertedWithCustomError(registry, "ModelNotActive")
        .withArgs(LLAMA);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(LLAMA_PRICE);
    });

    it("rejects model and price arrays of different lengths with InvalidOffer(models, prices)", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).updateOffer([LLAMA], [1n, 2n, 3n]))
        .to.be.revertedWithCustomError(registry, "InvalidOffer")
        .withArgs(1n, 3n);
    });

    it("rejects an unregistered or Exiting caller with InvalidStatus", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(bob).updateOffer([LLAMA], [LLAMA_PRICE]))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(alice).updateOffer([LLAMA], [0n]))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, EXITING);
    });

    it("counts MAX_MODELS on the offer after the whole update: a 33rd model is refused, a swap at 32 is not", async () => {
      const { registry, alice, aliceSigner, all } = await loadFixture(manyModelsFixture);
      const first32 = all.slice(0, 32);
      const last = all[32];
      await registry.connect(alice).register(
        BOND,
        "",
        aliceSigner.address,
        first32,
        first32.map(() => 1n),
      );
      await expect(registry.connect(alice).updateOffer([last], [1n]))
        .to.be.revertedWithCustomError(registry, "InvalidOffer")
        .withArgs(33n, MAX_MODELS);
      // Adding the 33rd first and withdrawing another in the same call ends at 32: accepted.
      await registry.connect(alice).updateOffer([last, all[0]], [1n, 0n]);
      const offered = [...(await registry.offeredModels(alice.address))];
      expect(offered).to.have.lengthOf(32);
      expect(offered).to.include(last);
      expect(offered).to.not.include(all[0]);
    });
  });

  describe("setSigner", () => {
    it("rotates the attestation signer and emits SignerUpdated(previous, current)", async () => {
      const { registry, alice, aliceSigner, bobSigner } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).setSigner(bobSigner.address))
        .to.emit(registry, "SignerUpdated")
        .withArgs(alice.address, aliceSigner.address, bobSigner.address);
      expect((await registry.getProvider(alice.address)).signer).to.equal(bobSigner.address);
    });

    it("rejects the zero address with ZeroAddress", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).setSigner(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        registry,
        "ZeroAddress",
      );
    });

    it("rejects an unregistered or Exiting caller with InvalidStatus", async () => {
      const { registry, alice, bob, bobSigner } = await loadFixture(registeredFixture);
      await expect(registry.connect(bob).setSigner(bobSigner.address))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(alice).setSigner(bobSigner.address))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, EXITING);
    });
  });

  describe("setMetadataURI", () => {
    it("replaces the metadata URI and emits MetadataUpdated", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(alice).setMetadataURI("https://alice.example/v2"))
        .to.emit(registry, "MetadataUpdated")
        .withArgs(alice.address, "https://alice.example/v2");
      expect((await registry.getProvider(alice.address)).metadataURI).to.equal("https://alice.example/v2");
    });

    it("rejects an unregistered or Exiting caller with InvalidStatus", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(bob).setMetadataURI("x"))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(alice).setMetadataURI("x"))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, EXITING);
    });
  });

  describe("requestExit", () => {
    it("moves the provider to Exiting with unbondingEnds = now + unbondingPeriod and emits ExitRequested", async () => {
      const { registry, alice, aliceSigner, registeredAt } = await loadFixture(registeredFixture);
      const t = registeredAt + 1_000n;
      await expect(at(t, () => registry.connect(alice).requestExit()))
        .to.emit(registry, "ExitRequested")
        .withArgs(alice.address, t + UNBONDING);
      expect(await recordOf(registry, alice.address)).to.deep.equal({
        status: EXITING,
        signer: aliceSigner.address,
        registeredAt,
        unbondingEnds: t + UNBONDING,
        jailedUntil: 0n,
        bond: BOND,
        locked: 0n,
        metadataURI: "https://alice.example",
      });
      // The offers stay recorded but the provider takes no new job.
      expect(await registry.offeredModels(alice.address)).to.deep.equal([LLAMA, QWEN]);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
    });

    it("rejects an unregistered caller and a second request with InvalidStatus", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(bob).requestExit())
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(alice).requestExit())
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, EXITING);
    });

    it("uses the unbonding period when it is longer than the slashable window", async () => {
      const { registry, windowSource, admin, alice } = await loadFixture(registeredFixture);
      await registry.connect(admin).setSlashingWindowSource(await windowSource.getAddress()); // 3 days
      const t = (await latest()) + 10n;
      await expect(at(t, () => registry.connect(alice).requestExit()))
        .to.emit(registry, "ExitRequested")
        .withArgs(alice.address, t + UNBONDING);
    });

    it("counts a window source that reverts, answers garbage or answers absurdly long as 365 days, so exits still work", async () => {
      const { registry, windowSource, admin, alice } = await loadFixture(registeredFixture);
      await registry.connect(admin).setSlashingWindowSource(await windowSource.getAddress());
      const YEAR = 365n * DAY;
      await windowSource.setAnswer(WINDOW_SELECTOR, encodeWindow(ethers.MaxUint256));
      expect(await registry.slashableWindow()).to.equal(YEAR);
      await windowSource.setAnswer(WINDOW_SELECTOR, "0x01"); // not an ABI-encoded uint256
      expect(await registry.slashableWindow()).to.equal(YEAR);
      // armed to call back into the registry with a call that reverts (withdrawBond by a non-exiting caller)
      await windowSource.arm(
        await registry.getAddress(),
        registry.interface.encodeFunctionData("withdrawBond"),
        WINDOW_SELECTOR,
      );
      expect(await registry.slashableWindow()).to.equal(YEAR);
      const t = (await latest()) + 10n;
      await expect(at(t, () => registry.connect(alice).requestExit()))
        .to.emit(registry, "ExitRequested")
        .withArgs(alice.address, t + YEAR);
      await time.setNextBlockTimestamp(t + YEAR);
      await expect(registry.connect(alice).withdrawBond()).to.emit(registry, "BondWithdrawn");
    });

    it("uses the slashable window when the source's window has grown beyond the unbonding period", async () => {
      const { registry, windowSource, admin, alice } = await loadFixture(registeredFixture);
      await registry.connect(admin).setSlashingWindowSource(await windowSource.getAddress());
      // The coordinator's window grows after the source was set: 10 days > 7 days.
      await windowSource.setAnswer(WINDOW_SELECTOR, encodeWindow(10n * DAY));
      expect(await registry.slashableWindow()).to.equal(10n * DAY);
      const t = (await latest()) + 10n;
      await expect(at(t, () => registry.connect(alice).requestExit()))
        .to.emit(registry, "ExitRequested")
        .withArgs(alice.address, t + 10n * DAY);
      await time.setNextBlockTimestamp(t + UNBONDING);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "UnbondingNotElapsed")
        .withArgs(alice.address, t + 10n * DAY, t + UNBONDING);
    });

    it("fixes unbondingEnds at request time: a later change of the unbonding period does not move it", async () => {
      const { registry, admin, alice } = await loadFixture(registeredFixture);
      const t = (await latest()) + 10n;
      await at(t, () => registry.connect(alice).requestExit());
      await registry.connect(admin).setUnbondingPeriod(30n * DAY);
      expect((await registry.getProvider(alice.address)).unbondingEnds).to.equal(t + UNBONDING);
    });
  });

  describe("withdrawBond", () => {
    it("refuses one second before unbondingEnds with UnbondingNotElapsed and pays the whole bond at unbondingEnds", async () => {
      const { registry, token, alice } = await loadFixture(registeredFixture);
      const t = (await latest()) + 10n;
      await at(t, () => registry.connect(alice).requestExit());
      const ends = t + UNBONDING;

      await time.setNextBlockTimestamp(ends - 1n);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "UnbondingNotElapsed")
        .withArgs(alice.address, ends, ends - 1n);

      await time.setNextBlockTimestamp(ends);
      const tx = registry.connect(alice).withdrawBond();
      await expect(tx).to.emit(registry, "BondWithdrawn").withArgs(alice.address, BOND);
      await expect(tx).to.changeTokenBalances(token, [registry, alice], [-BOND, BOND]);
    });

    it("returns the amount paid out", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      expect(await registry.connect(alice).withdrawBond.staticCall()).to.equal(BOND);
    });

    it("clears the record and every offer, so the provider can register again from scratch", async () => {
      const { registry, token, alice, bobSigner } = await loadFixture(registeredFixture);
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      await registry.connect(alice).withdrawBond();

      expect(await recordOf(registry, alice.address)).to.deep.equal(EMPTY_RECORD);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([]);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(0n);
      expect(await registry.priceOf(alice.address, QWEN)).to.equal(0n);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(0n);

      await registry
        .connect(alice)
        .register(MIN_BOND, "https://alice.example/new", bobSigner.address, [MISTRAL], [1n]);
      const record = await recordOf(registry, alice.address);
      expect(record.status).to.equal(ACTIVE);
      expect(record.bond).to.equal(MIN_BOND);
      expect(record.signer).to.equal(bobSigner.address);
      // The old offers are not resurrected.
      expect(await registry.offeredModels(alice.address)).to.deep.equal([MISTRAL]);
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(0n);
    });

    it("rejects an unregistered or Active caller, and a second withdrawal, with InvalidStatus", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(bob).withdrawBond())
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, ACTIVE);
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      await registry.connect(alice).withdrawBond();
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, NONE);
    });

    it("refuses with JobsStillOpen while any accepted job is unsettled, however long unbonding has elapsed", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 299n * WAD); // job 1
      await registry.connect(coordinator).lockCollateral(alice.address, 1n * WAD); // job 2
      await registry.connect(alice).requestExit();
      await time.increase(10n * UNBONDING);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "JobsStillOpen")
        .withArgs(alice.address, 2n);
      await registry.connect(coordinator).releaseCollateral(alice.address, 299n * WAD, 1n);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "JobsStillOpen")
        .withArgs(alice.address, 1n);
      await registry.connect(coordinator).releaseCollateral(alice.address, 1n * WAD, 1n);
      await expect(registry.connect(alice).withdrawBond())
        .to.emit(registry, "BondWithdrawn")
        .withArgs(alice.address, BOND);
    });

    it("keeps the bond in while a job is open even after a slash cut the locked collateral to zero", async () => {
      const { registry, coordinator, slasher, alice, recipient } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 2_000n * WAD); // job B
      await registry.connect(coordinator).lockCollateral(alice.address, 3_000n * WAD); // job A
      await registry.connect(slasher).slash(alice.address, 2_500n * WAD, recipient.address); // fault on B
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      // settling A releases all that is left locked, but B is still open
      await registry.connect(coordinator).releaseCollateral(alice.address, 3_000n * WAD, 1n);
      expect((await registry.getProvider(alice.address)).locked).to.equal(0n);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "JobsStillOpen")
        .withArgs(alice.address, 1n);
      await registry.connect(coordinator).releaseCollateral(alice.address, 2_000n * WAD, 1n);
      await expect(registry.connect(alice).withdrawBond())
        .to.emit(registry, "BondWithdrawn")
        .withArgs(alice.address, 2_500n * WAD);
    });

    it("refuses a release for a provider with no open job with NoOpenJobs", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 1n, 1n))
        .to.be.revertedWithCustomError(registry, "NoOpenJobs")
        .withArgs(alice.address);
    });

    it("pays nothing but still clears the record when the whole bond was slashed", async () => {
      const { registry, token, slasher, alice, recipient } = await loadFixture(registeredFixture);
      await registry.connect(slasher).slash(alice.address, BOND, recipient.address);
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      const tx = registry.connect(alice).withdrawBond();
      await expect(tx).to.emit(registry, "BondWithdrawn").withArgs(alice.address, 0n);
      await expect(tx).to.not.emit(token, "Transfer");
      expect(await recordOf(registry, alice.address)).to.deep.equal(EMPTY_RECORD);
      expect(await registry.offeredModels(alice.address)).to.deep.equal([]);
    });
  });

  describe("lockCollateral", () => {
    it("locks part of the free bond, emits CollateralLocked with the total locked, and lowers freeBond", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await expect(registry.connect(coordinator).lockCollateral(alice.address, 1_200n * WAD))
        .to.emit(registry, "CollateralLocked")
        .withArgs(alice.address, 1_200n * WAD, 1_200n * WAD);
      await expect(registry.connect(coordinator).lockCollateral(alice.address, 800n * WAD))
        .to.emit(registry, "CollateralLocked")
        .withArgs(alice.address, 800n * WAD, 2_000n * WAD);
      const record = await registry.getProvider(alice.address);
      expect(record.locked).to.equal(2_000n * WAD);
      expect(record.bond).to.equal(BOND);
      expect(await registry.freeBond(alice.address)).to.equal(3_000n * WAD);
    });

    it("locks the free bond exactly and refuses a wei more with InsufficientFreeBond(provider, free, needed)", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 2_000n * WAD);
      await expect(registry.connect(coordinator).lockCollateral(alice.address, 3_000n * WAD + 1n))
        .to.be.revertedWithCustomError(registry, "InsufficientFreeBond")
        .withArgs(alice.address, 3_000n * WAD, 3_000n * WAD + 1n);
      await registry.connect(coordinator).lockCollateral(alice.address, 3_000n * WAD);
      expect(await registry.freeBond(alice.address)).to.equal(0n);
      await expect(registry.connect(coordinator).lockCollateral(alice.address, 1n))
        .to.be.revertedWithCustomError(registry, "InsufficientFreeBond")
        .withArgs(alice.address, 0n, 1n);
    });

    it("rejects a zero amount with ZeroAmount", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await expect(
        registry.connect(coordinator).lockCollateral(alice.address, 0n),
      ).to.be.revertedWithCustomError(registry, "ZeroAmount");
    });

    it("rejects an unregistered or Exiting provider with InvalidStatus", async () => {
      const { registry, coordinator, alice, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(coordinator).lockCollateral(bob.address, 1n))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(coordinator).lockCollateral(alice.address, 1n))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(alice.address, EXITING);
    });

    it("can be called only by COORDINATOR_ROLE", async () => {
      const { registry, slasher, alice, outsider } = await loadFixture(registeredFixture);
      for (const caller of [slasher, alice, outsider]) {
        await expect(registry.connect(caller).lockCollateral(alice.address, 1n))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.COORDINATOR);
      }
    });
  });

  describe("releaseCollateral", () => {
    it("releases locked collateral, emits CollateralReleased with what remains locked, and returns the amount", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 2_000n * WAD);
      expect(
        await registry.connect(coordinator).releaseCollateral.staticCall(alice.address, 500n * WAD, 1n),
      ).to.equal(500n * WAD);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 500n * WAD, 1n))
        .to.emit(registry, "CollateralReleased")
        .withArgs(alice.address, 500n * WAD, 1_500n * WAD);
      expect((await registry.getProvider(alice.address)).locked).to.equal(1_500n * WAD);
      expect(await registry.freeBond(alice.address)).to.equal(3_500n * WAD);
    });

    it("saturates at the locked amount when asked to release more", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 2_000n * WAD);
      expect(
        await registry.connect(coordinator).releaseCollateral.staticCall(alice.address, 9_000n * WAD, 1n),
      ).to.equal(2_000n * WAD);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 9_000n * WAD, 1n))
        .to.emit(registry, "CollateralReleased")
        .withArgs(alice.address, 2_000n * WAD, 0n);
      expect(await registry.freeBond(alice.address)).to.equal(BOND);
    });

    it("releases only what a slash left locked, returning that smaller amount", async () => {
      const { registry, coordinator, slasher, alice, recipient } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 4_000n * WAD);
      await registry.connect(slasher).slash(alice.address, 3_000n * WAD, recipient.address); // bond 2,000, locked cut to 2,000
      expect(
        await registry.connect(coordinator).releaseCollateral.staticCall(alice.address, 4_000n * WAD, 1n),
      ).to.equal(2_000n * WAD);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 4_000n * WAD, 1n))
        .to.emit(registry, "CollateralReleased")
        .withArgs(alice.address, 2_000n * WAD, 0n);
      expect(await registry.freeBond(alice.address)).to.equal(2_000n * WAD);
    });

    it("releases collateral of an Exiting provider, and refuses a release for an unknown provider", async () => {
      const { registry, coordinator, alice, bob } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 100n * WAD);
      await registry.connect(alice).requestExit();
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 100n * WAD, 1n))
        .to.emit(registry, "CollateralReleased")
        .withArgs(alice.address, 100n * WAD, 0n);
      expect((await registry.getProvider(alice.address)).openJobs).to.equal(0n);
      await expect(registry.connect(coordinator).releaseCollateral(bob.address, 1n, 1n))
        .to.be.revertedWithCustomError(registry, "NoOpenJobs")
        .withArgs(bob.address);
    });

    it("can be called only by COORDINATOR_ROLE", async () => {
      const { registry, slasher, alice, outsider } = await loadFixture(registeredFixture);
      for (const caller of [slasher, alice, outsider]) {
        await expect(registry.connect(caller).releaseCollateral(alice.address, 1n, 1n))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.COORDINATOR);
      }
    });

    it("closes several jobs at once (a batch settlement): openJobs falls by `jobs` and their summed collateral is released", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      const jobs = [1_000n * WAD, 500n * WAD, 250n * WAD];
      for (const collateral of jobs)
        await registry.connect(coordinator).lockCollateral(alice.address, collateral);
      expect((await registry.getProvider(alice.address)).openJobs).to.equal(3n);

      const batch = jobs[0] + jobs[1];
      expect(
        await registry.connect(coordinator).releaseCollateral.staticCall(alice.address, batch, 2n),
      ).to.equal(batch);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, batch, 2n))
        .to.emit(registry, "CollateralReleased")
        .withArgs(alice.address, batch, jobs[2]);
      const record = await registry.getProvider(alice.address);
      expect(record.openJobs).to.equal(1n);
      expect(record.locked).to.equal(jobs[2]);
      expect(await registry.freeBond(alice.address)).to.equal(BOND - jobs[2]);

      // The job left open still holds the bond in.
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "JobsStillOpen")
        .withArgs(alice.address, 1n);
      await registry.connect(coordinator).releaseCollateral(alice.address, jobs[2], 1n);
      await expect(registry.connect(alice).withdrawBond())
        .to.emit(registry, "BondWithdrawn")
        .withArgs(alice.address, BOND);
    });

    it("rejects jobs = 0 with ZeroAmount and changes nothing", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 100n * WAD);
      await expect(
        registry.connect(coordinator).releaseCollateral(alice.address, 100n * WAD, 0n),
      ).to.be.revertedWithCustomError(registry, "ZeroAmount");
      const record = await registry.getProvider(alice.address);
      expect(record.openJobs).to.equal(1n);
      expect(record.locked).to.equal(100n * WAD);
    });

    it("refuses to close more jobs than are open with NoOpenJobs(provider), and closes exactly all of them", async () => {
      const { registry, coordinator, alice } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 100n * WAD);
      await registry.connect(coordinator).lockCollateral(alice.address, 200n * WAD);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 300n * WAD, 3n))
        .to.be.revertedWithCustomError(registry, "NoOpenJobs")
        .withArgs(alice.address);
      expect((await registry.getProvider(alice.address)).openJobs).to.equal(2n);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 300n * WAD, 2n))
        .to.emit(registry, "CollateralReleased")
        .withArgs(alice.address, 300n * WAD, 0n);
      const record = await registry.getProvider(alice.address);
      expect(record.openJobs).to.equal(0n);
      expect(record.locked).to.equal(0n);
      await expect(registry.connect(coordinator).releaseCollateral(alice.address, 0n, 1n))
        .to.be.revertedWithCustomError(registry, "NoOpenJobs")
        .withArgs(alice.address);
    });
  });

  describe("slash", () => {
    it("sends the slashed tokens to the recipient, lowers the bond, emits Slashed and returns the amount", async () => {
      const { registry, token, slasher, alice, recipient } = await loadFixture(registeredFixture);
      expect(
        await registry.connect(slasher).slash.staticCall(alice.address, 400n * WAD, recipient.address),
      ).to.equal(400n * WAD);
      const tx = registry.connect(slasher).slash(alice.address, 400n * WAD, recipient.address);
      await expect(tx)
        .to.emit(registry, "Slashed")
        .withArgs(alice.address, recipient.address, 400n * WAD, BOND - 400n * WAD);
      await expect(tx).to.changeTokenBalances(token, [registry, recipient], [-400n * WAD, 400n * WAD]);
      expect((await registry.getProvider(alice.address)).bond).to.equal(BOND - 400n * WAD);
      expect((await registry.getProvider(alice.address)).status).to.equal(ACTIVE);
    });

    it("burns the slashed tokens when the recipient is the zero address: the token supply falls", async () => {
      const { registry, token, slasher, alice } = await loadFixture(registeredFixture);
      const supply = await token.totalSupply();
      const tx = registry.connect(slasher).slash(alice.address, 700n * WAD, ethers.ZeroAddress);
      await expect(tx)
        .to.emit(registry, "Slashed")
        .withArgs(alice.address, ethers.ZeroAddress, 700n * WAD, BOND - 700n * WAD);
      await expect(tx).to.changeTokenBalance(token, registry, -700n * WAD);
      expect(await token.totalSupply()).to.equal(supply - 700n * WAD);
    });

    it("never takes more than the bond: the cut is capped and returned, and other providers' bonds are untouched", async () => {
      const { registry, token, slasher, alice, bob, aliceSigner, recipient } =
        await loadFixture(registeredFixture);
      await registry.connect(bob).register(2_000n * WAD, "", aliceSigner.address, [], []);
      expect(
        await registry.connect(slasher).slash.staticCall(alice.address, 3n * BOND, recipient.address),
      ).to.equal(BOND);
      const tx = registry.connect(slasher).slash(alice.address, 3n * BOND, recipient.address);
      await expect(tx).to.emit(registry, "Slashed").withArgs(alice.address, recipient.address, BOND, 0n);
      await expect(tx).to.changeTokenBalances(token, [registry, recipient], [-BOND, BOND]);
      expect((await registry.getProvider(alice.address)).bond).to.equal(0n);
      expect((await registry.getProvider(bob.address)).bond).to.equal(2_000n * WAD);
      expect(await token.balanceOf(await registry.getAddress())).to.equal(2_000n * WAD);

      // Nothing is left to take: a further slash returns 0, moves nothing and emits nothing.
      expect(await registry.connect(slasher).slash.staticCall(alice.address, 1n, recipient.address)).to.equal(
        0n,
      );
      const again = registry.connect(slasher).slash(alice.address, 1n, recipient.address);
      await expect(again).to.not.emit(registry, "Slashed");
      await expect(again).to.changeTokenBalance(token, registry, 0n);
    });

    it("cuts the locked collateral down to the remaining bond, and leaves it when it still fits", async () => {
      const { registry, coordinator, slasher, alice, recipient } = await loadFixture(registeredFixture);
      await registry.connect(coordinator).lockCollateral(alice.address, 1_000n * WAD);
      await registry.connect(slasher).slash(alice.address, 2_000n * WAD, recipient.address);
      let record = await registry.getProvider(alice.address);
      expect(record.bond).to.equal(3_000n * WAD);
      expect(record.locked).to.equal(1_000n * WAD);

      await registry.connect(slasher).slash(alice.address, 2_500n * WAD, recipient.address);
      record = await registry.getProvider(alice.address);
      expect(record.bond).to.equal(500n * WAD);
      expect(record.locked).to.equal(500n * WAD);
      expect(await registry.freeBond(alice.address)).to.equal(0n);
    });

    it("reaches an Exiting provider, who cannot escape a slash by exiting", async () => {
      const { registry, token, slasher, alice, recipient } = await loadFixture(registeredFixture);
      await registry.connect(alice).requestExit();
      await time.increase(DAY);
      await expect(registry.connect(slasher).slash(alice.address, 1_500n * WAD, recipient.address))
        .to.emit(registry, "Slashed")
        .withArgs(alice.address, recipient.address, 1_500n * WAD, BOND - 1_500n * WAD);
      await time.increase(UNBONDING);
      await expect(registry.connect(alice).withdrawBond()).to.changeTokenBalance(
        token,
        alice,
        BOND - 1_500n * WAD,
      );
    });

    it("returns 0 and moves nothing for an unknown provider or a zero amount", async () => {
      const { registry, token, slasher, alice, bob, recipient } = await loadFixture(registeredFixture);
      expect(await registry.connect(slasher).slash.staticCall(bob.address, BOND, recipient.address)).to.equal(
        0n,
      );
      await expect(registry.connect(slasher).slash(bob.address, BOND, recipient.address)).to.not.emit(
        registry,
        "Slashed",
      );
      expect(await registry.connect(slasher).slash.staticCall(alice.address, 0n, recipient.address)).to.equal(
        0n,
      );
      await expect(registry.connect(slasher).slash(alice.address, 0n, recipient.address)).to.not.emit(
        registry,
        "Slashed",
      );
      expect(await token.balanceOf(await registry.getAddress())).to.equal(BOND);
      expect((await registry.getProvider(alice.address)).bond).to.equal(BOND);
    });

    it("can be called only by SLASHER_ROLE", async () => {
      const { registry, coordinator, alice, outsider } = await loadFixture(registeredFixture);
      for (const caller of [coordinator, alice, outsider]) {
        await expect(registry.connect(caller).slash(alice.address, 1n, caller.address))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.SLASHER);
      }
    });
  });

  describe("jail", () => {
    it("bars the provider until `until`: isEligible is false one second before and true at `until`", async () => {
      const { registry, slasher, alice } = await loadFixture(registeredFixture);
      const until = (await latest()) + 1_000n;
      await expect(registry.connect(slasher).jail(alice.address, until))
        .to.emit(registry, "Jailed")
        .withArgs(alice.address, until);
      expect((await registry.getProvider(alice.address)).jailedUntil).to.equal(until);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      await time.increaseTo(until - 1n);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      await time.increaseTo(until);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(true);
    });

    it("never shortens a jail: an earlier `until` keeps the later one (and emits it), a later one extends", async () => {
      const { registry, slasher, alice } = await loadFixture(registeredFixture);
      const now = await latest();
      await registry.connect(slasher).jail(alice.address, now + 10n * DAY);
      await expect(registry.connect(slasher).jail(alice.address, now + DAY))
        .to.emit(registry, "Jailed")
        .withArgs(alice.address, now + 10n * DAY);
      expect((await registry.getProvider(alice.address)).jailedUntil).to.equal(now + 10n * DAY);
      await expect(registry.connect(slasher).jail(alice.address, now + 20n * DAY))
        .to.emit(registry, "Jailed")
        .withArgs(alice.address, now + 20n * DAY);
      expect((await registry.getProvider(alice.address)).jailedUntil).to.equal(now + 20n * DAY);
    });

    it("jails an Exiting provider too", async () => {
      const { registry, slasher, alice } = await loadFixture(registeredFixture);
      await registry.connect(alice).requestExit();
      const until = (await latest()) + DAY;
      await registry.connect(slasher).jail(alice.address, until);
      expect((await registry.getProvider(alice.address)).jailedUntil).to.equal(until);
    });

    it("rejects an unregistered provider with InvalidStatus", async () => {
      const { registry, slasher, bob } = await loadFixture(registeredFixture);
      await expect(registry.connect(slasher).jail(bob.address, (await latest()) + DAY))
        .to.be.revertedWithCustomError(registry, "InvalidStatus")
        .withArgs(bob.address, NONE);
    });

    it("rejects an `until` beyond uint64 with SafeCastOverflowedUintDowncast", async () => {
      const { registry, slasher, alice } = await loadFixture(registeredFixture);
      const tooLate = 2n ** 64n;
      await expect(registry.connect(slasher).jail(alice.address, tooLate))
        .to.be.revertedWithCustomError(registry, "SafeCastOverflowedUintDowncast")
        .withArgs(64, tooLate);
    });

    it("can be called only by SLASHER_ROLE", async () => {
      const { registry, coordinator, alice, outsider } = await loadFixture(registeredFixture);
      for (const caller of [coordinator, alice, outsider]) {
        await expect(registry.connect(caller).jail(alice.address, 1n))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.SLASHER);
      }
    });

    it("keeps a jailed provider ineligible until its jail ends, even after it exits and registers again", async () => {
      // Currently fails: withdrawBond deletes the whole record, jailedUntil included (see the report).
      const { registry, slasher, alice, aliceSigner } = await loadFixture(registeredFixture);
      const until = (await latest()) + 30n * DAY;
      await registry.connect(slasher).jail(alice.address, until);
      await registry.connect(alice).requestExit();
      await time.increase(UNBONDING);
      await registry.connect(alice).withdrawBond();
      await registry.connect(alice).register(BOND, "", aliceSigner.address, [LLAMA], [LLAMA_PRICE]);
      expect(await latest()).to.be.lessThan(until);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
    });
  });

  describe("isEligible", () => {
    it("is true for an Active, unjailed provider offering an active model", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(true);
      expect(await registry.isEligible(alice.address, QWEN)).to.equal(true);
    });

    it("is false for an unregistered provider and for an Exiting one", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      expect(await registry.isEligible(bob.address, LLAMA)).to.equal(false);
      await registry.connect(alice).requestExit();
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
    });

    it("is false while jailed", async () => {
      const { registry, slasher, alice } = await loadFixture(registeredFixture);
      await registry.connect(slasher).jail(alice.address, (await latest()) + DAY);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
    });

    it("is false for a model the provider does not offer", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      expect(await registry.isEligible(alice.address, MISTRAL)).to.equal(false);
      expect(await registry.isEligible(alice.address, UNKNOWN)).to.equal(false);
    });

    it("follows the model's activation in the ModelRegistry", async () => {
      const { registry, models, admin, alice } = await loadFixture(registeredFixture);
      await models.connect(admin).setActive(LLAMA, false);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      expect(await registry.isEligible(alice.address, QWEN)).to.equal(true);
      await models.connect(admin).setActive(LLAMA, true);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(true);
    });
  });

  describe("eligiblePrice", () => {
    /** eligiblePrice and isEligible must agree: the price exactly when eligible, else 0. */
    async function expectPrice(registry: ProviderRegistry, provider: string, model: string, price: bigint) {
      expect(await registry.eligiblePrice(provider, model)).to.equal(price);
      expect(await registry.isEligible(provider, model)).to.equal(price !== 0n);
    }

    it("is the provider's offered price for each model it is eligible for", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expectPrice(registry, alice.address, LLAMA, LLAMA_PRICE);
      await expectPrice(registry, alice.address, QWEN, QWEN_PRICE);
    });

    it("follows a price change at once", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await registry.connect(alice).updateOffer([LLAMA], [LLAMA_PRICE * 3n]);
      await expectPrice(registry, alice.address, LLAMA, LLAMA_PRICE * 3n);
    });

    it("is 0 while jailed, and the price again at the second the jail ends", async () => {
      const { registry, slasher, alice } = await loadFixture(registeredFixture);
      const until = (await latest()) + DAY;
      await registry.connect(slasher).jail(alice.address, until);
      await expectPrice(registry, alice.address, LLAMA, 0n);
      await time.increaseTo(until - 1n);
      await expectPrice(registry, alice.address, LLAMA, 0n);
      await time.increaseTo(until);
      await expectPrice(registry, alice.address, LLAMA, LLAMA_PRICE);
    });

    it("is 0 once the provider is exiting, and for an unregistered provider", async () => {
      const { registry, alice, bob } = await loadFixture(registeredFixture);
      await registry.connect(alice).requestExit();
      expect(await registry.priceOf(alice.address, LLAMA)).to.equal(LLAMA_PRICE); // still offered
      await expectPrice(registry, alice.address, LLAMA, 0n);
      await expectPrice(registry, bob.address, LLAMA, 0n);
    });

    it("is 0 while the bond is below minBond, and the price again after a top-up to exactly minBond", async () => {
      const { registry, admin, alice } = await loadFixture(registeredFixture);
      await registry.connect(admin).setMinBond(BOND + 1n);
      await expectPrice(registry, alice.address, LLAMA, 0n);
      await registry.connect(alice).increaseBond(1n);
      await expectPrice(registry, alice.address, LLAMA, LLAMA_PRICE);
    });

    it("is 0 after a slash takes the bond below minBond", async () => {
      const { registry, slasher, alice, recipient } = await loadFixture(registeredFixture);
      await registry.connect(slasher).slash(alice.address, BOND - MIN_BOND, recipient.address); // exactly minBond
      await expectPrice(registry, alice.address, LLAMA, LLAMA_PRICE);
      await registry.connect(slasher).slash(alice.address, 1n, recipient.address);
      await expectPrice(registry, alice.address, LLAMA, 0n);
    });

    it("is 0 while the model is inactive in the ModelRegistry, and the price again once reactivated", async () => {
      const { registry, models, admin, alice } = await loadFixture(registeredFixture);
      await models.connect(admin).setActive(LLAMA, false);
      await expectPrice(registry, alice.address, LLAMA, 0n);
      await expectPrice(registry, alice.address, QWEN, QWEN_PRICE);
      await models.connect(admin).setActive(LLAMA, true);
      await expectPrice(registry, alice.address, LLAMA, LLAMA_PRICE);
    });

    it("is 0 for a model not offered, never registered, or whose offer was withdrawn", async () => {
      const { registry, alice } = await loadFixture(registeredFixture);
      await expectPrice(registry, alice.address, MISTRAL, 0n);
      await expectPrice(registry, alice.address, UNKNOWN, 0n);
      await registry.connect(alice).updateOffer([QWEN], [0n]);
      await expectPrice(registry, alice.address, QWEN, 0n);
    });
  });

  describe("signerOf", () => {
    it("is the registered attestation signer, follows setSigner, stays while exiting and is zero once withdrawn", async () => {
      const { registry, alice, aliceSigner, bobSigner } = await loadFixture(registeredFixture);
      expect(await registry.signerOf(alice.address)).to.equal(aliceSigner.address);
      await registry.connect(alice).setSigner(bobSigner.address);
      expect(await registry.signerOf(alice.address)).to.equal(bobSigner.address);
      await registry.connect(alice).requestExit();
      expect(await registry.signerOf(alice.address)).to.equal(bobSigner.address);
      await time.increase(UNBONDING);
      await registry.connect(alice).withdrawBond();
      expect(await registry.signerOf(alice.address)).to.equal(ethers.ZeroAddress);
    });

    it("is zero for an unregistered provider and independent per provider", async () => {
      const { registry, alice, bob, aliceSigner, bobSigner } = await loadFixture(registeredFixture);
      expect(await registry.signerOf(bob.address)).to.equal(ethers.ZeroAddress);
      await registry.connect(bob).register(BOND, "", bobSigner.address, [LLAMA], [LLAMA_PRICE]);
      expect(await registry.signerOf(bob.address)).to.equal(bobSigner.address);
      expect(await registry.signerOf(alice.address)).to.equal(aliceSigner.address);
    });
  });

  describe("governance parameters", () => {
    it("lets the admin set minBond anywhere in [1, 1e27], emitting ParameterUpdated", async () => {
      const { registry, admin } = await loadFixture(registryFixture);
      await expect(registry.connect(admin).setMinBond(1n))
        .to.emit(registry, "ParameterUpdated")
        .withArgs(MIN_BOND_PARAM, MIN_BOND, 1n);
      await expect(registry.connect(admin).setMinBond(MAX_MIN_BOND))
        .to.emit(registry, "ParameterUpdated")
        .withArgs(MIN_BOND_PARAM, 1n, MAX_MIN_BOND);
      expect(await registry.minBond()).to.equal(MAX_MIN_BOND);
    });

    it("rejects minBond 0 and 1e27 + 1 with ParameterOutOfBounds", async () => {
      const { registry, admin } = await loadFixture(registryFixture);
      for (const bad of [0n, MAX_MIN_BOND + 1n]) {
        await expect(registry.connect(admin).setMinBond(bad))
          .to.be.revertedWithCustomError(registry, "ParameterOutOfBounds")
          .withArgs(MIN_BOND_PARAM, bad, 1n, MAX_MIN_BOND);
      }
      expect(await registry.minBond()).to.equal(MIN_BOND);
    });

    it("applies a raised minBond to new registrations, and benches registered providers below it until they top up", async () => {
      const { registry, admin, alice, bob, bobSigner } = await loadFixture(registeredFixture);
      await registry.connect(admin).setMinBond(BOND + 1n);
      await expect(registry.connect(bob).register(BOND, "", bobSigner.address, [], []))
        .to.be.revertedWithCustomError(registry, "BondTooSmall")
        .withArgs(BOND, BOND + 1n);
      expect((await registry.getProvider(alice.address)).status).to.equal(ACTIVE);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      await registry.connect(alice).increaseBond(1n);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(true);
    });

    it("benches a provider slashed below minBond until it tops up", async () => {
      const { registry, slasher, alice, outsider } = await loadFixture(registeredFixture);
      // 5,000 bonded, minBond 1,000: a slash leaving 1 wei under the minimum benches alice
      await registry.connect(slasher).slash(alice.address, BOND - MIN_BOND + 1n, outsider.address);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(false);
      await registry.connect(alice).increaseBond(1n);
      expect(await registry.isEligible(alice.address, LLAMA)).to.equal(true);
    });

    it("lets the admin set the unbonding period anywhere in [0, 365 days] without a window source", async () => {
      const { registry, admin } = await loadFixture(registryFixture);
      await expect(registry.connect(admin).setUnbondingPeriod(0n))
        .to.emit(registry, "ParameterUpdated")
        .withArgs(UNBONDING_PARAM, UNBONDING, 0n);
      await expect(registry.connect(admin).setUnbondingPeriod(MAX_UNBONDING))
        .to.emit(registry, "ParameterUpdated")
        .withArgs(UNBONDING_PARAM, 0n, MAX_UNBONDING);
      expect(await registry.unbondingPeriod()).to.equal(MAX_UNBONDING);
      await expect(registry.connect(admin).setUnbondingPeriod(MAX_UNBONDING + 1n))
        .to.be.revertedWithCustomError(registry, "ParameterOutOfBounds")
        .withArgs(UNBONDING_PARAM, MAX_UNBONDING + 1n, 0n, MAX_UNBONDING);
    });

    it("bounds the unbonding period below by the current slashable window", async () => {
      const { registry, windowSource, admin } = await loadFixture(registryFixture);
      await registry.connect(admin).setSlashingWindowSource(await windowSource.getAddress()); // 3 days
      await expect(registry.connect(admin).setUnbondingPeriod(3n * DAY - 1n))
        .to.be.revertedWithCustomError(registry, "ParameterOutOfBounds")
        .withArgs(UNBONDING_PARAM, 3n * DAY - 1n, 3n * DAY, MAX_UNBONDING);
      await expect(registry.connect(admin).setUnbondingPeriod(3n * DAY))
        .to.emit(registry, "ParameterUpdated")
        .withArgs(UNBONDING_PARAM, UNBONDING, 3n * DAY);
      // The bound follows the source's window as it changes.
      await windowSource.setAnswer(WINDOW_SELECTOR, encodeWindow(5n * DAY));
      await expect(registry.connect(admin).setUnbondingPeriod(4n * DAY))
        .to.be.revertedWithCustomError(registry, "ParameterOutOfBounds")
        .withArgs(UNBONDING_PARAM, 4n * DAY, 5n * DAY, MAX_UNBONDING);
    });

    it("lets only the admin change the parameters", async () => {
      const { registry, coordinator, slasher, guardian, outsider, windowSource } =
        await loadFixture(registryFixture);
      const source = await windowSource.getAddress();
      for (const caller of [coordinator, slasher, guardian, outsider]) {
        await expect(registry.connect(caller).setMinBond(1n))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
        await expect(registry.connect(caller).setUnbondingPeriod(DAY))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
        await expect(registry.connect(caller).setSlashingWindowSource(source))
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });
  });

  describe("setSlashingWindowSource", () => {
    it("sets the source, emits SlashingWindowSourceUpdated(previous, current) and reads the window from it", async () => {
      const { registry, windowSource, admin } = await loadFixture(registryFixture);
      const source = await windowSource.getAddress();
      await expect(registry.connect(admin).setSlashingWindowSource(source))
        .to.emit(registry, "SlashingWindowSourceUpdated")
        .withArgs(ethers.ZeroAddress, source);
      expect(await registry.slashableWindow()).to.equal(3n * DAY);

      const next = await (await ethers.getContractFactory("ReentrantCallback")).deploy();
      await next.setAnswer(WINDOW_SELECTOR, encodeWindow(UNBONDING)); // equal to the period: accepted
      await expect(registry.connect(admin).setSlashingWindowSource(await next.getAddress()))
        .to.emit(registry, "SlashingWindowSourceUpdated")
        .withArgs(source, await next.getAddress());
      expect(await registry.slashableWindow()).to.equal(UNBONDING);
    });

    it("rejects the zero address with ZeroAddress", async () => {
      const { registry, admin } = await loadFixture(registryFixture);
      await expect(
        registry.connect(admin).setSlashingWindowSource(ethers.ZeroAddress),
      ).to.be.revertedWithCustomError(registry, "ZeroAddress");
    });

    it("rejects a source whose window exceeds the unbonding period with ParameterOutOfBounds", async () => {
      const { registry, windowSource, admin } = await loadFixture(registryFixture);
      await windowSource.setAnswer(WINDOW_SELECTOR, encodeWindow(UNBONDING + 1n));
      await expect(registry.connect(admin).setSlashingWindowSource(await windowSource.getAddress()))
        .to.be.revertedWithCustomError(registry, "ParameterOutOfBounds")
        .withArgs(UNBONDING_PARAM, UNBONDING, UNBONDING + 1n, MAX_UNBONDING);
      expect(await registry.slashableWindow()).to.equal(0n);
      // Lengthening the unbonding period first makes the same source acceptable.
      await registry.connect(admin).setUnbondingPeriod(UNBONDING + 1n);
      await registry.connect(admin).setSlashingWindowSource(await windowSource.getAddress());
      expect(await registry.slashableWindow()).to.equal(UNBONDING + 1n);
    });
  });

  describe("pause", () => {
    it("is switched on by the guardian only and off by the admin only", async () => {
      const { registry, admin, guardian, outsider } = await loadFixture(registryFixture);
      for (const caller of [admin, outsider]) {
        await expect(registry.connect(caller).pause())
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.GUARDIAN);
      }
      await expect(registry.connect(guardian).pause()).to.emit(registry, "Paused").withArgs(guardian.address);
      for (const caller of [guardian, outsider]) {
        await expect(registry.connect(caller).unpause())
          .to.be.revertedWithCustomError(registry, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
      await expect(registry.connect(admin).unpause()).to.emit(registry, "Unpaused").withArgs(admin.address);
    });

    it("blocks register and increaseBond with EnforcedPause, and lets them through after unpause", async () => {
      const { registry, admin, guardian, alice, bob, bobSigner } = await loadFixture(registeredFixture);
      await registry.connect(guardian).pause();
      await expect(
        registry.connect(bob).register(BOND, "", bobSigner.address, [LLAMA], [LLAMA_PRICE]),
      ).to.be.revertedWithCustomError(registry, "EnforcedPause");
      await expect(registry.connect(alice).increaseBond(1n)).to.be.revertedWithCustomError(
        registry,
        "EnforcedPause",
      );
      await registry.connect(admin).unpause();
      await registry.connect(bob).register(BOND, "", bobSigner.address, [LLAMA], [LLAMA_PRICE]);
      await registry.connect(alice).increaseBond(1n);
      expect((await registry.getProvider(bob.address)).status).to.equal(ACTIVE);
      expect((await registry.getProvider(alice.address)).bond).to.equal(BOND + 1n);
    });

    it("never blocks exits, offer and key maintenance, or the settlement modules", async () => {
      const { registry, token, guardian, coordinator, slasher, alice, bob, bobSigner, recipient } =
        await loadFixture(registeredFixture);
      await registry.connect(bob).register(BOND, "", bobSigner.address, [LLAMA], [LLAMA_PRICE]);
      await registry.connect(guardian).pause();

      await registry.connect(alice).updateOffer([MISTRAL], [MISTRAL_PRICE]);
      await registry.connect(alice).setSigner(bobSigner.address);
      await registry.connect(alice).setMetadataURI("paused.example");
      await registry.connect(coordinator).lockCollateral(alice.address, 10n);
      await registry.connect(coordinator).releaseCollateral(alice.address, 10n, 1n);
      await registry.connect(slasher).slash(alice.address, 10n, recipient.address);
      await registry.connect(slasher).jail(alice.address, 1n);
      await registry.connect(bob).requestExit();
      await time.increase(UNBONDING);
      await expect(registry.connect(bob).withdrawBond()).to.changeTokenBalance(token, bob, BOND);

      const record = await registry.getProvider(alice.address);
      expect(record.signer).to.equal(bobSigner.address);
      expect(record.metadataURI).to.equal("paused.example");
      expect(record.bond).to.equal(BOND - 10n);
      expect(await registry.priceOf(alice.address, MISTRAL)).to.equal(MISTRAL_PRICE);
    });
  });

  describe("exit safety", () => {
    it("keeps a provider's bond in while collateral is locked, slashes it during unbonding, then pays bond − slashed", async () => {
      const { registry, token, coordinator, slasher, alice, recipient } =
        await loadFixture(registeredFixture);
      // A job is accepted: 4,000 of the 5,000 bond locked as collateral.
      await registry.connect(coordinator).lockCollateral(alice.address, 4_000n * WAD);
      const t = (await latest()) + 10n;
      await at(t, () => registry.connect(alice).requestExit());

      // The unbonding period passes, but the job is not settled: the bond stays.
      await time.setNextBlockTimestamp(t + UNBONDING);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "JobsStillOpen")
        .withArgs(alice.address, 1n);

      // The result is challenged and found faulty: 3,000 slashed, locked cut to the 2,000 left.
      await expect(registry.connect(slasher).slash(alice.address, 3_000n * WAD, recipient.address))
        .to.emit(registry, "Slashed")
        .withArgs(alice.address, recipient.address, 3_000n * WAD, 2_000n * WAD);
      expect((await registry.getProvider(alice.address)).locked).to.equal(2_000n * WAD);
      await expect(registry.connect(alice).withdrawBond())
        .to.be.revertedWithCustomError(registry, "JobsStillOpen")
        .withArgs(alice.address, 1n);

      // The coordinator settles the job and releases what is left of its collateral.
      await registry.connect(coordinator).releaseCollateral(alice.address, 4_000n * WAD, 1n);
      const tx = registry.connect(alice).withdrawBond();
      await expect(tx)
        .to.emit(registry, "BondWithdrawn")
        .withArgs(alice.address, BOND - 3_000n * WAD);
      await expect(tx).to.changeTokenBalances(
        token,
        [registry, alice],
        [-(BOND - 3_000n * WAD), BOND - 3_000n * WAD],
      );
      expect(await token.balanceOf(await registry.getAddress())).to.equal(0n);
    });
  });

  describe("reentrancy", () => {
    it("rejects re-entry into register, increaseBond, withdrawBond and slash from a token callback", async () => {
      const [admin, slasher, alice, bob, carol, signer] = await ethers.getSigners();
      // The token double calls back into the registry on every transfer, transferFrom and burn.
      const mock = (await (
        await ethers.getContractFactory("ReentrantCallback")
      ).deploy()) as unknown as ReentrantCallback;
      const models = await (await ethers.getContractFactory("ModelRegistry")).deploy(admin.address);
      const registry = await (
        await ethers.getContractFactory("ProviderRegistry")
      ).deploy(await mock.getAddress(), await models.getAddress(), admin.address, 1n, 0n);
      await registry.connect(admin).grantRole(ROLES.SLASHER, slasher.address);
      await registry.connect(alice).register(100n, "", signer.address, [], []);
      await registry.connect(bob).register(100n, "", signer.address, [], []);
      await registry.connect(bob).requestExit(); // unbonding 0: withdrawable at once

      const registryAddress = await registry.getAddress();
      const payloads = [
        registry.interface.encodeFunctionData("register", [1n, "", signer.address, [], []]),
        registry.interface.encodeFunctionData("increaseBond", [1n]),
        registry.interface.encodeFunctionData("withdrawBond"),
        registry.interface.encodeFunctionData("slash", [alice.address, 1n, ethers.ZeroAddress]),
      ];
      const outerCalls = [
        () => registry.connect(carol).register(1n, "", signer.address, [], []), // token.transferFrom
        () => registry.connect(alice).increaseBond(1n), // token.transferFrom
        () => registry.connect(bob).withdrawBond(), // token.transfer
        () => registry.connect(slasher).slash(alice.address, 1n, carol.address), // token.transfer
        () => registry.connect(slasher).slash(alice.address, 1n, ethers.ZeroAddress), // token.burn
      ];
      for (const payload of payloads) {
        await mock.arm(registryAddress, payload, "0x00000000");
        for (const call of outerCalls) {
          await expect(call()).to.be.revertedWithCustomError(registry, "ReentrancyGuardReentrantCall");
        }
      }
      // Disarmed, the same calls go through: the reverts above came from the re-entry alone.
      await mock.arm(ethers.ZeroAddress, "0x", "0x00000000");
      for (const call of outerCalls) await call();
      expect((await registry.getProvider(alice.address)).bond).to.equal(99n);
      expect((await registry.getProvider(carol.address)).bond).to.equal(1n);
      expect((await registry.getProvider(bob.address)).status).to.equal(NONE);
    });
  });
});
