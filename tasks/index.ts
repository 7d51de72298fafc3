/** Registers every `cinder:*` task (imported by hardhat.config.ts). */
import "./status";
import "./staking";
import "./credit";
import "./vouchers";
import "./faucet";
import "./providers";
import "./jobs";
import "./epoch";
