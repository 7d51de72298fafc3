/**
 * What the demo's summary reads back from the chain: every transaction since the economy started, labelled by
 * the contract function it called (so the relayers' own transactions are counted like the demo's), the CNDR
 * minted and burned by each of them, and plain-text tables.
 */
import { Interface, ZeroAddress, type Provider } from "ethers";
import { FACTORIES, MockStablecoin__factory, PaymentKindName, type CinderManifest } from "../../bindings";

/** One mined transaction, labelled `contract.function` (requestJob adds its payment kind). */
export interface TxInfo {
  hash: string;
  from: string;
  label: string;
  gasUsed: bigint;
  /** Jobs a finalizeBatch settled (1 for other transactions). */
  jobs: number;
}

/** Decoders of every contract of the deployment, by lower-case address. */
function decoders(manifest: CinderManifest): Map<string, { name: string; iface: Interface }> {
  const map = new Map<string, { name: string; iface: Interface }>();
  for (const [key, factory] of Object.entries(FACTORIES)) {
    const address = manifest.contracts[key as keyof typeof FACTORIES];
    map.set(address.toLowerCase(), { name: key, iface: new Interface(factory.abi) });
  }
  if (manifest.extras.stablecoin) {
    map.set(manifest.extras.stablecoin.toLowerCase(), {
      name: "usdc",
      iface: new Interface(MockStablecoin__factory.abi),
    });
  }
  return map;
}

/** Every transaction mined in blocks `fromBlock..toBlock`, labelled, with its gas. */
export async function scanTransactions(
  provider: Provider,
  manifest: CinderManifest,
  fromBlock: number,
  toBlock: number,
): Promise<TxInfo[]> {
  const known = decoders(manifest);
  const txs: TxInfo[] = [];
  for (let n = fromBlock; n <= toBlock; n++) {
    const block = await provider.getBlock(n, true);
    for (const tx of block?.prefetchedTransactions ?? []) {
      const receipt = await provider.getTransactionReceipt(tx.hash);
      if (!receipt || receipt.status !== 1) continue;
      const target = known.get((tx.to ?? "").toLowerCase());
      const parsed = target?.iface.parseTransaction({ data: tx.data });
      let label = target ? `${target.name}.${parsed?.name ?? tx.data.slice(0, 10)}` : "(other)";
      let jobs = 1;
      if (parsed?.name === "requestJob") label += `(${PaymentKindName[Number(parsed.args[4].kind)]})`;
      if (parsed?.name === "finalizeBatch") jobs = (parsed.args[0] as unknown[]).length;
      txs.push({ hash: tx.hash, from: tx.from, label, gasUsed: receipt.gasUsed, jobs });
    }
  }
  return txs;
}

/** CNDR minted and burned (Transfer from / to the zero address), summed by the label of the transaction. */
export async function supplyChanges(
  provider: Provider,
  manifest: CinderManifest,
  txs: TxInfo[],
  fromBlock: number,
  toBlock: number,
): Promise<{ minted: Map<string, bigint>; burned: Map<string, bigint> }> {
  const token = new Interface(FACTORIES.token.abi);
  const transfer = token.getEvent("Transfer")!;
  const logs = await provider.getLogs({
    address: manifest.contracts.token,
    topics: [transfer.topicHash],
    fromBlock,
    toBlock,
  });
  const labels = new Map(txs.map((tx) => [tx.hash, tx.label]));
  const minted = new Map<string, bigint>();
  const burned = new Map<string, bigint>();
  for (const log of logs) {
    const { args } = token.parseLog(log)!;
    const label = labels.get(log.transactionHash) ?? "(other)";
    if (args.from === ZeroAddress) minted.set(label, (minted.get(label) ?? 0n) + args.value);
    if (args.to === ZeroAddress) burned.set(label, (burned.get(label) ?? 0n) + args.value);
  }
  return { minted, burned };
}

export interface GasRow {
  label: string;
  senders: string;
  txs: number;
  gasPerTx: bigint;
  gasPerJob: bigint | null;
}

/** Gas by label in order of first use; `names` turns sender addresses into roles. */
export function gasRows(txs: TxInfo[], names: Map<string, string>): GasRow[] {
  const groups = new Map<string, TxInfo[]>();
  for (const tx of txs) groups.set(tx.label, [...(groups.get(tx.label) ?? []), tx]);
  return [...groups].map(([label, list]) => {
    const gas = list.reduce((sum, tx) => sum + tx.gasUsed, 0n);
    const jobs = list.reduce((sum, tx) => sum + tx.jobs, 0);
    const senders = [...new Set(list.map((tx) => names.get(tx.from.toLowerCase()) ?? tx.from.slice(0, 8)))];
    return {
      label,
      senders: senders.join(", "),
      txs: list.length,
      gasPerTx: gas / BigInt(list.length),
      gasPerJob: label.endsWith("finalizeBatch") ? gas / BigInt(jobs) : null,
    };
  });
}

/** A plain-text table: header, rule, rows; columns whose header starts with a space are right-aligned. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.trim().length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (headers[i].startsWith(" ") ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(headers.map((h) => h.trim())), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)];
}
