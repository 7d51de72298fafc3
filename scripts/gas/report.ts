/**
 * Rows, tables and the snapshot check of the gas benchmark (scripts/bench-gas.ts).
 *
 * Snapshot format (bench/gas-snapshot.json): `{ "<row>": { "gas": <gasUsed>, "storage": "warm" | "cold" } }`,
 * in measurement order. The check fails when a row rose more than TOLERANCE above its snapshot value, when a
 * snapshot row is no longer measured, and when a measured row is missing from the snapshot.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** Allowed rise over the snapshot before the check fails: +2 %. Exactly +2 % passes. */
export const TOLERANCE_PERCENT = 2;

/**
 * Storage state of a row (every row is its own transaction, so by EIP-2929 each slot's first access in it is
 * cold whatever the label; the label says whether the state it updates already exists):
 * - warm: the caller's and the protocol's records already exist (balances, positions, today's ledgers,
 *   job terms), so the call updates non-zero slots; only what the call itself creates (a new job, a new
 *   dispute, an accrued reward) is written fresh. The repeat cost an active user pays.
 * - cold: first-time cost: the call also creates state for a new account, key, day or epoch (zero →
 *   non-zero slots, 20,000 gas each).
 */
export type Storage = "warm" | "cold";

export interface Row {
  /** Snapshot key. */
  name: string;
  /** The external functions this row measures, `Contract.function` (checked against the ABIs). */
  fn: string;
  gas: number;
  storage: Storage;
  /** Gas target of the job lifecycle (README "Gas targets"). */
  target?: number;
  section: string;
}

export type Snapshot = Record<string, { gas: number; storage: Storage }>;

export function toSnapshot(rows: Row[]): Snapshot {
  return Object.fromEntries(rows.map((r) => [r.name, { gas: r.gas, storage: r.storage }]));
}

/** One row per line (as prettier leaves it), so a change shows as a one-line diff. */
export function writeSnapshot(file: string, rows: Row[]) {
  const lines = Object.entries(toSnapshot(rows)).map(
    ([name, v]) => `  ${JSON.stringify(name)}: { "gas": ${v.gas}, "storage": ${JSON.stringify(v.storage)} }`,
  );
  writeFileSync(file, `{\n${lines.join(",\n")}\n}\n`);
}

export function readSnapshot(file: string): Snapshot {
  if (!existsSync(file)) throw new Error(`no snapshot at ${file}: run \`npm run bench:gas\` first`);
  const parsed = JSON.parse(readFileSync(file, "utf8")) as Record<
    string,
    number | { gas: number; storage: Storage }
  >;
  // The first snapshot format was `{ "<row>": <gas> }`.
  return Object.fromEntries(
    Object.entries(parsed).map(([name, v]) => [
      name,
      typeof v === "number" ? { gas: v, storage: "warm" as Storage } : v,
    ]),
  );
}

const fmt = (n: number) => n.toLocaleString("en-US");

/** The job-lifecycle table against the README's targets (the benchmark's original output). */
export function printTargets(rows: Row[]) {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n${"operation".padEnd(width)}  ${"gas".padStart(9)}  ${"target".padStart(9)}  status`);
  console.log("-".repeat(width + 32));
  for (const r of rows) {
    const target = r.target ? fmt(r.target).padStart(9) : "".padStart(9);
    const status = r.target ? (r.gas <= r.target ? "ok" : `MISS (+${r.gas - r.target})`) : "";
    console.log(`${r.name.padEnd(width)}  ${fmt(r.gas).padStart(9)}  ${target}  ${status}`);
  }
}

export const STORAGE_LEGEND = [
  "storage: warm = the caller's and the protocol's records already exist (steady state, the repeat cost);",
  "         cold = first-time cost: the call also creates state for a new account, key, day or epoch.",
  "Each row is one mined transaction on a fresh chain with a pinned clock (one second per block).",
];

/** Every row, grouped by section. */
export function printAll(rows: Row[]) {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\n${"function".padEnd(width)}  storage  ${"gas".padStart(9)}`);
  let section = "";
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      console.log(`-- ${section} ${"-".repeat(Math.max(0, width + 17 - section.length))}`);
    }
    console.log(`${r.name.padEnd(width)}  ${r.storage.padEnd(7)}  ${fmt(r.gas).padStart(9)}`);
  }
  console.log(`\n${STORAGE_LEGEND.join("\n")}`);
}

