import { expect } from "chai";
import { ethers, ignition } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import CinderMarket from "../../deploy/modules/CinderMarket";
import type { ModelRegistry, ProviderRegistry } from "../../typechain-types";
import { ROLES } from "./fixtures";

const LLAMA = ethers.encodeBytes32String("llama-3.2-1b-instruct-q4");
const QWEN = ethers.encodeBytes32String("qwen2.5-0.5b-instruct-q8");
const MISTRAL = ethers.encodeBytes32String("mistral-7b-instruct-q4");
const LLAMA_WEIGHTS = ethers.sha256(ethers.toUtf8Bytes("llama-3.2-1b-instruct-q4.gguf"));
const QWEN_WEIGHTS = ethers.sha256(ethers.toUtf8Bytes("qwen2.5-0.5b-instruct-q8.gguf"));
const MISTRAL_WEIGHTS = ethers.sha256(ethers.toUtf8Bytes("mistral-7b-instruct-q4.gguf"));
const LLAMA_V2_WEIGHTS = ethers.sha256(ethers.toUtf8Bytes("llama-3.2-1b-instruct-q4.v2.gguf"));
const UNIT = "1000 output tokens";

/**
 * The market deployed through the CinderMarket Ignition module (the ModelRegistry starts empty), with
 * `outsider` holding no role at all.
 */
async function marketFixture() {
  const [admin, treasury, outsider] = await ethers.getSigners();
  const deployed = await ignition.deploy(CinderMarket, {
    parameters: {
      CinderCore: { admin: admin.address, treasury: treasury.address },
      CinderEconomy: { admin: admin.address, treasury: treasury.address },
      CinderMarket: { admin: admin.address, treasury: treasury.address },
    },
  });
  const models = deployed.modelRegistry as unknown as ModelRegistry;
  const providers = deployed.providerRegistry as unknown as ProviderRegistry;
  return { models, providers, admin, treasury, outsider };
}

/** {@link marketFixture} with LLAMA then QWEN registered by the admin, at `llamaAt` and `qwenAt`. */
async function twoModelsFixture() {
  const market = await marketFixture();
  const { models, admin } = market;
  const llamaAt = BigInt(await time.latest()) + 10n;
  await time.setNextBlockTimestamp(llamaAt);
  await models.connect(admin).registerModel(LLAMA, LLAMA_WEIGHTS, "Llama 3.2 1B", "ipfs://llama", UNIT);
  const qwenAt = llamaAt + 20n;
  await time.setNextBlockTimestamp(qwenAt);
  await models.connect(admin).registerModel(QWEN, QWEN_WEIGHTS, "Qwen 2.5 0.5B", "ipfs://qwen", UNIT);
  return { ...market, llamaAt, qwenAt };
}

async function latest(): Promise<bigint> {
  return BigInt(await time.latest());
}

