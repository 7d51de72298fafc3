/**
 * A deterministic clock for the gas benchmark. Hardhat stamps a block with the wall clock (plus any offset set
 * by `time.increase`), so a deadline computed from `time.latest()` — and with it the calldata, whose zero and
 * non-zero bytes cost 4 and 16 gas — would differ between two runs. Once pinned, every block is stamped
 * exactly one second after the previous one, unless the caller set the next timestamp itself
 * (`time.increase`, `time.increaseTo`), so a run is a pure function of the code under test.
 */
import { network } from "hardhat";

/** Methods that mine a block in automine mode. */
const MINING = new Set(["eth_sendTransaction", "eth_sendRawTransaction", "evm_mine", "hardhat_mine"]);

type RequestArgs = { method: string; params?: unknown[] | object };

let installed = false;

/** Installs the clock on the in-process network (idempotent). */
export function pinClock() {
  if (installed) return;
  if (network.name !== "hardhat") throw new Error(`the gas benchmark runs on the in-process network only`);
  installed = true;
  const provider = network.provider;
  const raw = {
    request: provider.request.bind(provider),
    send: provider.send.bind(provider),
  };
  let pinned = false;

  async function beforeCall(method: string, params: unknown) {
    if (method === "evm_setNextBlockTimestamp") {
      pinned = true;
      return;
    }
    if (method === "evm_increaseTime") {
      throw new Error("evm_increaseTime depends on the wall clock: use time.increase / time.increaseTo");
    }
    if (!MINING.has(method)) return;
    if (method === "evm_mine" && Array.isArray(params) && params.length > 0) return; // explicit timestamp
    if (pinned) {
      pinned = false;
      return;
    }
    const latest = (await raw.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as {
      timestamp: string;
    };
    await raw.request({
      method: "evm_setNextBlockTimestamp",
      params: [`0x${(BigInt(latest.timestamp) + 1n).toString(16)}`],
    });
  }

  provider.request = async (args: RequestArgs) => {
    await beforeCall(args.method, args.params);
    return raw.request(args);
  };
  provider.send = async (method: string, params?: unknown[]) => {
    await beforeCall(method, params);
    return raw.send(method, params);
  };
}
