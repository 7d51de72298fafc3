/**
 * The relayer's configuration and command line, without a chain: every bad file gives one ConfigError naming
 * the field at fault; keys load from an environment variable or an encrypted keystore; `cinder-relayer` exits 2
 * with a short "configuration error:" message (no stack trace) on a bad config and with the usage on a bad
 * command line, and `check` prints the provider address of a good one.
 */
import { expect } from "chai";
import path from "node:path";
import { mkdirSync, writeFileSync } from "node:fs";
import { encryptKeystoreJsonSync, id, Wallet } from "ethers";
import pino from "pino";
import {
  ConfigError,
  loadKeys,
  loadRelayerConfig,
  parseRelayerConfig,
  type RelayerConfig,
} from "../../relayer/config";
import { createBackend } from "../../relayer/inference";
import { RelayerNode } from "../../relayer/node";
import { MODEL_PATH, removeTmpDirs, runCli, tmpDir, writeYaml } from "./harness";

/** Hardhat account 1 (a public test key). */
const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const KEY_ADDRESS = new Wallet(KEY).address;
const ADDR = (digit: string) => `0x${digit.repeat(40)}`;

/** A minimal valid configuration object; tests break one field at a time. */
function goodConfig(): Record<string, any> {
  return {
    chain: { rpcUrl: "http://127.0.0.1:8545", manifest: "deployments/31337.json" },
    key: { env: "CINDER_TEST_KEY" },
    models: [{ id: "stories260K", inference: { backend: "llama", model: MODEL_PATH, threads: 1 } }],
    database: "relayer.db",
  };
}

/** The ConfigError `fn` throws (fails if it throws anything else or nothing). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

async function configErrorAsync(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

/** The `- field: message` lines of a schema ConfigError. */
function issueLines(error: ConfigError): string[] {
  return error.message
    .split("\n")
    .slice(1)
    .map((line) => line.trim());
}

