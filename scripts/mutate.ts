/**
 * Mutation check: does the test suite notice when a rule of a core contract is broken?
 *
 * For each core contract it generates mutants of two kinds:
 *   - a comparison operator flipped inside a `require(...)` or `if (...)` condition (`<` → `<=`, `>=` → `>`,
 *     `==` → `!=`, …);
 *   - a `require(...)` removed.
 * It applies each mutant in a COPY of the repository (a temporary workspace with node_modules linked, so
 * the working tree is never touched), runs that contract's test files with `--bail`, and counts the mutant
 * killed when a test fails. A mutant that does not compile is reported as stillborn and left out of the rate.
 *
 *   npm run mutate                          # a fixed, seeded sample of mutants per contract
 *   npm run mutate -- --per-contract 12     # a larger sample
 *   npm run mutate -- --contract JobCoordinator --all
 *
 * Prints one line per mutant and the kill rate per contract and overall; `--min-rate 90` (the default) makes the
 * exit code 1 below that rate. Writes the table to bench/mutation-report.md.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.join(__dirname, "..");

/** The core contracts and the Hardhat test files that exercise each. */
export const TARGETS: Record<string, { file: string; tests: string[] }> = {
  JobCoordinator: {
    file: "contracts/JobCoordinator.sol",
    tests: ["JobCoordinator.test.ts", "Jobs.integration.test.ts"],
  },
  DisputeModule: {
    file: "contracts/DisputeModule.sol",
    tests: ["DisputeModule.test.ts", "Jobs.integration.test.ts"],
  },
  ArbiterCommitteeVerifier: {
    file: "contracts/verifiers/ArbiterCommitteeVerifier.sol",
    tests: ["DisputeModule.test.ts", "Jobs.integration.test.ts"],
  },
  StakingVault: {
    file: "contracts/StakingVault.sol",
    tests: ["StakingVault.test.ts", "EconomySmoke.test.ts"],
  },
  DailyCredit: { file: "contracts/DailyCredit.sol", tests: ["DailyCredit.test.ts", "EconomySmoke.test.ts"] },
  BurnMintEngine: {
    file: "contracts/BurnMintEngine.sol",
    tests: ["BurnMintEngine.test.ts", "BurnMintEngine.scenario.test.ts"],
  },
  ComputeCredit: { file: "contracts/ComputeCredit.sol", tests: ["ComputeCredit.test.ts"] },
  VoucherMarket: { file: "contracts/VoucherMarket.sol", tests: ["VoucherMarket.test.ts"] },
  ProviderRegistry: { file: "contracts/ProviderRegistry.sol", tests: ["ProviderRegistry.test.ts"] },
  ProtocolToken: { file: "contracts/ProtocolToken.sol", tests: ["ProtocolToken.test.ts"] },
  ModelRegistry: { file: "contracts/ModelRegistry.sol", tests: ["ModelRegistry.test.ts"] },
};

export interface Mutant {
  contract: string;
  line: number;
  kind: "flip" | "remove-require";
  description: string;
  source: string;
}

const FLIPS: [RegExp, string, string][] = [
  [/<=/, "<", "<= → <"],
  [/>=/, ">", ">= → >"],
  [/==/, "!=", "== → !="],
  [/!=/, "==", "!= → =="],
  [/(?<![<>=!])<(?![<=])/, "<=", "< → <="],
  [/(?<![<>=!-])>(?![>=])/, ">=", "> → >="],
];

/** The end index (exclusive) of the statement `require(...)` starting at `start` (balanced parentheses + `;`). */
function requireEnd(source: string, start: number): number {
  let depth = 0;
  for (let i = source.indexOf("(", start); i < source.length; i++) {
    if (source[i] === "(") depth++;
    else if (source[i] === ")" && --depth === 0) {
      const semicolon = source.indexOf(";", i);
      return semicolon + 1;
    }
  }
  return -1;
}

const lineOf = (source: string, index: number) => source.slice(0, index).split("\n").length;

