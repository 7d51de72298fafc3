/**
 * Cinder's typed bindings for dApps (ethers v6): every contract's TypeChain type and factory, the ABIs, and the
 * deployment manifests of public networks, with `connectCinder` to get all protocol contracts of a deployment
 * at once.
 *
 *   import { connectCinder, deployments } from "cinder-protocol";
 *   const cinder = connectCinder(deployments[11155111], signer);
 *   await cinder.jobCoordinator.requestJob(modelId, inputHash, inputRef, 2_500n, payment, deadline, ZeroAddress);
 */
import type { ContractRunner } from "ethers";
import { ArbiterCommitteeVerifier__factory } from "../typechain-types/factories/contracts/verifiers/ArbiterCommitteeVerifier__factory";
import { BurnMintEngine__factory } from "../typechain-types/factories/contracts/BurnMintEngine__factory";
import { CinderTimelock__factory } from "../typechain-types/factories/contracts/governance/CinderTimelock__factory";
import { ComputeCredit__factory } from "../typechain-types/factories/contracts/ComputeCredit__factory";
import { DailyCredit__factory } from "../typechain-types/factories/contracts/DailyCredit__factory";
import { DisputeModule__factory } from "../typechain-types/factories/contracts/DisputeModule__factory";
import { FixedPriceOracle__factory } from "../typechain-types/factories/contracts/oracles/FixedPriceOracle__factory";
import { JobCoordinator__factory } from "../typechain-types/factories/contracts/JobCoordinator__factory";
import { MockStablecoin__factory } from "../typechain-types/factories/contracts/mocks/MockStablecoin__factory";
import { ModelRegistry__factory } from "../typechain-types/factories/contracts/ModelRegistry__factory";
import { ProtocolToken__factory } from "../typechain-types/factories/contracts/ProtocolToken__factory";
import { ProviderRegistry__factory } from "../typechain-types/factories/contracts/ProviderRegistry__factory";
import { StakingVault__factory } from "../typechain-types/factories/contracts/StakingVault__factory";
import { VoucherMarket__factory } from "../typechain-types/factories/contracts/VoucherMarket__factory";
import { MANIFEST_CONTRACTS, type CinderManifest, type ContractKey } from "../deploy/manifest";
import { DEPLOYMENTS } from "./deployments.generated";

export type { ArbiterCommitteeVerifier } from "../typechain-types/contracts/verifiers/ArbiterCommitteeVerifier";
export type { BurnMintEngine } from "../typechain-types/contracts/BurnMintEngine";
export type { CinderTimelock } from "../typechain-types/contracts/governance/CinderTimelock";
export type { ComputeCredit } from "../typechain-types/contracts/ComputeCredit";
export type { DailyCredit } from "../typechain-types/contracts/DailyCredit";
export type { DisputeModule } from "../typechain-types/contracts/DisputeModule";
export type { FixedPriceOracle } from "../typechain-types/contracts/oracles/FixedPriceOracle";
export type { JobCoordinator } from "../typechain-types/contracts/JobCoordinator";
export type { MockStablecoin } from "../typechain-types/contracts/mocks/MockStablecoin";
export type { ModelRegistry } from "../typechain-types/contracts/ModelRegistry";
export type { ProtocolToken } from "../typechain-types/contracts/ProtocolToken";
export type { ProviderRegistry } from "../typechain-types/contracts/ProviderRegistry";
export type { StakingVault } from "../typechain-types/contracts/StakingVault";
export type { VoucherMarket } from "../typechain-types/contracts/VoucherMarket";
export type { IBurnMintEngine } from "../typechain-types/contracts/interfaces/IBurnMintEngine";
export type { IComputeCredit } from "../typechain-types/contracts/interfaces/IComputeCredit";
export type { IDailyCredit } from "../typechain-types/contracts/interfaces/IDailyCredit";
export type { IDisputeModule } from "../typechain-types/contracts/interfaces/IDisputeModule";
export type { IJobCoordinator } from "../typechain-types/contracts/interfaces/IJobCoordinator";
export type { IModelRegistry } from "../typechain-types/contracts/interfaces/IModelRegistry";
export type { IProviderRegistry } from "../typechain-types/contracts/interfaces/IProviderRegistry";
export type { IStakingVault } from "../typechain-types/contracts/interfaces/IStakingVault";
export type { IVoucherMarket } from "../typechain-types/contracts/interfaces/IVoucherMarket";
export type { IResultVerifier } from "../typechain-types/contracts/interfaces/IResultVerifier";
export type { TypedContractEvent, TypedEventLog, TypedLogDescription } from "../typechain-types/common";
export {
  ArbiterCommitteeVerifier__factory,
  BurnMintEngine__factory,
  CinderTimelock__factory,
  ComputeCredit__factory,
  DailyCredit__factory,
  DisputeModule__factory,
  FixedPriceOracle__factory,
  JobCoordinator__factory,
  MockStablecoin__factory,
  ModelRegistry__factory,
  ProtocolToken__factory,
  ProviderRegistry__factory,
  StakingVault__factory,
  VoucherMarket__factory,
};
export { MANIFEST_CONTRACTS };
export type { CinderManifest, ContractKey };

/** The factory of each protocol contract, by manifest key. */
export const FACTORIES = {
  token: ProtocolToken__factory,
  vault: StakingVault__factory,
  dailyCredit: DailyCredit__factory,
  computeCredit: ComputeCredit__factory,
  oracle: FixedPriceOracle__factory,
  engine: BurnMintEngine__factory,
  modelRegistry: ModelRegistry__factory,
  providerRegistry: ProviderRegistry__factory,
  voucherMarket: VoucherMarket__factory,
  jobCoordinator: JobCoordinator__factory,
  disputeModule: DisputeModule__factory,
  verifier: ArbiterCommitteeVerifier__factory,
  timelock: CinderTimelock__factory,
} as const satisfies Record<ContractKey, { abi: unknown }>;

/** The ABI of each protocol contract, by manifest key. */
export const ABIS = Object.fromEntries(
  Object.entries(FACTORIES).map(([key, factory]) => [key, factory.abi]),
) as { [K in ContractKey]: (typeof FACTORIES)[K]["abi"] };

/** Deployment manifests shipped with the package, by chain id (public networks). */
export const deployments: Readonly<Record<number, CinderManifest>> = DEPLOYMENTS;

/** Every protocol contract of a deployment, typed. */
export type CinderContracts = { [K in ContractKey]: ReturnType<(typeof FACTORIES)[K]["connect"]> } & {
  stablecoin?: ReturnType<typeof MockStablecoin__factory.connect>;
};

/** Connects every contract of `manifest` (one of `deployments`, or a deployments/<chainId>.json you loaded). */
export function connectCinder(manifest: CinderManifest, runner: ContractRunner | null): CinderContracts {
  const contracts = {} as Record<string, unknown>;
  for (const key of Object.keys(FACTORIES) as ContractKey[]) {
    contracts[key] = FACTORIES[key].connect(manifest.contracts[key], runner);
  }
  if (manifest.extras?.stablecoin) {
    contracts.stablecoin = MockStablecoin__factory.connect(manifest.extras.stablecoin, runner);
  }
  return contracts as CinderContracts;
}

export * from "./attestation";
export * from "./enums";