/** Sets environment variables for one test (restored by the returned function). */
function withEnv(vars: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

const STACK_LINE = /^\s+at\s/m;

describe("relayer configuration (config.ts)", function () {
  this.timeout(60_000);
  let dir: string;

  before(() => {
    dir = tmpDir("cinder-config-test-");
  });
  after(() => removeTmpDirs());

  describe("parsing", () => {
    it("loads a valid YAML file and resolves relative paths against the file's folder", () => {
      const raw = goodConfig();
      raw.models[0].inference.model = "models/m.gguf";
      mkdirSync(path.join(dir, "models"), { recursive: true });
      writeFileSync(path.join(dir, "models", "m.gguf"), "GGUF");
      const file = writeYaml(dir, "good.yaml", raw);
      const config = loadRelayerConfig(file);
      expect(config.chain.manifest).to.equal(path.join(dir, "deployments", "31337.json"));
      expect(config.database).to.equal(path.join(dir, "relayer.db"));
      expect(config.models[0].inference).to.include({
        backend: "llama",
        model: path.join(dir, "models", "m.gguf"),
      });
      expect(config.models[0].id).to.equal(id("stories260K"));
      expect(config.file).to.equal(file);
      // Defaults a production relayer relies on.
      expect(config.chain.confirmations).to.equal(2);
      expect(config.http.port).to.equal(8787);
    });

    it("a missing file: names the file and says how to pass one", () => {
      const missing = path.join(dir, "nope.yaml");
      const error = configError(() => loadRelayerConfig(missing));
      expect(error.message).to.include(missing).and.include("does not exist").and.include("--config");
    });

    it("invalid YAML / invalid JSON: names the file and the syntax", () => {
      const yamlFile = path.join(dir, "broken.yaml");
      writeFileSync(yamlFile, "chain:\n  rpcUrl: [unclosed\nkey: {env: X\n");
      const yamlError = configError(() => loadRelayerConfig(yamlFile));
      expect(yamlError.message).to.include(yamlFile).and.include("not valid YAML");

      const jsonFile = path.join(dir, "broken.json");
      writeFileSync(jsonFile, '{ "chain": { "rpcUrl": "http://x", } ');
      const jsonError = configError(() => loadRelayerConfig(jsonFile));
      expect(jsonError.message).to.include(jsonFile).and.include("not valid JSON");
    });

    it("an unknown field (a typo) is rejected, not ignored: the message names the section and the key", () => {
      const typo = goodConfig();
      typo.chain.pollIntervalMS = 100;
      const error = configError(() => parseRelayerConfig(typo, "r.yaml"));
      expect(issueLines(error)).to.have.length(1);
      expect(issueLines(error)[0]).to.match(/^- chain: .*"pollIntervalMS"/);

      const top = { ...goodConfig(), providers: { enabled: true } };
      expect(configError(() => parseRelayerConfig(top, "r.yaml")).message).to.include('"providers"');

      const model = goodConfig();
      model.models[0].inference.thread = 2;
      expect(configError(() => parseRelayerConfig(model, "r.yaml")).message).to.match(
        /models\.0\.inference: .*"thread"/,
      );
    });

    it("a bad contract address names the contract field", () => {
      const raw = goodConfig();
      raw.chain = {
        rpcUrl: "http://127.0.0.1:8545",
        contracts: { jobCoordinator: "0x1234", providerRegistry: ADDR("1"), disputeModule: ADDR("2") },
      };
      const error = configError(() => parseRelayerConfig(raw, "r.yaml"));
      expect(issueLines(error)).to.deep.equal([
        "- chain.contracts.jobCoordinator: must be a 0x-prefixed 20-byte address",
      ]);
      // And a good one is checksummed.
      raw.chain.contracts.jobCoordinator = ADDR("a");
      expect(parseRelayerConfig(raw, "r.yaml").chain.contracts!.jobCoordinator).to.equal(
        "0xaAaAaAaaAaAaAaaAaAAAAAAAAaaaAaAaAaaAaaAa",
      );
    });

    it("a bad RPC URL names chain.rpcUrl", () => {
      const raw = goodConfig();
      raw.chain.rpcUrl = "not a url";
      const error = configError(() => parseRelayerConfig(raw, "r.yaml"));
      expect(issueLines(error)).to.have.length(1);
      expect(issueLines(error)[0]).to.match(/^- chain\.rpcUrl: /);
    });

    it("an RPC URL without an http(s)/ws(s) scheme (localhost:8545, ftp://, file://) names chain.rpcUrl", () => {
      // `localhost:8545` (the scheme forgotten) parses as a URL whose scheme is "localhost:"; the relayer can only
      // fail later, at start, with a non-configuration error.
      for (const rpcUrl of ["localhost:8545", "ftp://127.0.0.1:8545", "file:///tmp/rpc"]) {
        const raw = goodConfig();
        raw.chain.rpcUrl = rpcUrl;
        let error: ConfigError | undefined;
        try {
          parseRelayerConfig(raw, "r.yaml");
        } catch (e) {
          error = e as ConfigError;
        }
        expect(error, `rpcUrl ${rpcUrl} was accepted`).to.be.instanceOf(ConfigError);
        expect(error!.message).to.include("chain.rpcUrl");
      }
    });

    it("needs exactly one of chain.manifest and chain.contracts", () => {
      const both = goodConfig();
      both.chain.contracts = {
        jobCoordinator: ADDR("1"),
        providerRegistry: ADDR("2"),
        disputeModule: ADDR("3"),
      };
      const neither = goodConfig();
      delete neither.chain.manifest;
      for (const raw of [both, neither]) {
        const lines = issueLines(configError(() => parseRelayerConfig(raw, "r.yaml")));
        expect(lines).to.have.length(1);
        expect(lines[0]).to.match(/^- chain: .*`manifest`.*`contracts`/);
      }
    });

    it("key: a keystore without passwordEnv, or neither/both of env and keystore", () => {
      const noPassword = goodConfig();
      noPassword.key = { keystore: "key.json" };
      expect(issueLines(configError(() => parseRelayerConfig(noPassword, "r.yaml")))).to.deep.equal([
        "- key.passwordEnv: a keystore needs `passwordEnv`: the name of the variable holding its password",
      ]);
      const neither = goodConfig();
      neither.key = {};
      expect(configError(() => parseRelayerConfig(neither, "r.yaml")).message).to.match(
        /- key: set exactly one of `env`/,
      );
      const both = goodConfig();
      both.key = { env: "A", keystore: "k.json", passwordEnv: "P" };
      expect(configError(() => parseRelayerConfig(both, "r.yaml")).message).to.match(
        /- key: set exactly one of `env`/,
      );
      // The key itself instead of a variable name is refused (it would end up in the file).
      const literal = goodConfig();
      literal.key = { env: KEY };
      const error = configError(() => parseRelayerConfig(literal, "r.yaml"));
      expect(error.message).to.match(/- key\.env: must be the NAME of an environment variable/);
    });

    it("a model listed twice (by name and by its bytes32 id) names the second entry", () => {
      const raw = goodConfig();
      raw.models.push({
        id: id("stories260K").toUpperCase().replace("0X", "0x"),
        inference: { backend: "llama", model: MODEL_PATH },
      });
      expect(issueLines(configError(() => parseRelayerConfig(raw, "r.yaml")))).to.deep.equal([
        "- models.1.id: listed twice",
      ]);
    });

    it("reports every bad field at once", () => {
      const raw = goodConfig();
      raw.chain.rpcUrl = "nope";
      raw.chain.confirmations = -1;
      raw.http = { port: 70_000 };
      const lines = issueLines(configError(() => parseRelayerConfig(raw, "r.yaml")));
      expect(lines.map((line) => line.split(":")[0])).to.have.members([
        "- chain.rpcUrl",
        "- chain.confirmations",
        "- http.port",
      ]);
    });
  });

  describe("model files", () => {
    it("the backend refuses a model path that does not exist, naming the path", async () => {
      const missing = path.join(dir, "missing.gguf");
      const backend = createBackend(
        { backend: "llama", model: missing, threads: 1 },
        pino({ level: "silent" }),
      );
      let message = "";
      try {
        await backend.load();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).to.include(missing).and.include("does not exist");
      await backend.close();
    });

    it("a model path that does not exist is a ConfigError at parse time, naming the model field and the path", () => {
      const missing = path.join(dir, "missing.gguf");
      const raw = goodConfig();
      raw.models[0].inference.model = missing;
      const error = configError(() => parseRelayerConfig(raw, path.join(dir, "r.yaml")));
      expect(error.message).to.include("models.0.inference.model").and.include(missing);
    });

    it("RelayerNode.create with a file that is not a GGUF model fails with a ConfigError naming the model, before the chain", async () => {
      const bogus = path.join(dir, "bogus.gguf");
      writeFileSync(bogus, "not a model");
      const raw = goodConfig();
      // An RPC endpoint that does not answer: the model is checked first, so this is never reached.
      raw.chain = {
        rpcUrl: "http://127.0.0.1:9",
        contracts: { jobCoordinator: ADDR("1"), providerRegistry: ADDR("2"), disputeModule: ADDR("3") },
      };
      raw.models[0].inference.model = bogus;
      raw.database = ":memory:";
      raw.log = { level: "silent" };
      const config = parseRelayerConfig(raw, path.join(dir, "r.yaml"));
      const restore = withEnv({ CINDER_TEST_KEY: KEY });
      try {
        const error = await configErrorAsync(RelayerNode.create(config));
        expect(error.message).to.include("models.0.inference").and.match(/GGUF/);
      } finally {
        restore();
      }
    });
  });

  describe("keys (loadKeys)", () => {
    const config = (key: Record<string, string>, signerKey?: Record<string, string>): RelayerConfig => {
      const raw = goodConfig();
      raw.key = key;
      if (signerKey) raw.signerKey = signerKey;
      return parseRelayerConfig(raw, path.join(dir, "r.yaml"));
    };

    it("from an environment variable (with or without 0x)", async () => {
      for (const value of [KEY, KEY.slice(2)]) {
        const restore = withEnv({ CINDER_TEST_KEY: value });
        try {
          const { wallet, signer } = await loadKeys(config({ env: "CINDER_TEST_KEY" }));
          expect(wallet.address).to.equal(KEY_ADDRESS);
          expect(signer.address).to.equal(KEY_ADDRESS);
        } finally {
          restore();
        }
      }
    });

    it("the variable is not set: names key.env and the variable", async () => {
      const restore = withEnv({ CINDER_TEST_KEY: undefined });
      try {
        const error = await configErrorAsync(loadKeys(config({ env: "CINDER_TEST_KEY" })));
        expect(error.message)
          .to.match(/^key\.env: /)
          .and.include("CINDER_TEST_KEY")
          .and.include("not set");
      } finally {
        restore();
      }
    });

    it("a malformed key: names key.env and never echoes the value", async () => {
      for (const bad of ["0x1234", `${KEY}00`, "zz".repeat(32), KEY.replace("5", "g")]) {
        const restore = withEnv({ CINDER_TEST_KEY: bad });
        try {
          const error = await configErrorAsync(loadKeys(config({ env: "CINDER_TEST_KEY" })));
          expect(error.message)
            .to.match(/^key\.env: /)
            .and.include("CINDER_TEST_KEY");
          expect(error.message).not.to.include(bad.replace(/^0x/, ""));
        } finally {
          restore();
        }
      }
    });

    it("signerKey: a separate attestation key, errors named signerKey.*", async () => {
      const signerKey = Wallet.createRandom().privateKey;
      const restore = withEnv({ CINDER_TEST_KEY: KEY, CINDER_TEST_SIGNER: signerKey });
      try {
        const { wallet, signer } = await loadKeys(
          config({ env: "CINDER_TEST_KEY" }, { env: "CINDER_TEST_SIGNER" }),
        );
        expect(wallet.address).to.equal(KEY_ADDRESS);
        expect(signer.address).to.equal(new Wallet(signerKey).address);
        delete process.env.CINDER_TEST_SIGNER;
        const error = await configErrorAsync(
          loadKeys(config({ env: "CINDER_TEST_KEY" }, { env: "CINDER_TEST_SIGNER" })),
        );
        expect(error.message).to.match(/^signerKey\.env: /);
      } finally {
        restore();
      }
    });

    describe("encrypted keystore", () => {
      let keystore: string;
      before(() => {
        // A low scrypt cost keeps the test fast; the relayer reads the cost from the file.
        const json = encryptKeystoreJsonSync({ address: KEY_ADDRESS, privateKey: KEY }, "correct horse", {
          scrypt: { N: 1 << 10 },
        });
        keystore = path.join(dir, "key.json");
        writeFileSync(keystore, json);
      });

      it("loads with the right password", async () => {
        const restore = withEnv({ CINDER_TEST_PASSWORD: "correct horse" });
        try {
          const { wallet } = await loadKeys(config({ keystore, passwordEnv: "CINDER_TEST_PASSWORD" }));
          expect(wallet.address).to.equal(KEY_ADDRESS);
          expect(wallet.privateKey).to.equal(KEY);
        } finally {
          restore();
        }
      });

      it("a wrong password fails clearly (key.keystore, the file, no key material)", async () => {
        const restore = withEnv({ CINDER_TEST_PASSWORD: "wrong horse" });
        try {
          const error = await configErrorAsync(
            loadKeys(config({ keystore, passwordEnv: "CINDER_TEST_PASSWORD" })),
          );
          expect(error.message)
            .to.match(/^key\.keystore: cannot decrypt/)
            .and.include(keystore)
            .and.match(/password/i);
          expect(error.message).not.to.include(KEY.slice(2, 20));
          expect(error.message).not.to.include("wrong horse");
        } finally {
          restore();
        }
      });

      it("the password variable unset, or the keystore missing, name their fields", async () => {
        const restore = withEnv({ CINDER_TEST_PASSWORD: undefined });
        try {
          const unset = await configErrorAsync(
            loadKeys(config({ keystore, passwordEnv: "CINDER_TEST_PASSWORD" })),
          );
          expect(unset.message)
            .to.match(/^key\.passwordEnv: /)
            .and.include("CINDER_TEST_PASSWORD");
          const missing = await configErrorAsync(
            loadKeys(config({ keystore: path.join(dir, "nokey.json"), passwordEnv: "CINDER_TEST_PASSWORD" })),
          );
          expect(missing.message)
            .to.match(/^key\.keystore: /)
            .and.include("nokey.json");
        } finally {
          restore();
        }
      });
    });
  });

  describe("cinder-relayer command line", () => {
    let good: string;
    before(() => {
      good = writeYaml(dir, "cli-good.yaml", { ...goodConfig(), key: { env: "RELAYER_KEY" } });
    });

    /** Exit 2, a "configuration error:" message naming `field`, nothing on stdout, no stack trace. */
    function expectConfigExit(result: Awaited<ReturnType<typeof runCli>>, field: string): void {
      expect(result.code, result.stderr).to.equal(2);
      expect(result.stdout).to.equal("");
      expect(result.stderr).to.match(/^configuration error: /);
      expect(result.stderr).to.include(field);
      expect(result.stderr).not.to.match(STACK_LINE);
    }

    it("start with a missing config file: exit 2, one line", async () => {
      const result = await runCli(["start", "--config", path.join(dir, "absent.yaml")]);
      expectConfigExit(result, "absent.yaml");
      expect(result.stderr.trimEnd().split("\n")).to.have.length(1);
    });

    it("start with an invalid config: exit 2 naming the field, no stack trace", async () => {
      const bad = goodConfig();
      bad.chain.rpcUrl = "not a url";
      const result = await runCli(["start", "--config", writeYaml(dir, "cli-bad.yaml", bad)], {
        RELAYER_KEY: KEY,
      });
      expectConfigExit(result, "chain.rpcUrl");
    });

    it("start with the key variable unset: exit 2 naming key.env, one line, before touching the chain", async () => {
      // The RPC URL points at nothing: the key is checked first, so this exits at once instead of waiting for it.
      const result = await runCli(["start", "--config", good]);
      expectConfigExit(result, "key.env");
      expect(result.stderr).to.include("RELAYER_KEY");
      expect(result.stderr.trimEnd().split("\n")).to.have.length(1);
    });

    it("an unknown command or option: exit 2 with the usage", async () => {
      const [command, option, none] = await Promise.all([
        runCli(["serve", "--config", good]),
        runCli(["start", "--config", good, "--verbose"]),
        runCli([]),
      ]);
      expect(command.code).to.equal(2);
      expect(command.stderr).to.include('unknown command "serve"').and.include("usage:");
      expect(option.code).to.equal(2);
      expect(option.stderr).to.include("unknown option --verbose").and.include("usage:");
      expect(none.code).to.equal(2);
      expect(none.stderr).to.include("usage:");
      for (const result of [command, option, none]) expect(result.stderr).not.to.match(STACK_LINE);
    });

    it("check on a good config prints the provider address and exits 0 (the key never printed)", async () => {
      const result = await runCli(["check", "--config", good], { RELAYER_KEY: KEY });
      expect(result.code, result.stderr).to.equal(0);
      expect(result.stdout).to.include(KEY_ADDRESS).and.include("is valid");
      expect(result.stdout + result.stderr).not.to.include(KEY.slice(2));
    });

    it("check with a malformed key: exit 2 naming key.env", async () => {
      const result = await runCli(["check", "--config", good], { RELAYER_KEY: "0xnothex" });
      expectConfigExit(result, "key.env");
      expect(result.stderr).not.to.include("nothex");
    });
  });
});
