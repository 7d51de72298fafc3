import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import CinderEconomy from "./CinderEconomy";
import { ROLES } from "./CinderCore";

const WAD = 10n ** 18n;

/**
 * The market's supply side on top of the economy: ModelRegistry, ProviderRegistry (bonds in the protocol
 * token) and VoucherMarket (ERC-1155 stablecoin vouchers), with the market holding the engine's
 * REPORTER_ROLE so redeemed voucher principal shows up as organic revenue in the epoch ledger.
 */
export default buildModule("CinderMarket", (m) => {
  const economy = m.useModule(CinderEconomy);
  const admin = m.getParameter("admin", m.getAccount(0));
  const treasury = m.getParameter("treasury", m.getAccount(0));

  const modelRegistry = m.contract("ModelRegistry", [admin]);
  const providerRegistry = m.contract("ProviderRegistry", [
    economy.token,
    modelRegistry,
    admin,
    m.getParameter("minBond", 1_000n * WAD),
    m.getParameter("unbondingPeriod", 7n * 24n * 3600n),
  ]);
  const voucherMarket = m.contract("VoucherMarket", [
    m.getParameter("voucherURI", "https://cinder.example/vouchers/{id}.json"),
    economy.engine,
    treasury,
    admin,
    m.getParameter("protocolFeeBps", 100n),
  ]);

  m.call(economy.engine, "grantRole", [ROLES.REPORTER, voucherMarket], {
    id: "engine_grant_reporter_to_market",
  });

  return { ...economy, modelRegistry, providerRegistry, voucherMarket };
});
