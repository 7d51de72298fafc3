/**
 * Voucher tasks: `cinder:buy-voucher` (stablecoin → vouchers of a class), `cinder:approve-coordinator` (lets job
 * requests escrow vouchers and ComputeCredit) and `cinder:withdraw-earnings` (stablecoin the VoucherMarket owes
 * an account: a provider's redeemed principal, the treasury's fees).
 */
import { task } from "hardhat/config";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { MaxUint256 } from "ethers";
import type { IERC20Metadata } from "../typechain-types";
import { formatAmount, loadCinder, parseAmount, parseInteger, send, TaskError, type Cinder } from "./lib";
import { approveIfNeeded, chainNow, eventArgs, formatTime, parseRecipient } from "./lib";

const ERC20_METADATA = "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol:IERC20Metadata";

/** A stablecoin with its symbol and decimals, connected to the acting account. */
export interface Stablecoin {
  contract: IERC20Metadata;
  address: string;
  symbol: string;
  decimals: number;
}

export async function stablecoinAt(
  hre: HardhatRuntimeEnvironment,
  c: Cinder,
  address: string,
): Promise<Stablecoin> {
  const contract = (await hre.ethers.getContractAt(
    ERC20_METADATA,
    address,
    c.signer,
  )) as unknown as IERC20Metadata;
  try {
    return {
      contract,
      address,
      symbol: await contract.symbol(),
      decimals: Number(await contract.decimals()),
    };
  } catch {
    throw new TaskError(`${address} is not an ERC-20 token with a symbol and decimals`);
  }
}

/** The class id argument, checked against the classes that exist. */
export async function parseClassId(c: Cinder, value: string | undefined): Promise<bigint> {
  const classId = parseInteger(value, "--class");
  const count = await c.voucherMarket.classCount();
  if (classId === 0n || classId > count) {
    throw new TaskError(
      `voucher class ${classId} does not exist (${count} class${count === 1n ? "" : "es"} listed)`,
    );
  }
  return classId;
}

task("cinder:buy-voucher", "Buys vouchers of a class with its stablecoin (approves the VoucherMarket)")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam("class", "voucher class id (see cinder:status)")
  .addOptionalParam("vouchers", "number of vouchers to buy")
  .addOptionalParam("maxCost", "most stablecoin to pay, premium included (default: the quote)")
  .addOptionalParam("recipient", "who receives the vouchers (default: the acting account)")
  .setAction(
    async (
      args: { from?: string; class?: string; vouchers?: string; maxCost?: string; recipient?: string },
      hre,
    ) => {
      const vouchers = parseInteger(args.vouchers, "--vouchers", 1n);
      const recipientArg = parseRecipient(args.recipient, "--recipient");
      const c = await loadCinder(hre, args.from);
      const me = c.signer.address;
      const recipient = recipientArg ?? me;
      const classId = await parseClassId(c, args.class);
      const terms = await c.voucherMarket.getClass(classId);
      const coin = await stablecoinAt(hre, c, terms.stablecoin);
      const maxCost =
        args.maxCost === undefined ? undefined : parseAmount(args.maxCost, "--max-cost", coin.decimals);

      if (!terms.active)
        throw new TaskError(`voucher class ${classId} is not on sale (deactivated by governance)`);
      if (terms.expiry !== 0n && (await chainNow(hre)) >= terms.expiry) {
        throw new TaskError(`voucher class ${classId} expired at ${formatTime(terms.expiry)}`);
      }
      if (terms.supplyCap !== 0n && terms.minted + vouchers > terms.supplyCap) {
        throw new TaskError(
          `--vouchers ${vouchers} exceeds what class ${classId} has left: ${terms.supplyCap - terms.minted} of ` +
            `${terms.supplyCap}`,
        );
      }
      const [principal, premium] = await c.voucherMarket.quoteBuy(classId, vouchers);
      const cost = principal + premium;
      const show = (value: bigint) => formatAmount(value, coin.symbol, coin.decimals);
      if (maxCost !== undefined && cost > maxCost) {
        throw new TaskError(
          `${vouchers} vouchers cost ${show(cost)} (premium included), above --max-cost ${args.maxCost}`,
        );
      }
      const balance = await coin.contract.balanceOf(me);
      if (cost > balance) {
        throw new TaskError(
          `${vouchers} vouchers cost ${show(cost)}, above your balance of ${show(balance)}`,
        );
      }

      await approveIfNeeded(c, coin.contract, await c.voucherMarket.getAddress(), cost, "the VoucherMarket");
      const receipt = await send(c, "buy vouchers", c.voucherMarket.buy(classId, vouchers, cost, recipient));
      const bought = eventArgs(
        receipt,
        c.voucherMarket,
        await c.voucherMarket.getAddress(),
        "VouchersBought",
      );
      console.log(
        `bought ${vouchers} voucher${vouchers === 1n ? "" : "s"} of class ${classId} ` +
          `(${formatAmount(vouchers * terms.unitsPerVoucher, "", 0, 0)} model units) for ${recipient}: principal ` +
          `${show(bought.principal as bigint)} escrowed, premium ${show(bought.premium as bigint)} to the treasury`,
      );
    },
  );

task(
  "cinder:approve-coordinator",
  "Lets the JobCoordinator escrow your vouchers and ComputeCredit when you request jobs",
)
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: { from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const coordinator = await c.jobCoordinator.getAddress();
    let sent = false;
    if (!(await c.voucherMarket.isApprovedForAll(me, coordinator))) {
      await send(c, "approve vouchers", c.voucherMarket.setApprovalForAll(coordinator, true));
      sent = true;
    }
    if ((await c.computeCredit.allowance(me, coordinator)) !== MaxUint256) {
      await send(c, "approve ComputeCredit", c.computeCredit.approve(coordinator, MaxUint256));
      sent = true;
    }
    console.log(
      `${sent ? "" : "already done (nothing sent): "}the JobCoordinator ${coordinator} may escrow ${me}'s ` +
        "vouchers (every class) and ComputeCredit (unlimited) for job requests",
    );
  });

task(
  "cinder:withdraw-earnings",
  "Pays out the stablecoin the VoucherMarket owes an account (provider earnings)",
)
  .addOptionalParam("from", "account index or address (default: the first account)")
  .addOptionalParam(
    "account",
    "whose earnings to pay out; the money always goes to it (default: the acting account)",
  )
  .addOptionalParam("stablecoin", "stablecoin address (default: the deployment's stablecoin)")
  .setAction(async (args: { from?: string; account?: string; stablecoin?: string }, hre) => {
    const accountArg = parseRecipient(args.account, "--account");
    const stablecoinArg = parseRecipient(args.stablecoin, "--stablecoin");
    const c = await loadCinder(hre, args.from);
    const account = accountArg ?? c.signer.address;
    const address = stablecoinArg ?? c.manifest.extras.stablecoin;
    if (!address)
      throw new TaskError("this deployment has no default stablecoin: give --stablecoin <address>");
    const coin = await stablecoinAt(hre, c, address);
    const owed = await c.voucherMarket.owed(account, coin.address);
    if (owed === 0n)
      throw new TaskError(`the VoucherMarket owes ${account} nothing in ${coin.symbol} (${coin.address})`);

    const receipt = await send(c, "withdraw earnings", c.voucherMarket.withdraw(account, coin.address));
    const paid = eventArgs(receipt, c.voucherMarket, await c.voucherMarket.getAddress(), "Withdrawn")
      .amount as bigint;
    console.log(`paid ${formatAmount(paid, coin.symbol, coin.decimals)} to ${account}`);
  });