/** Every mutant of `source`: flipped comparisons in require/if conditions and removed requires. */
export function mutantsOf(contract: string, source: string): Mutant[] {
  const mutants: Mutant[] = [];
  const conditions = /\b(require|if)\s*\(/g;
  for (let match = conditions.exec(source); match; match = conditions.exec(source)) {
    const start = match.index;
    const lineStart = source.lastIndexOf("\n", start) + 1;
    const before = source.slice(lineStart, start);
    if (before.includes("//") || /^\s*\*/.test(before)) continue; // in a comment
    const open = source.indexOf("(", start);
    let depth = 0;
    let close = open;
    for (let i = open; i < source.length; i++) {
      if (source[i] === "(") depth++;
      else if (source[i] === ")" && --depth === 0) {
        close = i;
        break;
      }
    }
    // For a require, only the condition (the first argument) is mutated, not the error's arguments.
    let conditionEnd = close;
    if (match[1] === "require") {
      depth = 0;
      for (let i = open + 1; i < close; i++) {
        if (source[i] === "(") depth++;
        else if (source[i] === ")") depth--;
        else if (source[i] === "," && depth === 0) {
          conditionEnd = i;
          break;
        }
      }
    }
    const condition = source.slice(open + 1, conditionEnd);
    for (const [pattern, replacement, description] of FLIPS) {
      const found = pattern.exec(condition);
      if (!found) continue;
      const at = open + 1 + found.index;
      mutants.push({
        contract,
        line: lineOf(source, at),
        kind: "flip",
        description: `${match[1]}: ${description}`,
        source: source.slice(0, at) + replacement + source.slice(at + found[0].length),
      });
    }
    if (match[1] === "require") {
      const end = requireEnd(source, start);
      mutants.push({
        contract,
        line: lineOf(source, start),
        kind: "remove-require",
        description: "require removed",
        source: source.slice(0, start) + "/* mutant: require removed */" + source.slice(end),
      });
    }
  }
  return mutants;
}

/** A deterministic sample of `count` mutants (xorshift seeded by the contract name), in source order. */
export function sample<T>(items: T[], count: number, seed: string): T[] {
  if (items.length <= count) return items;
  let state = [...seed].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 2166136261) || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  const indices = items.map((_, i) => i);
  for (let i = indices.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  return indices
    .slice(0, count)
    .sort((a, b) => a - b)
    .map((i) => items[i]);
}

interface Options {
  perContract: number;
  all: boolean;
  contracts: string[];
  minRate: number;
  timeoutSec: number;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { perContract: 6, all: false, contracts: [], minRate: 90, timeoutSec: 600 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--all") options.all = true;
    else if (flag === "--per-contract") options.perContract = positive(value(), flag);
    else if (flag === "--min-rate") options.minRate = Number(value());
    else if (flag === "--timeout") options.timeoutSec = positive(value(), flag);
    else if (flag === "--contract") {
      const name = value();
      if (!TARGETS[name])
        throw new Error(`--contract ${name}: not one of ${Object.keys(TARGETS).join(", ")}`);
      options.contracts.push(name);
    } else
      throw new Error(
        `unknown option ${flag} (use --per-contract n, --all, --contract Name, --min-rate pct)`,
      );
  }
  if (!(options.minRate >= 0 && options.minRate <= 100)) throw new Error("--min-rate must be a percentage");
  if (options.contracts.length === 0) options.contracts = Object.keys(TARGETS);
  return options;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer, got "${value}"`);
  return n;
}

/** A copy of the repository to mutate: sources copied, build caches copied (warm start), node_modules linked. */
function workspace(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "cinder-mutants-"));
  const skip = new Set(["node_modules", ".git", "coverage", "dist", "out-forge", "cache-forge", "scratch"]);
  cpSync(ROOT, dir, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(ROOT, src);
      const top = rel.split(path.sep)[0];
      return (
        !skip.has(top) &&
        !rel.endsWith(".db") &&
        !rel.includes(`deploy${path.sep}deployments${path.sep}chain-`)
      );
    },
  });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

type Outcome = "killed" | "survived" | "stillborn" | "timeout";

function run(dir: string, args: string[], timeoutSec: number) {
  return spawnSync(
    process.execPath,
    [path.join(dir, "node_modules", "hardhat", "internal", "cli", "cli.js"), ...args],
    {
      cwd: dir,
      env: { ...process.env, REPORT_GAS: "false", FORCE_COLOR: "0" },
      encoding: "utf8",
      timeout: timeoutSec * 1000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
}

function test(dir: string, mutant: Mutant, timeoutSec: number): Outcome {
  const target = TARGETS[mutant.contract];
  const file = path.join(dir, target.file);
  const original = readFileSync(file, "utf8");
  writeFileSync(file, mutant.source);
  try {
    const compiled = run(dir, ["compile", "--quiet"], timeoutSec);
    if (compiled.status !== 0) return "stillborn";
    const result = run(
      dir,
      ["test", "--no-compile", "--bail", ...target.tests.map((t) => `test/hardhat/${t}`)],
      timeoutSec,
    );
    if (result.error || result.signal) return "timeout";
    return result.status === 0 ? "survived" : "killed";
  } finally {
    writeFileSync(file, original);
  }
}

function main(): number {
  const options = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const dir = workspace();
  console.log(`workspace ${dir} (the repository is never modified)`);
  const warm = run(dir, ["compile", "--quiet"], options.timeoutSec);
  if (warm.status !== 0) throw new Error(`the unmutated contracts do not compile:\n${warm.stderr}`);
  const rows: { mutant: Mutant; outcome: Outcome; seconds: number }[] = [];
  try {
    for (const contract of options.contracts) {
      const source = readFileSync(path.join(ROOT, TARGETS[contract].file), "utf8");
      const all = mutantsOf(contract, source);
      const chosen = options.all ? all : sample(all, options.perContract, contract);
      for (const mutant of chosen) {
        const t0 = Date.now();
        const outcome = test(dir, mutant, options.timeoutSec);
        const seconds = (Date.now() - t0) / 1000;
        rows.push({ mutant, outcome, seconds });
        console.log(
          `${outcome.padEnd(9)} ${contract}:${mutant.line}  ${mutant.description}  (${seconds.toFixed(0)} s; ${all.length} candidates)`,
        );
      }
    }
    // The workspace's build cache holds the last mutant's artifacts: restore nothing, it is deleted below.
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const lines = [
    "| contract | mutants | killed | survived | stillborn | kill rate |",
    "| --- | --- | --- | --- | --- | --- |",
  ];
  let killed = 0;
  let counted = 0;
  for (const contract of options.contracts) {
    const mine = rows.filter((r) => r.mutant.contract === contract);
    const k = mine.filter((r) => r.outcome === "killed" || r.outcome === "timeout").length;
    const s = mine.filter((r) => r.outcome === "survived").length;
    const sb = mine.filter((r) => r.outcome === "stillborn").length;
    killed += k;
    counted += k + s;
    lines.push(
      `| ${contract} | ${mine.length} | ${k} | ${s} | ${sb} | ${k + s ? ((100 * k) / (k + s)).toFixed(0) : "–"} % |`,
    );
  }
  const rate = counted ? (100 * killed) / counted : 100;
  lines.push(
    `| **all** | ${rows.length} | ${killed} | ${counted - killed} | ${rows.length - counted} | **${rate.toFixed(1)} %** |`,
  );
  const survivors = rows.filter((r) => r.outcome === "survived");
  const report = [
    `# Mutation check`,
    ``,
    `\`npm run mutate -- ${process.argv.slice(2).join(" ")}\`: ${rows.length} mutants in ${((Date.now() - started) / 60_000).toFixed(1)} min.`,
    ``,
    ...lines,
    ``,
    survivors.length
      ? `Survivors:\n\n${survivors.map((r) => `- ${r.mutant.contract}:${r.mutant.line} ${r.mutant.description}`).join("\n")}`
      : "No survivors.",
    ``,
  ].join("\n");
  console.log(`\n${report}`);
  if (existsSync(path.join(ROOT, "bench")))
    writeFileSync(path.join(ROOT, "bench", "mutation-report.md"), report);
  if (rate < options.minRate) {
    console.error(`kill rate ${rate.toFixed(1)} % is below --min-rate ${options.minRate} %`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main();
  } catch (error) {
    console.error(`mutate: ${(error as Error).message}`);
    process.exitCode = 2;
  }
}
