/**
 * Provider registration and exit: `cinder:register-provider` bonds tokens and offers a model at a USD price per
 * unit; `cinder:provider-exit` starts unbonding, and with `--withdraw` takes the bond back once it may.
 */
import { task } from "hardhat/config";
import { ZeroAddress } from "ethers";
import { TaskError, formatAmount, loadCinder, parseAddress, parseAmount, send } from "./lib";
import { activeModel, modelLabel } from "./jobs";
import { chainNow, formatTime, plural, usd } from "./lib";
import { ProviderStatus } from "../bindings/enums";

const PROVIDER_STATUS = ProviderStatus;

interface RegisterArgs {
  bond?: string;
  signer?: string;
  model?: string;
  price?: string;
  uri?: string;
  from?: string;
}

task(
  "cinder:register-provider",
  "Registers the acting account as a provider: bond, attestation signer, model price",
)
  .addOptionalParam("bond", "bond in protocol tokens (at least the registry's minimum)")
  .addOptionalParam("signer", "address whose key signs result attestations (EIP-712)")
  .addOptionalParam("model", "model name (hashed, e.g. stories260K) or 0x-prefixed 32-byte id")
  .addOptionalParam("price", "USD price per model unit, e.g. 0.00001")
  .addOptionalParam("uri", "metadata URI (endpoint, description)", "")
  .addOptionalParam("from", "account index or address (default: the first account)")
  .setAction(async (args: RegisterArgs, hre) => {
    const bond = parseAmount(args.bond, "--bond");
    const signer = parseAddress(args.signer, "--signer");
    if (signer === ZeroAddress) throw new TaskError("--signer must not be the zero address");
    const price = parseAmount(args.price, "--price");
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const modelId = await activeModel(c, args.model);
    const symbol = await c.token.symbol();

    const record = await c.providerRegistry.getProvider(me);
    if (record.status !== 0n) {
      throw new TaskError(`${me} is already registered (${PROVIDER_STATUS[Number(record.status)]})`);
    }
    if (await c.providerRegistry.paused()) {
      throw new TaskError(
        "the ProviderRegistry is paused by the guardian: registration is refused until unpaused",
      );
    }
    const minBond = await c.providerRegistry.minBond();
    if (bond < minBond) {
      throw new TaskError(
        `--bond ${formatAmount(bond, symbol)} is below the minimum bond ${formatAmount(minBond, symbol)}`,
      );
    }
    const balance = await c.token.balanceOf(me);
    if (balance < bond) {
      throw new TaskError(
        `${me} holds ${formatAmount(balance, symbol)}; --bond needs ${formatAmount(bond, symbol)}`,
      );
    }

    const registry = await c.providerRegistry.getAddress();
    if ((await c.token.allowance(me, registry)) < bond) {
      await send(
        c,
        `${symbol}.approve(ProviderRegistry, ${formatAmount(bond, symbol)})`,
        c.token.approve(registry, bond),
      );
    }
    await send(
      c,
      "ProviderRegistry.register",
      c.providerRegistry.register(bond, args.uri ?? "", signer, [modelId], [price]),
    );
    console.log(`provider ${me} registered`);
    console.log(`  bond      ${formatAmount(bond, symbol)}`);
    console.log(`  signer    ${signer}`);
    console.log(`  offer     ${await modelLabel(c, modelId)} at ${usd(price)} per unit`);
    if (args.uri) console.log(`  metadata  ${args.uri}`);
  });

task(
  "cinder:provider-exit",
  "Starts a provider's exit (unbonding); --withdraw takes the bond back afterwards",
)
  .addFlag("withdraw", "withdraw the bond once the unbonding period has passed and no job is open")
  .addOptionalParam("from", "the provider's account index or address (default: the first account)")
  .setAction(async (args: { withdraw: boolean; from?: string }, hre) => {
    const c = await loadCinder(hre, args.from);
    const me = c.signer.address;
    const symbol = await c.token.symbol();
    const record = await c.providerRegistry.getProvider(me);
    const status = PROVIDER_STATUS[Number(record.status)];
    const now = await chainNow(hre);

    if (!args.withdraw) {
      if (status !== "Active") {
        throw new TaskError(
          status === "None"
            ? `${me} is not a registered provider`
            : `${me} is already exiting: unbonding ends ${formatTime(record.unbondingEnds, now)}; ` +
                "then run cinder:provider-exit --withdraw",
        );
      }
      const receipt = await send(c, "ProviderRegistry.requestExit", c.providerRegistry.requestExit());
      const after = await c.providerRegistry.getProvider(me);
      const mined = BigInt((await hre.ethers.provider.getBlock(receipt.blockNumber))!.timestamp);
      console.log(
        `provider ${me} is exiting: no new jobs; bond ${formatAmount(after.bond, symbol)} withdrawable from ` +
          `${formatTime(after.unbondingEnds, mined > now ? mined : now)}` +
          (after.openJobs !== 0n ? ` once its ${plural(after.openJobs, "open job")} settle` : "") +
          " (cinder:provider-exit --withdraw)",
      );
      return;
    }

    if (status !== "Exiting") {
      throw new TaskError(
        status === "None"
          ? `${me} is not a registered provider: nothing to withdraw`
          : `${me} is Active: run cinder:provider-exit (without --withdraw) first to start unbonding`,
      );
    }
    const problems: string[] = [];
    if (now + 1n < record.unbondingEnds)
      problems.push(`unbonding ends ${formatTime(record.unbondingEnds, now)}`);
    if (record.openJobs !== 0n) {
      problems.push(
        `${plural(record.openJobs, "open job")} must settle first (finalize, expire or resolve them)`,
      );
    }
    if (problems.length) throw new TaskError(`cannot withdraw the bond yet: ${problems.join("; ")}`);
    const receipt = await send(c, "ProviderRegistry.withdrawBond", c.providerRegistry.withdrawBond());
    const event = receipt.logs
      .map((log) => {
        try {
          return c.providerRegistry.interface.parseLog(log);
        } catch {
          return null;
        }
      })
      .find((e) => e?.name === "BondWithdrawn");
    console.log(
      `provider ${me} withdrew its bond: ${formatAmount((event?.args.amount as bigint) ?? 0n, symbol)}`,
    );
  });
