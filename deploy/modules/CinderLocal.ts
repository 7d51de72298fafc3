import { governed } from "./Cinder";
import CinderLocalSetup from "./CinderLocalSetup";

/**
 * The governed protocol with a local genesis (mock USDC, the demo model, voucher class 1): what
 * `npm run deploy:local` deploys to `npx hardhat node`, so every task works right after deployment.
 */
export default governed("CinderLocal", CinderLocalSetup);
