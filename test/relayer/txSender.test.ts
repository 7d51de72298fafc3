/**
 * The transaction sender against a real `hardhat node`: one transaction per idempotency key, a simulation before
 * any nonce is taken, re-broadcast of stored bytes after a failed broadcast (a crash between store and send),
 * replacement of a stuck transaction with higher fees, and a dropped transaction detected when its nonce is
 * used by another.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  JsonRpcProvider,
  Network,
  parseUnits,
  Wallet,
  type BaseWallet,
  type TransactionReceipt,
} from "ethers";
import pino from "pino";
import { TxSender, type TxConfig } from "../../relayer/chain/txSender";
import { RelayerMetrics } from "../../relayer/metrics";
import { JobStore, type TxRecord } from "../../relayer/store";
import { hardhatAccount, startHardhatNode, type HardhatNode } from "../../relayer/testing/localChain";

const logger = pino({ level: "silent" });
const CONFIG: TxConfig = { gasHeadroomPct: 20, gasMargin: 60_000, bumpAfterBlocks: 2, bumpPct: 15 };

describe("relayer transaction sender", function () {
  this.timeout(120_000);
  let node: HardhatNode;
  let provider: JsonRpcProvider;
  let dir: string;
  const recipient = hardhatAccount(9).address;

  before(async function () {
    node = await startHardhatNode();
    provider = new JsonRpcProvider(node.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    dir = mkdtempSync(path.join(os.tmpdir(), "cinder-txsender-"));
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  let counter = 0;
  /** A fresh funded key, a fresh database and a sender over them. */
  async function setup(options: { provider?: JsonRpcProvider; wallet?: BaseWallet; store?: JobStore } = {}) {
    const wallet = options.wallet ?? Wallet.createRandom();
    if (!options.wallet) {
      const funder = hardhatAccount(8, provider);
      await (await funder.sendTransaction({ to: wallet.address, value: parseUnits("10", 18) })).wait();
    }
    const store = options.store ?? new JobStore(path.join(dir, `db-${++counter}.sqlite`));
    const settled: { tx: TxRecord; receipt: TransactionReceipt | null }[] = [];
    const sender = new TxSender({
      provider: options.provider ?? provider,
      wallet,
      chainId: 31337n,
      store,
      logger,
      metrics: new RelayerMetrics(),
      config: CONFIG,
      describeError: (e) => (e as Error).message,
      onSettled: (tx, receipt) => settled.push({ tx, receipt }),
    });
    await sender.init(await provider.getBlockNumber());
    return { wallet, store, sender, settled };
  }

  const transfer = (key: string) => ({ key, method: "transfer", jobIds: [], to: recipient, data: "0x" });

  it("sends one transaction per idempotency key, and records it with the caller's state change", async function () {
    const { wallet, store, sender, settled } = await setup();
    let persisted = 0;
    const first = await sender.send({ ...transfer("pay:1"), persist: () => persisted++ });
    const again = await sender.send({ ...transfer("pay:1"), persist: () => persisted++ });
    expect(first.status).to.equal("sent");
    expect(again.status).to.equal("existing");
    expect(persisted).to.equal(1);
    expect(await provider.getTransactionCount(wallet.address)).to.equal(1);
    await sender.tick(await provider.getBlockNumber());
    expect(store.txByKey("pay:1")!.status).to.equal("mined");
    expect(settled.map((s) => s.tx.key)).to.deep.equal(["pay:1"]);
    store.close();
  });

  it("does not send (and takes no nonce) when the simulation reverts, and says why", async function () {
    const { wallet, store, sender } = await setup();
    // A contract whose code is `REVERT(0, 0)`: init code copies the 5-byte runtime 0x60006000fd and returns it.
    const funder = hardhatAccount(8, provider);
    const deployed = await (
      await funder.sendTransaction({ data: "0x6005600c60003960056000f360006000fd" })
    ).wait();
    const reverter = deployed!.contractAddress!;
    let persisted = 0;
    const outcome = await sender.send({
      key: "bad:1",
      method: "poke",
      jobIds: [7],
      to: reverter,
      data: "0x",
      persist: () => persisted++,
    });
    expect(outcome.status).to.equal("rejected");
    expect(outcome.status === "rejected" && outcome.reason).to.match(/revert/i);
    expect(persisted).to.equal(0);
    expect(store.txByKey("bad:1")).to.equal(undefined);
    expect(await provider.getTransactionCount(wallet.address)).to.equal(0);
    // The nonce was not taken: the next transaction uses 0.
    const ok = await sender.send(transfer("pay:after"));
    expect(ok.status === "sent" && ok.tx.nonce).to.equal(0);
    store.close();
  });

  it("re-broadcasts the stored bytes after a failed broadcast (crash between store and send): no gap, no re-sign", async function () {
    const wallet = Wallet.createRandom();
    const funder = hardhatAccount(8, provider);
    await (await funder.sendTransaction({ to: wallet.address, value: parseUnits("10", 18) })).wait();
    const store = new JobStore(path.join(dir, `db-crash.sqlite`));
    // A provider whose broadcasts fail, as if the process died right after storing the signed transaction.
    const broken = new JsonRpcProvider(node.url, Network.from(31337), {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    const realSend = broken.send.bind(broken);
    broken.send = async (method: string, params: unknown[] | Record<string, unknown>) => {
      if (method === "eth_sendRawTransaction") throw new Error("connect ECONNREFUSED 127.0.0.1");
      return realSend(method, params);
    };
    const { sender: first } = await setup({ provider: broken, wallet, store });
    const a = await first.send(transfer("pay:a"));
    const b = await first.send(transfer("pay:b"));
    expect([a.status, b.status]).to.deep.equal(["sent", "sent"]);
    expect(await provider.getTransactionCount(wallet.address)).to.equal(0); // nothing reached the chain
    const stored = store.pendingTxs().map((tx) => ({ nonce: tx.nonce, hash: tx.hashes[0] }));
    expect(stored.map((s) => s.nonce)).to.deep.equal([0, 1]);
    broken.destroy();

    // Restart: a new sender over the same database re-broadcasts the same bytes in nonce order.
    const { sender: second, settled } = await setup({ wallet, store });
    expect(await provider.getTransactionCount(wallet.address)).to.equal(2);
    await second.tick(await provider.getBlockNumber());
    expect(settled.map((s) => s.receipt?.hash)).to.deep.equal(stored.map((s) => s.hash));
    expect(store.allTxs().every((tx) => tx.status === "mined" && tx.hashes.length === 1)).to.equal(true);
    // The next transaction continues the sequence.
    const c = await second.send(transfer("pay:c"));
    expect(c.status === "sent" && c.tx.nonce).to.equal(2);
    store.close();
  });

  it("replaces a transaction stuck past bumpAfterBlocks with higher fees, and marks one whose nonce another used as dropped", async function () {
    const { wallet, store, sender, settled } = await setup();
    await provider.send("evm_setAutomine", [false]);
    try {
      const sent = await sender.send(transfer("pay:stuck"));
      expect(sent.status).to.equal("sent");
      const original = store.txByKey("pay:stuck")!;
      // The first tick that sees it pending starts the count of blocks it has been stuck.
      await sender.tick(await provider.getBlockNumber());
      expect(store.txByKey("pay:stuck")!.hashes).to.have.length(1);
      // The base fee jumps above the transaction's fee cap: it cannot be mined.
      const high = BigInt(original.maxFeePerGas) * 4n;
      await provider.send("hardhat_setNextBlockBaseFeePerGas", [`0x${high.toString(16)}`]);
      await provider.send("evm_mine", []);
      // One block stuck: not yet (bumpAfterBlocks is 2).
      await sender.tick(await provider.getBlockNumber());
      expect(store.txByKey("pay:stuck")!.hashes).to.have.length(1);
      await provider.send("hardhat_setNextBlockBaseFeePerGas", [`0x${high.toString(16)}`]);
      await provider.send("evm_mine", []);
      await provider.send("hardhat_setNextBlockBaseFeePerGas", [`0x${high.toString(16)}`]);
      await sender.tick(await provider.getBlockNumber());
      const replaced = store.txByKey("pay:stuck")!;
      expect(replaced.hashes).to.have.length(2);
      expect(BigInt(replaced.maxFeePerGas) > BigInt(original.maxFeePerGas)).to.equal(true);
      await provider.send("evm_mine", []);
      await sender.tick(await provider.getBlockNumber());
      const mined = store.txByKey("pay:stuck")!;
      expect(mined.status).to.equal("mined");
      expect(settled.at(-1)!.receipt!.hash).to.equal(replaced.hashes[1]);

      // Another transaction from the same key takes the next nonce first: ours is dropped, not re-sent.
      const next = await sender.send(transfer("pay:dropped"));
      expect(next.status).to.equal("sent");
      const ours = store.txByKey("pay:dropped")!;
      const fees = BigInt(ours.maxFeePerGas) * 2n;
      await provider.send("hardhat_dropTransaction", [ours.hashes[0]]);
      await (
        await wallet.connect(provider).sendTransaction({
          to: wallet.address,
          nonce: ours.nonce,
          maxFeePerGas: fees,
          maxPriorityFeePerGas: fees / 2n,
        })
      ).wait(0);
      await provider.send("evm_mine", []);
      await sender.tick(await provider.getBlockNumber());
      expect(store.txByKey("pay:dropped")!.status).to.equal("dropped");
      expect(settled.at(-1)!.tx.key).to.equal("pay:dropped");
      expect(settled.at(-1)!.receipt).to.equal(null);
    } finally {
      await provider.send("evm_setAutomine", [true]);
    }
    store.close();
  });
});