describe("ModelRegistry", () => {
  describe("deployment", () => {
    it("is deployed empty by CinderMarket, administered by the admin and wired into the ProviderRegistry", async () => {
      const { models, providers, admin, outsider } = await loadFixture(marketFixture);
      expect(await models.hasRole(ROLES.DEFAULT_ADMIN, admin.address)).to.equal(true);
      expect(await models.hasRole(ROLES.DEFAULT_ADMIN, outsider.address)).to.equal(false);
      expect(await models.modelIds()).to.deep.equal([]);
      expect(await providers.models()).to.equal(await models.getAddress());
    });

    it("rejects a zero admin with ZeroAddress", async () => {
      const factory = await ethers.getContractFactory("ModelRegistry");
      await expect(factory.deploy(ethers.ZeroAddress)).to.be.revertedWithCustomError(factory, "ZeroAddress");
    });
  });

  describe("registerModel", () => {
    it("stores an active model with both timestamps at the registration block and emits ModelRegistered", async () => {
      const { models, admin } = await loadFixture(marketFixture);
      const t = (await latest()) + 100n;
      await time.setNextBlockTimestamp(t);
      await expect(
        models.connect(admin).registerModel(LLAMA, LLAMA_WEIGHTS, "Llama 3.2 1B", "ipfs://llama", UNIT),
      )
        .to.emit(models, "ModelRegistered")
        .withArgs(LLAMA, LLAMA_WEIGHTS, "Llama 3.2 1B", "ipfs://llama", UNIT);

      const model = await models.getModel(LLAMA);
      expect(model.weightsHash).to.equal(LLAMA_WEIGHTS);
      expect(model.name).to.equal("Llama 3.2 1B");
      expect(model.metadataURI).to.equal("ipfs://llama");
      expect(model.unit).to.equal(UNIT);
      expect(model.active).to.equal(true);
      expect(model.registeredAt).to.equal(t);
      expect(model.updatedAt).to.equal(t);
      expect(await models.isActive(LLAMA)).to.equal(true);
      expect(await models.modelIds()).to.deep.equal([LLAMA]);
    });

    it("accepts an empty metadata URI (only name and unit are required)", async () => {
      const { models, admin } = await loadFixture(marketFixture);
      await expect(models.connect(admin).registerModel(LLAMA, LLAMA_WEIGHTS, "Llama", "", UNIT))
        .to.emit(models, "ModelRegistered")
        .withArgs(LLAMA, LLAMA_WEIGHTS, "Llama", "", UNIT);
      expect((await models.getModel(LLAMA)).metadataURI).to.equal("");
    });

    it("can be called only by the admin", async () => {
      const { models, treasury, outsider } = await loadFixture(marketFixture);
      for (const caller of [treasury, outsider]) {
        await expect(models.connect(caller).registerModel(LLAMA, LLAMA_WEIGHTS, "Llama", "", UNIT))
          .to.be.revertedWithCustomError(models, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("rejects a zero model id or a zero weights hash with InvalidModel", async () => {
      const { models, admin } = await loadFixture(marketFixture);
      await expect(models.connect(admin).registerModel(ethers.ZeroHash, LLAMA_WEIGHTS, "Llama", "", UNIT))
        .to.be.revertedWithCustomError(models, "InvalidModel")
        .withArgs(ethers.ZeroHash, LLAMA_WEIGHTS);
      await expect(models.connect(admin).registerModel(LLAMA, ethers.ZeroHash, "Llama", "", UNIT))
        .to.be.revertedWithCustomError(models, "InvalidModel")
        .withArgs(LLAMA, ethers.ZeroHash);
      expect(await models.modelIds()).to.deep.equal([]);
    });

    it('rejects an empty name with EmptyField("name") and an empty unit with EmptyField("unit")', async () => {
      const { models, admin } = await loadFixture(marketFixture);
      await expect(models.connect(admin).registerModel(LLAMA, LLAMA_WEIGHTS, "", "ipfs://llama", UNIT))
        .to.be.revertedWithCustomError(models, "EmptyField")
        .withArgs(ethers.encodeBytes32String("name"));
      await expect(models.connect(admin).registerModel(LLAMA, LLAMA_WEIGHTS, "Llama", "ipfs://llama", ""))
        .to.be.revertedWithCustomError(models, "EmptyField")
        .withArgs(ethers.encodeBytes32String("unit"));
    });

    it("rejects an id that is already registered with ModelAlreadyRegistered, also when it is inactive", async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      await expect(models.connect(admin).registerModel(LLAMA, MISTRAL_WEIGHTS, "Other", "", UNIT))
        .to.be.revertedWithCustomError(models, "ModelAlreadyRegistered")
        .withArgs(LLAMA);
      await models.connect(admin).setActive(QWEN, false);
      await expect(models.connect(admin).registerModel(QWEN, QWEN_WEIGHTS, "Qwen", "", UNIT))
        .to.be.revertedWithCustomError(models, "ModelAlreadyRegistered")
        .withArgs(QWEN);
      // Nothing was overwritten and the id list holds no duplicate.
      expect((await models.getModel(LLAMA)).weightsHash).to.equal(LLAMA_WEIGHTS);
      expect(await models.isActive(QWEN)).to.equal(false);
      expect(await models.modelIds()).to.deep.equal([LLAMA, QWEN]);
    });
  });

  describe("updateModel", () => {
    it("replaces weights hash, metadata URI and unit, moves updatedAt, keeps name, registeredAt and the active flag", async () => {
      const { models, admin, llamaAt } = await loadFixture(twoModelsFixture);
      const t = llamaAt + 1_000n;
      await time.setNextBlockTimestamp(t);
      await expect(models.connect(admin).updateModel(LLAMA, LLAMA_V2_WEIGHTS, "ipfs://llama-v2", "1 image"))
        .to.emit(models, "ModelUpdated")
        .withArgs(LLAMA, LLAMA_V2_WEIGHTS, "ipfs://llama-v2", "1 image");

      const model = await models.getModel(LLAMA);
      expect(model.weightsHash).to.equal(LLAMA_V2_WEIGHTS);
      expect(model.metadataURI).to.equal("ipfs://llama-v2");
      expect(model.unit).to.equal("1 image");
      expect(model.name).to.equal("Llama 3.2 1B");
      expect(model.active).to.equal(true);
      expect(model.registeredAt).to.equal(llamaAt);
      expect(model.updatedAt).to.equal(t);
      // The other model is untouched.
      expect((await models.getModel(QWEN)).weightsHash).to.equal(QWEN_WEIGHTS);
    });

    it("keeps an inactive model inactive", async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      await models.connect(admin).setActive(LLAMA, false);
      await models.connect(admin).updateModel(LLAMA, LLAMA_V2_WEIGHTS, "", UNIT);
      expect(await models.isActive(LLAMA)).to.equal(false);
    });

    it("can be called only by the admin", async () => {
      const { models, treasury, outsider } = await loadFixture(twoModelsFixture);
      for (const caller of [treasury, outsider]) {
        await expect(models.connect(caller).updateModel(LLAMA, LLAMA_V2_WEIGHTS, "", UNIT))
          .to.be.revertedWithCustomError(models, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("rejects an unregistered id, including the zero id, with UnknownModel", async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      await expect(models.connect(admin).updateModel(MISTRAL, MISTRAL_WEIGHTS, "", UNIT))
        .to.be.revertedWithCustomError(models, "UnknownModel")
        .withArgs(MISTRAL);
      await expect(models.connect(admin).updateModel(ethers.ZeroHash, MISTRAL_WEIGHTS, "", UNIT))
        .to.be.revertedWithCustomError(models, "UnknownModel")
        .withArgs(ethers.ZeroHash);
    });

    it('rejects a zero weights hash with InvalidModel and an empty unit with EmptyField("unit")', async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      await expect(models.connect(admin).updateModel(LLAMA, ethers.ZeroHash, "", UNIT))
        .to.be.revertedWithCustomError(models, "InvalidModel")
        .withArgs(LLAMA, ethers.ZeroHash);
      await expect(models.connect(admin).updateModel(LLAMA, LLAMA_V2_WEIGHTS, "", ""))
        .to.be.revertedWithCustomError(models, "EmptyField")
        .withArgs(ethers.encodeBytes32String("unit"));
      expect((await models.getModel(LLAMA)).weightsHash).to.equal(LLAMA_WEIGHTS);
    });
  });

  describe("setActive", () => {
    it("deactivates and reactivates a model, moving updatedAt and emitting ModelActivationChanged", async () => {
      const { models, admin, llamaAt } = await loadFixture(twoModelsFixture);
      const off = llamaAt + 500n;
      await time.setNextBlockTimestamp(off);
      await expect(models.connect(admin).setActive(LLAMA, false))
        .to.emit(models, "ModelActivationChanged")
        .withArgs(LLAMA, false);
      expect(await models.isActive(LLAMA)).to.equal(false);
      let model = await models.getModel(LLAMA);
      expect(model.active).to.equal(false);
      expect(model.updatedAt).to.equal(off);
      expect(model.registeredAt).to.equal(llamaAt);
      expect(await models.isActive(QWEN)).to.equal(true);

      const on = off + 60n;
      await time.setNextBlockTimestamp(on);
      await expect(models.connect(admin).setActive(LLAMA, true))
        .to.emit(models, "ModelActivationChanged")
        .withArgs(LLAMA, true);
      expect(await models.isActive(LLAMA)).to.equal(true);
      model = await models.getModel(LLAMA);
      expect(model.active).to.equal(true);
      expect(model.updatedAt).to.equal(on);
    });

    it("keeps a deactivated model in modelIds and readable through getModel", async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      await models.connect(admin).setActive(LLAMA, false);
      expect(await models.modelIds()).to.deep.equal([LLAMA, QWEN]);
      expect((await models.getModel(LLAMA)).name).to.equal("Llama 3.2 1B");
    });

    it("can be called only by the admin", async () => {
      const { models, treasury, outsider } = await loadFixture(twoModelsFixture);
      for (const caller of [treasury, outsider]) {
        await expect(models.connect(caller).setActive(LLAMA, false))
          .to.be.revertedWithCustomError(models, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, ROLES.DEFAULT_ADMIN);
      }
    });

    it("rejects an unregistered id with UnknownModel", async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      await expect(models.connect(admin).setActive(MISTRAL, true))
        .to.be.revertedWithCustomError(models, "UnknownModel")
        .withArgs(MISTRAL);
      expect(await models.isActive(MISTRAL)).to.equal(false);
    });
  });

  describe("views", () => {
    it("getModel rejects an unregistered id with UnknownModel", async () => {
      const { models } = await loadFixture(twoModelsFixture);
      await expect(models.getModel(MISTRAL))
        .to.be.revertedWithCustomError(models, "UnknownModel")
        .withArgs(MISTRAL);
    });

    it("isActive is false for an unregistered id and for the zero id", async () => {
      const { models } = await loadFixture(twoModelsFixture);
      expect(await models.isActive(MISTRAL)).to.equal(false);
      expect(await models.isActive(ethers.ZeroHash)).to.equal(false);
    });

    it("modelIds lists every registered id in registration order", async () => {
      const { models, admin } = await loadFixture(twoModelsFixture);
      expect(await models.modelIds()).to.deep.equal([LLAMA, QWEN]);
      await models.connect(admin).registerModel(MISTRAL, MISTRAL_WEIGHTS, "Mistral 7B", "", UNIT);
      expect(await models.modelIds()).to.deep.equal([LLAMA, QWEN, MISTRAL]);
    });

    it("getModel returns each model's own registration time", async () => {
      const { models, llamaAt, qwenAt } = await loadFixture(twoModelsFixture);
      expect((await models.getModel(LLAMA)).registeredAt).to.equal(llamaAt);
      expect((await models.getModel(QWEN)).registeredAt).to.equal(qwenAt);
      expect((await models.getModel(QWEN)).name).to.equal("Qwen 2.5 0.5B");
      expect((await models.getModel(QWEN)).metadataURI).to.equal("ipfs://qwen");
    });
  });
});
