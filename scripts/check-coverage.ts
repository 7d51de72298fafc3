/**
 * Fails (exit 1) when solidity-coverage's totals fall below the project's gate.
 * Reads coverage/coverage-summary.json written by `hardhat coverage` (json-summary reporter).
 * Thresholds: COVERAGE_MIN_LINES (default 98) and COVERAGE_MIN_BRANCHES (default 95), in percent.
 */
import fs from "node:fs";
import path from "node:path";

interface Metric {
  total: number;
  covered: number;
  pct: number;
}
type Summary = Record<string, { lines: Metric; branches: Metric; functions: Metric; statements: Metric }>;

function threshold(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw new Error(`${name} must be a percentage between 0 and 100, got "${raw}"`);
  }
  return value;
}

function main(): number {
  const file = path.join(__dirname, "..", "coverage", "coverage-summary.json");
  if (!fs.existsSync(file)) {
    console.error(`coverage gate: ${file} not found — run \`hardhat coverage\` first`);
    return 1;
  }
  const summary = JSON.parse(fs.readFileSync(file, "utf8")) as Summary;
  const minLines = threshold("COVERAGE_MIN_LINES", 98);
  const minBranches = threshold("COVERAGE_MIN_BRANCHES", 95);
  const { lines, branches } = summary.total;

  const failures: string[] = [];
  if (lines.pct < minLines) failures.push(`lines ${lines.pct}% < ${minLines}%`);
  if (branches.pct < minBranches) failures.push(`branches ${branches.pct}% < ${minBranches}%`);

  console.log(
    `coverage gate: lines ${lines.pct}% (${lines.covered}/${lines.total}, min ${minLines}%), ` +
      `branches ${branches.pct}% (${branches.covered}/${branches.total}, min ${minBranches}%)`,
  );
  if (failures.length > 0) {
    console.error(`coverage gate FAILED: ${failures.join("; ")}`);
    return 1;
  }
  console.log("coverage gate passed");
  return 0;
}

process.exitCode = main();
