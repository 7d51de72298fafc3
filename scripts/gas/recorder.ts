import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { Row, Storage } from "./report";

type Sent = Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>;

/** gasUsed of a mined transaction (reverts throw). */
export async function gasOf(tx: Sent) {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

/** Collects the benchmark's rows, section by section; row names are unique. */
export class Recorder {
  readonly rows: Row[] = [];
  section = "";

  /** Mines `tx`, records its gas as row `name` measuring `fn` (`Contract.function`), returns the gas. */
  async tx(name: string, fn: string, storage: Storage, tx: Sent, target?: number) {
    const gas = await gasOf(tx);
    this.add({ name, fn, storage, gas, target });
    return gas;
  }

  add(row: Omit<Row, "section">) {
    if (this.rows.some((r) => r.name === row.name)) throw new Error(`duplicate gas row: ${row.name}`);
    this.rows.push({ ...row, section: this.section });
  }
}

/** An ERC-2612 permit signed by `owner` for `token` (EIP-712 domain: the token's name, version "1"). */
export async function signPermit(
  token: {
    name(): Promise<string>;
    nonces(owner: string): Promise<bigint>;
    getAddress(): Promise<string>;
  },
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
) {
  const { chainId } = await ethers.provider.getNetwork();
  const signature = await owner.signTypedData(
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
