import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CinderJobs from "./CinderJobs";

/** The demo model: stories260K (TinyStories llama, GGUF), listed by the sha256 of its weights. */
export const DEMO_MODEL = {
  /** keccak256("stories260K"), the id every local tool and the relayer use. */
  id: "0xd49ec54d17ac7615566ccc37b8135515ab78b89f0e95139e24fb4664f3bafd10",
  weightsSha256: "0x270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
  name: "stories260K (TinyStories, llama.cpp GGUF)",
  metadataURI: "https://huggingface.co/ggml-org/models/tree/main/tinyllamas",
  unit: "1 output token",
};

/**
 * Genesis for local and demo networks, run while the deployer is still admin (before `governed` hands over):
 * a mock USDC (6 decimals, anyone may mint: a faucet), the demo model listed, and voucher class 1 for it:
 * 1 voucher = 100,000 output tokens at 1 USDC + 3 % premium, no expiry, no cap. On a public network models
 * and classes are listed later through the timelock instead.
 */
export default buildModule("CinderLocalSetup", (m) => {
  const jobs = m.useModule(CinderJobs);
  const modelId = m.getParameter("modelId", DEMO_MODEL.id);
  const stablecoin = m.contract("MockStablecoin", ["USD Coin (local)", "USDC", 6]);
  const model = m.call(jobs.modelRegistry, "registerModel", [
    modelId,
    m.getParameter("modelWeightsSha256", DEMO_MODEL.weightsSha256),
    m.getParameter("modelName", DEMO_MODEL.name),
    m.getParameter("modelMetadataURI", DEMO_MODEL.metadataURI),
    m.getParameter("modelUnit", DEMO_MODEL.unit),
  ]);
  m.call(
    jobs.voucherMarket,
    "createClass",
    [
      modelId,
      stablecoin,
      m.getParameter("unitsPerVoucher", 100_000n),
      m.getParameter("voucherPrice", 1_000_000n),
      m.getParameter("voucherPremiumBps", 300n),
      0n,
      0n,
    ],
    { after: [model] },
  );
  return { ...jobs, stablecoin };
});
