import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadFixture } from "@nomicfoundation/hardhat-toolbox/network-helpers";
import { artifacts, ethers } from "hardhat";
import { deployLocalFixture } from "./taskFixture";
import { readManifest, MANIFEST_CONTRACTS, type ContractKey } from "../../deploy/manifest";

const ROOT = path.join(__dirname, "..", "..");
const CONSUMER = path.join(ROOT, "test", "consumer");
const TSC = require.resolve("typescript/bin/tsc");

/** Runs a command from the repository root; returns its combined output and exit status. */
function run(command: string, args: string[]): { status: number; output: string } {
  try {
    const output = execFileSync(command, args, { cwd: ROOT, encoding: "utf8", stdio: "pipe" });
    return { status: 0, output };
  } catch (error) {
    const e = error as { status: number; stdout?: string; stderr?: string };
    return { status: e.status, output: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/**
 * The typed bindings dApps install (`npm run build` → dist/): built from this checkout, resolved through the
 * package's own name and `exports` map, compiled against a consumer, and used at runtime on a deployment.
 */
describe("Typed bindings (npm run build → dist/)", function () {
  this.timeout(300_000);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let bindings: any;

  before(() => {
    // The build's own steps (the contracts are already compiled by the test run).
    const embed = run(process.execPath, [
      "-r",
      "ts-node/register/transpile-only",
      "scripts/build-bindings.ts",
    ]);
    expect(embed.status, embed.output).to.equal(0);
    const build = run(process.execPath, [TSC, "-p", "tsconfig.build.json"]);
    expect(build.status, build.output).to.equal(0);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bindings = require(path.join(ROOT, "dist", "bindings", "index.js"));
  });

  it("points package.json main, types and exports at the built entry point", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.main).to.equal("dist/bindings/index.js");
    expect(pkg.types).to.equal("dist/bindings/index.d.ts");
    expect(pkg.exports["."]).to.deep.equal({
      types: "./dist/bindings/index.d.ts",
      default: "./dist/bindings/index.js",
    });
  });

  it("type-checks a consumer through the package name, and rejects each misuse of the API", () => {
    const { status, output } = run(process.execPath, [TSC, "-p", path.join(CONSUMER, "tsconfig.json")]);
    const errors = output.split("\n").filter((line) => /error TS\d+/.test(line));
    expect(status).to.not.equal(0); // misuse.ts must not compile
    expect(
      errors.filter((line) => !line.startsWith("test/consumer/misuse.ts")),
      output,
    ).to.deep.equal([]);
    // One error on each line marked `expect:` in misuse.ts, with the code it names.
    const expected = readFileSync(path.join(CONSUMER, "misuse.ts"), "utf8")
      .split("\n")
      .map((line, i) => ({ line: i + 1, code: /expect: (TS\d+)/.exec(line)?.[1] }))
      .filter((e) => e.code)
      .map((e) => `misuse.ts(${e.line}) ${e.code}`);
    const found = errors.map((line) => {
      const m = /misuse\.ts\((\d+),\d+\): error (TS\d+)/.exec(line)!;
      return `misuse.ts(${m[1]}) ${m[2]}`;
    });
    expect(expected).to.have.length(4);
    expect(found).to.deep.equal(expected);
  });

  it("exports every protocol contract's ABI exactly as compiled", async () => {
    for (const [key, name] of Object.entries(MANIFEST_CONTRACTS)) {
      expect(bindings.ABIS[key], key).to.deep.equal((await artifacts.readArtifact(name)).abi);
    }
  });

  it("connects every contract of a deployment manifest and reads it", async () => {
    const { contracts } = await loadFixture(deployLocalFixture);
    const manifest = readManifest((await ethers.provider.getNetwork()).chainId)!;
    const [signer] = await ethers.getSigners();
    const cinder = bindings.connectCinder(manifest, signer);
    for (const key of Object.keys(MANIFEST_CONTRACTS) as ContractKey[]) {
      expect(await cinder[key].getAddress(), key).to.equal(contracts[key]);
    }
    expect(await cinder.jobCoordinator.challengeWindow()).to.equal(60n); // localhost.json: 1m
    expect(await cinder.token.symbol()).to.equal("CNDR");
    expect(await cinder.stablecoin.decimals()).to.equal(6n);
  });

  it("builds the EIP-712 attestation a coordinator accepts", async () => {
    const { contracts } = await loadFixture(deployLocalFixture);
    const coordinator = await ethers.getContractAt("JobCoordinator", contracts.jobCoordinator);
    const chainId = (await ethers.provider.getNetwork()).chainId;
    const { domain, types } = bindings.resultTypedData(chainId, contracts.jobCoordinator);
    const result = {
      jobId: 7n,
      modelId: ethers.id("stories260K"),
      inputHash: ethers.id("in"),
      outputHash: ethers.id("out"),
      unitsUsed: 42n,
    };
    expect(ethers.TypedDataEncoder.hash(domain, types, result)).to.equal(
      await coordinator.resultDigest(result.jobId, result.modelId, result.inputHash, result.outputHash, 42n),
    );
  });
});
