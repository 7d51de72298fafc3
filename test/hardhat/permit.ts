import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ProtocolToken } from "../../typechain-types";

/**
 * Signs an ERC-2612 permit for `token` (EIP-712 domain: the token's name, version "1"), by default by its
 * `owner`; pass another `signer` to forge one.
 */
export async function signPermit(
  token: ProtocolToken,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
  signer: HardhatEthersSigner = owner,
) {
  const { chainId } = await ethers.provider.getNetwork();
  const signature = await signer.signTypedData(
    { name: await token.name(), version: "1", chainId, verifyingContract: await token.getAddress() },
    {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { owner: owner.address, spender, value, nonce: await token.nonces(owner.address), deadline },
  );
  return ethers.Signature.from(signature);
}