export interface CheckResult {
  ok: boolean;
  /** Rows over the tolerance, as "name: old → new (+x.xx %)". */
  regressions: string[];
  /** Snapshot rows no longer measured. */
  missing: string[];
  /** Measured rows absent from the snapshot. */
  added: string[];
}

function percent(before: number, after: number) {
  const change = ((after - before) / before) * 100;
  return `${change >= 0 ? "+" : ""}${change.toFixed(2)} %`;
}

/** Exceeds the tolerance: after > before × (1 + 2 %), in integers so that exactly +2 % passes. */
export function overTolerance(before: number, after: number) {
  return after * 100 > before * (100 + TOLERANCE_PERCENT);
}

/** Compares `rows` with `saved`, prints old → new for every row and returns what fails. */
export function compare(rows: Row[], saved: Snapshot, snapshotLabel: string): CheckResult {
  const current = new Map(rows.map((r) => [r.name, r]));
  const names = [...rows.map((r) => r.name), ...Object.keys(saved).filter((n) => !current.has(n))];
  const width = Math.max(...names.map((n) => n.length), 3);
  const result: CheckResult = { ok: true, regressions: [], missing: [], added: [] };

  console.log(`\ngas check against ${snapshotLabel} (fails above +${TOLERANCE_PERCENT} %)\n`);
  console.log(
    `${"row".padEnd(width)}  storage  ${"snapshot".padStart(9)}  ${"now".padStart(9)}  ${"change".padStart(9)}  status`,
  );
  console.log("-".repeat(width + 58));
  for (const name of names) {
    const before = saved[name];
    const now = current.get(name);
    let status: string;
    let change = "";
    if (!now) {
      status = "FAIL: no longer measured";
      result.missing.push(name);
    } else if (!before) {
      status = "FAIL: not in the snapshot";
      result.added.push(name);
    } else {
      change = percent(before.gas, now.gas);
      if (overTolerance(before.gas, now.gas)) {
        status = `FAIL: over +${TOLERANCE_PERCENT} %`;
        result.regressions.push(`${name}: ${fmt(before.gas)} → ${fmt(now.gas)} (${change})`);
      } else if (now.gas * 100 < before.gas * (100 - TOLERANCE_PERCENT)) {
        status = "ok (cheaper: refresh the snapshot)";
      } else {
        status = "ok";
      }
      if (before.storage !== now.storage) status += ` [storage was ${before.storage}]`;
    }
    const storage = (now?.storage ?? before?.storage ?? "").padEnd(7);
    const old = before ? fmt(before.gas) : "—";
    const nowGas = now ? fmt(now.gas) : "—";
    console.log(
      `${name.padEnd(width)}  ${storage}  ${old.padStart(9)}  ${nowGas.padStart(9)}  ${change.padStart(9)}  ${status}`,
    );
  }
  result.ok = !result.regressions.length && !result.missing.length && !result.added.length;
  return result;
}

/** Prints the verdict of {@link compare}; returns the process exit code. */
export function verdict(result: CheckResult, rowCount: number) {
  if (result.ok) {
    console.log(`\ngas check passed: ${rowCount} rows within +${TOLERANCE_PERCENT} % of the snapshot`);
    return 0;
  }
  console.error("\ngas check FAILED");
  for (const r of result.regressions) console.error(`  over +${TOLERANCE_PERCENT} %: ${r}`);
  for (const r of result.missing) console.error(`  in the snapshot, no longer measured: ${r}`);
  for (const r of result.added) console.error(`  measured, not in the snapshot: ${r}`);
  console.error(
    "If the change is intended, run `npm run bench:gas` to rewrite bench/gas-snapshot.json and commit it.",
  );
  return 1;
}
