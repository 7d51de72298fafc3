/** A provider's result attestation: EIP-712 typed data, free of TypeChain imports (usable by the tasks too). */
import type { TypedDataDomain, TypedDataField } from "ethers";

/** The EIP-712 type a provider's attestation signer signs (the chain id and coordinator are in the domain). */
export const RESULT_TYPES: Record<string, TypedDataField[]> = {
  Result: [
    { name: "jobId", type: "uint256" },
    { name: "modelId", type: "bytes32" },
    { name: "inputHash", type: "bytes32" },
    { name: "outputHash", type: "bytes32" },
    { name: "unitsUsed", type: "uint256" },
  ],
};

/** The EIP-712 domain and types of a result attestation for `coordinator` on `chainId`, for `signTypedData`. */
export function resultTypedData(
  chainId: bigint | number,
  coordinator: string,
): { domain: TypedDataDomain; types: Record<string, TypedDataField[]> } {
  return {
    domain: { name: "Cinder JobCoordinator", version: "1", chainId, verifyingContract: coordinator },
    types: RESULT_TYPES,
  };
}
