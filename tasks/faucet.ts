/**
 * `cinder:faucet`: funds an account on a local network (chain 31337) with protocol tokens from the deployer
 * (account 0, the local treasury, which holds the initial supply) and freshly minted mock USDC.
 */
import { task } from "hardhat/config";
import { account, formatAmount, loadCinder, parseAmount, send, TaskError } from "./lib";
import { parseRecipient, requireEnough } from "./lib";
import { stablecoinAt } from "./vouchers";

const LOCAL_CHAIN_ID = 31337n;

task("cinder:faucet", "Local networks only: sends CNDR from the deployer (account 0) and mints mock USDC")
  .addOptionalParam("from", "account index or address: the default recipient (default: the first account)")
  .addOptionalParam("to", "recipient address (default: the --from account)")
  .addOptionalParam("cndr", "protocol tokens to send (0: none)", "10000")
  .addOptionalParam("usdc", "mock USDC to mint (0: none)", "1000")
  .setAction(async (args: { from?: string; to?: string; cndr?: string; usdc?: string }, hre) => {
    const chainId = (await hre.ethers.provider.getNetwork()).chainId;
    if (chainId !== LOCAL_CHAIN_ID) {
      throw new TaskError(
        `cinder:faucet only runs on a local network (chain ${LOCAL_CHAIN_ID}); "${hre.network.name}" is chain ` +
          `${chainId}: get tokens from the treasury instead`,
      );
    }
    const cndr = parseAmount(args.cndr ?? "10000", "--cndr", 18, true);
    const toArg = parseRecipient(args.to, "--to");
    const c = await loadCinder(hre, args.from);
    const to = toArg ?? c.signer.address;
    const usdcText = args.usdc ?? "1000";
    const coin = c.manifest.extras.stablecoin
      ? await stablecoinAt(hre, c, c.manifest.extras.stablecoin)
      : undefined;
    const usdc = parseAmount(usdcText, "--usdc", coin?.decimals ?? 6, true);
    if (cndr === 0n && usdc === 0n) throw new TaskError("--cndr and --usdc are both 0: nothing to send");
    if (usdc !== 0n && (!coin || !c.stablecoin)) {
      throw new TaskError(
        "this deployment has no mock stablecoin to mint (deploy CinderLocal): use --usdc 0",
      );
    }

    const treasury = await account(hre, "0");
    if (cndr !== 0n) {
      requireEnough(
        "--cndr",
        args.cndr ?? "10000",
        cndr,
        await c.token.balanceOf(treasury.address),
        `the local treasury's (account 0) balance`,
        "CNDR",
      );
    }

    if (cndr !== 0n && to !== treasury.address) {
      await send(c, "send CNDR", c.token.connect(treasury).transfer(to, cndr));
    }
    if (usdc !== 0n) await send(c, `mint ${coin!.symbol}`, c.stablecoin!.mint(to, usdc));
    const sent: string[] = [];
    if (cndr !== 0n) {
      sent.push(
        to === treasury.address
          ? "no CNDR (the recipient is the treasury itself)"
          : formatAmount(cndr, "CNDR"),
      );
    }
    if (usdc !== 0n) sent.push(formatAmount(usdc, coin!.symbol, coin!.decimals));
    console.log(
      `funded ${to} with ${sent.join(" and ")}: it holds ${formatAmount(await c.token.balanceOf(to), "CNDR")}` +
        (coin ? ` and ${formatAmount(await coin.contract.balanceOf(to), coin.symbol, coin.decimals)}` : ""),
    );
  });
